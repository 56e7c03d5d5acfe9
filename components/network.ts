import * as pulumi from "@pulumi/pulumi";
import * as network from "@pulumi/azure-native/network";
import * as privatedns from "@pulumi/azure-native/privatedns";
import type { AzureScope } from "../lib/azureScope";
import { blockContains, blockHasAddress, blocksOverlap, ipv4Block, type Ipv4Block } from "../lib/cidr";
import { KEY_VAULT_PRIVATE_DNS_ZONE } from "../lib/keyVaultNames";

/** `public`: no VNet; the server has a public endpoint behind firewall rules (dev). `private`: everything in a VNet (prod). */
export type NetworkMode = "public" | "private";

/** The stack's IPv4 address plan. Subnets and the cluster's overlay ranges must not overlap one another. */
export interface AddressPlan {
    /** Address space of the VNet this program creates (ignored with `existingSubnets`: the platform team's VNet has its own). */
    virtualNetwork: string[];
    /** Subnet of the AKS nodes (Azure CNI overlay: one address per node, pods are not in it). */
    aksNodes: string;
    /** Subnet delegated to Microsoft.DBforPostgreSQL/flexibleServers: the only place the server has an address. */
    postgres: string;
    /** Subnet of the private endpoints (the container registry's). */
    privateEndpoints: string;
    /** Pod CIDR of the overlay network: not routable in the VNet, so it must not overlap it (nor anything peered). */
    pods: string;
    /** Kubernetes service CIDR: must not overlap the VNet, the pods or anything peered. */
    services: string;
    /** Address of the cluster DNS service, inside `services` and not its first usable address (kubernetes.default takes it). */
    dnsServiceIp: string;
}

/** Subnets a platform team made in its own VNet (hub-and-spoke); their prefixes go in `addressPlan` all the same. */
export interface ExistingSubnets {
    /** ARM id of the AKS nodes' subnet. */
    aksNodesSubnetId: string;
    /** ARM id of a subnet delegated to Microsoft.DBforPostgreSQL/flexibleServers, holding nothing else. */
    postgresSubnetId: string;
    /** ARM id of the subnet for private endpoints. */
    privateEndpointsSubnetId: string;
}

/** What a stack chooses about its network. */
export interface NetworkSettings {
    /** public (dev: no VNet) or private (prod: VNet, delegated subnet, private DNS, private registry). */
    mode: NetworkMode;
    /** The address plan; with `existingSubnets` it states the prefixes those subnets have (NetworkPolicy egress uses `postgres`). */
    addressPlan: AddressPlan;
    /** Bring your own VNet: existing subnets instead of a VNet made here; undefined = create one. */
    existingSubnets?: ExistingSubnets;
}

/** The delegation Azure requires on a flexible server's subnet (VNet integration). */
export const POSTGRES_SUBNET_DELEGATION = "Microsoft.DBforPostgreSQL/flexibleServers";
/** The zone a registry's private endpoint registers in (Azure's private endpoint DNS table for `registry`). */
export const REGISTRY_PRIVATE_DNS_ZONE = "privatelink.azurecr.io";
/** Azure's smallest subnet is a /29 (it keeps five addresses of every subnet for itself). */
export const MIN_SUBNET_PREFIX = 29;

const SUBNET_ID = /^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.Network\/virtualNetworks\/[^/]+\/subnets\/[^/]+$/i;

/** The VNet id of an ARM subnet id; undefined when `subnetId` is not one. */
export function virtualNetworkIdOf(subnetId: string): string | undefined {
    return SUBNET_ID.test(subnetId) ? subnetId.replace(/\/subnets\/[^/]+$/i, "") : undefined;
}

/**
 * The private DNS zone of a VNet-integrated server. Azure requires the zone name to end in
 * `.postgres.database.azure.com`; `<server>.private.postgres.database.azure.com` is the form Microsoft's docs
 * (and seed 001) use, and the zone is linked to the VNet the clients resolve from.
 */
export function postgresPrivateDnsZoneName(serverNamePrefix: string): string {
    return `${serverNamePrefix}.private.postgres.database.azure.com`;
}

/** A field of the address plan (`virtualNetwork` for the VNet's spaces). */
export type AddressPlanField = keyof AddressPlan;

/** One problem with an address plan: the field it is reported against, and the message (which names every field involved). */
export interface AddressPlanIssue {
    field: AddressPlanField;
    message: string;
}

/** Every problem with an address plan, each naming the field; empty when it is sound. */
export function addressPlanProblems(plan: AddressPlan, createsVirtualNetwork: boolean): string[] {
    return addressPlanIssues(plan, createsVirtualNetwork).map(issue => issue.message);
}

/**
 * Every problem with an address plan, with the field to report it against. `names` renames fields in the messages
 * (config reports them under its own keys).
 */
export function addressPlanIssues(plan: AddressPlan, createsVirtualNetwork: boolean, names: Partial<Record<AddressPlanField, string>> = {}): AddressPlanIssue[] {
    const issues: AddressPlanIssue[] = [];
    const n = (field: AddressPlanField) => names[field] ?? field;
    const add = (field: AddressPlanField, message: string) => issues.push({ field, message });
    const parse = (field: string, cidr: string): Ipv4Block | undefined => {
        const block = ipv4Block(cidr);
        if (!block) {
            add(field.replace(/\[\d+\]$/, "") as AddressPlanField, `${field.replace(/^\w+/, w => n(w as AddressPlanField))} = ${cidr} is not an IPv4 CIDR (network address, no host bits)`);
        }
        return block;
    };
    const spaces = createsVirtualNetwork
        ? plan.virtualNetwork.map((cidr, i) => parse(`virtualNetwork[${i}]`, cidr)).filter((b): b is Ipv4Block => !!b)
        : [];
    if (createsVirtualNetwork && plan.virtualNetwork.length === 0) {
        add("virtualNetwork", `${n("virtualNetwork")} is empty: a VNet needs at least one address space`);
    }
    const subnets = (["aksNodes", "postgres", "privateEndpoints"] as const)
        .map(field => [field, parse(field, plan[field])] as const)
        .filter((entry): entry is readonly [typeof entry[0], Ipv4Block] => !!entry[1]);
    const overlay = (["pods", "services"] as const)
        .map(field => [field, parse(field, plan[field])] as const)
        .filter((entry): entry is readonly [typeof entry[0], Ipv4Block] => !!entry[1]);

    spaces.forEach((a, i) => spaces.slice(i + 1).forEach(b => {
        if (blocksOverlap(a, b)) {
            add("virtualNetwork", `${n("virtualNetwork")} spaces ${a.cidr} and ${b.cidr} overlap`);
        }
    }));
    for (const [field, block] of subnets) {
        if (block.prefix > MIN_SUBNET_PREFIX) {
            add(field, `${n(field)} = ${block.cidr} is smaller than a /${MIN_SUBNET_PREFIX}, Azure's smallest subnet`);
        }
        if (createsVirtualNetwork && spaces.length > 0 && !spaces.some(space => blockContains(space, block))) {
            add(field, `${n(field)} = ${block.cidr} is not inside the VNet's address space (${plan.virtualNetwork.join(", ")})`);
        }
    }
    const everything = [...subnets, ...overlay];
    everything.forEach(([fieldA, a], i) => everything.slice(i + 1).forEach(([fieldB, b]) => {
        if (blocksOverlap(a, b)) {
            add(fieldB, `${n(fieldA)} = ${a.cidr} and ${n(fieldB)} = ${b.cidr} overlap`);
        }
    }));
    // Azure CNI overlay: the pod and service ranges must not overlap the cluster's VNet.
    for (const [field, block] of overlay) {
        for (const space of spaces) {
            if (blocksOverlap(space, block)) {
                add(field, `${n(field)} = ${block.cidr} overlaps the VNet's address space ${space.cidr}`);
            }
        }
    }
    const services = ipv4Block(plan.services);
    if (services) {
        if (!blockHasAddress(services, plan.dnsServiceIp)) {
            add("dnsServiceIp", `${n("dnsServiceIp")} = ${plan.dnsServiceIp} is not inside ${n("services")} = ${plan.services}`);
        } else if (blockHasAddress({ ...services, last: services.first + 1 }, plan.dnsServiceIp)) {
            add("dnsServiceIp", `${n("dnsServiceIp")} = ${plan.dnsServiceIp} is the network address or the first address of ${n("services")}, which the kubernetes service takes`);
        }
    }
    return issues;
}

/** Every problem with a set of existing subnets: each an ARM subnet id, all in one VNet, three different subnets. */
export function existingSubnetsProblems(subnets: ExistingSubnets): string[] {
    const problems: string[] = [];
    const vnets = new Set<string>();
    for (const [field, id] of Object.entries(subnets)) {
        const vnet = virtualNetworkIdOf(id);
        if (!vnet) {
            problems.push(`${field} = ${id} is not a subnet id (/subscriptions/…/virtualNetworks/<vnet>/subnets/<subnet>)`);
        } else {
            vnets.add(vnet.toLowerCase());
        }
    }
    if (vnets.size > 1) {
        problems.push("the subnets are in different VNets; the private DNS zones are linked to one");
    }
    const ids = Object.values(subnets).map(id => id.toLowerCase());
    if (new Set(ids).size !== ids.length) {
        problems.push("the same subnet is given twice: the PostgreSQL subnet is delegated and holds nothing else");
    }
    return problems;
}

/** Every problem with a stack's network settings. */
export function networkSettingsProblems(settings: NetworkSettings): string[] {
    return [
        ...addressPlanProblems(settings.addressPlan, !settings.existingSubnets),
        ...(settings.existingSubnets ? existingSubnetsProblems(settings.existingSubnets) : []),
    ];
}

export interface NetworkArgs extends Omit<NetworkSettings, "mode">, AzureScope {
    /** Name of the VNet created here (unused with `existingSubnets`). */
    virtualNetworkName: string;
    /** Name of the PostgreSQL private DNS zone; must end in `.postgres.database.azure.com` (see postgresPrivateDnsZoneName). */
    postgresPrivateDnsZoneName: string;
}

/**
 * The stack's private network: a VNet (or a platform team's existing subnets) with a subnet for the AKS nodes, one
 * delegated to PostgreSQL flexible servers and one for private endpoints, plus the private DNS zones of the
 * PostgreSQL server and the container registry, each linked to the VNet so nodes and pods resolve private addresses.
 */
export class Network extends pulumi.ComponentResource {
    /** ARM id of the VNet (created here or the one the existing subnets are in). */
    public readonly virtualNetworkId: pulumi.Output<string>;
    /** ARM id of the AKS nodes' subnet. */
    public readonly aksNodesSubnetId: pulumi.Output<string>;
    /** ARM id of the subnet delegated to Microsoft.DBforPostgreSQL/flexibleServers. */
    public readonly postgresSubnetId: pulumi.Output<string>;
    /** The PostgreSQL subnet's prefix: where the server's address is, and so the one place pods may reach on 5432. */
    public readonly postgresSubnetCidr: pulumi.Output<string>;
    /** ARM id of the private endpoints' subnet. */
    public readonly privateEndpointsSubnetId: pulumi.Output<string>;
    /** ARM id of the PostgreSQL private DNS zone; resolves once the zone is linked to the VNet. */
    public readonly postgresPrivateDnsZoneId: pulumi.Output<string>;
    /** ARM id of the `privatelink.azurecr.io` zone; resolves once the zone is linked to the VNet. */
    public readonly registryPrivateDnsZoneId: pulumi.Output<string>;
    /** ARM id of the `privatelink.vaultcore.azure.net` zone (the Key Vault's endpoint); resolves once linked. */
    public readonly keyVaultPrivateDnsZoneId: pulumi.Output<string>;
    /** What AksCluster's `network` takes: the nodes' subnet and the overlay ranges of the address plan. */
    public readonly forCluster: { nodesSubnetId: pulumi.Output<string>; podCidr: string; serviceCidr: string; dnsServiceIp: string; grantSubnetAccess: boolean };
    /** What PostgresServer's `privateNetwork` takes: the delegated subnet and the linked private DNS zone. */
    public readonly forPostgres: { delegatedSubnetId: pulumi.Output<string>; privateDnsZoneId: pulumi.Output<string> };
    /** What AppImage's `privateNetwork` takes: the private endpoints' subnet and the registry's linked zone. */
    public readonly forRegistry: { privateEndpointsSubnetId: pulumi.Output<string>; privateDnsZoneId: pulumi.Output<string> };
    /** What KeyVault's `privateNetwork` takes: the private endpoints' subnet and the vault's linked zone. */
    public readonly forKeyVault: { privateEndpointsSubnetId: pulumi.Output<string>; privateDnsZoneId: pulumi.Output<string> };

    constructor(name: string, args: NetworkArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aks-pg-passwordless:azure:Network", name, {}, opts);

        const problems = networkSettingsProblems({ mode: "private", addressPlan: args.addressPlan, existingSubnets: args.existingSubnets });
        if (!args.postgresPrivateDnsZoneName.endsWith(".postgres.database.azure.com")) {
            problems.push(`postgresPrivateDnsZoneName = ${args.postgresPrivateDnsZoneName} does not end in .postgres.database.azure.com, which Azure requires of a VNet-integrated server's zone`);
        }
        if (problems.length > 0) {
            throw new Error(`Network ${name}: ${problems.join("; ")}`);
        }
        const plan = args.addressPlan;

        if (args.existingSubnets) {
            const existing = args.existingSubnets;
            this.virtualNetworkId = pulumi.output(virtualNetworkIdOf(existing.aksNodesSubnetId)!);
            this.aksNodesSubnetId = pulumi.output(existing.aksNodesSubnetId);
            this.postgresSubnetId = pulumi.output(existing.postgresSubnetId);
            this.privateEndpointsSubnetId = pulumi.output(existing.privateEndpointsSubnetId);
        } else {
            // Subnets inline, in the VNet's own request: one PUT, so Azure never sees concurrent subnet writes to one
            // VNet (which it refuses with AnotherOperationInProgress), and nothing outside this resource owns them.
            const subnetNames = { aksNodes: "snet-aks-nodes", postgres: "snet-postgres", privateEndpoints: "snet-private-endpoints" };
            const vnet = new network.VirtualNetwork(`${name}-vnet`, {
                resourceGroupName: args.resourceGroupName,
                location: args.location,
                virtualNetworkName: args.virtualNetworkName,
                addressSpace: { addressPrefixes: plan.virtualNetwork },
                subnets: [
                    { name: subnetNames.aksNodes, addressPrefix: plan.aksNodes },
                    {
                        name: subnetNames.postgres,
                        addressPrefix: plan.postgres,
                        delegations: [{ name: "postgres-flexible-servers", serviceName: POSTGRES_SUBNET_DELEGATION }],
                    },
                    { name: subnetNames.privateEndpoints, addressPrefix: plan.privateEndpoints },
                ],
                tags: args.tags,
            }, { parent: this });
            const subnetId = (subnet: string) => pulumi.interpolate`${vnet.id}/subnets/${subnet}`;
            this.virtualNetworkId = vnet.id;
            this.aksNodesSubnetId = subnetId(subnetNames.aksNodes);
            this.postgresSubnetId = subnetId(subnetNames.postgres);
            this.privateEndpointsSubnetId = subnetId(subnetNames.privateEndpoints);
        }
        this.postgresSubnetCidr = pulumi.output(plan.postgres);

        const linkedZone = (child: string, zoneName: string): pulumi.Output<string> => {
            const zone = new privatedns.PrivateZone(`${name}-${child}-dns`, {
                resourceGroupName: args.resourceGroupName,
                privateZoneName: zoneName,
                location: "global",
                tags: args.tags,
            }, { parent: this });
            const link = new privatedns.VirtualNetworkLink(`${name}-${child}-dns-link`, {
                resourceGroupName: args.resourceGroupName,
                privateZoneName: zone.name,
                virtualNetworkLinkName: `link-${args.virtualNetworkName}`,
                location: "global",
                virtualNetwork: { id: this.virtualNetworkId },
                // Records come from the server and the private endpoints, never from VMs registering themselves.
                registrationEnabled: false,
                tags: args.tags,
            }, { parent: this });
            // Handed on only once linked: a server created before the link exists has a name nobody in the VNet resolves.
            return pulumi.all([zone.id, link.id]).apply(([id]) => id);
        };
        this.postgresPrivateDnsZoneId = linkedZone("postgres", args.postgresPrivateDnsZoneName);
        this.registryPrivateDnsZoneId = linkedZone("registry", REGISTRY_PRIVATE_DNS_ZONE);
        this.keyVaultPrivateDnsZoneId = linkedZone("keyvault", KEY_VAULT_PRIVATE_DNS_ZONE);

        this.forCluster = { nodesSubnetId: this.aksNodesSubnetId, podCidr: args.addressPlan.pods, serviceCidr: args.addressPlan.services,
            dnsServiceIp: args.addressPlan.dnsServiceIp, grantSubnetAccess: !args.existingSubnets };
        this.forPostgres = { delegatedSubnetId: this.postgresSubnetId, privateDnsZoneId: this.postgresPrivateDnsZoneId };
        this.forRegistry = { privateEndpointsSubnetId: this.privateEndpointsSubnetId, privateDnsZoneId: this.registryPrivateDnsZoneId };
        this.forKeyVault = { privateEndpointsSubnetId: this.privateEndpointsSubnetId, privateDnsZoneId: this.keyVaultPrivateDnsZoneId };
        this.registerOutputs({
            virtualNetworkId: this.virtualNetworkId,
            aksNodesSubnetId: this.aksNodesSubnetId,
            postgresSubnetId: this.postgresSubnetId,
            postgresSubnetCidr: this.postgresSubnetCidr,
            privateEndpointsSubnetId: this.privateEndpointsSubnetId,
            postgresPrivateDnsZoneId: this.postgresPrivateDnsZoneId,
            registryPrivateDnsZoneId: this.registryPrivateDnsZoneId,
            keyVaultPrivateDnsZoneId: this.keyVaultPrivateDnsZoneId,
        });
    }
}
