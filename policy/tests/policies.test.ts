import { expect } from "chai";
import {
    aksWorkloadIdentity, federatedCredentialShape, imagesPinned, namespaceRestricted, noPasswords, podLabelWithClientId,
    podSecurityRestricted, postgresEntraOnly, postgresFirewallNotOpen, prodDataProtected, roleAssignmentsResourceScoped,
    serviceAccountClientId, TYPES,
} from "../policies";
import { stackViolations, UNKNOWN_STRING, violations } from "./run";

const CLIENT_ID = "6f1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";
const ISSUER = "https://westeurope.oic.prod-aks.azure.com/72f988bf-86f1-41af-91ab-2d7cd011db47/42f9759f-c032-4e0c-a838-3a3abb5e6aa5/";

function pod(overrides: { container?: Record<string, any>; spec?: Record<string, any>; labels?: Record<string, string> } = {}) {
    return {
        metadata: { labels: { "azure.workload.identity/use": "true", ...overrides.labels } },
        spec: {
            serviceAccountName: "orders",
            securityContext: { runAsNonRoot: true, runAsUser: 65532, seccompProfile: { type: "RuntimeDefault" } },
            containers: [{
                name: "orders",
                image: "contoso.azurecr.io/orders:1.4.2",
                env: [{ name: "PGHOST", value: "psql.postgres.database.azure.com" }],
                resources: { requests: { cpu: "50m", memory: "64Mi" }, limits: { cpu: "500m", memory: "256Mi" } },
                securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } },
                ...overrides.container,
            }],
            ...overrides.spec,
        },
    };
}

function deployment(overrides: Parameters<typeof pod>[0] = {}) {
    return { type: "kubernetes:apps/v1:Deployment", props: { metadata: { name: "orders", namespace: "shop" }, spec: { template: pod(overrides) } } };
}

describe("policy postgres-entra-only", () => {
    const server = (authConfig: Record<string, string>, extra = {}) => ({ type: TYPES.pgServer, props: { authConfig, ...extra } });

    it("passes a server that accepts Entra tokens only", async () => {
        expect(await violations(postgresEntraOnly, server({ activeDirectoryAuth: "Enabled", passwordAuth: "Disabled" }))).to.deep.equal([]);
    });

    it("fails a server with password auth on", async () => {
        expect(await violations(postgresEntraOnly, server({ activeDirectoryAuth: "Enabled", passwordAuth: "Enabled" }))).to.deep.equal(['authConfig.passwordAuth must be "Disabled"']);
    });

    it("fails a server without Entra auth", async () => {
        expect(await violations(postgresEntraOnly, server({ passwordAuth: "Disabled" }))).to.deep.equal(['authConfig.activeDirectoryAuth must be "Enabled"']);
    });

    it("fails a server with an administrator password", async () => {
        expect(await violations(postgresEntraOnly, server({ activeDirectoryAuth: "Enabled", passwordAuth: "Disabled" }, { administratorLogin: "admin", administratorLoginPassword: "x" })))
            .to.deep.equal(["a server must not have an administrator login or password"]);
    });
});

describe("policy postgres-firewall-not-open", () => {
    const rule = (startIpAddress: string, endIpAddress: string) => ({ type: TYPES.pgFirewallRule, props: { startIpAddress, endIpAddress } });

    it("passes a single address and a /24", async () => {
        expect(await violations(postgresFirewallNotOpen, rule("20.61.17.42", "20.61.17.42"))).to.deep.equal([]);
        expect(await violations(postgresFirewallNotOpen, rule("198.51.100.0", "198.51.100.255"))).to.deep.equal([]);
    });

    it("fails the 'allow all Azure services' rule", async () => {
        expect(await violations(postgresFirewallNotOpen, rule("0.0.0.0", "0.0.0.0"))).to.have.length(1);
    });

    it("fails the whole internet", async () => {
        expect(await violations(postgresFirewallNotOpen, rule("0.0.0.0", "255.255.255.255"))).to.have.length(1);
    });

    it("fails a range broader than /16", async () => {
        expect(await violations(postgresFirewallNotOpen, rule("10.0.0.0", "10.1.255.255"))).to.deep.equal(["10.0.0.0-10.1.255.255 spans more than a /16"]);
    });
});

describe("policy aks-workload-identity", () => {
    const good = { oidcIssuerProfile: { enabled: true }, securityProfile: { workloadIdentity: { enabled: true } }, disableLocalAccounts: true, aadProfile: { managed: true, enableAzureRBAC: true } };

    it("passes a cluster with OIDC, workload identity, Entra + Azure RBAC and no local accounts", async () => {
        expect(await violations(aksWorkloadIdentity, { type: TYPES.cluster, props: good })).to.deep.equal([]);
    });

    for (const [field, props, message] of [
        ["oidcIssuerProfile", { ...good, oidcIssuerProfile: { enabled: false } }, "oidcIssuerProfile.enabled must be true"],
        ["workloadIdentity", { ...good, securityProfile: {} }, "securityProfile.workloadIdentity.enabled must be true"],
        ["disableLocalAccounts", { ...good, disableLocalAccounts: false }, "disableLocalAccounts must be true"],
        ["aadProfile", { ...good, aadProfile: { managed: true } }, "aadProfile must be managed Entra integration with enableAzureRBAC"],
    ] as const) {
        it(`fails a cluster without ${field}`, async () => {
            expect(await violations(aksWorkloadIdentity, { type: TYPES.cluster, props })).to.deep.equal([message]);
        });
    }
});

describe("policy federated-credential-shape", () => {
    const fic = (props: Record<string, unknown>) => ({ type: TYPES.fic, props: { audiences: ["api://AzureADTokenExchange"], issuer: ISSUER, subject: "system:serviceaccount:shop:orders", ...props } });

    it("passes the token-exchange audience and a ServiceAccount subject", async () => {
        expect(await violations(federatedCredentialShape, fic({}))).to.deep.equal([]);
    });

    it("fails any other audience", async () => {
        expect(await violations(federatedCredentialShape, fic({ audiences: ["api://AzureADTokenExchange", "api://other"] }))).to.have.length(1);
    });

    it("fails a subject that is not a ServiceAccount", async () => {
        expect(await violations(federatedCredentialShape, fic({ subject: "repo:contoso/app:ref:refs/heads/main" }))).to.have.length(1);
    });

    it("fails a subject with upper case or a missing part", async () => {
        expect(await violations(federatedCredentialShape, fic({ subject: "system:serviceaccount:Shop:orders" }))).to.have.length(1);
        expect(await violations(federatedCredentialShape, fic({ subject: "system:serviceaccount:orders" }))).to.have.length(1);
    });

    it("does not judge a subject a preview cannot know yet", async () => {
        expect(await violations(federatedCredentialShape, fic({ subject: UNKNOWN_STRING }))).to.deep.equal([]);
    });
});

describe("policy serviceaccount-client-id", () => {
    const sa = (metadata: Record<string, unknown>) => ({ type: TYPES.serviceAccount, props: { metadata: { name: "orders", ...metadata } } });

    it("passes a labelled ServiceAccount with a client id", async () => {
        expect(await violations(serviceAccountClientId, sa({ labels: { "azure.workload.identity/use": "true" }, annotations: { "azure.workload.identity/client-id": CLIENT_ID } }))).to.deep.equal([]);
    });

    it("fails a labelled ServiceAccount without a client id", async () => {
        expect(await violations(serviceAccountClientId, sa({ labels: { "azure.workload.identity/use": "true" } }))).to.deep.equal(["missing annotation azure.workload.identity/client-id"]);
    });

    it("fails a client id that is not a GUID", async () => {
        expect(await violations(serviceAccountClientId, sa({ annotations: { "azure.workload.identity/client-id": "<MANAGED_IDENTITY_CLIENT_ID>" } }))).to.have.length(1);
    });

    it("ignores ServiceAccounts that do not use workload identity", async () => {
        expect(await violations(serviceAccountClientId, sa({}))).to.deep.equal([]);
    });
});

describe("policy no-passwords", () => {
    it("passes a workload with only PG* settings", async () => {
        expect(await violations(noPasswords, deployment())).to.deep.equal([]);
    });

    it("fails PGPASSWORD in the environment", async () => {
        expect(await violations(noPasswords, deployment({ container: { env: [{ name: "PGPASSWORD", value: "x" }] } }))).to.have.length(1);
    });

    it("fails an env var read from a Secret", async () => {
        expect(await violations(noPasswords, deployment({ container: { env: [{ name: "DB_URL", valueFrom: { secretKeyRef: { name: "db", key: "url" } } }] } }))).to.have.length(1);
    });

    it("fails envFrom a Secret", async () => {
        expect(await violations(noPasswords, deployment({ container: { env: [], envFrom: [{ secretRef: { name: "db" } }] } }))).to.have.length(1);
    });

    it("fails a Secret holding a password", async () => {
        expect(await violations(noPasswords, { type: TYPES.secret, props: { stringData: { "db-password": "x" } } })).to.have.length(1);
    });
});

describe("policy pod-security-restricted", () => {
    it("passes a hardened pod", async () => {
        expect(await violations(podSecurityRestricted, deployment())).to.deep.equal([]);
    });

    for (const [what, overrides] of [
        ["running as root", { spec: { securityContext: { runAsNonRoot: false, seccompProfile: { type: "RuntimeDefault" } } } }],
        ["without seccomp", { spec: { securityContext: { runAsNonRoot: true } } }],
        ["allowing privilege escalation", { container: { securityContext: { allowPrivilegeEscalation: true, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } } } }],
        ["keeping capabilities", { container: { securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true } } }],
        ["with a writable root filesystem", { container: { securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } } } }],
        ["without limits", { container: { resources: { requests: { cpu: "1", memory: "1Gi" } } } }],
        ["on the host network", { spec: { hostNetwork: true } }],
        ["mounting a host path", { spec: { volumes: [{ name: "h", hostPath: { path: "/" } }] } }],
    ] as const) {
        it(`fails a pod ${what}`, async () => {
            expect(await violations(podSecurityRestricted, deployment(overrides as any))).to.have.length.greaterThan(0);
        });
    }

    it("applies to Jobs too", async () => {
        const job = { type: "kubernetes:batch/v1:Job", props: { spec: { template: pod({ spec: { hostPID: true } }) } } };
        expect(await violations(podSecurityRestricted, job)).to.deep.equal(["pods must not use host namespaces"]);
    });
});

describe("policy images-pinned", () => {
    it("passes a tag and a digest", async () => {
        expect(await violations(imagesPinned, deployment())).to.deep.equal([]);
        expect(await violations(imagesPinned, deployment({ container: { image: `acr.azurecr.io/app@sha256:${"a".repeat(64)}` } }))).to.deep.equal([]);
    });

    it("fails :latest and untagged images", async () => {
        expect(await violations(imagesPinned, deployment({ container: { image: "nginx:latest" } }))).to.have.length(1);
        expect(await violations(imagesPinned, deployment({ container: { image: "nginx" } }))).to.have.length(1);
    });
});

describe("policy namespace-pod-security", () => {
    it("passes a namespace enforcing restricted", async () => {
        expect(await violations(namespaceRestricted, { type: TYPES.namespace, props: { metadata: { labels: { "pod-security.kubernetes.io/enforce": "restricted" } } } })).to.deep.equal([]);
    });

    it("fails a namespace enforcing less", async () => {
        expect(await violations(namespaceRestricted, { type: TYPES.namespace, props: { metadata: { labels: { "pod-security.kubernetes.io/enforce": "baseline" } } } })).to.have.length(1);
    });
});

describe("policy role-assignments-resource-scoped", () => {
    it("passes a grant on one resource", async () => {
        expect(await violations(roleAssignmentsResourceScoped, { type: TYPES.roleAssignment, props: { scope: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv" } })).to.deep.equal([]);
    });

    it("fails a grant on a subscription or a resource group", async () => {
        expect(await violations(roleAssignmentsResourceScoped, { type: TYPES.roleAssignment, props: { scope: "/subscriptions/s" } })).to.have.length(1);
        expect(await violations(roleAssignmentsResourceScoped, { type: TYPES.roleAssignment, props: { scope: "/subscriptions/s/resourceGroups/rg" } })).to.have.length(1);
    });
});

describe("policy pod-label-with-client-id", () => {
    const sa = { type: TYPES.serviceAccount, props: { metadata: { name: "orders", namespace: "shop", annotations: { "azure.workload.identity/client-id": CLIENT_ID } } } };

    it("passes pods labelled for workload identity", async () => {
        expect(await stackViolations(podLabelWithClientId, [sa, deployment()])).to.deep.equal([]);
    });

    it("fails pods running as a client-id ServiceAccount without the label", async () => {
        expect(await stackViolations(podLabelWithClientId, [sa, deployment({ labels: { "azure.workload.identity/use": "false" } })])).to.have.length(1);
    });

    it("ignores pods whose ServiceAccount has no client id", async () => {
        const other = deployment({ labels: { "azure.workload.identity/use": "false" }, spec: { serviceAccountName: "web" } });
        expect(await stackViolations(podLabelWithClientId, [sa, other])).to.deep.equal([]);
    });
});

describe("policy prod-data-protected", () => {
    const server = (protect: boolean) => ({ type: TYPES.pgServer, name: "postgres-server", protect, props: { serverName: "psql-x-abc123", tags: { stack: "prod" } } });
    const database = (protect: boolean) => ({ type: TYPES.pgDatabase, name: "orders-db", protect, props: { name: "orders" } });
    const lock = { type: TYPES.lock, props: { level: "CanNotDelete", scope: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.DBforPostgreSQL/flexibleServers/psql-x-abc123" } };
    const prod = { stack: "prod" };

    it("passes protected data with a lock", async () => {
        expect(await stackViolations(prodDataProtected, [server(true), database(true), lock], {}, prod)).to.deep.equal([]);
    });

    it("fails an unprotected server or database", async () => {
        expect(await stackViolations(prodDataProtected, [server(false), database(true), lock], {}, prod)).to.have.length(1);
        expect(await stackViolations(prodDataProtected, [server(true), database(false), lock], {}, prod)).to.have.length(1);
    });

    it("fails a server without a CanNotDelete lock", async () => {
        expect(await stackViolations(prodDataProtected, [server(true), database(true)], {}, prod)).to.deep.equal(["PostgreSQL server postgres-server needs a CanNotDelete lock in production"]);
    });

    it("leaves non-production stacks alone", async () => {
        const dev = { ...server(false), props: { serverName: "psql-x", tags: { stack: "dev" } } };
        expect(await stackViolations(prodDataProtected, [dev, database(false)], {}, { stack: "dev" })).to.deep.equal([]);
    });

    it("takes the production stack names from config", async () => {
        const staging = { ...server(false), props: { serverName: "psql-x", tags: { stack: "staging" } } };
        expect(await stackViolations(prodDataProtected, [staging], { prodStacks: ["prod", "staging"] }, { stack: "staging" })).to.have.length(2);
    });
});
