// The stack's Key Vault and the cluster's secrets provider add-on: KeyVaultSettings and the add-on's poll interval.
import { isRotationPollInterval, type KeyVaultSecretsProviderSettings } from "../components/aksCluster";
import type { KeyVaultSettings } from "../components/keyVault";
import { isKeyVaultName, isKeyVaultSecretName } from "../lib/keyVaultNames";
import { ConfigError, Problems } from "./errors";
import { Reader, stringList } from "./reader";

const SKUS = ["standard", "premium"] as const;
const CREATE_MODES = ["default", "recover"] as const;

export function readKeyVault(r: Reader, problems: Problems): KeyVaultSettings {
    const v = <T>(rule: () => T): T => problems.check(rule) as T;
    const seen = new Set<string>();
    return {
        sku: v(() => r.oneOf("keyVaultSku", SKUS)),
        // Key Vault: "softDelete data retention days. It accepts >=7 and <=90."
        softDeleteRetentionDays: v(() => r.integer("keyVaultSoftDeleteRetentionDays", 7, 90)),
        purgeProtection: v(() => r.boolean("keyVaultPurgeProtection")),
        createMode: v(() => r.oneOf("keyVaultCreateMode", CREATE_MODES)),
        name: v(() => {
            const name = r.optionalString("keyVaultName", /^/, "");
            if (name !== undefined && !isKeyVaultName(name)) {
                throw new ConfigError("keyVaultName", name, "must be empty (a generated name) or a vault name: 3-24 letters, digits "
                    + "and single '-', starting with a letter, ending with a letter or digit");
            }
            return name;
        }),
        generatedSecrets: v(() => stringList(r, problems, "keyVaultGeneratedSecrets", (name, key) => {
            if (!isKeyVaultSecretName(name)) {
                throw new ConfigError(key, name, "must be a Key Vault secret name: 1-127 letters, digits and '-'");
            }
            if (seen.has(name)) {
                throw new ConfigError(key, name, "is listed twice");
            }
            seen.add(name);
        })),
    };
}

export function readSecretsProvider(r: Reader, problems: Problems): KeyVaultSecretsProviderSettings {
    return {
        rotationPollInterval: problems.check(() => {
            const value = r.string("keyVaultRotationPollInterval");
            if (!isRotationPollInterval(value)) {
                throw new ConfigError("keyVaultRotationPollInterval", value, "must be a duration such as 2m, 120s or 1h");
            }
            return value;
        }) as string,
    };
}
