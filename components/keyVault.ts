import * as pulumi from "@pulumi/pulumi";
import * as keyvault from "@pulumi/azure-native/keyvault";
import * as random from "@pulumi/random";
import { globalNameSuffix } from "../lib/globalNameSuffix";
import { isKeyVaultName, keyVaultName, KEY_VAULT_PRIVATE_DNS_ZONE, keyVaultSettingsProblems, secretReadGrants } from "../lib/keyVaultNames";
import { privateEndpointWithDns } from "../lib/privateEndpoint";

export { KEY_VAULT_PRIVATE_DNS_ZONE };

/** What a stack chooses about its Key Vault. */
export interface KeyVaultSettings {
    /** `standard` (software keys) or `premium` (HSM-backed keys); secrets work the same in both. */
    sku: "standard" | "premium";
    /**
     * Days a deleted vault (and each deleted secret) stays recoverable, 7-90. Chosen when the vault is created; Key Vault
     * keeps the name reserved for the same time, so a re-created dev stack must not reuse it (README "Key Vault").
     */
    softDeleteRetentionDays: number;
    /**
     * Purge protection: a deleted vault or secret cannot be purged before its retention ends, by anyone. Irreversible
     * once on (Key Vault refuses `enablePurgeProtection: false`, so off means the property is left out). On in prod.
     */
    purgeProtection: boolean;
    /**
     * `recover` takes back a soft-deleted vault of the same name instead of creating one (Key Vault's createMode): for a
     * vault deleted outside Pulumi, or with `name` after a destroy. Set it back to `default` after that `up`.
     */
    createMode: "default" | "recover";
    /**
     * The vault's exact name; undefined = `<prefix>-<random suffix>`, which a destroyed and re-created stack does not
     * reuse. Only to take back a soft-deleted vault whose suffix is gone with its old state.
     */
    name?: string;
    /** Secrets the program creates with a random value (dev's demo secret); others are put in the vault by people. */
    generatedSecrets: string[];
}

/** Where a private vault is reached: its private endpoint's subnet and the `privatelink.vaultcore.azure.net` zone. */
export interface KeyVaultPrivateNetwork {
    /** ARM id of the subnet the vault's private endpoint gets its address in. */
    privateEndpointsSubnetId: pulumi.Input<string>;
    /** ARM id of the `privatelink.vaultcore.azure.net` private DNS zone, linked to the VNet the cluster resolves from. */
    privateDnsZoneId: pulumi.Input<string>;
}

export interface KeyVaultArgs extends KeyVaultSettings {
    /** Resource group of the vault. */
    resourceGroupName: pulumi.Input<string>;
    /** Azure region. */
    location: pulumi.Input<string>;
    /** Start of the vault's name (e.g. `kv-<prefix>-<stack>`); cut to fit Key Vault's 24 characters with the suffix. */
    vaultNamePrefix: string;
    /** Entra tenant whose tokens the vault accepts. */
    tenantId: pulumi.Input<string>;
    /** Private access: public network access off, reached through a private endpoint; undefined = public endpoint (dev). */
    privateNetwork?: KeyVaultPrivateNetwork;
    /** Protect the vault from `pulumi destroy` and replacement (prod). */
    protect: boolean;
    /** Tags for the vault and its private endpoint. */
    tags?: Record<string, string>;
}

/**
 * The stack's Key Vault: RBAC authorization only (no access policies: who reads what is a role assignment on one
 * secret), soft delete, purge protection where chosen, and, with a private network, no public access at all.
 */
export class KeyVault extends pulumi.ComponentResource {
    /** Vault name: what a SecretProviderClass's `keyvaultName` names. */
    public readonly name: pulumi.Output<string>;
    /** ARM id of the vault. */
    public readonly id: pulumi.Output<string>;
    /** Data-plane URI, `https://<name>.vault.azure.net/`. */
    public readonly vaultUri: pulumi.Output<string>;
    /** Resource group of the vault (where listed secrets are looked up). */
    public readonly resourceGroupName: pulumi.Output<string>;
    /** Vault name again, under the name lib/keyVaultNames.ts's SecretSource reads. */
    public readonly vaultName: pulumi.Output<string>;
    /** ARM ids of the secrets created here, by secret name (a role assignment's scope). */
    public readonly generatedSecretIds: Record<string, pulumi.Output<string>>;

    /** Key Vault Secrets User on each of `secretNames` of this vault, each on its own secret, never the vault (D5): an app's grants. */
    readGrants(appName: string, secretNames: readonly string[]): ReturnType<typeof secretReadGrants> {
        return secretReadGrants(this, appName, secretNames);
    }

    constructor(name: string, args: KeyVaultArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aks-pg-passwordless:azure:KeyVault", name, {}, opts);

        const problems = keyVaultSettingsProblems(args);
        if (problems.length > 0) {
            throw new Error(`KeyVault ${name}: ${problems.join("; ")}`);
        }

        const vaultName = args.name !== undefined
            ? pulumi.output(args.name)
            : globalNameSuffix(this, name).apply(suffix => {
                const generated = keyVaultName(args.vaultNamePrefix, suffix);
                if (!isKeyVaultName(generated)) {
                    throw new Error(`KeyVault ${name}: ${generated} is not a valid Key Vault name`);
                }
                return generated;
            });

        const vault = new keyvault.Vault(`${name}-vault`, {
            resourceGroupName: args.resourceGroupName,
            location: args.location,
            vaultName,
            properties: {
                tenantId: args.tenantId,
                sku: { family: "A", name: args.sku },
                // Data actions are authorised by Azure RBAC; access policies would be ignored, so there are none.
                enableRbacAuthorization: true,
                enableSoftDelete: true,
                softDeleteRetentionInDays: args.softDeleteRetentionDays,
                // The REST API refuses false ("cannot be set to false … irreversible"): leave it out when off.
                enablePurgeProtection: args.purgeProtection ? true : undefined,
                createMode: args.createMode === "recover" ? "recover" : undefined,
                enabledForDeployment: false,
                enabledForDiskEncryption: false,
                enabledForTemplateDeployment: false,
                // Private: the spec's `publicNetworkAccess: disabled` overrides any firewall rule, and no trusted
                // service bypasses it either.
                ...(args.privateNetwork ? {
                    publicNetworkAccess: "disabled",
                    networkAcls: { defaultAction: "Deny", bypass: "None" },
                } : {}),
            },
            tags: args.tags,
        }, { parent: this, protect: args.protect });

        if (args.privateNetwork) {
            // The private endpoint, and the vault's A record written into privatelink.vaultcore.azure.net by the zone
            // group, so `<vault>.vault.azure.net` resolves to a private address inside the VNet.
            privateEndpointWithDns(this, `${name}-endpoint`, `${name}-dns`, {
                resourceGroupName: args.resourceGroupName, location: args.location, serviceName: vault.name, serviceId: vault.id,
                groupId: "vault", subnetId: args.privateNetwork.privateEndpointsSubnetId,
                privateDnsZoneId: args.privateNetwork.privateDnsZoneId, zoneConfigName: "privatelink-vaultcore-azure-net", tags: args.tags,
            });
        }

        // Generated secrets go in through ARM (Microsoft.KeyVault/vaults/secrets PUT, a management-plane write), so the
        // deploy identity needs no data-plane role on the vault. The value lives in state as a Pulumi secret.
        this.generatedSecretIds = Object.fromEntries(args.generatedSecrets.map(secretName => {
            const value = new random.RandomPassword(`${name}-${secretName}-value`, {
                length: 32, special: false,
            }, { parent: this });
            const secret = new keyvault.Secret(`${name}-${secretName}`, {
                resourceGroupName: args.resourceGroupName,
                vaultName: vault.name,
                secretName,
                properties: { value: value.result, contentType: "text/plain" },
                tags: args.tags,
            }, { parent: this });
            return [secretName, secret.id];
        }));

        this.name = vault.name;
        this.vaultName = vault.name;
        this.resourceGroupName = pulumi.output(args.resourceGroupName);
        this.id = vault.id;
        this.vaultUri = vault.properties.apply(p => p.vaultUri ?? "");

        this.registerOutputs({
            name: this.name,
            vaultName: this.vaultName,
            resourceGroupName: this.resourceGroupName,
            id: this.id,
            vaultUri: this.vaultUri,
            generatedSecretIds: this.generatedSecretIds,
        });
    }
}
