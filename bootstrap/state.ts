// Where each stack keeps its Pulumi state and the key that encrypts its secrets (D2): one blob container and one Key
// Vault key per stack, so a grant for one stack's state or key never reaches another's.
//
// Why containers, not one container with ABAC conditions on blob paths: a role assignment's scope can be a single
// container (Microsoft Learn, "Assign an Azure role for access to blob data": the narrowest scope is the container),
// and the workflows' user-delegation SAS is minted for one container (`signedResource=c`, "Create a user delegation
// SAS"), whose effective rights are the intersection of the SAS and the signer's own RBAC data rights. A path condition
// ("Actions and attributes for Azure role assignment conditions for Azure Blob Storage", the `blobs:path` attribute)
// would have to name every prefix the azblob backend writes for a stack (`.pulumi/stacks/<project>/<stack>.json`,
// `.pulumi/history/…`, `.pulumi/backups/…`, `.pulumi/locks/…`) and still let `meta.yaml` and List Blobs through —
// one forgotten prefix and a preview reads prod. A container per stack has no such gap.
//
// Key Vault: with the vault's Azure RBAC permission model a role can be assigned on one key (Microsoft Learn, "Provide
// access to Key Vault keys, certificates, and secrets with Azure role-based access control": scopes include an
// individual key), so each identity gets Key Vault Crypto User on its own stack's key, not the vault.

/** The blob container holding one stack's state. */
export function stateContainerName(stack: string): string {
    return `pulumi-state-${stack}`;
}

/** The stack's backend URL (azblob backend; the account comes from AZURE_STORAGE_ACCOUNT). */
export function backendUrl(stack: string): string {
    return `azblob://${stateContainerName(stack)}`;
}

/** The Key Vault key encrypting one stack's state secrets. */
export function secretsKeyName(stack: string): string {
    return `pulumi-${stack}`;
}

/** ARM id of a stack's state container in the state storage account. */
export function stateContainerId(accountId: string, stack: string): string {
    return `${accountId}/blobServices/default/containers/${stateContainerName(stack)}`;
}

/** ARM id of a stack's secrets key in the vault: the scope of its Key Vault Crypto User assignment. */
export function secretsKeyId(vaultId: string, stack: string): string {
    return `${vaultId}/keys/${secretsKeyName(stack)}`;
}

/** The `--secrets-provider` a stack is created with (`pulumi stack init <stack> --secrets-provider …`). */
export function secretsProviderUrl(vaultId: string, stack: string): string {
    const vault = vaultId.split("/").pop()!;
    return `azurekeyvault://${vault}.vault.azure.net/keys/${secretsKeyName(stack)}`;
}

/** The last segment of an ARM id: the storage account's name for AZURE_STORAGE_ACCOUNT. */
export function resourceName(id: string): string {
    return id.split("/").pop()!;
}
