// Issue 9, point 1: database isolation is real; issue 13: each role profile can do what it should and nothing more. The program's PostgresRole components are evaluated under mocks;
// what @pulumi/postgresql would send for the resources they declare (tests/postgres/provider.ts, from the
// provider's source) then runs as an administrator modelled on Azure's, on real PostgreSQL 16, 17 and 18.
import { expect } from "chai";
import { Client } from "pg";
import { PostgresRole } from "../../components/postgresRole";
import {
    AppDatabase, appDatabaseStatements, AZURE_ADMIN_GROUP, Developer, entraServiceLabelText, entraUserLabelText, ENTRA_LABEL_PROVIDER,
    RoleProfile,
} from "../../lib/postgresRoleSql";
import { underMocks } from "../harness";
import { principalIdFor } from "../mocks";
import { Catalogs, catalogs } from "./catalogs";
import { localStatements, runStatements } from "./statements";
import { ADMIN_GROUP, Cluster, Major, MAJORS, SUPERUSER } from "./cluster";
import { DeclaredResource, Drift, ENGINE_ORDERS, firstApply, ProviderSession, secondApply, securityLabelRead, securityLabelSql, TYPES } from "./provider";

const ADMIN = "ada@contoso.onmicrosoft.com";
const ADA: Developer = { login: "ada@contoso.com", objectId: "0c2b7d1e-4f3a-4e8b-9a61-2d5c7e9f1a30" };
const migratorOf = (roleName: string) => ({ roleName: `${roleName}-migrate`, principalId: principalIdFor(`${roleName}-migrate`) });
const APPS: { app: string; roleName: string; databaseName: string; profile: RoleProfile; migrations: boolean; developers: Developer[] }[] = [
    { app: "orders", roleName: "id-dev-orders", databaseName: "orders", profile: "owner", migrations: false, developers: [ADA] },
    { app: "billing", roleName: "id-dev-billing", databaseName: "billing", profile: "owner", migrations: false, developers: [] },
    { app: "shop", roleName: "id-dev-shop", databaseName: "shop", profile: "readwrite", migrations: true, developers: [] },
    { app: "reports", roleName: "id-dev-reports", databaseName: "reports", profile: "readonly", migrations: true, developers: [] },
];
const PROVIDER_TYPE = "pulumi:providers:postgresql";

interface DeclaredApp extends AppDatabase {
    app: string;
    developers: Developer[];
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
        profile: a.profile,
        migrator: a.migrations ? migratorOf(a.roleName) : undefined,
        developers: a.developers,
        protect: false,
    })));
    return APPS.map(a => {
        const provider = mocks.named(PROVIDER_TYPE, `${a.app}-postgres-admin`);
        const resources = mocks.resources
            .filter(r => r.type.startsWith("postgresql:") && r.provider?.includes(`::${a.app}-postgres-admin::`))
            .map(r => ({ type: r.type, name: r.name, inputs: r.inputs }));
        return {
            app: a.app, roleName: a.roleName, databaseName: a.databaseName, profile: a.profile, developers: a.developers,
            principalId: principalIdFor(a.roleName), migrator: a.migrations ? migratorOf(a.roleName) : undefined,
            username: provider.inputs.username, resources,
        };
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
    /** The same statements run a second time on the SQL executor's server. */
    viaSqlAgain: Catalogs;
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

        for (const a of apps) {
            await runStatements(sqlCluster, ADMIN, localStatements(a));
        }
        const viaSql = await catalogs(sqlCluster);
        for (const a of apps) {
            await runStatements(sqlCluster, ADMIN, localStatements(a));
        }
        const viaSqlAgain = await catalogs(sqlCluster);
        return { cluster, sqlCluster, sessions, afterFirst, afterSecond, drift, viaSql, viaSqlAgain };
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
            before(async function () {
                // Three majors set up at once, each two servers and four apps through both executors: on a shared
                // 2-core machine that can take longer than one test's minute.
                this.timeout(180_000);
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

            it("each owner app's role owns its database; a readwrite or readonly app's database and schema belong to its migration role", () => {
                for (const a of apps) {
                    const owner = a.migrator?.roleName ?? a.roleName;
                    expect(run.afterFirst.databases.find(d => d.datname === a.databaseName)?.owner, a.databaseName).to.equal(owner);
                    if (a.migrator) {
                        expect(run.afterFirst.inside[a.databaseName].namespaces.find(n => n.nspname === a.databaseName)?.owner).to.equal(owner);
                    }
                }
            });

            it("each owner app's role connects to its database and creates tables, schemas and temporary tables there", async () => {
                for (const a of apps.filter(x => x.profile === "owner")) {
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
                for (const [a, other] of apps.flatMap(x => apps.filter(y => y !== x).map(y => [x, y]))) {
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

            it("the statements of postgresRoleSql.ts leave the same roles, memberships, owners, ACLs and default privileges as the provider", () => {
                expect(run.viaSql).to.deep.equal(run.afterFirst);
            });

            it("the statements of postgresRoleSql.ts run a second time leave the same catalogs", () => {
                expect(run.viaSqlAgain).to.deep.equal(run.viaSql);
            });

            it("the pgaadauth label statement parses, names the app's role and carries its identity's label", async () => {
                for (const a of apps) {
                    const label = a.resources.find(r => r.name === `${a.app}-postgres-entra-label`)!;
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
                    const label = a.resources.find(r => r.name === `${a.app}-postgres-entra-label`)!;
                    const { params } = securityLabelRead(label.inputs);
                    const [{ objname }] = await run.cluster.superuser("SELECT quote_ident($1) AS objname", [a.roleName]);
                    expect(params).to.deep.equal(["role", objname, ENTRA_LABEL_PROVIDER]);
                }
            });

            describe("role profiles", () => {
                const shop = () => apps.find(a => a.profile === "readwrite")!;
                const reports = () => apps.find(a => a.profile === "readonly")!;
                const orders = () => apps.find(a => a.developers.length > 0)!;

                before(async () => {
                    for (const a of apps) {
                        if (a.migrator) {
                            await run.cluster.setPassword(a.migrator.roleName);
                            // After set-up, as a migration would: a table with an identity column, one with a serial.
                            await run.cluster.query(a.migrator.roleName, `CREATE TABLE items (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text NOT NULL);
                                CREATE TABLE notes (id serial PRIMARY KEY, body text); INSERT INTO items (name) VALUES ('seed')`, [], a.databaseName);
                        }
                    }
                    await run.cluster.setPassword(ADA.login);
                    await run.cluster.query(orders().roleName, "CREATE TABLE later_items (id serial PRIMARY KEY, name text)", [], orders().databaseName);
                });

                /** `sql` as `user` in `database`: null when it works, else the SQLSTATE. */
                async function attempt(user: string, database: string, sql: string): Promise<string | null> {
                    return run.cluster.query(user, sql, [], database).then(() => null, (err: { code?: string }) => err.code ?? String(err));
                }

                it("the migration role creates, alters and drops tables in its schema, found first on its search_path", async () => {
                    const m = shop().migrator!.roleName;
                    const [{ schema }] = await run.cluster.query<{ schema: string }>(m, "SELECT current_schema() AS schema", [], shop().databaseName);
                    expect(schema).to.equal(shop().databaseName);
                    expect(await attempt(m, shop().databaseName, "CREATE TABLE probe (id int); ALTER TABLE probe ADD COLUMN x int; DROP TABLE probe")).to.equal(null);
                });

                it("readwrite: the app's role reads, inserts, updates and deletes in a table the migration role created after set-up", async () => {
                    await run.cluster.query(shop().roleName, `INSERT INTO items (name) VALUES ('a');
                        UPDATE items SET name = 'b' WHERE name = 'a'; DELETE FROM items WHERE name = 'seed';
                        INSERT INTO notes (body) VALUES ('serial needs USAGE on the sequence')`, [], shop().databaseName);
                    const rows = await run.cluster.query<{ name: string }>(shop().roleName, "SELECT name FROM items", [], shop().databaseName);
                    expect(rows.map(r => r.name)).to.deep.equal(["b"]);
                });

                for (const [what, sql] of [
                    ["create a table in the schema", "CREATE TABLE app_made (id int)"],
                    ["create a schema in the database", "CREATE SCHEMA app_schema"],
                    ["alter a table", "ALTER TABLE items ADD COLUMN extra int"],
                    ["drop a table", "DROP TABLE notes"],
                    ["truncate a table", "TRUNCATE items"],
                    ["create a table in public", "CREATE TABLE public.app_made (id int)"],
                ] as const) {
                    it(`readwrite: the app's role cannot ${what} (42501)`, async () => {
                        expect(await attempt(shop().roleName, shop().databaseName, sql)).to.equal("42501");
                    });
                }

                it("readwrite: the app's role may use temporary tables", async () => {
                    expect(await attempt(shop().roleName, shop().databaseName, "CREATE TEMP TABLE scratch (id int)")).to.equal(null);
                });

                it("readonly: the app's role reads a table the migration role created after set-up", async () => {
                    const rows = await run.cluster.query(reports().roleName, "SELECT name FROM items", [], reports().databaseName);
                    expect(rows).to.deep.equal([{ name: "seed" }]);
                });

                for (const [what, sql] of [
                    ["insert", "INSERT INTO items (name) VALUES ('x')"],
                    ["update", "UPDATE items SET name = 'x'"],
                    ["delete", "DELETE FROM items"],
                    ["create a table", "CREATE TABLE app_made (id int)"],
                    ["create a temporary table", "CREATE TEMP TABLE scratch (id int)"],
                    ["advance a sequence", "SELECT nextval('notes_id_seq')"],
                ] as const) {
                    it(`readonly: the app's role cannot ${what} (42501)`, async () => {
                        expect(await attempt(reports().roleName, reports().databaseName, sql)).to.equal("42501");
                    });
                }

                it("no migration role, app role or developer connects to another app's database (42501)", async () => {
                    const logins = [...apps.flatMap(a => [a.roleName, ...(a.migrator ? [a.migrator.roleName] : [])]), ADA.login];
                    for (const a of apps) {
                        const own = [a.roleName, a.migrator?.roleName, ...a.developers.map(d => d.login)];
                        for (const login of logins.filter(l => !own.includes(l))) {
                            expect(await connectError(run.cluster, login, a.databaseName), `${login} → ${a.databaseName}`).to.equal("42501");
                        }
                    }
                });

                it("a developer reads and writes a table the app's role created after set-up, and creates nothing", async () => {
                    const db = orders().databaseName;
                    expect(await attempt(ADA.login, db, "INSERT INTO later_items (name) VALUES ('by ada'); UPDATE later_items SET name = 'x'; SELECT * FROM later_items")).to.equal(null);
                    expect(await attempt(ADA.login, db, "CREATE TABLE ada_made (id int)")).to.equal("42501");
                    expect(await attempt(ADA.login, db, "ALTER TABLE later_items ADD COLUMN extra int")).to.equal("42501");
                });

                it("a developer's role is a plain login with no admin powers, labelled as the person's user", async () => {
                    const [role] = await run.cluster.superuser("SELECT rolcanlogin, rolsuper, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = $1", [ADA.login]);
                    expect(role).to.deep.equal({ rolcanlogin: true, rolsuper: false, rolcreaterole: false, rolcreatedb: false });
                    const label = orders().resources.find(r => r.name === "orders-postgres-developer-ada-contoso-com-entra-label")!;
                    expect(label.inputs.label).to.equal(entraUserLabelText(ADA.objectId));
                });
            });
        });
    }
});
