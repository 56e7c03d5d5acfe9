import { expect } from "chai";
import { keyVaultRbacPurgeProtected, TYPES } from "../policies";
import { violations } from "./run";

const RBAC = "a Key Vault must authorise data access with Azure RBAC (properties.enableRbacAuthorization: true), not access policies";
const PURGE = "in production a Key Vault needs purge protection (properties.enablePurgeProtection: true)";

const vault = (properties: Record<string, unknown>) => ({ type: TYPES.keyVault, props: { vaultName: "kv-x", properties: { tenantId: "t", sku: { family: "A", name: "standard" }, ...properties } } });

describe("policy key-vault-rbac-purge-protected", () => {
    it("passes dev's vault: RBAC, no access policies, purge protection left out", async () => {
        expect(await violations(keyVaultRbacPurgeProtected, vault({ enableRbacAuthorization: true }), {}, { stack: "dev" })).to.deep.equal([]);
    });

    it("passes prod's vault: RBAC and purge protection", async () => {
        expect(await violations(keyVaultRbacPurgeProtected, vault({ enableRbacAuthorization: true, enablePurgeProtection: true }), {}, { stack: "prod" })).to.deep.equal([]);
    });

    it("rejects a vault without RBAC authorization (Key Vault's default is access policies)", async () => {
        expect(await violations(keyVaultRbacPurgeProtected, vault({}), {}, { stack: "dev" })).to.deep.equal([RBAC]);
        expect(await violations(keyVaultRbacPurgeProtected, vault({ enableRbacAuthorization: false }), {}, { stack: "dev" })).to.deep.equal([RBAC]);
    });

    it("rejects access policies", async () => {
        const policies = [{ tenantId: "t", objectId: "o", permissions: { secrets: ["get"] } }];
        expect(await violations(keyVaultRbacPurgeProtected, vault({ enableRbacAuthorization: true, accessPolicies: policies }), {}, { stack: "dev" }))
            .to.deep.equal(['a Key Vault has no access policies (found 1): grant "Key Vault Secrets User" on each secret instead']);
    });

    it("rejects a prod vault without purge protection, detected by stack name", async () => {
        expect(await violations(keyVaultRbacPurgeProtected, vault({ enableRbacAuthorization: true }), {}, { stack: "prod" })).to.deep.equal([PURGE]);
        expect(await violations(keyVaultRbacPurgeProtected, vault({ enableRbacAuthorization: true }), { prodStacks: ["live"] }, { stack: "live" })).to.deep.equal([PURGE]);
        expect(await violations(keyVaultRbacPurgeProtected, vault({ enableRbacAuthorization: true }), { prodStacks: ["live"] }, { stack: "prod" })).to.deep.equal([]);
    });

    it("judges a versioned azure-native vault, the classic provider's and one in an inline ARM template alike", async () => {
        const versioned = { ...vault({}), type: "azure-native:keyvault/v20241101:Vault" };
        expect(await violations(keyVaultRbacPurgeProtected, versioned, {}, { stack: "prod" })).to.deep.equal([RBAC, PURGE]);
        const classic = { type: "azure:keyvault/keyVault:KeyVault", props: { name: "kv-x", rbacAuthorizationEnabled: false, purgeProtectionEnabled: false } };
        expect(await violations(keyVaultRbacPurgeProtected, classic, {}, { stack: "prod" })).to.deep.equal([RBAC, PURGE]);
        const classicOk = { type: "azure:keyvault/keyVault:KeyVault", props: { name: "kv-x", enableRbacAuthorization: true, purgeProtectionEnabled: true } };
        expect(await violations(keyVaultRbacPurgeProtected, classicOk, {}, { stack: "prod" })).to.deep.equal([]);
        const template = {
            type: "azure-native:resources:Deployment",
            props: { properties: { mode: "Incremental", template: { resources: [{ type: "Microsoft.KeyVault/vaults", name: "kv-x", properties: { enableRbacAuthorization: false } }] } } },
        };
        const found = await violations(keyVaultRbacPurgeProtected, template, {}, { stack: "dev" });
        expect(found).to.have.length(1);
        expect(found[0]).to.match(/template resource microsoft\.keyvault\/vaults "kv-x": a Key Vault must authorise data access with Azure RBAC/);
    });
});
