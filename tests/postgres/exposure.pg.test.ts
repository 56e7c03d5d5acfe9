// Issue 15, "Network and database": what an app's role can still see and do outside its own database, measured on
// real PostgreSQL 16-18 with Azure's administrator model. On Azure the `postgres` database belongs to `azuresu`
// (Microsoft's superuser), so the customer's Entra administrator cannot take PUBLIC's default rights on it away;
// the catalogs are readable by every role. README, "Security → What an app role can see" documents the result.
import { expect } from "chai";
import { appDatabaseStatements } from "../../lib/postgresRoleSql";
import { Cluster, Major, MAJORS, SUPERUSER } from "./cluster";

const ADMIN = "ada@contoso.onmicrosoft.com";
const APPS = [
    { roleName: "id-dev-orders", databaseName: "orders", principalId: "6a1b8f0e-3c2d-4e5f-8a9b-0c1d2e3f4a5b" },
    { roleName: "id-dev-billing", databaseName: "billing", principalId: "7b2c9a1f-4d3e-4f6a-9b0c-1d2e3f4a5b6c" },
];
const [ORDERS, BILLING] = APPS;

async function withApps(major: Major): Promise<Cluster> {
    const [cluster] = await Cluster.start(major, ADMIN);
    try {
        const admin = await cluster.connect(ADMIN);
        try {
            for (const app of APPS) {
                for (const statement of appDatabaseStatements(app)) {
                    if (statement.resource !== "entra-label") { // needs Azure's pgaadauth
                        await admin.query(statement.sql);
                    }
                }
            }
        } finally {
            await admin.end();
        }
        for (const app of APPS) {
            await cluster.setPassword(app.roleName); // stands in for the Entra token
        }
        return cluster;
    } catch (err) {
        await cluster.stop();
        throw err;
    }
}

/** The SQLSTATE of running `sql` as `user` in `database`, or null when it succeeds. */
async function sqlState(cluster: Cluster, user: string, sql: string, database = "postgres"): Promise<string | null> {
    try {
        await cluster.query(user, sql, [], database);
        return null;
    } catch (err) {
        return (err as { code?: string }).code ?? String(err);
    }
}

for (const major of MAJORS) {
    describe(`what an app role can see and do outside its database, on real PostgreSQL ${major}`, function () {
        this.timeout(60_000);
        let cluster: Cluster;

        before(async () => { cluster = await withApps(major); });
        after(async () => { await cluster?.stop(); });

        it("the postgres database is not the administrator's: it belongs to Azure's superuser", async () => {
            const [row] = await cluster.superuser("SELECT pg_get_userbyid(datdba) AS owner FROM pg_database WHERE datname = 'postgres'");
            expect(row.owner).to.equal(SUPERUSER);
        });

        it("an app role can connect to the postgres database and make temporary tables there (PUBLIC's defaults)", async () => {
            expect(await sqlState(cluster, ORDERS.roleName, "CREATE TEMPORARY TABLE scratch (x int)")).to.equal(null);
        });

        it("an app role cannot create anything in the postgres database's public schema (PostgreSQL 15+ default)", async () => {
            expect(await sqlState(cluster, ORDERS.roleName, "CREATE TABLE public.squat (x int)")).to.equal("42501");
        });

        it("the administrator cannot take PUBLIC's rights on the postgres database away: only its owner can", async () => {
            const admin = await cluster.connect(ADMIN);
            const warnings: string[] = [];
            admin.on("notice", notice => warnings.push(notice.message ?? ""));
            try {
                await admin.query("REVOKE CONNECT, TEMPORARY ON DATABASE postgres FROM PUBLIC");
            } finally {
                await admin.end();
            }
            expect(warnings.join("\n")).to.match(/no privileges (could be|were) revoked/);
            const [row] = await cluster.superuser("SELECT has_database_privilege('public', 'postgres', 'CONNECT') AS connect");
            expect(row.connect).to.equal(true);
        });

        it("an app role reads every role's name and every database's name from the catalogs", async () => {
            const roles = await cluster.query<{ rolname: string }>(ORDERS.roleName, "SELECT rolname FROM pg_roles");
            const databases = await cluster.query<{ datname: string }>(ORDERS.roleName, "SELECT datname FROM pg_database");
            expect(roles.map(r => r.rolname)).to.include.members([BILLING.roleName, ADMIN]);
            expect(databases.map(d => d.datname)).to.include.members([BILLING.databaseName]);
        });

        it("an app role may read the security labels, so on Azure every identity's pgaadauth label (its object id) is visible", async () => {
            const [row] = await cluster.query<{ readable: boolean }>(ORDERS.roleName,
                "SELECT has_table_privilege('pg_catalog.pg_shseclabel', 'SELECT') AND has_table_privilege('pg_catalog.pg_seclabels', 'SELECT') AS readable");
            expect(row.readable).to.equal(true);
        });

        it("an app role sees other roles' sessions but not their query text", async () => {
            const other = await cluster.connect(BILLING.roleName, BILLING.databaseName);
            try {
                await other.query("SELECT 'billing-secret-marker' AS marker, pg_sleep(0)");
                const rows = await cluster.query<{ query: string | null }>(ORDERS.roleName,
                    "SELECT query FROM pg_stat_activity WHERE usename = $1", [BILLING.roleName]);
                expect(rows).to.have.length.at.least(1);
                expect(rows.every(r => r.query === null || r.query === "<insufficient privilege>")).to.equal(true);
            } finally {
                await other.end();
            }
        });

        it("an app role cannot read another app's tables even when it knows their names", async () => {
            await cluster.query(BILLING.roleName, "CREATE TABLE invoices (id int)", [], BILLING.databaseName);
            expect(await sqlState(cluster, ORDERS.roleName, "SELECT 1", BILLING.databaseName)).to.equal("42501");
        });
    });
}
