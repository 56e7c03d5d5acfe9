import { expect } from "chai";
import { ARM_ENDPOINT, armPatchProvider, patchArmResource } from "../../lib/armPatch";

const SERVER_ID = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.DBforPostgreSQL/flexibleServers/psql-x";
const MONITOR = "https://management.azure.com/subscriptions/s/providers/Microsoft.DBforPostgreSQL/locations/westeurope/azureAsyncOperation/op-1";
const request = {
    resourceId: SERVER_ID,
    apiVersion: "2025-08-01",
    body: { properties: { maintenanceWindow: { customWindow: "Enabled", dayOfWeek: 0, startHour: 2, startMinute: 0 } } },
    armToken: "arm-token",
};

/** A stand-in for ARM: answers the PATCH with 202 and the operation's status with each of `statuses` in turn. */
function fakeArm(statuses: string[], patchStatus = 202) {
    const calls: { method: string; url: string; auth: string | null; body?: string }[] = [];
    const fetch: typeof globalThis.fetch = async (input, init) => {
        const headers = new Headers(init?.headers);
        calls.push({ method: init?.method ?? "GET", url: String(input), auth: headers.get("authorization"), body: init?.body as string | undefined });
        if (init?.method === "PATCH") {
            return new Response(patchStatus === 202 ? "" : JSON.stringify({ error: { code: "InvalidParameter" } }),
                { status: patchStatus, headers: patchStatus === 202 ? { "Azure-AsyncOperation": MONITOR, "Retry-After": "1" } : {} });
        }
        const status = statuses.shift() ?? "Succeeded";
        return new Response(JSON.stringify({ status, ...(status === "Failed" ? { error: { code: "ServerBusy" } } : {}) }), { status: 200 });
    };
    const slept: number[] = [];
    return { calls, fetch, slept, sleep: async (ms: number) => { slept.push(ms); } };
}

describe("ArmPatch (a follow-up update Azure requires)", () => {
    it("PATCHes the resource on ARM with the body and the token, and waits until Azure reports success", async () => {
        const arm = fakeArm(["InProgress", "InProgress", "Succeeded"]);
        await patchArmResource(request, { fetch: arm.fetch, sleep: arm.sleep });
        expect(arm.calls[0]).to.deep.equal({
            method: "PATCH", url: `${ARM_ENDPOINT}${SERVER_ID}?api-version=2025-08-01`, auth: "Bearer arm-token", body: JSON.stringify(request.body),
        });
        expect(arm.calls.slice(1).map(c => [c.method, c.url, c.auth])).to.deep.equal([
            ["GET", MONITOR, "Bearer arm-token"], ["GET", MONITOR, "Bearer arm-token"], ["GET", MONITOR, "Bearer arm-token"],
        ]);
        expect(arm.slept).to.deep.equal([1000, 10_000, 10_000]);
    });

    it("fails with Azure's error when the operation fails, so later writes never race it", async () => {
        const arm = fakeArm(["InProgress", "Failed"]);
        let error: Error | undefined;
        await patchArmResource(request, { fetch: arm.fetch, sleep: arm.sleep }).catch(e => { error = e; });
        expect(error?.message).to.match(/operation Failed: .*ServerBusy/);
    });

    it("fails when Azure refuses the PATCH", async () => {
        const arm = fakeArm([], 400);
        let error: Error | undefined;
        await patchArmResource(request, { fetch: arm.fetch, sleep: arm.sleep }).catch(e => { error = e; });
        expect(error?.message).to.match(/PATCH .*psql-x failed: 400 .*InvalidParameter/);
    });

    it("gives up after its deadline instead of polling forever", async () => {
        const arm = fakeArm(Array(100).fill("InProgress"));
        let error: Error | undefined;
        await patchArmResource(request, { fetch: arm.fetch, sleep: async () => { await new Promise(r => setTimeout(r, 2)); }, timeoutMs: 20 })
            .catch(e => { error = e; });
        expect(error?.message).to.match(/did not finish the operation in time/);
    });

    it("a new token alone is no change; a new window is", async () => {
        const olds = { ...request, resourceType: "Microsoft.DBforPostgreSQL/flexibleServers" };
        expect((await armPatchProvider.diff!("id", olds, { ...olds, armToken: "a-later-token" })).changes).to.equal(false);
        const moved = { ...olds, body: { properties: { maintenanceWindow: { customWindow: "Enabled", dayOfWeek: 6, startHour: 2, startMinute: 0 } } } };
        expect((await armPatchProvider.diff!("id", olds, moved)).changes).to.equal(true);
    });

    it("keeps the token out of its outputs", async () => {
        const arm = fakeArm([]);
        const realFetch = globalThis.fetch;
        globalThis.fetch = arm.fetch;
        try {
            // Retry-After 1 s: one real second of waiting.
            const result = await armPatchProvider.create!({ ...request, resourceType: "Microsoft.DBforPostgreSQL/flexibleServers" });
            expect(result.outs).to.not.have.property("armToken");
            expect(result.id).to.equal(`${SERVER_ID}#patch`);
        } finally {
            globalThis.fetch = realFetch;
        }
    });
});
