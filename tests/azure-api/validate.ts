// Checks the requests the azure-native provider would send against extracts of Azure's REST API spec
// (Azure/azure-rest-api-specs), for the API version the SDK uses. See README.md beside this file.
import * as fs from "fs";
import * as path from "path";

/** What the spec says about one property path of a request body. */
export interface PropertyRule {
    /** `readOnly: true` in the spec: the service ignores or refuses it in a request. */
    readOnly?: boolean;
    /** `x-ms-mutability`; absent means the default [create, read, update]. */
    mutability?: ("create" | "read" | "update")[];
    /** Allowed values of an enum. */
    enum?: string[];
    /** A closed enum (`x-ms-enum.modelAsString: false`, or a plain `enum`): other values are refused. */
    closed?: boolean;
    /** `x-ms-client-flatten`: azure-native takes its children one level up (its `containers`). */
    flatten?: boolean;
    /** A map of free-form keys (`additionalProperties`), e.g. tags. */
    map?: boolean;
    /** azure-native takes an array of ids and sends `{ "<id>": {} }` (user-assigned identities). */
    stringSet?: boolean;
    /** azure-native's name for the property when it differs from the wire name (`x-ms-client-name`). */
    sdkName?: string;
    /** An object whose children were not extracted: sending any child fails until they are. */
    unextracted?: boolean;
}

export interface SpecExtract {
    resourceType: string;
    apiVersion: string;
    sdkTokens: string[];
    source: { repository: string; path: string; commit: string; definitions: string[] };
    pathParameters: string[];
    /** Body of the PUT (create or update) request, by wire path (`a.b`, array items `a[]`, map values `a{}`). */
    put: Record<string, PropertyRule>;
    /** Body of the PATCH request, where the program sends one. */
    patch?: Record<string, PropertyRule>;
}

export type Operation = "create" | "update";

export const EXTRACTS_DIR = path.join(__dirname, "extracts");
const SDK_ROOT = path.dirname(require.resolve("@pulumi/azure-native/package.json"));

/** Pulumi's wire form of a secret, as mocks receive it. */
const SECRET_SIG = "4dabf18193072939515e22adb298388d";
/** Pulumi's marker for a value unknown during preview. */
const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/**
 * The Azure REST API version the SDK sends for a resource token: from the token itself for an explicit version
 * (`dbforpostgresql/v20250801:Server`), else from the default version the SDK documents on the resource class.
 */
export function apiVersionOf(token: string): string {
    const match = /^azure-native:([a-z0-9]+)(?:\/v(\d{4})(\d{2})(\d{2})(\w*))?:(\w+)$/.exec(token);
    if (!match) {
        throw new Error(`${token} is not an azure-native resource token`);
    }
    const [, module, year, month, day, suffix, resource] = match;
    if (year) {
        return `${year}-${month}-${day}${suffix ? `-${suffix}` : ""}`;
    }
    const file = path.join(SDK_ROOT, module, `${resource[0].toLowerCase()}${resource.slice(1)}.d.ts`);
    const documented = /Uses Azure REST API version (\d{4}-\d{2}-\d{2}(?:-[a-z]+)?)\./.exec(fs.readFileSync(file, "utf8"));
    if (!documented) {
        throw new Error(`${file} names no Azure REST API version`);
    }
    return documented[1];
}

let cache: SpecExtract[] | undefined;

/** Every vendored extract. */
export function extracts(): SpecExtract[] {
    cache ??= fs.readdirSync(EXTRACTS_DIR)
        .filter(f => f.endsWith(".json"))
        .map(f => JSON.parse(fs.readFileSync(path.join(EXTRACTS_DIR, f), "utf8")) as SpecExtract);
    return cache;
}

export interface PendingExtract {
    token: string;
    apiVersion: string;
    /** The spec file (in Azure/azure-rest-api-specs) to extract it from. */
    spec: string;
}

/** Types the program creates whose extract is not vendored yet (tests/azure-api/pending.json). */
export function pendingExtracts(): PendingExtract[] {
    return (JSON.parse(fs.readFileSync(path.join(__dirname, "pending.json"), "utf8")) as { pending: PendingExtract[] }).pending;
}

/**
 * The extract for a token at the API version the SDK uses; undefined for a type listed as pending at exactly that
 * version; throws for anything else, so a new type or an SDK upgrade to another API version fails until extracted.
 */
export function extractFor(token: string): SpecExtract | undefined {
    const apiVersion = apiVersionOf(token);
    const found = extracts().find(e => e.apiVersion === apiVersion && e.sdkTokens.includes(token));
    if (!found && pendingExtracts().some(p => p.token === token && p.apiVersion === apiVersion)) {
        return undefined;
    }
    if (!found) {
        throw new Error(`No vendored Azure REST API spec extract for ${token} at API version ${apiVersion}: ` +
            `add tests/azure-api/extracts/<module>.<Resource>@${apiVersion}.json from Azure/azure-rest-api-specs (see tests/azure-api/README.md)`);
    }
    return found;
}

function unwrap(value: unknown): unknown {
    if (value && typeof value === "object" && !Array.isArray(value) && (value as Record<string, unknown>)[SECRET_SIG] !== undefined) {
        return (value as Record<string, unknown>).value;
    }
    return value;
}

function isObject(value: unknown): value is Record<string, unknown> {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Direct children of `parent` (wire path, "" = body root), by the name a request uses for them: azure-native's
 * (flattened containers opened, `x-ms-client-name` applied) when `sdkNames`, else the wire name.
 */
function childrenOf(rules: Record<string, PropertyRule>, parent: string, sdkNames: boolean): Map<string, string> {
    const prefix = parent === "" ? "" : `${parent}.`;
    const children = new Map<string, string>();
    for (const [wirePath, rule] of Object.entries(rules)) {
        const rest = wirePath.slice(prefix.length);
        if (!wirePath.startsWith(prefix) || rest === "" || /[.[{]/.test(rest)) {
            continue;
        }
        if (sdkNames && rule.flatten) {
            for (const [name, nested] of childrenOf(rules, wirePath, true)) {
                children.set(name, nested);
            }
        } else {
            children.set(sdkNames ? rule.sdkName ?? rest : rest, wirePath);
        }
    }
    return children;
}

function setPath(target: Record<string, unknown>, wirePath: string, value: unknown): void {
    const parts = wirePath.split(".");
    let node = target;
    for (const part of parts.slice(0, -1)) {
        node = (node[part] ??= {}) as Record<string, unknown>;
    }
    node[parts[parts.length - 1]] = value;
}

/** A request body as the provider would send it, and every way it breaks the spec. */
export interface CheckedRequest {
    body: Record<string, unknown>;
    violations: string[];
}

function checkRule(rule: PropertyRule, wirePath: string, value: unknown, operation: Operation, violations: string[]): void {
    if (rule.readOnly) {
        violations.push(`${wirePath} is read-only`);
    }
    if (rule.mutability && !rule.mutability.includes(operation)) {
        violations.push(`${wirePath} is not accepted on ${operation} (x-ms-mutability: [${rule.mutability.join(", ")}])`);
    }
    if (rule.enum && rule.closed && typeof value === "string" && value !== UNKNOWN && !rule.enum.includes(value)) {
        violations.push(`${wirePath} = ${JSON.stringify(value)} is outside the closed enum [${rule.enum.join(", ")}]`);
    }
}

function convert(rules: Record<string, PropertyRule>, wirePath: string, raw: unknown, operation: Operation,
    violations: string[], sdkNames: boolean): unknown {
    const value = unwrap(raw);
    const rule = rules[wirePath] ?? {};
    checkRule(rule, wirePath, value, operation, violations);
    if (value === UNKNOWN) {
        return value;
    }
    if (rule.stringSet && sdkNames) {
        if (!Array.isArray(value)) {
            violations.push(`${wirePath} must be a list of ids`);
            return value;
        }
        return Object.fromEntries(value.map(id => [unwrap(id), {}]));
    }
    if (Array.isArray(value)) {
        return value.map(item => convert(rules, `${wirePath}[]`, item, operation, violations, sdkNames));
    }
    if (!isObject(value)) {
        return value;
    }
    if (rule.map) {
        return Object.fromEntries(Object.entries(value).map(([k, v]) =>
            [k, rules[`${wirePath}{}`] ? convert(rules, `${wirePath}{}`, v, operation, violations, sdkNames) : unwrap(v)]));
    }
    return convertObject(rules, wirePath, value, operation, violations, sdkNames, []);
}

function convertObject(rules: Record<string, PropertyRule>, wirePath: string, value: Record<string, unknown>, operation: Operation,
    violations: string[], sdkNames: boolean, skip: string[]): Record<string, unknown> {
    if (rules[wirePath]?.unextracted && Object.keys(value).length > 0) {
        violations.push(`${wirePath}: the vendored extract does not cover its children (${Object.keys(value).join(", ")}); extend it from the spec`);
        return value;
    }
    const children = childrenOf(rules, wirePath, sdkNames);
    const body: Record<string, unknown> = {};
    for (const [name, child] of Object.entries(value)) {
        if (child === undefined || skip.includes(name)) {
            continue;
        }
        const childPath = children.get(name);
        if (!childPath) {
            violations.push(`${wirePath === "" ? "" : `${wirePath}.`}${name} is not a property of this request in the spec`);
            continue;
        }
        const converted = convert(rules, childPath, child, operation, violations, sdkNames);
        if (sdkNames) {
            setPath(body, wirePath === "" ? childPath : childPath.slice(wirePath.length + 1), converted);
        } else {
            body[name] = converted;
        }
    }
    return body;
}

/**
 * The PUT body azure-native would send for `inputs` of resource `token` (SDK names mapped to wire paths, flattened
 * `properties` restored, path parameters left out), and each property that breaks the spec for `operation`.
 */
export function checkSdkRequest(token: string, inputs: Record<string, unknown>, operation: Operation): CheckedRequest {
    const extract = extractFor(token);
    return extract ? checkAgainstExtract(extract, token, inputs, operation) : { body: inputs, violations: [] };
}

/** checkSdkRequest against a given extract. */
export function checkAgainstExtract(extract: SpecExtract, token: string, inputs: Record<string, unknown>, operation: Operation): CheckedRequest {
    const violations: string[] = [];
    const body = convertObject(extract.put, "", inputs, operation, violations, true, extract.pathParameters);
    return { body, violations: violations.map(v => `${token} (${extract.apiVersion}): ${v}`) };
}

/** Checks a wire-form PATCH body for `resourceType` at `apiVersion` (what a follow-up update sends). */
export function checkPatchBody(resourceType: string, apiVersion: string, body: Record<string, unknown>): string[] {
    const extract = extracts().find(e => e.resourceType.toLowerCase() === resourceType.toLowerCase() && e.apiVersion === apiVersion);
    if (!extract?.patch) {
        return [`No vendored Azure REST API spec extract of the PATCH body of ${resourceType} at API version ${apiVersion}`];
    }
    const violations: string[] = [];
    convertObject(extract.patch, "", body, "update", violations, false, []);
    return violations.map(v => `PATCH ${resourceType} (${apiVersion}): ${v}`);
}
