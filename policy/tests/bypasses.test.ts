// Each way around the pack that the security review found (issue 15, "The policy pack blocks the variants,
// not just the names") is a case here that the whole pack must reject, and by the policy that owns the rule.
// Every case runs the complete pack (all resource and stack policies), as `pulumi preview --policy-pack` does.
import { expect } from "chai";
import { resourcePolicies, stackPolicies } from "../policies";
import { FakeResource, PackConfig, packViolations, UNKNOWN_STRING } from "./run";

const PACK = { resourcePolicies, stackPolicies };
const ADMIN_GROUP = "3f2b8a51-6c1e-4d7a-9b0e-2c4d5e6f7a8b";
const OTHER_GROUP = "9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a";
const TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const OWN_ISSUER = `https://westeurope.oic.prod-aks.azure.com/${TENANT}/42f9759f-c032-4e0c-a838-3a3abb5e6aa5/`;
const FOREIGN_AKS_ISSUER = `https://eastus.oic.prod-aks.azure.com/0d5e1c2b-3a4f-4b6c-9d8e-7f6a5b4c3d2e/11111111-2222-4333-8444-555555555555/`;
const CLUSTER_SCOPE = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/aks-pgwi-prod";
const CONFIG: PackConfig = { "postgres-entra-admins": { postgresAdmins: [ADMIN_GROUP] } };

async function rejectedBy(resources: FakeResource[], config: PackConfig = CONFIG, stack = "dev"): Promise<string[]> {
    const found = await packViolations(PACK, resources, config, { stack });
    return [...new Set(found.map(v => v.slice(0, v.indexOf(":"))))];
}

/** Asserts the pack rejects `resources` through `policy` (and shows every message when it doesn't). */
async function expectRejected(policy: string, resources: FakeResource[], config: PackConfig = CONFIG, stack = "dev"): Promise<void> {
    const found = await packViolations(PACK, resources, config, { stack });
    expect(found.filter(v => v.startsWith(`${policy}: `)), `violations: ${JSON.stringify(found)}`).to.not.be.empty;
}

async function expectAccepted(resources: FakeResource[], config: PackConfig = CONFIG, stack = "dev"): Promise<void> {
    expect(await packViolations(PACK, resources, config, { stack })).to.deep.equal([]);
}

const entraOnly = { activeDirectoryAuth: "Enabled", passwordAuth: "Disabled", tenantId: TENANT };
const openRule = { startIpAddress: "0.0.0.0", endIpAddress: "255.255.255.255" };

/** An azure-native ARM deployment of an inline template. */
function armDeployment(resources: unknown[], extra: Record<string, unknown> = {}): FakeResource {
    return {
        type: "azure-native:resources:Deployment", name: "arm",
        props: {
            resourceGroupName: "rg",
            properties: {
                mode: "Incremental",
                template: { $schema: "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#", contentVersion: "1.0.0.0", resources },
                ...extra,
            },
        },
    };
}

describe("bypass: a versioned or classic Server with password auth", () => {
    it("accepts a versioned Server that is Entra-only", async () => {
        await expectAccepted([{ type: "azure-native:dbforpostgresql/v20250801:Server", props: { serverName: "psql", authConfig: entraOnly } }]);
    });

    it("rejects a versioned Server type with password auth enabled", async () => {
        await expectRejected("postgres-entra-only", [{ type: "azure-native:dbforpostgresql/v20250801:Server", props: { serverName: "psql", authConfig: { ...entraOnly, passwordAuth: "Enabled" } } }]);
    });

    it("rejects a classic-provider FlexibleServer that leaves password auth at its default", async () => {
        await expectRejected("postgres-entra-only", [{ type: "azure:postgresql/flexibleServer:FlexibleServer", props: { name: "psql", authentication: { activeDirectoryAuthEnabled: true } } }]);
    });

    it("rejects a Server of the 2017-12-01 API (a Single Server) with an administrator password", async () => {
        await expectRejected("postgres-entra-only", [{ type: "azure-native:dbforpostgresql/v20171201:Server", props: { serverName: "psql", properties: { administratorLogin: "admin", administratorLoginPassword: "x", createMode: "Default" } } }]);
    });

    it("rejects a Single Server, which can't be Entra-only", async () => {
        await expectRejected("postgres-entra-only", [{ type: "azure-native:dbforpostgresql:SingleServer", props: { serverName: "psql", properties: {} } }]);
    });
});

describe("bypass: a versioned or classic firewall rule for 0.0.0.0-255.255.255.255", () => {
    it("rejects a versioned FirewallRule", async () => {
        await expectRejected("postgres-firewall-not-open", [{ type: "azure-native:dbforpostgresql/v20241101preview:FirewallRule", props: { serverName: "psql", ...openRule } }]);
    });

    it("rejects a classic-provider FlexibleServerFirewallRule", async () => {
        await expectRejected("postgres-firewall-not-open", [{ type: "azure:postgresql/flexibleServerFirewallRule:FlexibleServerFirewallRule", props: { name: "all", serverId: "/x", ...openRule } }]);
    });

    it("rejects a generic azure-native Resource that is a firewall rule", async () => {
        await expectRejected("postgres-firewall-not-open", [{
            type: "azure-native:resources:Resource",
            props: { resourceProviderNamespace: "Microsoft.DBforPostgreSQL", parentResourcePath: "flexibleServers/psql", resourceType: "firewallRules", resourceName: "all", apiVersion: "2024-08-01", properties: openRule },
        }]);
    });
});

describe("bypass: an ARM template deployment", () => {
    it("accepts an inline template whose firewall rule admits one address", async () => {
        await expectAccepted([armDeployment([{ type: "Microsoft.DBforPostgreSQL/flexibleServers/firewallRules", apiVersion: "2024-08-01", name: "psql/office", properties: { startIpAddress: "198.51.100.7", endIpAddress: "198.51.100.7" } }])]);
    });

    it("rejects an inline template creating an open firewall rule from its parameters", async () => {
        const deployment = armDeployment(
            [{ type: "Microsoft.DBforPostgreSQL/flexibleServers/firewallRules", apiVersion: "2024-08-01", name: "psql/all", properties: { startIpAddress: "[parameters('from')]", endIpAddress: "[parameters('to')]" } }],
            { parameters: { from: { value: "0.0.0.0" }, to: { value: "255.255.255.255" } } });
        deployment.props.properties.template.parameters = { from: { type: "string" }, to: { type: "string" } };
        await expectRejected("postgres-firewall-not-open", [deployment]);
    });

    it("rejects a firewall rule nested as a child resource of a templated server", async () => {
        await expectRejected("postgres-firewall-not-open", [armDeployment([{
            type: "Microsoft.DBforPostgreSQL/flexibleServers", apiVersion: "2024-08-01", name: "psql",
            properties: { authConfig: entraOnly },
            resources: [{ type: "firewallRules", apiVersion: "2024-08-01", name: "all", properties: openRule }],
        }])]);
    });

    it("rejects an inline template whose server has password auth, in a classic template deployment", async () => {
        const templateContent = JSON.stringify({ resources: [{ type: "Microsoft.DBforPostgreSQL/flexibleServers", name: "psql", properties: { authConfig: { activeDirectoryAuth: "Enabled", passwordAuth: "Enabled" } } }] });
        await expectRejected("postgres-entra-only", [{ type: "azure:core/resourceGroupTemplateDeployment:ResourceGroupTemplateDeployment", name: "arm", props: { templateContent, deploymentMode: "Incremental" } }]);
    });

    it("rejects an inline template that assigns Owner on the cluster", async () => {
        await expectRejected("role-assignments-allowed-roles", [armDeployment([{
            type: "Microsoft.Authorization/roleAssignments", apiVersion: "2022-04-01", name: "owner", scope: "Microsoft.ContainerService/managedClusters/aks",
            properties: { roleDefinitionId: "[subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '8e3af657-a8ff-443c-a75c-2fe8c4bcb635')]", principalId: "p" },
        }])]);
    });

    it("rejects a deployment of a linked template", async () => {
        await expectRejected("opaque-resources-allow-listed", [{ type: "azure-native:resources:Deployment", name: "linked", props: { resourceGroupName: "rg", properties: { mode: "Incremental", templateLink: { uri: "https://example.com/t.json" } } } }]);
    });

    it("accepts a linked template deployment allow-listed by name", async () => {
        await expectAccepted([{ type: "azure-native:resources:Deployment", name: "linked", props: { resourceGroupName: "rg", properties: { mode: "Incremental", templateLink: { uri: "https://example.com/t.json" } } } }],
            { ...CONFIG, "opaque-resources-allow-listed": { linkedTemplates: ["linked"] } });
    });

    it("rejects an Azure CLI deployment script", async () => {
        await expectRejected("opaque-resources-allow-listed", [{ type: "azure-native:resources:AzureCliScript", name: "script", props: { scriptContent: "az postgres flexible-server firewall-rule create ..." } }]);
    });
});

describe("bypass: a Configuration that weakens TLS", () => {
    const parameter = (type: string, configurationName: string, value: string) => ({ type, props: { serverName: "psql", configurationName, value, source: "user-override" } });

    it("accepts TLS 1.3 as the minimum", async () => {
        await expectAccepted([parameter("azure-native:dbforpostgresql:Configuration", "ssl_min_protocol_version", "TLSv1.3")]);
    });

    it("rejects require_secure_transport off", async () => {
        await expectRejected("postgres-server-parameters", [parameter("azure-native:dbforpostgresql:Configuration", "require_secure_transport", "off")]);
    });

    for (const version of ["TLSv1", "TLSv1.1"]) {
        it(`rejects ssl_min_protocol_version ${version} in a versioned Configuration`, async () => {
            await expectRejected("postgres-server-parameters", [parameter("azure-native:dbforpostgresql/v20250801:Configuration", "ssl_min_protocol_version", version)]);
        });
    }

    it("rejects require_secure_transport OFF through the classic provider", async () => {
        await expectRejected("postgres-server-parameters", [{ type: "azure:postgresql/flexibleServerConfiguration:FlexibleServerConfiguration", props: { name: "require_secure_transport", value: "OFF", serverId: "/x" } }]);
    });
});

describe("bypass: an extra Entra admin", () => {
    const admin = (objectId: string, principalType = "Group", type = "azure-native:dbforpostgresql:AdministratorsMicrosoftEntra") =>
        ({ type, props: { serverName: "psql", objectId, principalName: "pg-admins", principalType, tenantId: TENANT } });

    it("accepts the configured admin group", async () => {
        await expectAccepted([admin(ADMIN_GROUP)], CONFIG, "prod");
    });

    it("rejects an extra Entra admin group not in the policy config", async () => {
        await expectRejected("postgres-entra-admins", [admin(ADMIN_GROUP), admin(OTHER_GROUP, "Group", "azure-native:dbforpostgresql:Administrator")]);
        await expectRejected("postgres-entra-admins", [admin(ADMIN_GROUP), admin(OTHER_GROUP, "Group", "azure-native:dbforpostgresql/v20250801:AdministratorsMicrosoftEntra")]);
    });

    it("rejects every admin when the policy config lists none", async () => {
        await expectRejected("postgres-entra-admins", [admin(ADMIN_GROUP)], {});
    });

    it("rejects a person as prod's admin", async () => {
        await expectRejected("postgres-entra-admins", [admin(ADMIN_GROUP, "User")], CONFIG, "prod");
    });

    const provisioner = (principalName: string, principalType = "ServicePrincipal") =>
        ({ type: "azure-native:dbforpostgresql:AdministratorsMicrosoftEntra", props: { serverName: "psql", objectId: UNKNOWN_STRING, principalName, principalType, tenantId: TENANT } });
    const withProvisioner = {
        "postgres-entra-admins": { postgresAdmins: [ADMIN_GROUP], provisioningAdmins: ["id-pgwi-prod-pg-provisioner"] },
        "postgres-provisioning-admin-is-own-identity": { provisioningAdmins: ["id-pgwi-prod-pg-provisioner"] },
    };

    const PROVISIONER_ID = "5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b";
    const identity = (resourceName: string, principalId: string) =>
        ({ type: "azure-native:managedidentity:UserAssignedIdentity", name: resourceName, props: { resourceGroupName: "rg", resourceName, principalId } });
    const provisionerWithId = (principalName: string, objectId: string) =>
        ({ ...provisioner(principalName), props: { ...provisioner(principalName).props, objectId } });

    it("accepts the provisioning identity named in policy config as a ServicePrincipal admin in prod (D1)", async () => {
        await expectAccepted([admin(ADMIN_GROUP), identity("id-pgwi-prod-pg-provisioner", PROVISIONER_ID),
            provisionerWithId("id-pgwi-prod-pg-provisioner", PROVISIONER_ID)], withProvisioner, "prod");
    });

    it("accepts it at preview, while the identity's principal id is not known yet", async () => {
        await expectAccepted([admin(ADMIN_GROUP), identity("id-pgwi-prod-pg-provisioner", PROVISIONER_ID),
            provisioner("id-pgwi-prod-pg-provisioner")], withProvisioner, "prod");
    });

    it("rejects a look-alike: another principal that merely carries the provisioning identity's name", async () => {
        await expectRejected("postgres-provisioning-admin-is-own-identity", [admin(ADMIN_GROUP), identity("id-pgwi-prod-pg-provisioner", PROVISIONER_ID),
            provisionerWithId("id-pgwi-prod-pg-provisioner", OTHER_GROUP)], withProvisioner, "prod");
    });

    it("rejects the provisioning identity's name when no identity of that name is in the stack", async () => {
        await expectRejected("postgres-provisioning-admin-is-own-identity", [admin(ADMIN_GROUP),
            provisionerWithId("id-pgwi-prod-pg-provisioner", PROVISIONER_ID)], withProvisioner, "prod");
    });

    it("rejects a ServicePrincipal admin whose name is not the configured provisioning identity", async () => {
        await expectRejected("postgres-entra-admins", [admin(ADMIN_GROUP), provisionerWithId("id-pgwi-prod-someone-else", OTHER_GROUP)], withProvisioner, "prod");
    });

    it("rejects the provisioning identity's name on a person or group", async () => {
        await expectRejected("postgres-entra-admins", [admin(ADMIN_GROUP), identity("id-pgwi-prod-pg-provisioner", PROVISIONER_ID),
            { ...provisioner("id-pgwi-prod-pg-provisioner", "User"), props: { ...provisioner("id-pgwi-prod-pg-provisioner", "User").props, objectId: PROVISIONER_ID } }], withProvisioner, "prod");
    });
});

describe("bypass: a privileged postgresql role", () => {
    const role = (extra: Record<string, unknown>) => ({ type: "postgresql:index/role:Role", props: { name: "id-app", login: true, superuser: false, createRole: false, ...extra } });

    it("accepts a plain login role", async () => {
        await expectAccepted([role({})]);
    });

    for (const [what, extra] of [
        ["superuser", { superuser: true }],
        ["createrole", { createRole: true }],
        ["a member of azure_pg_admin", { roles: ["azure_pg_admin"] }],
    ] as const) {
        it(`rejects a role that is ${what}`, async () => {
            await expectRejected("postgres-roles-least-privilege", [role(extra)]);
        });
    }

    it("rejects a GrantRole making a role a member of azure_pg_admin", async () => {
        await expectRejected("postgres-roles-least-privilege", [{ type: "postgresql:index/grantRole:GrantRole", props: { role: "id-app", grantRole: "azure_pg_admin" } }]);
    });

    it("rejects a Grant that can be passed on", async () => {
        await expectRejected("postgres-roles-least-privilege", [{ type: "postgresql:index/grant:Grant", props: { role: "id-app", database: "app", objectType: "database", privileges: ["CONNECT"], withGrantOption: true } }]);
    });
});

describe("bypass: a federated credential with a foreign issuer or no subject", () => {
    const cluster: FakeResource = { type: "azure-native:containerservice:ManagedCluster", name: "aks", props: { oidcIssuerProfile: { enabled: true, issuerURL: OWN_ISSUER }, securityProfile: { workloadIdentity: { enabled: true } }, disableLocalAccounts: true, aadProfile: { managed: true, enableAzureRBAC: true } } };
    const fic = (props: Record<string, unknown>, type = "azure-native:managedidentity:FederatedIdentityCredential"): FakeResource =>
        ({ type, name: "fic", props: { resourceName: "id-app", audiences: ["api://AzureADTokenExchange"], issuer: OWN_ISSUER, subject: "system:serviceaccount:demo:demo", ...props } });

    it("accepts the stack's own cluster issuer", async () => {
        await expectAccepted([cluster, fic({})]);
    });

    it("rejects an issuer that is no AKS cluster's", async () => {
        await expectRejected("federated-credential-shape", [cluster, fic({ issuer: "https://attacker.example.com/" })]);
    });

    it("rejects another AKS cluster's issuer", async () => {
        await expectRejected("federated-credential-issuer", [cluster, fic({ issuer: FOREIGN_AKS_ISSUER })]);
    });

    it("rejects another AKS cluster's issuer computed from this stack's known cluster", async () => {
        await expectRejected("federated-credential-issuer", [cluster, { ...fic({ issuer: FOREIGN_AKS_ISSUER }), propertyDependencies: { issuer: ["aks"] } }]);
    });

    it("defers a credential whose issuer comes from a cluster this update creates", async () => {
        const newCluster = { ...cluster, props: { ...cluster.props, oidcIssuerProfile: { enabled: true, issuerURL: UNKNOWN_STRING } } };
        expect(await rejectedBy([newCluster, { ...fic({ issuer: OWN_ISSUER }), propertyDependencies: { issuer: ["aks"] } }])).to.deep.equal([]);
    });

    it("rejects a literal foreign AKS issuer beside a cluster this update creates", async () => {
        const newCluster = { ...cluster, props: { ...cluster.props, oidcIssuerProfile: { enabled: true, issuerURL: UNKNOWN_STRING } } };
        await expectRejected("federated-credential-issuer", [newCluster, fic({ issuer: FOREIGN_AKS_ISSUER })]);
    });

    it("accepts another issuer allow-listed in the policy config", async () => {
        const config = { ...CONFIG, "federated-credential-shape": { allowedIssuers: [FOREIGN_AKS_ISSUER] }, "federated-credential-issuer": { allowedIssuers: [FOREIGN_AKS_ISSUER] } };
        await expectAccepted([cluster, fic({ issuer: FOREIGN_AKS_ISSUER })], config);
    });

    it("rejects a credential with no subject", async () => {
        const noSubject = fic({});
        delete noSubject.props.subject;
        await expectRejected("federated-credential-shape", [cluster, noSubject]);
    });

    it("rejects a classic-provider credential with a foreign issuer", async () => {
        await expectRejected("federated-credential-shape", [cluster, { type: "azure:armmsi/federatedIdentityCredential:FederatedIdentityCredential", props: { audience: ["api://AzureADTokenExchange"], issuer: "https://attacker.example.com/", subject: "system:serviceaccount:demo:demo", parentId: "/x", resourceGroupName: "rg" } }]);
    });
});

describe("bypass: a privileged role on the cluster", () => {
    const assignment = (roleDefinitionId: string, type = "azure-native:authorization:RoleAssignment") =>
        ({ type, props: { principalId: "p", principalType: "ServicePrincipal", roleDefinitionId: `/subscriptions/s/providers/Microsoft.Authorization/roleDefinitions/${roleDefinitionId}`, scope: CLUSTER_SCOPE } });

    it("accepts AKS RBAC Cluster Admin for the deployer", async () => {
        await expectAccepted([assignment("b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b")]);
    });

    for (const [role, id] of [
        ["Owner", "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"],
        ["User Access Administrator", "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9"],
        ["Role Based Access Control Administrator", "f58310d9-a9f6-439a-9e8d-f62e7b41a168"],
        ["Contributor", "b24988ac-6180-42a0-ab88-20f7382dd24c"],
    ] as const) {
        it(`rejects ${role} on the cluster`, async () => {
            await expectRejected("role-assignments-allowed-roles", [assignment(id, "azure-native:authorization/v20220401:RoleAssignment")]);
        });
    }

    it("rejects Owner by name through the classic provider, even when config allow-lists its id", async () => {
        await expectRejected("role-assignments-allowed-roles", [{ type: "azure:authorization/assignment:Assignment", props: { scope: CLUSTER_SCOPE, roleDefinitionName: "Owner", principalId: "p" } }],
            { ...CONFIG, "role-assignments-allowed-roles": { allowedRoleDefinitionIds: ["8e3af657-a8ff-443c-a75c-2fe8c4bcb635"] } });
    });
});

// A pod that passes every pod rule, to vary one thing at a time.
function pod(container: Record<string, unknown> = {}) {
    return {
        metadata: { labels: { app: "demo" } },
        spec: {
            securityContext: { runAsNonRoot: true, runAsUser: 65532, seccompProfile: { type: "RuntimeDefault" } },
            containers: [{
                name: "app",
                image: "contoso.azurecr.io/app:1.4.2",
                resources: { requests: { cpu: "50m", memory: "64Mi" }, limits: { cpu: "500m", memory: "256Mi" } },
                securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } },
                ...container,
            }],
        },
    };
}

/** A workload of `kind` (group/version from Kubernetes) carrying `template` wherever that kind keeps it. */
function workload(kind: string, template: ReturnType<typeof pod>, patch = false): FakeResource {
    const groupVersion: Record<string, string> = { Deployment: "apps/v1", StatefulSet: "apps/v1", DaemonSet: "apps/v1", ReplicaSet: "apps/v1", Job: "batch/v1", CronJob: "batch/v1", Pod: "core/v1" };
    const props = kind === "Pod" ? { metadata: { name: "app" }, spec: template.spec }
        : kind === "CronJob" ? { metadata: { name: "app" }, spec: { schedule: "@daily", jobTemplate: { spec: { template } } } }
            : { metadata: { name: "app" }, spec: { template } };
    return { type: `kubernetes:${groupVersion[kind]}:${kind}${patch ? "Patch" : ""}`, name: "app", props };
}

const KINDS = ["Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "Pod", "ReplicaSet"];

describe("bypass: Kubernetes Patch types and Helm releases", () => {
    it("rejects a DeploymentPatch that makes a container privileged", async () => {
        await expectRejected("pod-security-restricted", [workload("Deployment", pod({ securityContext: { privileged: true } }), true)]);
    });

    it("rejects a DeploymentPatch that lets the whole pod run as root", async () => {
        const patch = workload("Deployment", pod(), true);
        patch.props.spec.template = { spec: { securityContext: { runAsNonRoot: false } } };
        await expectRejected("pod-security-restricted", [patch]);
    });

    it("rejects a DeploymentPatch that stops dropping capabilities", async () => {
        const patch = workload("Deployment", pod(), true);
        patch.props.spec.template = { spec: { containers: [{ name: "app", securityContext: { capabilities: { drop: [] } } }] } };
        await expectRejected("pod-security-restricted", [patch]);
    });

    it("accepts a DeploymentPatch that only changes the image", async () => {
        const patch = workload("Deployment", pod(), true);
        patch.props.spec.template = { spec: { containers: [{ name: "app", image: "contoso.azurecr.io/app:1.4.3" }] } };
        await expectAccepted([patch]);
    });

    it("rejects a NamespacePatch that lowers Pod Security enforcement", async () => {
        await expectRejected("namespace-pod-security", [{ type: "kubernetes:core/v1:NamespacePatch", props: { metadata: { name: "demo", labels: { "pod-security.kubernetes.io/enforce": "privileged" } } } }]);
    });

    it("rejects a SecretPatch that adds a password", async () => {
        await expectRejected("no-passwords", [{ type: "kubernetes:core/v1:SecretPatch", props: { metadata: { name: "db" }, stringData: { "db-password": "x" } } }]);
    });

    it("rejects a Helm release", async () => {
        await expectRejected("opaque-resources-allow-listed", [{ type: "kubernetes:helm.sh/v3:Release", name: "ingress", props: { chart: "ingress-nginx", values: {} } }]);
    });

    it("accepts a Helm release allow-listed by name", async () => {
        await expectAccepted([{ type: "kubernetes:helm.sh/v3:Release", name: "ingress", props: { chart: "ingress-nginx", values: {} } }],
            { ...CONFIG, "opaque-resources-allow-listed": { helmReleases: ["ingress"] } });
    });
});

describe("bypass: LATEST in upper case", () => {
    for (const image of ["nginx:LATEST", "contoso.azurecr.io/app:Latest"]) {
        it(`rejects ${image}`, async () => {
            await expectRejected("images-pinned", [workload("Deployment", pod({ image }))]);
        });
    }
});

describe("bypass: workload env vars named like credentials", () => {
    for (const kind of KINDS) {
        it(`accepts PG* settings in a ${kind}`, async () => {
            await expectAccepted([workload(kind, pod({ env: [{ name: "PGHOST", value: "psql.postgres.database.azure.com" }, { name: "PGUSER", value: "id-app" }] }))]);
        });
    }

    for (const name of ["DATABASE_URL", "database_url", "PGPASSWORD", "DB_PASSWORD", "ORDERS_CONNECTION_STRING", "AzureConnectionString"]) {
        for (const kind of KINDS) {
            for (const patch of [false, true]) {
                it(`rejects ${name} in a ${kind}${patch ? "Patch" : ""}`, async () => {
                    await expectRejected("no-passwords", [workload(kind, pod({ env: [{ name, value: "x" }] }), patch)]);
                });
            }
        }
    }
});

describe("bypass: a prod server whose tags don't say prod", () => {
    const server = (tags: Record<string, string>): FakeResource =>
        ({ type: "azure-native:dbforpostgresql:Server", name: "postgres-server", protect: false, props: { serverName: "psql-pgwi-prod", authConfig: entraOnly, tags } });

    it("rejects an unprotected, unlocked server in the prod stack tagged as dev", async () => {
        expect(await rejectedBy([server({ stack: "dev" })], CONFIG, "prod")).to.include("prod-data-protected");
    });

    it("rejects it in a stack named in the policy config's prodStacks", async () => {
        expect(await rejectedBy([server({})], { ...CONFIG, "prod-data-protected": { prodStacks: ["live"] } }, "live")).to.include("prod-data-protected");
    });

    it("leaves a dev stack's server tagged prod to dev's rules", async () => {
        expect(await rejectedBy([server({ stack: "prod" })], CONFIG, "dev")).to.not.include("prod-data-protected");
    });
});

describe("further variants of the same bypasses", () => {
    it("rejects a DeploymentList whose item reads DATABASE_URL", async () => {
        const item = { apiVersion: "apps/v1", kind: "Deployment", ...workload("Deployment", pod({ env: [{ name: "DATABASE_URL", value: "x" }] })).props };
        await expectRejected("no-passwords", [{ type: "kubernetes:apps/v1:DeploymentList", props: { items: [item] } }]);
    });

    it("rejects a ConfigMap key named like a credential (envFrom turns keys into variables)", async () => {
        await expectRejected("no-passwords", [{ type: "kubernetes:core/v1:ConfigMap", props: { metadata: { name: "db" }, data: { DATABASE_URL: "postgres://u:p@h/db" } } }]);
    });

    it("rejects a Deployment created as a CustomResource token of any group/version", async () => {
        await expectRejected("images-pinned", [{ type: "kubernetes:apps/v1beta2:Deployment", props: { spec: { template: pod({ image: "nginx:latest" }) } } }]);
    });

    it("rejects an app registration's federated credential with a foreign issuer", async () => {
        await expectRejected("federated-credential-shape", [{ type: "azuread:index/applicationFederatedIdentityCredential:ApplicationFederatedIdentityCredential", props: { applicationId: "/applications/x", audiences: ["api://AzureADTokenExchange"], issuer: "https://attacker.example.com/", subject: "system:serviceaccount:demo:demo", displayName: "x" } }]);
    });

    it("rejects an AKS admin group not in the policy config", async () => {
        const cluster = { oidcIssuerProfile: { enabled: true }, securityProfile: { workloadIdentity: { enabled: true } }, disableLocalAccounts: true, aadProfile: { managed: true, enableAzureRBAC: true, adminGroupObjectIDs: [OTHER_GROUP] } };
        await expectRejected("aks-workload-identity", [{ type: "azure-native:containerservice/v20250801:ManagedCluster", props: cluster }]);
        await expectAccepted([{ type: "azure-native:containerservice:ManagedCluster", props: cluster }], { ...CONFIG, "aks-workload-identity": { clusterAdminGroups: [OTHER_GROUP] } });
    });

    it("ignores a template's `existing` reference, which creates nothing", async () => {
        const template = { languageVersion: "2.0", resources: { server: { type: "Microsoft.DBforPostgreSQL/flexibleServers", apiVersion: "2024-08-01", name: "psql", existing: true } } };
        await expectAccepted([{ type: "azure-native:resources:Deployment", name: "arm", props: { resourceGroupName: "rg", properties: { mode: "Incremental", template } } }]);
    });

    it("rejects a firewall rule whose addresses are template expressions a preview can't evaluate", async () => {
        await expectRejected("postgres-firewall-not-open", [armDeployment([{ type: "Microsoft.DBforPostgreSQL/flexibleServers/firewallRules", name: "psql/x", properties: { startIpAddress: "[first(split(parameters('range'), '-'))]", endIpAddress: "[last(split(parameters('range'), '-'))]" } }])]);
    });

    it("still judges a classic server in a preview that can't know its resource group yet", async () => {
        await expectRejected("postgres-entra-only", [{ type: "azure:postgresql/flexibleServer:FlexibleServer", props: { name: "psql", resourceGroupName: UNKNOWN_STRING, authentication: { activeDirectoryAuthEnabled: true } } }]);
    });
});
