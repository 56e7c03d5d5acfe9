// Entra access tokens for PostgreSQL, cached until shortly before they expire.
//
// We use a few lines of our own rather than @azure/postgresql-auth (1.0.0-beta.1): its pg helper calls
// credential.getToken() on every new connection and relies on the credential's internal cache, which we can
// neither observe nor test. Here one token serves every connection until `refreshMarginMs` before expiry,
// concurrent connections share one in-flight fetch, and `fetches` counts what reached the credential.
import type { TokenCredential } from "@azure/identity";

/** The scope Azure Database for PostgreSQL accepts tokens for. */
export const POSTGRES_SCOPE = "https://ossrdbms-aad.database.windows.net/.default";

export interface EntraTokenCacheOptions {
    /** Refresh this long before expiry, so a connection never presents a token that expires mid-handshake. */
    refreshMarginMs?: number;
    /** Clock, for tests. */
    now?: () => number;
}

export class EntraTokenCache {
    /** Token requests that reached the credential (cache misses). */
    public fetches = 0;
    private cached?: { token: string; expiresAt: number };
    private inFlight?: Promise<string>;
    private readonly refreshMarginMs: number;
    private readonly now: () => number;

    constructor(private readonly credential: TokenCredential, options: EntraTokenCacheOptions = {}) {
        this.refreshMarginMs = options.refreshMarginMs ?? 5 * 60_000;
        this.now = options.now ?? Date.now;
    }

    /** A token valid for at least the refresh margin; fetches one only when needed. */
    get(): Promise<string> {
        if (this.cached && this.cached.expiresAt - this.refreshMarginMs > this.now()) {
            return Promise.resolve(this.cached.token);
        }
        this.inFlight ??= this.fetch().finally(() => {
            this.inFlight = undefined;
        });
        return this.inFlight;
    }

    private async fetch(): Promise<string> {
        this.fetches++;
        const result = await this.credential.getToken(POSTGRES_SCOPE);
        if (!result?.token) {
            throw new Error(`the credential returned no token for ${POSTGRES_SCOPE}`);
        }
        this.cached = { token: result.token, expiresAt: result.expiresOnTimestamp };
        return result.token;
    }
}
