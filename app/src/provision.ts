// `provision`: the in-cluster executor of the program's PostgreSQL roles, databases and grants (DECISIONS.md D1).
//
// Where the machine running `pulumi up` cannot reach the server (a private server; CI without a fixed address),
// the program hands the very statements @pulumi/postgresql would otherwise apply to a Kubernetes Job that runs
// this command, in the network, as the provisioning identity (one of the server's Entra administrators) on
// workload identity — never a password. The statements arrive as a mounted JSON list:
//
//     [{ "sql": "CREATE ROLE …", "skipIf": "SELECT 1 FROM pg_catalog.pg_roles WHERE …" },
//      { "sql": "GRANT …", "database": "orders" }, "REVOKE …"]
//
// (a bare string is `{ "sql": … }`). Each runs on its own connection to `database` (PGDATABASE when absent),
// outside any transaction — CREATE DATABASE cannot run inside one — and must be safe to run again: every
// statement is classified before anything connects, and a file holding one that is not (or a password, or two
// statements in one entry) is refused whole. Runs are serialised across Jobs by a session advisory lock.
import type { TokenCredential } from "@azure/identity";
import * as fs from "fs";
import type { PoolClient } from "pg";
import { EXIT_CODES } from "./check";
import { workloadIdentityCredential } from "./credential";
import { createPool, diagnose } from "./db";
import { EnvError, readDbEnv, type DbEnv } from "./env";
import type { Logger } from "./log";
import { EntraTokenCache } from "./tokens";

/** Where the Job mounts the statements (the ConfigMap's key `statements.json`), unless PROVISION_STATEMENTS_FILE says otherwise. */
export const DEFAULT_STATEMENTS_FILE = "/etc/provision/statements.json";

/**
 * The advisory lock every provisioner takes, in the two-key space (pg_advisory_lock(int, int)): apart from the
 * single-bigint keys @pulumi/postgresql locks (role and database oids, helpers.go pgLockRole) and the app's
 * migration lock, so an executor and the provider never block each other by accident.
 */
export const PROVISION_LOCK: readonly [number, number] = [727_002, 1];

export interface ProvisionStatement {
    /** One SQL statement. */
    sql: string;
    /** The database to run it in; the administrator's own (PGDATABASE) when absent. */
    database?: string;
    /** A query on the same connection: when it returns a row, the statement is skipped (it has been applied). */
    skipIf?: string;
    /** What it declares (the @pulumi/postgresql resource), for the log. */
    resource?: string;
}

/** A statements file that cannot be run safely: nothing is run. */
export class StatementsError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "StatementsError";
    }
}

/** The statement with its quoted literals, identifiers and comments blanked out (what is left is keywords). */
function keywordsOf(sql: string): string {
    if (/\$[A-Za-z_0-9]*\$/.test(sql)) {
        throw new StatementsError("dollar-quoted bodies are not accepted (no DO blocks or functions): one plain statement per entry");
    }
    return sql
        .replace(/'(?:[^']|'')*'/g, "''")
        .replace(/"(?:[^"]|"")*"/g, '""')
        .replace(/--[^\n]*/g, " ")
        .replace(/\/\*[\s\S]*?\*\//g, " ");
}

// Statements whose second run leaves the catalogs as the first left them: GRANT/REVOKE (a privilege or membership
// already held or absent is a no-op or a NOTICE), SECURITY LABEL (replaces the label), ALTER … (sets), COMMENT,
// REASSIGN/DROP OWNED, and CREATE/DROP … IF [NOT] EXISTS.
const RERUNNABLE = [
    /^GRANT\s/i, /^REVOKE\s/i, /^SECURITY\s+LABEL\s/i, /^ALTER\s+(ROLE|USER|DATABASE|SCHEMA|DEFAULT\s+PRIVILEGES)\s/i,
    /^COMMENT\s+ON\s/i, /^REASSIGN\s+OWNED\s/i, /^DROP\s+OWNED\s/i,
    /^CREATE\s+\w+\s+IF\s+NOT\s+EXISTS\s/i, /^DROP\s+\w+\s+IF\s+EXISTS\s/i,
];

/**
 * CREATE of a named role, database or schema has no IF NOT EXISTS (roles, databases) or is written without it: it
 * is made re-runnable by skipping it when the catalog already holds the name. The name is the statement's first
 * identifier, which the program always double-quotes (lib/postgresRoleSql.ts quoteIdent).
 */
const GUARDED_CREATE = /^CREATE\s+(ROLE|USER|DATABASE|SCHEMA)\s+"((?:[^"]|"")+)"/i;
const CATALOG_OF: Record<string, string> = {
    ROLE: "SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = $1",
    USER: "SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = $1",
    DATABASE: "SELECT 1 FROM pg_catalog.pg_database WHERE datname = $1",
    SCHEMA: "SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = $1",
};

/** How a statement is made safe to run again: the query that skips it when it has been applied, if any. */
export interface RerunPlan {
    statement: ProvisionStatement;
    skip?: { sql: string; params: string[] };
}

/** Classifies one statement; throws StatementsError when it could not run twice, carries a password, or is two statements. */
export function rerunPlan(statement: ProvisionStatement): RerunPlan {
    const sql = statement.sql.trim().replace(/;\s*$/, "");
    const words = keywordsOf(sql);
    if (words.includes(";")) {
        throw new StatementsError(`more than one statement in one entry: ${JSON.stringify(sql.slice(0, 80))}`);
    }
    if (/\bRENAME\b/i.test(words)) {
        throw new StatementsError(`a rename cannot run twice: ${JSON.stringify(sql.slice(0, 80))}`);
    }
    if (/\b(PASSWORD|ENCRYPTED)\b/i.test(words)) {
        throw new StatementsError(`a statement sets a password; roles here authenticate with Entra tokens only: ${JSON.stringify(sql.slice(0, 80))}`);
    }
    const plan: ProvisionStatement = { ...statement, sql };
    if (statement.skipIf !== undefined) {
        if (!/^\s*(SELECT|WITH)\s/i.test(keywordsOf(statement.skipIf)) || keywordsOf(statement.skipIf).replace(/;\s*$/, "").includes(";")) {
            throw new StatementsError(`skipIf must be one query (SELECT …): ${JSON.stringify(statement.skipIf.slice(0, 80))}`);
        }
        return { statement: plan, skip: { sql: statement.skipIf, params: [] } };
    }
    const create = GUARDED_CREATE.exec(sql);
    if (create && !/^CREATE\s+\w+\s+IF\s+NOT\s+EXISTS\s/i.test(words)) {
        return { statement: plan, skip: { sql: CATALOG_OF[create[1].toUpperCase()], params: [create[2].replace(/""/g, '"')] } };
    }
    if (RERUNNABLE.some(pattern => pattern.test(words.trim()))) {
        return { statement: plan };
    }
    throw new StatementsError(`not known to be safe to run twice (give it a skipIf, or use IF [NOT] EXISTS): ${JSON.stringify(sql.slice(0, 80))}`);
}

/** Parses and classifies a statements file's content: all of it, before anything runs. */
export function parseStatements(text: string): RerunPlan[] {
    let parsed: unknown;
    try {
        parsed = JSON.parse(text);
    } catch (error) {
        throw new StatementsError(`the statements file is not JSON: ${(error as Error).message}`);
    }
    if (!Array.isArray(parsed)) {
        throw new StatementsError("the statements file must hold a JSON list");
    }
    return parsed.map((entry, i) => {
        const statement: unknown = typeof entry === "string" ? { sql: entry } : entry;
        const s = statement as Partial<ProvisionStatement> | null;
        if (typeof s !== "object" || s === null || typeof s.sql !== "string" || s.sql.trim() === ""
            || (s.database !== undefined && (typeof s.database !== "string" || s.database === ""))
            || (s.skipIf !== undefined && typeof s.skipIf !== "string")
            || (s.resource !== undefined && typeof s.resource !== "string")) {
            throw new StatementsError(`entry ${i} is neither a statement string nor { sql, database?, skipIf?, resource? }`);
        }
        try {
            return rerunPlan({ sql: s.sql, database: s.database, skipIf: s.skipIf, resource: s.resource });
        } catch (error) {
            throw error instanceof StatementsError ? new StatementsError(`entry ${i}: ${error.message}`) : error;
        }
    });
}

/** A connection to one database, as `runStatements` uses it (pg's PoolClient fits). */
export interface SqlConnection {
    query(sql: string, params?: unknown[]): Promise<{ rows: unknown[] }>;
}

export interface RunOptions {
    /** Opens a connection to `database`; each is opened once and closed by the caller's `close`. */
    connect(database: string): Promise<SqlConnection>;
    /** The administrator's own database: where the lock is taken and statements without `database` run. */
    adminDatabase: string;
    log: Logger;
    /** Longest wait for another provisioner's lock (default 5 min). */
    lockWaitMs?: number;
    /** Poll interval while waiting for the lock (default 1 s). */
    lockPollMs?: number;
    /** The lock's keys (tests only). */
    lock?: readonly [number, number];
    sleep?: (ms: number) => Promise<void>;
}

export interface RunResult {
    ran: number;
    skipped: number;
    /** Milliseconds spent waiting for another provisioner. */
    lockWaitMs: number;
}

/**
 * Runs the classified statements in order under the provisioning lock: the one function both the `provision`
 * command and the real-PostgreSQL tests run. Throws the first failure (the lock is released with the session).
 */
export async function runStatements(plans: readonly RerunPlan[], options: RunOptions): Promise<RunResult> {
    const { log } = options;
    const sleep = options.sleep ?? ((ms: number) => new Promise<void>(resolve => setTimeout(resolve, ms)));
    const [lockClass, lockObject] = options.lock ?? PROVISION_LOCK;
    const sessions = new Map<string, Promise<SqlConnection>>();
    const session = (database: string) => {
        let s = sessions.get(database);
        if (!s) {
            s = options.connect(database);
            sessions.set(database, s);
        }
        return s;
    };

    // The lock lives as long as this session: a crashed pod's lock goes with its connection.
    const admin = await session(options.adminDatabase);
    const waitStart = Date.now();
    const lockDeadline = waitStart + (options.lockWaitMs ?? 5 * 60_000);
    for (let attempt = 1; ; attempt++) {
        const { rows } = await admin.query("SELECT pg_try_advisory_lock($1, $2) AS locked", [lockClass, lockObject]);
        if ((rows[0] as { locked: boolean }).locked) {
            break;
        }
        if (Date.now() >= lockDeadline) {
            throw new Error(`another provisioner held the lock (${lockClass}, ${lockObject}) for over ${options.lockWaitMs ?? 300_000} ms`);
        }
        if (attempt === 1) {
            log.log("info", "waiting for another provisioner to finish", { lock: [lockClass, lockObject] });
        }
        await sleep(options.lockPollMs ?? 1_000);
    }
    const lockWaitMs = Date.now() - waitStart;
    log.log("info", "provisioning", { statements: plans.length, lockWaitMs });

    let ran = 0;
    let skipped = 0;
    for (const [index, { statement, skip }] of plans.entries()) {
        const database = statement.database ?? options.adminDatabase;
        const connection = await session(database);
        const fields = { index, resource: statement.resource, database };
        if (skip && (await connection.query(skip.sql, skip.params)).rows.length > 0) {
            skipped++;
            log.log("info", "skipped: already applied", { ...fields, sql: statement.sql });
            continue;
        }
        const started = Date.now();
        try {
            await connection.query(statement.sql);
        } catch (error) {
            const e = error as { code?: string; message?: string };
            log.log("error", "statement failed", { ...fields, sql: statement.sql, code: e.code, error: e.message ?? String(error) });
            throw error;
        }
        ran++;
        log.log("info", "ran", { ...fields, sql: statement.sql, ms: Date.now() - started });
    }
    await admin.query("SELECT pg_advisory_unlock($1, $2)", [lockClass, lockObject]);
    return { ran, skipped, lockWaitMs };
}

export interface ProvisionOptions {
    env: NodeJS.ProcessEnv;
    log: Logger;
    /** The credential; workload identity from `env` when absent (tests pass a double). */
    credential?: TokenCredential;
    /** Overrides for runStatements (lock timing, for tests). */
    run?: Partial<Pick<RunOptions, "lockWaitMs" | "lockPollMs" | "lock" | "sleep">>;
}

/** Statements can take longer than a request: CREATE DATABASE copies template0. */
const STATEMENT_TIMEOUT_MS = 60_000;

/** The `provision` command: resolves to the process exit code (0 = every statement applied or already there). */
export async function runProvision(options: ProvisionOptions): Promise<number> {
    const { log } = options;
    let env: DbEnv;
    let plans: RerunPlan[];
    let tokens: EntraTokenCache;
    try {
        env = readDbEnv(options.env);
        // The administrator's connection must prove whom it talks to: the certificate chain and the host name.
        if (env.sslmode !== "verify-full" && env.sslmode !== "disable") {
            throw new EnvError(`PGSSLMODE=${env.sslmode}: provisioning connects with verify-full only`);
        }
        const file = options.env.PROVISION_STATEMENTS_FILE || DEFAULT_STATEMENTS_FILE;
        plans = parseStatements(fs.readFileSync(file, "utf8"));
        tokens = new EntraTokenCache(options.credential ?? workloadIdentityCredential(options.env), { background: false, retryDelayMs: 0 });
    } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        log.log("error", "provision refused: nothing was run", { step: "config", error: message });
        return EXIT_CODES.config;
    }

    const pools = new Map<string, ReturnType<typeof createPool>>();
    const clients: PoolClient[] = [];
    const connect = async (database: string): Promise<SqlConnection> => {
        const pool = createPool({ ...env, database }, tokens, { max: 1, timeouts: { queryMs: STATEMENT_TIMEOUT_MS } });
        pool.on("error", () => undefined);
        pools.set(database, pool);
        const client = await pool.connect();
        clients.push(client);
        return client;
    };
    try {
        const result = await runStatements(plans, { connect, adminDatabase: env.database, log, ...options.run });
        log.log("info", "provisioned", { ...result, user: env.user, host: env.host });
        return EXIT_CODES.ok;
    } catch (error) {
        const d = diagnose(error, { user: env.user, database: env.database });
        log.log("error", `provision failed at step: ${d.step}`, { step: d.step, code: d.code, error: d.message, fix: d.fix });
        return EXIT_CODES[d.step];
    } finally {
        clients.forEach(c => c.release());
        await Promise.all([...pools.values()].map(p => p.end().catch(() => undefined)));
        tokens.stop();
    }
}
