import type { EventEmitter } from "events";
import { Client, Pool, type PoolConfig } from "pg";
import type { DbEnv } from "./env";
import { AUTH_TIMEOUT_MS, QUERY_TIMEOUT_MS, TCP_TIMEOUT_MS, TLS_TIMEOUT_MS, TOKEN_TIMEOUT_MS } from "./timeouts";
import { TokenExchangeError, type EntraTokenCache } from "./tokens";

export { TokenExchangeError };

/** Where a connection or query failed: the step a person has to look at. */
export type FailedStep = "token exchange" | "TCP" | "TLS" | "server" | "authentication" | "database" | "permission" | "pool" | "query";

/** A step that took longer than its bound. */
export class StepTimeoutError extends Error {
    constructor(public readonly step: FailedStep, public readonly ms: number) {
        super(`${step} step timed out after ${ms} ms`);
        this.name = "StepTimeoutError";
    }
}

/** What went wrong, whether trying again can help, and what to change when it cannot. */
export interface Diagnosis {
    step: FailedStep;
    /** SQLSTATE or Node error code, when there is one. */
    code?: string;
    /** Can the same attempt succeed later without anyone changing anything (network, server restarting)? */
    retriable: boolean;
    /** A bound ran out (the caller may still retry; a person should look at `step`). */
    timedOut: boolean;
    message: string;
    /** What to change, when retrying cannot help. */
    fix?: string;
}

const NETWORK_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "EHOSTUNREACH", "ENETUNREACH", "EAI_AGAIN", "EPIPE", "ETIMEDOUT"]);
/** Server states that pass: starting up or shutting down (57P01–57P03), too many connections (53300), 08xxx. */
const TRANSIENT_SQLSTATES = new Set(["57P01", "57P02", "57P03", "53300", "08000", "08003", "08006", "08001", "08004"]);

/** Where the connection was when it failed (set on errors thrown while connecting). */
const STEP = Symbol("step");

/** Classifies an error from pg, from a step timeout or from the token step. `who` names role and database in the fixes. */
export function diagnose(error: unknown, who: { user?: string; database?: string } = {}): Diagnosis {
    const e = (error ?? {}) as { code?: string; message?: string; cause?: unknown; [STEP]?: FailedStep };
    if (e.cause !== undefined && /Connection terminated due to connection timeout/.test(e.message ?? "")) {
        return { ...diagnose(e.cause, who), timedOut: true }; // pg-pool's backstop wraps what the step saw
    }
    const message = e.message ?? String(error);
    const code = typeof e.code === "string" ? e.code : undefined;
    const role = who.user ?? "<role>";
    const database = who.database ?? "<database>";
    const base = { code, message, timedOut: false };
    if (error instanceof TokenExchangeError) {
        return { ...base, step: "token exchange", retriable: true, timedOut: /no token within/.test(message) };
    }
    if (error instanceof StepTimeoutError) {
        return { ...base, step: error.step, retriable: false, timedOut: true };
    }
    if (code !== undefined && NETWORK_CODES.has(code)) {
        return { ...base, step: "TCP", retriable: true };
    }
    if (code === "ENOTFOUND") {
        return { ...base, step: "TCP", retriable: false, fix: "PGHOST does not resolve: check the name and, for a private server, the private DNS zone link" };
    }
    if (code?.startsWith("ERR_TLS") || code?.startsWith("ERR_SSL") || /CERT|SELF_SIGNED|UNABLE_TO_VERIFY/.test(code ?? "") || /does not support SSL/i.test(message)) {
        return { ...base, step: "TLS", retriable: false };
    }
    switch (code) {
        case "28P01":
            return {
                ...base, step: "authentication", retriable: false,
                fix: `PostgreSQL refused the token for "${role}". It says the same for two different problems: `
                    + `(1) there is no role named "${role}" — create it as the Entra admin with `
                    + `SELECT * FROM pgaadauth_create_principal_with_oid('${role}', '<object id>', 'service', false, false), or fix PGUSER; `
                    + `(2) the role exists but is bound to another principal (another identity's object id, e.g. after the identity was recreated) `
                    + `— drop and re-create it with this identity's object id.`,
            };
        case "28000":
            return {
                ...base, step: "authentication", retriable: false,
                fix: /pg_hba/.test(message)
                    ? "the server does not accept connections from this address (firewall rule or private access)"
                    : `the role may not log in: ALTER ROLE "${role}" LOGIN`,
            };
        case "3D000":
            return { ...base, step: "database", retriable: false, fix: `create the database "${database}", or set PGDATABASE to one that exists` };
        case "42501":
            return {
                ...base, step: "permission", retriable: false,
                fix: /permission denied for database/.test(message)
                    ? `GRANT CONNECT ON DATABASE "${database}" TO "${role}"`
                    : `grant "${role}" the privilege the statement needs`,
            };
        case "57014":
            return { ...base, step: "query", retriable: true, timedOut: true };
    }
    if (code !== undefined && TRANSIENT_SQLSTATES.has(code)) {
        return { ...base, step: "server", retriable: true };
    }
    if (/timeout exceeded when trying to connect/.test(message)) {
        return { ...base, step: "pool", retriable: true, timedOut: true };
    }
    if (/Query read timeout/.test(message)) {
        return { ...base, step: "query", retriable: true, timedOut: true };
    }
    const step = e[STEP];
    if (step !== undefined) {
        // Connection closed or reset mid-connect without a SQLSTATE: a network or server problem at that step.
        return { ...base, step, retriable: /terminated|ended|closed|reset/i.test(message) };
    }
    return { ...base, step: "query", retriable: false };
}

/** The step an error belongs to. */
export function failedStep(error: unknown): FailedStep {
    return diagnose(error).step;
}

export interface StepTimeouts {
    tcpMs: number;
    tlsMs: number;
    authMs: number;
    queryMs: number;
}

export interface PoolOptions {
    /** Most connections the pool opens. */
    max?: number;
    /** Longest wait for a free connection when all `max` are busy. */
    connectionTimeoutMillis?: number;
    /** Close connections idle this long. */
    idleTimeoutMillis?: number;
    /** Per-step bounds (defaults from timeouts.ts). */
    timeouts?: Partial<StepTimeouts>;
}

type PgConnection = EventEmitter & { stream: { destroy(error?: Error): void } };

/**
 * A pg pool whose password is the cached Entra token. Each new physical connection goes step by step, each step
 * with its own bound: the token first — no socket is opened without one — then TCP, TLS, authentication; and
 * every statement is bounded too. A connection attempt that fails closes its socket, whatever the step.
 * Open connections keep working after a token rotation: PostgreSQL checks the password only when a connection
 * is made.
 */
export function createPool(env: DbEnv, tokens: EntraTokenCache, options: PoolOptions = {}): Pool {
    const t: StepTimeouts = {
        tcpMs: TCP_TIMEOUT_MS, tlsMs: TLS_TIMEOUT_MS, authMs: AUTH_TIMEOUT_MS, queryMs: QUERY_TIMEOUT_MS, ...options.timeouts,
    };
    const ssl = env.sslmode !== "disable";

    class EntraClient extends Client {
        connect(): Promise<void>;
        connect(callback: (err: Error) => void): void;
        connect(callback?: (err: Error) => void): Promise<void> | void {
            const connecting = this.connectStepByStep();
            if (callback) {
                connecting.then(() => callback(undefined as unknown as Error), callback);
                return;
            }
            return connecting;
        }

        private async connectStepByStep(): Promise<void> {
            // The token before any socket: a failing token endpoint must not cost the server a connection.
            (this as unknown as { password: string }).password = await tokens.get();
            const con = (this as unknown as { connection: PgConnection }).connection;
            let step: FailedStep = "TCP";
            let timedOut: StepTimeoutError | undefined;
            let timer: NodeJS.Timeout | undefined;
            const enter = (next: FailedStep, ms: number) => {
                step = next;
                clearTimeout(timer);
                timer = setTimeout(() => {
                    timedOut = new StepTimeoutError(next, ms);
                    con.stream.destroy(timedOut);
                }, ms);
            };
            enter("TCP", t.tcpMs);
            con.once("connect", () => (ssl ? enter("TLS", t.tlsMs) : enter("authentication", t.authMs)));
            con.once("sslconnect", () => enter("authentication", t.authMs));
            try {
                await super.connect();
            } catch (error) {
                con.stream.destroy();
                const failure = timedOut ?? error;
                if (failure && typeof failure === "object" && !(STEP in failure)) {
                    Object.defineProperty(failure, STEP, { value: step });
                }
                throw failure;
            } finally {
                clearTimeout(timer);
            }
        }
    }

    const connectBound = TOKEN_TIMEOUT_MS + t.tcpMs + t.tlsMs + t.authMs;
    const config: PoolConfig = {
        host: env.host,
        port: env.port,
        user: env.user,
        database: env.database,
        ssl: ssl ? { rejectUnauthorized: true, servername: env.host } : false,
        max: options.max ?? 10,
        // A backstop above the step bounds (pg-pool and pg each arm it per connection), and the longest wait for a
        // free connection.
        connectionTimeoutMillis: options.connectionTimeoutMillis ?? connectBound + 1_000,
        idleTimeoutMillis: options.idleTimeoutMillis ?? 30_000,
        // The server cancels a statement after queryMs; the client stops waiting a second later (a stalled network).
        statement_timeout: t.queryMs,
        query_timeout: t.queryMs + 1_000,
        application_name: "aks-pg-passwordless",
        Client: EntraClient,
    };
    return new Pool(config);
}
