// Pulumi mocks that answer like Azure and Kubernetes would, record every resource and invoke, and fail loudly
// on an invoke they do not know.
import * as crypto from "crypto";
import * as pulumi from "@pulumi/pulumi";
import * as yaml from "js-yaml";
import { checkPatchBody, checkSdkRequest } from "./azure-api/validate";

export const TENANT_ID = "72f988bf-86f1-41af-91ab-2d7cd011db47";
export const SUBSCRIPTION_ID = "0b1f6471-1bf0-4dda-aec3-cb9272f09590";
export const DEPLOYER_OBJECT_ID = "5a7c3a8e-0f0d-4c3b-9d57-3c1a2b4e5f60";
export const DEPLOYER_CLIENT_ID = "04b07795-8ddb-461a-bbee-02f9e1bf7b46";
export const EGRESS_IP = "20.61.17.42";
/** What getClientToken returns for ARM (no endpoint): stands in for the deployer's Entra access token. */
export const DEPLOYER_ARM_TOKEN = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.deployer-arm-token.sig";

/**
 * Entra access tokens for other resources, as getClientToken({endpoint}) would mint them: the audience and the
 * moment of minting are readable (like a JWT's `aud` and `iat`), so tests can tell which token a provider got
 * and whether it was minted after what it waited for. Entra's default lifetime is 60-90 minutes.
 */
export function entraTokenFor(endpoint: string, mintedAtMs: number): string {
    const claims = Buffer.from(JSON.stringify({ aud: endpoint, iat: mintedAtMs })).toString("base64url");
    return `eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.${claims}.sig`;
}

/** The claims of a token made by entraTokenFor. */
export function tokenClaims(token: string): { aud: string; iat: number } {
    return JSON.parse(Buffer.from(token.split(".")[1], "base64url").toString("utf8"));
}
export const IMAGE_DIGEST = `sha256:${"4f".repeat(32)}`;
/** The server id AKS-managed Entra integration puts in every kubelogin kubeconfig. */
export const AKS_SERVER_ID = "6dae42f8-4368-4678-94ff-3960e28e3630";

/** A stable, realistic GUID derived from a seed, so outputs differ per resource yet repeat across runs. */
export function guidFor(seed: string): string {
    const h = crypto.createHash("sha256").update(seed).digest("hex");
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export function issuerUrlFor(clusterName: string): string {
    return `https://westeurope.oic.prod-aks.azure.com/${TENANT_ID}/${guidFor(`issuer:${clusterName}`)}/`;
}

export function kubeletObjectIdFor(clusterName: string): string {
    return guidFor(`kubelet:${clusterName}`);
}

export function clientIdFor(identityName: string): string {
    return guidFor(`client:${identityName}`);
}

export function principalIdFor(identityName: string): string {
    return guidFor(`principal:${identityName}`);
}

/** The exec kubeconfig AKS returns for an Entra-enabled cluster: kubelogin in interactive device-code mode. */
export function aksUserKubeconfig(clusterName: string): string {
    return yaml.dump({
        apiVersion: "v1",
        kind: "Config",
        clusters: [{ name: clusterName, cluster: { server: `https://${clusterName}-dns.hcp.westeurope.azmk8s.io:443`, "certificate-authority-data": "LS0tLS1CRUdJTi0tLS0t" } }],
        contexts: [{ name: clusterName, context: { cluster: clusterName, user: `clusterUser_${clusterName}` } }],
        "current-context": clusterName,
        users: [{
            name: `clusterUser_${clusterName}`,
            user: {
                exec: {
                    apiVersion: "client.authentication.k8s.io/v1beta1",
                    command: "kubelogin",
                    args: ["get-token", "--environment", "AzurePublicCloud", "--server-id", AKS_SERVER_ID,
                        "--client-id", "80faf920-1908-4b52-b5ef-a8e7bedfc67a", "--tenant-id", TENANT_ID, "--login", "devicecode"],
                    env: null,
                    provideClusterInfo: false,
                },
            },
        }],
    });
}

/** ARM resource types of the azure-native resources the program creates, for realistic ids. */
const ARM_TYPES: Record<string, string> = {
    "network:PublicIPAddress": "Microsoft.Network/publicIPAddresses",
    "managedidentity:UserAssignedIdentity": "Microsoft.ManagedIdentity/userAssignedIdentities",
    "containerservice:ManagedCluster": "Microsoft.ContainerService/managedClusters",
    "dbforpostgresql:Server": "Microsoft.DBforPostgreSQL/flexibleServers",
    "containerregistry:Registry": "Microsoft.ContainerRegistry/registries",
    "operationalinsights:Workspace": "Microsoft.OperationalInsights/workspaces",
    "monitor:DataCollectionRule": "Microsoft.Insights/dataCollectionRules",
    "network:VirtualNetwork": "Microsoft.Network/virtualNetworks",
    "network:PrivateEndpoint": "Microsoft.Network/privateEndpoints",
    "privatedns:PrivateZone": "Microsoft.Network/privateDnsZones",
    "keyvault:Vault": "Microsoft.KeyVault/vaults",
};

/** The id Azure would assign: `/subscriptions/…/resourceGroups/…/providers/<type>/<name>`, children and extensions below their parent. */
function armId(type: string, name: string, inputs: Record<string, any>): string {
    const token = type.replace(/^azure-native:/, "");
    const group = `/subscriptions/${SUBSCRIPTION_ID}/resourceGroups/${inputs.resourceGroupName}`;
    switch (token) {
        case "resources:ResourceGroup":
            return `/subscriptions/${SUBSCRIPTION_ID}/resourceGroups/${name}`;
        case "managedidentity:FederatedIdentityCredential":
            return `${group}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${inputs.resourceName}/federatedIdentityCredentials/${name}`;
        // Both tokens are the same ARM resource. The old one stays answered so that a program sending it again fails
        // on the spec check (no extract at its 2025-01-01-preview), with that message, not as an unmocked type.
        case "dbforpostgresql:Administrator":
        case "dbforpostgresql:AdministratorsMicrosoftEntra":
            return `${group}/providers/Microsoft.DBforPostgreSQL/flexibleServers/${inputs.serverName}/administrators/${name}`;
        case "dbforpostgresql:Configuration":
            return `${group}/providers/Microsoft.DBforPostgreSQL/flexibleServers/${inputs.serverName}/configurations/${name}`;
        case "dbforpostgresql:FirewallRule":
            return `${group}/providers/Microsoft.DBforPostgreSQL/flexibleServers/${inputs.serverName}/firewallRules/${name}`;
        case "keyvault:Secret":
            return `${group}/providers/Microsoft.KeyVault/vaults/${inputs.vaultName}/secrets/${name}`;
        case "privatedns:VirtualNetworkLink":
            return `${group}/providers/Microsoft.Network/privateDnsZones/${inputs.privateZoneName}/virtualNetworkLinks/${name}`;
        case "network:PrivateDnsZoneGroup":
            return `${group}/providers/Microsoft.Network/privateEndpoints/${inputs.privateEndpointName}/privateDnsZoneGroups/${name}`;
        case "authorization:RoleAssignment":
            return `${inputs.scope}/providers/Microsoft.Authorization/roleAssignments/${guidFor(`assignment:${inputs.scope}:${inputs.principalId}:${inputs.roleDefinitionId}`)}`;
        case "authorization:RoleDefinition":
            return `${inputs.scope}/providers/Microsoft.Authorization/roleDefinitions/${inputs.roleDefinitionId ?? guidFor(`role:${inputs.roleName}`)}`;
        case "authorization:ManagementLockByScope":
            return `${inputs.scope}/providers/Microsoft.Authorization/locks/${inputs.lockName}`;
        case "monitor:DiagnosticSetting":
            return `${inputs.resourceUri}/providers/Microsoft.Insights/diagnosticSettings/${inputs.name}`;
        case "monitor:DataCollectionRuleAssociation":
            return `${inputs.resourceUri}/providers/Microsoft.Insights/dataCollectionRuleAssociations/${inputs.associationName}`;
        default: {
            const armType = ARM_TYPES[token];
            if (!armType) {
                throw new Error(`tests/mocks.ts has no ARM type for ${type}: add it to ARM_TYPES`);
            }
            return `${group}/providers/${armType}/${name}`;
        }
    }
}

export interface RecordedResource {
    type: string;
    name: string;
    inputs: Record<string, any>;
    state: Record<string, any>;
    provider?: string;
    id: string;
    /** ms since the mocks were created when the engine asked for this resource, and when it "finished". */
    requestedAt: number;
    createdAt: number;
}

export interface RecordedCall {
    token: string;
    inputs: Record<string, any>;
}

/** Simulated provisioning time in ms of a resource, by type and logical name (to observe what waits for what). */
export type Delays = (type: string, name: string) => number;

export class AzureMocks implements pulumi.runtime.Mocks {
    public readonly resources: RecordedResource[] = [];
    public readonly calls: RecordedCall[] = [];
    private readonly start = Date.now();

    /**
     * Every way a request broke Azure's REST API spec (tests/azure-api): azure-native creates checked as the PUT the
     * provider would send, follow-up ARM PATCHes as updates. The harness fails a run that has any.
     */
    public readonly specViolations: string[] = [];

    /** Resource options as the program passed them, by logical name (filled by the harness's transformation). */
    public readonly options = new Map<string, pulumi.CustomResourceOptions>();
    /** Every registration, components included, with its parent's logical name (filled by the harness). */
    public readonly registrations: { type: string; name: string; parent?: string; custom: boolean }[] = [];

    /** Key Vault secrets that exist before the program runs, as `<vault>/<secret>` (what getSecret finds). */
    public readonly existingKeyVaultSecrets = new Set<string>();

    /** The identity the azure-native provider is signed in as (getClientConfig); a test may run as someone else. */
    public runner = { objectId: DEPLOYER_OBJECT_ID, clientId: DEPLOYER_CLIENT_ID };

    constructor(private readonly delays: Delays = () => 0) {}

    async newResource(args: pulumi.runtime.MockResourceArgs): Promise<{ id: string; state: Record<string, any> }> {
        const requestedAt = Date.now() - this.start;
        this.checkAgainstSpec(args);
        const state = this.stateFor(args.type, args.name, args.inputs);
        const id = args.type.startsWith("azure-native:") ? armId(args.type, state.name ?? args.name, args.inputs) : `${args.name}-id`;
        const delay = this.delays(args.type, args.name);
        if (delay) {
            await new Promise(resolve => setTimeout(resolve, delay));
        }
        this.resources.push({
            type: args.type, name: args.name, inputs: args.inputs, state, provider: args.provider, id,
            requestedAt, createdAt: Date.now() - this.start,
        });
        return { id, state };
    }

    call(args: pulumi.runtime.MockCallArgs): Record<string, any> {
        this.calls.push({ token: args.token, inputs: args.inputs });
        switch (args.token) {
            case "azure-native:authorization:getClientConfig":
                return { clientId: this.runner.clientId, objectId: this.runner.objectId, subscriptionId: SUBSCRIPTION_ID, tenantId: TENANT_ID };
            case "azure-native:resources:getResourceGroup":
                return {
                    name: args.inputs.resourceGroupName,
                    location: "westeurope",
                    id: `/subscriptions/${SUBSCRIPTION_ID}/resourceGroups/${args.inputs.resourceGroupName}`,
                };
            case "azure-native:authorization:getClientToken":
                return { token: args.inputs.endpoint ? entraTokenFor(args.inputs.endpoint, this.elapsed()) : DEPLOYER_ARM_TOKEN };
            case "azure-native:containerservice:listManagedClusterUserCredentials":
                return {
                    kubeconfigs: [{
                        name: "clusterUser",
                        value: Buffer.from(aksUserKubeconfig(args.inputs.resourceName)).toString("base64"),
                    }],
                };
            case "azure-native:keyvault:getSecret": {
                const { resourceGroupName, vaultName, secretName } = args.inputs;
                if (!this.existingKeyVaultSecrets.has(`${vaultName}/${secretName}`)) {
                    // What ARM answers for a secret that is not there (or was deleted).
                    throw new Error(`Secret not found: ${secretName}\n(Code: SecretNotFound)`);
                }
                const id = `/subscriptions/${SUBSCRIPTION_ID}/resourceGroups/${resourceGroupName}/providers/Microsoft.KeyVault/vaults/${vaultName}/secrets/${secretName}`;
                return { id, name: secretName, type: "Microsoft.KeyVault/vaults/secrets", properties: { secretUri: `https://${vaultName}.vault.azure.net/secrets/${secretName}` } };
            }
            default:
                throw new Error(`Unmocked invoke ${args.token}: add a realistic answer to tests/mocks.ts`);
        }
    }

    /** Records what Azure would refuse in this request (see specViolations). */
    private checkAgainstSpec(args: pulumi.runtime.MockResourceArgs): void {
        try {
            if (args.type.startsWith("azure-native:")) {
                this.specViolations.push(...checkSdkRequest(args.type, args.inputs, "create").violations.map(v => `${args.name}: ${v}`));
            } else if (args.type === "pulumi-nodejs:dynamic:Resource" && typeof args.inputs.resourceType === "string" && args.inputs.body) {
                this.specViolations.push(...checkPatchBody(args.inputs.resourceType, args.inputs.apiVersion, args.inputs.body).map(v => `${args.name}: ${v}`));
            }
        } catch (err) {
            this.specViolations.push(`${args.name}: ${(err as Error).message}`);
        }
    }

    /** Throws listing every request Azure would have refused. */
    assertAcceptedByAzure(): void {
        if (this.specViolations.length > 0) {
            throw new Error(`Requests Azure's REST API spec refuses:\n  ${this.specViolations.join("\n  ")}`);
        }
    }

    private stateFor(type: string, name: string, inputs: Record<string, any>): Record<string, any> {
        switch (type) {
            case "azure-native:resources:ResourceGroup":
                return { ...inputs, name: inputs.resourceGroupName };
            case "azure-native:network:PublicIPAddress":
                return { ...inputs, name: inputs.publicIpAddressName, ipAddress: EGRESS_IP };
            case "azure-native:managedidentity:UserAssignedIdentity":
                return {
                    ...inputs,
                    name: inputs.resourceName,
                    clientId: clientIdFor(inputs.resourceName),
                    principalId: principalIdFor(inputs.resourceName),
                    tenantId: TENANT_ID,
                };
            case "azure-native:managedidentity:FederatedIdentityCredential":
                return { ...inputs, name: inputs.federatedIdentityCredentialResourceName };
            case "azure-native:containerservice:ManagedCluster":
                return {
                    ...inputs,
                    name: inputs.resourceName,
                    fqdn: `${inputs.dnsPrefix}-dns.hcp.westeurope.azmk8s.io`,
                    oidcIssuerProfile: { enabled: true, issuerURL: issuerUrlFor(inputs.resourceName) },
                    identityProfile: { kubeletidentity: { objectId: kubeletObjectIdFor(inputs.resourceName), clientId: guidFor(`kubelet-client:${inputs.resourceName}`) } },
                };
            case "azure-native:dbforpostgresql:Server":
                return {
                    ...inputs,
                    name: inputs.serverName,
                    fullyQualifiedDomainName: `${inputs.serverName}.postgres.database.azure.com`,
                    state: "Ready",
                };
            case "azure-native:dbforpostgresql:Administrator":
            case "azure-native:dbforpostgresql:AdministratorsMicrosoftEntra":
                return { ...inputs, name: inputs.objectId };
            case "azure-native:dbforpostgresql:Configuration":
                return { ...inputs, name: inputs.configurationName };
            case "azure-native:dbforpostgresql:FirewallRule":
                return { ...inputs, name: inputs.firewallRuleName };
            case "azure-native:containerregistry:Registry":
                return { ...inputs, name: inputs.registryName, loginServer: `${inputs.registryName}.azurecr.io` };
            case "azure-native:network:VirtualNetwork":
                return { ...inputs, name: inputs.virtualNetworkName };
            case "azure-native:network:PrivateEndpoint":
                return { ...inputs, name: inputs.privateEndpointName };
            case "azure-native:network:PrivateDnsZoneGroup":
                return { ...inputs, name: inputs.privateDnsZoneGroupName };
            case "azure-native:privatedns:PrivateZone":
                return { ...inputs, name: inputs.privateZoneName };
            case "azure-native:privatedns:VirtualNetworkLink":
                return { ...inputs, name: inputs.virtualNetworkLinkName };
            case "docker-build:index:Image": {
                const tag: string = inputs.tags?.[0] ?? "";
                return { ...inputs, digest: IMAGE_DIGEST, ref: `${tag.replace(/:[^:/]+$/, "")}@${IMAGE_DIGEST}` };
            }
            case "azure-native:keyvault:Vault":
                return {
                    ...inputs,
                    name: inputs.vaultName,
                    properties: { ...inputs.properties, vaultUri: `https://${inputs.vaultName}.vault.azure.net/` },
                };
            case "azure-native:keyvault:Secret":
                return { ...inputs, name: inputs.secretName };
            case "random:index/randomPassword:RandomPassword":
                return { ...inputs, result: "r".repeat(inputs.length ?? 16) };
            case "random:index/randomString:RandomString":
                return { ...inputs, result: "x7k2q9".slice(0, inputs.length) };
            default:
                if (type.startsWith("kubernetes:")) {
                    return { ...inputs, metadata: { ...inputs.metadata, name: inputs.metadata?.name ?? name } };
                }
                return { ...inputs };
        }
    }

    /** ms since these mocks were created, on the same clock as requestedAt/createdAt. */
    elapsed(): number {
        return Date.now() - this.start;
    }

    /** The options a resource was given; throws for a name that was never registered. */
    optionsOf(name: string): pulumi.CustomResourceOptions {
        const opts = this.options.get(name);
        if (!opts) {
            throw new Error(`no resource named ${name} was registered`);
        }
        return opts;
    }

    /** Every recorded resource of `type`. */
    ofType(type: string): RecordedResource[] {
        return this.resources.filter(r => r.type === type);
    }

    /** The one recorded resource of `type` whose logical name is `name`. */
    named(type: string, name: string): RecordedResource {
        const found = this.resources.filter(r => r.type === type && r.name === name);
        if (found.length !== 1) {
            throw new Error(`expected one ${type} named ${name}, found ${found.length}: ${this.ofType(type).map(r => r.name).join(", ")}`);
        }
        return found[0];
    }
}

/** Unwraps an Output for assertions; fails after `timeoutMs` instead of hanging on an unknown value. */
export function promiseOf<T>(output: pulumi.Output<T> | pulumi.Input<T>, timeoutMs = 5000): Promise<T> {
    return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`output did not resolve within ${timeoutMs} ms (unknown in preview?)`)), timeoutMs);
        pulumi.output(output).apply(value => {
            clearTimeout(timer);
            resolve(value as T);
            return value;
        });
    });
}

/** A stand-in for ACR's /oauth2/exchange endpoint: records requests and answers with a refresh token. */
export class AcrExchangeDouble {
    public readonly requests: { url: string; form: Record<string, string> }[] = [];
    public static readonly REFRESH_TOKEN = "acr-refresh-token-from-exchange";

    /** A fetch that answers only the exchange endpoint: the program's real exchange call meets it instead of ACR. */
    readonly fetch: typeof fetch = async (input, init) => {
        const url = String(input);
        if (!/^https:\/\/[a-z0-9]+\.azurecr\.io\/oauth2\/exchange$/.test(url) || init?.method !== "POST") {
            throw new Error(`unexpected network call in tests: ${init?.method ?? "GET"} ${url}`);
        }
        const form = Object.fromEntries(new URLSearchParams(String(init.body)));
        this.requests.push({ url, form });
        return new Response(JSON.stringify({ refresh_token: AcrExchangeDouble.REFRESH_TOKEN }), { status: 200 });
    };
}
