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

/** Azure's limit of federated identity credentials on one user-assigned identity. */
export const MAX_FEDERATED_CREDENTIALS = 20;

/** A credential and the logical name of its Pulumi resource (names stay stable when other credentials come and go). */
export interface NamedTrust extends FederatedTrust {
    /** Pulumi resource name of the credential. */
    resourceName: string;
}

/**
 * Why these trusts cannot all sit on one identity, or undefined. Azure allows at most 20 federated identity
 * credentials per user-assigned identity, names unique per identity, and each issuer + subject pair once
 * (https://learn.microsoft.com/entra/workload-id/workload-identity-federation-considerations, "General federated
 * identity credential considerations"). Checked for trusts whose values are known when the program starts.
 */
export function federatedTrustsProblem(trusts: readonly { name: string; issuer: unknown; subject: unknown }[]): string | undefined {
    if (trusts.length > MAX_FEDERATED_CREDENTIALS) {
        return `${trusts.length} federated credentials on one identity; Azure allows at most ${MAX_FEDERATED_CREDENTIALS}`;
    }
    const names = trusts.map(t => t.name);
    const duplicateName = names.find((n, i) => names.indexOf(n) !== i);
    if (duplicateName !== undefined) {
        return `federated credential name "${duplicateName}" is used twice on one identity`;
    }
    const pairs = trusts.filter(t => typeof t.issuer === "string" && typeof t.subject === "string").map(t => `${t.issuer} ${t.subject}`);
    const duplicatePair = pairs.find((p, i) => pairs.indexOf(p) !== i);
    return duplicatePair !== undefined ? `issuer and subject "${duplicatePair}" are trusted twice on one identity` : undefined;
}

/**
 * Federated credentials on one user-assigned identity, written one after another: Azure rejects concurrent
 * writes on one identity (409 ConcurrentFederatedIdentityCredentialsWritesForSingleManagedIdentity) and the
 * provider does not serialise them. Issuer + subject must be unique per identity, so a replacement deletes
 * before it creates.
 */
export function chainedFederatedCredentials(
    parent: pulumi.Resource,
    identity: { resourceGroupName: pulumi.Input<string>; identityName: pulumi.Input<string> },
    trusts: readonly NamedTrust[],
): managedidentity.FederatedIdentityCredential[] {
    const problem = federatedTrustsProblem(trusts);
    if (problem) {
        throw new Error(problem);
    }
    const credentials: managedidentity.FederatedIdentityCredential[] = [];
    trusts.forEach((trust, i) => {
        const previous = credentials[i - 1];
        credentials.push(new managedidentity.FederatedIdentityCredential(trust.resourceName, {
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
