import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { SERVER_API_VERSION } from "../../components/postgresServer";
import { runProgram } from "../harness";
import { apiVersionOf, checkAgainstExtract, checkPatchBody, checkSdkRequest, EXTRACTS_DIR, extractFor, extracts, pendingExtracts } from "./validate";

const SERVER = "azure-native:dbforpostgresql:Server";
const ENTRA_ADMIN = "azure-native:dbforpostgresql:AdministratorsMicrosoftEntra";
/** The default-version token the program used for its Entra admin before; the SDK maps it to 2025-01-01-preview. */
const OLD_ADMIN = "azure-native:dbforpostgresql:Administrator";

/** A create request shaped like the one PostgresServer sends for its Entra administrator. */
const adminInputs = () => ({
    resourceGroupName: "rg", serverName: "psql-x", objectId: "5a7c3a8e-0f0d-4c3b-9d57-3c1a2b4e5f60",
    principalName: "pg-admins", principalType: "Group", tenantId: "72f988bf-86f1-41af-91ab-2d7cd011db47",
});

/** A create request shaped like the one PostgresServer sends. */
const serverInputs = () => ({
    resourceGroupName: "rg", serverName: "psql-x", location: "westeurope", version: "17",
    sku: { name: "Standard_B1ms", tier: "Burstable" },
    storage: { storageSizeGB: 32, autoGrow: "Enabled" },
    authConfig: { activeDirectoryAuth: "Enabled", passwordAuth: "Disabled", tenantId: "t" },
    createMode: "Default",
    tags: { stack: "dev" },
});

describe("Azure REST API spec check (tests/azure-api)", () => {
    it("reads the API version the SDK uses from the SDK itself", () => {
        expect(apiVersionOf(SERVER)).to.equal("2025-08-01");
        expect(apiVersionOf("azure-native:containerservice:ManagedCluster")).to.equal("2025-09-01");
        expect(apiVersionOf("azure-native:dbforpostgresql/v20250101preview:Server")).to.equal("2025-01-01-preview");
    });

    it("vendors the spec's mark on maintenanceWindow: read and update only, in 2025-08-01", () => {
        expect(extractFor(SERVER)!.put["properties.maintenanceWindow"].mutability).to.deep.equal(["read", "update"]);
    });

    it("refuses a server create request that carries a maintenance window", () => {
        const { violations } = checkSdkRequest(SERVER, {
            ...serverInputs(), maintenanceWindow: { customWindow: "Enabled", dayOfWeek: 0, startHour: 2, startMinute: 0 },
        }, "create");
        expect(violations).to.deep.equal([
            `${SERVER} (2025-08-01): properties.maintenanceWindow is not accepted on create (x-ms-mutability: [read, update])`,
        ]);
    });

    it("accepts the same maintenance window in an update PATCH", () => {
        expect(checkPatchBody("Microsoft.DBforPostgreSQL/flexibleServers", "2025-08-01", {
            properties: { maintenanceWindow: { customWindow: "Enabled", dayOfWeek: 0, startHour: 2, startMinute: 0 } },
        })).to.deep.equal([]);
    });

    it("refuses a read-only property", () => {
        const { violations } = checkSdkRequest(SERVER, { ...serverInputs(), fullyQualifiedDomainName: "x.postgres.database.azure.com" }, "create");
        expect(violations).to.deep.equal([`${SERVER} (2025-08-01): properties.fullyQualifiedDomainName is read-only`]);
    });

    it("refuses a property the spec does not have, at any depth", () => {
        const { violations } = checkSdkRequest(SERVER, { ...serverInputs(), storage: { storageSizeGb: 32 }, sizeGb: 1 }, "create");
        expect(violations).to.have.members([
            `${SERVER} (2025-08-01): properties.storage.storageSizeGb is not a property of this request in the spec`,
            `${SERVER} (2025-08-01): sizeGb is not a property of this request in the spec`,
        ]);
    });

    it("refuses a value outside a closed enum and lets an open one through", () => {
        // The server's enums are all open (modelAsString: true); close one to see the check bite.
        const extract = extractFor(SERVER)!;
        const closed = { ...extract, put: { ...extract.put, "properties.version": { enum: ["16", "17"], closed: true } } };
        expect(checkAgainstExtract(closed, SERVER, { ...serverInputs(), version: "15" }, "create").violations)
            .to.deep.equal([`${SERVER} (2025-08-01): properties.version = "15" is outside the closed enum [16, 17]`]);
        expect(checkAgainstExtract(closed, SERVER, serverInputs(), "create").violations).to.deep.equal([]);
        expect(checkSdkRequest(SERVER, { ...serverInputs(), version: "19" }, "create").violations).to.deep.equal([]);
    });

    it("maps SDK inputs to the wire body the provider sends: flattened properties, path parameters out", () => {
        const { body } = checkSdkRequest(SERVER, serverInputs(), "create");
        expect(body).to.deep.equal({
            location: "westeurope",
            sku: { name: "Standard_B1ms", tier: "Burstable" },
            tags: { stack: "dev" },
            properties: {
                version: "17",
                storage: { storageSizeGB: 32, autoGrow: "Enabled" },
                authConfig: { activeDirectoryAuth: "Enabled", passwordAuth: "Disabled", tenantId: "t" },
                createMode: "Default",
            },
        });
    });

    it("fails for a resource type with no vendored extract", () => {
        expect(() => checkSdkRequest("azure-native:dbforpostgresql:Database", { databaseName: "x" }, "create"))
            .to.throw(/No vendored Azure REST API spec extract for azure-native:dbforpostgresql:Database at API version 2025-08-01/);
    });

    it("fails when the SDK uses an API version that has no vendored extract", () => {
        expect(() => checkSdkRequest("azure-native:dbforpostgresql/v20241101preview:Server", serverInputs(), "create"))
            .to.throw(/at API version 2024-11-01-preview/);
    });

    it("checks the Entra administrator against the GA spec the SDK uses for it (2025-08-01)", () => {
        expect(apiVersionOf(ENTRA_ADMIN)).to.equal("2025-08-01");
        expect(extractFor(ENTRA_ADMIN)?.resourceType).to.equal("Microsoft.DBforPostgreSQL/flexibleServers/administrators");
        expect(checkSdkRequest(ENTRA_ADMIN, adminInputs(), "create").violations).to.deep.equal([]);
    });

    it("maps the Entra administrator's inputs to the wire body: objectId in the path, the rest under properties", () => {
        expect(checkSdkRequest(ENTRA_ADMIN, adminInputs(), "create").body).to.deep.equal({
            properties: { principalName: "pg-admins", principalType: "Group", tenantId: "72f988bf-86f1-41af-91ab-2d7cd011db47" },
        });
    });

    it("refuses an Entra administrator request with properties its PUT body does not have", () => {
        // AdministratorMicrosoftEntraAdd is not a ProxyResource: not even id belongs in its body.
        const { violations } = checkSdkRequest(ENTRA_ADMIN, { ...adminInputs(), id: "/subscriptions/x", isAdmin: true }, "create");
        expect(violations).to.have.members([
            `${ENTRA_ADMIN} (2025-08-01): id is not a property of this request in the spec`,
            `${ENTRA_ADMIN} (2025-08-01): isAdmin is not a property of this request in the spec`,
        ]);
    });

    it("refuses a read-only property and a value outside a closed enum in an Entra administrator request", () => {
        // The 2025-08-01 body has neither (principalType's enum is open); mark them as the spec would to see the check bite.
        const extract = extractFor(ENTRA_ADMIN)!;
        const strict = {
            ...extract,
            put: {
                ...extract.put,
                "properties.principalType": { ...extract.put["properties.principalType"], closed: true },
                "properties.principalName": { readOnly: true },
            },
        };
        expect(checkAgainstExtract(strict, ENTRA_ADMIN, { ...adminInputs(), principalType: "Application" }, "create").violations).to.have.members([
            `${ENTRA_ADMIN} (2025-08-01): properties.principalName is read-only`,
            `${ENTRA_ADMIN} (2025-08-01): properties.principalType = "Application" is outside the closed enum [Unknown, User, Group, ServicePrincipal]`,
        ]);
    });

    it("fails for an Administrator request at an API version with no extract: the old default token, 2025-01-01-preview", () => {
        expect(apiVersionOf(OLD_ADMIN)).to.equal("2025-01-01-preview");
        expect(pendingExtracts().map(p => p.token)).to.not.include(OLD_ADMIN);
        expect(() => checkSdkRequest(OLD_ADMIN, adminInputs(), "create"))
            .to.throw(/No vendored Azure REST API spec extract for azure-native:dbforpostgresql:Administrator at API version 2025-01-01-preview/);
        expect(() => checkSdkRequest("azure-native:dbforpostgresql/v20250601preview:AdministratorsMicrosoftEntra", adminInputs(), "create"))
            .to.throw(/at API version 2025-06-01-preview/);
    });

    it("the maintenance-window PATCH uses the API version the SDK uses for the server", () => {
        expect(SERVER_API_VERSION).to.equal(apiVersionOf(SERVER));
    });

    it("every extract names its source file and commit in Azure/azure-rest-api-specs", () => {
        for (const file of fs.readdirSync(EXTRACTS_DIR)) {
            const extract = JSON.parse(fs.readFileSync(path.join(EXTRACTS_DIR, file), "utf8"));
            expect(extract.source.repository, file).to.equal("Azure/azure-rest-api-specs");
            expect(extract.source.path, file).to.match(/^specification\/.+\.json$/);
            expect(extract.source.commit, file).to.match(/^[0-9a-f]{40}$/);
            expect(file, file).to.equal(`${extract.sdkTokens[0].split(":")[1]}.${extract.sdkTokens[0].split(":")[2]}@${extract.apiVersion}.json`);
        }
    });

    it("no type is both vendored and pending", () => {
        for (const pending of pendingExtracts()) {
            expect(extracts().some(e => e.apiVersion === pending.apiVersion && e.sdkTokens.includes(pending.token)), pending.token).to.equal(false);
        }
    });

    for (const stack of ["dev", "prod"]) {
        it(`${stack}: every request the program makes is one Azure's REST API spec accepts`, async () => {
            const { mocks } = await runProgram({ stack });
            expect(mocks.specViolations).to.deep.equal([]);
            const created = [...new Set(mocks.resources.filter(r => r.type.startsWith("azure-native:")).map(r => r.type))];
            for (const token of created) {
                expect(() => extractFor(token), token).to.not.throw();
            }
            // The Entra admin, under whatever token and version it is sent, is checked against a vendored extract.
            const admins = created.filter(token => /^azure-native:dbforpostgresql(\/v\w+)?:Administrator/.test(token));
            expect(admins).to.deep.equal([ENTRA_ADMIN]);
            for (const token of admins) {
                expect(extractFor(token), token).to.not.equal(undefined);
            }
        });
    }
});
