import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import * as authorization from "@pulumi/azure-native/authorization";
import * as containerregistry from "@pulumi/azure-native/containerregistry";
import * as dockerbuild from "@pulumi/docker-build";
import type { AzureScope, EntraPrincipal } from "../lib/azureScope";
import { ACR_TOKEN_USERNAME, exchangeForAcrRefreshToken } from "../lib/acrToken";
import { BUILTIN_ROLES, roleDefinitionId } from "../lib/azureRoles";
import { globalNameSuffix } from "../lib/globalNameSuffix";
import { privateEndpointWithDns } from "../lib/privateEndpoint";

/** Registry SKU. */
export type AcrSku = "Basic" | "Standard" | "Premium";
export const ACR_SKUS: readonly AcrSku[] = ["Basic", "Standard", "Premium"];

/** Where a private registry is reached: its private endpoint's subnet and the `privatelink.azurecr.io` zone. */
export interface RegistryPrivateNetwork {
    /** ARM id of the subnet the registry's private endpoint gets its addresses in. */
    privateEndpointsSubnetId: pulumi.Input<string>;
    /** ARM id of the `privatelink.azurecr.io` private DNS zone, linked to the VNet. */
    privateDnsZoneId: pulumi.Input<string>;
}

/** Problems with a registry's SKU for its access mode: private endpoints and zone redundancy are Premium features. */
export function registrySkuProblem(sku: AcrSku, privateAccess: boolean): string | undefined {
    return privateAccess && sku !== "Premium"
        ? `a registry without public access needs a private endpoint, which only the Premium SKU has (got ${sku})`
        : undefined;
}

/** What a stack chooses about its registry (config reads and validates these). */
export interface AppImageSettings {
    /** Registry SKU. */
    sku: AcrSku;
}

export interface AppImageArgs extends AppImageSettings, AzureScope {
    /** Registry name prefix (letters and digits); a random suffix makes `<name>.azurecr.io` globally unique. */
    registryNamePrefix: string;
    /** Directory holding the app's Dockerfile; the build context (relative to the project directory). */
    contextDir: string;
    /** Repository name inside the registry. */
    repository: string;
    /** Entra tenant of the deployer. */
    tenantId: pulumi.Input<string>;
    /** Subscription that owns the built-in role definitions. */
    subscriptionId: pulumi.Input<string>;
    /**
     * Principals (from config, never "whoever runs up") given AcrPush on this registry. Empty where bootstrap/
     * already granted the deploy identity AcrPush on the resource group.
     */
    pushers: readonly EntraPrincipal[];
    /** The cluster's kubelet identity: gets AcrPull on this registry, and nothing else does. */
    kubeletObjectId: pulumi.Input<string>;
    /**
     * Private access: public network access Disabled, zone redundant, reached through a private endpoint (Premium only).
     * The image is then pushed from wherever `pulumi up` runs, so that machine must resolve and reach the endpoint:
     * prod's deploy runners sit in (or are peered with) the VNet (DECISIONS D1; README "The registry in prod").
     * undefined = public registry (dev).
     */
    privateNetwork?: RegistryPrivateNetwork;
}

/**
 * A private Azure Container Registry (admin user off, anonymous pull off) holding the app image built from
 * `contextDir`. The deployer pushes with its own Entra identity; the cluster pulls with its kubelet identity.
 * Nothing is built during `pulumi preview`.
 */
export class AppImage extends pulumi.ComponentResource {
    /** The pushed image, pinned by digest (`<registry>/<repository>@sha256:…`). */
    public readonly imageRef: pulumi.Output<string>;
    /** The registry's login server, `<name>.azurecr.io`. */
    public readonly loginServer: pulumi.Output<string>;
    /** ARM id of the registry. */
    public readonly registryId: pulumi.Output<string>;

    constructor(name: string, args: AppImageArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aks-pg-passwordless:azure:AppImage", name, {}, opts);

        const skuProblem = registrySkuProblem(args.sku, args.privateNetwork !== undefined);
        if (skuProblem) {
            throw new Error(`AppImage ${name}: ${skuProblem}`);
        }
        const suffix = globalNameSuffix(this, name);

        const registry = new containerregistry.Registry(`${name}-registry`, {
            resourceGroupName: args.resourceGroupName,
            location: args.location,
            registryName: pulumi.interpolate`${args.registryNamePrefix}${suffix}`,
            sku: { name: args.sku },
            adminUserEnabled: false,
            anonymousPullEnabled: false,
            // A private registry: no public network access, zone redundant (chosen at creation). A public one keeps
            // what azure-native sends by default (public access Enabled, zone redundancy Disabled), as before.
            ...(args.privateNetwork ? { publicNetworkAccess: "Disabled", zoneRedundancy: "Enabled" } : {}),
            tags: args.tags,
        }, { parent: this });

        // The private endpoint, and its DNS records (the registry's and its regional data endpoint's) written into the
        // privatelink.azurecr.io zone by the zone group, so `<registry>.azurecr.io` resolves to a private address
        // inside the VNet.
        const privateDns = args.privateNetwork && privateEndpointWithDns(this, `${name}-registry-endpoint`, `${name}-registry-dns`, {
            resourceGroupName: args.resourceGroupName, location: args.location, serviceName: registry.name, serviceId: registry.id,
            groupId: "registry", subnetId: args.privateNetwork.privateEndpointsSubnetId,
            privateDnsZoneId: args.privateNetwork.privateDnsZoneId, zoneConfigName: "privatelink-azurecr-io", tags: args.tags,
        });

        const push = args.pushers.map((pusher, i) => new authorization.RoleAssignment(`${name}-push-${i}`, {
            principalId: pusher.objectId,
            principalType: pusher.principalType,
            roleDefinitionId: roleDefinitionId(args.subscriptionId, BUILTIN_ROLES.acrPush),
            scope: registry.id,
            description: "Deploys this stack: pushes the app image",
        }, { parent: this }));

        const pull = new authorization.RoleAssignment(`${name}-kubelet-pull`, {
            principalId: args.kubeletObjectId,
            principalType: "ServicePrincipal",
            roleDefinitionId: roleDefinitionId(args.subscriptionId, BUILTIN_ROLES.acrPull),
            scope: registry.id,
            description: "AKS nodes pull the app image",
        }, { parent: this });

        // The push credential is minted at deploy time from the deployer's Entra token (fetched once the registry
        // exists, so it is fresh in CI too) and lives ~3 hours. Waiting on the AcrPush assignments keeps the
        // exchange from racing the grants it needs.
        const pushPassword = pulumi.secret(pulumi
            // A private registry's exchange endpoint is reached through the private endpoint too: after its DNS records.
            .all([registry.loginServer, args.tenantId, ...push.map(p => p.id), ...(privateDns ? [privateDns.id] : [])])
            .apply(async ([server, tenant]) => {
                if (pulumi.runtime.isDryRun()) {
                    return "";
                }
                const { token } = await authorization.getClientToken({}, { parent: this });
                return exchangeForAcrRefreshToken(server, tenant, token);
            }));

        const image = new dockerbuild.Image(`${name}-image`, {
            context: { location: args.contextDir },
            dockerfile: { location: path.join(args.contextDir, "Dockerfile") },
            platforms: ["linux/amd64"],
            push: true,
            buildOnPreview: false,
            tags: [pulumi.interpolate`${registry.loginServer}/${args.repository}:${pulumi.getStack()}`],
            registries: [{ address: registry.loginServer, username: ACR_TOKEN_USERNAME, password: pushPassword }],
        }, {
            parent: this,
            // A private registry is pushed to through its endpoint: only once its DNS records exist.
            dependsOn: privateDns ? [privateDns] : [],
        });

        // Pods that run the image start only once the kubelet may pull it: the reference resolves after the
        // AcrPull assignment exists. (Propagation can still take minutes; the kubelet retries pulls with backoff.)
        this.imageRef = pulumi.all([image.ref, pull.id]).apply(([ref]) => ref);
        this.loginServer = registry.loginServer;
        this.registryId = registry.id;

        this.registerOutputs({
            imageRef: this.imageRef,
            loginServer: this.loginServer,
            registryId: this.registryId,
        });
    }
}
