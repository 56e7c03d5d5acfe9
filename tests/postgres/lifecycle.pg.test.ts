// Issue 13, lifecycle: an identity re-created with a new principal id re-labels the same role (an update, in both
// executors, that orphans nothing), and removing an app is an operator's procedure (removalStatements) that leaves
// no role and no grant behind — keeping the data under a named role, or dropping it — on real PostgreSQL 16, 17, 18.
import { expect } from "chai";
import { PostgresRole } from "../../components/postgresRole";
import { AppDatabase, appDatabaseStatements, entraServiceLabelText, removalStatements } from "../../lib/postgresRoleSql";
import { underMocks } from "../harness";
import { principalIdFor } from "../mocks";
import { Catalogs, catalogs } from "./catalogs";
import { Cluster, Major, MAJORS } from "./cluster";
import { localStatements, runStatements } from "./statements";
import { Change, changeApply, DeclaredResource, firstApply, ProviderSession } from "./provider";

const ADMIN = "ada@contoso.onmicrosoft.com";
const RECREATED = "7f3e9a10-2b4c-4d5e-8f60-718293a4b5c6";
const SHOP: AppDatabase = {
    roleName: "id-dev-shop", principalId: principalIdFor("id-dev-shop"), databaseName: "shop", profile: "readwrite",
    migrator: { roleName: "id-dev-shop-migrate", principalId: principalIdFor("id-dev-shop-migrate") },
};
const LEDGER: AppDatabase = { roleName: "id-dev-ledger", principalId: principalIdFor("id-dev-ledger"), databaseName: "ledger" };

/** What the program declares for `app` (through the provider of the mocks), as the engine receives it. */
async function declared(app: AppDatabase): Promise<DeclaredResource[]> {
    const { mocks } = await underMocks("dev", () => new PostgresRole("shop-postgres", {
        host: "psql-dev-x7k2q9.postgres.database.azure.com", port: 5432, adminLogin: ADMIN, protect: false, ...app,
    }));
    return mocks.resources.filter(r => r.type.startsWith("postgresql:")).map(r => ({ type: r.type, name: r.name, inputs: r.inputs }));
}

/** ACL items (in every database, on databases, schemas, relations and default privileges) and shared dependencies naming a role that no longer exists. */
async function orphans(cluster: Cluster): Promise<string[]> {
    const found: string[] = [];
    const missing = "NOT EXISTS (SELECT 1 FROM pg_authid r WHERE r.oid = x)";
    const shared = await cluster.superuser<{ what: string }>(`SELECT 'pg_shdepend ' || deptype::text || ' on ' || refobjid::text AS what FROM pg_shdepend, LATERAL (SELECT refobjid AS x) v
        WHERE refclassid = 'pg_authid'::regclass AND ${missing}
        UNION ALL SELECT 'datacl of ' || datname FROM pg_database, aclexplode(datacl) a, LATERAL (SELECT a.grantee AS x) v WHERE a.grantee <> 0 AND ${missing}`);
    found.push(...shared.map(r => r.what));
    for (const { datname } of await cluster.superuser<{ datname: string }>("SELECT datname FROM pg_database WHERE datallowconn ORDER BY 1")) {
        const rows = await cluster.superuser<{ what: string }>(`
            SELECT 'nspacl of ' || nspname AS what FROM pg_namespace, aclexplode(nspacl) a, LATERAL (SELECT a.grantee AS x) v WHERE a.grantee <> 0 AND ${missing}
            UNION ALL SELECT 'relacl of ' || relname FROM pg_class, aclexplode(relacl) a, LATERAL (SELECT a.grantee AS x) v WHERE a.grantee <> 0 AND ${missing}
            UNION ALL SELECT 'pg_default_acl of ' || defaclrole::text FROM pg_default_acl, LATERAL (SELECT defaclrole AS x) v WHERE ${missing}
            UNION ALL SELECT 'defaclacl grantee ' || a.grantee::text FROM pg_default_acl, aclexplode(defaclacl) a, LATERAL (SELECT a.grantee AS x) v WHERE a.grantee <> 0 AND ${missing}`,
        [], datname);
        found.push(...rows.map(r => `${datname}: ${r.what}`));
    }
    return found;
}

async function rolesNamed(cluster: Cluster, names: string[]): Promise<string[]> {
    return (await cluster.superuser<{ rolname: string }>("SELECT rolname FROM pg_roles WHERE rolname = ANY($1) ORDER BY 1", [names])).map(r => r.rolname);
}

describe("app lifecycle on real PostgreSQL: re-label, removal", function () {
    this.timeout(60_000);
    let declaredBefore: DeclaredResource[];
    let declaredAfter: DeclaredResource[];

    // All majors' servers start at once (as isolation.pg.test.ts does); each describe awaits its own.
    const starting = new Map<Major, Promise<Cluster>>();
    before(async () => {
        for (const major of MAJORS) {
            const start = Cluster.start(major, ADMIN).then(([c]) => c);
            start.catch(() => undefined); // reported by the describe that awaits it
            starting.set(major, start);
        }
        declaredBefore = await declared(SHOP);
        declaredAfter = await declared({ ...SHOP, principalId: RECREATED });
    });

    for (const major of MAJORS) {
        describe(`PostgreSQL ${major as Major}`, () => {
            let cluster: Cluster;
            let session: ProviderSession;
            let set: Catalogs;
            let changes: Change[];
            let sentByChange: { sql: string; recordedOnly?: boolean }[];

            before(async function () {
                this.timeout(180_000); // the three majors' servers start at once on a shared machine
                cluster = await starting.get(major)!;
                session = new ProviderSession(cluster, ADMIN);
                await firstApply(session, declaredBefore);
                await cluster.setPassword(SHOP.migrator!.roleName);
                await cluster.setPassword(SHOP.roleName);
                await cluster.query(SHOP.migrator!.roleName, "CREATE TABLE items (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text); INSERT INTO items (name) VALUES ('kept')", [], "shop");
                set = await catalogs(cluster);
                const from = session.sent.length;
                changes = await changeApply(session, declaredBefore, declaredAfter);
                sentByChange = session.sent.slice(from);
            });

            after(async () => {
                await session?.close();
                await (await starting.get(major)?.catch(() => undefined))?.stop();
            });

            it("the provider re-labels a re-created identity as an update of the label alone, replacing nothing", () => {
                expect(changes).to.deep.equal([{ resource: "shop-postgres-entra-label", changed: ["label"], action: "update" }]);
            });

            it("the update sends one SECURITY LABEL with the new principal id on the same role, and no DROP", () => {
                const writes = sentByChange.filter(s => !/^\s*(SELECT|BEGIN|ROLLBACK|COMMIT)\b/i.test(s.sql));
                expect(writes.map(s => s.sql)).to.deep.equal([
                    `SECURITY LABEL  FOR "pgaadauth" ON role"id-dev-shop" IS '${entraServiceLabelText(RECREATED)}'`,
                ]);
            });

            it("after the re-label every role, owner, grant and default privilege is as before, and the app still uses the migration role's table", async () => {
                expect(await catalogs(cluster)).to.deep.equal(set);
                expect(await cluster.query(SHOP.roleName, "SELECT name FROM items", [], "shop")).to.deep.equal([{ name: "kept" }]);
            });

            it("the SQL executor re-labels the same role with the new principal id and, run again, changes no catalog", async () => {
                const statements = appDatabaseStatements({ ...SHOP, principalId: RECREATED });
                expect(statements.filter(s => s.resource === "entra-label").map(s => s.sql)).to.deep.equal([
                    `SECURITY LABEL FOR "pgaadauth" ON ROLE "id-dev-shop" IS '${entraServiceLabelText(RECREATED)}'`,
                ]);
                await runStatements(cluster, ADMIN, localStatements({ ...SHOP, principalId: RECREATED }));
                expect(await catalogs(cluster)).to.deep.equal(set);
            });

            describe("removing an app, keeping its data under a named role", () => {
                before(async () => {
                    await runStatements(cluster, ADMIN, removalStatements(SHOP, { dropDatabase: false, keeper: "shop_archive" }));
                });

                it("neither the app's role nor its migration role exists", async () => {
                    expect(await rolesNamed(cluster, [SHOP.roleName, SHOP.migrator!.roleName])).to.deep.equal([]);
                });

                it("the database, its schema and its tables belong to the keeper, and the data is there", async () => {
                    const [db] = await cluster.superuser("SELECT pg_get_userbyid(datdba) AS owner FROM pg_database WHERE datname = 'shop'");
                    expect(db).to.deep.equal({ owner: "shop_archive" });
                    const owners = await cluster.superuser(`SELECT DISTINCT pg_get_userbyid(c.relowner) AS owner FROM pg_class c
                        JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'shop'
                        UNION SELECT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = 'shop'`, [], "shop");
                    expect(owners).to.deep.equal([{ owner: "shop_archive" }]);
                    expect(await cluster.superuser("SELECT name FROM shop.items", [], "shop")).to.deep.equal([{ name: "kept" }]);
                });

                it("no grant, default privilege or dependency is left naming a removed role", async () => {
                    expect(await orphans(cluster)).to.deep.equal([]);
                    expect(await cluster.superuser("SELECT count(*)::int AS n FROM pg_default_acl", [], "shop")).to.deep.equal([{ n: 0 }]);
                });
            });

            describe("removing an app with its data", () => {
                before(async () => {
                    await runStatements(cluster, ADMIN, localStatements(LEDGER));
                    await cluster.setPassword(LEDGER.roleName);
                    await cluster.query(LEDGER.roleName, "CREATE TABLE entries (id int)", [], "ledger");
                    await cluster.disconnect("ledger");
                    await runStatements(cluster, ADMIN, removalStatements(LEDGER, { dropDatabase: true }));
                });

                it("the database and the role are gone", async () => {
                    expect(await cluster.superuser("SELECT datname FROM pg_database WHERE datname = 'ledger'")).to.deep.equal([]);
                    expect(await rolesNamed(cluster, [LEDGER.roleName])).to.deep.equal([]);
                });

                it("no grant, default privilege or dependency is left naming the removed role", async () => {
                    expect(await orphans(cluster)).to.deep.equal([]);
                });
            });
        });
    }
});
