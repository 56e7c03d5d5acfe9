// Runs the real index.ts under mocks with a real stack's config: Pulumi.yaml defaults, then Pulumi.<stack>.yaml,
// exactly as the Pulumi CLI would hand them over — nothing is injected. The shared stacks' files are at the root;
// a person's own stack (README, "A stack of your own") is the copy under tests/stacks. Each run gets fresh mocks
// and a fresh copy of the program's modules, so every stack is proven in isolation.
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import * as yaml from "js-yaml";
import { PROJECT } from "../config";
import { AcrExchangeDouble, AzureMocks, Delays } from "./mocks";

export const ROOT = path.resolve(__dirname, "..");

/** Pulumi.yaml's declarations: key → { type, default, description }. */
export function projectDeclarations(): Record<string, { type?: string; default?: unknown; description?: string }> {
    const project = yaml.load(fs.readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8")) as {
        name: string;
        config: Record<string, { type?: string; default?: unknown; description?: string }>;
    };
    if (project.name !== PROJECT) {
        throw new Error(`Pulumi.yaml names project ${project.name}, config.ts expects ${PROJECT}`);
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

export interface ProgramRun {
    mocks: AzureMocks;
    /** Requests the program made to ACR's token exchange endpoint (the only network it may touch). */
    acr: AcrExchangeDouble;
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
    build: (mocks: AzureMocks) => T,
    options: { preview?: boolean; delays?: Delays; config?: Record<string, string>; extraConfig?: Record<string, string>; mocks?: AzureMocks; project?: string } = {},
): Promise<{ mocks: AzureMocks; result: T }> {
    const mocks = options.mocks ?? new AzureMocks(options.delays);
    const project = options.project ?? PROJECT;
    await pulumi.runtime.setMocks(mocks, project, stack, options.preview ?? false);
    pulumi.runtime.setAllConfig({
        ...Object.fromEntries(Object.entries(options.config ?? {}).map(([k, v]) => [`${project}:${k}`, v])),
        ...options.extraConfig,
    });
    let result: T | undefined;
    await pulumi.runtime.runInPulumiStack(async () => {
        pulumi.runtime.registerStackTransformation(args => {
            mocks.options.set(args.name, args.opts);
            return undefined;
        });
        result = build(mocks);
        return {};
    });
    await waitForRPCs();
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
    // The program's only network call is the ACR token exchange; every other call fails the test.
    const acr = new AcrExchangeDouble();
    const realFetch = globalThis.fetch;
    globalThis.fetch = acr.fetch;
    try {
        const { mocks, result } = await underMocks(options.stackName ?? options.stack,
            // eslint-disable-next-line @typescript-eslint/no-require-imports
            () => require(path.join(ROOT, "index.ts")) as Record<string, any>,
            { ...options, config: stackConfig(options.stack, options.overrides) });
        return { mocks, acr, outputs: result };
    } finally {
        globalThis.fetch = realFetch;
    }
}
