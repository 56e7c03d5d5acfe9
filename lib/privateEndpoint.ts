// One shape for every private endpoint the program makes (registry, vault): the endpoint in the private endpoints'
// subnet, and a zone group that writes its A records into the service's privatelink zone, so the service's public
// name resolves to a private address inside the VNet. Children of `parent`, named `<name>` and `<dnsName>`.
import * as pulumi from "@pulumi/pulumi";
import * as network from "@pulumi/azure-native/network";

export interface PrivateEndpointArgs {
    resourceGroupName: pulumi.Input<string>;
    location: pulumi.Input<string>;
    /** The service's resource name: the endpoint is `pe-<serviceName>`. */
    serviceName: pulumi.Input<string>;
    /** ARM id of the service the endpoint connects to. */
    serviceId: pulumi.Input<string>;
    /** The service's private link sub-resource ("registry", "vault"). */
    groupId: string;
    /** The private endpoints' subnet. */
    subnetId: pulumi.Input<string>;
    /** The service's privatelink zone, linked to the VNet. */
    privateDnsZoneId: pulumi.Input<string>;
    /** The zone config's name: the zone with '-' for '.' (e.g. privatelink-azurecr-io). */
    zoneConfigName: string;
    tags?: Record<string, string>;
}

export function privateEndpointWithDns(parent: pulumi.Resource, name: string, dnsName: string, args: PrivateEndpointArgs): network.PrivateDnsZoneGroup {
    const endpoint = new network.PrivateEndpoint(name, {
        resourceGroupName: args.resourceGroupName,
        location: args.location,
        privateEndpointName: pulumi.interpolate`pe-${args.serviceName}`,
        subnet: { id: args.subnetId },
        privateLinkServiceConnections: [{ name: args.groupId, privateLinkServiceId: args.serviceId, groupIds: [args.groupId] }],
        tags: args.tags,
    }, { parent });
    return new network.PrivateDnsZoneGroup(dnsName, {
        resourceGroupName: args.resourceGroupName,
        privateEndpointName: endpoint.name,
        privateDnsZoneGroupName: "default",
        privateDnsZoneConfigs: [{ name: args.zoneConfigName, privateDnsZoneId: args.privateDnsZoneId }],
    }, { parent });
}
