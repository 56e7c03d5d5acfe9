// Turns one downloaded Azure REST API spec file (swagger 2.0 JSON from Azure/azure-rest-api-specs) into the compact
// extract tests/azure-api/validate.ts reads. Usage:
//
//   npx ts-node tests/azure-api/extract.ts <spec.json> --definition Server --patch-definition ServerForPatch \
//     --resource-type Microsoft.DBforPostgreSQL/flexibleServers --api-version 2025-08-01 \
//     --token azure-native:dbforpostgresql:Server --path-parameters resourceGroupName,serverName \
//     --source specification/postgresql/.../openapi.json --commit <40 hex> \
//     [--keep properties.storage,properties.maintenanceWindow] > extracts/dbforpostgresql.Server@2025-08-01.json
//
// --keep limits which objects are walked into (their ancestors too); every other object is marked `unextracted`,
// so the extract stays small and a request reaching elsewhere fails until the extract is widened.
import * as fs from "fs";
import type { PropertyRule, SpecExtract } from "./validate";

type Schema = {
    $ref?: string;
    type?: string;
    properties?: Record<string, Schema>;
    additionalProperties?: Schema | boolean;
    items?: Schema;
    allOf?: Schema[];
    enum?: unknown[];
    readOnly?: boolean;
    "x-ms-mutability"?: ("create" | "read" | "update")[];
    "x-ms-enum"?: { modelAsString?: boolean };
    "x-ms-client-flatten"?: boolean;
    "x-ms-client-name"?: string;
};

interface Spec {
    definitions?: Record<string, Schema>;
}

/** Properties ARM's common resource types contribute (common-types/resource-management/*\/types.json). */
const COMMON_TYPES: Record<string, Record<string, PropertyRule>> = {
    Resource: { id: { readOnly: true }, name: { readOnly: true }, type: { readOnly: true }, systemData: { readOnly: true } },
    ProxyResource: { id: { readOnly: true }, name: { readOnly: true }, type: { readOnly: true }, systemData: { readOnly: true } },
    TrackedResource: {
        id: { readOnly: true }, name: { readOnly: true }, type: { readOnly: true }, systemData: { readOnly: true },
        location: { mutability: ["read", "create"] }, tags: { map: true, mutability: ["read", "create", "update"] },
    },
};

export interface ExtractOptions {
    definition: string;
    patchDefinition?: string;
    resourceType: string;
    apiVersion: string;
    tokens: string[];
    pathParameters: string[];
    source: string;
    commit: string;
    /** Wire paths to walk into; undefined = everything. */
    keep?: string[];
}

function definitionName(ref: string): string | undefined {
    const match = /^#\/definitions\/(.+)$/.exec(ref);
    return match?.[1];
}

/** Resolves local `$ref`s and merges `allOf` parents into one schema; external refs name a common type or stay opaque. */
function resolve(spec: Spec, schema: Schema, seen: Set<string>): {
    schema: Schema; common: Record<string, PropertyRule>; cyclic: boolean; seen: Set<string>;
} {
    let common: Record<string, PropertyRule> = {};
    let current = schema;
    if (current.$ref) {
        const local = definitionName(current.$ref);
        if (!local) {
            const name = current.$ref.split("/").pop() ?? "";
            return { schema: { type: "object" }, common: COMMON_TYPES[name] ?? {}, cyclic: !(name in COMMON_TYPES), seen };
        }
        if (seen.has(local)) {
            return { schema: current, common, cyclic: true, seen };
        }
        seen = new Set([...seen, local]);
        const target = spec.definitions?.[local];
        if (!target) {
            throw new Error(`${current.$ref} is not defined in this spec file`);
        }
        // Annotations on the referring property win over the definition's.
        current = { ...target, ...Object.fromEntries(Object.entries(current).filter(([k]) => k !== "$ref")) };
    }
    let properties: Record<string, Schema> = { ...(current.properties ?? {}) };
    for (const parent of current.allOf ?? []) {
        const resolved = resolve(spec, parent, seen);
        common = { ...common, ...resolved.common };
        properties = { ...(resolved.schema.properties ?? {}), ...properties };
        current = { ...resolved.schema, ...current };
    }
    return { schema: { ...current, properties, allOf: undefined }, common, cyclic: false, seen };
}

function ruleOf(schema: Schema, resolved: Schema): PropertyRule {
    const rule: PropertyRule = {};
    if (schema.readOnly ?? resolved.readOnly) {
        rule.readOnly = true;
    }
    const mutability = schema["x-ms-mutability"] ?? resolved["x-ms-mutability"];
    if (mutability) {
        rule.mutability = mutability;
    }
    const values = resolved.enum;
    if (values) {
        rule.enum = values.map(String);
        rule.closed = resolved["x-ms-enum"]?.modelAsString !== true;
    }
    if (schema["x-ms-client-flatten"]) {
        rule.flatten = true;
    }
    if (schema["x-ms-client-name"]) {
        rule.sdkName = schema["x-ms-client-name"][0].toLowerCase() + schema["x-ms-client-name"].slice(1);
    }
    return rule;
}

function walk(spec: Spec, schema: Schema, path: string, out: Record<string, PropertyRule>, keep: string[] | undefined, seen: Set<string>): void {
    const { schema: object, common, cyclic, seen: inside } = resolve(spec, schema, seen);
    const prefix = path === "" ? "" : `${path}.`;
    for (const [name, rule] of Object.entries(common)) {
        out[`${prefix}${name}`] ??= rule;
    }
    if (cyclic) {
        if (path !== "") {
            out[path] = { ...out[path], unextracted: true };
        }
        return;
    }
    for (const [name, property] of Object.entries(object.properties ?? {})) {
        const childPath = `${prefix}${name}`;
        const { schema: resolved, cyclic: opaque } = resolve(spec, property, inside);
        const rule = ruleOf(property, resolved);
        if (opaque) {
            // A definition already being walked, or one in another file: its children are not extracted.
            out[childPath] = { ...rule, unextracted: true };
            continue;
        }
        const hasProperties = Object.keys(resolved.properties ?? {}).length > 0;
        const wanted = !keep || keep.some(k => k === childPath || k.startsWith(`${childPath}.`) || childPath.startsWith(`${k}.`)
            || k.startsWith(`${childPath}[]`) || k.startsWith(`${childPath}{}`) || childPath.startsWith(`${k}[]`) || childPath.startsWith(`${k}{}`));
        const additional = resolved.additionalProperties;
        if (name === "userAssignedIdentities" && typeof additional === "object") {
            out[childPath] = { ...rule, stringSet: true };
            continue;
        }
        if (typeof additional === "object" && additional !== null) {
            const valueSchema = resolve(spec, additional, inside).schema;
            out[childPath] = { ...rule, map: true };
            if (Object.keys(valueSchema.properties ?? {}).length > 0 && wanted) {
                out[`${childPath}{}`] = {};
                walk(spec, additional, `${childPath}{}`, out, keep, inside);
            }
            continue;
        }
        if (additional === true || (resolved.type === "object" && !hasProperties)) {
            out[childPath] = { ...rule, map: true };
            continue;
        }
        if (resolved.type === "array" && resolved.items) {
            out[childPath] = rule;
            const items = resolve(spec, resolved.items, inside).schema;
            if (Object.keys(items.properties ?? {}).length > 0) {
                if (wanted) {
                    out[`${childPath}[]`] = {};
                    walk(spec, resolved.items, `${childPath}[]`, out, keep, inside);
                } else {
                    out[childPath] = { ...rule, unextracted: true };
                }
            }
            continue;
        }
        if (hasProperties) {
            if (rule.readOnly) {
                out[childPath] = rule;
            } else if (wanted || rule.flatten) {
                out[childPath] = rule;
                walk(spec, property, childPath, out, keep, inside);
            } else {
                out[childPath] = { ...rule, unextracted: true };
            }
            continue;
        }
        out[childPath] = rule;
    }
}

/** The extract of `options.definition` (the PUT body) and, if given, `options.patchDefinition` (the PATCH body). */
export function extractFromSpec(file: { definitions?: Record<string, unknown> }, options: ExtractOptions): SpecExtract {
    const spec = file as Spec;
    const body = (definition: string): Record<string, PropertyRule> => {
        const out: Record<string, PropertyRule> = {};
        walk(spec, { $ref: `#/definitions/${definition}` }, "", out, options.keep, new Set());
        return out;
    };
    const definitions = Object.keys(spec.definitions ?? {});
    return {
        resourceType: options.resourceType,
        apiVersion: options.apiVersion,
        sdkTokens: options.tokens,
        source: {
            repository: "Azure/azure-rest-api-specs",
            path: options.source,
            commit: options.commit,
            definitions: definitions.filter(d => d === options.definition || d === options.patchDefinition),
        },
        pathParameters: options.pathParameters,
        put: body(options.definition),
        ...(options.patchDefinition ? { patch: body(options.patchDefinition) } : {}),
    };
}

function main(argv: string[]): void {
    const [file, ...rest] = argv;
    const flags = new Map<string, string>();
    for (let i = 0; i < rest.length; i += 2) {
        flags.set(rest[i].replace(/^--/, ""), rest[i + 1]);
    }
    const need = (name: string): string => {
        const value = flags.get(name);
        if (!value) {
            throw new Error(`--${name} is required`);
        }
        return value;
    };
    const spec = JSON.parse(fs.readFileSync(file, "utf8")) as Spec;
    const extract = extractFromSpec(spec, {
        definition: need("definition"),
        patchDefinition: flags.get("patch-definition"),
        resourceType: need("resource-type"),
        apiVersion: need("api-version"),
        tokens: need("token").split(","),
        pathParameters: need("path-parameters").split(","),
        source: need("source"),
        commit: need("commit"),
        keep: flags.get("keep")?.split(","),
    });
    process.stdout.write(`${JSON.stringify(extract, null, 2)}\n`);
}

if (require.main === module) {
    main(process.argv.slice(2));
}
