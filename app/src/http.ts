import * as http from "http";
import type { Pool } from "pg";
import { failedStep } from "./db";
import type { Logger } from "./log";

export interface AppServerOptions {
    pool: Pool;
    log: Logger;
    /** Readiness query timeout. */
    readyTimeoutMs?: number;
}

const MAX_BODY_BYTES = 16 * 1024;

class HttpError extends Error {
    constructor(public readonly status: number, message: string) {
        super(message);
    }
}

function send(res: http.ServerResponse, status: number, body: unknown): void {
    const json = JSON.stringify(body);
    res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(json), "cache-control": "no-store" });
    res.end(json);
}

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
    try {
        return JSON.parse(Buffer.concat(chunks).toString("utf8"));
    } catch {
        throw new HttpError(400, "body is not JSON");
    }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
    return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
        promise.then(v => { clearTimeout(timer); resolve(v); }, e => { clearTimeout(timer); reject(e); });
    });
}

/** The service: health endpoints, `/whoami`, and a tiny `/items` resource written as the app's own role. */
export function createAppServer(options: AppServerOptions): http.Server & { draining: boolean } {
    const { pool, log } = options;
    const readyTimeoutMs = options.readyTimeoutMs ?? 2000;
    const server = http.createServer(async (req, res) => {
        const route = `${req.method} ${(req.url ?? "/").split("?")[0]}`;
        try {
            switch (route) {
                case "GET /healthz/live":
                    return send(res, 200, { status: "ok" });
                case "GET /healthz/ready": {
                    if (server.draining) {
                        return send(res, 503, { status: "draining" });
                    }
                    try {
                        await withTimeout(pool.query("SELECT 1"), readyTimeoutMs);
                        return send(res, 200, { status: "ready" });
                    } catch (error) {
                        log.log("warn", "not ready", { step: failedStep(error), error: (error as Error).message });
                        return send(res, 503, { status: "unavailable", step: failedStep(error) });
                    }
                }
                case "GET /whoami": {
                    const { rows } = await pool.query("SELECT current_user AS role, current_database() AS database");
                    return send(res, 200, rows[0]);
                }
                case "GET /items": {
                    const { rows } = await pool.query("SELECT id, name, created_by, created_at FROM items ORDER BY id DESC LIMIT 100");
                    return send(res, 200, rows);
                }
                case "POST /items": {
                    const body = await readJson(req) as { name?: unknown };
                    if (typeof body?.name !== "string" || body.name.length < 1 || body.name.length > 200) {
                        throw new HttpError(400, "name must be a string of 1 to 200 characters");
                    }
                    const { rows } = await pool.query(
                        "INSERT INTO items (name) VALUES ($1) RETURNING id, name, created_by, created_at", [body.name]);
                    return send(res, 201, rows[0]);
                }
                default:
                    throw new HttpError(404, `no route ${route}`);
            }
        } catch (error) {
            if (error instanceof HttpError) {
                return send(res, error.status, { error: error.message });
            }
            log.log("error", "request failed", { route, step: failedStep(error), error: (error as Error).message });
            return send(res, 500, { error: "internal error", step: failedStep(error) });
        }
    }) as http.Server & { draining: boolean };
    server.draining = false;
    return server;
}

/**
 * Graceful stop: fail readiness first (so the Service stops sending traffic), stop accepting connections,
 * finish in-flight requests, then close every database connection.
 */
export function drainAndStop(server: ReturnType<typeof createAppServer>, pool: Pool): Promise<void> {
    server.draining = true;
    return new Promise<void>((resolve, reject) => {
        server.close(error => {
            pool.end().then(() => (error ? reject(error) : resolve()), reject);
        });
        server.closeIdleConnections();
    });
}
