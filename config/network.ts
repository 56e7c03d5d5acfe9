// The network's settings: NetworkSettings, read and validated (address plan overlap, existing subnets).
import {
    addressPlanIssues, type AddressPlan, type AddressPlanField, type ExistingSubnets, existingSubnetsProblems, type NetworkMode,
    type NetworkSettings,
} from "../components/network";
import { Problems } from "./errors";
import { Reader, stringList } from "./reader";

export const NETWORK_MODES: readonly NetworkMode[] = ["public", "private"];

/** The config key of each address plan field. */
export const ADDRESS_PLAN_KEYS: Record<AddressPlanField, string> = {
    virtualNetwork: "networkAddressSpace",
    aksNodes: "networkAksNodesSubnet",
    postgres: "networkPostgresSubnet",
    privateEndpoints: "networkPrivateEndpointsSubnet",
    pods: "networkPodCidr",
    services: "networkServiceCidr",
    dnsServiceIp: "networkDnsServiceIp",
};

const EXISTING_KEYS: Record<keyof ExistingSubnets, string> = {
    aksNodesSubnetId: "networkExistingAksNodesSubnetId",
    postgresSubnetId: "networkExistingPostgresSubnetId",
    privateEndpointsSubnetId: "networkExistingPrivateEndpointsSubnetId",
};

const ANY = /^.+$/;

export function readNetwork(r: Reader, problems: Problems): NetworkSettings {
    const v = <T>(rule: () => T): T => problems.check(rule) as T;
    const mode = v(() => r.oneOf("networkMode", NETWORK_MODES));
    const addressPlan: AddressPlan = {
        virtualNetwork: v(() => stringList(r, problems, ADDRESS_PLAN_KEYS.virtualNetwork, () => undefined)) ?? [],
        aksNodes: v(() => r.raw(ADDRESS_PLAN_KEYS.aksNodes)),
        postgres: v(() => r.raw(ADDRESS_PLAN_KEYS.postgres)),
        privateEndpoints: v(() => r.raw(ADDRESS_PLAN_KEYS.privateEndpoints)),
        pods: v(() => r.raw(ADDRESS_PLAN_KEYS.pods)),
        services: v(() => r.raw(ADDRESS_PLAN_KEYS.services)),
        dnsServiceIp: v(() => r.raw(ADDRESS_PLAN_KEYS.dnsServiceIp)),
    };
    const existingIds = Object.fromEntries(Object.entries(EXISTING_KEYS)
        .map(([field, key]) => [field, v(() => r.optionalString(key, ANY, "a subnet id"))])) as Partial<ExistingSubnets>;
    const given = Object.values(existingIds).filter(id => id !== undefined).length;
    let existingSubnets: ExistingSubnets | undefined;
    if (given === 3) {
        existingSubnets = existingIds as ExistingSubnets;
        for (const problem of existingSubnetsProblems(existingSubnets)) {
            problems.add(EXISTING_KEYS.postgresSubnetId, existingSubnets.postgresSubnetId, problem);
        }
    } else if (given > 0) {
        const missing = (Object.keys(EXISTING_KEYS) as (keyof ExistingSubnets)[]).filter(field => existingIds[field] === undefined);
        problems.add(EXISTING_KEYS[missing[0]], "", "bring your own VNet takes all three existing subnet ids "
            + `(${Object.values(EXISTING_KEYS).join(", ")}), or none to let the program create the VNet`);
    }
    if (existingSubnets && mode === "public") {
        problems.add("networkMode", mode, "existing subnets are for a private network: set networkMode to private or leave them empty");
    }
    // The plan matters only for a private network; a public stack keeps the AKS-managed VNet it has today.
    if (mode === "private" && Object.values(addressPlan).every(value => value !== undefined)) {
        for (const issue of addressPlanIssues(addressPlan, !existingSubnets, ADDRESS_PLAN_KEYS)) {
            const value = addressPlan[issue.field];
            problems.add(ADDRESS_PLAN_KEYS[issue.field], value, issue.message);
        }
    }
    return { mode, addressPlan, existingSubnets };
}
