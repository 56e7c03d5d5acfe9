// The check reads the Key Vault secrets the CSI driver mounted, from the directory the Deployment names.
import { expect } from "chai";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { EXIT_CODES, runCheck } from "../src/check";
import { memoryLogger } from "../src/log";
import { KEYVAULT_DIR_ENV, KEYVAULT_OBJECTS_ENV, MountedSecretsError, readMountedSecrets } from "../src/mounted";

function mountDir(files: Record<string, string>): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "secrets-store-"));
    for (const [name, value] of Object.entries(files)) {
        fs.writeFileSync(path.join(dir, name), value);
    }
    return dir;
}


describe("mounted Key Vault secrets", () => {
    it("reads each listed secret from its file in the mount directory", async () => {
        const dir = mountDir({ "demo-api-key": "s3cr3t-value", "payments-api-key": "p" });
        const secrets = await readMountedSecrets({ [KEYVAULT_DIR_ENV]: dir, [KEYVAULT_OBJECTS_ENV]: "demo-api-key,payments-api-key" });
        expect(secrets && Object.fromEntries(secrets)).to.deep.equal({ "demo-api-key": "s3cr3t-value", "payments-api-key": "p" });
    });

    it("an app with no secrets configured reads nothing", async () => {
        expect(await readMountedSecrets({})).to.equal(undefined);
    });

    it("a listed secret that is not mounted is named, with its path", async () => {
        const dir = mountDir({});
        const error = await readMountedSecrets({ [KEYVAULT_DIR_ENV]: dir, [KEYVAULT_OBJECTS_ENV]: "demo-api-key" }).catch(e => e);
        expect(error).to.be.instanceOf(MountedSecretsError);
        expect(error.message).to.include(`Key Vault secret demo-api-key is not mounted at ${path.join(dir, "demo-api-key")} (ENOENT)`);
    });

    it("refuses a name that could leave the mount directory", async () => {
        const error = await readMountedSecrets({ [KEYVAULT_DIR_ENV]: "/mnt/secrets-store", [KEYVAULT_OBJECTS_ENV]: "../etc/passwd" }).catch(e => e);
        expect(error.message).to.equal(`${KEYVAULT_OBJECTS_ENV} lists "../etc/passwd", which is not a Key Vault secret name`);
    });

    it("check reads the mounted file, logging its name and size but never its value", async () => {
        const dir = mountDir({ "demo-api-key": "s3cr3t-value" });
        const log = memoryLogger();
        // No token can be had here (the credential fails): the check gets past the secrets step and stops at the next.
        const credential = { getToken: async () => { throw new Error("no token in this test"); } };
        const code = await runCheck({
            env: { PGHOST: "127.0.0.1", PGUSER: "u", PGDATABASE: "d", PGSSLMODE: "disable", [KEYVAULT_DIR_ENV]: dir, [KEYVAULT_OBJECTS_ENV]: "demo-api-key" },
            log, credential, tokenRetryMs: 0, sleep: async () => undefined,
        });
        expect(code).to.equal(EXIT_CODES["token exchange"]);
        const line = log.lines.find(l => l.msg === "mounted Key Vault secrets readable");
        expect(line?.secrets).to.deep.equal([{ name: "demo-api-key", bytes: 12 }]);
        expect(JSON.stringify(log.lines)).to.not.include("s3cr3t-value");
    });

    it("check fails at the secrets step, exit 9, when a listed secret is not mounted", async () => {
        const log = memoryLogger();
        const code = await runCheck({
            env: { PGHOST: "127.0.0.1", PGUSER: "u", PGDATABASE: "d", PGSSLMODE: "disable", [KEYVAULT_DIR_ENV]: mountDir({}), [KEYVAULT_OBJECTS_ENV]: "demo-api-key" },
            log, credential: { getToken: async () => null }, tokenRetryMs: 0, sleep: async () => undefined,
        });
        expect(code).to.equal(EXIT_CODES.secrets).and.to.equal(9);
        expect(log.lines.find(l => l.level === "error")?.error).to.match(/Key Vault secret demo-api-key is not mounted/);
    });
});
