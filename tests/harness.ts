// Runs the real index.ts under mocks with a real stack's config: Pulumi.yaml defaults, then
// Pulumi.<stack>.yaml, then the per-person values the README's set-up step adds. Each run gets fresh mocks
// and a fresh copy of the program's modules, so dev and prod are proven in isolation.
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import * as yaml from "js-yaml";
import { PROJECT } from "../config";
import { KubernetesApiDouble } from "./kubernetesApiDouble";
import { AcrExchangeDouble, AzureMocks, Delays, DEPLOYER_OBJECT_ID } from "./mocks";

export const ROOT = path.resolve(__dirname, "..");

/** What `README → Set up` tells each person to `pulumi config set`, per stack. */
export const SETUP_VALUES: Record<string, Record<string, unknown>> = {
    dev: {
        pgAdminObjectId: DEPLOYER_OBJECT_ID,
        pgAdminPrincipalName: "ada@contoso.onmicrosoft.com",
        pgAllowedCidrs: ["198.51.100.23/32"],
    },
    prod: {
        pgAdminObjectId: "3f2b8a51-6c1e-4d7a-9b0e-2c4d5e6f7a8b",
        pgAdminPrincipalName: "pg-admins-prod",
        pgAdminPrincipalType: "Group",
        pgAllowedCidrs: ["198.51.100.0/28"],
        aksApiServerAuthorizedCidrs: ["198.51.100.0/28"],
    },
};

function configValue(value: unknown): string {
    return typeof value === "string" ? value : JSON.stringify(value);
}

/** The effective config of `stack` as bare keys → Pulumi's string encoding (JSON for lists and objects). */
export function stackConfig(stack: string, overrides: Record<string, unknown> = {}, withSetupValues = true): Record<string, string> {
    const project = yaml.load(fs.readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8")) as {
        name: string;
        config: Record<string, { default?: unknown }>;
    };
    if (project.name !== PROJECT) {
        throw new Error(`Pulumi.yaml names project ${project.name}, config.ts expects ${PROJECT}`);
    }
    const values: Record<string, unknown> = {};
    for (const [key, declaration] of Object.entries(project.config)) {
        if (declaration.default !== undefined) {
            values[key] = declaration.default;
        }
    }
    const stackFile = yaml.load(fs.readFileSync(path.join(ROOT, `Pulumi.${stack}.yaml`), "utf8")) as {
        config: Record<string, unknown>;
    };
    for (const [key, value] of Object.entries(stackFile.config)) {
        values[key.replace(`${PROJECT}:`, "")] = value;
    }
    Object.assign(values, withSetupValues ? SETUP_VALUES[stack] ?? {} : {}, overrides);
    return Object.fromEntries(Object.entries(values).map(([k, v]) => [k, configValue(v)]));
}

export interface ProgramRun {
    mocks: AzureMocks;
    /** Requests the program made to ACR's token exchange endpoint. */
    acr: AcrExchangeDouble;
    /** Access reviews the program sent to the cluster's API server. */
    kubernetes: KubernetesApiDouble;
    /** index.ts's exports (stack outputs). */
    outputs: Record<string, any>;
}

export interface RunOptions {
    /** Whose Pulumi.<stack>.yaml and set-up values to use. */
    stack: string;
    /** The stack name the program sees; `stack` by default. */
    stackName?: string;
    /** Config values replacing the stack's (bare keys, plain values). */
    overrides?: Record<string, unknown>;
    /** Run as `pulumi preview` instead of `pulumi up`. */
    preview?: boolean;
    /** Simulated provisioning time per resource type. */
    delays?: Delays;
    /** Mocks to record into (to inspect a run that throws); fresh ones by default. */
    mocks?: AzureMocks;
    /** The API server's answers to access reviews; allowed at once by default. */
    kubernetes?: KubernetesApiDouble;
    /** Add the README's per-person set-up values (tests); false evaluates the stack files alone (the plan). */
    withSetupValues?: boolean;
}

const waitForRPCs = (pulumi.runtime as unknown as { waitForRPCs(): Promise<void> }).waitForRPCs;

/**
 * Runs `build` the way `pulumi up` runs a program — inside the root Stack resource — under fresh mocks, records
 * every resource's options, and waits until every registration has been answered.
 */
export async function underMocks<T>(
    stack: string,
    build: (mocks: AzureMocks) => T | Promise<T>,
    options: {
        preview?: boolean; delays?: Delays; config?: Record<string, string>; mocks?: AzureMocks; project?: string;
        /** Return even when a request breaks Azure's REST API spec (for tests about the spec check itself). */
        allowSpecViolations?: boolean;
    } = {},
): Promise<{ mocks: AzureMocks; result: T }> {
    const mocks = options.mocks ?? new AzureMocks(options.delays);
    const project = options.project ?? PROJECT;
    await pulumi.runtime.setMocks(mocks, project, stack, options.preview ?? false);
    pulumi.runtime.setAllConfig(Object.fromEntries(Object.entries(options.config ?? {}).map(([k, v]) => [`${project}:${k}`, v])));
    let result: T | undefined;
    await pulumi.runtime.runInPulumiStack(async () => {
        const names = new Map<pulumi.Resource, string>();
        pulumi.runtime.registerStackTransformation(args => {
            mocks.options.set(args.name, args.opts);
            names.set(args.resource, args.name);
            const parent = args.opts.parent ? names.get(args.opts.parent) : undefined;
            mocks.registrations.push({ type: args.type, name: args.name, parent, custom: args.resource instanceof pulumi.CustomResource });
            return undefined;
        });
        result = await build(mocks);
        return {};
    });
    await waitForRPCs();
    if (!options.allowSpecViolations) {
        mocks.assertAcceptedByAzure();
    }
    return { mocks, result: result as T };
}

/** Forgets the project's own modules (not node_modules, not tests), so the next require runs them afresh. */
export function freshProjectModules(): void {
    for (const cached of Object.keys(require.cache)) {
        if (cached.startsWith(ROOT) && !cached.includes(`${path.sep}node_modules${path.sep}`) && !cached.includes(`${path.sep}tests${path.sep}`)) {
            delete require.cache[cached];
        }
    }
}

/** Runs index.ts once with `stack`'s effective config, under fresh mocks and a fresh copy of its modules. */
export async function runProgram(options: RunOptions): Promise<ProgramRun> {
    freshProjectModules();
    // The program's only network calls are the ACR token exchange and the API server's access review; every
    // other call fails the test.
    const acr = new AcrExchangeDouble();
    const kubernetes = options.kubernetes ?? new KubernetesApiDouble();
    const realFetch = globalThis.fetch;
    globalThis.fetch = (input, init) => (kubernetes.handles(String(input)) ? kubernetes.fetch(input, init) : acr.fetch(input, init));
    try {
        const { mocks, result } = await underMocks(options.stackName ?? options.stack,
            async () => {
                // index.ts exports the program as an async function, as `pulumi up` runs it.
                // eslint-disable-next-line @typescript-eslint/no-require-imports
                const program = require(path.join(ROOT, "index.ts")) as () => Promise<Record<string, any>>;
                return program();
            },
            { ...options, config: stackConfig(options.stack, options.overrides, options.withSetupValues ?? true) });
        return { mocks, acr, kubernetes, outputs: result };
    } finally {
        globalThis.fetch = realFetch;
    }
}
