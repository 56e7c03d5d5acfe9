// A TokenCredential double: hands out tokens "token-1", "token-2", … and counts requests. The tests set the
// app role's PostgreSQL password to the current token, so the server checks exactly what Entra would sign.
import type { AccessToken, TokenCredential } from "@azure/identity";

export class RotatingCredential implements TokenCredential {
    public requests = 0;
    public scopes: string[] = [];
    private generation = 1;
    /** When set, getToken rejects with this error (e.g. an Entra refusal) this many more times. */
    public failNext: { times: number; error: Error } | undefined;

    constructor(private readonly lifetimeMs = 60 * 60_000, private readonly now: () => number = Date.now) {}

    get current(): string {
        return `token-${this.generation}`;
    }

    /** Moves to the next token; returns it. */
    rotate(): string {
        this.generation++;
        return this.current;
    }

    async getToken(scopes: string | string[]): Promise<AccessToken> {
        this.requests++;
        this.scopes.push(...(Array.isArray(scopes) ? scopes : [scopes]));
        if (this.failNext && this.failNext.times > 0) {
            this.failNext.times--;
            throw this.failNext.error;
        }
        return { token: this.current, expiresOnTimestamp: this.now() + this.lifetimeMs };
    }
}
