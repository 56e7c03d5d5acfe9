// `npm run bench`'s token section: does connecting with an Entra access token instead of a short static password
// cost the app's pool throughput? One throwaway PostgreSQL (tests/postgres/cluster.ts: scram-sha-256 everywhere,
// temp dir, free port, always stopped), two login roles: one whose password is an Entra-sized token (a JWT of
// ~1.6 KB, as Entra issues for the PostgreSQL resource) handed out by the app's own EntraTokenCache through the
// app's own createPool (app/src/db.ts), one with a 24-character password through the very same pool code (its
// credential hands out the password instead of a token), so the ratio is the token's own cost. A plain pg Pool with
// the password is measured too, as the baseline of the app's pool code itself (its per-step bounds).
// All run in the same process, in alternating rounds, so load on the machine hits them alike.
//   steady: queries through a warm pool (connections reused, as the service runs)
//   churn:  every query on a new connection (connect, authenticate, query, close): the worst case for tokens
import * as crypto from "crypto";
import { Pool, PoolClient } from "pg";
import { createPool } from "../app/src/db";
import { EntraTokenCache } from "../app/src/tokens";
import { Cluster, ident } from "../tests/postgres/cluster";

export interface TokenResult {
    major: number;
    tokenBytes: number;
    passwordBytes: number;
    rounds: number;
    roundSeconds: number;
    /** Operations per second, median over rounds; ratio = token / password (same pool code). */
    steady: Sides;
    churn: Sides;
}

interface Sides {
    token: number;
    password: number;
    /** A plain pg Pool with the password: what the app's pool code costs by itself. */
    barePg: number;
    ratio: number;
}

/** A JWT-shaped string of `bytes` characters (header.payload.signature, base64url) standing in for an Entra token. */
function entraLikeToken(bytes: number): string {
    const part = (n: number) => crypto.randomBytes(Math.ceil((n * 3) / 4)).toString("base64url").slice(0, n);
    const header = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiIsIng1dCI6Ik1HTHFqOThWTkxvWGFGZnBKQ0JwZ0I0SmFLcyJ9";
    const signature = part(342); // RS256 over a 2048-bit key
    return `${header}.${part(bytes - header.length - signature.length - 2)}.${signature}`;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function opsPerSecond(seconds: number, workers: number, op: () => Promise<void>): Promise<number> {
    const until = Date.now() + seconds * 1000;
    let done = 0;
    await Promise.all(Array.from({ length: workers }, async () => {
        while (Date.now() < until) {
            await op();
            done++;
        }
    }));
    return done / seconds;
}

export async function measureTokenOverhead(options: { rounds?: number; roundSeconds?: number; major?: 16 | 17 | 18 } = {}): Promise<TokenResult> {
    const rounds = options.rounds ?? 9;
    const roundSeconds = options.roundSeconds ?? 1.5;
    const major = options.major ?? 17;
    const token = entraLikeToken(1600);
    const password = crypto.randomBytes(18).toString("base64url"); // 24 characters
    const [cluster] = await Cluster.start(major, "bench_admin");
    const pools: Pool[] = [];
    try {
        await cluster.superuser(`CREATE ROLE ${ident("app_token")} LOGIN PASSWORD '${token}'`);
        await cluster.superuser(`CREATE ROLE ${ident("app_password")} LOGIN PASSWORD '${password}'`);
        const cache = (secret: string) => new EntraTokenCache(
            { getToken: async () => ({ token: secret, expiresOnTimestamp: Date.now() + 60 * 60_000 }) }, { background: false });
        const size = 4;
        const env = (user: string) => ({ host: "127.0.0.1", port: cluster.port, user, database: "postgres", sslmode: "disable" as const });
        const tokens = cache(token);
        const passwords = cache(password);
        const sides: Record<keyof Omit<Sides, "ratio">, Pool> = {
            token: createPool(env("app_token"), tokens, { max: size }),
            password: createPool(env("app_password"), passwords, { max: size }),
            barePg: new Pool({ ...env("app_password"), password, max: size }),
        };
        pools.push(...Object.values(sides));
        const steady = (pool: Pool) => async () => { await pool.query("SELECT 1"); };
        const churn = (pool: Pool) => async () => {
            const client: PoolClient = await pool.connect();
            try {
                await client.query("SELECT 1");
            } finally {
                client.release(true); // destroy: the next query authenticates again
            }
        };
        const names = Object.keys(sides) as (keyof typeof sides)[];
        // Warm all (JIT, first connections) before measuring.
        for (const name of names) {
            await opsPerSecond(0.5, size, churn(sides[name]));
        }
        const samples = { steady: new Map(names.map(n => [n, [] as number[]])), churn: new Map(names.map(n => [n, [] as number[]])) };
        for (let i = 0; i < rounds; i++) {
            // Rotate which goes first, so a drift in machine load does not favour one side.
            const order = names.map((_, j) => names[(i + j) % names.length]);
            for (const kind of ["steady", "churn"] as const) {
                for (const name of order) {
                    samples[kind].get(name)!.push(await opsPerSecond(roundSeconds, size, (kind === "steady" ? steady : churn)(sides[name])));
                }
            }
        }
        const summary = (s: Map<string, number[]>): Sides => {
            const [t, p, b] = ["token", "password", "barePg"].map(n => median(s.get(n)!));
            return { token: Math.round(t), password: Math.round(p), barePg: Math.round(b), ratio: Number((t / p).toFixed(3)) };
        };
        passwords.stop();
        tokens.stop();
        return {
            major, tokenBytes: token.length, passwordBytes: password.length, rounds, roundSeconds,
            steady: summary(samples.steady), churn: summary(samples.churn),
        };
    } finally {
        await Promise.all(pools.map(p => p.end().catch(() => undefined)));
        await cluster.stop();
    }
}
