// `npm run bench`'s token section: does connecting with an Entra access token instead of a short static password
// cost the app's pool throughput? One throwaway PostgreSQL (tests/postgres/cluster.ts: scram-sha-256 everywhere,
// temp dir, free port, always stopped), two login roles: one whose password is an Entra-sized token (a JWT of
// ~1.6 KB, as Entra issues for the PostgreSQL resource) handed out by the app's own EntraTokenCache through the
// app's own createPool (app/src/db.ts), one with a 24-character password through a plain pg Pool of the same size.
// Both run in the same process, in alternating rounds, so load on the machine hits both alike.
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
    /** Operations per second, median over rounds. */
    steady: { token: number; password: number; ratio: number };
    churn: { token: number; password: number; ratio: number };
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
    const rounds = options.rounds ?? 5;
    const roundSeconds = options.roundSeconds ?? 2;
    const major = options.major ?? 17;
    const token = entraLikeToken(1600);
    const password = crypto.randomBytes(18).toString("base64url"); // 24 characters
    const [cluster] = await Cluster.start(major, "bench_admin");
    const pools: Pool[] = [];
    try {
        await cluster.superuser(`CREATE ROLE ${ident("app_token")} LOGIN PASSWORD '${token}'`);
        await cluster.superuser(`CREATE ROLE ${ident("app_password")} LOGIN PASSWORD '${password}'`);
        const credential = { getToken: async () => ({ token, expiresOnTimestamp: Date.now() + 60 * 60_000 }) };
        const tokens = new EntraTokenCache(credential, { background: false });
        const size = 4;
        const withToken = createPool({ host: "127.0.0.1", port: cluster.port, user: "app_token", database: "postgres", sslmode: "disable" }, tokens, { max: size });
        const withPassword = new Pool({ host: "127.0.0.1", port: cluster.port, user: "app_password", database: "postgres", password, max: size });
        pools.push(withToken, withPassword);
        const steady = (pool: Pool) => async () => { await pool.query("SELECT 1"); };
        const churn = (pool: Pool) => async () => {
            const client: PoolClient = await pool.connect();
            try {
                await client.query("SELECT 1");
            } finally {
                client.release(true); // destroy: the next query authenticates again
            }
        };
        // Warm both (JIT, first connections) before measuring.
        await opsPerSecond(0.5, size, churn(withToken));
        await opsPerSecond(0.5, size, churn(withPassword));
        const samples = { steady: { token: [] as number[], password: [] as number[] }, churn: { token: [] as number[], password: [] as number[] } };
        for (let i = 0; i < rounds; i++) {
            // Alternate which goes first, so a drift in machine load does not favour one side.
            const order: ["token" | "password", Pool][] = i % 2 === 0 ? [["token", withToken], ["password", withPassword]] : [["password", withPassword], ["token", withToken]];
            for (const [side, pool] of order) {
                samples.steady[side].push(await opsPerSecond(roundSeconds, size, steady(pool)));
            }
            for (const [side, pool] of order) {
                samples.churn[side].push(await opsPerSecond(roundSeconds, size, churn(pool)));
            }
        }
        const summary = (s: { token: number[]; password: number[] }) => {
            const tokenOps = median(s.token);
            const passwordOps = median(s.password);
            return { token: Math.round(tokenOps), password: Math.round(passwordOps), ratio: Number((tokenOps / passwordOps).toFixed(3)) };
        };
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
