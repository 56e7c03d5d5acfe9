import * as pulumi from "@pulumi/pulumi";
import * as managedidentity from "@pulumi/azure-native/managedidentity";

/** The audience Entra ID expects on an external token it exchanges. */
export { TOKEN_EXCHANGE_AUDIENCE } from "../policy/rules";
import { TOKEN_EXCHANGE_AUDIENCE } from "../policy/rules";

export interface FederatedTrust {
    /** Credential name, unique per identity (3-120 letters, digits, '-', '_'). */
    name: string;
    /** OIDC issuer of the external tokens. */
    issuer: pulumi.Input<string>;
    /** The exact `sub` claim trusted. */
    subject: pulumi.Input<string>;
}

/**
 * Federated credentials on one user-assigned identity, written one after another: Azure rejects concurrent
 * writes on one identity (409 ConcurrentFederatedIdentityCredentialsWritesForSingleManagedIdentity) and the
 * provider does not serialise them. Issuer + subject must be unique per identity, so a replacement deletes
 * before it creates.
 */
export function chainedFederatedCredentials(
    parent: pulumi.Resource,
    namePrefix: string,
    identity: { resourceGroupName: pulumi.Input<string>; identityName: pulumi.Input<string> },
    trusts: FederatedTrust[],
): managedidentity.FederatedIdentityCredential[] {
    const credentials: managedidentity.FederatedIdentityCredential[] = [];
    trusts.forEach((trust, i) => {
        const previous = credentials[i - 1];
        credentials.push(new managedidentity.FederatedIdentityCredential(`${namePrefix}${i === 0 ? "" : `-${i + 1}`}`, {
            resourceGroupName: identity.resourceGroupName,
            resourceName: identity.identityName,
            federatedIdentityCredentialResourceName: trust.name,
            issuer: trust.issuer,
            subject: trust.subject,
            audiences: [TOKEN_EXCHANGE_AUDIENCE],
        }, { parent, deleteBeforeReplace: true, dependsOn: previous ? [previous] : [] }));
    });
    return credentials;
}
