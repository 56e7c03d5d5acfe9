// Key Vault's naming rules, the stack settings that go with them, and the lookup that proves a listed secret exists.
// Plain functions, tested without mocks (tests/keyVault.test.ts).
import * as pulumi from "@pulumi/pulumi";
import * as keyvault from "@pulumi/azure-native/keyvault";
import { BUILTIN_ROLES } from "./azureRoles";

/** The zone a vault's private endpoint registers in (Azure's private endpoint DNS table, Key Vault `vault`). */
export const KEY_VAULT_PRIVATE_DNS_ZONE = "privatelink.vaultcore.azure.net";

/** Key Vault names: 3-24 letters, digits and '-', starting with a letter, ending with a letter or digit, no "--". */
export function isKeyVaultName(name: string): boolean {
    return /^[a-zA-Z][a-zA-Z0-9-]{1,22}[a-zA-Z0-9]$/.test(name) && !name.includes("--");
}

/** Secret names in Key Vault: 1-127 letters, digits and '-'. They are also the file names the CSI driver writes. */
export function isKeyVaultSecretName(name: string): boolean {
    return /^[a-zA-Z0-9-]{1,127}$/.test(name);
}

/** Length of globalNameSuffix's result. */
const SUFFIX_LENGTH = 6;

/**
 * `<prefix>-<suffix>`, the prefix cut so the whole fits Key Vault's 24 characters (`kv-<namePrefix>-<stack>` is up to
 * 26 on its own). The random suffix, not the prefix, is what makes the name unique.
 */
export function keyVaultName(prefix: string, suffix: string): string {
    const room = 24 - 1 - SUFFIX_LENGTH;
    const cut = prefix.slice(0, room).replace(/-+$/, "");
    return `${cut}-${suffix}`;
}

/** Every problem with a stack's Key Vault settings, each naming the field; empty when sound. */
export function keyVaultSettingsProblems(settings: {
    sku: string; softDeleteRetentionDays: number; createMode: string; name?: string; generatedSecrets: readonly string[];
}): string[] {
    const problems: string[] = [];
    if (!["standard", "premium"].includes(settings.sku)) {
        problems.push(`sku = ${settings.sku}: must be standard or premium`);
    }
    // Key Vault: "softDelete data retention days. It accepts >=7 and <=90."
    if (!Number.isInteger(settings.softDeleteRetentionDays) || settings.softDeleteRetentionDays < 7 || settings.softDeleteRetentionDays > 90) {
        problems.push(`softDeleteRetentionDays = ${settings.softDeleteRetentionDays}: Key Vault accepts 7-90 days`);
    }
    if (!["default", "recover"].includes(settings.createMode)) {
        problems.push(`createMode = ${settings.createMode}: must be default or recover`);
    }
    if (settings.name !== undefined && !isKeyVaultName(settings.name)) {
        problems.push(`name = ${settings.name}: a vault name is 3-24 letters, digits and single '-', starting with a letter and ending with a letter or digit`);
    }
    for (const secret of settings.generatedSecrets) {
        if (!isKeyVaultSecretName(secret)) {
            problems.push(`generatedSecrets: ${JSON.stringify(secret)} is not a Key Vault secret name (1-127 letters, digits and '-')`);
        }
    }
    if (new Set(settings.generatedSecrets).size !== settings.generatedSecrets.length) {
        problems.push("generatedSecrets lists a secret twice");
    }
    return problems;
}

/** Where an app's listed secrets are: the stack's vault and the secrets the program made in it. */
export interface SecretSource {
    resourceGroupName: pulumi.Input<string>;
    vaultName: pulumi.Input<string>;
    /** ARM ids of the secrets the program creates (KeyVault.generatedSecretIds). */
    generatedSecretIds: Record<string, pulumi.Input<string>>;
}

/**
 * The ARM id of secret `secretName` in the stack's vault — the scope its reader's role assignment goes on. A secret the
 * program creates is taken from there (and waited for); any other must already exist: it is looked up (an ARM read,
 * no secret value), and a missing one stops the run with an error naming it, its vault and `what` (who listed it).
 */
export function existingSecretId(parent: pulumi.Resource, source: SecretSource, secretName: string, what: string): pulumi.Output<string> {
    const generated = source.generatedSecretIds[secretName];
    if (generated !== undefined) {
        return pulumi.output(generated);
    }
    return pulumi.all([source.resourceGroupName, source.vaultName]).apply(async ([resourceGroupName, vaultName]) => {
        try {
            const secret = await keyvault.getSecret({ resourceGroupName, vaultName, secretName }, { parent });
            return secret.id;
        } catch (error) {
            throw new Error(`${what} lists Key Vault secret "${secretName}", which does not exist in vault ${vaultName} `
                + `(${(error as Error).message.split("\n")[0]}). Put it there first: az keyvault secret set --vault-name ${vaultName} `
                + `--name ${secretName} --file <file>, then run pulumi up again.`);
        }
    });
}

/**
 * The grants that let app `appName`'s identity read exactly `secretNames` from `vault`, each secret checked to exist
 * first (existingSecretId; lookups parented to the vault).
 */
export function secretReadGrants(vault: pulumi.Resource & SecretSource, appName: string, secretNames: readonly string[]) {
    return secretReaderAssignments(secretNames.map(secret => existingSecretId(vault, vault, secret, `apps[${appName}].secrets`)));
}

/**
 * The role assignments that let an app's identity read exactly these secrets: "Key Vault Secrets User" on each secret's
 * own scope (`<vault id>/secrets/<name>`), never on the vault, so no app reads another's secrets (D5: lib/programRoles.ts).
 */
export function secretReaderAssignments(secretIds: readonly pulumi.Input<string>[]): { scope: pulumi.Input<string>; roleDefinitionId: string; description: string }[] {
    return secretIds.map(scope => ({
        scope,
        roleDefinitionId: BUILTIN_ROLES.keyVaultSecretsUser,
        description: "The app reads this one Key Vault secret through the Secrets Store CSI driver",
    }));
}
