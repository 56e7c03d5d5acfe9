// What every policy module shares: matching a resource against a type family, reading values a preview may
// not know yet, and deciding which stack is production.
import type { PolicyResource, ResourceValidationArgs, ResourceValidationPolicy } from "@pulumi/policy";
import { Candidate, candidatesOf, Family } from "../families";

export type Props = Record<string, any>;

const DEFAULT_PROD_STACKS = ["prod"];

/** The stack a resource belongs to, from its URN (`urn:pulumi:<stack>::<project>::…`). */
export function stackOf(urn: string): string {
    return urn.startsWith("urn:pulumi:") ? urn.slice("urn:pulumi:".length).split("::")[0] : "";
}

/**
 * Whether `stack` is production: named in policy config `prodStacks` (default ["prod"]; "org/prod" works too).
 * Decided by the stack a resource is deployed to, never by tags the program writes. The engine names the
 * stack in every URN (and, for Node.js packs, in PULUMI_NODEJS_STACK, i.e. `pulumi.getStack()`: see
 * constructEnv in pulumi/pulumi's pkg/resource/plugin/analyzer_plugin.go); the URN is what the SDK hands each
 * policy, so it is what tests can set.
 */
export function isProdStack(stack: string, prodStacks: readonly string[] | undefined): boolean {
    return (prodStacks ?? DEFAULT_PROD_STACKS).some(s => s.slice(s.lastIndexOf("/") + 1) === stack);
}

export const PROD_STACKS_SCHEMA = { type: "array", items: { type: "string" }, default: DEFAULT_PROD_STACKS, description: "Stacks that are production (by stack name)." } as const;

function isUnknownValueError(e: unknown): boolean {
    return e instanceof Error && e.constructor.name === "UnknownValueError";
}

export const UNKNOWN = Symbol("unknown during preview");

/** Reads a value that may not be known during a preview, without giving up the whole policy. */
export function peek<T>(read: () => T): T | typeof UNKNOWN {
    try {
        return read();
    } catch (e) {
        if (isUnknownValueError(e)) {
            return UNKNOWN;
        }
        throw e;
    }
}

export function familyPolicy(
    name: string, description: string, families: Family[],
    check: (c: Candidate, report: (message: string) => void, args: ResourceValidationArgs) => void,
    configSchema?: ResourceValidationPolicy["configSchema"],
): ResourceValidationPolicy {
    return {
        name,
        description,
        enforcementLevel: "mandatory",
        ...(configSchema ? { configSchema } : {}),
        validateResource: (args, report) => {
            for (const candidate of candidatesOf(args.type, args.props as Props)) {
                if (families.includes(candidate.family)) {
                    check(candidate, message => report(candidate.where + message), args);
                }
            }
        },
    };
}

export function sameText(value: unknown, expected: string): boolean {
    return typeof value === "string" && value.toLowerCase() === expected.toLowerCase();
}
export function peekCandidates(r: PolicyResource): Candidate[] {
    const found = peek(() => candidatesOf(r.type, r.props as Props));
    return found === UNKNOWN ? [] : found;
}

