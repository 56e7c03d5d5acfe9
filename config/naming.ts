// Every Azure name the program builds comes from here: prefix, stack and app names in, names out.

export const PROJECT = "aks-pg-passwordless";

/**
 * A stack name feeds every Azure name (`rg-<prefix>-<stack>`, …): 1-12 lower-case letters, digits and single '-',
 * so a person's own stack `dev-<name>` fits. 12 keeps the longest names within Azure's limits (tests/naming.test.ts).
 */
export const STACK_NAME = /^(?=.{1,12}$)[a-z0-9]+(-[a-z0-9]+)*$/;

/** Azure resource names built from the prefix, stack and app names: one place derives them all. */
export function resourceNames(namePrefix: string, stack: string) {
    const base = `${namePrefix}-${stack}`;
    return {
        resourceGroup: `rg-${base}`,
        cluster: `aks-${base}`,
        logAnalytics: `log-${base}`,
        /** The VNet of a private stack (networkMode private, unless it brings its own subnets). */
        virtualNetwork: `vnet-${base}`,
        postgresServerPrefix: `psql-${base}`,
        /** Registry names allow letters and digits only, so a stack's '-' is dropped. */
        registryPrefix: `acr${namePrefix}${stack.replace(/-/g, "")}`,
        /** Start of the Key Vault's name; KeyVault cuts it to fit 24 characters with the random suffix. */
        keyVaultPrefix: `kv-${base}`,
        /** The app's managed identity; its PostgreSQL role carries the same name. */
        appIdentity: (app: string) => `id-${base}-${app}`,
        /** The in-cluster provisioning identity (D1): one of the server's Entra administrators, allowed by name in the policy pack. */
        provisionerIdentity: `id-${base}-pg-provisioner`,
    };
}
