// `check`: proves the whole chain from inside a pod, step by step, and exits 0 only if every step worked.
import type { TokenCredential } from "@azure/identity";
import { workloadIdentityCredential } from "./credential";
import { createPool, failedStep, TokenExchangeError, type FailedStep } from "./db";
import { EnvError, readDbEnv } from "./env";
import type { Logger } from "./log";
import { migrate } from "./migrate";
import { EntraTokenCache } from "./tokens";

export const EXIT_CODES: Record<"ok" | "config" | FailedStep, number> = {
    "ok": 0,
    "config": 2,
    "token exchange": 3,
    "TCP": 4,
    "TLS": 4,
    "authentication": 5,
    "permission": 6,
    "query": 7,
};

export interface CheckOptions {
    env: NodeJS.ProcessEnv;
    log: Logger;
    /** The credential; workload identity from `env` when absent. */
    credential?: TokenCredential;
    /** How long to keep retrying the token exchange: a new federated credential takes a while to propagate. */
    tokenRetryMs?: number;
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
    const fail = (step: keyof typeof EXIT_CODES, error: unknown) => {
        log.log("error", `check failed at step: ${step}`, { step, error: error instanceof Error ? error.message : String(error) });
        return EXIT_CODES[step];
    };

    let tokens: EntraTokenCache;
    let env;
    try {
        env = readDbEnv(options.env);
        tokens = new EntraTokenCache(options.credential ?? workloadIdentityCredential(options.env));
    } catch (error) {
        return fail(error instanceof EnvError ? "config" : "query", error);
    }

    // Token exchange, retried with backoff for a bounded time.
    const deadline = Date.now() + (options.tokenRetryMs ?? 180_000);
    let delay = options.initialRetryDelayMs ?? 2000;
    for (let attempt = 1; ; attempt++) {
        try {
            await tokens.get();
            log.log("info", "token exchange ok", { attempt });
            break;
        } catch (error) {
            if (Date.now() + delay > deadline) {
                return fail("token exchange", new TokenExchangeError(error));
            }
            log.log("warn", "token exchange failed, retrying", { attempt, retryInMs: delay, error: (error as Error).message });
            await sleep(delay);
            delay = Math.min(delay * 2, options.maxRetryDelayMs ?? 30_000);
        }
    }

    const pool = createPool(env, tokens, { max: 1 });
    try {
        let client;
        try {
            client = await pool.connect();
        } catch (error) {
            return fail(failedStep(error), error);
        }
        try {
            const who = await client.query("SELECT current_user AS role, current_database() AS database");
            log.log("info", "connected", who.rows[0]);
        } finally {
            client.release();
        }
        try {
            await migrate(pool);
            const marker = `check ${new Date().toISOString()}`;
            const inserted = await pool.query("INSERT INTO items (name) VALUES ($1) RETURNING id, created_by", [marker]);
            const read = await pool.query("SELECT name FROM items WHERE id = $1", [inserted.rows[0].id]);
            if (read.rows[0]?.name !== marker) {
                return fail("query", new Error(`wrote "${marker}" but read back ${JSON.stringify(read.rows[0])}`));
            }
            log.log("info", "check passed", { role: inserted.rows[0].created_by, itemId: inserted.rows[0].id });
            return EXIT_CODES.ok;
        } catch (error) {
            return fail(failedStep(error), error);
        }
    } finally {
        await pool.end();
    }
}
