// A throwaway PostgreSQL cluster for tests: Debian's binaries, a temp dir, a free loopback port, and
// scram-sha-256 password authentication for every connection (trust would prove nothing about tokens).
import { execFileSync, spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { Client } from "pg";

function findBinDir(): string {
    if (process.env.PG_BIN) {
        return process.env.PG_BIN;
    }
    const root = "/usr/lib/postgresql";
    const versions = fs.existsSync(root) ? fs.readdirSync(root).filter(v => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a)) : [];
    for (const v of versions) {
        const dir = path.join(root, v, "bin");
        if (fs.existsSync(path.join(dir, "initdb"))) {
            return dir;
        }
    }
    throw new Error("PostgreSQL server binaries not found: `apt-get install postgresql` (Debian) or set PG_BIN to the directory holding initdb and pg_ctl");
}

/** A TCP port on loopback nobody listens on right now (the test servers here and in fault/ bind to it). */
export function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const srv = net.createServer();
        srv.once("error", reject);
        srv.listen(0, "127.0.0.1", () => {
            const port = (srv.address() as net.AddressInfo).port;
            srv.close(() => resolve(port));
        });
    });
}

export class LocalPostgres {
    private constructor(
        public readonly port: number,
        private readonly dir: string,
        private readonly bin: string,
        private readonly superPassword: string,
        private readonly asUser: string[],
    ) {}

    /** initdb + start; the superuser `postgres` has a random password; nothing trusts anyone. */
    static async start(): Promise<LocalPostgres> {
        const bin = findBinDir();
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pgtest-"));
        const superPassword = crypto.randomBytes(18).toString("base64url");
        // initdb refuses to run as root; Debian's package creates the `postgres` user for this.
        const asUser = process.getuid?.() === 0 ? ["runuser", "-u", "postgres", "--"] : [];
        if (asUser.length > 0) {
            execFileSync("chown", ["postgres:postgres", dir]);
            fs.chmodSync(dir, 0o700);
        }
        const pwfile = path.join(dir, "pwfile");
        fs.writeFileSync(pwfile, superPassword, { mode: 0o600 });
        if (asUser.length > 0) {
            execFileSync("chown", ["postgres:postgres", pwfile]);
        }
        const port = await freePort();
        const pg = new LocalPostgres(port, dir, bin, superPassword, asUser);
        pg.run("initdb", ["-D", pg.dataDir, "-U", "postgres", "--auth=scram-sha-256", `--pwfile=${pwfile}`, "-E", "UTF8", "--no-sync", "--no-instructions"]);
        fs.rmSync(pwfile);
        pg.startServer();
        return pg;
    }

    get dataDir(): string {
        return path.join(this.dir, "data");
    }

    private run(tool: string, args: string[]): void {
        const [cmd, ...pre] = this.asUser.length > 0 ? this.asUser : [path.join(this.bin, tool)];
        const fullArgs = this.asUser.length > 0 ? [...pre, path.join(this.bin, tool), ...args] : args;
        const result = spawnSync(cmd, fullArgs, { encoding: "utf8" });
        if (result.status !== 0) {
            throw new Error(`${tool} failed (${result.status}): ${result.stderr || result.stdout}`);
        }
    }

    startServer(): void {
        this.run("pg_ctl", ["-D", this.dataDir, "-l", path.join(this.dir, "server.log"), "-w", "-t", "30", "-o",
            `-p ${this.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=${this.dir} -c fsync=off`, "start"]);
    }

    stopServer(): void {
        this.run("pg_ctl", ["-D", this.dataDir, "-w", "-t", "30", "-m", "fast", "stop"]);
    }

    /** Runs SQL as the superuser (over TCP, with the password). */
    async admin<T = unknown>(sql: string, params: unknown[] = [], database = "postgres"): Promise<T[]> {
        const client = new Client({ host: "127.0.0.1", port: this.port, user: "postgres", password: this.superPassword, database });
        await client.connect();
        try {
            return (await client.query(sql, params)).rows as T[];
        } finally {
            await client.end();
        }
    }

    /** A connected superuser client, for tests that hold locks or transactions open; the caller ends it. */
    async adminClient(database = "postgres"): Promise<Client> {
        const client = new Client({ host: "127.0.0.1", port: this.port, user: "postgres", password: this.superPassword, database });
        await client.connect();
        return client;
    }

    /** Stops the server and removes every file. Safe to call twice. */
    async destroy(): Promise<void> {
        try {
            this.stopServer();
        } catch {
            // already stopped
        }
        fs.rmSync(this.dir, { recursive: true, force: true });
    }
}
