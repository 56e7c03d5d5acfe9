import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import * as authorization from "@pulumi/azure-native/authorization";
import * as containerregistry from "@pulumi/azure-native/containerregistry";
import * as dockerbuild from "@pulumi/docker-build";
import type { AzureScope, EntraPrincipal } from "../lib/azureScope";
import { ACR_TOKEN_USERNAME, exchangeForAcrRefreshToken } from "../lib/acrToken";
import { BUILTIN_ROLES, roleDefinitionId } from "../lib/azureRoles";
import { globalNameSuffix } from "../lib/globalNameSuffix";

/** Registry SKU. */
export type AcrSku = "Basic" | "Standard" | "Premium";
export const ACR_SKUS: readonly AcrSku[] = ["Basic", "Standard", "Premium"];

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

        const suffix = globalNameSuffix(this, name);

        const registry = new containerregistry.Registry(`${name}-registry`, {
            resourceGroupName: args.resourceGroupName,
            location: args.location,
            registryName: pulumi.interpolate`${args.registryNamePrefix}${suffix}`,
            sku: { name: args.sku },
            adminUserEnabled: false,
            anonymousPullEnabled: false,
            tags: args.tags,
        }, { parent: this });

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
            .all([registry.loginServer, args.tenantId, ...push.map(p => p.id)])
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
        }, { parent: this });

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
