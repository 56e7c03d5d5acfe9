// Built-in Azure role definitions this program assigns, by their fixed GUIDs (the same in every tenant).
import * as pulumi from "@pulumi/pulumi";

export const BUILTIN_ROLES = {
    /** Join the cluster's egress public IP to the AKS load balancer. */
    networkContributor: "4d97b98b-1d4f-4787-a291-c67834d212e7",
    /** Full Kubernetes RBAC on one cluster, through Entra ID + Azure RBAC (local accounts stay disabled). */
    aksRbacClusterAdmin: "b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b",
    /** Push images to one registry. */
    acrPush: "8311e382-0749-4cb8-b61a-304f252e45ec",
    /** Pull images from one registry. */
    acrPull: "7f951dda-4ed3-4680-a7ca-43fe172d538d",
    // Used by bootstrap/ for the CI identities:
    reader: "acdd72a7-3385-48ef-bd42-f606fba81ae7",
    contributor: "b24988ac-6180-42a0-ab88-20f7382dd24c",
    rbacAdministrator: "f58310d9-a9f6-439a-9e8d-f62e7b41a168",
    aksClusterUser: "4abbcc35-e782-43d8-92c5-2d3f1bd2253f",
    aksRbacReader: "7f6c6a51-bcf8-42ba-9220-52d62157d7db",
    storageBlobDataReader: "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1",
    storageBlobDataContributor: "ba92f5b4-2d11-453d-a403-e96b0029c9fe",
    storageBlobDelegator: "db58b8e5-c6ad-4a2a-8342-4190687cbf4a",
    keyVaultCryptoUser: "12338af0-0e69-4776-bea7-57ae8d297424",
    // Extra roles apps may be given (lib/programRoles.ts, ALLOWED_APP_ROLES):
    keyVaultSecretsUser: "4633458b-17de-408a-b874-0445c86b69e6",
    serviceBusDataSender: "69a216fc-b8fb-44d8-bc22-1f3c2cd27a39",
    serviceBusDataReceiver: "4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0",
} as const;

/** The subscription-scoped ARM id of a role definition given as a GUID; a full id passes through unchanged. */
export function roleDefinitionId(subscriptionId: pulumi.Input<string>, role: pulumi.Input<string>): pulumi.Output<string> {
    return pulumi.all([subscriptionId, role]).apply(([subscription, id]) => id.startsWith("/")
        ? id
        : `/subscriptions/${subscription}/providers/Microsoft.Authorization/roleDefinitions/${id}`);
}
