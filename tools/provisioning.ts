// How long Azure and Kubernetes take to create each kind of resource, in seconds: the model the offline plan and
// the bench (bench/run.ts) simulate a deploy with. Estimates of a typical create, not measurements of this stack;
// where a figure is ours and not a source's, it says so.
// - AKS cluster, 8 min: the AKS quickstart has cluster creation finish after a few minutes
//   (learn.microsoft.com/azure/aks/learn/quick-kubernetes-deploy-cli); 5-10 min is what a cluster with one
//   system pool usually takes (our estimate); zones and more nodes take longer.
// - PostgreSQL flexible server, 10 min: the quickstart's deployment takes a few minutes
//   (learn.microsoft.com/azure/postgresql/flexible-server/quickstart-create-server); zone-redundant HA provisions a
//   standby too and takes longer (learn.microsoft.com/azure/postgresql/flexible-server/concepts-high-availability).
// - Writes on the server, 60 s each, one at a time (Azure answers ServerBusy to a second one; bench/dependencies.ts):
//   firewall rules "take ~60 secs each to create/destroy" (hashicorp/terraform-provider-azurerm#19953); server
//   parameters and the Entra administrator are the same kind of child write (azurerm#28298, Azure/azure-postgresql#134
//   show them queueing behind each other); the maintenance-window PATCH is an update of the server itself — no
//   published figure, we assume the same minute.
// - Log Analytics workspace 30 s, container registry 45 s, public IP 10 s, role assignment 15 s, identity 5 s:
//   ARM creates that return within seconds to a minute (our estimates; role assignments then take minutes to
//   propagate, which the kubelet and the token exchange retry through).
// - Private network (prod): virtual network with its subnets inline 10 s, private DNS zone 30 s, its VNet link 30 s,
//   private endpoint 60 s, its DNS zone group 10 s. No published create times: ARM network resources that Azure reports
//   done once the NIC / zone / link is provisioned (learn.microsoft.com/azure/private-link/create-private-endpoint-portal,
//   learn.microsoft.com/azure/dns/private-dns-getstarted-portal describe the steps, not their duration) — our estimates,
//   the endpoint the slowest since Azure allocates a NIC in the subnet and approves the connection.
// - Key Vault 30 s, a secret 5 s: ARM creates that return within seconds (our estimates; no published figure).
// - Image build and push, 150 s: the app's Dockerfile (npm ci, tsc, distroless copy) on a CI runner (our estimate).
// - Kubernetes objects 2 s; a Job runs until its pod finishes, 60 s for the check (image pull, token, one query) and
//   for the provisioning Job (image pull, token, a few idempotent statements per app; our estimate).
export interface ProvisioningModel {
    /** Seconds to create a resource of `type` named `name`. */
    seconds(type: string, name: string): number;
}

const BY_TYPE: [RegExp, number][] = [
    [/containerservice:ManagedCluster$/, 8 * 60],
    [/dbforpostgresql:Server$/, 10 * 60],
    [/dbforpostgresql:(Configuration|FirewallRule|Administrator|AdministratorsMicrosoftEntra)$/, 60],
    [/dbforpostgresql:/, 60],
    // lib/armPatch.ts's follow-up update of the server (the maintenance window); other dynamic resources take seconds.
    [/^pulumi-nodejs:dynamic:Resource#maintenance-window$/, 60],
    [/operationalinsights:Workspace$/, 30],
    [/containerregistry:Registry$/, 45],
    [/keyvault:Vault$/, 30],
    [/keyvault:Secret$/, 5],
    [/docker-build:index:Image$/, 150],
    [/network:PublicIPAddress$/, 10],
    [/network:VirtualNetwork$/, 10],
    [/privatedns:(PrivateZone|VirtualNetworkLink)$/, 30],
    [/network:PrivateEndpoint$/, 60],
    [/network:PrivateDnsZoneGroup$/, 10],
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
    seconds(type: string, name: string): number {
        if (type.startsWith("pulumi:") || type.startsWith("aks-pg-passwordless:")) {
            return 0;
        }
        // Dynamic resources are told apart by what they do, which their name says.
        const key = type === "pulumi-nodejs:dynamic:Resource" && name.endsWith("-maintenance-window") ? `${type}#maintenance-window` : type;
        return BY_TYPE.find(([pattern]) => pattern.test(key))?.[1] ?? 5;
    },
};
