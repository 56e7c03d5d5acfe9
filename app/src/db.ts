import { Pool, type PoolConfig } from "pg";
import type { DbEnv } from "./env";
import type { EntraTokenCache } from "./tokens";

/** Where a connection or query failed: the step a person has to fix. */
export type FailedStep = "token exchange" | "TCP" | "TLS" | "authentication" | "permission" | "query";

/** A token the credential could not produce; wraps the credential's own error. */
export class TokenExchangeError extends Error {
    constructor(public readonly cause: unknown) {
        super(`could not get a Microsoft Entra token: ${cause instanceof Error ? cause.message : String(cause)}`);
        this.name = "TokenExchangeError";
    }
}

const NETWORK_CODES = new Set(["ECONNREFUSED", "ETIMEDOUT", "ENOTFOUND", "EHOSTUNREACH", "ENETUNREACH", "ECONNRESET", "EAI_AGAIN"]);

/** Classifies an error from pg or from the token step. */
export function failedStep(error: unknown): FailedStep {
    if (error instanceof TokenExchangeError) {
        return "token exchange";
    }
    const e = error as { code?: string; message?: string };
    const code = e?.code ?? "";
    if (NETWORK_CODES.has(code) || /timeout expired|Connection terminated due to connection timeout/i.test(e?.message ?? "")) {
        return "TCP";
    }
    if (code.startsWith("ERR_TLS") || code.startsWith("ERR_SSL") || /CERT|SELF_SIGNED|UNABLE_TO_VERIFY/.test(code)
        || /does not support SSL/i.test(e?.message ?? "")) {
        return "TLS";
    }
    if (code === "28P01" || code === "28000") {
        return "authentication";
    }
    if (code === "42501" || code === "3D000") {
        return "permission";
    }
    return "query";
}

export interface PoolOptions {
    /** Most connections the pool opens. */
    max?: number;
    /** Give up on a connection attempt after this long. */
    connectionTimeoutMillis?: number;
    /** Close connections idle this long. */
    idleTimeoutMillis?: number;
}

/**
 * A pg pool whose password is a fresh Entra token: pg calls `password()` for every new physical connection,
 * and the cache answers without a round trip until the token nears expiry. Open connections keep working
 * after a rotation — PostgreSQL checks the password only when a connection is made.
 */
export function createPool(env: DbEnv, tokens: EntraTokenCache, options: PoolOptions = {}): Pool {
    const config: PoolConfig = {
        host: env.host,
        port: env.port,
        user: env.user,
        database: env.database,
        password: async () => {
            try {
                return await tokens.get();
            } catch (error) {
                throw new TokenExchangeError(error);
            }
        },
        ssl: env.sslmode === "disable" ? false : { rejectUnauthorized: true, servername: env.host },
        max: options.max ?? 10,
        connectionTimeoutMillis: options.connectionTimeoutMillis ?? 10_000,
        idleTimeoutMillis: options.idleTimeoutMillis ?? 30_000,
        application_name: "aks-pg-passwordless",
    };
    return new Pool(config);
}
