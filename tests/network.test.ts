import { expect } from "chai";
import { KEY_VAULT_PRIVATE_DNS_ZONE } from "../lib/keyVaultNames";
import * as network from "@pulumi/azure-native/network";
import {
    addressPlanProblems, AddressPlan, existingSubnetsProblems, ExistingSubnets, Network, NetworkArgs,
    POSTGRES_SUBNET_DELEGATION, postgresPrivateDnsZoneName, REGISTRY_PRIVATE_DNS_ZONE, virtualNetworkIdOf,
} from "../components/network";
import { blockContains, blocksOverlap, ipv4Block } from "../lib/cidr";
import { promiseOf, SUBSCRIPTION_ID } from "./mocks";
import { underMocks } from "./harness";

const VNET = "azure-native:network:VirtualNetwork";
const ZONE = "azure-native:privatedns:PrivateZone";
const LINK = "azure-native:privatedns:VirtualNetworkLink";

/** A prod-like plan: a /22 VNet, the overlay ranges outside it. */
export const PLAN: AddressPlan = {
    virtualNetwork: ["10.42.0.0/22"],
    aksNodes: "10.42.0.0/24",
    postgres: "10.42.1.0/28",
    privateEndpoints: "10.42.1.64/27",
    pods: "192.168.0.0/16",
    services: "172.16.0.0/16",
    dnsServiceIp: "172.16.0.10",
};

const hub = `/subscriptions/${SUBSCRIPTION_ID}/resourceGroups/rg-hub/providers/Microsoft.Network/virtualNetworks/vnet-spoke`;
const EXISTING: ExistingSubnets = {
    aksNodesSubnetId: `${hub}/subnets/aks`,
    postgresSubnetId: `${hub}/subnets/postgres`,
    privateEndpointsSubnetId: `${hub}/subnets/endpoints`,
};

const baseArgs: NetworkArgs = {
    resourceGroupName: "rg-test",
    location: "westeurope",
    virtualNetworkName: "vnet-test",
    addressPlan: PLAN,
    postgresPrivateDnsZoneName: postgresPrivateDnsZoneName("psql-test"),
};

function build(overrides: Partial<NetworkArgs> = {}) {
    return underMocks("test", () => new Network("net", { ...baseArgs, ...overrides }));
}

describe("lib/cidr", () => {
    it("parses a network CIDR and refuses one with host bits or a bad octet", () => {
        expect(ipv4Block("10.42.1.0/28")).to.include({ prefix: 28, last: ipv4Block("10.42.1.0/28")!.first + 15 });
        expect(ipv4Block("10.42.1.1/28")).to.equal(undefined);
        expect(ipv4Block("10.42.256.0/24")).to.equal(undefined);
        expect(ipv4Block("010.42.1.0/24")).to.equal(undefined);
        expect(ipv4Block("10.42.1.0/33")).to.equal(undefined);
    });

    it("tells overlapping and contained blocks apart", () => {
        const [a, b, c] = ["10.0.0.0/16", "10.0.255.0/24", "10.1.0.0/24"].map(cidr => ipv4Block(cidr)!);
        expect(blocksOverlap(a, b)).to.equal(true);
        expect(blockContains(a, b)).to.equal(true);
        expect(blocksOverlap(a, c)).to.equal(false);
        expect(blockContains(b, a)).to.equal(false);
    });
});

describe("Network: address plan validation", () => {
    it("accepts a sound plan", () => {
        expect(addressPlanProblems(PLAN, true)).to.deep.equal([]);
    });

    it("refuses overlapping subnets, naming both", () => {
        const problems = addressPlanProblems({ ...PLAN, postgres: "10.42.0.128/28" }, true);
        expect(problems).to.deep.equal(["aksNodes = 10.42.0.0/24 and postgres = 10.42.0.128/28 overlap"]);
    });

    it("refuses a subnet outside the VNet's address space", () => {
        expect(addressPlanProblems({ ...PLAN, privateEndpoints: "10.43.0.0/27" }, true))
            .to.deep.equal(["privateEndpoints = 10.43.0.0/27 is not inside the VNet's address space (10.42.0.0/22)"]);
    });

    it("refuses an overlay pod range that overlaps the VNet (Azure CNI overlay)", () => {
        expect(addressPlanProblems({ ...PLAN, pods: "10.42.0.0/16" }, true)).to.include.members([
            "aksNodes = 10.42.0.0/24 and pods = 10.42.0.0/16 overlap",
            "pods = 10.42.0.0/16 overlaps the VNet's address space 10.42.0.0/22",
        ]);
    });

    it("refuses a service range that overlaps the pods", () => {
        expect(addressPlanProblems({ ...PLAN, services: "192.168.10.0/24", dnsServiceIp: "192.168.10.10" }, true))
            .to.deep.equal(["pods = 192.168.0.0/16 and services = 192.168.10.0/24 overlap"]);
    });

    it("refuses a DNS service address outside the services or on the kubernetes service's address", () => {
        expect(addressPlanProblems({ ...PLAN, dnsServiceIp: "172.17.0.10" }, true))
            .to.deep.equal(["dnsServiceIp = 172.17.0.10 is not inside services = 172.16.0.0/16"]);
        expect(addressPlanProblems({ ...PLAN, dnsServiceIp: "172.16.0.1" }, true)).to.have.length(1);
    });

    it("refuses a subnet smaller than Azure's /29 and a CIDR with host bits", () => {
        expect(addressPlanProblems({ ...PLAN, postgres: "10.42.1.0/30" }, true))
            .to.deep.equal(["postgres = 10.42.1.0/30 is smaller than a /29, Azure's smallest subnet"]);
        expect(addressPlanProblems({ ...PLAN, aksNodes: "10.42.0.5/24" }, true))
            .to.deep.equal(["aksNodes = 10.42.0.5/24 is not an IPv4 CIDR (network address, no host bits)"]);
    });

    it("refuses overlapping VNet spaces", () => {
        expect(addressPlanProblems({ ...PLAN, virtualNetwork: ["10.42.0.0/22", "10.42.2.0/24"] }, true))
            .to.deep.equal(["virtualNetwork spaces 10.42.0.0/22 and 10.42.2.0/24 overlap"]);
    });

    it("with existing subnets, ignores the VNet space but still checks the subnets against each other", () => {
        expect(addressPlanProblems({ ...PLAN, virtualNetwork: [] }, false)).to.deep.equal([]);
        expect(addressPlanProblems({ ...PLAN, virtualNetwork: [], postgres: "10.42.0.0/28" }, false)).to.have.length(1);
    });

    it("existing subnets must be subnet ids of one VNet, three different ones", () => {
        expect(existingSubnetsProblems(EXISTING)).to.deep.equal([]);
        expect(virtualNetworkIdOf(EXISTING.postgresSubnetId)).to.equal(hub);
        expect(existingSubnetsProblems({ ...EXISTING, postgresSubnetId: hub })).to.have.length(1);
        expect(existingSubnetsProblems({ ...EXISTING, postgresSubnetId: EXISTING.postgresSubnetId.replace("vnet-spoke", "vnet-other") }))
            .to.deep.equal(["the subnets are in different VNets; the private DNS zones are linked to one"]);
        expect(existingSubnetsProblems({ ...EXISTING, postgresSubnetId: EXISTING.aksNodesSubnetId })).to.have.length(1);
    });

    it("the component refuses a bad plan before creating anything", async () => {
        let error: Error | undefined;
        try {
            await build({ addressPlan: { ...PLAN, postgres: PLAN.aksNodes } });
        } catch (err) {
            error = err as Error;
        }
        expect(error?.message).to.contain("aksNodes = 10.42.0.0/24 and postgres = 10.42.0.0/24 overlap");
    });
});

describe("Network", () => {
    it("creates one VNet with the planned address space and three subnets", async () => {
        const { mocks } = await build();
        const vnet = mocks.named(VNET, "net-vnet").inputs;
        expect(vnet.addressSpace).to.deep.equal({ addressPrefixes: ["10.42.0.0/22"] });
        expect(vnet.subnets.map((s: { name: string; addressPrefix: string }) => [s.name, s.addressPrefix])).to.deep.equal([
            ["snet-aks-nodes", PLAN.aksNodes], ["snet-postgres", PLAN.postgres], ["snet-private-endpoints", PLAN.privateEndpoints],
        ]);
    });

    it("delegates the PostgreSQL subnet, and only it, to flexible servers", async () => {
        const { mocks } = await build();
        const subnets = mocks.named(VNET, "net-vnet").inputs.subnets as { name: string; delegations?: { serviceName: string }[] }[];
        expect(subnets.filter(s => s.delegations).map(s => [s.name, s.delegations!.map(d => d.serviceName)]))
            .to.deep.equal([["snet-postgres", [POSTGRES_SUBNET_DELEGATION]]]);
    });

    it("exposes subnet ids inside the VNet it created, and the PostgreSQL subnet's CIDR", async () => {
        const { mocks, result } = await build();
        const vnetId = mocks.named(VNET, "net-vnet").id;
        expect(await promiseOf(result.virtualNetworkId)).to.equal(vnetId);
        expect(await promiseOf(result.postgresSubnetId)).to.equal(`${vnetId}/subnets/snet-postgres`);
        expect(await promiseOf(result.aksNodesSubnetId)).to.equal(`${vnetId}/subnets/snet-aks-nodes`);
        expect(await promiseOf(result.privateEndpointsSubnetId)).to.equal(`${vnetId}/subnets/snet-private-endpoints`);
        expect(await promiseOf(result.postgresSubnetCidr)).to.equal(PLAN.postgres);
    });

    it("creates the PostgreSQL zone <server>.private.postgres.database.azure.com, privatelink.azurecr.io and privatelink.vaultcore.azure.net, all global", async () => {
        const { mocks } = await build();
        expect(mocks.ofType(ZONE).map(z => [z.inputs.privateZoneName, z.inputs.location])).to.have.deep.members([
            ["psql-test.private.postgres.database.azure.com", "global"], [REGISTRY_PRIVATE_DNS_ZONE, "global"], [KEY_VAULT_PRIVATE_DNS_ZONE, "global"],
        ]);
    });

    it("links each zone to the VNet, without auto-registration", async () => {
        const { mocks } = await build();
        const vnetId = mocks.named(VNET, "net-vnet").id;
        const links = mocks.ofType(LINK);
        expect(links.map(l => l.inputs.privateZoneName)).to.have.members(["psql-test.private.postgres.database.azure.com", REGISTRY_PRIVATE_DNS_ZONE, KEY_VAULT_PRIVATE_DNS_ZONE]);
        for (const link of links) {
            expect(link.inputs.virtualNetwork).to.deep.equal({ id: vnetId });
            expect(link.inputs.registrationEnabled).to.equal(false);
        }
    });

    it("hands out a zone id only once the zone is linked: a server using it is requested after the link exists", async () => {
        const { mocks } = await underMocks("test", () => {
            const net = new Network("net", baseArgs);
            // Stands in for the server: any resource taking the zone id as an input.
            new network.PublicIPAddress("consumer", {
                resourceGroupName: "rg-test", publicIpAddressName: "pip-consumer", tags: { zone: net.postgresPrivateDnsZoneId },
            });
            return net;
        }, { delays: type => (type === LINK ? 300 : 0) });
        const consumer = mocks.named("azure-native:network:PublicIPAddress", "consumer");
        expect(consumer.inputs.tags.zone).to.equal(mocks.named(ZONE, "net-postgres-dns").id);
        expect(consumer.requestedAt).to.be.at.least(mocks.named(LINK, "net-postgres-dns-link").createdAt);
    });

    it("refuses a PostgreSQL zone name Azure would refuse", async () => {
        let error: Error | undefined;
        try {
            await build({ postgresPrivateDnsZoneName: "psql-test.internal" });
        } catch (err) {
            error = err as Error;
        }
        expect(error?.message).to.contain("does not end in .postgres.database.azure.com");
    });

    it("bring your own VNet: creates no VNet, uses the given subnets and links the zones to their VNet", async () => {
        const { mocks, result } = await build({ existingSubnets: EXISTING, addressPlan: { ...PLAN, virtualNetwork: [] } });
        expect(mocks.ofType(VNET)).to.deep.equal([]);
        expect(await promiseOf(result.postgresSubnetId)).to.equal(EXISTING.postgresSubnetId);
        expect(await promiseOf(result.aksNodesSubnetId)).to.equal(EXISTING.aksNodesSubnetId);
        expect(await promiseOf(result.virtualNetworkId)).to.equal(hub);
        expect(mocks.ofType(LINK).map(l => l.inputs.virtualNetwork.id)).to.deep.equal([hub, hub, hub]);
    });

    it("every child is parented to the component and named after it", async () => {
        const { mocks } = await build();
        for (const r of mocks.registrations.filter(x => x.custom && x.name !== "consumer")) {
            expect(r.parent, r.name).to.equal("net");
            expect(r.name).to.match(/^net-/);
        }
    });
});
