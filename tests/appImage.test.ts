import { expect } from "chai";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { exchangeForAcrRefreshToken } from "../lib/acrToken";
import { AppImage, AppImageArgs, registrySkuProblem } from "../components/appImage";
import { BUILTIN_ROLES } from "../lib/azureRoles";
import { AcrExchangeDouble, DEPLOYER_ARM_TOKEN, DEPLOYER_OBJECT_ID, IMAGE_DIGEST, promiseOf, SUBSCRIPTION_ID, TENANT_ID } from "./mocks";
import { ROOT, underMocks } from "./harness";

const REGISTRY = "azure-native:containerregistry:Registry";
const ROLE = "azure-native:authorization:RoleAssignment";
const IMAGE = "docker-build:index:Image";
const KUBELET = "0d3e6a1c-5b2f-4e8d-9a7c-1f2e3d4c5b6a";

function build(exchange: AcrExchangeDouble, preview = false, overrides: Partial<AppImageArgs> = {}, delays?: (type: string, name: string) => number) {
    const args: AppImageArgs = {
        resourceGroupName: "rg-test",
        location: "westeurope",
        registryNamePrefix: "acrpgwitest",
        sku: "Basic",
        contextDir: path.join(ROOT, "app"),
        repository: "aks-pg-passwordless-app",
        tenantId: TENANT_ID,
        subscriptionId: SUBSCRIPTION_ID,
        pushers: [{ objectId: DEPLOYER_OBJECT_ID, principalType: "User" }],
        kubeletObjectId: KUBELET,
        ...overrides,
    };
    return underMocks("test", () => new AppImage("img", args), { preview, delays, fetch: exchange.fetch });
}

const roleId = (guid: string) => `/subscriptions/${SUBSCRIPTION_ID}/providers/Microsoft.Authorization/roleDefinitions/${guid}`;

describe("AppImage", () => {
    it("the registry is private: no admin user, no anonymous pull", async () => {
        const { mocks } = await build(new AcrExchangeDouble());
        expect(mocks.named(REGISTRY, "img-registry").inputs).to.include({ adminUserEnabled: false, anonymousPullEnabled: false });
    });

    it("the registry name is globally unique: letters and digits plus a random suffix", async () => {
        const { mocks } = await build(new AcrExchangeDouble());
        expect(mocks.named(REGISTRY, "img-registry").inputs.registryName).to.match(/^acrpgwitest[a-z0-9]{6}$/);
    });

    it("builds app/ with its Dockerfile for linux/amd64 and pushes it", async () => {
        const { mocks } = await build(new AcrExchangeDouble());
        const inputs = mocks.named(IMAGE, "img-image").inputs;
        expect(inputs.context).to.deep.equal({ location: path.join(ROOT, "app") });
        expect(inputs.dockerfile).to.deep.equal({ location: path.join(ROOT, "app", "Dockerfile") });
        expect(inputs.platforms).to.deep.equal(["linux/amd64"]);
        expect(inputs.push).to.equal(true);
    });

    it("exposes the pushed image pinned by digest", async () => {
        const { result } = await build(new AcrExchangeDouble());
        expect(await promiseOf(result.imageRef)).to.match(new RegExp(`^acrpgwitest[a-z0-9]{6}\\.azurecr\\.io/aks-pg-passwordless-app@${IMAGE_DIGEST}$`));
    });

    it("each configured deployer may push to this registry only", async () => {
        const { mocks } = await build(new AcrExchangeDouble());
        expect(mocks.named(ROLE, "img-push-0").inputs).to.include({
            principalId: DEPLOYER_OBJECT_ID, principalType: "User", scope: mocks.named(REGISTRY, "img-registry").id, roleDefinitionId: roleId(BUILTIN_ROLES.acrPush),
        });
    });

    it("the image reference resolves only after the kubelet's AcrPull assignment exists, so pods never start before it", async () => {
        let resolvedAt = -1;
        const { mocks } = await underMocks("test", m => {
            const image = new AppImage("img", {
                resourceGroupName: "rg-test", location: "westeurope", registryNamePrefix: "acrpgwitest", sku: "Basic",
                contextDir: path.join(ROOT, "app"), repository: "r", tenantId: TENANT_ID, subscriptionId: SUBSCRIPTION_ID,
                pushers: [], kubeletObjectId: KUBELET,
            });
            image.imageRef.apply(ref => { resolvedAt = m.elapsed(); return ref; });
            return image;
        }, { delays: (type, name) => (type === ROLE && name === "img-kubelet-pull" ? 60 : 0), fetch: new AcrExchangeDouble().fetch });
        expect(resolvedAt).to.be.at.least(mocks.named(ROLE, "img-kubelet-pull").createdAt);
    });

    it("the kubelet identity may pull from this registry only", async () => {
        const { mocks } = await build(new AcrExchangeDouble());
        expect(mocks.named(ROLE, "img-kubelet-pull").inputs).to.include({
            principalId: KUBELET, principalType: "ServicePrincipal", scope: mocks.named(REGISTRY, "img-registry").id, roleDefinitionId: roleId(BUILTIN_ROLES.acrPull),
        });
    });

    it("pushes with the exchanged token as the null-GUID user, kept secret", async () => {
        const exchange = new AcrExchangeDouble();
        const { mocks } = await build(exchange);
        const registry = mocks.named(REGISTRY, "img-registry").state;
        expect(exchange.requests.map(r => r.form)).to.deep.equal([{ grant_type: "access_token", service: registry.loginServer, tenant: TENANT_ID, access_token: DEPLOYER_ARM_TOKEN }]);
        const registries = mocks.named(IMAGE, "img-image").inputs.registries;
        expect(registries[pulumi.runtime.specialSigKey]).to.equal(pulumi.runtime.specialSecretSig);
        expect(registries.value).to.deep.equal([{ address: registry.loginServer, username: "00000000-0000-0000-0000-000000000000", password: AcrExchangeDouble.REFRESH_TOKEN }]);
    });

    it("asks ACR for the token only after the configured deployer's AcrPush grant exists", async () => {
        let exchangedAt = -1;
        const exchange = new AcrExchangeDouble();
        let elapsed = () => -1;
        const { mocks } = await underMocks("test", m => {
            elapsed = () => m.elapsed();
            return new AppImage("img", {
                resourceGroupName: "rg-test", location: "westeurope", registryNamePrefix: "acrpgwitest", sku: "Basic",
                contextDir: path.join(ROOT, "app"), repository: "r", tenantId: TENANT_ID, subscriptionId: SUBSCRIPTION_ID,
                pushers: [{ objectId: DEPLOYER_OBJECT_ID, principalType: "User" }], kubeletObjectId: KUBELET,
            });
        }, {
            delays: (type, name) => (type === ROLE && name === "img-push-0" ? 40 : 0),
            fetch: (input, init) => { exchangedAt = elapsed(); return exchange.fetch(input, init); },
        });
        expect(exchangedAt).to.be.at.least(mocks.named(ROLE, "img-push-0").createdAt);
    });

    it("a preview neither builds nor asks ACR for a token", async () => {
        const exchange = new AcrExchangeDouble();
        const { mocks } = await build(exchange, true);
        expect(mocks.named(IMAGE, "img-image").inputs.buildOnPreview).to.equal(false);
        expect(exchange.requests).to.have.length(0);
    });
});

describe("ACR token exchange", () => {
    it("posts the Entra token to the registry's /oauth2/exchange and returns the refresh token", async () => {
        const exchange = new AcrExchangeDouble();
        const token = await exchangeForAcrRefreshToken("acrx.azurecr.io", TENANT_ID, DEPLOYER_ARM_TOKEN, exchange.fetch);
        expect(token).to.equal(AcrExchangeDouble.REFRESH_TOKEN);
        expect(exchange.requests[0]).to.deep.equal({
            url: "https://acrx.azurecr.io/oauth2/exchange",
            form: { grant_type: "access_token", service: "acrx.azurecr.io", tenant: TENANT_ID, access_token: DEPLOYER_ARM_TOKEN },
        });
    });

    it("explains a refusal, pointing at the AcrPush grant", async () => {
        const refusing: typeof fetch = async () => new Response('{"errors":[{"code":"UNAUTHORIZED"}]}', { status: 401 });
        let error: unknown;
        await exchangeForAcrRefreshToken("acrx.azurecr.io", TENANT_ID, "t", refusing).catch(e => { error = e; });
        expect((error as Error).message).to.contain("failed (401)").and.contain("AcrPush");
    });
});

describe("AppImage with a private registry (prod)", () => {
    const PE = "azure-native:network:PrivateEndpoint";
    const ZONE_GROUP = "azure-native:network:PrivateDnsZoneGroup";
    const group = `/subscriptions/${SUBSCRIPTION_ID}/resourceGroups/rg-test/providers`;
    const privateNetwork = {
        privateEndpointsSubnetId: `${group}/Microsoft.Network/virtualNetworks/vnet-test/subnets/snet-private-endpoints`,
        privateDnsZoneId: `${group}/Microsoft.Network/privateDnsZones/privatelink.azurecr.io`,
    };
    const prod: Partial<AppImageArgs> = { sku: "Premium", privateNetwork };

    it("has no public network access and is zone redundant", async () => {
        const { mocks } = await build(new AcrExchangeDouble(), false, prod);
        expect(mocks.named(REGISTRY, "img-registry").inputs).to.include({
            publicNetworkAccess: "Disabled", zoneRedundancy: "Enabled", adminUserEnabled: false, anonymousPullEnabled: false,
        });
        expect(mocks.named(REGISTRY, "img-registry").inputs.sku).to.deep.equal({ name: "Premium" });
    });

    it("is reached through a private endpoint in the endpoints subnet, for the registry group", async () => {
        const { mocks } = await build(new AcrExchangeDouble(), false, prod);
        const endpoint = mocks.named(PE, "img-registry-endpoint").inputs;
        expect(endpoint.subnet.id).to.equal(privateNetwork.privateEndpointsSubnetId);
        expect(endpoint.privateLinkServiceConnections).to.deep.equal([{
            name: "registry", privateLinkServiceId: mocks.named(REGISTRY, "img-registry").id, groupIds: ["registry"],
        }]);
    });

    it("registers the endpoint's addresses in the privatelink.azurecr.io zone", async () => {
        const { mocks } = await build(new AcrExchangeDouble(), false, prod);
        const zoneGroup = mocks.named(ZONE_GROUP, "img-registry-dns").inputs;
        expect(zoneGroup.privateEndpointName).to.equal(mocks.named(PE, "img-registry-endpoint").state.name);
        expect(zoneGroup.privateDnsZoneConfigs).to.deep.equal([{ name: "privatelink-azurecr-io", privateDnsZoneId: privateNetwork.privateDnsZoneId }]);
    });

    it("pushes, and asks for the push token, only once the registry's private DNS records exist", async () => {
        const exchange = new AcrExchangeDouble();
        const { mocks } = await build(exchange, false, prod, type => (type === ZONE_GROUP ? 300 : 0));
        const zoneGroup = mocks.named(ZONE_GROUP, "img-registry-dns");
        expect(mocks.named(IMAGE, "img-image").requestedAt).to.be.at.least(zoneGroup.createdAt);
        expect(exchange.requests).to.have.length(1);
    });

    it("refuses a private registry on a SKU without private endpoints", () => {
        expect(registrySkuProblem("Standard", true)).to.match(/only the Premium SKU/);
        expect(registrySkuProblem("Premium", true)).to.equal(undefined);
        expect(registrySkuProblem("Basic", false)).to.equal(undefined);
    });

    it("a public registry (dev) stays as it was: public, not zone redundant (the SDK's defaults), no endpoint", async () => {
        const { mocks } = await build(new AcrExchangeDouble());
        expect(mocks.named(REGISTRY, "img-registry").inputs).to.include({ publicNetworkAccess: "Enabled", zoneRedundancy: "Disabled" });
        expect(mocks.ofType(PE)).to.deep.equal([]);
    });
});
