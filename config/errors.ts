// How bad config is reported: every problem of a stack at once, each naming the key, the value and what is allowed.
import * as pulumi from "@pulumi/pulumi";
import { PROJECT } from "./naming";

/**
 * Bad config, reported without a stack trace. One problem reads `Invalid config "<project>:<key>" = <value>: <what
 * is allowed>`; the second constructor folds every problem of a stack into one error, so all are fixed in one pass.
 */
export class ConfigError extends pulumi.RunError {
    /** One line per problem, each naming the key, the value and what is allowed. */
    readonly problems: readonly string[];

    /** One problem: `key` (without the project prefix), its `value`, and what is `allowed`. */
    constructor(key: string, value: unknown, allowed: string, project?: string);
    /** Every problem of `stack`, as one error. */
    constructor(problems: readonly ConfigError[], stack: string);
    constructor(keyOrErrors: string | readonly ConfigError[], valueOrStack: unknown, allowed?: string, project = PROJECT) {
        const problems = typeof keyOrErrors === "string"
            ? [`Invalid config "${project}:${keyOrErrors}" = ${show(valueOrStack)}: ${allowed}`]
            : keyOrErrors.flatMap(e => e.problems);
        super(problems.length === 1 ? problems[0] : [
            `${problems.length} config values of stack "${String(valueOrStack)}" are invalid; fix them together `
                + `(in Pulumi.${String(valueOrStack)}.yaml or with \`pulumi config set\`):`,
            ...problems.map(p => `  - ${p}`),
        ].join("\n"));
        this.name = "ConfigError";
        this.problems = problems;
    }
}

function show(value: unknown): string {
    return value === undefined ? "(not set)" : JSON.stringify(value);
}

/**
 * Collects problems instead of stopping at the first: `check` runs one rule and records its ConfigError, so every
 * later rule still runs and the stack's whole list is reported at once.
 */
export class Problems {
    readonly errors: ConfigError[] = [];

    /** Runs `rule`; on a ConfigError records it and returns undefined (a dependent rule then skips itself). */
    check<T>(rule: () => T): T | undefined {
        try {
            return rule();
        } catch (e) {
            if (e instanceof ConfigError) {
                this.errors.push(e);
                return undefined;
            }
            throw e;
        }
    }

    add(key: string, value: unknown, allowed: string): void {
        this.errors.push(new ConfigError(key, value, allowed));
    }

    /** Throws every recorded problem as one ConfigError. */
    throwIfAny(stack: string): void {
        if (this.errors.length > 0) {
            throw new ConfigError(this.errors, stack);
        }
    }
}

/** Levenshtein distance, for "did you mean". */
function editDistance(a: string, b: string): number {
    let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
        const current = [i];
        for (let j = 1; j <= b.length; j++) {
            current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
        }
        previous = current;
    }
    return previous[b.length];
}

/** The known key closest to `key` (case-insensitively), when it is close enough to be a typo. */
export function closestKey(key: string, known: Iterable<string>): string | undefined {
    let best: { key: string; distance: number } | undefined;
    for (const candidate of known) {
        const distance = editDistance(key.toLowerCase(), candidate.toLowerCase());
        if (!best || distance < best.distance) {
            best = { key: candidate, distance };
        }
    }
    return best && best.distance <= Math.max(2, Math.floor(key.length / 3)) ? best.key : undefined;
}

export function unknownKeyMessage(key: string, known: Iterable<string>, what: string): string {
    const suggestion = closestKey(key, known);
    return `is not ${what}${suggestion ? `; did you mean "${suggestion}"?` : ""} (keys are case-sensitive; `
        + `README, "Config reference", lists them all)`;
}

/** Shows a raw value as the user wrote it: JSON lists and objects parsed, everything else as the string. */
export function parseForMessage(value: string): unknown {
    try {
        const parsed: unknown = JSON.parse(value);
        return typeof parsed === "object" && parsed !== null ? parsed : value;
    } catch {
        return value;
    }
}
