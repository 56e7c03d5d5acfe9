import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";
import * as yaml from "js-yaml";
import { AksCluster, AksClusterArgs, apiServerAccessProblem, isRotationPollInterval } from "../components/aksCluster";
import { BUILTIN_ROLES } from "../lib/azureRoles";
import { CONTAINER_INSIGHTS_STREAM } from "../lib/diagnostics";
import { AKS_SERVER_ID, DEPLOYER_OBJECT_ID, EGRESS_IP, issuerUrlFor, kubeletObjectIdFor, promiseOf, SUBSCRIPTION_ID, TENANT_ID, tokenClaims } from "./mocks";
import { underMocks } from "./harness";
import { KubernetesApiDouble } from "./kubernetesApiDouble";

const CLUSTER = "azure-native:containerservice:ManagedCluster";
const IP = "azure-native:network:PublicIPAddress";
const ROLE = "azure-native:authorization:RoleAssignment";
const IDENTITY = "azure-native:managedidentity:UserAssignedIdentity";
const DCR = "azure-native:monitor:DataCollectionRule";
const DCRA = "azure-native:monitor:DataCollectionRuleAssociation";
const WORKSPACE = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.OperationalInsights/workspaces/log-x";

const baseArgs: AksClusterArgs = {
    resourceGroupName: "rg-test",
    location: "westeurope",
    clusterName: "aks-test",
    tier: "Free",
    nodeCount: 1,
    nodeVmSize: "Standard_D2s_v5",
    availabilityZones: [],
    apiServerAuthorizedCidrs: [],
    adminGroupObjectIds: [],
    tenantId: TENANT_ID,
    subscriptionId: SUBSCRIPTION_ID,
    clusterAdmins: [],
    kubeloginMode: "azurecli",
    azurePolicy: true,
};

/** Builds the component as `pulumi up` would, with an API server that answers access reviews through `api`. */
async function build(overrides: Partial<AksClusterArgs> = {}, options: { api?: KubernetesApiDouble; delays?: (type: string, name: string) => number } = {}) {
    const api = options.api ?? new KubernetesApiDouble();
    const realFetch = globalThis.fetch;
    globalThis.fetch = api.fetch;
    try {
        const built = await underMocks("test", () => new AksCluster("aks", { ...baseArgs, ...overrides }), { delays: options.delays });
        // The provider's kubeconfig resolves after the access review: wait for it while the double answers.
        const kubeconfig = built.mocks.named("pulumi:providers:kubernetes", "aks-k8s").inputs.kubeconfig;
        return { ...built, api, providerKubeconfig: (kubeconfig?.value ?? kubeconfig) as string };
    } finally {
        globalThis.fetch = realFetch;
    }
}

const roleId = (guid: string) => `/subscriptions/${SUBSCRIPTION_ID}/providers/Microsoft.Authorization/roleDefinitions/${guid}`;

describe("AksCluster", () => {
    it("publishes an OIDC issuer and runs workload identity", async () => {
        const { mocks } = await build();
        const inputs = mocks.named(CLUSTER, "aks-cluster").inputs;
        expect(inputs.oidcIssuerProfile).to.deep.equal({ enabled: true });
        expect(inputs.securityProfile).to.deep.equal({ workloadIdentity: { enabled: true } });
    });

    it("exposes the kubelet identity nodes pull images with", async () => {
        const { result } = await build();
        expect(await promiseOf(result.kubeletObjectId)).to.equal(kubeletObjectIdFor("aks-test"));
    });

    it("exposes the issuer URL the cluster reports", async () => {
        const { result } = await build();
        expect(await promiseOf(result.oidcIssuerUrl)).to.equal(issuerUrlFor("aks-test"));
    });

    it("disables local accounts and authorises through Entra ID and Azure RBAC", async () => {
        const { mocks } = await build();
        const inputs = mocks.named(CLUSTER, "aks-cluster").inputs;
        expect(inputs.disableLocalAccounts).to.equal(true);
        expect(inputs.aadProfile).to.deep.include({ managed: true, enableAzureRBAC: true, tenantID: TENANT_ID });
    });

    it("sizes the system pool from its arguments", async () => {
        const { mocks } = await build({ nodeCount: 3, nodeVmSize: "Standard_D4s_v5", availabilityZones: ["1", "2", "3"] });
        const [pool] = mocks.named(CLUSTER, "aks-cluster").inputs.agentPoolProfiles;
        expect(pool).to.deep.include({ mode: "System", count: 3, vmSize: "Standard_D4s_v5", availabilityZones: ["1", "2", "3"] });
    });

    it("uses the requested pricing tier", async () => {
        const { mocks } = await build({ tier: "Standard" });
        expect(mocks.named(CLUSTER, "aks-cluster").inputs.sku).to.deep.equal({ name: "Base", tier: "Standard" });
    });

    it("runs with its own user-assigned managed identity", async () => {
        const { mocks } = await build();
        const identity = mocks.named(IDENTITY, "aks-control-plane");
        expect(mocks.named(CLUSTER, "aks-cluster").inputs.identity).to.deep.equal({ type: "UserAssigned", userAssignedIdentities: [identity.id] });
    });

    it("sends all egress through one static public IP", async () => {
        const { mocks, result } = await build();
        const ip = mocks.named(IP, "aks-egress");
        expect(ip.inputs).to.deep.include({ publicIPAllocationMethod: "Static", sku: { name: "Standard", tier: "Regional" } });
        expect(mocks.named(CLUSTER, "aks-cluster").inputs.networkProfile.loadBalancerProfile.outboundIPs)
            .to.deep.equal({ publicIPs: [{ id: ip.id }] });
        expect(await promiseOf(result.egressIp)).to.equal(EGRESS_IP);
    });

    it("lets the control plane use exactly that IP, before the cluster is created", async () => {
        const { mocks } = await build();
        const grant = mocks.named(ROLE, "aks-egress-ip-access");
        expect(grant.inputs).to.include({
            scope: mocks.named(IP, "aks-egress").id,
            principalId: mocks.named(IDENTITY, "aks-control-plane").state.principalId,
            roleDefinitionId: roleId(BUILTIN_ROLES.networkContributor),
        });
        const dependsOn = mocks.optionsOf("aks-cluster").dependsOn as pulumi.Resource[];
        expect(await Promise.all(dependsOn.map(d => promiseOf(d.urn)))).to.have.length(1)
            .and.satisfy((urns: string[]) => urns[0].endsWith("::aks-egress-ip-access"));
    });

    it("gives each configured deployer Kubernetes cluster-admin on this cluster only", async () => {
        const { mocks } = await build({ clusterAdmins: [{ objectId: DEPLOYER_OBJECT_ID, principalType: "User" }] });
        expect(mocks.named(ROLE, "aks-admin-0").inputs).to.include({
            principalId: DEPLOYER_OBJECT_ID,
            principalType: "User",
            scope: mocks.named(CLUSTER, "aks-cluster").id,
            roleDefinitionId: roleId(BUILTIN_ROLES.aksRbacClusterAdmin),
        });
    });

    it("grants no Kubernetes role to whoever runs it: with no deployers configured there is no cluster role assignment", async () => {
        const { mocks } = await build();
        expect(mocks.ofType(ROLE).map(r => r.inputs.roleDefinitionId)).to.not.include(roleId(BUILTIN_ROLES.aksRbacClusterAdmin));
    });

    it("restricts the API server to the given CIDRs", async () => {
        const { mocks } = await build({ apiServerAuthorizedCidrs: ["198.51.100.0/28"] });
        expect(mocks.named(CLUSTER, "aks-cluster").inputs.apiServerAccessProfile).to.deep.equal({ authorizedIPRanges: ["198.51.100.0/28"] });
    });

    it("keeps itself patched: stable Kubernetes channel, node image OS channel, surge upgrades", async () => {
        const { mocks } = await build();
        const inputs = mocks.named(CLUSTER, "aks-cluster").inputs;
        expect(inputs.autoUpgradeProfile).to.deep.equal({ upgradeChannel: "stable", nodeOSUpgradeChannel: "NodeImage" });
        expect(inputs.agentPoolProfiles[0].upgradeSettings).to.deep.equal({ maxSurge: "33%" });
    });

    it("enforces NetworkPolicy with Cilium on Azure CNI overlay", async () => {
        const { mocks } = await build();
        expect(mocks.named(CLUSTER, "aks-cluster").inputs.networkProfile).to.deep.include({
            networkPlugin: "azure", networkPluginMode: "overlay", networkDataplane: "cilium", networkPolicy: "cilium",
        });
    });

    it("runs the Azure Policy add-on", async () => {
        const { mocks } = await build();
        expect(mocks.named(CLUSTER, "aks-cluster").inputs.addonProfiles.azurepolicy).to.deep.equal({ enabled: true });
    });

    it("runs the Key Vault secrets provider add-on with secret rotation on, polling at the configured interval", async () => {
        const { mocks } = await build({ keyVaultSecretsProvider: { rotationPollInterval: "2m" } });
        expect(mocks.named(CLUSTER, "aks-cluster").inputs.addonProfiles.azureKeyvaultSecretsProvider).to.deep.equal({
            enabled: true, config: { enableSecretRotation: "true", rotationPollInterval: "2m" },
        });
    });

    it("without Key Vault settings there is no secrets provider add-on", async () => {
        const { mocks } = await build();
        expect(mocks.named(CLUSTER, "aks-cluster").inputs.addonProfiles).to.not.have.property("azureKeyvaultSecretsProvider");
    });

    it("refuses a rotation poll interval that is not a duration, naming it", async () => {
        let error: Error | undefined;
        try {
            await build({ keyVaultSecretsProvider: { rotationPollInterval: "2 minutes" } });
        } catch (e) {
            error = e as Error;
        }
        expect(error?.message).to.include("rotationPollInterval = 2 minutes");
        expect(["2m", "120s", "1h30m", "90s"].filter(v => !isRotationPollInterval(v))).to.deep.equal([]);
        expect(["", "0s", "2", "2min", "-1m", "1.5m"].filter(isRotationPollInterval)).to.deep.equal([]);
    });

    it("sends Container Insights and the API server audit log to the given workspace", async () => {
        const workspace = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.OperationalInsights/workspaces/log-x";
        const { mocks } = await build({ logAnalyticsWorkspaceId: workspace });
        expect(mocks.named(CLUSTER, "aks-cluster").inputs.addonProfiles.omsagent).to.deep.equal({
            enabled: true, config: { logAnalyticsWorkspaceResourceID: workspace, useAADAuth: "true" },
        });
        const diagnostics = mocks.named("azure-native:monitor:DiagnosticSetting", "aks-diagnostics").inputs;
        expect(diagnostics).to.deep.include({ resourceUri: mocks.named(CLUSTER, "aks-cluster").id, workspaceId: workspace });
        expect(diagnostics.logs).to.deep.equal([{ categoryGroup: "audit", enabled: true }]);
    });

    it("without a workspace there is no monitoring add-on and no diagnostic setting", async () => {
        const { mocks } = await build();
        expect(mocks.named(CLUSTER, "aks-cluster").inputs.addonProfiles).to.not.have.property("omsagent");
        expect(mocks.ofType("azure-native:monitor:DiagnosticSetting")).to.have.length(0);
        expect(mocks.ofType(DCR)).to.have.length(0);
        expect(mocks.ofType(DCRA)).to.have.length(0);
    });

    it("with monitoring on, a data collection rule sends the ContainerInsights stream to the workspace", async () => {
        const { mocks } = await build({ logAnalyticsWorkspaceId: WORKSPACE });
        const rule = mocks.named(DCR, "aks-container-insights-dcr").inputs;
        expect(rule).to.deep.include({ resourceGroupName: "rg-test", location: "westeurope", dataCollectionRuleName: "MSCI-westeurope-aks-test", kind: "Linux" });
        expect(rule.dataSources.extensions).to.have.length(1);
        expect(rule.dataSources.extensions[0]).to.deep.include({
            name: "ContainerInsightsExtension", extensionName: "ContainerInsights", streams: [CONTAINER_INSIGHTS_STREAM],
        });
        expect(rule.destinations).to.deep.equal({ logAnalytics: [{ name: "ciworkspace", workspaceResourceId: WORKSPACE }] });
        expect(rule.dataFlows).to.deep.equal([{ streams: [CONTAINER_INSIGHTS_STREAM], destinations: ["ciworkspace"] }]);
    });

    it("with monitoring on, the rule is associated with the cluster", async () => {
        const { mocks } = await build({ logAnalyticsWorkspaceId: WORKSPACE });
        expect(mocks.named(DCRA, "aks-container-insights-dcr-association").inputs).to.deep.include({
            associationName: "ContainerInsightsExtension",
            resourceUri: mocks.named(CLUSTER, "aks-cluster").id,
            dataCollectionRuleId: mocks.named(DCR, "aks-container-insights-dcr").id,
        });
    });

    it("the kubeconfig is a secret", async () => {
        const { result } = await build();
        expect(await pulumi.isSecret(result.kubeconfig)).to.equal(true);
    });

    it("the kubeconfig logs in with the configured non-interactive kubelogin mode, pinned to the tenant", async () => {
        const { result } = await build({ kubeloginMode: "workloadidentity" });
        const exec = (yaml.load(await promiseOf(result.kubeconfig)) as any).users[0].user.exec;
        expect(exec.args).to.include.ordered.members(["get-token", "--login", "workloadidentity"]);
        expect(exec.args.slice(exec.args.indexOf("--tenant-id"), exec.args.indexOf("--tenant-id") + 2)).to.deep.equal(["--tenant-id", TENANT_ID]);
        expect(exec.args).to.not.include("devicecode");
    });

    it("the kubeconfig comes from this cluster's user credentials, not the ambient ~/.kube/config", async () => {
        const { mocks } = await build();
        const call = mocks.calls.find(c => c.token === "azure-native:containerservice:listManagedClusterUserCredentials");
        expect(call?.inputs).to.include({ resourceGroupName: "rg-test", resourceName: "aks-test", format: "exec" });
    });

    it("the Kubernetes provider talks to this cluster's API server with its CA, nothing from ~/.kube/config", async () => {
        const { providerKubeconfig, result } = await build();
        const exported = yaml.load(await promiseOf(result.kubeconfig)) as any;
        expect((yaml.load(providerKubeconfig) as any).clusters).to.deep.equal(exported.clusters);
    });

    it("the provider's kubeconfig is a secret", async () => {
        const { mocks } = await build();
        // The mock monitor sees a secret in its wire form: { <secret signature>: …, value }.
        expect(mocks.named("pulumi:providers:kubernetes", "aks-k8s").inputs.kubeconfig).to.have.property("value");
    });

    // In CI the Azure CLI's federated login expires minutes after azure/login and cannot renew
    // (Azure/azure-cli#28708); AKS takes 5-15 minutes. So the provider must not exec `kubelogin --login azurecli`
    // when it first connects: it carries a token the azure-native provider minted once the cluster existed.
    it("the provider needs no CLI login: it carries a bearer token for the AKS server app, no exec plugin", async () => {
        const { providerKubeconfig } = await build();
        const user = (yaml.load(providerKubeconfig) as any).users[0].user;
        expect(user).to.not.have.property("exec");
        expect(tokenClaims(user.token).aud).to.equal(AKS_SERVER_ID);
    });

    it("the provider's token is minted only after the (slow) cluster exists, so it is fresh when first used", async () => {
        const { mocks, providerKubeconfig } = await build({}, { delays: (type) => (type === CLUSTER ? 300 : 0) });
        const token = (yaml.load(providerKubeconfig) as any).users[0].user.token;
        expect(tokenClaims(token).iat).to.be.at.least(mocks.named(CLUSTER, "aks-cluster").createdAt);
    });

    it("the provider's kubeconfig resolves only once the API server allows creating namespaces (Azure RBAC propagation)", async () => {
        const api = new KubernetesApiDouble(1);
        const { providerKubeconfig } = await build({}, { api });
        expect(api.reviews).to.have.length(2);
        expect(api.reviews.map(r => r.resourceAttributes)).to.deep.equal([
            { verb: "create", resource: "namespaces", group: "" }, { verb: "create", resource: "namespaces", group: "" },
        ]);
        expect(api.reviews[1].token).to.equal((yaml.load(providerKubeconfig) as any).users[0].user.token);
    });

    it("checks access only after the configured deployers' cluster role assignments exist", async () => {
        const api = new KubernetesApiDouble();
        const { mocks } = await build({ clusterAdmins: [{ objectId: DEPLOYER_OBJECT_ID, principalType: "User" }] },
            { api, delays: (type) => (type === ROLE ? 200 : 0) });
        const mocksStart = Date.now() - mocks.elapsed();
        expect(api.reviews[0].epochMs - mocksStart).to.be.at.least(mocks.named(ROLE, "aks-admin-0").createdAt);
    });
});

describe("AksCluster in a VNet (prod-like)", () => {
    const vnet = `/subscriptions/${SUBSCRIPTION_ID}/resourceGroups/rg-test/providers/Microsoft.Network/virtualNetworks/vnet-test`;
    const nodesSubnetId = `${vnet}/subnets/snet-aks-nodes`;
    const prodArgs: Partial<AksClusterArgs> = {
        tier: "Standard", nodeCount: 3, availabilityZones: ["1", "2", "3"],
        apiServerAuthorizedCidrs: ["20.86.144.16/28"], requireRestrictedApiServer: true, enableEncryptionAtHost: true,
        network: { nodesSubnetId, podCidr: "192.168.0.0/16", serviceCidr: "172.16.0.0/16", dnsServiceIp: "172.16.0.10", grantSubnetAccess: true },
    };

    it("puts the nodes in the given subnet", async () => {
        const { mocks } = await build(prodArgs);
        const pools = mocks.named(CLUSTER, "aks-cluster").inputs.agentPoolProfiles as { vnetSubnetID?: string }[];
        expect(pools.map(p => p.vnetSubnetID)).to.deep.equal([nodesSubnetId]);
    });

    it("runs Azure CNI overlay with Cilium and the planned pod, service and DNS addresses", async () => {
        const { mocks } = await build(prodArgs);
        expect(mocks.named(CLUSTER, "aks-cluster").inputs.networkProfile).to.include({
            networkPlugin: "azure", networkPluginMode: "overlay", networkDataplane: "cilium", networkPolicy: "cilium",
            podCidr: "192.168.0.0/16", serviceCidr: "172.16.0.0/16", dnsServiceIP: "172.16.0.10",
        });
    });

    it("gives the control-plane identity Network Contributor on the nodes' subnet, before the cluster is created", async () => {
        const { mocks } = await build(prodArgs, { delays: type => (type === ROLE ? 200 : 0) });
        const grant = mocks.named(ROLE, "aks-nodes-subnet-access");
        const identity = mocks.named(IDENTITY, "aks-control-plane");
        expect(grant.inputs).to.include({
            scope: nodesSubnetId, principalId: identity.state.principalId, principalType: "ServicePrincipal",
            roleDefinitionId: roleId(BUILTIN_ROLES.networkContributor),
        });
        expect(mocks.named(CLUSTER, "aks-cluster").requestedAt).to.be.at.least(grant.createdAt);
    });

    it("leaves the subnet's role to its owner when asked (a platform team's VNet)", async () => {
        const { mocks } = await build({ ...prodArgs, network: { ...prodArgs.network!, grantSubnetAccess: false } });
        expect(mocks.ofType(ROLE).map(r => r.name)).to.not.include("aks-nodes-subnet-access");
    });

    it("encrypts at host when asked, and sends nothing about it otherwise", async () => {
        const on = await build(prodArgs);
        expect(on.mocks.named(CLUSTER, "aks-cluster").inputs.agentPoolProfiles[0].enableEncryptionAtHost).to.equal(true);
        const off = await build();
        expect(off.mocks.named(CLUSTER, "aks-cluster").inputs.agentPoolProfiles[0]).to.not.have.property("enableEncryptionAtHost");
    });

    it("restricts the API server to the authorised ranges", async () => {
        const { mocks } = await build(prodArgs);
        expect(mocks.named(CLUSTER, "aks-cluster").inputs.apiServerAccessProfile).to.deep.equal({ authorizedIPRanges: ["20.86.144.16/28"] });
    });

    it("a stack that must be restricted refuses an unrestricted API server, before creating anything", async () => {
        let error: Error | undefined;
        try {
            await build({ ...prodArgs, apiServerAuthorizedCidrs: [] });
        } catch (err) {
            error = err as Error;
        }
        expect(error?.message).to.match(/must not expose an unrestricted Kubernetes API/);
    });

    it("apiServerAccessProblem: empty is refused only where restriction is required; a wide-open range never passes", () => {
        expect(apiServerAccessProblem(true, [])).to.match(/unrestricted/);
        expect(apiServerAccessProblem(false, [])).to.equal(undefined);
        expect(apiServerAccessProblem(true, ["20.86.144.16/28"])).to.equal(undefined);
        expect(apiServerAccessProblem(true, ["0.0.0.0/0"])).to.match(/wider than a \/16/);
        expect(apiServerAccessProblem(false, ["0.0.0.0/0"])).to.match(/wider than a \/16/);
        expect(apiServerAccessProblem(true, ["20.86.144.17/28"])).to.match(/not an IPv4 CIDR/);
    });

    it("without a network the nodes stay in the AKS-managed VNet with the SDK's default overlay ranges, as before", async () => {
        const { mocks } = await build();
        const inputs = mocks.named(CLUSTER, "aks-cluster").inputs;
        expect(inputs.agentPoolProfiles[0]).to.not.have.property("vnetSubnetID");
        // azure-native fills these defaults in itself; a VNet of ours states them so they can't collide with it.
        expect(inputs.networkProfile).to.include({ podCidr: "10.244.0.0/16", serviceCidr: "10.0.0.0/16", dnsServiceIP: "10.0.0.10" });
    });
});
