// Entra access tokens for PostgreSQL: one cached token for every connection, refreshed in the background.
//
// We use a few lines of our own rather than @azure/postgresql-auth (1.0.0-beta.1): its pg helper calls
// credential.getToken() on every new connection and relies on the credential's internal cache, which we can
// neither observe nor test. The rule here, the same in any language:
// - A token is used for new connections while it is valid for more than a small margin (a tenth of its
//   lifetime, at most 30 s): PostgreSQL checks it once, when the connection authenticates.
// - It is refreshed early — when Entra's `refresh_in` says so, or `refreshMarginMs` (5 min, at most half the
//   lifetime) before expiry — in the background. Callers keep getting the valid token meanwhile.
// - A failed refresh is retried in the background with exponential backoff and jitter. Nobody fails while a
//   valid token is left; once none is, callers wait for a fetch at most `timeoutMs` and, inside a backoff
//   window, fail at once with the last error instead of piling onto a failing endpoint.
// This is also what @azure/core-rest-pipeline's own bearer-token policy does for Azure SDK clients
// (util/tokenCycler.js: refresh window 2 min, retry every 3 s, keep the old token until it expires).
import type { AccessToken, TokenCredential } from "@azure/identity";
import { TOKEN_RETRY_INITIAL_MS, TOKEN_RETRY_MAX_MS, TOKEN_TIMEOUT_MS } from "./timeouts";

/** The scope Azure Database for PostgreSQL accepts tokens for. */
export const POSTGRES_SCOPE = "https://ossrdbms-aad.database.windows.net/.default";

/** A token the credential could not produce in time, or at all; wraps the credential's own error. */
export class TokenExchangeError extends Error {
    constructor(public readonly cause: unknown) {
        super(`could not get a Microsoft Entra token: ${cause instanceof Error ? cause.message : String(cause)}`);
        this.name = "TokenExchangeError";
    }
}

export interface EntraTokenCacheOptions {
    /** Refresh this long before expiry (at most half the token's lifetime). */
    refreshMarginMs?: number;
    /** Longest wait for a token when none is cached. */
    timeoutMs?: number;
    /** First delay before retrying a failed fetch; doubles up to `maxRetryDelayMs`. 0 turns the backoff off. */
    retryDelayMs?: number;
    maxRetryDelayMs?: number;
    /** Refresh before expiry and retry failures on timers (the service); off for one-shot use (`check`). */
    background?: boolean;
    /** Told about each failed background refresh. */
    onRefreshFailed?: (info: { error: unknown; attempt: number; retryInMs: number; validForMs: number }) => void;
    /** Clock, for tests. */
    now?: () => number;
}

interface Cached {
    token: string;
    expiresAt: number;
    refreshAt: number;
    usableUntil: number;
}

export class EntraTokenCache {
    /** Token requests that reached the credential. */
    public fetches = 0;
    private cached?: Cached;
    private inFlight?: Promise<Cached>;
    private failures = 0;
    private lastError?: unknown;
    private retryAt = 0;
    private timer?: NodeJS.Timeout;
    private stopped = false;
    private readonly refreshMarginMs: number;
    private readonly timeoutMs: number;
    private readonly retryDelayMs: number;
    private readonly maxRetryDelayMs: number;
    private readonly background: boolean;
    private readonly now: () => number;

    constructor(private readonly credential: TokenCredential, private readonly options: EntraTokenCacheOptions = {}) {
        this.refreshMarginMs = options.refreshMarginMs ?? 5 * 60_000;
        this.timeoutMs = options.timeoutMs ?? TOKEN_TIMEOUT_MS;
        this.retryDelayMs = options.retryDelayMs ?? TOKEN_RETRY_INITIAL_MS;
        this.maxRetryDelayMs = options.maxRetryDelayMs ?? TOKEN_RETRY_MAX_MS;
        this.background = options.background ?? true;
        this.now = options.now ?? Date.now;
    }

    /** The cached token if it is still good for a new connection; never waits, never fetches. */
    peek(): string | undefined {
        return this.cached && this.now() < this.cached.usableUntil ? this.cached.token : undefined;
    }

    /** Milliseconds the cached token stays usable for new connections (0 when there is none). */
    validForMs(): number {
        return this.cached ? Math.max(0, this.cached.usableUntil - this.now()) : 0;
    }

    /**
     * A token good for a new connection. Answers from the cache while it is; starts a refresh (without waiting
     * for it) once the token is due; waits for a fetch only when no usable token is left.
     */
    async get(): Promise<string> {
        const usable = this.peek();
        if (usable !== undefined) {
            if (this.now() >= this.cached!.refreshAt && !this.inFlight && this.now() >= this.retryAt) {
                void this.fetch().catch(() => undefined); // failures are scheduled for retry inside fetch()
            }
            return usable;
        }
        if (!this.inFlight && this.now() < this.retryAt) {
            throw new TokenExchangeError(this.lastError); // inside the backoff window: fail fast
        }
        const fetching = this.inFlight ?? this.fetch();
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new TokenExchangeError(new Error(`no token within ${this.timeoutMs} ms`))), this.timeoutMs);
        });
        try {
            return (await Promise.race([fetching, timeout])).token;
        } catch (error) {
            throw error instanceof TokenExchangeError ? error : new TokenExchangeError(error);
        } finally {
            clearTimeout(timer);
        }
    }

    /** Resolves once no fetch is in flight (for tests and orderly shutdown). */
    async settled(): Promise<void> {
        while (this.inFlight) {
            await this.inFlight.catch(() => undefined);
        }
    }

    /** Cancels the background timers. */
    stop(): void {
        this.stopped = true;
        clearTimeout(this.timer);
    }

    private fetch(): Promise<Cached> {
        this.inFlight ??= this.fetchOnce().finally(() => {
            this.inFlight = undefined;
        });
        return this.inFlight;
    }

    private async fetchOnce(): Promise<Cached> {
        this.fetches++;
        let result: AccessToken | null;
        try {
            result = await this.credential.getToken(POSTGRES_SCOPE);
            if (!result?.token) {
                throw new Error(`the credential returned no token for ${POSTGRES_SCOPE}`);
            }
        } catch (error) {
            this.failed(error);
            throw error;
        }
        const now = this.now();
        const lifetime = Math.max(0, result.expiresOnTimestamp - now);
        const cached: Cached = {
            token: result.token,
            expiresAt: result.expiresOnTimestamp,
            refreshAt: Math.min(result.refreshAfterTimestamp ?? Infinity, result.expiresOnTimestamp - Math.min(this.refreshMarginMs, lifetime / 2)),
            usableUntil: result.expiresOnTimestamp - Math.min(30_000, lifetime / 10),
        };
        this.cached = cached;
        this.failures = 0;
        this.lastError = undefined;
        this.retryAt = 0;
        this.schedule(cached.refreshAt - now);
        return cached;
    }

    private failed(error: unknown): void {
        this.failures++;
        this.lastError = error;
        if (this.retryDelayMs <= 0) {
            return;
        }
        const ceiling = Math.min(this.maxRetryDelayMs, this.retryDelayMs * 2 ** (this.failures - 1));
        const retryInMs = Math.round(ceiling / 2 + Math.random() * ceiling / 2);
        this.retryAt = this.now() + retryInMs;
        this.options.onRefreshFailed?.({ error, attempt: this.failures, retryInMs, validForMs: this.validForMs() });
        this.schedule(retryInMs);
    }

    private schedule(inMs: number): void {
        if (!this.background || this.stopped) {
            return;
        }
        clearTimeout(this.timer);
        this.timer = setTimeout(() => {
            void this.fetch().catch(() => undefined);
        }, Math.max(0, inMs));
        this.timer.unref();
    }
}
