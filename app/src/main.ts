// Entry point: `node dist/main.js serve` (the service), `node dist/main.js check` (the one-shot check) or
// `node dist/main.js provision` (the in-cluster executor of the program's roles, databases and grants).
import { runCheck } from "./check";
import { appCredential } from "./credential";
import { createPool, diagnose } from "./db";
import { EnvError, readDbEnv } from "./env";
import { createAppServer, drainAndStop } from "./http";
import { jsonLogger } from "./log";
import { migrate } from "./migrate";
import { runProvision } from "./provision";
import { SHUTDOWN_BOUND_MS } from "./timeouts";
import { EntraTokenCache } from "./tokens";

const log = jsonLogger();
const sleep = (ms: number) => new Promise<void>(resolve => setTimeout(resolve, ms));

/** How long startup keeps retrying a database that is not reachable yet (the startup probe allows 60 s). */
const STARTUP_RETRY_MS = 45_000;

async function serve(): Promise<void> {
    const env = readDbEnv(process.env);
    const tokens = new EntraTokenCache(appCredential(process.env), {
        onRefreshFailed: ({ error, attempt, retryInMs, validForMs }) => log.log(validForMs > 0 ? "warn" : "error", "token refresh failed, retrying",
            { attempt, retryInMs, tokenValidForMs: validForMs, error: error instanceof Error ? error.message : String(error) }),
    });
    const pool = createPool(env, tokens);
    pool.on("error", error => log.log("warn", "idle connection failed", { error: error.message }));

    // Migrate, retrying only what can pass by itself (network, server restarting); anything else exits, named.
    const who = { user: env.user, database: env.database };
    const deadline = Date.now() + STARTUP_RETRY_MS;
    for (let attempt = 1, delay = 500; ; attempt++, delay = Math.min(delay * 2, 5_000)) {
        try {
            await migrate(pool);
            break;
        } catch (error) {
            const d = diagnose(error, who);
            if (!d.retriable || Date.now() + delay > deadline) {
                throw error;
            }
            log.log("warn", "startup: database not reachable yet, retrying", { attempt, step: d.step, code: d.code, retryInMs: delay, error: d.message });
            await sleep(delay);
        }
    }

    const server = createAppServer({ pool, log });
    const port = Number(process.env.PORT ?? "8080");
    server.listen(port, () => log.log("info", "listening", { port, host: env.host, user: env.user, database: env.database }));

    const stop = (signal: NodeJS.Signals) => {
        log.log("info", `${signal}: draining`, { boundMs: SHUTDOWN_BOUND_MS });
        tokens.stop();
        // Whatever happens below, the process is gone within the bound the pod's grace period is sized for.
        setTimeout(() => {
            log.log("error", "stop exceeded its bound, exiting", { boundMs: SHUTDOWN_BOUND_MS });
            process.exit(1);
        }, SHUTDOWN_BOUND_MS + 500).unref();
        drainAndStop(server, pool).then(
            ({ forced }) => { log.log("info", "stopped", { forced, tokenFetches: tokens.fetches }); process.exit(0); },
            error => { log.log("error", "unclean stop", { error: (error as Error).message }); process.exit(1); });
    };
    process.once("SIGTERM", stop);
    process.once("SIGINT", stop);
}

async function main(command: string | undefined): Promise<void> {
    switch (command) {
        case "serve":
            try {
                await serve();
            } catch (error) {
                const d = error instanceof EnvError ? { step: "config", message: error.message } : diagnose(error, { user: process.env.PGUSER, database: process.env.PGDATABASE });
                log.log("error", `startup failed at step: ${d.step}`, { ...d });
                process.exit(1);
            }
            return;
        case "check":
            process.exit(await runCheck({ env: process.env, log }));
            return;
        case "provision":
            process.exit(await runProvision({ env: process.env, log }));
            return;
        default:
            log.log("error", `unknown command ${JSON.stringify(command)}; use "serve", "check" or "provision"`);
            process.exit(2);
    }
}

void main(process.argv[2]);
