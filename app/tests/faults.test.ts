// The built app as a black box under faults: `node dist/main.js serve|check` against a real PostgreSQL
// (scram-sha-256) and a local Entra token endpoint that fails, slows down and rotates tokens (fault/fakeEntra.ts).
// The app's role password is always the token Entra last handed out, so the server accepts exactly what a real
// Azure server would. Connections are counted from the kernel's socket table, not from pg_stat_activity.
// Every loop here is bounded in count and time; every address is loopback.
import { spawn, type ChildProcess } from "child_process";
import * as http from "http";
import * as net from "net";
import { expect } from "chai";
import { Client } from "pg";
import { AppProcess, ensureBuilt, request, sleep, type HttpResult } from "./fault/appProcess";
import { FakeEntra } from "./fault/fakeEntra";
import { LocalPostgres } from "./localPostgres";

const ROLE = "id-fault-orders";
const DATABASE = "orders";
const POOL_MAX = 10;

describe("the built app under faults (dist/main.js, real PostgreSQL, a local Entra)", function () {
    this.timeout(60_000);
    let pg: LocalPostgres;
    let entra: FakeEntra;
    let rolePassword = "";
    const apps: AppProcess[] = [];
    const extraEntras: FakeEntra[] = [];

    const dbEnv = (overrides: Record<string, string> = {}) => ({
        PGHOST: "127.0.0.1", PGPORT: String(pg.port), PGUSER: ROLE, PGDATABASE: DATABASE, PGSSLMODE: "disable", ...overrides,
    });
    async function setRolePassword(token: string): Promise<void> {
        if (token !== rolePassword) {
            await pg.admin(`ALTER ROLE "${ROLE}" PASSWORD '${token}'`);
            rolePassword = token;
        }
    }
    async function start(command: "serve" | "check", env: Record<string, string>, idp: FakeEntra = entra): Promise<AppProcess> {
        const app = await AppProcess.start(command, { ...idp.env(), ...env });
        apps.push(app);
        return app;
    }
    async function serve(idp: FakeEntra = entra): Promise<AppProcess> {
        const app = await start("serve", dbEnv(), idp);
        await app.listening();
        return app;
    }
    /** Closes this app's connections from the server side, so its next query needs a new one. */
    const terminateAppConnections = (app: AppProcess) => pg.admin(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1 AND client_port = ANY($2::int[])`,
        [ROLE, app.pgConnections(pg.port).map(c => c.localPort)]);
    const lastLine = (app: AppProcess) => app.lines.filter(l => l.level === "error").at(-1) ?? app.lines.at(-1)!;

    before(async function () {
        this.timeout(120_000);
        ensureBuilt();
        pg = await LocalPostgres.start();
        entra = await FakeEntra.start();
        entra.beforeIssue = setRolePassword;
        await pg.admin(`CREATE ROLE "${ROLE}" LOGIN PASSWORD '${entra.current}'`);
        rolePassword = entra.current;
        await pg.admin(`CREATE DATABASE ${DATABASE} OWNER "${ROLE}"`);
        await pg.admin(`REVOKE ALL ON DATABASE ${DATABASE} FROM PUBLIC`);
    });

    afterEach(async () => {
        await Promise.all(apps.splice(0).map(a => a.kill()));
        entra.mode = { kind: "ok" };
        entra.expiresInSeconds = 3600;
        entra.refreshInSeconds = undefined;
        await setRolePassword(entra.current);
    });

    after(async () => {
        await Promise.all(apps.splice(0).map(a => a.kill()));
        await Promise.all(extraEntras.map(e => e.stop()));
        await entra?.stop();
        await pg?.destroy();
        // Nothing the app did reached beyond loopback: the proxy refused no other host.
        expect(entra?.refusedConnects ?? []).to.deep.equal([]);
    });

    /** Runs `workers` loops of `GET route` until `ms` have passed; returns every result. */
    async function load(app: AppProcess, workers: number, ms: number, route = "/whoami"): Promise<HttpResult[]> {
        const until = Date.now() + ms;
        const results: HttpResult[] = [];
        await Promise.all(Array.from({ length: workers }, async () => {
            for (let i = 0; i < 100_000 && Date.now() < until; i++) {
                results.push(await request(app.base, "GET", route, { timeoutMs: 15_000 }));
            }
        }));
        return results;
    }

    it("1. while the token endpoint answers 500, no socket is opened without a valid token and never more than the pool's max", async () => {
        entra.expiresInSeconds = 2; // short-lived tokens, so the app has none left within the window
        const app = await serve();
        const initial = app.pgSockets(pg.port);
        entra.mode = { kind: "fail", status: 500 }; // no Retry-After: MSAL then throttles the scope for 60 s
        await sleep(100); // a token request answered just before the switch has recorded its status
        const lastIssued = Math.max(...entra.tokenRequests.filter(r => r.status === 200).map(r => r.at));
        const tokenGoneAt = lastIssued + entra.expiresInSeconds * 1000;

        let peak = initial.size;
        const openedWithoutToken = new Set<string>();
        const known = new Set(initial);
        const sample = () => {
            const now = Date.now();
            const open = app.pgSockets(pg.port);
            peak = Math.max(peak, open.size);
            for (const inode of open) {
                if (!known.has(inode)) {
                    known.add(inode);
                    if (now > tokenGoneAt + 100) {
                        openedWithoutToken.add(inode);
                    }
                }
            }
        };
        const sampler = setInterval(sample, 10);
        const results = await load(app, 30, 8_000);
        clearInterval(sampler);
        sample();
        const failed = results.filter(r => r.status !== 200);
        console.log(`      peak TCP connections to PostgreSQL: ${peak} (pool max ${POOL_MAX}); opened with no valid token: ${openedWithoutToken.size}; `
            + `requests ${results.length}, failed ${failed.length}; token requests ${entra.tokenRequests.length}`);
        expect(peak, "TCP connections to PostgreSQL").to.be.at.most(POOL_MAX);
        expect(openedWithoutToken.size, "sockets opened while no valid token existed").to.equal(0);
        const steps = new Set(failed.map(r => r.json?.step));
        expect([...steps], "failed requests name the token step").to.deep.equal(failed.length > 0 ? ["token exchange"] : []);
    });

    it("2. a failed refresh while the token is still valid fails no query; the app retries in the background and adopts the next token", async () => {
        // 290 s is inside a 5-minute refresh margin; refresh_in asks for a refresh after 1 s.
        entra.expiresInSeconds = 290;
        entra.refreshInSeconds = 1;
        const app = await serve();
        const failStarted = Date.now();
        entra.mode = { kind: "fail", status: 500, retryAfterSeconds: 1 };
        // Ten concurrent workers grow the pool from one connection to ten: every new one needs the token.
        const results = await load(app, POOL_MAX, 4_000);
        const failed = results.filter(r => r.status !== 200);
        // The background refresh fails (after the SDK's own retries) and is rescheduled with backoff.
        const retried = await app.waitFor(l => l.msg === "token refresh failed, retrying", 10_000).catch(() => undefined);
        const attempts = entra.requestsSince(failStarted, 500).length;

        console.log(`      failed queries across the refresh failure: ${failed.length} of ${results.length}; `
            + `token requests while failing: ${attempts} in ${Date.now() - failStarted} ms`);
        expect(failed.map(r => `${r.status} ${r.json?.step ?? r.error}`), "failed requests").to.deep.equal([]);
        expect(retried, "a failed background refresh is logged with its retry delay").to.include({ level: "warn" });
        expect(retried!.retryInMs).to.be.a("number").within(500, 1_000);
        expect(retried!.tokenValidForMs, "the token still valid while the refresh fails").to.be.greaterThan(200_000);

        // Entra recovers with a new token; the role now accepts only that one for new connections.
        entra.rotate();
        entra.mode = { kind: "ok" };
        const recovered = Date.now();
        for (let i = 0; i < 100 && entra.requestsSince(recovered, 200).length === 0; i++) {
            await sleep(100);
        }
        expect(entra.requestsSince(recovered, 200), "the app refreshed after Entra recovered").to.have.length.greaterThan(0);
        await sleep(200);
        await sleep(100);
        await terminateAppConnections(app);
        const afterRotation = await request(app.base, "GET", "/whoami");

        expect(afterRotation.status, "new connections use the refreshed token").to.equal(200);
    });

    describe("3. each step has its own timeout and the error names it", () => {
        const outcomes: Record<string, { result?: HttpResult; app?: AppProcess; code?: number | null; ms?: number }> = {};
        const silent: net.Server[] = [];
        let backlogHolder: ChildProcess | undefined;
        let backlogFill: net.Socket | undefined;
        let locker: Client | undefined;

        async function silentServer(): Promise<number> {
            const server = net.createServer(() => undefined); // accepts, never says a word
            silent.push(server);
            await new Promise<void>(resolve => server.listen(0, "127.0.0.1", resolve));
            return (server.address() as net.AddressInfo).port;
        }

        /** A port whose accept queue is full: the kernel drops new SYNs, so connecting hangs at the TCP step. */
        async function fullBacklogPort(): Promise<number> {
            backlogHolder = spawn("python3", ["-c",
                "import socket,sys,time\ns=socket.socket()\ns.bind(('127.0.0.1',0))\ns.listen(0)\nprint(s.getsockname()[1],flush=True)\ntime.sleep(60)"],
            { stdio: ["ignore", "pipe", "inherit"] });
            const port = await new Promise<number>((resolve, reject) => {
                backlogHolder!.stdout!.once("data", d => resolve(Number(String(d).trim())));
                backlogHolder!.once("error", reject);
            });
            backlogFill = net.connect(port, "127.0.0.1");
            await new Promise<void>(resolve => backlogFill!.once("connect", () => resolve()));
            return port;
        }

        async function timedCheck(name: string, env: Record<string, string>): Promise<void> {
            const app = await start("check", env);
            const code = await app.exitCode(40_000);
            outcomes[name] = { app, code };
        }

        before(async function () {
            this.timeout(60_000);
            // All five faults run at once, each against its own app process.
            const slowEntra = await FakeEntra.start();
            extraEntras.push(slowEntra);
            slowEntra.beforeIssue = setRolePassword;
            while (slowEntra.current !== entra.current) {
                slowEntra.rotate();
            }
            const [tlsPort, authPort, tcpPort] = await Promise.all([silentServer(), silentServer(), fullBacklogPort()]);
            await Promise.all([
                (async () => {
                    slowEntra.expiresInSeconds = 2;
                    const app = await serve(slowEntra);
                    slowEntra.mode = { kind: "slow", delayMs: 20_000 };
                    await sleep(2_300); // the token has expired; the refresh hangs
                    await terminateAppConnections(app);
                    await sleep(100);
                    const started = Date.now();
                    const result = await request(app.base, "GET", "/whoami", { timeoutMs: 16_000 });
                    outcomes.token = { app, result, ms: Date.now() - started };
                })(),
                (async () => {
                    const app = await serve();
                    locker = await pg.adminClient(DATABASE);
                    await locker.query("BEGIN");
                    await locker.query("LOCK TABLE items IN ACCESS EXCLUSIVE MODE");
                    const started = Date.now();
                    const result = await request(app.base, "GET", "/items", { timeoutMs: 12_000 });
                    outcomes.query = { app, result, ms: Date.now() - started };
                    await locker.query("ROLLBACK");
                })(),
                timedCheck("TCP", dbEnv({ PGPORT: String(tcpPort) })),
                timedCheck("TLS", dbEnv({ PGPORT: String(tlsPort), PGSSLMODE: "require" })),
                timedCheck("authentication", dbEnv({ PGPORT: String(authPort) })),
            ]);
        });

        after(async () => {
            await Promise.all(extraEntras.splice(0).map(e => e.stop()));
            await locker?.end().catch(() => undefined);
            backlogFill?.destroy();
            backlogHolder?.kill("SIGKILL");
            for (const server of silent) {
                server.close();
            }
        });

        it("a token endpoint that hangs is reported as the token step, within the token timeout", () => {
            const { result, ms, app } = outcomes.token;
            console.log(`      token step: ${result!.status} ${JSON.stringify(result!.json ?? result!.error)} after ${ms} ms`);
            expect(result!.json?.step, app!.describe()).to.equal("token exchange");
            expect(result!.status).to.equal(503);
            expect(ms).to.be.within(9_000, 11_500);
        });

        it("a query that cannot finish is cut off and reported as the query step", () => {
            const { result, ms } = outcomes.query;
            console.log(`      query step: ${result!.status} ${JSON.stringify(result!.json ?? result!.error)} after ${ms} ms`);
            expect(result!.json?.step).to.equal("query");
            expect(result!.status).to.equal(503);
            expect(ms).to.be.within(4_500, 7_000);
        });

        for (const [step, exitCode] of [["TCP", 4], ["TLS", 4], ["authentication", 5]] as const) {
            it(`a server that stalls the ${step} step: check exits ${exitCode} naming ${step}, within that step's timeout`, () => {
                const { app, code } = outcomes[step];
                const line = lastLine(app!);
                // From the token in hand to the verdict: the connect steps alone (process start-up is not the app's).
                const tokenAt = Date.parse(String(app!.lines.find(l => l.msg === "token exchange ok")?.time));
                const stepMs = Date.parse(String(line.time)) - tokenAt;
                console.log(`      ${step} step: exit ${code} ${JSON.stringify({ step: line.step, error: line.error })} ${stepMs} ms after the token`);
                expect(line.step, app!.describe()).to.equal(step);
                expect(code).to.equal(exitCode);
                expect(stepMs).to.be.within(4_500, 7_000);
            });
        }
    });

    it("4. SIGTERM: in-flight requests finish, keep-alive connections serve nothing new, the process exits promptly", async () => {
        const app = await serve();
        const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
        let signalledAt = 0;
        const after: { sentAt: number; status: number }[] = [];
        const pending = new Set<Promise<HttpResult>>();
        let inFlightAtSignal: Promise<HttpResult>[] = [];
        const stopAt = { t: Date.now() + 20_000 };
        const locker = await pg.adminClient(DATABASE);
        try {
            const workers = Array.from({ length: 8 }, async () => {
                for (let i = 0; i < 100_000 && Date.now() < stopAt.t; i++) {
                    const sentAt = Date.now();
                    const sent = request(app.base, "GET", "/items", { agent, timeoutMs: 15_000 });
                    pending.add(sent);
                    const r = await sent;
                    pending.delete(sent);
                    if (signalledAt && sentAt > signalledAt) {
                        after.push({ sentAt, status: r.status });
                    }
                    if (r.status === 0) {
                        await sleep(5); // refused: the server stopped listening
                    }
                }
            });
            await sleep(500);
            // Hold the rows, so eight requests are in flight when the signal arrives.
            await locker.query("BEGIN");
            await locker.query("LOCK TABLE items IN ACCESS EXCLUSIVE MODE");
            await sleep(300);
            signalledAt = Date.now();
            inFlightAtSignal = [...pending];
            app.signal("SIGTERM");
            await sleep(500);
            await locker.query("ROLLBACK");
            stopAt.t = Math.min(stopAt.t, Date.now() + 4_000); // clients keep trying for 4 s more
            const exit = await app.exitWithin(15_000);
            stopAt.t = 0;
            await Promise.all(workers);
            const inFlight = await Promise.all(inFlightAtSignal);
            const exitMs = exit ? exit.at - signalledAt : undefined;
            const servedAfter = after.filter(r => r.status === 200).length;
            console.log(`      exit after SIGTERM with ${inFlight.length} requests in flight: ${exitMs === undefined ? "> 15000" : exitMs} ms; `
                + `requests sent after the signal and served: ${servedAfter}`);
            expect(inFlight.map(r => r.status), "the requests in flight at the signal").to.satisfy((s: number[]) => s.length > 0 && s.every(x => x === 200));
            expect(exit, "the process exited").to.not.equal(undefined);
            expect(exit!.code).to.equal(0);
            expect(exitMs!).to.be.below(2_500);
            expect(servedAfter, "requests sent after the signal on kept-alive connections").to.be.at.most(8);
        } finally {
            agent.destroy();
            await locker.end().catch(() => undefined);
        }
    });

    describe("5. errors that retrying cannot fix fail fast and are named right; the rest are retried", () => {
        it("a missing database is named as such (not a permission problem), without retries", async () => {
            const started = Date.now();
            const app = await start("check", dbEnv({ PGDATABASE: "no_such_db" }));
            const code = await app.exitCode();
            const line = lastLine(app);
            console.log(`      3D000: exit ${code} step ${line.step} after ${Date.now() - started} ms`);
            expect(line.step, app.describe()).to.equal("database");
            expect(code).to.equal(8);
            expect(String(line.error)).to.match(/database "no_such_db" does not exist/);
            expect(String(line.fix)).to.match(/PGDATABASE/);
            // "Without retries" checked directly (a retry logs "connect failed, retrying"), not by a wall-clock bound that
            // a loaded 2-core machine running four suites at once can miss; the bound stays as a backstop.
            expect(app.lines.filter(l => l.msg === "connect failed, retrying"), app.describe()).to.deep.equal([]);
            expect(Date.now() - started).to.be.below(15_000);
        });

        it("a role without CONNECT on the database is a permission problem, with the GRANT that fixes it", async () => {
            await pg.admin(`CREATE DATABASE no_connect`);
            await pg.admin(`REVOKE ALL ON DATABASE no_connect FROM PUBLIC`);
            const app = await start("check", dbEnv({ PGDATABASE: "no_connect" }));
            const code = await app.exitCode();
            const line = lastLine(app);
            expect(line.step, app.describe()).to.equal("permission");
            expect(line.code).to.equal("42501");
            expect(code).to.equal(6);
            expect(String(line.fix)).to.contain(`GRANT CONNECT ON DATABASE "no_connect" TO "${ROLE}"`);
        });

        it("a refused token (28P01) names both causes — no such role, or a role bound to another principal — and both fixes", async () => {
            await setRolePassword("a-token-for-someone-else");
            entra.beforeIssue = async () => undefined; // Entra issues a token the server does not map to this role
            const started = Date.now();
            const app = await start("check", dbEnv());
            let code: number | null;
            try {
                code = await app.exitCode();
            } finally {
                entra.beforeIssue = setRolePassword;
            }
            const line = lastLine(app);
            expect(line.step, app.describe()).to.equal("authentication");
            expect(code).to.equal(5);
            expect(line.code).to.equal("28P01");
            expect(String(line.fix)).to.match(/no role named "id-fault-orders"/).and.match(/another principal/).and.match(/pgaadauth_create_principal/);
            expect(Date.now() - started).to.be.below(5_000);
        });

        it("a server that is restarting is retried until it is back", async () => {
            pg.stopServer();
            let app: AppProcess;
            try {
                app = await start("check", dbEnv());
                await app.waitFor(l => l.msg === "connect failed, retrying", 20_000);
            } finally {
                pg.startServer();
            }
            const code = await app!.exitCode(30_000);
            expect(code, app!.describe()).to.equal(0);
            expect(app!.lines.some(l => l.msg === "connect failed, retrying" && (l.step === "TCP" || l.code === "57P03"))).to.equal(true);
        });
    });

    describe("6. bad input is a 4xx with a clear message", () => {
        let app: AppProcess;
        before(async () => {
            app = await serve();
            apps.splice(apps.indexOf(app), 1); // lives for the whole group, not one test
        });
        after(async () => {
            await app.kill();
        });
        const post = (body: string | Buffer) => request(app.base, "POST", "/items", { body });

        it("a NUL character in a field is a 400 naming it", async () => {
            const r = await post(JSON.stringify({ name: "a\u0000b" }));
            expect(r.status, r.body).to.equal(400);
            expect(r.json.error).to.match(/NUL/);
        });

        it("a body that is not valid UTF-8 is a 400", async () => {
            const r = await post(Buffer.concat([Buffer.from('{"name":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]));
            expect(r.status, r.body).to.equal(400);
            expect(r.json.error).to.match(/UTF-8/);
        });

        it("a lone surrogate (not a Unicode character) is a 400", async () => {
            const r = await post('{"name":"a\\ud800b"}');
            expect(r.status, r.body).to.equal(400);
        });

        it("lengths count code points, as PostgreSQL's char_length does: 200 emoji fit, 201 do not", async () => {
            const ok = await post(JSON.stringify({ name: "😀".repeat(200) }));
            expect(ok.status, ok.body).to.equal(201);
            const rows = await pg.admin<{ n: number }>("SELECT char_length(name) AS n FROM items WHERE id = $1", [ok.json.id], DATABASE);
            expect(rows[0].n).to.equal(200);
            const tooLong = await post(JSON.stringify({ name: "😀".repeat(201) }));
            expect(tooLong.status).to.equal(400);
            expect(tooLong.json.error).to.match(/200 characters/);
        });

        it("a wrong method on a known path is a 405 with an Allow header", async () => {
            const items = await request(app.base, "DELETE", "/items");
            expect(items.status).to.equal(405);
            expect(items.headers.allow).to.equal("GET, POST");
            const live = await request(app.base, "POST", "/healthz/live", { body: "{}" });
            expect(live.status).to.equal(405);
            expect(live.headers.allow).to.equal("GET");
        });

        it("an unknown path is still a 404", async () => {
            expect((await request(app.base, "GET", "/nope")).status).to.equal(404);
        });
    });
});
