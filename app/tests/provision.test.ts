// The `provision` executor: what it refuses before connecting, and on a real PostgreSQL (scram-sha-256 everywhere)
// that it applies statements as an administrator shaped like Azure's (NOSUPERUSER, CREATEROLE, CREATEDB, member of
// azure_pg_admin) on a token from the credential double, that a second run changes nothing, and that two runs at
// once take turns on the advisory lock. tests/postgres/provisioner.pg.test.ts runs the program's own statements
// through runStatements on PostgreSQL 16, 17 and 18 and compares the catalogs with the provider's (D1).
import { expect } from "chai";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { EXIT_CODES } from "../src/check";
import { memoryLogger } from "../src/log";
import { parseStatements, PROVISION_LOCK, rerunPlan, runProvision, StatementsError, type ProvisionStatement } from "../src/provision";
import { RotatingCredential } from "./fakeCredential";
import { LocalPostgres } from "./localPostgres";

const ADMIN = "id-dev-provisioner";

/** The shape lib/postgresRoleSql.ts gives an app: role, membership for the admins, database, ACL, a schema in it. */
function appStatements(role: string, database: string): ProvisionStatement[] {
    return [
        { resource: "role", sql: `CREATE ROLE "${role}" WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE INHERIT NOREPLICATION NOBYPASSRLS CONNECTION LIMIT -1 VALID UNTIL 'infinity'` },
        { resource: "admins-member", sql: `GRANT "${role}" TO "azure_pg_admin"` },
        { resource: "database", sql: `CREATE DATABASE "${database}" OWNER "${role}" TEMPLATE template0 ENCODING 'UTF8'`, skipIf: `SELECT 1 FROM pg_catalog.pg_database WHERE datname = '${database}'` },
        { resource: "revoke-public", sql: `REVOKE ALL PRIVILEGES ON DATABASE "${database}" FROM PUBLIC` },
        { resource: "database-grant", sql: `GRANT CONNECT, CREATE, TEMPORARY ON DATABASE "${database}" TO "${role}"` },
        { resource: "schema", sql: `CREATE SCHEMA IF NOT EXISTS "reports" AUTHORIZATION "${role}"`, database },
    ];
}

describe("provision: what it refuses before connecting", () => {
    const refused = (sql: string) => expect(() => rerunPlan({ sql }), sql).to.throw(StatementsError);

    it("a CREATE of a role, database or schema is skipped when the catalog holds its name", () => {
        expect(rerunPlan({ sql: `CREATE ROLE "id-""odd""" WITH LOGIN` }).skip).to.deep.equal({
            sql: "SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = $1", params: ['id-"odd"'],
        });
        expect(rerunPlan({ sql: `CREATE DATABASE "orders" OWNER "x"` }).skip?.sql).to.match(/pg_database WHERE datname = \$1/);
        expect(rerunPlan({ sql: `CREATE SCHEMA "app" AUTHORIZATION "x"` }).skip?.sql).to.match(/pg_namespace WHERE nspname = \$1/);
    });

    it("a given skipIf is the guard, and GRANT, REVOKE, SECURITY LABEL, ALTER and IF [NOT] EXISTS run as they are", () => {
        expect(rerunPlan({ sql: `CREATE ROLE "a" LOGIN`, skipIf: "SELECT 1 FROM pg_roles WHERE rolname = 'a'" }).skip)
            .to.deep.equal({ sql: "SELECT 1 FROM pg_roles WHERE rolname = 'a'", params: [] });
        for (const sql of [`GRANT "a" TO "azure_pg_admin"`, `REVOKE ALL ON DATABASE "d" FROM PUBLIC`, `SECURITY LABEL FOR "pgaadauth" ON ROLE "a" IS 'aadauth,oid=1,type=service'`,
            `ALTER ROLE "a" WITH LOGIN`, `ALTER DEFAULT PRIVILEGES FOR ROLE "m" IN SCHEMA "s" GRANT SELECT ON TABLES TO "a"`,
            `CREATE SCHEMA IF NOT EXISTS "s"`, `DROP ROLE IF EXISTS "a"`]) {
            expect(rerunPlan({ sql }).skip, sql).to.equal(undefined);
        }
    });

    it("refuses statements that fail or change something when run twice", () => {
        refused("CREATE TABLE t (id int)");
        refused("INSERT INTO t VALUES (1)");
        refused(`ALTER ROLE "a" RENAME TO "b"`);
        refused("CREATE ROLE unquoted LOGIN");
    });

    it("refuses passwords, two statements in one entry and dollar-quoted bodies", () => {
        refused(`CREATE ROLE "a" LOGIN PASSWORD 'hunter2'`);
        refused(`ALTER ROLE "a" ENCRYPTED PASSWORD 'x'`);
        refused(`GRANT "a" TO "b"; DROP DATABASE "orders"`);
        refused("DO $$ BEGIN END $$");
        // A semicolon or the word inside a literal or an identifier is data, not a second statement or a password.
        expect(() => rerunPlan({ sql: `SECURITY LABEL FOR "pgaadauth" ON ROLE "a;password" IS 'x;y'` })).not.to.throw();
    });

    it("a file is refused whole when any entry is", () => {
        expect(() => parseStatements(JSON.stringify(["GRANT \"a\" TO \"b\"", "CREATE TABLE t (id int)"]))).to.throw(StatementsError, /entry 1/);
        expect(() => parseStatements("{}")).to.throw(StatementsError, /JSON list/);
        expect(() => parseStatements("[{\"sql\": 1}]")).to.throw(StatementsError, /entry 0/);
        expect(parseStatements(JSON.stringify([`GRANT "a" TO "b"`, { sql: `REVOKE ALL ON SCHEMA "s" FROM "a"`, database: "d" }])).map(p => p.statement))
            .to.deep.equal([{ sql: `GRANT "a" TO "b"`, database: undefined, skipIf: undefined, resource: undefined }, { sql: `REVOKE ALL ON SCHEMA "s" FROM "a"`, database: "d", skipIf: undefined, resource: undefined }]);
    });
});

describe("provision against a real PostgreSQL, as an Azure-shaped administrator on a token", function () {
    let pg: LocalPostgres;
    let dir: string;
    let credential: RotatingCredential;

    before(async () => {
        pg = await LocalPostgres.start();
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "provision-"));
        credential = new RotatingCredential();
        await pg.admin(`CREATE ROLE "azure_pg_admin" NOLOGIN`);
        // The token double's current token is the administrator's password: the server checks what Entra would sign.
        await pg.admin(`CREATE ROLE "${ADMIN}" LOGIN NOSUPERUSER INHERIT CREATEDB CREATEROLE PASSWORD '${credential.current}'`);
        await pg.admin(`GRANT "azure_pg_admin" TO "${ADMIN}"`);
    });

    after(async () => {
        await pg?.destroy();
        if (dir) {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    function file(name: string, statements: unknown): string {
        const p = path.join(dir, `${name}.json`);
        fs.writeFileSync(p, JSON.stringify(statements));
        return p;
    }

    const env = (statementsFile: string, extra: Record<string, string> = {}) => ({
        PGHOST: "127.0.0.1", PGPORT: String(pg.port), PGUSER: ADMIN, PGDATABASE: "postgres", PGSSLMODE: "disable",
        PROVISION_STATEMENTS_FILE: statementsFile, ...extra,
    });

    async function provision(statementsFile: string, extra: Record<string, string> = {}) {
        const log = memoryLogger();
        const code = await runProvision({ env: env(statementsFile, extra), log, credential, run: { lockPollMs: 20 } });
        return { code, log };
    }

    async function catalogs() {
        return {
            roles: await pg.admin(`SELECT rolname, rolsuper, rolinherit, rolcreaterole, rolcreatedb, rolcanlogin, rolconnlimit, rolvaliduntil::text
                FROM pg_roles ORDER BY rolname`),
            memberships: await pg.admin(`SELECT pg_get_userbyid(roleid) AS role, pg_get_userbyid(member) AS member, pg_get_userbyid(grantor) AS grantor,
                admin_option FROM pg_auth_members ORDER BY 1, 2, 3`),
            databases: await pg.admin("SELECT datname, pg_get_userbyid(datdba) AS owner, datacl::text FROM pg_database ORDER BY datname"),
        };
    }

    it("applies every statement, in the databases they name, and logs what it ran without the token", async () => {
        const { code, log } = await provision(file("orders", appStatements("id-dev-orders", "orders")));
        expect(code, JSON.stringify(log.lines)).to.equal(EXIT_CODES.ok);
        const [db] = await pg.admin<{ owner: string; datacl: string }>(`SELECT pg_get_userbyid(datdba) AS owner, datacl::text FROM pg_database WHERE datname = 'orders'`);
        expect(db.owner).to.equal("id-dev-orders");
        expect(db.datacl).to.not.match(/(^|[{,])=/, "PUBLIC holds nothing");
        expect(await pg.admin(`SELECT pg_get_userbyid(nspowner) AS owner FROM pg_namespace WHERE nspname = 'reports'`, [], "orders")).to.deep.equal([{ owner: "id-dev-orders" }]);
        expect(log.lines.filter(l => l.msg === "ran").map(l => l.resource)).to.deep.equal(["role", "admins-member", "database", "revoke-public", "database-grant", "schema"]);
        expect(log.lines.at(-1)).to.include({ msg: "provisioned", ran: 6, skipped: 0, user: ADMIN });
        expect(JSON.stringify(log.lines)).to.not.include(credential.current);
    });

    it("a second run skips what exists, re-applies the rest and leaves the catalogs as the first left them", async () => {
        const before = await catalogs();
        const { code, log } = await provision(file("orders", appStatements("id-dev-orders", "orders")));
        expect(code, JSON.stringify(log.lines)).to.equal(EXIT_CODES.ok);
        expect(log.lines.filter(l => l.msg === "skipped: already applied").map(l => l.resource)).to.deep.equal(["role", "database"]);
        expect(log.lines.at(-1)).to.include({ ran: 4, skipped: 2 });
        expect(await catalogs()).to.deep.equal(before);
    });

    it("waits while another provisioner holds the lock, and runs once it is released", async () => {
        const holder = await pg.adminClient();
        try {
            await holder.query("SELECT pg_advisory_lock($1, $2)", [...PROVISION_LOCK]);
            const running = provision(file("billing", appStatements("id-dev-billing", "billing")));
            await new Promise(resolve => setTimeout(resolve, 400));
            expect(await pg.admin("SELECT 1 FROM pg_roles WHERE rolname = 'id-dev-billing'"), "nothing ran under the other's lock").to.deep.equal([]);
            await holder.query("SELECT pg_advisory_unlock($1, $2)", [...PROVISION_LOCK]);
            const { code, log } = await running;
            expect(code, JSON.stringify(log.lines)).to.equal(EXIT_CODES.ok);
            expect(log.lines.map(l => l.msg)).to.include("waiting for another provisioner to finish");
            expect(log.lines.find(l => l.msg === "provisioned")!.lockWaitMs).to.be.greaterThan(300);
        } finally {
            await holder.end();
        }
    });

    it("two runs at once both succeed: one applies, the other finds everything applied", async () => {
        const f = file("shipping", appStatements("id-dev-shipping", "shipping"));
        const [a, b] = await Promise.all([provision(f), provision(f)]);
        expect([a.code, b.code], JSON.stringify([...a.log.lines, ...b.log.lines].filter(l => l.level === "error"))).to.deep.equal([0, 0]);
        const results = [a, b].map(r => r.log.lines.find(l => l.msg === "provisioned")!).map(l => ({ ran: l.ran, skipped: l.skipped })).sort((x, y) => Number(y.ran) - Number(x.ran));
        expect(results).to.deep.equal([{ ran: 6, skipped: 0 }, { ran: 4, skipped: 2 }]);
    });

    it("a failing statement exits non-zero with its SQLSTATE, after applying the ones before it", async () => {
        const { code, log } = await provision(file("failing", [
            `CREATE ROLE "id-dev-half" WITH LOGIN`,
            `GRANT CONNECT ON DATABASE "no-such-database" TO "id-dev-half"`,
            `GRANT "id-dev-half" TO "azure_pg_admin"`,
        ]));
        expect(code).to.not.equal(0);
        expect(log.lines.find(l => l.msg === "statement failed")).to.include({ index: 1, code: "3D000" });
        expect(await pg.admin("SELECT 1 AS one FROM pg_roles WHERE rolname = 'id-dev-half'")).to.deep.equal([{ one: 1 }]);
        expect(await pg.admin(`SELECT 1 FROM pg_auth_members WHERE member = 'azure_pg_admin'::regrole AND roleid = to_regrole('"id-dev-half"')`)).to.deep.equal([]);
    });

    it("a file with a statement it cannot re-run is refused before connecting: exit 2, nothing applied", async () => {
        const requests = credential.requests;
        const { code, log } = await provision(file("unsafe", [`CREATE ROLE "id-dev-unsafe" WITH LOGIN`, "CREATE TABLE t (id int)"]));
        expect(code).to.equal(EXIT_CODES.config);
        expect(log.lines[0]).to.include({ msg: "provision refused: nothing was run", step: "config" });
        expect(credential.requests, "no token was even asked for").to.equal(requests);
        expect(await pg.admin("SELECT 1 FROM pg_roles WHERE rolname = 'id-dev-unsafe'")).to.deep.equal([]);
    });

    it("refuses any sslmode but verify-full, and any password in the environment", async () => {
        const f = file("orders", appStatements("id-dev-orders", "orders"));
        expect((await provision(f, { PGHOST: "db.example.org", PGSSLMODE: "require" })).code).to.equal(EXIT_CODES.config);
        expect((await provision(f, { PGPASSWORD: "x" })).code).to.equal(EXIT_CODES.config);
    });

    it("a wrong token fails at authentication (exit 5), naming the role", async () => {
        const wrong = new RotatingCredential();
        wrong.rotate();
        const log = memoryLogger();
        const code = await runProvision({ env: env(file("orders", appStatements("id-dev-orders", "orders"))), log, credential: wrong });
        expect(code).to.equal(EXIT_CODES.authentication);
        expect(log.lines.at(-1)).to.include({ step: "authentication", code: "28P01" });
    });
});
