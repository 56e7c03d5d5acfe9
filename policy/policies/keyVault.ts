// Key Vault: RBAC authorization everywhere, purge protection in production.
import { checkKeyVault } from "../rules";
import { familyPolicy, isProdStack, PROD_STACKS_SCHEMA, stackOf } from "./common";

interface KeyVaultConfig {
    prodStacks?: string[];
}

export const keyVaultRbacPurgeProtected = familyPolicy(
    "key-vault-rbac-purge-protected",
    "A Key Vault authorises data access with Azure RBAC and has no access policies; in production (by stack name, policy config prodStacks) it has purge protection.",
    ["keyVault"],
    (c, report, args) => {
        const production = isProdStack(stackOf(args.urn), args.getConfig<KeyVaultConfig>().prodStacks);
        checkKeyVault(c.props, production).forEach(report);
    },
    { properties: { prodStacks: PROD_STACKS_SCHEMA } });
