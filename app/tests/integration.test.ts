// Against a real PostgreSQL (scram-sha-256 everywhere): the app role's password is set to whatever token the
// credential double currently hands out, so the server accepts exactly the token the app presents.
import { spawnSync } from "child_process";
import * as path from "path";
import { expect } from "chai";
import { Client, Pool } from "pg";
import { EXIT_CODES, runCheck } from "../src/check";
import { createPool, failedStep } from "../src/db";
import { readDbEnv } from "../src/env";
import { createAppServer, drainAndStop } from "../src/http";
import { memoryLogger } from "../src/log";
import { migrate } from "../src/migrate";
import { EntraTokenCache } from "../src/tokens";
import { RotatingCredential } from "./fakeCredential";
import { LocalPostgres } from "./localPostgres";

const ROLE = "id-test-orders";
const DATABASE = "orders";

describe("against a real PostgreSQL", function () {
    let pg: LocalPostgres;
    let credential: RotatingCredential;
    const pools: Pool[] = [];

    const env = () => ({ PGHOST: "127.0.0.1", PGPORT: String(pg.port), PGUSER: ROLE, PGDATABASE: DATABASE, PGSSLMODE: "disable" });
    const setRolePassword = (token: string) => pg.admin(`ALTER ROLE "${ROLE}" PASSWORD '${token}'`);
    function pool(tokens: EntraTokenCache, max = 5): Pool {
        const p = createPool(readDbEnv(env()), tokens, { max, connectionTimeoutMillis: 5000 });
        p.on("error", () => undefined); // idle clients die when a test restarts the server
        pools.push(p);
        return p;
    }

    before(async () => {
        pg = await LocalPostgres.start();
        await pg.admin(`CREATE ROLE "${ROLE}" LOGIN PASSWORD 'token-1'`);
        await pg.admin(`CREATE DATABASE ${DATABASE} OWNER "${ROLE}"`);
        await pg.admin(`REVOKE ALL ON DATABASE ${DATABASE} FROM PUBLIC`);
    });

    beforeEach(async () => {
        credential = new RotatingCredential();
        await setRolePassword(credential.current);
    });

    afterEach(async () => {
        await Promise.all(pools.splice(0).map(p => p.end().catch(() => undefined)));
    });

    after(async () => {
        await pg?.destroy();
    });

    it("the server really checks passwords: a wrong one is refused", async () => {
        const client = new Client({ host: "127.0.0.1", port: pg.port, user: ROLE, database: DATABASE, password: "not-the-token" });
        let error: unknown;
        await client.connect().catch(e => { error = e; });
        expect((error as { code?: string }).code).to.equal("28P01");
        expect(failedStep(error)).to.equal("authentication");
    });

    it("a fresh connection authenticates with the current token", async () => {
        const p = pool(new EntraTokenCache(credential));
        const { rows } = await p.query("SELECT current_user AS role");
        expect(rows[0].role).to.equal(ROLE);
        expect(credential.requests).to.equal(1);
    });

    it("after a rotation, new connections use the new token while open ones keep working", async () => {
        let now = Date.now();
        credential = new RotatingCredential(60 * 60_000, () => now);
        const tokens = new EntraTokenCache(credential, { now: () => now });
        const p = pool(tokens, 5);
        const open = await p.connect();
        try {
            expect((await open.query("SELECT 1 AS ok")).rows[0].ok).to.equal(1);

            // Entra issues a new token and the old one stops being accepted for new logins.
            await setRolePassword(credential.rotate());
            now += 56 * 60_000; // the cached token is now inside its refresh margin
            await tokens.get(); // still valid: served at once, while the refresh runs in the background
            await tokens.settled();

            const fresh = await p.connect();
            try {
                expect((await fresh.query("SELECT current_user AS role")).rows[0].role).to.equal(ROLE);
            } finally {
                fresh.release();
            }
            expect(credential.requests, "one fetch per token, not per connection").to.equal(2);
            expect((await open.query("SELECT 2 AS ok")).rows[0].ok, "the connection opened with token-1 still works").to.equal(2);

            const withOldToken = new Client({ host: "127.0.0.1", port: pg.port, user: ROLE, database: DATABASE, password: "token-1" });
            let error: unknown;
            await withOldToken.connect().catch(e => { error = e; });
            expect((error as { code?: string }).code, "token-1 no longer opens connections").to.equal("28P01");
        } finally {
            open.release();
        }
    });

    it("a refused token yields a clear authentication error", async () => {
        credential.rotate(); // the credential now presents a token the server does not accept
        const p = pool(new EntraTokenCache(credential));
        let error: unknown;
        await p.query("SELECT 1").catch(e => { error = e; });
        expect(failedStep(error)).to.equal("authentication");
        expect((error as Error).message).to.contain(`password authentication failed for user "${ROLE}"`);
    });

    it("the migration is idempotent, also when replicas run it at the same time", async () => {
        const p = pool(new EntraTokenCache(credential), 5);
        await migrate(p);
        await Promise.all([migrate(p), migrate(p), migrate(p)]);
        const tables = await pg.admin<{ n: string }>("SELECT count(*) AS n FROM pg_tables WHERE tablename = 'items'", [], DATABASE);
        expect(tables[0].n).to.equal("1");
        const owner = await pg.admin<{ tableowner: string }>("SELECT tableowner FROM pg_tables WHERE tablename = 'items'", [], DATABASE);
        expect(owner[0].tableowner, "the app role owns what it creates").to.equal(ROLE);
    });

    describe("the HTTP service", () => {
        let server: ReturnType<typeof createAppServer>;
        let base: string;

        beforeEach(async () => {
            const p = pool(new EntraTokenCache(credential));
            await migrate(p);
            server = createAppServer({ pool: p, log: memoryLogger(), readyTimeoutMs: 1000 });
            await new Promise<void>(resolve => server.listen(0, "127.0.0.1", resolve));
            base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
        });

        afterEach(async () => {
            server.closeAllConnections();
            await new Promise(resolve => server.close(resolve));
        });

        async function call(method: string, route: string, body?: unknown): Promise<{ status: number; json: any }> {
            const res = await fetch(`${base}${route}`, {
                method, body: body === undefined ? undefined : JSON.stringify(body),
                headers: body === undefined ? undefined : { "content-type": "application/json" },
            });
            return { status: res.status, json: await res.json() };
        }

        it("/healthz/live answers without touching the database", async () => {
            expect(await call("GET", "/healthz/live")).to.deep.equal({ status: 200, json: { status: "ok" } });
        });

        it("/healthz/ready flips with the database", async () => {
            expect((await call("GET", "/healthz/ready")).status).to.equal(200);
            pg.stopServer();
            try {
                const down = await call("GET", "/healthz/ready");
                expect(down.status).to.equal(503);
                expect(down.json.step).to.equal("TCP");
            } finally {
                pg.startServer();
            }
            expect((await call("GET", "/healthz/ready")).status).to.equal(200);
        });

        it("/healthz/ready fails while draining", async () => {
            server.draining = true;
            expect((await call("GET", "/healthz/ready")).status).to.equal(503);
        });

        it("/whoami returns the role the token mapped to", async () => {
            expect((await call("GET", "/whoami")).json).to.deep.equal({ role: ROLE, database: DATABASE });
        });

        it("POST /items writes a row as the app's role and GET /items reads it back", async () => {
            const created = await call("POST", "/items", { name: "first order" });
            expect(created.status).to.equal(201);
            expect(created.json).to.include({ name: "first order", created_by: ROLE });
            const list = await call("GET", "/items");
            expect(list.json.map((i: { id: string }) => i.id)).to.include(created.json.id);
        });

        it("POST /items rejects a body without a valid name", async () => {
            expect((await call("POST", "/items", { name: "" })).status).to.equal(400);
        });

        it("a graceful stop finishes the request in flight, then refuses new ones and closes the pool", async () => {
            const p = createPool(readDbEnv(env()), new EntraTokenCache(credential));
            pools.push(p);
            const stopping = createAppServer({ pool: p, log: memoryLogger() });
            await new Promise<void>(resolve => stopping.listen(0, "127.0.0.1", resolve));
            const url = `http://127.0.0.1:${(stopping.address() as { port: number }).port}`;
            await fetch(`${url}/whoami`); // opens a pooled connection
            expect(p.totalCount).to.equal(1);
            const inFlight = fetch(`${url}/whoami`, { headers: { connection: "close" } });
            await new Promise(resolve => setTimeout(resolve, 5));
            await drainAndStop(stopping, p);
            expect((await inFlight).status).to.equal(200);
            expect(p.totalCount, "every database connection closed").to.equal(0);
            let refused: unknown;
            await fetch(`${url}/healthz/live`).catch(e => { refused = e; });
            expect(refused, "no new connections after the stop").to.be.instanceOf(Error);
        });

        it("a graceful stop is bounded: a request stuck past the drain bound is cut, and the stop still completes", async () => {
            const p = createPool(readDbEnv(env()), new EntraTokenCache(credential));
            pools.push(p);
            await migrate(p);
            const stopping = createAppServer({ pool: p, log: memoryLogger() });
            await new Promise<void>(resolve => stopping.listen(0, "127.0.0.1", resolve));
            const url = `http://127.0.0.1:${(stopping.address() as { port: number }).port}`;
            const locker = await pg.adminClient(DATABASE);
            try {
                await locker.query("BEGIN");
                await locker.query("LOCK TABLE items IN ACCESS EXCLUSIVE MODE");
                const stuck = fetch(`${url}/items`).then(r => r.status, () => "cut");
                await new Promise(resolve => setTimeout(resolve, 100));
                const started = Date.now();
                const { forced } = await drainAndStop(stopping, p, { drainTimeoutMs: 300, poolCloseTimeoutMs: 300 });
                expect(forced).to.equal(true);
                expect(Date.now() - started).to.be.below(1_500);
                expect(await stuck).to.equal("cut");
            } finally {
                await locker.query("ROLLBACK").catch(() => undefined);
                await locker.end();
            }
        });

        it("an unknown route is a 404", async () => {
            expect((await call("GET", "/nope")).status).to.equal(404);
        });
    });

    describe("check", () => {
        const fast = { initialRetryDelayMs: 10, maxRetryDelayMs: 20, tokenRetryMs: 200, connectRetryMs: 200 };

        it("exits 0 when token, connection, identity, insert and read-back all work", async () => {
            const log = memoryLogger();
            expect(await runCheck({ env: env(), credential, log, ...fast })).to.equal(0);
            expect(log.lines.find(l => l.msg === "connected")).to.include({ role: ROLE, database: DATABASE });
            expect(log.lines.at(-1)).to.include({ msg: "check passed", role: ROLE });
        });

        it("retries the token exchange while a new federated credential propagates", async () => {
            credential.failNext = { times: 2, error: new Error("AADSTS70021: No matching federated identity record found for presented assertion.") };
            const log = memoryLogger();
            expect(await runCheck({ env: env(), credential, log, ...fast })).to.equal(0);
            expect(log.lines.filter(l => l.msg === "token exchange failed, retrying")).to.have.length(2);
        });

        it("gives up on the token exchange after the bounded time, naming the step", async () => {
            credential.failNext = { times: 1_000, error: new Error("AADSTS700213: No matching federated identity record found for presented assertion subject") };
            const log = memoryLogger();
            const started = Date.now();
            expect(await runCheck({ env: env(), credential, log, ...fast })).to.equal(EXIT_CODES["token exchange"]);
            expect(Date.now() - started).to.be.below(2000);
            expect(log.lines.at(-1)).to.include({ msg: "check failed at step: token exchange" });
            expect(String(log.lines.at(-1)!.error)).to.contain("AADSTS700213");
        });

        it("exits with the authentication code when the server refuses the token", async () => {
            credential.rotate();
            const log = memoryLogger();
            expect(await runCheck({ env: env(), credential, log, ...fast })).to.equal(EXIT_CODES.authentication);
            expect(log.lines.at(-1)).to.include({ step: "authentication" });
        });

        it("exits with the TCP code when nothing listens", async () => {
            const log = memoryLogger();
            const closed = { ...env(), PGPORT: "1" };
            expect(await runCheck({ env: closed, credential, log, ...fast })).to.equal(EXIT_CODES.TCP);
            expect(log.lines.at(-1)).to.include({ step: "TCP" });
        });

        it("exits with the permission code when the role may not use the database", async () => {
            await pg.admin(`CREATE DATABASE other_app`);
            await pg.admin(`REVOKE ALL ON DATABASE other_app FROM PUBLIC`);
            const log = memoryLogger();
            expect(await runCheck({ env: { ...env(), PGDATABASE: "other_app" }, credential, log, ...fast })).to.equal(EXIT_CODES.permission);
            expect(log.lines.at(-1)).to.include({ step: "permission" });
        });

        it("the built entrypoint (what the image runs) exits 2 and names what is missing without PG* environment", () => {
            const result = spawnSync(process.execPath, [path.join(__dirname, "..", "dist", "main.js"), "check"], {
                env: { PATH: process.env.PATH },
                encoding: "utf8",
            });
            expect(result.status).to.equal(2);
            expect(result.stdout).to.contain("missing environment: PGHOST, PGUSER, PGDATABASE");
        });
    });

    it("token fetches do not grow with connections or queries", async () => {
        const tokens = new EntraTokenCache(credential);
        let connections = 0;
        const N = 40;
        for (let round = 0; round < N / 10; round++) {
            const p = createPool(readDbEnv(env()), tokens, { max: 10 });
            p.on("connect", () => connections++);
            await Promise.all(Array.from({ length: 50 }, (_, i) => p.query("SELECT $1::int AS i, pg_sleep(0.01)", [i])));
            await p.end();
        }
        expect(connections).to.equal(N);
        expect(credential.requests).to.equal(1);
        // The number the README quotes.
        console.log(`      token fetches: ${credential.requests} for ${connections} connections and ${N * 5} queries`);
    });
});
