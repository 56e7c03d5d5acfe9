// `check`: proves the whole chain from inside a pod, step by step, and exits 0 only if every step worked.
import type { TokenCredential } from "@azure/identity";
import { appCredential } from "./credential";
import { createPool, diagnose, TokenExchangeError, type Diagnosis, type FailedStep } from "./db";
import { EnvError, readDbEnv } from "./env";
import type { Logger } from "./log";
import { migrate } from "./migrate";
import { MountedSecretsError, readMountedSecrets } from "./mounted";
import { EntraTokenCache } from "./tokens";

export const EXIT_CODES: Record<"ok" | "config" | "secrets" | FailedStep, number> = {
    "ok": 0,
    "config": 2,
    "secrets": 9,
    "token exchange": 3,
    "TCP": 4,
    "TLS": 4,
    "server": 4,
    "pool": 4,
    "authentication": 5,
    "permission": 6,
    "query": 7,
    "database": 8,
};

export interface CheckOptions {
    env: NodeJS.ProcessEnv;
    log: Logger;
    /** The credential; from `env` when absent (appCredential: workload identity in a pod, the developer's az login outside). */
    credential?: TokenCredential;
    /** How long to keep retrying the token exchange: a new federated credential takes a while to propagate. */
    tokenRetryMs?: number;
    /** How long to keep retrying a connection that failed for a reason that can pass (network, server restarting). */
    connectRetryMs?: number;
    /** First retry delay; doubles up to `maxRetryDelayMs`. */
    initialRetryDelayMs?: number;
    maxRetryDelayMs?: number;
    sleep?: (ms: number) => Promise<void>;
}

const defaultSleep = (ms: number) => new Promise<void>(resolve => setTimeout(resolve, ms));

/** Runs the check; resolves to the process exit code (0 = every step worked). */
export async function runCheck(options: CheckOptions): Promise<number> {
    const { log } = options;
    const sleep = options.sleep ?? defaultSleep;
    const fail = (d: { step: FailedStep | "config" | "secrets"; message: string } & Partial<Pick<Diagnosis, "code" | "fix">>) => {
        log.log("error", `check failed at step: ${d.step}`, { step: d.step, code: d.code, error: d.message, fix: d.fix });
        return EXIT_CODES[d.step];
    };

    let tokens: EntraTokenCache;
    let env;
    try {
        env = readDbEnv(options.env);
        // One-shot: no background refresh, and this loop (not the cache) decides when to try again.
        tokens = new EntraTokenCache(options.credential ?? appCredential(options.env), { background: false, retryDelayMs: 0 });
    } catch (error) {
        return error instanceof EnvError ? fail({ step: "config", message: error.message }) : fail(diagnose(error));
    }
    const who = { user: env.user, database: env.database };

    // The Key Vault secrets the CSI driver mounted, read as the app reads them; never their values in the log.
    try {
        const mounted = await readMountedSecrets(options.env);
        if (mounted) {
            log.log("info", "mounted Key Vault secrets readable", { secrets: [...mounted].map(([name, value]) => ({ name, bytes: Buffer.byteLength(value) })) });
        }
    } catch (error) {
        if (error instanceof MountedSecretsError) {
            return fail({ step: "secrets", message: error.message });
        }
        throw error;
    }
    const firstDelay = options.initialRetryDelayMs ?? 2000;
    const maxDelay = options.maxRetryDelayMs ?? 30_000;

    // Token exchange, retried with backoff for a bounded time.
    let deadline = Date.now() + (options.tokenRetryMs ?? 180_000);
    let delay = firstDelay;
    for (let attempt = 1; ; attempt++) {
        try {
            await tokens.get();
            log.log("info", "token exchange ok", { attempt });
            break;
        } catch (error) {
            if (Date.now() + delay > deadline) {
                return fail(diagnose(error instanceof TokenExchangeError ? error : new TokenExchangeError(error)));
            }
            log.log("warn", "token exchange failed, retrying", { attempt, retryInMs: delay, error: (error as Error).message });
            await sleep(delay);
            delay = Math.min(delay * 2, maxDelay);
        }
    }

    const pool = createPool(env, tokens, { max: 1 });
    pool.on("error", () => undefined); // an idle connection dropped by the server; the next query reconnects
    try {
        // Connect, retrying only what can pass by itself; anything else fails at once, named.
        deadline = Date.now() + (options.connectRetryMs ?? 60_000);
        delay = Math.min(500, firstDelay);
        let client;
        for (let attempt = 1; ; attempt++) {
            try {
                client = await pool.connect();
                break;
            } catch (error) {
                const d = diagnose(error, who);
                if (!d.retriable || Date.now() + delay > deadline) {
                    return fail(d);
                }
                log.log("warn", "connect failed, retrying", { attempt, step: d.step, code: d.code, retryInMs: delay, error: d.message });
                await sleep(delay);
                delay = Math.min(delay * 2, Math.min(maxDelay, 5_000));
            }
        }
        try {
            const identity = await client.query("SELECT current_user AS role, current_database() AS database");
            log.log("info", "connected", identity.rows[0]);
        } finally {
            client.release();
        }
        try {
            await migrate(pool);
            const marker = `check ${new Date().toISOString()}`;
            const inserted = await pool.query("INSERT INTO items (name) VALUES ($1) RETURNING id, created_by", [marker]);
            const read = await pool.query("SELECT name FROM items WHERE id = $1", [inserted.rows[0].id]);
            if (read.rows[0]?.name !== marker) {
                return fail({ step: "query", message: `wrote "${marker}" but read back ${JSON.stringify(read.rows[0])}` });
            }
            log.log("info", "check passed", { role: inserted.rows[0].created_by, itemId: inserted.rows[0].id });
            return EXIT_CODES.ok;
        } catch (error) {
            return fail(diagnose(error, who));
        }
    } finally {
        await pool.end();
    }
}
