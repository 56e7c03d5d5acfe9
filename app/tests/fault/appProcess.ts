// The built app (dist/main.js, what the image runs) as a child process: its JSON log lines, its exit, and the
// TCP connections it holds to PostgreSQL, read from the kernel rather than from pg_stat_activity.
import { spawn, spawnSync, type ChildProcess } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as path from "path";
import { freePort } from "../localPostgres";

const APP = path.join(__dirname, "..", "..");
const MAIN = path.join(APP, "dist", "main.js");

/** Builds dist/ with the app's own build (tsc -p tsconfig.build.json) unless it is newer than every source file. */
export function ensureBuilt(): void {
    const newestSource = Math.max(...fs.readdirSync(path.join(APP, "src")).map(f => fs.statSync(path.join(APP, "src", f)).mtimeMs));
    if (fs.existsSync(MAIN) && fs.statSync(MAIN).mtimeMs >= newestSource) {
        return;
    }
    const result = spawnSync(process.execPath, [require.resolve("typescript/bin/tsc"), "-p", path.join(APP, "tsconfig.build.json")], { encoding: "utf8" });
    if (result.status !== 0) {
        throw new Error(`app build failed: ${result.stdout}${result.stderr}`);
    }
}


export type LogLine = Record<string, unknown> & { msg: string; level: string };

export class AppProcess {
    public readonly lines: LogLine[] = [];
    public readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
    private stdoutTail = "";
    private stderr = "";

    private constructor(private readonly child: ChildProcess, public readonly port: number) {
        this.exited = new Promise(resolve => child.once("exit", (code, signal) => resolve({ code, signal, at: Date.now() })));
        child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
            const text = this.stdoutTail + chunk;
            const parts = text.split("\n");
            this.stdoutTail = parts.pop()!;
            for (const line of parts.filter(Boolean)) {
                try {
                    this.lines.push(JSON.parse(line));
                } catch {
                    this.lines.push({ level: "raw", msg: line });
                }
            }
        });
        child.stderr!.setEncoding("utf8").on("data", (chunk: string) => { this.stderr += chunk; });
    }

    /** Starts `node dist/main.js <command>` with exactly `env` (plus PATH and PORT). */
    static async start(command: "serve" | "check", env: Record<string, string>): Promise<AppProcess> {
        const port = await freePort();
        const child = spawn(process.execPath, [MAIN, command], {
            env: { PATH: process.env.PATH ?? "/usr/bin:/bin", PORT: String(port), ...env },
            stdio: ["ignore", "pipe", "pipe"],
        });
        return new AppProcess(child, port);
    }

    get pid(): number {
        return this.child.pid!;
    }

    get base(): string {
        return `http://127.0.0.1:${this.port}`;
    }

    /** Waits for a log line matching `predicate`; fails with the log so far after `timeoutMs` or on exit. */
    async waitFor(predicate: (line: LogLine) => boolean, timeoutMs = 15_000): Promise<LogLine> {
        const deadline = Date.now() + timeoutMs;
        let exited = false;
        void this.exited.then(() => { exited = true; });
        for (;;) {
            const found = this.lines.find(predicate);
            if (found) {
                return found;
            }
            if (exited || Date.now() > deadline) {
                throw new Error(`${exited ? "app exited" : "timed out"} waiting for a log line; log:\n${this.describe()}`);
            }
            await sleep(20);
        }
    }

    listening(): Promise<LogLine> {
        return this.waitFor(l => l.msg === "listening");
    }

    signal(sig: NodeJS.Signals): void {
        this.child.kill(sig);
    }

    /** Exit code, or kills the child and throws after `timeoutMs`. */
    async exitCode(timeoutMs = 30_000): Promise<number | null> {
        const result = await this.exitWithin(timeoutMs);
        if (result === undefined) {
            this.child.kill("SIGKILL");
            throw new Error(`app did not exit within ${timeoutMs} ms; log:\n${this.describe()}`);
        }
        return result.code;
    }

    /** The exit, or undefined if the child still runs after `timeoutMs` (leaves no timer behind). */
    async exitWithin(timeoutMs: number): Promise<{ code: number | null; at: number } | undefined> {
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<undefined>(resolve => { timer = setTimeout(() => resolve(undefined), timeoutMs); });
        try {
            return await Promise.race([this.exited, timeout]);
        } finally {
            clearTimeout(timer);
        }
    }

    /** Kills the child if it still runs; never throws. */
    async kill(): Promise<void> {
        if (this.child.exitCode === null && this.child.signalCode === null) {
            this.child.kill("SIGKILL");
            await this.exited;
        }
    }

    describe(): string {
        return [...this.lines.map(l => JSON.stringify(l)), this.stdoutTail, this.stderr].filter(Boolean).join("\n").slice(-4000);
    }

    /**
     * The child's TCP sockets to 127.0.0.1:`pgPort` that the kernel lists as established (or still
     * connecting): the inodes of its socket fds matched against /proc/net/tcp. Empty once it has exited.
     */
    pgSockets(pgPort: number): Set<string> {
        return new Set(this.pgConnections(pgPort).map(c => c.inode));
    }

    /** The same connections with their local ports (pg_stat_activity.client_port). */
    pgConnections(pgPort: number): { inode: string; localPort: number }[] {
        let fds: string[];
        try {
            fds = fs.readdirSync(`/proc/${this.pid}/fd`);
        } catch {
            return [];
        }
        const inodes = new Set<string>();
        for (const fd of fds) {
            try {
                const m = fs.readlinkSync(`/proc/${this.pid}/fd/${fd}`).match(/^socket:\[(\d+)\]$/);
                if (m) {
                    inodes.add(m[1]);
                }
            } catch {
                // closed while we looked
            }
        }
        const portHex = pgPort.toString(16).toUpperCase().padStart(4, "0");
        const open: { inode: string; localPort: number }[] = [];
        for (const row of fs.readFileSync("/proc/net/tcp", "utf8").split("\n").slice(1)) {
            const cols = row.trim().split(/\s+/);
            if (cols.length < 10) {
                continue;
            }
            const [, local, remote, state] = cols;
            const inode = cols[9];
            // 01 ESTABLISHED, 02 SYN_SENT: a socket the app opened towards the server.
            if (remote.endsWith(`:${portHex}`) && (state === "01" || state === "02") && inodes.has(inode)) {
                open.push({ inode, localPort: parseInt(local.split(":")[1], 16) });
            }
        }
        return open;
    }
}

export const sleep = (ms: number) => new Promise<void>(resolve => setTimeout(resolve, ms));

export interface HttpResult {
    error?: string;
    status: number;
    headers: http.IncomingHttpHeaders;
    body: string;
    json: any;
}

/** One HTTP request with a hard deadline; `agent` decides keep-alive. Resolves to status 0 on a network error. */
export function request(base: string, method: string, route: string, options: { body?: string | Buffer; agent?: http.Agent; timeoutMs?: number; headers?: Record<string, string> } = {}): Promise<HttpResult & { error?: string }> {
    return new Promise(resolve => {
        const url = new URL(route, base);
        const req = http.request(url, {
            method,
            agent: options.agent ?? false,
            headers: { ...(options.body !== undefined ? { "content-type": "application/json", "content-length": String(Buffer.byteLength(options.body)) } : {}), ...options.headers },
        }, res => {
            const chunks: Buffer[] = [];
            res.on("data", c => chunks.push(c));
            res.on("end", () => {
                const body = Buffer.concat(chunks).toString("utf8");
                let json: unknown;
                try {
                    json = JSON.parse(body);
                } catch {
                    json = undefined;
                }
                resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json });
            });
            res.on("error", e => resolve({ status: 0, headers: {}, body: "", json: undefined, error: e.message }));
        });
        req.setTimeout(options.timeoutMs ?? 15_000, () => req.destroy(new Error(`no answer within ${options.timeoutMs ?? 15_000} ms`)));
        req.on("error", e => resolve({ status: 0, headers: {}, body: "", json: undefined, error: e.message }));
        req.end(options.body);
    });
}
