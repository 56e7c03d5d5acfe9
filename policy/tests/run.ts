// Runs policies the way the Pulumi engine would, on plain resource descriptions: props behind the SDK's
// unknown-checking proxy (reading an unknown value stops that policy for that resource, as in a preview),
// the stack's name in every URN, and each policy's own config section.
import type { PolicyResource, ResourceValidationArgs, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";

// The SDK's proxy and its "unknown during preview" sentinels are internal (no typings); the engine wraps every
// resource's props in this very proxy before a policy sees them.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const proxy = require("@pulumi/policy/proxy") as {
    unknownCheckingProxy<T>(props: T): T;
    UnknownValueError: new (...args: any[]) => Error;
    unknownStringValue: unknown;
};

/** What a preview passes for a string it can't know yet. */
export const UNKNOWN_STRING = proxy.unknownStringValue as string;

export interface FakeResource {
    type: string;
    props: Record<string, any>;
    name?: string;
    protect?: boolean;
    /** Logical names of the resources each property's value was taken from. */
    propertyDependencies?: Record<string, string[]>;
}

export interface RunOptions {
    /** The stack the resources belong to (in their URNs); "test" by default. */
    stack?: string;
}

function asPolicyResource(r: FakeResource, i: number, stack: string): PolicyResource {
    const name = r.name ?? `r${i}`;
    return {
        type: r.type, props: proxy.unknownCheckingProxy(r.props), name, urn: `urn:pulumi:${stack}::p::${r.type}::${name}`,
        opts: { protect: r.protect ?? false, ignoreChanges: [], aliases: [], customTimeouts: {}, additionalSecretOutputs: [] } as any,
        dependencies: [], propertyDependencies: {},
        isType: () => false, asType: () => undefined,
    } as unknown as PolicyResource;
}

/** Violation messages a resource policy reports for one resource (none when it can't run during a preview). */
export async function violations(policy: ResourceValidationPolicy, resource: FakeResource, config: Record<string, unknown> = {}, options: RunOptions = {}): Promise<string[]> {
    const found: string[] = [];
    const validations = Array.isArray(policy.validateResource) ? policy.validateResource : policy.validateResource ? [policy.validateResource] : [];
    const args = { ...asPolicyResource(resource, 0, options.stack ?? "test"), getConfig: () => config, stackTags: new Map() } as unknown as ResourceValidationArgs;
    for (const validate of validations) {
        try {
            await validate(args, message => found.push(message));
        } catch (e) {
            // The SDK reports this as advisory "can't run during preview", never as a violation.
            if (!(e instanceof proxy.UnknownValueError)) {
                throw e;
            }
        }
    }
    return found;
}

/** Violation messages a stack policy reports for a set of resources. */
export async function stackViolations(policy: StackValidationPolicy, resources: FakeResource[], config: Record<string, unknown> = {}, options: RunOptions = {}): Promise<string[]> {
    const found: string[] = [];
    const stack = options.stack ?? "test";
    const policyResources = resources.map((r, i) => asPolicyResource(r, i, stack));
    const byName = new Map(policyResources.map(r => [r.name, r]));
    resources.forEach((r, i) => {
        const deps = Object.entries(r.propertyDependencies ?? {}).map(([prop, names]) => [prop, names.map(n => byName.get(n)!)]);
        (policyResources[i] as { propertyDependencies: unknown }).propertyDependencies = Object.fromEntries(deps);
    });
    await policy.validateStack({
        resources: policyResources,
        getConfig: () => config,
        stackTags: new Map(),
    } as any, message => found.push(message));
    return found;
}

/** Policy config the way the engine holds it: one section per policy name. */
export type PackConfig = Record<string, Record<string, unknown>>;

/** Every mandatory violation the whole pack reports for a stack, as "<policy>: <message>". */
export async function packViolations(
    pack: { resourcePolicies: ResourceValidationPolicy[]; stackPolicies: StackValidationPolicy[] },
    resources: FakeResource[], config: PackConfig = {}, options: RunOptions = {},
): Promise<string[]> {
    const found: string[] = [];
    for (const resource of resources) {
        for (const policy of pack.resourcePolicies) {
            found.push(...(await violations(policy, resource, config[policy.name] ?? {}, options)).map(v => `${policy.name}: ${v}`));
        }
    }
    for (const policy of pack.stackPolicies) {
        found.push(...(await stackViolations(policy, resources, config[policy.name] ?? {}, options)).map(v => `${policy.name}: ${v}`));
    }
    return found;
}
