// Runs the real index.ts under mocks with a real stack's config: Pulumi.yaml defaults, then Pulumi.<stack>.yaml,
// exactly as the Pulumi CLI would hand them over — nothing is injected. The shared stacks' files are at the root;
// a person's own stack (README, "A stack of your own") is the copy under tests/stacks. Each run gets fresh mocks
// and a fresh copy of the program's modules, so every stack is proven in isolation.
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import * as yaml from "js-yaml";
import { PROJECT } from "../config";
import { KubernetesApiDouble } from "./kubernetesApiDouble";
import { AcrExchangeDouble, AzureMocks, Delays, DEPLOYER_CLIENT_ID, DEPLOYER_OBJECT_ID, guidFor } from "./mocks";

export const ROOT = path.resolve(__dirname, "..");

/** Pulumi.yaml's declarations: key → { type, default, description }. */
export function projectDeclarations(): Record<string, { type?: string; default?: unknown; description?: string }> {
    const project = yaml.load(fs.readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8")) as {
        name: string;
        config: Record<string, { type?: string; default?: unknown; description?: string }>;
    };
    if (project.name !== PROJECT) {
        throw new Error(`Pulumi.yaml names project ${project.name}, config/ expects ${PROJECT}`);
    }
    return project.config;
}

/**
 * Where `stack`'s file is: tests/stacks for the personal stack the tests use (looked at first, so a real person's
 * ignored Pulumi.dev-<name>.yaml at the root never leaks into a test), the repository root for shared stacks.
 */
export function stackFile(stack: string): string {
    const personal = path.join(ROOT, "tests", "stacks", `Pulumi.${stack}.yaml`);
    return fs.existsSync(personal) ? personal : path.join(ROOT, `Pulumi.${stack}.yaml`);
}

/** The keys `stack`'s file sets, as written (project keys without the `<project>:` prefix). */
export function stackFileValues(stack: string): Record<string, unknown> {
    const file = yaml.load(fs.readFileSync(stackFile(stack), "utf8")) as { config?: Record<string, unknown> } | null;
    return Object.fromEntries(Object.entries(file?.config ?? {}).map(([key, value]) => [key.replace(`${PROJECT}:`, ""), value]));
}

/** `stack`'s effective values: Pulumi.yaml defaults, then its stack file, then `overrides` (undefined removes a key). */
export function stackValues(stack: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
    const values: Record<string, unknown> = {};
    for (const [key, declaration] of Object.entries(projectDeclarations())) {
        if (declaration.default !== undefined) {
            values[key] = declaration.default;
        }
    }
    Object.assign(values, stackFileValues(stack), overrides);
    return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined));
}

function configValue(value: unknown): string {
    return typeof value === "string" ? value : JSON.stringify(value);
}

/** The effective config of `stack` as bare keys → Pulumi's string encoding (JSON for lists and objects). */
export function stackConfig(stack: string, overrides: Record<string, unknown> = {}): Record<string, string> {
    return Object.fromEntries(Object.entries(stackValues(stack, overrides)).map(([k, v]) => [k, configValue(v)]));
}

/**
 * Who runs `pulumi up` for `stack`, as the README sets it up: a stack that lists `deployers` (a person's own) is
 * run by the first of them; a CI stack whose PostgreSQL administrator is a service principal is run by that very
 * identity (its deploy identity, README "Set up CI"); with a group administrator, by a member of the group.
 * The program checks this at start (lib/deployerCheck.ts), so tests must run as someone who may.
 */
export function runnerFor(stack: string, overrides: Record<string, unknown> = {}): { objectId: string; clientId: string } {
    const values = stackValues(stack, overrides);
    const deployers = values.deployers as { objectId?: string }[] | undefined;
    const objectId = deployers?.[0]?.objectId
        ?? (values.pgAdminPrincipalType !== "Group" && typeof values.pgAdminObjectId === "string" ? values.pgAdminObjectId : DEPLOYER_OBJECT_ID);
    return { objectId, clientId: objectId === DEPLOYER_OBJECT_ID ? DEPLOYER_CLIENT_ID : guidFor(`client-of:${objectId}`) };
}

function mocksRunningAs(stack: string, overrides: Record<string, unknown> | undefined, delays: Delays | undefined): AzureMocks {
    const mocks = new AzureMocks(delays);
    mocks.runner = runnerFor(stack, overrides);
    return mocks;
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
    /** Whose Pulumi.<stack>.yaml to use. */
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
    /** Config of other namespaces, by full key (`azure-native:location`): what providers read, never the program. */
    extraConfig?: Record<string, string>;
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
        preview?: boolean; delays?: Delays; config?: Record<string, string>; extraConfig?: Record<string, string>; mocks?: AzureMocks; project?: string;
        /** Return even when a request breaks Azure's REST API spec (for tests about the spec check itself). */
        allowSpecViolations?: boolean;
        /** Answers the program's own HTTP calls (ACR's token exchange, …) for this run, in place of the network. */
        fetch?: typeof fetch;
    } = {},
): Promise<{ mocks: AzureMocks; result: T }> {
    const mocks = options.mocks ?? new AzureMocks(options.delays);
    const project = options.project ?? PROJECT;
    await pulumi.runtime.setMocks(mocks, project, stack, options.preview ?? false);
    pulumi.runtime.setAllConfig({
        ...Object.fromEntries(Object.entries(options.config ?? {}).map(([k, v]) => [`${project}:${k}`, v])),
        ...options.extraConfig,
    });
    let result: T | undefined;
    const realFetch = globalThis.fetch;
    if (options.fetch) {
        globalThis.fetch = options.fetch;
    }
    try {
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
    } finally {
        globalThis.fetch = realFetch;
    }
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
            { ...options, mocks: options.mocks ?? mocksRunningAs(options.stack, options.overrides, options.delays), config: stackConfig(options.stack, options.overrides) });
        return { mocks, acr, kubernetes, outputs: result };
    } finally {
        globalThis.fetch = realFetch;
    }
}
