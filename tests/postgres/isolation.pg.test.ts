// Issue 9, point 1: database isolation is real. The program's PostgresRole components are evaluated under mocks;
// what @pulumi/postgresql would send for the resources they declare (tests/postgres/provider.ts, from the
// provider's source) then runs as an administrator modelled on Azure's, on real PostgreSQL 16, 17 and 18.
import { expect } from "chai";
import { Client } from "pg";
import { PostgresRole } from "../../components/postgresRole";
import { appDatabaseStatements, AZURE_ADMIN_GROUP, entraServiceLabelText, ENTRA_LABEL_PROVIDER } from "../../lib/postgresRoleSql";
import { underMocks } from "../harness";
import { principalIdFor } from "../mocks";
import { Catalogs, catalogs } from "./catalogs";
import { ADMIN_GROUP, Cluster, Major, MAJORS, SUPERUSER } from "./cluster";
import { DeclaredResource, Drift, ENGINE_ORDERS, firstApply, ProviderSession, secondApply, securityLabelRead, securityLabelSql, TYPES } from "./provider";

const ADMIN = "ada@contoso.onmicrosoft.com";
const APPS = [
    { app: "orders", roleName: "id-dev-orders", databaseName: "orders" },
    { app: "billing", roleName: "id-dev-billing", databaseName: "billing" },
];
const PROVIDER_TYPE = "pulumi:providers:postgresql";

interface DeclaredApp {
    roleName: string;
    databaseName: string;
    principalId: string;
    /** The provider's `username`: who the resources are created as. */
    username: string;
    resources: DeclaredResource[];
}

/** The program's declaration of each app's place in PostgreSQL, as the engine would receive it. */
async function declaredApps(): Promise<DeclaredApp[]> {
    const { mocks } = await underMocks("dev", () => APPS.map(a => new PostgresRole(`${a.app}-postgres`, {
        host: "psql-dev-x7k2q9.postgres.database.azure.com",
        port: 5432,
        adminLogin: ADMIN,
        roleName: a.roleName,
        principalId: principalIdFor(a.roleName),
        databaseName: a.databaseName,
        protect: false,
    })));
    return APPS.map(a => {
        const provider = mocks.named(PROVIDER_TYPE, `${a.app}-postgres-admin`);
        const resources = mocks.resources
            .filter(r => r.type.startsWith("postgresql:") && r.provider?.includes(`::${a.app}-postgres-admin::`))
            .map(r => ({ type: r.type, name: r.name, inputs: r.inputs }));
        return { ...a, principalId: principalIdFor(a.roleName), username: provider.inputs.username, resources };
    });
}

/** Connecting as `user` to `database`: null when it works, else the SQLSTATE. */
async function connectError(cluster: Cluster, user: string, database: string): Promise<string | null> {
    let client: Client | undefined;
    try {
        client = await cluster.connect(user, database);
        return null;
    } catch (err) {
        return (err as { code?: string }).code ?? String(err);
    } finally {
        await client?.end();
    }
}

async function privilegesOf(cluster: Cluster, role: string, database: string): Promise<Record<string, boolean>> {
    const [row] = await cluster.superuser(`SELECT has_database_privilege($1, $2, 'CONNECT') AS connect,
        has_database_privilege($1, $2, 'CREATE') AS create, has_database_privilege($1, $2, 'TEMPORARY') AS temporary`, [role, database]);
    return row as Record<string, boolean>;
}

interface Run {
    cluster: Cluster;
    /** A second server the statements of postgresRoleSql.ts ran on (the other executor of D1). */
    sqlCluster: Cluster;
    sessions: ProviderSession[];
    afterFirst: Catalogs;
    afterSecond: Catalogs;
    drift: Drift[];
    viaSql: Catalogs;
}

async function runOn(major: Major, apps: DeclaredApp[]): Promise<Run> {
    const [cluster, sqlCluster] = await Cluster.start(major, ADMIN, 2);
    const sessions = apps.map(a => new ProviderSession(cluster, a.username));
    try {
        for (const [i, a] of apps.entries()) {
            // Each app in another order the engine may pick for the resources that wait only for the role.
            await firstApply(sessions[i], a.resources, ENGINE_ORDERS[i % ENGINE_ORDERS.length]);
        }
        const afterFirst = await catalogs(cluster);
        const drift: Drift[] = [];
        for (const [i, a] of apps.entries()) {
            drift.push(...await secondApply(sessions[i], a.resources));
        }
        const afterSecond = await catalogs(cluster);

        const admin = await sqlCluster.connect(ADMIN);
        try {
            for (const a of apps) {
                for (const statement of appDatabaseStatements(a)) {
                    if (statement.resource !== "entra-label") { // needs Azure's pgaadauth; checked below
                        await admin.query(statement.sql);
                    }
                }
            }
        } finally {
            await admin.end();
        }
        const viaSql = await catalogs(sqlCluster);
        return { cluster, sqlCluster, sessions, afterFirst, afterSecond, drift, viaSql };
    } catch (err) {
        await Promise.all(sessions.map(s => s.close()));
        await Promise.all([cluster.stop(), sqlCluster.stop()]);
        throw err;
    }
}

describe("database isolation on real PostgreSQL, with Azure's administrator model", function () {
    this.timeout(60_000);
    const runs = new Map<Major, Promise<Run>>();
    let apps: DeclaredApp[];

    before(async () => {
        apps = await declaredApps();
        for (const major of MAJORS) {
            const run = runOn(major, apps);
            run.catch(() => undefined); // reported by the tests that await it
            runs.set(major, run);
        }
    });

    after(async () => {
        await Promise.all([...runs.values()].map(async p => {
            const run = await p.catch(() => undefined);
            if (run) {
                await Promise.all(run.sessions.map(s => s.close()));
                await Promise.all([run.cluster.stop(), run.sqlCluster.stop()]);
            }
        }));
    });

    it("every app is declared through a provider that logs in as the Entra administrator", () => {
        for (const a of apps) {
            expect(a.username).to.equal(ADMIN);
            expect(a.resources.map(r => r.type)).to.include.members([TYPES.role, TYPES.label, TYPES.database, TYPES.grant]);
        }
    });

    for (const major of MAJORS) {
        describe(`PostgreSQL ${major}`, () => {
            let run: Run;
            before(async () => {
                run = await runs.get(major)!;
                for (const a of apps) {
                    await run.cluster.setPassword(a.roleName); // stands in for the identity's Entra token
                }
            });

            it("the administrator is Azure's: NOSUPERUSER with CREATEROLE and CREATEDB, in azure_pg_admin, not the owner of postgres", async () => {
                const [admin] = await run.cluster.superuser(`SELECT rolsuper, rolcreaterole, rolcreatedb, rolinherit,
                    pg_has_role(rolname, $2, 'USAGE') AS in_admin_group,
                    (SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'postgres') AS postgres_owner
                    FROM pg_roles WHERE rolname = $1`, [ADMIN, ADMIN_GROUP]);
                expect(admin).to.deep.equal({
                    rolsuper: false, rolcreaterole: true, rolcreatedb: true, rolinherit: true, in_admin_group: true, postgres_owner: SUPERUSER,
                });
                expect(ADMIN_GROUP).to.equal(AZURE_ADMIN_GROUP);
            });

            it("each app's role owns its database", () => {
                for (const a of apps) {
                    expect(run.afterFirst.databases.find(d => d.datname === a.databaseName)?.owner, a.databaseName).to.equal(a.roleName);
                }
            });

            it("each app's role connects to its database and creates tables, schemas and temporary tables there", async () => {
                for (const a of apps) {
                    const client = await run.cluster.connect(a.roleName, a.databaseName);
                    try {
                        await client.query("CREATE TABLE app_probe (id int)");
                        await client.query("CREATE SCHEMA app_schema_probe");
                        await client.query("CREATE TEMP TABLE app_temp_probe (id int)");
                        await client.query("INSERT INTO app_probe VALUES (1)");
                        expect((await client.query("SELECT count(*)::int AS n FROM app_probe")).rows[0].n).to.equal(1);
                    } finally {
                        await client.end();
                    }
                }
            });

            it("PUBLIC holds nothing on an app's database", async () => {
                for (const a of apps) {
                    // A NULL datacl is the built-in default, which grants PUBLIC (grantee 0) CONNECT and TEMPORARY.
                    const toPublic = await run.cluster.superuser(`SELECT a.privilege_type FROM pg_database d,
                        aclexplode(COALESCE(d.datacl, acldefault('d', d.datdba))) a WHERE d.datname = $1 AND a.grantee = 0`, [a.databaseName]);
                    expect(toPublic, a.databaseName).to.deep.equal([]);
                }
            });

            it("another app's role can neither connect to an app's database nor create or make temporary tables in it", async () => {
                for (const [a, other] of [[apps[0], apps[1]], [apps[1], apps[0]]]) {
                    expect(await connectError(run.cluster, other.roleName, a.databaseName), `${other.roleName} → ${a.databaseName}`).to.equal("42501");
                    expect(await privilegesOf(run.cluster, other.roleName, a.databaseName)).to.deep.equal({ connect: false, create: false, temporary: false });
                }
            });

            it("a fresh login role can neither connect to an app's database nor create in it", async () => {
                const fresh = `fresh-login-${major}`;
                await run.cluster.createLogin(fresh);
                for (const a of apps) {
                    expect(await connectError(run.cluster, fresh, a.databaseName), `${fresh} → ${a.databaseName}`).to.equal("42501");
                    expect(await privilegesOf(run.cluster, fresh, a.databaseName)).to.deep.equal({ connect: false, create: false, temporary: false });
                }
            });

            it("a second apply reads back exactly what the program declares, so the provider sends no change", () => {
                expect(run.drift.map(d => `${d.resource}: read ${JSON.stringify(d.read)}, declared ${JSON.stringify(d.wanted)}`)).to.deep.equal([]);
            });

            it("a second apply leaves roles, memberships, owners and database ACLs as the first left them", () => {
                expect(run.afterSecond).to.deep.equal(run.afterFirst);
            });

            it("the statements of postgresRoleSql.ts leave the same roles, memberships, owners and ACLs as the provider", () => {
                expect(run.viaSql).to.deep.equal(run.afterFirst);
            });

            it("the pgaadauth label statement parses, names the app's role and carries its identity's label", async () => {
                for (const a of apps) {
                    const label = a.resources.find(r => r.type === TYPES.label)!;
                    for (const sql of [securityLabelSql(label.inputs), appDatabaseStatements(a).find(s => s.resource === "entra-label")!.sql]) {
                        // Parsed and bound up to the provider lookup: the only failure left is that pgaadauth isn't loaded here.
                        const err = await run.cluster.query(ADMIN, sql).then(() => null, e => e as { code: string; message: string });
                        expect(err?.code, sql).to.equal("22023");
                        expect(err?.message).to.equal(`security label provider "${ENTRA_LABEL_PROVIDER}" is not loaded`);
                        const parts = /^SECURITY LABEL\s+FOR "pgaadauth" ON role\s*("(?:[^"]|"")+")\s+IS\s+('(?:[^']|'')*')$/i.exec(sql);
                        expect(parts, sql).to.not.equal(null);
                        const [named] = await run.cluster.superuser(`SELECT pg_get_userbyid(to_regrole($1)) AS role, ${parts![2]} AS label`, [parts![1]]);
                        expect(named).to.deep.equal({ role: a.roleName, label: entraServiceLabelText(a.principalId) });
                    }
                }
            });

            it("the label's read asks pg_seclabels for the row Azure's label would make", async () => {
                const [{ def }] = await run.cluster.superuser("SELECT pg_get_viewdef('pg_seclabels'::regclass) AS def");
                expect(def, "pg_seclabels names a role by quote_ident(rolname)").to.match(/'role'::text AS objtype,\s*NULL::oid AS objnamespace,\s*quote_ident\(\(?rol\.rolname\)?(?:::text)?\) AS objname/);
                for (const a of apps) {
                    const label = a.resources.find(r => r.type === TYPES.label)!;
                    const { params } = securityLabelRead(label.inputs);
                    const [{ objname }] = await run.cluster.superuser("SELECT quote_ident($1) AS objname", [a.roleName]);
                    expect(params).to.deep.equal(["role", objname, ENTRA_LABEL_PROVIDER]);
                }
            });
        });
    }
});
