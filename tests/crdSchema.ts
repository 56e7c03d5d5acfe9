// Validation of custom resources against their CRD's structural schema (vendored under tests/crds), for kinds that
// kubernetes-models does not cover. Stricter than the API server in one way, on purpose: a field the schema does not
// know is an error here, where the API server would silently prune it — the typo that never reaches the driver.
import * as fs from "fs";
import * as path from "path";

interface Schema {
    type?: "object" | "string" | "array" | "boolean" | "integer";
    properties?: Record<string, Schema>;
    additionalProperties?: Schema;
    items?: Schema;
}

/** Every way `value` breaks `schema`, as `path: problem`. */
export function schemaProblems(schema: Schema, value: unknown, at = ""): string[] {
    const kind = Array.isArray(value) ? "array" : value === null ? "null" : typeof value === "number" && Number.isInteger(value) ? "integer" : typeof value;
    if (schema.type && kind !== schema.type) {
        return [`${at || "(root)"}: expected ${schema.type}, got ${kind}`];
    }
    if (schema.type === "array") {
        return (value as unknown[]).flatMap((item, i) => (schema.items ? schemaProblems(schema.items, item, `${at}[${i}]`) : []));
    }
    if (schema.type === "object" && (schema.properties || schema.additionalProperties)) {
        return Object.entries(value as Record<string, unknown>).flatMap(([key, child]) => {
            const childSchema = schema.properties?.[key] ?? schema.additionalProperties;
            return childSchema ? schemaProblems(childSchema, child, `${at}.${key}`) : [`${at}.${key}: not in the schema (the API server would prune it)`];
        });
    }
    return [];
}

/** The vendored CRD schemas, by `kubernetes:<apiVersion>:<kind>` token. */
export function crdSchemas(): Record<string, Schema> {
    const dir = path.join(__dirname, "crds");
    return Object.fromEntries(fs.readdirSync(dir).filter(f => f.endsWith(".json")).map(f => {
        const crd = JSON.parse(fs.readFileSync(path.join(dir, f), "utf8")) as { apiVersion: string; kind: string; schema: Schema };
        return [`kubernetes:${crd.apiVersion}:${crd.kind}`, crd.schema];
    }));
}
