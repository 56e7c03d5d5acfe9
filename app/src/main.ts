// Entry point: `node dist/main.js serve` (the service) or `node dist/main.js check` (the one-shot check).
import { runCheck } from "./check";
import { workloadIdentityCredential } from "./credential";
import { createPool, failedStep } from "./db";
import { EnvError, readDbEnv } from "./env";
import { createAppServer, drainAndStop } from "./http";
import { jsonLogger } from "./log";
import { migrate } from "./migrate";
import { EntraTokenCache } from "./tokens";

const log = jsonLogger();

async function serve(): Promise<void> {
    const env = readDbEnv(process.env);
    const tokens = new EntraTokenCache(workloadIdentityCredential(process.env));
    const pool = createPool(env, tokens);
    pool.on("error", error => log.log("warn", "idle connection failed", { error: error.message }));
    await migrate(pool);
    const server = createAppServer({ pool, log });
    const port = Number(process.env.PORT ?? "8080");
    server.listen(port, () => log.log("info", "listening", { port, host: env.host, user: env.user, database: env.database }));

    process.once("SIGTERM", () => {
        log.log("info", "SIGTERM: draining");
        drainAndStop(server, pool).then(
            () => { log.log("info", "stopped", { tokenFetches: tokens.fetches }); process.exit(0); },
            error => { log.log("error", "unclean stop", { error: (error as Error).message }); process.exit(1); });
    });
}

async function main(command: string | undefined): Promise<void> {
    switch (command) {
        case "serve":
            try {
                await serve();
            } catch (error) {
                const step = error instanceof EnvError ? "config" : failedStep(error);
                log.log("error", `startup failed at step: ${step}`, { step, error: (error as Error).message });
                process.exit(1);
            }
            return;
        case "check":
            process.exit(await runCheck({ env: process.env, log }));
            return;
        default:
            log.log("error", `unknown command ${JSON.stringify(command)}; use "serve" or "check"`);
            process.exit(2);
    }
}

void main(process.argv[2]);
