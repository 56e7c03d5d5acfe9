// Runs policies the way the Pulumi engine would, on plain resource descriptions.
import type { PolicyResource, ResourceValidationArgs, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";

export interface FakeResource {
    type: string;
    props: Record<string, any>;
    name?: string;
    protect?: boolean;
}

function asPolicyResource(r: FakeResource, i: number): PolicyResource {
    const name = r.name ?? `r${i}`;
    return {
        type: r.type, props: r.props, name, urn: `urn:pulumi:test::p::${r.type}::${name}`,
        opts: { protect: r.protect ?? false, ignoreChanges: [], aliases: [], customTimeouts: {}, additionalSecretOutputs: [] } as any,
        dependencies: [], propertyDependencies: {},
        isType: () => false, asType: () => undefined,
    } as unknown as PolicyResource;
}

/** Violation messages a resource policy reports for one resource. */
export async function violations(policy: ResourceValidationPolicy, resource: FakeResource): Promise<string[]> {
    const found: string[] = [];
    const validations = Array.isArray(policy.validateResource) ? policy.validateResource : policy.validateResource ? [policy.validateResource] : [];
    const args = { ...asPolicyResource(resource, 0), getConfig: () => ({}), stackTags: new Map() } as unknown as ResourceValidationArgs;
    for (const validate of validations) {
        await validate(args, message => found.push(message));
    }
    return found;
}

/** Violation messages a stack policy reports for a set of resources. */
export async function stackViolations(policy: StackValidationPolicy, resources: FakeResource[], config: Record<string, unknown> = {}): Promise<string[]> {
    const found: string[] = [];
    await policy.validateStack({
        resources: resources.map(asPolicyResource),
        getConfig: () => config,
        stackTags: new Map(),
    } as any, message => found.push(message));
    return found;
}
