// How long Azure and Kubernetes take to create each kind of resource, in seconds: the model the offline plan
// (and the bench) simulates a deploy with. Estimates, not measurements, from Microsoft's documentation:
// - AKS: "Creating an AKS cluster takes a few minutes" (quickstart); 5-10 min is typical for a Standard
//   cluster with one node pool, longer with zones/more nodes.
// - PostgreSQL Flexible Server: the quickstart quotes "a few minutes"; zone-redundant HA provisions a standby too
//   and takes longer (the HA concepts page), 10-20 min.
// - Server parameters, the Entra admin and firewall rules are ARM writes on the server that Azure serialises
//   (ServerBusy): about a minute each.
// - Role assignments, identities, federated credentials, public IPs: seconds.
// Everything in the cluster is seconds, except a Job, which runs until its pod finishes.
export interface ProvisioningModel {
    /** Seconds to create a resource of `type` named `name`. */
    seconds(type: string, name: string): number;
}

const BY_TYPE: [RegExp, number][] = [
    [/containerservice:ManagedCluster$/, 8 * 60],
    [/dbforpostgresql:Server$/, 10 * 60],
    [/dbforpostgresql:(Configuration|FirewallRule|Administrator|AdministratorsMicrosoftEntra)$/, 60],
    [/dbforpostgresql:/, 60],
    [/operationalinsights:Workspace$/, 30],
    [/containerregistry:Registry$/, 45],
    [/docker-build:index:Image$/, 150],
    [/network:PublicIPAddress$/, 10],
    [/authorization:RoleAssignment$/, 15],
    [/authorization:ManagementLock/, 5],
    [/managedidentity:/, 5],
    [/insights:|monitor:/, 10],
    [/resources:ResourceGroup$/, 3],
    [/kubernetes:batch\/v1:Job$/, 60],
    [/^kubernetes:/, 2],
    [/^postgresql:/, 2],
    [/^random:/, 0],
];

export const azureProvisioning: ProvisioningModel = {
    seconds(type: string): number {
        if (type.startsWith("pulumi:") || type.startsWith("aks-pg-passwordless:")) {
            return 0;
        }
        return BY_TYPE.find(([pattern]) => pattern.test(type))?.[1] ?? 5;
    },
};
