// The app's whole configuration: the libpq PG* variables, nothing else. There is no password input at all.

export type SslMode = "disable" | "require" | "verify-full";

export interface DbEnv {
    host: string;
    port: number;
    user: string;
    database: string;
    /**
     * `require` and `verify-full` both encrypt *and* verify the server certificate against Node's CA store
     * (Azure's certificates chain to public roots), which is stricter than libpq's `require`.
     * `disable` exists for local tests against a throwaway server on loopback only.
     */
    sslmode: SslMode;
}

export class EnvError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "EnvError";
    }
}

const SSL_MODES: readonly SslMode[] = ["disable", "require", "verify-full"];

/** Reads PGHOST, PGPORT, PGUSER, PGDATABASE and PGSSLMODE; refuses to run with any password variable set. */
export function readDbEnv(env: NodeJS.ProcessEnv): DbEnv {
    const forbidden = ["PGPASSWORD", "PGPASSFILE", "DATABASE_URL"].filter(name => env[name] !== undefined);
    if (forbidden.length > 0) {
        throw new EnvError(`${forbidden.join(", ")} must not be set: this app authenticates with Microsoft Entra tokens only`);
    }
    const missing = ["PGHOST", "PGUSER", "PGDATABASE"].filter(name => !env[name]);
    if (missing.length > 0) {
        throw new EnvError(`missing environment: ${missing.join(", ")} (set by the Deployment from the stack's outputs)`);
    }
    const port = Number(env.PGPORT ?? "5432");
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
        throw new EnvError(`PGPORT=${env.PGPORT} is not a TCP port`);
    }
    const sslmode = (env.PGSSLMODE ?? "require") as SslMode;
    if (!SSL_MODES.includes(sslmode)) {
        throw new EnvError(`PGSSLMODE=${env.PGSSLMODE} is not supported; use ${SSL_MODES.join(", ")}`);
    }
    if (sslmode === "disable" && !["127.0.0.1", "localhost", "::1"].includes(env.PGHOST!)) {
        throw new EnvError(`PGSSLMODE=disable is only allowed for a server on loopback, not ${env.PGHOST}`);
    }
    return { host: env.PGHOST!, port, user: env.PGUSER!, database: env.PGDATABASE!, sslmode };
}
