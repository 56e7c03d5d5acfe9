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
} as const;

/** The subscription-scoped ARM id of a role definition given as a GUID; a full id passes through unchanged. */
export function roleDefinitionId(subscriptionId: pulumi.Input<string>, role: string): pulumi.Output<string> {
    return role.startsWith("/")
        ? pulumi.output(role)
        : pulumi.interpolate`/subscriptions/${subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${role}`;
}
