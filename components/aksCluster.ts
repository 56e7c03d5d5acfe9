import * as pulumi from "@pulumi/pulumi";
import * as authorization from "@pulumi/azure-native/authorization";
import * as containerservice from "@pulumi/azure-native/containerservice";
import * as managedidentity from "@pulumi/azure-native/managedidentity";
import * as network from "@pulumi/azure-native/network";
import * as k8s from "@pulumi/kubernetes";
import type { AzureScope, EntraPrincipal } from "../lib/azureScope";
import { BUILTIN_ROLES, roleDefinitionId } from "../lib/azureRoles";
import { aksServerId, clusterEndpoint, kubeconfigForLoginMode, KUBELOGIN_MODES, type KubeloginMode, tokenKubeconfig } from "../lib/kubeconfig";
import { waitForKubernetesAccess } from "../lib/kubernetesAccess";
import { containerInsightsDataCollection, diagnosticsToWorkspace } from "../lib/diagnostics";
import { ipv4Block } from "../lib/cidr";

/** The VNet the nodes join, and the overlay ranges pods and services get (Azure CNI overlay). */
export interface AksNodeNetwork {
    /** ARM id of the nodes' subnet. */
    nodesSubnetId: pulumi.Input<string>;
    /** Overlay pod CIDR: not routable in the VNet, must not overlap it. */
    podCidr: string;
    /** Kubernetes service CIDR: must not overlap the VNet or the pods. */
    serviceCidr: string;
    /** The cluster DNS service's address, inside `serviceCidr`. */
    dnsServiceIp: string;
    /**
     * Give the control-plane identity Network Contributor on the nodes' subnet (AKS needs to join it when the cluster
     * identity is user-assigned). false where a platform team owns the subnet and grants that role itself.
     */
    grantSubnetAccess: boolean;
}

/** Prefixes wider than this are "the internet" in practice, not a restriction of the Kubernetes API. */
export const MIN_API_SERVER_PREFIX = 16;

/**
 * Why the Kubernetes API would be unrestricted, or undefined when it is not. AKS treats an empty authorised range
 * list as "reachable from anywhere" (an Entra sign-in is then the only gate), so a stack that must be restricted
 * (prod, D1: only its runners' network path) needs at least one range, and none may be wide open.
 */
export function apiServerAccessProblem(requireRestriction: boolean, authorizedCidrs: readonly string[]): string | undefined {
    for (const cidr of authorizedCidrs) {
        const block = ipv4Block(cidr);
        if (!block) {
            return `authorised API range ${cidr} is not an IPv4 CIDR`;
        }
        if (block.prefix < MIN_API_SERVER_PREFIX) {
            return `authorised API range ${cidr} is wider than a /${MIN_API_SERVER_PREFIX}: that is not a restriction`;
        }
    }
    if (requireRestriction && authorizedCidrs.length === 0) {
        return "this stack must not expose an unrestricted Kubernetes API: list the deploy runners' egress ranges as authorised API ranges (D1)";
    }
    return undefined;
}

/** AKS pricing tier: Free (no uptime SLA) or Standard/Premium (SLA). */
export type AksTier = "Free" | "Standard" | "Premium";
export const AKS_TIERS: readonly AksTier[] = ["Free", "Standard", "Premium"];
export { KUBELOGIN_MODES, type KubeloginMode };

/** What a stack chooses about the Key Vault secrets provider add-on. */
export interface KeyVaultSecretsProviderSettings {
    /**
     * How often the driver re-reads mounted secrets from Key Vault, as a Go duration (`2m`, `120s`). Rotation is always
     * on: a secret changed in the vault reaches the mounted file without a pod restart (not env vars or synced Secrets'
     * consumers, which read once).
     */
    rotationPollInterval: string;
}

/** A duration the add-on's `rotationPollInterval` accepts, in Go's form: hours, minutes, seconds (`1h30m`, `2m`, `120s`), > 0. */
export function isRotationPollInterval(value: string): boolean {
    const match = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(value);
    return value !== "" && match !== null && match.slice(1).some(part => part !== undefined && Number(part) > 0);
}

/** What a stack chooses about its cluster (config/aks.ts reads and validates these). */
export interface AksClusterSettings {
    /** AKS pricing tier. */
    tier: AksTier;
    /** Kubernetes version; undefined = the AKS default for the region. */
    kubernetesVersion?: string;
    /** Node count of the system pool. */
    nodeCount: number;
    /** VM size of the system pool. */
    nodeVmSize: string;
    /** Zones the system pool and the egress IP span; empty = no zone pinning. */
    availabilityZones: readonly string[];
    /** CIDRs allowed to reach the API server; empty = no restriction (AKS always adds the cluster's egress IP). */
    apiServerAuthorizedCidrs: readonly string[];
    /** Refuse an unrestricted API server (prod, D1): `apiServerAuthorizedCidrs` must then list the runners' ranges. Default false. */
    requireRestrictedApiServer?: boolean;
    /**
     * Encryption at host on the nodes (temp disks and disk caches encrypted on the VM host). Needs the subscription
     * feature Microsoft.Compute/EncryptionAtHost registered, a VM size that supports it, and can only be chosen when a
     * node pool is created: switching it on an existing pool replaces the pool. Default false.
     */
    enableEncryptionAtHost?: boolean;
    /** Entra groups that get cluster-admin through Entra integration (people; deployers get it from `clusterAdmins` or bootstrap). */
    adminGroupObjectIds: readonly string[];
    /** kubelogin mode of the exported kubeconfig. */
    kubeloginMode: KubeloginMode;
    /** Azure Policy add-on. */
    azurePolicy: boolean;
    /** The Key Vault secrets provider add-on (Secrets Store CSI driver + Azure provider); undefined = off. */
    keyVaultSecretsProvider?: KeyVaultSecretsProviderSettings;
}

export interface AksClusterArgs extends AksClusterSettings, AzureScope {
    /** Cluster name; also its DNS prefix. */
    clusterName: string;
    /** Entra tenant of the cluster's Entra integration. */
    tenantId: pulumi.Input<string>;
    /** Subscription that owns the built-in role definitions assigned here. */
    subscriptionId: pulumi.Input<string>;
    /**
     * Principals (from config, never "whoever runs up") given "AKS RBAC Cluster Admin" on this cluster only.
     * Empty where bootstrap/ already granted the deploy identity the role on the resource group.
     */
    clusterAdmins: readonly EntraPrincipal[];
    /** Log Analytics workspace for Container Insights and the API server audit log; undefined = none. */
    logAnalyticsWorkspaceId?: pulumi.Input<string>;
    /** The VNet the nodes join (from the Network component); undefined = AKS creates and manages a VNet of its own (dev). */
    network?: AksNodeNetwork;
}

/**
 * An AKS cluster that publishes an OIDC issuer and runs the workload identity webhook, with Entra ID + Azure
 * RBAC instead of local accounts, a static egress IP (so database firewall rules can be exact), and a
 * Kubernetes provider built from its own kubeconfig — nothing here touches the ambient ~/.kube/config.
 */
export class AksCluster extends pulumi.ComponentResource {
    /** Cluster name. */
    public readonly name: pulumi.Output<string>;
    /** ARM id of the cluster. */
    public readonly id: pulumi.Output<string>;
    /** The OIDC issuer URL that federated identity credentials must trust. */
    public readonly oidcIssuerUrl: pulumi.Output<string>;
    /** Object id of the kubelet identity: the principal nodes pull images with. */
    public readonly kubeletObjectId: pulumi.Output<string>;
    /** The single public IPv4 address all cluster egress leaves from. */
    public readonly egressIp: pulumi.Output<string>;
    /** kubeconfig (secret) for people and scripts, using kubelogin in `kubeloginMode` with the tenant pinned. */
    public readonly kubeconfig: pulumi.Output<string>;
    /** Kubernetes provider for this cluster; pass it to everything that runs in the cluster. */
    public readonly provider: k8s.Provider;

    constructor(name: string, args: AksClusterArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aks-pg-passwordless:azure:AksCluster", name, {}, opts);

        if (args.keyVaultSecretsProvider && !isRotationPollInterval(args.keyVaultSecretsProvider.rotationPollInterval)) {
            throw new Error(`AksCluster ${name}: rotationPollInterval = ${args.keyVaultSecretsProvider.rotationPollInterval} is not a duration such as 2m or 120s`);
        }
        const apiProblem = apiServerAccessProblem(args.requireRestrictedApiServer ?? false, args.apiServerAuthorizedCidrs);
        if (apiProblem) {
            throw new Error(`AksCluster ${name}: ${apiProblem}`);
        }
        const zones = args.availabilityZones.length > 0 ? [...args.availabilityZones] : undefined;

        const egressIp = new network.PublicIPAddress(`${name}-egress`, {
            resourceGroupName: args.resourceGroupName,
            location: args.location,
            publicIpAddressName: `pip-${args.clusterName}-egress`,
            sku: { name: "Standard", tier: "Regional" },
            publicIPAllocationMethod: "Static",
            publicIPAddressVersion: "IPv4",
            zones,
            tags: args.tags,
        }, { parent: this });

        // A user-assigned control-plane identity exists before the cluster, so it can be granted the right to
        // use the egress IP up front. (A system-assigned one would only exist after creation, too late.)
        const controlPlaneIdentity = new managedidentity.UserAssignedIdentity(`${name}-control-plane`, {
            resourceGroupName: args.resourceGroupName,
            location: args.location,
            resourceName: `id-${args.clusterName}-control-plane`,
            tags: args.tags,
        }, { parent: this });

        const egressIpAccess = new authorization.RoleAssignment(`${name}-egress-ip-access`, {
            principalId: controlPlaneIdentity.principalId,
            principalType: "ServicePrincipal",
            roleDefinitionId: roleDefinitionId(args.subscriptionId, BUILTIN_ROLES.networkContributor),
            scope: egressIp.id,
            description: "AKS control plane joins its own egress IP to the cluster load balancer",
        }, { parent: this });

        // With a user-assigned cluster identity in a VNet of our own, AKS needs join rights on the nodes' subnet
        // (Network Contributor is the built-in role Microsoft's "bring your own VNet" docs name for it).
        const subnetAccess = args.network?.grantSubnetAccess ? [new authorization.RoleAssignment(`${name}-nodes-subnet-access`, {
            principalId: controlPlaneIdentity.principalId,
            principalType: "ServicePrincipal",
            roleDefinitionId: roleDefinitionId(args.subscriptionId, BUILTIN_ROLES.networkContributor),
            scope: args.network.nodesSubnetId,
            description: "AKS control plane joins the nodes to their subnet",
        }, { parent: this })] : [];

        const cluster = new containerservice.ManagedCluster(`${name}-cluster`, {
            resourceGroupName: args.resourceGroupName,
            location: args.location,
            resourceName: args.clusterName,
            dnsPrefix: args.clusterName,
            kubernetesVersion: args.kubernetesVersion,
            sku: { name: "Base", tier: args.tier },
            identity: {
                type: containerservice.ResourceIdentityType.UserAssigned,
                userAssignedIdentities: [controlPlaneIdentity.id],
            },
            oidcIssuerProfile: { enabled: true },
            securityProfile: { workloadIdentity: { enabled: true } },
            enableRBAC: true,
            disableLocalAccounts: true,
            aadProfile: {
                managed: true,
                enableAzureRBAC: true,
                tenantID: args.tenantId,
                adminGroupObjectIDs: [...args.adminGroupObjectIds],
            },
            apiServerAccessProfile: args.apiServerAuthorizedCidrs.length > 0
                ? { authorizedIPRanges: [...args.apiServerAuthorizedCidrs] }
                : undefined,
            autoUpgradeProfile: { upgradeChannel: "stable", nodeOSUpgradeChannel: "NodeImage" },
            addonProfiles: {
                azurepolicy: { enabled: args.azurePolicy },
                // The add-on's key (case matters in the addonProfiles map) and config values are strings, as AKS's
                // "Use the Azure Key Vault provider for Secrets Store CSI Driver" documents them.
                ...(args.keyVaultSecretsProvider ? {
                    azureKeyvaultSecretsProvider: {
                        enabled: true,
                        config: { enableSecretRotation: "true", rotationPollInterval: args.keyVaultSecretsProvider.rotationPollInterval },
                    },
                } : {}),
                ...(args.logAnalyticsWorkspaceId ? {
                    omsagent: {
                        enabled: true,
                        config: { logAnalyticsWorkspaceResourceID: args.logAnalyticsWorkspaceId, useAADAuth: "true" },
                    },
                } : {}),
            },
            agentPoolProfiles: [{
                name: "system",
                mode: "System",
                type: "VirtualMachineScaleSets",
                osType: "Linux",
                osSKU: "AzureLinux",
                count: args.nodeCount,
                vmSize: args.nodeVmSize,
                availabilityZones: zones,
                upgradeSettings: { maxSurge: "33%" },
                vnetSubnetID: args.network?.nodesSubnetId,
                // Sent only when on: leaves the request of a stack that never asked for it exactly as it was.
                enableEncryptionAtHost: args.enableEncryptionAtHost ? true : undefined,
            }],
            networkProfile: {
                networkPlugin: "azure",
                networkPluginMode: "overlay",
                networkDataplane: "cilium",
                networkPolicy: "cilium",
                ...(args.network ? {
                    podCidr: args.network.podCidr,
                    serviceCidr: args.network.serviceCidr,
                    dnsServiceIP: args.network.dnsServiceIp,
                } : {}),
                loadBalancerSku: "standard",
                outboundType: "loadBalancer",
                loadBalancerProfile: { outboundIPs: { publicIPs: [{ id: egressIp.id }] } },
            },
            tags: args.tags,
        }, { parent: this, dependsOn: [egressIpAccess, ...subnetAccess] });

        if (args.logAnalyticsWorkspaceId) {
            diagnosticsToWorkspace(this, `${name}-diagnostics`, cluster.id, args.logAnalyticsWorkspaceId, "audit");
            // The add-on authenticates with managed identity (omsagent config useAADAuth, above), and such an agent
            // sends only what a data collection rule associated with the cluster tells it to.
            containerInsightsDataCollection(this, `${name}-container-insights`, {
                resourceGroupName: args.resourceGroupName,
                location: args.location,
                clusterName: args.clusterName,
                clusterId: cluster.id,
                workspaceId: args.logAnalyticsWorkspaceId,
                tags: args.tags,
            });
        }

        // People who deploy a stack of their own reach the Kubernetes API through Entra ID + Azure RBAC, on this
        // cluster only. The principal type is passed so Azure need not look it up (and race Entra replication).
        const adminAccess = args.clusterAdmins.map((admin, i) => new authorization.RoleAssignment(`${name}-admin-${i}`, {
            principalId: admin.objectId,
            principalType: admin.principalType,
            roleDefinitionId: roleDefinitionId(args.subscriptionId, BUILTIN_ROLES.aksRbacClusterAdmin),
            scope: cluster.id,
            description: "Deploys this stack: manages the cluster's Kubernetes objects",
        }, { parent: this }));

        const credentials = containerservice.listManagedClusterUserCredentialsOutput({
            resourceGroupName: args.resourceGroupName,
            resourceName: cluster.name,
            format: "exec",
        }, { parent: this });
        const userKubeconfig = credentials.kubeconfigs.apply(kubeconfigs => {
            const raw = kubeconfigs[0]?.value;
            if (!raw) {
                throw new Error(`AKS returned no user kubeconfig for cluster ${args.clusterName}`);
            }
            return Buffer.from(raw, "base64").toString("utf8");
        });

        // For people and scripts: kubelogin, non-interactive, pinned to the tenant.
        this.kubeconfig = pulumi.secret(pulumi.all([userKubeconfig, args.tenantId])
            .apply(([raw, tenant]) => kubeconfigForLoginMode(raw, args.kubeloginMode, tenant)));

        // For this program's provider: a token minted by the azure-native provider's own credentials only once the
        // cluster (and any admin assignment above) exists — so it is fresh however long AKS took (see
        // tokenKubeconfig) — and, on `up`, only after the API server really lets the deployer create namespaces.
        const providerKubeconfig = pulumi.secret(pulumi
            .all([userKubeconfig, ...adminAccess.map(a => a.id)])
            .apply(async ([raw]) => {
                const { token } = await authorization.getClientToken({ endpoint: aksServerId(raw) }, { parent: this });
                if (!pulumi.runtime.isDryRun()) {
                    await waitForKubernetesAccess({ ...clusterEndpoint(raw), token, verb: "create", resource: "namespaces" });
                }
                return tokenKubeconfig(raw, token);
            }));

        this.provider = new k8s.Provider(`${name}-k8s`, {
            kubeconfig: providerKubeconfig,
            enableServerSideApply: true,
        }, { parent: this });

        this.name = cluster.name;
        this.id = cluster.id;
        this.oidcIssuerUrl = cluster.oidcIssuerProfile.apply(profile => {
            if (!profile?.issuerURL) {
                throw new Error(`AKS cluster ${args.clusterName} reports no OIDC issuer URL; workload identity cannot work without it`);
            }
            return profile.issuerURL;
        });
        this.kubeletObjectId = cluster.identityProfile.apply(profile => {
            const objectId = profile?.["kubeletidentity"]?.objectId;
            if (!objectId) {
                throw new Error(`AKS cluster ${args.clusterName} reports no kubelet identity`);
            }
            return objectId;
        });
        this.egressIp = egressIp.ipAddress.apply(ip => {
            if (!ip) {
                throw new Error(`Static public IP pip-${args.clusterName}-egress has no address`);
            }
            return ip;
        });

        this.registerOutputs({
            name: this.name,
            id: this.id,
            oidcIssuerUrl: this.oidcIssuerUrl,
            kubeletObjectId: this.kubeletObjectId,
            egressIp: this.egressIp,
            kubeconfig: this.kubeconfig,
            provider: this.provider,
        });
    }
}
