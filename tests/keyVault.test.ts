import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";
import { KeyVault, KeyVaultArgs, KEY_VAULT_PRIVATE_DNS_ZONE } from "../components/keyVault";
import { existingSecretId, isKeyVaultName, isKeyVaultSecretName, keyVaultName, keyVaultSettingsProblems } from "../lib/keyVaultNames";
import { BUILTIN_ROLES } from "../lib/azureRoles";
import { promiseOf, SUBSCRIPTION_ID, TENANT_ID } from "./mocks";
import { runProgram, underMocks } from "./harness";

const VAULT = "azure-native:keyvault:Vault";
const SECRET = "azure-native:keyvault:Secret";
const ENDPOINT = "azure-native:network:PrivateEndpoint";
const ZONE_GROUP = "azure-native:network:PrivateDnsZoneGroup";

const SUBNET = `/subscriptions/${SUBSCRIPTION_ID}/resourceGroups/rg-test/providers/Microsoft.Network/virtualNetworks/vnet-test/subnets/private-endpoints`;
const ZONE = `/subscriptions/${SUBSCRIPTION_ID}/resourceGroups/rg-test/providers/Microsoft.Network/privateDnsZones/${KEY_VAULT_PRIVATE_DNS_ZONE}`;

const devArgs: KeyVaultArgs = {
    resourceGroupName: "rg-test",
    location: "westeurope",
    vaultNamePrefix: "kv-akspg-dev",
    tenantId: TENANT_ID,
    sku: "standard",
    softDeleteRetentionDays: 7,
    purgeProtection: false,
    createMode: "default",
    generatedSecrets: ["demo-api-key"],
    protect: false,
};

function build(overrides: Partial<KeyVaultArgs> = {}) {
    return underMocks("test", () => new KeyVault("kv", { ...devArgs, ...overrides }));
}

describe("KeyVault", () => {
    it("authorises data access with Azure RBAC and has no access policies", async () => {
        const { mocks } = await build();
        const props = mocks.named(VAULT, "kv-vault").inputs.properties;
        expect(props.enableRbacAuthorization).to.equal(true);
        expect(props.accessPolicies).to.equal(undefined);
    });

    it("keeps soft delete on with the chosen retention", async () => {
        const { mocks } = await build({ softDeleteRetentionDays: 30 });
        const props = mocks.named(VAULT, "kv-vault").inputs.properties;
        expect(props.enableSoftDelete).to.equal(true);
        expect(props.softDeleteRetentionInDays).to.equal(30);
    });

    it("turns purge protection on where chosen (prod)", async () => {
        const { mocks } = await build({ purgeProtection: true, softDeleteRetentionDays: 90, protect: true });
        expect(mocks.named(VAULT, "kv-vault").inputs.properties.enablePurgeProtection).to.equal(true);
        expect(mocks.optionsOf("kv-vault").protect).to.equal(true);
    });

    it("leaves purge protection out, never false, where it is off (Key Vault refuses false)", async () => {
        const { mocks } = await build();
        expect(mocks.named(VAULT, "kv-vault").inputs.properties).to.not.have.property("enablePurgeProtection");
    });

    it("is named <prefix>-<stack suffix>, within Key Vault's 24 characters", async () => {
        const { result } = await build({ vaultNamePrefix: "kv-abcdefghij-dev-alice1" });
        const name = await promiseOf(result.name);
        expect(name).to.equal("kv-abcdefghij-dev-x7k2q9");
        expect(isKeyVaultName(name)).to.equal(true);
    });

    it("createMode recover with a fixed name takes back a soft-deleted vault", async () => {
        const { mocks } = await build({ createMode: "recover", name: "kv-akspg-dev-a1b2c3" });
        const vault = mocks.named(VAULT, "kv-vault");
        expect(vault.inputs.vaultName).to.equal("kv-akspg-dev-a1b2c3");
        expect(vault.inputs.properties.createMode).to.equal("recover");
    });

    it("a public vault (dev) has no private endpoint and keeps public access at the spec's default", async () => {
        const { mocks } = await build();
        expect(mocks.ofType(ENDPOINT)).to.have.length(0);
        expect(mocks.named(VAULT, "kv-vault").inputs.properties.publicNetworkAccess).to.equal("enabled");
        expect(mocks.named(VAULT, "kv-vault").inputs.properties).to.not.have.property("networkAcls");
    });

    it("with a private network: public access disabled, a private endpoint in the subnet, its record in privatelink.vaultcore.azure.net", async () => {
        const { mocks, result } = await build({ privateNetwork: { privateEndpointsSubnetId: SUBNET, privateDnsZoneId: ZONE } });
        const props = mocks.named(VAULT, "kv-vault").inputs.properties;
        expect(props.publicNetworkAccess).to.equal("disabled");
        expect(props.networkAcls).to.deep.equal({ defaultAction: "Deny", bypass: "None" });
        const endpoint = mocks.named(ENDPOINT, "kv-endpoint");
        expect(endpoint.inputs.subnet.id).to.equal(SUBNET);
        expect(endpoint.inputs.privateLinkServiceConnections[0].privateLinkServiceId).to.equal(await promiseOf(result.id));
        expect(endpoint.inputs.privateLinkServiceConnections[0].groupIds).to.deep.equal(["vault"]);
        const group = mocks.named(ZONE_GROUP, "kv-dns");
        expect(group.inputs.privateEndpointName).to.equal(endpoint.inputs.privateEndpointName);
        expect(group.inputs.privateDnsZoneConfigs[0].privateDnsZoneId).to.equal(ZONE);
    });

    it("creates each generated secret in the vault with a random value, and exposes its ARM id", async () => {
        const { mocks, result } = await build();
        const secret = mocks.named(SECRET, "kv-demo-api-key");
        expect(secret.inputs.secretName).to.equal("demo-api-key");
        expect(secret.inputs.vaultName).to.equal(await promiseOf(result.name));
        expect(secret.inputs.properties.value).to.be.a("string").with.length(32);
        expect(await promiseOf(result.generatedSecretIds["demo-api-key"]))
            .to.equal(`${await promiseOf(result.id)}/secrets/demo-api-key`);
    });

    it("refuses settings Key Vault would refuse, naming each", async () => {
        let error: Error | undefined;
        try {
            await build({ softDeleteRetentionDays: 3, generatedSecrets: ["demo_key"] });
        } catch (e) {
            error = e as Error;
        }
        expect(error?.message).to.match(/softDeleteRetentionDays = 3/).and.match(/"demo_key"/);
    });

    it("every child is parented to the component", async () => {
        const { mocks, result } = await build({ privateNetwork: { privateEndpointsSubnetId: SUBNET, privateDnsZoneId: ZONE } });
        const urn = await promiseOf(result.urn);
        for (const child of ["kv-vault", "kv-endpoint", "kv-dns", "kv-demo-api-key", "kv-suffix"]) {
            expect(await promiseOf((mocks.optionsOf(child).parent as pulumi.Resource).urn), child).to.equal(urn);
        }
    });
});

describe("Key Vault names and settings (plain functions)", () => {
    it("a vault name is 3-24 letters, digits and single '-', starting with a letter, ending with a letter or digit", () => {
        expect(["kv-a", "kvx", "kv-akspg-dev-x7k2q9", "a".repeat(24)].filter(n => !isKeyVaultName(n))).to.deep.equal([]);
        expect(["kv", "1kv", "kv-", "kv--a", "a".repeat(25), "kv_a"].filter(isKeyVaultName)).to.deep.equal([]);
    });

    it("the generated name cuts the prefix, never the suffix, and leaves no trailing '-'", () => {
        expect(keyVaultName("kv-abcdefghij-dev-alice1", "x7k2q9")).to.equal("kv-abcdefghij-dev-x7k2q9");
        expect(keyVaultName("kv-abcdefghij-dev-", "x7k2q9")).to.equal("kv-abcdefghij-dev-x7k2q9");
        expect(keyVaultName("kv-abcdefghijklmn-d", "x7k2q9")).to.equal("kv-abcdefghijklmn-x7k2q9");
    });

    it("secret names are Key Vault's: letters, digits and '-'", () => {
        expect(isKeyVaultSecretName("demo-api-key")).to.equal(true);
        expect(["", "demo_api_key", "a/b", "a".repeat(128)].filter(isKeyVaultSecretName)).to.deep.equal([]);
    });

    it("sound settings have no problems", () => {
        expect(keyVaultSettingsProblems({ sku: "standard", softDeleteRetentionDays: 90, createMode: "default", generatedSecrets: [] })).to.deep.equal([]);
    });

    it("retention outside 7-90 days, an unknown createMode, a bad fixed name and a twice-listed secret are each refused by name", () => {
        const problems = keyVaultSettingsProblems({
            sku: "basic", softDeleteRetentionDays: 91, createMode: "purge", name: "kv--x", generatedSecrets: ["a", "a"],
        });
        expect(problems).to.have.length(5);
        expect(problems.join("\n")).to.match(/^sku = basic/m).and.match(/softDeleteRetentionDays = 91/).and.match(/createMode = purge/)
            .and.match(/name = kv--x/).and.match(/generatedSecrets lists a secret twice/);
    });
});

describe("existingSecretId: an app's listed secret must exist first", () => {
    const source = { resourceGroupName: "rg-test", vaultName: "kv-akspg-dev-x7k2q9", generatedSecretIds: { "demo-api-key": "/generated/demo-api-key" } };

    it("a secret the program creates is taken from the vault component, without a lookup", async () => {
        const { mocks, result } = await underMocks("test", () => {
            const parent = new pulumi.ComponentResource("test:index:Parent", "p");
            return existingSecretId(parent, source, "demo-api-key", "apps[orders].secrets");
        });
        expect(await promiseOf(result)).to.equal("/generated/demo-api-key");
        expect(mocks.calls.filter(c => c.token === "azure-native:keyvault:getSecret")).to.have.length(0);
    });

    it("an existing secret resolves to its ARM id, the scope its reader is granted on", async () => {
        const { mocks, result } = await underMocks("test", mocks => {
            mocks.existingKeyVaultSecrets.add("kv-akspg-dev-x7k2q9/payments-api-key");
            const parent = new pulumi.ComponentResource("test:index:Parent", "p");
            return existingSecretId(parent, source, "payments-api-key", "apps[orders].secrets");
        });
        expect(await promiseOf(result)).to.equal(
            `/subscriptions/${SUBSCRIPTION_ID}/resourceGroups/rg-test/providers/Microsoft.KeyVault/vaults/kv-akspg-dev-x7k2q9/secrets/payments-api-key`);
        expect(mocks.calls.find(c => c.token === "azure-native:keyvault:getSecret")?.inputs)
            .to.deep.equal({ resourceGroupName: "rg-test", vaultName: "kv-akspg-dev-x7k2q9", secretName: "payments-api-key" });
    });

    it("a missing secret stops the run with an error naming the secret, its vault and who listed it", async () => {
        const { result } = await underMocks("test", () => {
            const parent = new pulumi.ComponentResource("test:index:Parent", "p");
            return { id: existingSecretId(parent, source, "payments-api-key", "apps[orders].secrets") };
        });
        let error: Error | undefined;
        try {
            // The Output's own promise: what the engine awaits for the role assignment's scope.
            await (result.id as unknown as { promise(): Promise<string> }).promise();
        } catch (e) {
            error = e as Error;
        }
        expect(error?.message).to.include('apps[orders].secrets lists Key Vault secret "payments-api-key", which does not exist in vault kv-akspg-dev-x7k2q9');
    });
});

describe("program: the stack's Key Vault", () => {
    it("dev: the demo app reads its one generated secret — Key Vault Secrets User on that secret, mounted through its own SecretProviderClass", async () => {
        const { mocks } = await runProgram({ stack: "dev" });
        const secret = mocks.named(SECRET, "keyvault-demo-api-key");
        const grants = mocks.ofType("azure-native:authorization:RoleAssignment").filter(a => a.inputs.roleDefinitionId.endsWith(BUILTIN_ROLES.keyVaultSecretsUser));
        expect(grants.map(g => g.inputs.scope)).to.deep.equal([secret.id]);
        const identity = mocks.named("azure-native:managedidentity:UserAssignedIdentity", "demo-identity-identity");
        expect(grants[0].inputs.principalId).to.equal(identity.state.principalId);
        const spc = mocks.named("kubernetes:secrets-store.csi.x-k8s.io/v1:SecretProviderClass", "demo-workload-secret-provider").inputs;
        expect(spc.spec.parameters.clientID).to.equal(identity.state.clientId);
        expect(spc.spec.parameters.keyvaultName).to.equal(mocks.named(VAULT, "keyvault-vault").inputs.vaultName);
        expect(mocks.named(VAULT, "keyvault-vault").inputs.properties.publicNetworkAccess).to.equal("enabled");
    });

    it("prod: purge protection, 90 days, protected, and private — endpoint in the private endpoints subnet, record in the linked vaultcore zone", async () => {
        const { mocks } = await runProgram({ stack: "prod" });
        const vault = mocks.named(VAULT, "keyvault-vault");
        expect(vault.inputs.properties).to.include({ enableRbacAuthorization: true, enablePurgeProtection: true, softDeleteRetentionInDays: 90, publicNetworkAccess: "disabled" });
        expect(mocks.optionsOf("keyvault-vault").protect).to.equal(true);
        expect(mocks.named(ENDPOINT, "keyvault-endpoint").inputs.subnet.id).to.match(/\/subnets\/snet-private-endpoints$/);
        const zone = mocks.ofType("azure-native:privatedns:PrivateZone").find(z => z.inputs.privateZoneName === KEY_VAULT_PRIVATE_DNS_ZONE);
        expect(mocks.named(ZONE_GROUP, "keyvault-dns").inputs.privateDnsZoneConfigs[0].privateDnsZoneId).to.equal(zone?.id);
    });
});
