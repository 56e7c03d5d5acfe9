// Outside a pod the app signs in as the developer, through `az account get-access-token`; a fake `az` on PATH
// stands in for the Azure CLI and records how it was called.
import { expect } from "chai";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { WorkloadIdentityCredential } from "@azure/identity";
import { appCredential, AzureCliDeveloperCredential, runsInPod } from "../src/credential";
import { EnvError } from "../src/env";
import { POSTGRES_SCOPE } from "../src/tokens";

/** A directory holding an executable `az` that logs its argv to `calls` and then runs `body` (a shell snippet). */
function fakeAz(body: string): { dir: string; calls: string; cleanup: () => void } {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fake-az-"));
    const calls = path.join(dir, "calls");
    fs.writeFileSync(path.join(dir, "az"), `#!/bin/sh\nprintf '%s\\n' "$@" >> "${calls}"\n${body}\n`, { mode: 0o755 });
    return { dir, calls, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** Runs `fn` with PATH = `dir` first; restores PATH after. */
async function withPath<T>(dir: string, fn: () => Promise<T>): Promise<T> {
    const saved = process.env.PATH;
    process.env.PATH = `${dir}${path.delimiter}${saved}`;
    try {
        return await fn();
    } finally {
        process.env.PATH = saved;
    }
}

describe("credential: in a pod workload identity, outside a pod the developer's az login", () => {
    it("asks the Azure CLI for a PostgreSQL token of the signed-in user, with execFile's argv (no shell)", async () => {
        const az = fakeAz(`echo '{"accessToken":"dev-token","expires_on":1796000000,"tokenType":"Bearer"}'`);
        try {
            const token = await withPath(az.dir, () => new AzureCliDeveloperCredential().getToken(POSTGRES_SCOPE));
            expect(token).to.deep.equal({ token: "dev-token", expiresOnTimestamp: 1796000000 * 1000 });
            expect(fs.readFileSync(az.calls, "utf8").trim().split("\n"))
                .to.deep.equal(["account", "get-access-token", "--resource", "https://ossrdbms-aad.database.windows.net", "--output", "json"]);
        } finally {
            az.cleanup();
        }
    });

    it("pins the tenant when AZURE_TENANT_ID is set", async () => {
        const az = fakeAz(`echo '{"accessToken":"t","expires_on":"1796000000"}'`);
        try {
            await withPath(az.dir, () => appCredential({ AZURE_TENANT_ID: "72f988bf-86f1-41af-91ab-2d7cd011db47" }).getToken(POSTGRES_SCOPE));
            expect(fs.readFileSync(az.calls, "utf8")).to.include("--tenant\n72f988bf-86f1-41af-91ab-2d7cd011db47\n");
        } finally {
            az.cleanup();
        }
    });

    it("reads an older CLI's local-time expiresOn", async () => {
        const az = fakeAz(`echo '{"accessToken":"t","expiresOn":"2026-11-30 05:12:34.000000"}'`);
        try {
            const token = await withPath(az.dir, () => new AzureCliDeveloperCredential().getToken(POSTGRES_SCOPE));
            expect(token.expiresOnTimestamp).to.equal(new Date(2026, 10, 30, 5, 12, 34).getTime());
        } finally {
            az.cleanup();
        }
    });

    it("a failed az (not logged in) says so, with the CLI's own first line", async () => {
        const az = fakeAz(`echo "ERROR: Please run 'az login' to setup account." >&2; exit 1`);
        try {
            let error: Error | undefined;
            await withPath(az.dir, () => new AzureCliDeveloperCredential().getToken(POSTGRES_SCOPE)).catch(e => { error = e; });
            expect(error?.message).to.equal("az account get-access-token failed: ERROR: Please run 'az login' to setup account.. Run az login (as yourself) and try again");
        } finally {
            az.cleanup();
        }
    });

    it("no az on PATH: says the CLI is missing", async () => {
        let error: Error | undefined;
        await new AzureCliDeveloperCredential({ command: "az-not-installed-here" }).getToken(POSTGRES_SCOPE).catch(e => { error = e; });
        expect(error?.message).to.match(/^the Azure CLI \(az-not-installed-here\) is not on PATH/);
    });

    it("outside a pod (no KUBERNETES_SERVICE_HOST, no token file) the app uses the developer's login", () => {
        expect(runsInPod({})).to.equal(false);
        expect(appCredential({ PGHOST: "x" })).to.be.instanceOf(AzureCliDeveloperCredential);
    });

    it("in a pod the app uses workload identity, never the CLI", () => {
        const env = { KUBERNETES_SERVICE_HOST: "10.0.0.1", AZURE_CLIENT_ID: "c", AZURE_TENANT_ID: "t", AZURE_FEDERATED_TOKEN_FILE: "/var/run/secrets/azure/tokens/azure-identity-token" };
        expect(appCredential(env)).to.be.instanceOf(WorkloadIdentityCredential);
    });

    it("a pod the webhook did not mutate fails, named, instead of falling back to the CLI", () => {
        expect(() => appCredential({ KUBERNETES_SERVICE_HOST: "10.0.0.1" })).to.throw(EnvError, /the workload identity webhook did not mutate this pod/);
    });
});
