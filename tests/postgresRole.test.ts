import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";
import { OSSRDBMS_RESOURCE, PostgresRole, PostgresRoleArgs } from "../components/postgresRole";
import { appDatabaseStatements } from "../lib/postgresRoleSql";
import { principalIdFor, promiseOf, tokenClaims } from "./mocks";
import { underMocks } from "./harness";

const PROVIDER = "pulumi:providers:postgresql";
const ROLE = "postgresql:index/role:Role";
const LABEL = "postgresql:index/securityLabel:SecurityLabel";
const DATABASE = "postgresql:index/database:Database";
const GRANT = "postgresql:index/grant:Grant";
const GRANT_ROLE = "postgresql:index/grantRole:GrantRole";
const FQDN = "psql-test-x7k2q9.postgres.database.azure.com";

const baseArgs: PostgresRoleArgs = {
    host: FQDN,
    port: 5432,
    adminLogin: "ada@contoso.onmicrosoft.com",
    roleName: "id-test-orders",
    principalId: principalIdFor("id-test-orders"),
    databaseName: "orders",
    protect: false,
};

function build(overrides: Partial<PostgresRoleArgs> = {}) {
    return underMocks("test", () => new PostgresRole("orders-postgres", { ...baseArgs, ...overrides }));
}

describe("PostgresRole", () => {
    it("connects as the Entra administrator with an Entra token over TLS, not as a superuser", async () => {
        const { mocks } = await build();
        const inputs = mocks.named(PROVIDER, "orders-postgres-admin").inputs;
        expect(inputs).to.include({ host: FQDN, username: "ada@contoso.onmicrosoft.com", sslmode: "verify-full", database: "postgres" });
        expect(String(inputs.superuser)).to.equal("false");
        expect(String(inputs.port)).to.equal("5432");
    });

    // The provider's own azureIdentityAuth goes through the Azure CLI, whose federated login in CI expires minutes
    // after azure/login (Azure/azure-cli#28708) — before the server is ready. The token comes from the azure-native
    // provider's credentials instead, minted when the administrator login resolves (i.e. the server is ready).
    it("the provider's password is an Entra token for PostgreSQL minted by the azure-native credentials, never the CLI", async () => {
        const { mocks } = await build();
        const inputs = mocks.named(PROVIDER, "orders-postgres-admin").inputs;
        expect(inputs).to.not.have.any.keys("azureIdentityAuth");
        expect(tokenClaims(inputs.password.value).aud).to.equal(OSSRDBMS_RESOURCE);
    });

    it("the token in the provider's config is a secret", async () => {
        const { mocks } = await build();
        const password = mocks.named(PROVIDER, "orders-postgres-admin").inputs.password;
        expect(password).to.have.property("value");
        expect(Object.keys(password)).to.have.length(2); // { <secret signature>, value }
    });

    it("creates a LOGIN role named after the identity, with no password and no admin powers", async () => {
        const { mocks } = await build();
        const inputs = mocks.named(ROLE, "orders-postgres-role").inputs;
        expect(inputs).to.include({ name: "id-test-orders", login: true, superuser: false, createRole: false, createDatabase: false });
        expect(inputs).to.not.have.any.keys("password", "passwordWo", "encryptedPassword");
    });

    it("binds the role to the managed identity's principal id through the pgaadauth label", async () => {
        const { mocks } = await build();
        expect(mocks.named(LABEL, "orders-postgres-entra-label").inputs).to.deep.include({
            objectType: "role",
            objectName: "id-test-orders",
            labelProvider: "pgaadauth",
            label: `aadauth,oid=${principalIdFor("id-test-orders")},type=service`,
        });
    });

    it("the app's database is owned by the app's role", async () => {
        const { mocks } = await build();
        expect(mocks.named(DATABASE, "orders-postgres-database").inputs).to.include({ name: "orders", owner: "id-test-orders" });
    });

    it("PUBLIC cannot connect to the app's database", async () => {
        const { mocks } = await build();
        expect(mocks.named(GRANT, "orders-postgres-revoke-public").inputs).to.deep.include({
            database: "orders", role: "public", objectType: "database", privileges: [],
        });
    });

    it("Azure's administrators become members of the app's role, so a revoke on its database acts as the owner", async () => {
        // Real-PostgreSQL proof (16, 17, 18): tests/postgres/isolation.pg.test.ts.
        const { mocks } = await build();
        expect(mocks.ofType(GRANT_ROLE)).to.have.length(1);
        expect(mocks.named(GRANT_ROLE, "orders-postgres-admins-member").inputs).to.deep.include({
            role: "azure_pg_admin", grantRole: "id-test-orders", withAdminOption: false,
        });
    });

    it("both database grants wait for the administrators' membership in the owner", async () => {
        const { mocks } = await build();
        for (const grant of ["orders-postgres-revoke-public", "orders-postgres-database-grant"]) {
            const dependsOn = [mocks.optionsOf(grant).dependsOn ?? []].flat() as pulumi.Resource[];
            const urns = await Promise.all(dependsOn.map(d => promiseOf(d.urn)));
            expect(urns, grant).to.satisfy((u: string[]) => u.some(urn => urn.endsWith("::orders-postgres-admins-member")));
        }
    });

    it("declares exactly one resource per statement of the shared SQL definition, in the same terms", async () => {
        const { mocks } = await build();
        const statements = appDatabaseStatements({ roleName: "id-test-orders", principalId: principalIdFor("id-test-orders"), databaseName: "orders" });
        const children = mocks.resources.filter(r => r.type.startsWith("postgresql:")).map(r => r.name);
        expect(children).to.have.members(statements.map(s => `orders-postgres-${s.resource}`));
        const sql = Object.fromEntries(statements.map(s => [s.resource, s.sql]));
        expect(sql["database-grant"]).to.contain(mocks.named(GRANT, "orders-postgres-database-grant").inputs.privileges.join(", "));
        expect(sql["entra-label"]).to.contain(`'${mocks.named(LABEL, "orders-postgres-entra-label").inputs.label}'`);
        expect(sql["admins-member"]).to.equal(`GRANT "id-test-orders" TO "${mocks.named(GRANT_ROLE, "orders-postgres-admins-member").inputs.role}"`);
    });

    it("the role holds CONNECT, CREATE and TEMPORARY on its database and nothing server-wide", async () => {
        const { mocks } = await build();
        const grants = mocks.ofType(GRANT).filter(g => g.inputs.role === "id-test-orders");
        expect(grants).to.have.length(1);
        expect(grants[0].inputs).to.deep.include({ database: "orders", objectType: "database" });
        expect(grants[0].inputs.privileges).to.have.members(["CONNECT", "CREATE", "TEMPORARY"]);
    });

    it("every PostgreSQL object is created through this component's admin provider", async () => {
        const { mocks } = await build();
        for (const type of [ROLE, LABEL, GRANT_ROLE, DATABASE, GRANT]) {
            for (const r of mocks.ofType(type)) {
                expect(r.provider, r.name).to.match(/::orders-postgres-admin::/);
            }
        }
    });

    it("exposes the role and database names", async () => {
        const { result } = await build();
        expect(await promiseOf(result.roleName)).to.equal("id-test-orders");
        expect(await promiseOf(result.databaseName)).to.equal("orders");
    });

    it("roleName resolves only once the Entra label is in place", async () => {
        let resolvedAt = -1;
        const { mocks } = await underMocks("test", m => {
            const role = new PostgresRole("orders-postgres", baseArgs);
            role.roleName.apply(() => { resolvedAt = m.elapsed(); });
            return role;
        }, { delays: type => (type === LABEL ? 30 : 0) });
        expect(resolvedAt).to.be.at.least(mocks.named(LABEL, "orders-postgres-entra-label").createdAt);
    });

    it("the database is protected when asked", async () => {
        const { mocks } = await build({ protect: true });
        expect(mocks.optionsOf("orders-postgres-database").protect).to.equal(true);
    });
});
