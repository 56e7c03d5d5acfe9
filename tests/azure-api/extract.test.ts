import { expect } from "chai";
import { extractFromSpec, ExtractOptions } from "./extract";
import { checkAgainstExtract, checkPatchBody, extractFor } from "./validate";

// A small spec in the shapes Azure's files use (TypeSpec-emitted and hand-written alike): a tracked resource whose
// properties are flattened, an update-only property, read-only ones, closed and open enums, an identity map, a
// free-form object, an array of objects and a self-referencing definition.
const TRACKED = "../../../../common-types/resource-management/v6/types.json#/definitions/TrackedResource";
const spec = {
    definitions: {
        Server: {
            type: "object",
            properties: {
                properties: { $ref: "#/definitions/ServerProperties", "x-ms-client-flatten": true },
                sku: { $ref: "#/definitions/Sku" },
                identity: { $ref: "#/definitions/Identity" },
            },
            allOf: [{ $ref: TRACKED }],
        },
        ServerForPatch: {
            type: "object",
            properties: { properties: { $ref: "#/definitions/ServerPropertiesForPatch", "x-ms-client-flatten": true } },
        },
        ServerProperties: {
            type: "object",
            properties: {
                version: { $ref: "#/definitions/Version" },
                state: { type: "string", readOnly: true },
                maintenanceWindow: { $ref: "#/definitions/MaintenanceWindow", "x-ms-mutability": ["read", "update"] },
                storage: { $ref: "#/definitions/Storage" },
                settings: { type: "object", description: "free-form" },
                rules: { type: "array", items: { $ref: "#/definitions/Rule" } },
                parent: { $ref: "#/definitions/Node" },
            },
        },
        ServerPropertiesForPatch: {
            type: "object",
            properties: {
                maintenanceWindow: { $ref: "#/definitions/MaintenanceWindow", "x-ms-mutability": ["read", "update"] },
                backupKind: { type: "string", readOnly: true },
            },
        },
        MaintenanceWindow: { type: "object", properties: { dayOfWeek: { type: "integer" }, startHour: { type: "integer" } } },
        Version: { type: "string", enum: ["16", "17"], "x-ms-enum": { name: "Version", modelAsString: false } },
        Storage: {
            type: "object",
            properties: {
                storageSizeGB: { type: "integer" },
                tier: { type: "string", enum: ["P4", "P6"], "x-ms-enum": { name: "Tier", modelAsString: true } },
                kind: { type: "string", enum: ["a", "b"] },
            },
        },
        Sku: { type: "object", properties: { name: { type: "string" } } },
        Identity: {
            type: "object",
            properties: {
                type: { type: "string" },
                userAssignedIdentities: { type: "object", additionalProperties: { $ref: "#/definitions/UserIdentity" } },
            },
        },
        UserIdentity: { type: "object", properties: { principalId: { type: "string", readOnly: true } } },
        Rule: { type: "object", properties: { name: { type: "string" } } },
        Node: { type: "object", properties: { name: { type: "string" }, parent: { $ref: "#/definitions/Node" } } },
    },
};

const options: ExtractOptions = {
    definition: "Server",
    patchDefinition: "ServerForPatch",
    resourceType: "Microsoft.Test/servers",
    apiVersion: "2025-01-01",
    tokens: ["azure-native:test:Server"],
    pathParameters: ["resourceGroupName", "serverName"],
    source: "specification/test/resource-manager/Microsoft.Test/stable/2025-01-01/test.json",
    commit: "0".repeat(40),
};

describe("extract.ts (spec file → extract)", () => {
    const extract = extractFromSpec(spec, options);

    it("records x-ms-mutability, readOnly and the flattened container", () => {
        expect(extract.put["properties.maintenanceWindow"]).to.deep.equal({ mutability: ["read", "update"] });
        expect(extract.put["properties.state"]).to.deep.equal({ readOnly: true });
        expect(extract.put.properties).to.deep.equal({ flatten: true });
        expect(extract.put["properties.maintenanceWindow.dayOfWeek"]).to.deep.equal({});
    });

    it("adds what ARM's tracked resource contributes: location create-only, read-only id and name", () => {
        expect(extract.put.location).to.deep.equal({ mutability: ["read", "create"] });
        expect(extract.put.id).to.deep.equal({ readOnly: true });
        expect(extract.put.tags).to.deep.include({ map: true });
    });

    it("tells closed enums (modelAsString false, or no x-ms-enum) from open ones", () => {
        expect(extract.put["properties.version"]).to.deep.equal({ enum: ["16", "17"], closed: true });
        expect(extract.put["properties.storage.kind"]).to.deep.equal({ enum: ["a", "b"], closed: true });
        expect(extract.put["properties.storage.tier"]).to.deep.equal({ enum: ["P4", "P6"], closed: false });
    });

    it("maps identities as the id list azure-native takes, free-form objects as maps, arrays by item", () => {
        expect(extract.put["identity.userAssignedIdentities"]).to.deep.equal({ stringSet: true });
        expect(extract.put["properties.settings"]).to.deep.equal({ map: true });
        expect(extract.put["properties.rules[].name"]).to.deep.equal({});
    });

    it("stops at a definition that refers to itself", () => {
        expect(extract.put["properties.parent.name"]).to.deep.equal({});
        expect(extract.put["properties.parent.parent"]).to.deep.include({ unextracted: true });
    });

    it("extracts the PATCH body as well", () => {
        expect(extract.patch!["properties.maintenanceWindow"]).to.deep.equal({ mutability: ["read", "update"] });
        expect(extract.patch!["properties.backupKind"]).to.deep.equal({ readOnly: true });
    });

    it("--keep walks only into the named objects and marks the rest unextracted", () => {
        const kept = extractFromSpec(spec, { ...options, keep: ["properties.maintenanceWindow"] });
        expect(kept.put["properties.maintenanceWindow.startHour"]).to.deep.equal({});
        expect(kept.put["properties.storage"]).to.deep.equal({ unextracted: true });
        expect(kept.put).to.not.have.property("properties.storage.storageSizeGB");
    });

    it("what it extracts drives the check: a create with the update-only window fails, an update with it passes", () => {
        const inputs = { resourceGroupName: "rg", serverName: "s", location: "westeurope", version: "17", maintenanceWindow: { dayOfWeek: 0 } };
        expect(checkAgainstExtract(extract, "azure-native:test:Server", inputs, "create").violations).to.deep.equal([
            "azure-native:test:Server (2025-01-01): properties.maintenanceWindow is not accepted on create (x-ms-mutability: [read, update])",
        ]);
        expect(checkAgainstExtract(extract, "azure-native:test:Server", { ...inputs, maintenanceWindow: undefined, version: "15" }, "create").violations)
            .to.deep.equal(['azure-native:test:Server (2025-01-01): properties.version = "15" is outside the closed enum [16, 17]']);
    });

    it("agrees with the vendored flexible-server extract on what the program relies on", () => {
        const vendored = extractFor("azure-native:dbforpostgresql:Server")!;
        expect(vendored.put["properties.maintenanceWindow"]).to.deep.equal(extract.put["properties.maintenanceWindow"]);
        expect(vendored.put.properties).to.deep.equal(extract.put.properties);
        expect(vendored.put.location).to.deep.equal(extract.put.location);
        expect(checkPatchBody("Microsoft.DBforPostgreSQL/flexibleServers", "2025-08-01", { properties: { maintenanceWindow: { dayOfWeek: 0 } } }))
            .to.deep.equal([]);
    });
});
