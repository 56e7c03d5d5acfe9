import { expect } from "chai";
import { EntraTokenCache, POSTGRES_SCOPE } from "../src/tokens";
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
        now = 55 * 60_000 + 1; // inside the refresh margin
        credential.rotate();
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

    it("a failed request is not cached: the next caller tries again", async () => {
        const credential = new RotatingCredential();
        credential.failNext = { times: 1, error: new Error("AADSTS70021: No matching federated identity record found") };
        const cache = new EntraTokenCache(credential);
        let error: unknown;
        await cache.get().catch(e => { error = e; });
        expect((error as Error).message).to.contain("AADSTS70021");
        expect(await cache.get()).to.equal("token-1");
    });
});
