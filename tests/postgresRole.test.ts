import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";
import { OSSRDBMS_RESOURCE, PostgresRole, PostgresRoleArgs } from "../components/postgresRole";
import { appDatabaseProblem, appDatabaseStatements, developerRoleProblem, developerStatements, RoleProfile } from "../lib/postgresRoleSql";
import { principalIdFor, promiseOf, tokenClaims } from "./mocks";
import { underMocks } from "./harness";

const PROVIDER = "pulumi:providers:postgresql";
const ROLE = "postgresql:index/role:Role";
const LABEL = "postgresql:index/securityLabel:SecurityLabel";
const DATABASE = "postgresql:index/database:Database";
const GRANT = "postgresql:index/grant:Grant";
const GRANT_ROLE = "postgresql:index/grantRole:GrantRole";
const SCHEMA = "postgresql:index/schema:Schema";
const DEFAULT_PRIVILEGES = "postgresql:index/defaultPrivileges:DefaultPrivileges";
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

    it("declares exactly one resource for each resource the shared SQL definition's statements name, in the same terms", async () => {
        const { mocks } = await build();
        const statements = appDatabaseStatements({ roleName: "id-test-orders", principalId: principalIdFor("id-test-orders"), databaseName: "orders" });
        const children = mocks.resources.filter(r => r.type.startsWith("postgresql:")).map(r => r.name);
        expect(children).to.have.members([...new Set(statements.map(s => `orders-postgres-${s.resource}`))]);
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

const MIGRATOR = "id-test-orders-migrate";
const migrator = { roleName: MIGRATOR, principalId: principalIdFor(MIGRATOR) };
const ADA = { login: "ada@contoso.com", objectId: "0c2b7d1e-4f3a-4e8b-9a61-2d5c7e9f1a30" };

function withProfile(profile: RoleProfile, overrides: Partial<PostgresRoleArgs> = {}) {
    return build({ profile, ...(profile === "owner" ? {} : { migrator }), ...overrides });
}

/** The grants and default privileges one role receives, keyed by logical name. */
function grantsTo(mocks: Awaited<ReturnType<typeof build>>["mocks"], role: string) {
    return Object.fromEntries([...mocks.ofType(GRANT), ...mocks.ofType(DEFAULT_PRIVILEGES)]
        .filter(g => g.inputs.role === role)
        .map(g => [g.name.replace(/^orders-postgres-/, ""), { ...g.inputs, privileges: [...g.inputs.privileges].sort() }]));
}

describe("PostgresRole profiles", () => {
    it("owner (the default) declares no migration role, no schema and no default privileges", async () => {
        const { mocks } = await build();
        expect(mocks.ofType(ROLE).map(r => r.inputs.name)).to.deep.equal(["id-test-orders"]);
        expect(mocks.ofType(SCHEMA)).to.have.length(0);
        expect(mocks.ofType(DEFAULT_PRIVILEGES)).to.have.length(0);
    });

    it("readwrite: the migration role, not the app's, owns the database", async () => {
        const { mocks } = await withProfile("readwrite");
        expect(mocks.named(DATABASE, "orders-postgres-database").inputs).to.include({ name: "orders", owner: MIGRATOR });
    });

    it("readwrite: the migration role owns a schema named after the database, inside the database", async () => {
        const { mocks } = await withProfile("readwrite");
        expect(mocks.named(SCHEMA, "orders-postgres-schema").inputs).to.include({ name: "orders", database: "orders", owner: MIGRATOR });
    });

    it("readwrite: the schema's name can be chosen", async () => {
        const { mocks } = await withProfile("readwrite", { schemaName: "shop" });
        expect(mocks.named(SCHEMA, "orders-postgres-schema").inputs.name).to.equal("shop");
        expect(mocks.named(ROLE, "orders-postgres-role").inputs.searchPaths).to.deep.equal(["shop"]);
    });

    it("readwrite: the migration role is bound to the migration identity's principal id, the app's role to the app's", async () => {
        const { mocks } = await withProfile("readwrite");
        expect(mocks.named(LABEL, "orders-postgres-migrator-entra-label").inputs).to.include({
            objectName: MIGRATOR, label: `aadauth,oid=${principalIdFor(MIGRATOR)},type=service`,
        });
        expect(mocks.named(LABEL, "orders-postgres-entra-label").inputs).to.include({
            objectName: "id-test-orders", label: `aadauth,oid=${principalIdFor("id-test-orders")},type=service`,
        });
    });

    it("readwrite: both roles log in with no admin powers and find the schema first on their search_path", async () => {
        const { mocks } = await withProfile("readwrite");
        for (const name of ["orders-postgres-role", "orders-postgres-migrator-role"]) {
            expect(mocks.named(ROLE, name).inputs, name).to.deep.include({
                login: true, superuser: false, createRole: false, createDatabase: false, searchPaths: ["orders"],
            });
        }
    });

    it("readwrite: Azure's administrators are members of both roles", async () => {
        const { mocks } = await withProfile("readwrite");
        expect(mocks.ofType(GRANT_ROLE).map(g => [g.inputs.role, g.inputs.grantRole])).to.have.deep.members([
            ["azure_pg_admin", "id-test-orders"], ["azure_pg_admin", MIGRATOR],
        ]);
    });

    it("readwrite: the migration role holds the owner's database rights, CREATE included", async () => {
        const { mocks } = await withProfile("readwrite");
        expect(grantsTo(mocks, MIGRATOR)).to.deep.equal({
            "migrator-database-grant": { database: "orders", role: MIGRATOR, objectType: "database", privileges: ["CONNECT", "CREATE", "TEMPORARY"] },
        });
    });

    it("readwrite: the app's role gets DML on the schema's tables, now and later, and nothing that creates or alters", async () => {
        const { mocks } = await withProfile("readwrite");
        const place = { database: "orders", schema: "orders", role: "id-test-orders" };
        expect(grantsTo(mocks, "id-test-orders")).to.deep.equal({
            "database-grant": { database: "orders", role: "id-test-orders", objectType: "database", privileges: ["CONNECT", "TEMPORARY"] },
            "schema-grant": { ...place, objectType: "schema", privileges: ["USAGE"] },
            "tables-grant": { ...place, objectType: "table", privileges: ["DELETE", "INSERT", "SELECT", "UPDATE"] },
            "sequences-grant": { ...place, objectType: "sequence", privileges: ["SELECT", "USAGE"] },
            "default-tables": { ...place, owner: MIGRATOR, objectType: "table", privileges: ["DELETE", "INSERT", "SELECT", "UPDATE"] },
            "default-sequences": { ...place, owner: MIGRATOR, objectType: "sequence", privileges: ["SELECT", "USAGE"] },
        });
    });

    it("readonly: the app's role gets CONNECT, USAGE on the schema and SELECT on its tables, now and later — nothing else", async () => {
        const { mocks } = await withProfile("readonly");
        const place = { database: "orders", schema: "orders", role: "id-test-orders" };
        expect(grantsTo(mocks, "id-test-orders")).to.deep.equal({
            "database-grant": { database: "orders", role: "id-test-orders", objectType: "database", privileges: ["CONNECT"] },
            "schema-grant": { ...place, objectType: "schema", privileges: ["USAGE"] },
            "tables-grant": { ...place, objectType: "table", privileges: ["SELECT"] },
            "default-tables": { ...place, owner: MIGRATOR, objectType: "table", privileges: ["SELECT"] },
        });
    });

    for (const profile of ["readwrite", "readonly"] as const) {
        it(`${profile}: declares exactly one resource for each resource the shared SQL definition's statements name`, async () => {
            const { mocks } = await withProfile(profile);
            const statements = appDatabaseStatements({
                roleName: "id-test-orders", principalId: principalIdFor("id-test-orders"), databaseName: "orders", profile, migrator,
            });
            const children = mocks.resources.filter(r => r.type.startsWith("postgresql:")).map(r => r.name);
            expect(children).to.have.members([...new Set(statements.map(s => `orders-postgres-${s.resource}`))]);
        });
    }

    it("readwrite: every grant on the database waits for the administrators' membership in the migration role", async () => {
        const { mocks } = await withProfile("readwrite");
        for (const grant of mocks.ofType(GRANT).filter(g => g.inputs.objectType === "database").map(g => g.name)) {
            const dependsOn = [mocks.optionsOf(grant).dependsOn ?? []].flat() as pulumi.Resource[];
            const urns = await Promise.all(dependsOn.map(d => promiseOf(d.urn)));
            expect(urns, grant).to.satisfy((u: string[]) => u.some(urn => urn.endsWith("::orders-postgres-migrator-admins-member")));
        }
    });

    it("readwrite: exposes the migration role's name", async () => {
        const { result } = await withProfile("readwrite");
        expect(await promiseOf(result.migratorRoleName!)).to.equal(MIGRATOR);
    });

    it("refuses readwrite without a migration role, naming the component", async () => {
        await build({ profile: "readwrite" }).then(() => expect.fail("built"), err => {
            expect(String(err)).to.contain("orders-postgres").and.contain("needs a migration role");
        });
    });

    it("appDatabaseProblem refuses a migration role for owner, one that is the app's own role, and an unknown profile", () => {
        const app = { roleName: "r", principalId: "p", databaseName: "d" };
        expect(appDatabaseProblem({ ...app, migrator: { roleName: "m", principalId: "q" } })).to.contain("only for readwrite or readonly");
        expect(appDatabaseProblem({ ...app, profile: "readonly", migrator: { roleName: "r", principalId: "q" } })).to.contain("a role of its own");
        expect(appDatabaseProblem({ ...app, profile: "admin" as RoleProfile })).to.contain("not one of owner, readwrite, readonly");
        expect(appDatabaseProblem({ ...app, profile: "readonly", migrator: { roleName: "m", principalId: "q" } })).to.equal(undefined);
    });

    it("a re-created identity changes only the label's input: same role, same database, same grants", async () => {
        const before = (await withProfile("readwrite")).mocks.resources;
        const after = (await withProfile("readwrite", { principalId: "11111111-2222-4333-8444-555555555555" })).mocks.resources;
        // The provider's config holds a freshly minted token each run; the objects it declares are what matter.
        const changed = after.filter(r => r.type.startsWith("postgresql:")).filter(r => JSON.stringify(r.inputs) !== JSON.stringify(before.find(b => b.name === r.name)?.inputs)).map(r => r.name);
        expect(changed).to.deep.equal(["orders-postgres-entra-label"]);
    });
});

describe("PostgresRole developers (dev only)", () => {
    it("a developer's role is their own Entra login, bound as a user by their object id", async () => {
        const { mocks } = await build({ developers: [ADA] });
        expect(mocks.named(ROLE, "orders-postgres-developer-ada-contoso-com-role").inputs).to.include({ name: ADA.login, login: true, superuser: false });
        expect(mocks.named(LABEL, "orders-postgres-developer-ada-contoso-com-entra-label").inputs).to.include({
            objectName: ADA.login, label: `aadauth,oid=${ADA.objectId},type=user`,
        });
    });

    it("on an owner app a developer reads and writes by default: DML on public's tables, now and those the app's role creates later", async () => {
        const { mocks } = await build({ developers: [ADA] });
        const place = { database: "orders", schema: "public", role: ADA.login };
        expect(grantsTo(mocks, ADA.login)).to.deep.equal({
            "developer-ada-contoso-com-database-grant": { database: "orders", role: ADA.login, objectType: "database", privileges: ["CONNECT", "TEMPORARY"] },
            "developer-ada-contoso-com-schema-grant": { ...place, objectType: "schema", privileges: ["USAGE"] },
            "developer-ada-contoso-com-tables-grant": { ...place, objectType: "table", privileges: ["DELETE", "INSERT", "SELECT", "UPDATE"] },
            "developer-ada-contoso-com-sequences-grant": { ...place, objectType: "sequence", privileges: ["SELECT", "USAGE"] },
            "developer-ada-contoso-com-default-tables": { ...place, owner: "id-test-orders", objectType: "table", privileges: ["DELETE", "INSERT", "SELECT", "UPDATE"] },
            "developer-ada-contoso-com-default-sequences": { ...place, owner: "id-test-orders", objectType: "sequence", privileges: ["SELECT", "USAGE"] },
        });
    });

    it("on a readwrite app a readonly developer gets SELECT on the migration role's tables, now and later", async () => {
        const { mocks } = await withProfile("readwrite", { developers: [{ ...ADA, profile: "readonly" }] });
        const grants = grantsTo(mocks, ADA.login);
        expect(grants["developer-ada-contoso-com-default-tables"]).to.include({ owner: MIGRATOR, schema: "orders", objectType: "table" });
        expect(Object.values(grants).map(g => g.privileges)).to.deep.equal([["CONNECT"], ["USAGE"], ["SELECT"], ["SELECT"]]);
    });

    it("a developer's resources match the shared SQL definition's", async () => {
        const { mocks } = await build({ developers: [ADA] });
        const statements = developerStatements(ADA, { roleName: "id-test-orders", principalId: "p", databaseName: "orders" });
        const children = mocks.resources.filter(r => r.name.includes("-developer-")).map(r => r.name);
        expect(children).to.have.members([...new Set(statements.map(s => `orders-postgres-${s.resource}`))]);
    });

    it("developerRoleProblem refuses any developer on a prod stack", () => {
        expect(developerRoleProblem("prod", [ADA])).to.contain("dev only");
        expect(developerRoleProblem("prod-eu", [ADA])).to.contain("dev only");
    });

    it("developerRoleProblem refuses developers on a stack that protects its data", () => {
        expect(developerRoleProblem("staging", [ADA], { protectData: true })).to.contain("protects its data");
    });

    it("developerRoleProblem accepts a dev stack's developers and a prod stack without any", () => {
        expect(developerRoleProblem("dev", [ADA, { login: "grace@contoso.com", objectId: "9d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6", profile: "readonly" }])).to.equal(undefined);
        expect(developerRoleProblem("prod", [])).to.equal(undefined);
    });

    it("developerRoleProblem names a login that is not a UPN, an object id that is not a GUID, a bad profile and a person listed twice", () => {
        expect(developerRoleProblem("dev", [{ ...ADA, login: "ada" }])).to.contain("developers[0].login \"ada\"");
        expect(developerRoleProblem("dev", [{ ...ADA, objectId: "ada" }])).to.contain("developers[0].objectId");
        expect(developerRoleProblem("dev", [{ ...ADA, profile: "owner" as "readonly" }])).to.contain("developers[0].profile");
        expect(developerRoleProblem("dev", [ADA, { ...ADA, login: "ADA@contoso.com" }])).to.contain("developers[1].login ADA@contoso.com is listed twice");
    });

    it("Pulumi forgetting an app never drops its role or its database (retainOnDelete): removal is the operator's call", async () => {
        const { mocks } = await build();
        expect(mocks.optionsOf("orders-postgres-database").retainOnDelete).to.equal(true);
        expect(mocks.optionsOf("orders-postgres-role").retainOnDelete).to.equal(true);
    });
});
