import * as http from "http";
import type { Pool } from "pg";
import { diagnose } from "./db";
import type { Logger } from "./log";
import { DRAIN_TIMEOUT_MS, POOL_CLOSE_TIMEOUT_MS, READY_TIMEOUT_MS } from "./timeouts";

export interface AppServerOptions {
    pool: Pool;
    log: Logger;
    /** Readiness query budget; the readiness probe's timeout must be longer. */
    readyTimeoutMs?: number;
}

const MAX_BODY_BYTES = 16 * 1024;
/** Longest item name, in Unicode code points — what PostgreSQL's char_length() counts and the table's CHECK allows. */
export const MAX_NAME_CHARS = 200;

class HttpError extends Error {
    constructor(public readonly status: number, message: string, public readonly headers: Record<string, string> = {}) {
        super(message);
    }
}

type AppServer = http.Server & { draining: boolean };

function send(server: AppServer, res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    const json = JSON.stringify(body);
    res.writeHead(status, {
        "content-type": "application/json", "content-length": Buffer.byteLength(json), "cache-control": "no-store",
        // While draining, every response closes its connection: a kept-alive client cannot start another request here.
        ...(server.draining ? { connection: "close" } : {}),
        ...headers,
    });
    res.end(json);
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

async function readJson(req: http.IncomingMessage): Promise<unknown> {
    let size = 0;
    const chunks: Buffer[] = [];
    for await (const chunk of req) {
        size += (chunk as Buffer).length;
        if (size > MAX_BODY_BYTES) {
            throw new HttpError(413, `body larger than ${MAX_BODY_BYTES} bytes`);
        }
        chunks.push(chunk as Buffer);
    }
    let text: string;
    try {
        text = utf8.decode(Buffer.concat(chunks));
    } catch {
        throw new HttpError(400, "body is not valid UTF-8");
    }
    try {
        return JSON.parse(text);
    } catch {
        throw new HttpError(400, "body is not JSON");
    }
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Why `value` cannot be stored as PostgreSQL text of 1 to `max` characters, or undefined when it can. */
export function textFieldProblem(field: string, value: unknown, max: number): string | undefined {
    if (typeof value !== "string") {
        return `${field} must be a string of 1 to ${max} characters`;
    }
    if (value.includes("\u0000")) {
        return `${field} must not contain the NUL character (U+0000): PostgreSQL text cannot store it`;
    }
    if (LONE_SURROGATE.test(value)) {
        return `${field} contains a lone surrogate (an escaped \\ud800–\\udfff that is not a Unicode character)`;
    }
    const chars = [...value].length; // code points, as char_length() counts them; .length counts UTF-16 units
    if (chars < 1 || chars > max) {
        return `${field} must be 1 to ${max} characters (Unicode code points); it has ${chars}`;
    }
    return undefined;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
    return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
        promise.then(v => { clearTimeout(timer); resolve(v); }, e => { clearTimeout(timer); reject(e); });
    });
}

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => Promise<void>;

/** The service: health endpoints, `/whoami`, and a tiny `/items` resource written as the app's own role. */
export function createAppServer(options: AppServerOptions): AppServer {
    const { pool, log } = options;
    const readyTimeoutMs = options.readyTimeoutMs ?? READY_TIMEOUT_MS;
    const reply = (res: http.ServerResponse, status: number, body: unknown, headers?: Record<string, string>) => send(server, res, status, body, headers);

    const routes: Record<string, Partial<Record<"GET" | "POST", Handler>>> = {
        "/healthz/live": {
            GET: async (_req, res) => reply(res, 200, { status: "ok" }),
        },
        "/healthz/ready": {
            GET: async (_req, res) => {
                if (server.draining) {
                    return reply(res, 503, { status: "draining" });
                }
                try {
                    await withTimeout(pool.query("SELECT 1"), readyTimeoutMs);
                    return reply(res, 200, { status: "ready" });
                } catch (error) {
                    const d = diagnose(error);
                    log.log("warn", "not ready", { step: d.step, code: d.code, error: d.message });
                    return reply(res, 503, { status: "unavailable", step: d.step });
                }
            },
        },
        "/whoami": {
            GET: async (_req, res) => {
                const { rows } = await pool.query("SELECT current_user AS role, current_database() AS database");
                return reply(res, 200, rows[0]);
            },
        },
        "/items": {
            GET: async (_req, res) => {
                const { rows } = await pool.query("SELECT id, name, created_by, created_at FROM items ORDER BY id DESC LIMIT 100");
                return reply(res, 200, rows);
            },
            POST: async (req, res) => {
                const body = await readJson(req) as { name?: unknown } | null;
                const problem = textFieldProblem("name", body?.name, MAX_NAME_CHARS);
                if (problem) {
                    throw new HttpError(400, problem);
                }
                const { rows } = await pool.query(
                    "INSERT INTO items (name) VALUES ($1) RETURNING id, name, created_by, created_at", [body!.name]);
                return reply(res, 201, rows[0]);
            },
        },
    };

    const server = http.createServer(async (req, res) => {
        const path = (req.url ?? "/").split("?")[0];
        const route = `${req.method} ${path}`;
        try {
            const methods = Object.prototype.hasOwnProperty.call(routes, path) ? routes[path] : undefined;
            if (!methods) {
                throw new HttpError(404, `no route ${route}`);
            }
            const handler = methods[req.method as "GET" | "POST"];
            if (!handler) {
                const allow = Object.keys(methods).join(", ");
                throw new HttpError(405, `${req.method} is not allowed on ${path}; use ${allow}`, { allow });
            }
            await handler(req, res);
        } catch (error) {
            if (error instanceof HttpError) {
                return reply(res, error.status, { error: error.message }, error.headers);
            }
            const d = diagnose(error);
            log.log("error", "request failed", { route, step: d.step, code: d.code, error: d.message });
            // The database or the token is unavailable for now: 503, so clients and proxies may retry elsewhere.
            const unavailable = d.retriable || d.timedOut;
            return reply(res, unavailable ? 503 : 500, { error: unavailable ? "temporarily unavailable" : "internal error", step: d.step });
        }
    }) as AppServer;
    server.draining = false;
    return server;
}

export interface StopOptions {
    /** Longest wait for in-flight requests; then the remaining connections are cut. */
    drainTimeoutMs?: number;
    /** Longest wait for the pool to close. */
    poolCloseTimeoutMs?: number;
}

/**
 * Graceful, bounded stop: fail readiness, stop accepting connections, close idle keep-alive connections (and
 * every other one after its current response), wait for in-flight requests at most `drainTimeoutMs`, then close
 * the pool, waiting at most `poolCloseTimeoutMs`. Resolves whether it had to cut anything.
 */
export async function drainAndStop(server: AppServer, pool: Pool, options: StopOptions = {}): Promise<{ forced: boolean }> {
    server.draining = true;
    const closed = new Promise<void>(resolve => server.close(() => resolve()));
    server.closeIdleConnections();
    // A response written just before the signal left its connection kept alive; close such ones as they go idle.
    const sweeper = setInterval(() => server.closeIdleConnections(), 100);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<"deadline">(resolve => { timer = setTimeout(() => resolve("deadline"), options.drainTimeoutMs ?? DRAIN_TIMEOUT_MS); });
    let forced = (await Promise.race([closed, deadline])) === "deadline";
    clearTimeout(timer);
    clearInterval(sweeper);
    if (forced) {
        server.closeAllConnections();
    }
    const poolClosed = await Promise.race([
        pool.end().then(() => true, () => false),
        new Promise<boolean>(resolve => { timer = setTimeout(() => resolve(false), options.poolCloseTimeoutMs ?? POOL_CLOSE_TIMEOUT_MS); }),
    ]);
    clearTimeout(timer);
    forced ||= !poolClosed;
    return { forced };
}
