// The bootstrap program's config, read and validated at start like the main program's.
import * as pulumi from "@pulumi/pulumi";
import { Reader, type RawGetter } from "../config";

export const BOOTSTRAP_PROJECT = "aks-pg-passwordless-ci";

export interface BootstrapConfig {
    location: string;
    namePrefix: string;
    /** `owner/repository` on GitHub. */
    githubRepository: string;
    /** Main-program stacks the pipeline deploys. */
    stacks: string[];
    /** The one stack pull requests preview (D2: dev only); it gets the `preview-<stack>` identity. */
    previewStack: string;
    /** Storage account holding each stack's state in its own container (`pulumi-state-<stack>`), if the azblob backend is used. */
    stateAccountId?: string;
    /** Key Vault holding each stack's own state-secrets key (`pulumi-<stack>`), if the azurekeyvault secrets provider is used. */
    secretsKeyVaultId?: string;
}

export function parseBootstrapConfig(get: RawGetter): Readonly<BootstrapConfig> {
    const r = new Reader(get, BOOTSTRAP_PROJECT);
    const stacks = r.stringArray("stacks", (stack, key) => {
        if (!/^[a-z0-9]{1,12}$/.test(stack)) {
            throw r.error(key, stack, "must be a main-program stack name: 1-12 lower-case letters or digits");
        }
    });
    if (stacks.length === 0) {
        throw r.error("stacks", [], "list at least one stack the pipeline deploys");
    }
    const previewStack = r.string("previewStack", /^[a-z0-9]{1,12}$/, "must be a main-program stack name");
    if (!stacks.includes(previewStack)) {
        throw r.error("previewStack", previewStack, `must be one of stacks (${stacks.join(", ")})`);
    }
    // The single shared state container is gone (D2): a grant on it reached every stack's state.
    const shared = get("stateContainerId");
    if (shared !== undefined && shared !== "") {
        throw r.error("stateContainerId", shared, "is replaced by stateAccountId: each stack's state now lives in its own container pulumi-state-<stack> of that account (README, \"Set up CI\"); unset stateContainerId");
    }
    return Object.freeze({
        location: r.string("location", /^[a-z][a-z0-9]+$/, "must be an Azure region name such as westeurope"),
        namePrefix: r.string("namePrefix", /^[a-z][a-z0-9]{1,9}$/, "must be the main program's namePrefix: 2-10 lower-case letters or digits"),
        githubRepository: r.string("githubRepository", /^[A-Za-z0-9-]{1,39}\/[A-Za-z0-9._-]{1,100}$/, "must be owner/repository, e.g. contoso/aks-pg-passwordless"),
        stacks,
        previewStack,
        stateAccountId: r.optionalString("stateAccountId", /^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.Storage\/storageAccounts\/[a-z0-9]{3,24}$/i,
            "must be empty or a storage account's ARM id (…/providers/Microsoft.Storage/storageAccounts/<account>); each stack's state goes in its own container pulumi-state-<stack>"),
        secretsKeyVaultId: r.optionalString("secretsKeyVaultId", /^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.KeyVault\/vaults\/[^/]+$/i,
            "must be empty or a Key Vault's ARM id"),
    });
}

export function loadBootstrapConfig(): Readonly<BootstrapConfig> {
    const cfg = new pulumi.Config();
    return parseBootstrapConfig(key => cfg.get(key));
}
