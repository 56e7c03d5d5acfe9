// Typed reads of raw stack values (Pulumi's string encoding; JSON for lists and objects).
import { ConfigError, Problems } from "./errors";
import { PROJECT } from "./naming";

/** Reads one raw config value (as Pulumi stores it: a string, JSON for arrays and objects). */
export type RawGetter = (key: string) => string | undefined;

/** Typed reads of raw config values; every failure is a ConfigError naming key, value and what is allowed. */
export class Reader {
    constructor(private readonly get: RawGetter, private readonly project = PROJECT) {}

    error(key: string, value: unknown, allowed: string): ConfigError {
        return new ConfigError(key, value, allowed, this.project);
    }

    /** Whether the stack sets `key` at all (Pulumi.yaml's defaults count). */
    isSet(key: string): boolean {
        return this.get(key) !== undefined;
    }

    raw(key: string): string {
        const value = this.get(key);
        if (value === undefined) {
            throw this.error(key, undefined, "this key is required (declare it in Pulumi.yaml or set it with `pulumi config set`)");
        }
        return value;
    }

    string(key: string, pattern?: RegExp, allowed?: string): string {
        const value = this.raw(key);
        if (pattern && !pattern.test(value)) {
            throw this.error(key, value, allowed ?? `must match ${pattern}`);
        }
        return value;
    }

    optionalString(key: string, pattern: RegExp, allowed: string): string | undefined {
        const value = this.raw(key);
        if (value === "") {
            return undefined;
        }
        if (!pattern.test(value)) {
            throw this.error(key, value, allowed);
        }
        return value;
    }

    oneOf<T extends string>(key: string, options: readonly T[]): T {
        const value = this.raw(key);
        if (!(options as readonly string[]).includes(value)) {
            throw this.error(key, value, `allowed values are ${options.join(", ")}`);
        }
        return value as T;
    }

    integer(key: string, min: number, max: number): number {
        const value = this.raw(key);
        const n = Number(value);
        if (!/^-?\d+$/.test(value.trim()) || n < min || n > max) {
            throw this.error(key, value, `must be an integer from ${min} to ${max}`);
        }
        return n;
    }

    boolean(key: string): boolean {
        const value = this.raw(key);
        if (value !== "true" && value !== "false") {
            throw this.error(key, value, "must be true or false");
        }
        return value === "true";
    }

    json(key: string): unknown {
        const value = this.raw(key);
        try {
            return JSON.parse(value);
        } catch {
            throw this.error(key, value, "must be structured YAML (a list or an object), not a plain string");
        }
    }

    stringArray(key: string, check?: (item: string, itemKey: string) => void): string[] {
        const value = this.json(key);
        if (!Array.isArray(value) || value.some(item => typeof item !== "string")) {
            throw this.error(key, value, "must be a list of strings");
        }
        value.forEach((item, i) => check?.(item, `${key}[${i}]`));
        return value;
    }
}

/** A list of strings, each item checked on its own so every bad item is reported. */
export function stringList(r: Reader, problems: Problems, key: string, check: (item: string, itemKey: string) => void): string[] {
    const items = r.stringArray(key);
    items.forEach((item, i) => problems.check(() => check(item, `${key}[${i}]`)));
    return items;
}

/** Freezes a parsed config all the way down: nothing downstream can change what was validated. */
export function deepFreeze<T>(value: T): T {
    if (typeof value === "object" && value !== null) {
        Object.values(value).forEach(deepFreeze);
        Object.freeze(value);
    }
    return value;
}
