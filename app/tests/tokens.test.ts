import { expect } from "chai";
import { EntraTokenCache, POSTGRES_SCOPE, TokenExchangeError } from "../src/tokens";
import { RotatingCredential } from "./fakeCredential";

describe("EntraTokenCache", () => {
    it("asks for the PostgreSQL scope", async () => {
        const credential = new RotatingCredential();
        await new EntraTokenCache(credential).get();
        expect(credential.scopes).to.deep.equal([POSTGRES_SCOPE]);
        expect(POSTGRES_SCOPE).to.equal("https://ossrdbms-aad.database.windows.net/.default");
    });

    it("serves one token to many callers until it nears expiry", async () => {
        let now = 0;
        const credential = new RotatingCredential(60 * 60_000, () => now);
        const cache = new EntraTokenCache(credential, { refreshMarginMs: 5 * 60_000, now: () => now });
        for (let i = 0; i < 100; i++) {
            expect(await cache.get()).to.equal("token-1");
        }
        expect(credential.requests).to.equal(1);
        now = 55 * 60_000 + 1; // inside the refresh margin, still valid for minutes
        credential.rotate();
        expect(await cache.get(), "the valid token is served while the refresh runs").to.equal("token-1");
        await cache.settled();
        expect(await cache.get()).to.equal("token-2");
        expect(credential.requests).to.equal(2);
    });

    it("concurrent callers share one in-flight request", async () => {
        const credential = new RotatingCredential();
        const cache = new EntraTokenCache(credential);
        const tokens = await Promise.all(Array.from({ length: 20 }, () => cache.get()));
        expect(new Set(tokens)).to.deep.equal(new Set(["token-1"]));
        expect(credential.requests).to.equal(1);
    });

    it("a failed request is not cached: inside the backoff window callers fail fast, after it the next caller tries again", async () => {
        let now = 0;
        const credential = new RotatingCredential(60 * 60_000, () => now);
        credential.failNext = { times: 1, error: new Error("AADSTS70021: No matching federated identity record found") };
        const cache = new EntraTokenCache(credential, { now: () => now, background: false, retryDelayMs: 1000 });
        let error: unknown;
        await cache.get().catch(e => { error = e; });
        expect((error as Error).message).to.contain("AADSTS70021");
        error = undefined;
        await cache.get().catch(e => { error = e; });
        expect((error as Error).message, "the same failure, without another request").to.contain("AADSTS70021");
        expect(credential.requests).to.equal(1);
        now += 1000;
        expect(await cache.get()).to.equal("token-1");
        expect(credential.requests).to.equal(2);
    });

    it("a failed refresh keeps the valid token in service and is retried with growing delays", async () => {
        let now = 0;
        const credential = new RotatingCredential(60 * 60_000, () => now);
        const failures: { retryInMs: number; validForMs: number }[] = [];
        const cache = new EntraTokenCache(credential, { now: () => now, background: false, onRefreshFailed: f => failures.push(f) });
        expect(await cache.get()).to.equal("token-1");
        credential.failNext = { times: 3, error: new Error("AADSTS50196: server error") };
        now = 56 * 60_000; // due for refresh, valid for 4 more minutes
        for (let i = 0; i < 3; i++) {
            expect(await cache.get(), "served while refreshes fail").to.equal("token-1");
            await cache.settled();
            now += 60_000 / 4; // past any backoff delay below 15 s
        }
        expect(failures.map(f => f.retryInMs)).to.satisfy((d: number[]) => d[0] >= 500 && d[0] <= 1000 && d[1] >= 1000 && d[1] <= 2000 && d[2] >= 2000 && d[2] <= 4000);
        expect(failures.every(f => f.validForMs > 0)).to.equal(true);
        await cache.get(); // Entra is back: this refresh succeeds
        await cache.settled();
        await cache.get();
        expect(credential.requests, "one fetch, three failed refreshes, one that worked, none since").to.equal(5);
    });

    it("once no valid token is left, callers fail with the credential's error", async () => {
        let now = 0;
        const credential = new RotatingCredential(60 * 60_000, () => now);
        const cache = new EntraTokenCache(credential, { now: () => now, background: false });
        await cache.get();
        credential.failNext = { times: 1, error: new Error("AADSTS50196: server error") };
        now = 60 * 60_000; // expired
        let error: unknown;
        await cache.get().catch(e => { error = e; });
        expect(error).to.be.instanceOf(TokenExchangeError);
        expect((error as Error).message).to.contain("AADSTS50196");
    });

    it("honours the credential's refreshAfterTimestamp (Entra's refresh_in)", async () => {
        let now = 0;
        let n = 0;
        const credential = {
            getToken: async () => ({ token: `t${++n}`, expiresOnTimestamp: now + 24 * 3600_000, refreshAfterTimestamp: now + 12 * 3600_000 }),
        };
        const cache = new EntraTokenCache(credential, { now: () => now, background: false });
        expect(await cache.get()).to.equal("t1");
        now = 12 * 3600_000 - 1;
        expect(await cache.get()).to.equal("t1");
        await cache.settled();
        expect(n, "not due yet").to.equal(1);
        now = 12 * 3600_000;
        await cache.get();
        await cache.settled();
        expect(await cache.get()).to.equal("t2");
    });

    it("a credential that hangs costs a caller at most the token timeout", async () => {
        const cache = new EntraTokenCache({ getToken: () => new Promise(() => undefined) }, { timeoutMs: 50, background: false });
        const started = Date.now();
        let error: unknown;
        await cache.get().catch(e => { error = e; });
        expect(error).to.be.instanceOf(TokenExchangeError);
        expect((error as Error).message).to.contain("no token within 50 ms");
        expect(Date.now() - started).to.be.below(1000);
    });
});
