import { spawnSync } from "child_process";
import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";
import { ConfigError } from "../config";
import { OSSRDBMS_RESOURCE } from "../components/postgresRole";
import {
    AcrExchangeDouble, AzureMocks, clientIdFor, DEPLOYER_ARM_TOKEN, IMAGE_DIGEST, kubeletObjectIdFor, DEPLOYER_OBJECT_ID, EGRESS_IP, issuerUrlFor, principalIdFor, promiseOf, RecordedResource, TENANT_ID, tokenClaims,
} from "./mocks";
import { ProgramRun, runProgram, stackValues } from "./harness";
import { AZURE_POSTGRES_CA_BUNDLE } from "../lib/psqlHint";

const T = {
    rg: "azure-native:resources:ResourceGroup",
    cluster: "azure-native:containerservice:ManagedCluster",
    identity: "azure-native:managedidentity:UserAssignedIdentity",
    fic: "azure-native:managedidentity:FederatedIdentityCredential",
    server: "azure-native:dbforpostgresql:Server",
    admin: "azure-native:dbforpostgresql:AdministratorsMicrosoftEntra",
    rule: "azure-native:dbforpostgresql:FirewallRule",
    roleAssignment: "azure-native:authorization:RoleAssignment",
    pgProvider: "pulumi:providers:postgresql",
    k8sProvider: "pulumi:providers:kubernetes",
    pgRole: "postgresql:index/role:Role",
    label: "postgresql:index/securityLabel:SecurityLabel",
    database: "postgresql:index/database:Database",
    sa: "kubernetes:core/v1:ServiceAccount",
    deployment: "kubernetes:apps/v1:Deployment",
    job: "kubernetes:batch/v1:Job",
    registry: "azure-native:containerregistry:Registry",
    image: "docker-build:index:Image",
};

const THREE_APPS = [
    { name: "alpha" },
    { name: "bravo", namespace: "shop", serviceAccount: "bravo-api" },
    { name: "charlie", namespace: "warehouse", database: "charlie_data", image: "contoso.azurecr.io/charlie:2.0.1", replicas: 3 },
];

function envOf(deployment: RecordedResource): Record<string, string> {
    const env = deployment.inputs.spec.template.spec.containers[0].env as { name: string; value: string }[];
    return Object.fromEntries(env.map(e => [e.name, e.value]));
}

/** Every [path, value] leaf and branch of a resource's inputs. */
function entriesDeep(value: unknown, path = ""): [string, unknown][] {
    if (Array.isArray(value)) {
        return value.flatMap((v, i) => entriesDeep(v, `${path}[${i}]`));
    }
    if (value && typeof value === "object") {
        return Object.entries(value).flatMap(([k, v]) => [[`${path}.${k}`, v] as [string, unknown], ...entriesDeep(v, `${path}.${k}`)]);
    }
    return [];
}

/**
 * Inputs that could carry a password: any key naming one, except the switch that turns password auth off,
 * the image push credential — which must be exactly the short-lived token ACR's exchange minted from the
 * deployer's Entra token at deploy time (asserted separately), never a stored value — and the PostgreSQL
 * provider's, which must be exactly an Entra access token for PostgreSQL minted at deploy time.
 */
function isEntraPostgresToken(value: unknown): boolean {
    try {
        return typeof value === "string" && tokenClaims(value).aud === OSSRDBMS_RESOURCE;
    } catch {
        return false;
    }
}

function passwordInputs(r: RecordedResource): string[] {
    return entriesDeep(r.inputs)
        .filter(([key, value]) => /password/i.test(key)
            && !(key === ".authConfig.passwordAuth" && value === "Disabled")
            // The secret wrapper ({ <signature>: <secret sig>, value }) around exactly an Entra token for PostgreSQL.
            && !(r.type === T.pgProvider && key === ".password" && isEntraPostgresToken((value as { value?: unknown })?.value))
            && !(r.type === T.pgProvider && key === `.password.${pulumi.runtime.specialSigKey}` && value === pulumi.runtime.specialSecretSig)
            && !(r.type === T.pgProvider && key === ".password.value" && isEntraPostgresToken(value))
            && !(r.type === T.image && /^\.registries(\.value)?\[\d+\]\.password$/.test(key) && value === AcrExchangeDouble.REFRESH_TOKEN))
        .map(([key]) => key);
}

/** Tests of the role step from the runner (`pgRoleStep: provider`); job stacks are tested below. */
const providerStep = (stack: string) => (title: string, fn: () => void) => {
    if (stackValues(stack).pgRoleStep !== "job") { // a job stack has no provider, role or database resource to test
        it(title, fn);
    }
};

// The shared stacks as committed, and a person's own stack as README, "A stack of your own", makes it.
for (const stack of ["dev", "prod", "dev-ada"]) {
    describe(`program (${stack} stack): outputs flow from resource to resource`, () => {
        let run: ProgramRun;
        before(async () => {
            run = await runProgram({ stack });
        });
        const app = () => run.mocks.ofType(T.identity).find(i => i.name === "demo-identity-identity")!;

        it("the cluster's OIDC issuer URL is the issuer the federated credential trusts", async () => {
            const issuer = issuerUrlFor(`aks-pgwi-${stack}`);
            expect(await promiseOf(run.outputs.oidcIssuerUrl)).to.equal(issuer);
            expect(run.mocks.named(T.fic, "demo-identity-federation").inputs.issuer).to.equal(issuer);
        });

        it("the identity's clientId is the ServiceAccount's annotation", () => {
            const sa = run.mocks.named(T.sa, "demo-workload-serviceaccount");
            expect(sa.inputs.metadata.annotations["azure.workload.identity/client-id"]).to.equal(app().state.clientId);
            expect(app().state.clientId).to.equal(clientIdFor(`id-pgwi-${stack}-demo`));
        });

        providerStep(stack)("the identity's principalId is the oid in the role's pgaadauth label", () => {
            const label = run.mocks.named(T.label, "demo-postgres-entra-label");
            expect(label.inputs.label).to.equal(`aadauth,oid=${principalIdFor(`id-pgwi-${stack}-demo`)},type=service`);
        });

        it("the server FQDN is the pod's PGHOST", async () => {
            const fqdn = await promiseOf(run.outputs.postgresFqdn);
            expect(fqdn).to.equal(run.mocks.named(T.server, "postgres-server").state.fullyQualifiedDomainName);
            expect(envOf(run.mocks.named(T.deployment, "demo-workload-deployment")).PGHOST).to.equal(fqdn);
        });

        providerStep(stack)("the pod's PGUSER is the role bound to the identity, named after it", () => {
            const role = run.mocks.named(T.pgRole, "demo-postgres-role");
            expect(role.inputs.name).to.equal(app().state.name);
            expect(envOf(run.mocks.named(T.deployment, "demo-workload-deployment")).PGUSER).to.equal(role.inputs.name);
        });

        providerStep(stack)("the pod's PGDATABASE is the database the role owns", () => {
            const database = run.mocks.named(T.database, "demo-postgres-database");
            expect(database.inputs.owner).to.equal(app().state.name);
            expect(envOf(run.mocks.named(T.deployment, "demo-workload-deployment")).PGDATABASE).to.equal(database.inputs.name);
        });

        it("the federated credential trusts exactly the ServiceAccount the Deployment runs as", () => {
            const deployment = run.mocks.named(T.deployment, "demo-workload-deployment").inputs;
            const subject = `system:serviceaccount:${deployment.metadata.namespace}:${deployment.spec.template.spec.serviceAccountName}`;
            expect(run.mocks.named(T.fic, "demo-identity-federation").inputs.subject).to.equal(subject);
        });

        // A public server admits the cluster by its egress IP; a private one (prod) has no firewall at all (below).
        if (stackValues(stack).networkMode !== "private") {
            it("the cluster's egress IP is a database firewall rule", async () => {
                expect(await promiseOf(run.outputs.clusterEgressIp)).to.equal(EGRESS_IP);
                expect(run.mocks.named(T.rule, "postgres-fw-aks-egress").inputs).to.include({ startIpAddress: EGRESS_IP, endIpAddress: EGRESS_IP });
            });
        }

        providerStep(stack)("the role step connects with the administrator login the server was given, and a token for PostgreSQL", () => {
            const provider = run.mocks.named(T.pgProvider, "demo-postgres-admin").inputs;
            expect(provider.username).to.equal(stackValues(stack).pgAdminPrincipalName);
            expect(isEntraPostgresToken(provider.password.value)).to.equal(true);
            expect(run.mocks.named(T.admin, "postgres-entra-admin").inputs.principalName).to.equal(stackValues(stack).pgAdminPrincipalName);
        });

        it("the server accepts only Entra tokens from the deployer's tenant", () => {
            expect(run.mocks.named(T.server, "postgres-server").inputs.authConfig).to.deep.equal({
                activeDirectoryAuth: "Enabled", passwordAuth: "Disabled", tenantId: TENANT_ID,
            });
        });

        it("roles go only to the control plane, the kubelet, the apps and the configured deployers — never to whoever runs it", () => {
            const identities = run.mocks.ofType(T.identity).map(r => r.state.principalId);
            const kubelet = kubeletObjectIdFor(`aks-pgwi-${stack}`);
            const deployers = ((stackValues(stack).deployers ?? []) as { objectId: string }[]).map(d => d.objectId);
            for (const assignment of run.mocks.ofType(T.roleAssignment)) {
                expect([...identities, kubelet, ...deployers], assignment.name).to.include(assignment.inputs.principalId);
            }
            if (!deployers.includes(DEPLOYER_OBJECT_ID)) {
                expect(run.mocks.ofType(T.roleAssignment).map(r => r.inputs.principalId)).to.not.include(DEPLOYER_OBJECT_ID);
            }
        });

        it("every Kubernetes object is created through the cluster's own provider", () => {
            const k8sObjects = run.mocks.resources.filter(r => r.type.startsWith("kubernetes:"));
            expect(k8sObjects.length).to.be.greaterThan(0);
            for (const r of k8sObjects) {
                expect(r.provider, r.name).to.match(/AksCluster\$pulumi:providers:kubernetes::aks-k8s::/);
            }
        });

        it("no Kubernetes Secret exists and no resource is given a password", () => {
            expect(run.mocks.resources.filter(r => r.type === "kubernetes:core/v1:Secret")).to.have.length(0);
            for (const r of run.mocks.resources) {
                expect(passwordInputs(r), `${r.type} ${r.name}`).to.deep.equal([]);
            }
        });

        it("index.ts defines no resource besides the resource group: everything else belongs to a component", () => {
            const topLevel = run.mocks.resources
                .filter(r => r.type !== "pulumi:pulumi:Stack" && run.mocks.optionsOf(r.name).parent === undefined)
                .map(r => r.type);
            // The resource group itself only where the stack creates it (bootstrap/ made CI's).
            expect(topLevel.filter(t => !t.startsWith("aks-pg-passwordless:"))).to.deep.equal(stackValues(stack).createResourceGroup ? [T.rg] : []);
            expect(topLevel.filter(t => t.startsWith("aks-pg-passwordless:")).length).to.be.greaterThan(3);
        });

        it("the image built from app/ is what the Deployment and the check Job run, pinned by digest", async () => {
            const ref = await promiseOf(run.outputs.appImage) as string;
            const registry = run.mocks.named(T.registry, "app-image-registry").state;
            expect(ref).to.equal(`${registry.loginServer}/aks-pg-passwordless-app@${IMAGE_DIGEST}`);
            expect(run.mocks.named(T.deployment, "demo-workload-deployment").inputs.spec.template.spec.containers[0].image).to.equal(ref);
            expect(run.mocks.named(T.job, "demo-workload-check").inputs.spec.template.spec.containers[0].image).to.equal(ref);
        });

        it("the image is pushed with a token ACR minted from the deployer's Entra token, kept secret", () => {
            const registry = run.mocks.named(T.registry, "app-image-registry").state;
            expect(run.acr.requests).to.have.length(1);
            expect(run.acr.requests[0].url).to.equal(`https://${registry.loginServer}/oauth2/exchange`);
            expect(run.acr.requests[0].form).to.include({ grant_type: "access_token", service: registry.loginServer, tenant: TENANT_ID, access_token: DEPLOYER_ARM_TOKEN });
            const registries = run.mocks.named(T.image, "app-image-image").inputs.registries;
            expect(registries.value, "the registries input is a secret").to.deep.equal([
                { address: registry.loginServer, username: "00000000-0000-0000-0000-000000000000", password: AcrExchangeDouble.REFRESH_TOKEN },
            ]);
        });

        it("the cluster's kubelet identity may pull from the registry", () => {
            const pull = run.mocks.named(T.roleAssignment, "app-image-kubelet-pull").inputs;
            expect(pull.principalId).to.equal(kubeletObjectIdFor(`aks-pgwi-${stack}`));
            expect(pull.scope).to.equal(run.mocks.named(T.registry, "app-image-registry").id);
        });

        it("the check Job runs as the app's ServiceAccount with the identity label", () => {
            const job = run.mocks.named(T.job, "demo-workload-check").inputs;
            const deployment = run.mocks.named(T.deployment, "demo-workload-deployment").inputs;
            expect(job.metadata.namespace).to.equal(deployment.metadata.namespace);
            expect(job.spec.template.spec.serviceAccountName).to.equal(deployment.spec.template.spec.serviceAccountName);
            expect(job.spec.template.metadata.labels["azure.workload.identity/use"]).to.equal("true");
            expect(job.spec.template.spec.containers[0].args).to.deep.equal(["check"]);
            expect(envOf(run.mocks.named(T.job, "demo-workload-check"))).to.deep.equal(envOf(run.mocks.named(T.deployment, "demo-workload-deployment")));
        });

        it("exports the resource group, cluster, issuer, kubeconfig and PostgreSQL FQDN", async () => {
            expect(await promiseOf(run.outputs.resourceGroupName)).to.equal(`rg-pgwi-${stack}`);
            expect(await promiseOf(run.outputs.clusterName)).to.equal(`aks-pgwi-${stack}`);
            expect(await promiseOf(run.outputs.postgresFqdn)).to.match(new RegExp(`^psql-pgwi-${stack}-[a-z0-9]{6}\\.postgres\\.database\\.azure\\.com$`));
            expect(await pulumi.isSecret(run.outputs.kubeconfig)).to.equal(true);
        });

        it("exports per app the clientId, principalId, role, database, namespace and a psql hint for the admin", async () => {
            const out = (await promiseOf(run.outputs.appOutputs)).demo;
            const fqdn = await promiseOf(run.outputs.postgresFqdn);
            expect(out).to.include({
                clientId: clientIdFor(`id-pgwi-${stack}-demo`),
                principalId: principalIdFor(`id-pgwi-${stack}-demo`),
                role: `id-pgwi-${stack}-demo`,
                database: "demo",
                namespace: "demo",
            });
            expect(out.psql).to.contain(`host='${fqdn}'`).and.contain(`user='${stackValues(stack).pgAdminPrincipalName}'`)
                .and.contain(`sslmode=verify-full sslrootcert='${AZURE_POSTGRES_CA_BUNDLE}'`).and.contain(`rolname = 'id-pgwi-${stack}-demo'`)
                .and.contain("--resource-type oss-rdbms");
        });
    });
}

describe("program: stack differences", () => {
    let dev: ProgramRun;
    let prod: ProgramRun;
    before(async () => {
        dev = await runProgram({ stack: "dev" });
        prod = await runProgram({ stack: "prod" });
    });

    it("prod protects the PostgreSQL server and every app database", () => {
        expect(prod.mocks.optionsOf("postgres-server").protect).to.equal(true);
        for (const db of prod.mocks.ofType(T.database)) {
            expect(prod.mocks.optionsOf(db.name).protect, db.name).to.equal(true);
        }
    });

    it("dev protects nothing, so it can be torn down", () => {
        expect(dev.mocks.optionsOf("postgres-server").protect).to.equal(false);
        for (const db of dev.mocks.ofType(T.database)) {
            expect(dev.mocks.optionsOf(db.name).protect, db.name).to.equal(false);
        }
    });

    it("prod runs General Purpose PostgreSQL with zone-redundant HA and geo-redundant backups", () => {
        const inputs = prod.mocks.named(T.server, "postgres-server").inputs;
        expect(inputs.sku.tier).to.equal("GeneralPurpose");
        expect(inputs.highAvailability.mode).to.equal("ZoneRedundant");
        expect(inputs.backup.geoRedundantBackup).to.equal("Enabled");
    });

    it("dev runs Burstable PostgreSQL without HA", () => {
        const inputs = dev.mocks.named(T.server, "postgres-server").inputs;
        expect(inputs.sku).to.deep.equal({ name: "Standard_B1ms", tier: "Burstable" });
        expect(inputs.highAvailability.mode).to.equal("Disabled");
    });

    it("prod runs the Standard AKS tier with at least two nodes across zones", () => {
        const inputs = prod.mocks.named(T.cluster, "aks-cluster").inputs;
        expect(inputs.sku.tier).to.equal("Standard");
        expect(inputs.agentPoolProfiles[0].count).to.be.at.least(2);
        expect(inputs.agentPoolProfiles[0].availabilityZones.length).to.be.at.least(2);
    });

    it("dev runs the Free AKS tier with one node", () => {
        const inputs = dev.mocks.named(T.cluster, "aks-cluster").inputs;
        expect(inputs.sku.tier).to.equal("Free");
        expect(inputs.agentPoolProfiles[0].count).to.equal(1);
    });

    it("prod locks the PostgreSQL server against deletion outside Pulumi; dev does not", () => {
        const lock = prod.mocks.named("azure-native:authorization:ManagementLockByScope", "postgres-lock").inputs;
        expect(lock).to.include({ scope: prod.mocks.named(T.server, "postgres-server").id, level: "CanNotDelete" });
        expect(dev.mocks.ofType("azure-native:authorization:ManagementLockByScope")).to.have.length(0);
    });

    it("no identity carries a lock: it would block federated-credential changes", () => {
        const identityIds = prod.mocks.ofType(T.identity).map(i => i.id);
        for (const lock of prod.mocks.ofType("azure-native:authorization:ManagementLockByScope")) {
            expect(identityIds).to.not.include(lock.inputs.scope);
        }
    });

    it("prod sends Container Insights, the AKS audit log and PostgreSQL logs to one Log Analytics workspace", () => {
        const workspace = prod.mocks.named("azure-native:operationalinsights:Workspace", "logs-workspace");
        expect(prod.mocks.named(T.cluster, "aks-cluster").inputs.addonProfiles.omsagent.config.logAnalyticsWorkspaceResourceID).to.equal(workspace.id);
        const targets = prod.mocks.ofType("azure-native:monitor:DiagnosticSetting").map(d => [d.inputs.resourceUri, d.inputs.workspaceId]);
        expect(targets).to.have.deep.members([
            [prod.mocks.named(T.cluster, "aks-cluster").id, workspace.id],
            [prod.mocks.named(T.server, "postgres-server").id, workspace.id],
        ]);
        expect(dev.mocks.ofType("azure-native:operationalinsights:Workspace")).to.have.length(0);
    });

    it("prod restricts the Kubernetes API to the configured CIDRs", () => {
        expect(prod.mocks.named(T.cluster, "aks-cluster").inputs.apiServerAccessProfile.authorizedIPRanges)
            .to.deep.equal(stackValues("prod").aksApiServerAuthorizedCidrs);
    });

    it("prod keeps 14+ days of backups", () => {
        expect(prod.mocks.named(T.server, "postgres-server").inputs.backup.backupRetentionDays).to.be.at.least(14);
    });

    it("prod runs every app with 2+ replicas, spread across zones, with a PodDisruptionBudget; dev has none", () => {
        for (const d of prod.mocks.ofType(T.deployment)) {
            expect(d.inputs.spec.replicas, d.name).to.be.at.least(2);
            expect(d.inputs.spec.template.spec.topologySpreadConstraints[0].topologyKey).to.equal("topology.kubernetes.io/zone");
        }
        expect(prod.mocks.ofType("kubernetes:policy/v1:PodDisruptionBudget")).to.have.length(prod.mocks.ofType(T.deployment).length);
        expect(dev.mocks.ofType("kubernetes:policy/v1:PodDisruptionBudget")).to.have.length(0);
    });

    it("both stacks run the Azure Policy add-on", () => {
        for (const run of [dev, prod]) {
            expect(run.mocks.named(T.cluster, "aks-cluster").inputs.addonProfiles.azurepolicy.enabled).to.equal(true);
        }
    });

    it("prod's administrator is the configured Entra group; dev's its deploy identity", () => {
        expect(prod.mocks.named(T.admin, "postgres-entra-admin").inputs).to.include({
            objectId: stackValues("prod").pgAdminObjectId, principalType: "Group",
        });
        expect(dev.mocks.named(T.admin, "postgres-entra-admin").inputs).to.include({
            objectId: stackValues("dev").pgAdminObjectId, principalType: "ServicePrincipal",
        });
    });
});

describe("program: three apps get three independent chains", () => {
    let run: ProgramRun;
    before(async () => {
        run = await runProgram({ stack: "dev", overrides: { apps: THREE_APPS } });
    });

    for (const app of THREE_APPS) {
        it(`${app.name}: its credential trusts its own ServiceAccount, and its pods run as it`, () => {
            const fic = run.mocks.named(T.fic, `${app.name}-identity-federation`);
            const deployment = run.mocks.named(T.deployment, `${app.name}-workload-deployment`).inputs;
            expect(fic.inputs.resourceName).to.equal(`id-pgwi-dev-${app.name}`);
            expect(fic.inputs.subject).to.equal(`system:serviceaccount:${deployment.metadata.namespace}:${deployment.spec.template.spec.serviceAccountName}`);
            expect(deployment.metadata.namespace).to.equal(app.namespace ?? app.name);
            expect(deployment.spec.template.spec.serviceAccountName).to.equal(app.serviceAccount ?? app.name);
        });

        it(`${app.name}: its ServiceAccount, role label and PGUSER all point at its own identity`, () => {
            const identity = `id-pgwi-dev-${app.name}`;
            const sa = run.mocks.named(T.sa, `${app.name}-workload-serviceaccount`);
            expect(sa.inputs.metadata.annotations["azure.workload.identity/client-id"]).to.equal(clientIdFor(identity));
            expect(run.mocks.named(T.label, `${app.name}-postgres-entra-label`).inputs.label).to.contain(`oid=${principalIdFor(identity)},`);
            const env = envOf(run.mocks.named(T.deployment, `${app.name}-workload-deployment`));
            expect(env.PGUSER).to.equal(identity);
            expect(env.PGDATABASE).to.equal(app.database ?? app.name);
        });
    }

    it("each app has its own identity, credential, role, database and Deployment", () => {
        for (const type of [T.identity, T.fic, T.pgRole, T.label, T.database, T.deployment, T.sa]) {
            const count = type === T.identity ? 4 : 3; // + the cluster's control-plane identity
            expect(run.mocks.ofType(type), type).to.have.length(count);
        }
        const clientIds = THREE_APPS.map(a => run.mocks.named(T.identity, `${a.name}-identity-identity`).state.clientId);
        expect(new Set(clientIds).size).to.equal(3);
    });

    it("each app runs in a namespace of its own", () => {
        const namespaces = run.mocks.ofType("kubernetes:core/v1:Namespace").map(n => n.inputs.metadata.name);
        expect(namespaces).to.have.members(["alpha", "shop", "warehouse"]);
    });
});

describe("program: an app with profile readwrite runs its migrations as an identity of its own", () => {
    let run: ProgramRun;
    before(async () => {
        run = await runProgram({ stack: "dev", overrides: { apps: [{ name: "shop", profile: "readwrite", image: "contoso.azurecr.io/shop:1.4.0" }] } });
    });

    it("the migration identity's credential trusts the ServiceAccount <serviceAccount>-migrate, not the app's", () => {
        const fic = run.mocks.named(T.fic, "shop-migrate-identity-federation");
        expect(fic.inputs.resourceName).to.equal("id-pgwi-dev-shop-migrate");
        expect(fic.inputs.subject).to.equal("system:serviceaccount:shop:shop-migrate");
    });

    it("the migration identity owns the database; the app's identity is the readwrite role the pods log in as", () => {
        const migrate = "id-pgwi-dev-shop-migrate";
        expect(run.mocks.named(T.database, "shop-postgres-database").inputs.owner).to.equal(migrate);
        expect(run.mocks.named(T.label, "shop-postgres-migrator-entra-label").inputs.label).to.contain(`oid=${principalIdFor(migrate)},`);
        expect(envOf(run.mocks.named(T.deployment, "shop-workload-deployment")).PGUSER).to.equal("id-pgwi-dev-shop");
    });

    it("the app's outputs name the migration identity's client id, role and ServiceAccount", async () => {
        const outputs = await promiseOf(run.outputs.appOutputs as pulumi.Output<Record<string, { migration?: Record<string, string> }>>);
        expect(outputs.shop.migration).to.include({
            clientId: clientIdFor("id-pgwi-dev-shop-migrate"), role: "id-pgwi-dev-shop-migrate", serviceAccount: "shop-migrate",
        });
    });
});

describe("program: a resource group made by bootstrap/", () => {
    it("is looked up, not created, and everything lands in it", async () => {
        const run = await runProgram({ stack: "prod", overrides: { createResourceGroup: false } });
        expect(run.mocks.ofType(T.rg)).to.have.length(0);
        expect(run.mocks.calls.filter(c => c.token === "azure-native:resources:getResourceGroup").map(c => c.inputs))
            .to.deep.equal([{ resourceGroupName: "rg-pgwi-prod" }]);
        expect(run.mocks.named(T.cluster, "aks-cluster").inputs.resourceGroupName).to.equal("rg-pgwi-prod");
        expect(await promiseOf(run.outputs.resourceGroupName)).to.equal("rg-pgwi-prod");
    });
});

describe("program: an app with an image of its own", () => {
    it("runs that image, and no registry is created or built when no app needs one", async () => {
        const image = "contoso.azurecr.io/orders:1.4.2";
        const run = await runProgram({ stack: "dev", overrides: { apps: [{ name: "orders", image }] } });
        expect(run.mocks.named(T.deployment, "orders-workload-deployment").inputs.spec.template.spec.containers[0].image).to.equal(image);
        expect(run.mocks.named(T.job, "orders-workload-check").inputs.spec.template.spec.containers[0].image).to.equal(image);
        expect(run.mocks.ofType(T.registry)).to.have.length(0);
        expect(run.mocks.ofType(T.image)).to.have.length(0);
        expect(run.acr.requests).to.have.length(0);
    });
});

describe("program: a deploy waits only on true data dependencies", () => {
    it("the cluster and the PostgreSQL server provision at the same time", async () => {
        const { mocks } = await runProgram({
            stack: "dev",
            delays: type => (type === T.cluster || type === T.server ? 300 : 0),
        });
        const cluster = mocks.named(T.cluster, "aks-cluster");
        const server = mocks.named(T.server, "postgres-server");
        expect(server.requestedAt, "server starts before the cluster is done").to.be.below(cluster.createdAt);
        expect(cluster.requestedAt, "cluster starts before the server is done").to.be.below(server.createdAt);
    });

    it("one app's slow database step does not hold back another app's workload", async () => {
        const { mocks } = await runProgram({
            stack: "dev",
            overrides: { apps: THREE_APPS },
            delays: (type, name) => (type === T.pgRole && name === "alpha-postgres-role" ? 400 : 0),
        });
        const alphaRole = mocks.named(T.pgRole, "alpha-postgres-role");
        for (const other of ["bravo", "charlie"]) {
            expect(mocks.named(T.deployment, `${other}-workload-deployment`).requestedAt, other).to.be.below(alphaRole.createdAt);
        }
    });
});

describe("program: bad config stops the program before any resource", () => {
    it("fails at start with the config message and registers nothing", async () => {
        const mocks = new AzureMocks();
        let error: unknown;
        try {
            await runProgram({ stack: "dev", overrides: { pgSkuTier: "Basic" }, mocks });
        } catch (e) {
            error = e;
        }
        // index.ts loads its own copy of config/, so compare by name rather than by class identity.
        expect((error as Error).name).to.equal(ConfigError.name);
        expect((error as Error).message).to.contain('"aks-pg-passwordless:pgSkuTier" = "Basic"');
        expect(mocks.resources.filter(r => r.type !== "pulumi:pulumi:Stack")).to.deep.equal([]);
    });
});

// D3: a stack's resources never depend on who runs the program. Today's shape keyed the Entra admin, the
// cluster-admin and the AcrPush assignments on getClientConfig, so a preview by CI's preview identity showed
// replacements on an unchanged main, and two colleagues fought over one stack.
describe("program: a stack does not depend on who runs it", () => {
    const SOMEONE_ELSE = { objectId: "9c1d2e3f-4a5b-4c6d-8e7f-0a1b2c3d4e5f", clientId: "1e2d3c4b-5a69-4788-9a0b-c1d2e3f4a5b6" };

    /** Every resource's type, name and inputs, leaving out the credentials providers use (D3 allows those to differ). */
    function planOf(run: ProgramRun): string[] {
        return run.mocks.resources.map(r => {
            const inputs = { ...r.inputs };
            if (r.type === T.k8sProvider) delete inputs.kubeconfig;
            if (r.type === T.pgProvider) delete inputs.password;
            return `${r.type}::${r.name}::${JSON.stringify(inputs)}`;
        }).sort();
    }

    async function runAs(stack: string, runner: typeof SOMEONE_ELSE | undefined, preview: boolean): Promise<ProgramRun> {
        const mocks = new AzureMocks();
        if (runner) mocks.runner = runner;
        return runProgram({ stack, preview, mocks });
    }

    it("dev: a preview by another identity (CI's preview identity) plans exactly the resources the deployer's does", async () => {
        const mine = await runAs("dev", undefined, true);
        const theirs = await runAs("dev", SOMEONE_ELSE, true);
        expect(planOf(theirs)).to.deep.equal(planOf(mine));
    });

    it("prod: an up by another member of the administrator group plans exactly the same resources", async () => {
        const mine = await runAs("prod", undefined, false);
        const theirs = await runAs("prod", SOMEONE_ELSE, false);
        expect(planOf(theirs)).to.deep.equal(planOf(mine));
    });
});

// The PostgreSQL provider logs in as the configured Entra admin with the runner's own token: a runner that is not
// that admin would fail with 28P01 halfway through a deploy. Point 8: fail before anything changes instead.
describe("program: the identity running up must be able to log in as the PostgreSQL administrator", () => {
    const INTRUDER = { objectId: "0f9e8d7c-6b5a-4948-8372-6f5e4d3c2b1a", clientId: "7a6b5c4d-3e2f-4a1b-9c8d-7e6f5a4b3c2d" };

    it("an up by someone other than a user administrator fails at start, naming both, and registers nothing", async () => {
        const mocks = new AzureMocks();
        mocks.runner = INTRUDER;
        let error: unknown;
        try {
            await runProgram({ stack: "dev", mocks });
        } catch (e) {
            error = e;
        }
        expect((error as Error)?.message).to.contain(`runs as object id ${INTRUDER.objectId}`)
            .and.to.contain(`"${stackValues("dev").pgAdminPrincipalName}" (object id ${stackValues("dev").pgAdminObjectId})`);
        expect(mocks.resources.filter(r => r.type !== "pulumi:pulumi:Stack")).to.deep.equal([]);
    });

    it("a preview by that identity (read-only CI) still works", async () => {
        const mocks = new AzureMocks();
        mocks.runner = INTRUDER;
        const run = await runProgram({ stack: "dev", preview: true, mocks });
        expect(run.mocks.ofType(T.cluster)).to.have.length(1);
    });

    it("with a group administrator (prod) any identity may run: membership needs Microsoft Graph, so it is not checked", async () => {
        const mocks = new AzureMocks();
        mocks.runner = INTRUDER;
        const run = await runProgram({ stack: "prod", mocks });
        expect(run.mocks.ofType(T.server)).to.have.length(1);
    });
});

describe("program: a newcomer's mistake stops the program at start with one clear message", () => {
    const MISTAKES: [string, Record<string, unknown>, string][] = [
        ["a typo'd key", { pgSkuname: "Standard_B2s" },
            'Invalid config "aks-pg-passwordless:pgSkuname" = "Standard_B2s": is not a setting of this program; did you mean "pgSkuName"?'],
        ["a private CIDR", { pgAllowedCidrs: ["192.168.1.10/32"] },
            'Invalid config "aks-pg-passwordless:pgAllowedCidrs[0]" = "192.168.1.10/32": overlaps 192.168.0.0/16 (private (RFC 1918)), which is never a public source address'],
    ];
    for (const [what, overrides, message] of MISTAKES) {
        it(`${what}: one line naming key, value and what is allowed, and no resource registered`, async () => {
            const mocks = new AzureMocks();
            let error: unknown;
            try {
                await runProgram({ stack: "dev-ada", overrides, mocks });
            } catch (e) {
                error = e;
            }
            expect((error as Error).name).to.equal(ConfigError.name);
            expect((error as Error).message.split("\n"), "one line").to.have.length(1);
            expect((error as Error).message).to.contain(message);
            expect(mocks.resources.filter(r => r.type !== "pulumi:pulumi:Stack")).to.deep.equal([]);
        });
    }

    it("keys of other namespaces belong to their providers and are not refused", async () => {
        const run = await runProgram({ stack: "dev-ada", extraConfig: { "azure-native:location": "westeurope", "kubernetes:enableServerSideApply": "true" } });
        expect(run.mocks.ofType(T.cluster)).to.have.length(1);
    });
});

describe("program: apps sharing a namespace", () => {
    const APPS = [{ name: "api", namespace: "shop" }, { name: "worker", namespace: "shop" }, { name: "audit" }];
    let run: ProgramRun;
    before(async () => {
        run = await runProgram({ stack: "dev", overrides: { apps: APPS } });
    });

    it("creates each namespace once, with one default-deny NetworkPolicy", () => {
        const names = run.mocks.ofType("kubernetes:core/v1:Namespace").map(n => n.inputs.metadata.name);
        expect(names).to.have.members(["shop", "audit"]).and.to.have.length(2);
        const policies = run.mocks.ofType("kubernetes:networking.k8s.io/v1:NetworkPolicy").map(p => p.inputs.metadata.namespace);
        expect(policies).to.have.members(["shop", "audit"]).and.to.have.length(2);
    });

    it("each app runs in it as its own ServiceAccount, which its own credential trusts", () => {
        const subjects = APPS.map(app => run.mocks.named(T.fic, `${app.name}-identity-federation`).inputs.subject);
        expect(subjects).to.deep.equal(["system:serviceaccount:shop:api", "system:serviceaccount:shop:worker", "system:serviceaccount:audit:audit"]);
        for (const app of APPS) {
            const deployment = run.mocks.named(T.deployment, `${app.name}-workload-deployment`).inputs;
            expect(`system:serviceaccount:${deployment.metadata.namespace}:${deployment.spec.template.spec.serviceAccountName}`)
                .to.equal(run.mocks.named(T.fic, `${app.name}-identity-federation`).inputs.subject);
        }
    });

    it("a stack deployed before namespaces could be shared keeps its namespace: the first app's old objects are aliases", () => {
        // (The Kubernetes SDK adds type aliases of its own, without a name.)
        const aliasNames = (name: string) => (run.mocks.optionsOf(name).aliases as { name?: string }[]).map(a => a.name).filter(Boolean);
        expect(aliasNames("shop-namespace-namespace")).to.deep.equal(["api-workload-namespace"]);
        expect(aliasNames("shop-namespace-network-policy")).to.deep.equal(["api-workload-network-policy"]);
        expect(aliasNames("audit-namespace-namespace")).to.deep.equal(["audit-workload-namespace"]);
    });

    it("the aliases name the old parent exactly: the first app's AppWorkload", async () => {
        const alias = (run.mocks.optionsOf("shop-namespace-namespace").aliases as { name?: string; parent?: pulumi.Input<string> }[])
            .find(a => a.name === "api-workload-namespace")!;
        const workload = run.mocks.optionsOf("api-workload-serviceaccount").parent as pulumi.Resource;
        // The engine leaves the root stack out of URNs (pulumi/pulumi#653); the mocks keep it (pulumi/pulumi#8637).
        const engineUrn = (await promiseOf(workload.urn) as string).replace("::pulumi:pulumi:Stack$", "::");
        expect(await promiseOf(pulumi.output(alias.parent!))).to.equal(engineUrn);
    });
});

describe("program: the psql hint a user copies", () => {
    const GROUP = { pgAdminObjectId: "3f2b8a51-6c1e-4d7a-9b0e-2c4d5e6f7a8b", pgAdminPrincipalType: "Group", pgAdminPrincipalName: "PG Admins (Prod) O'Neil $HOME" };
    let hint: string;
    let fqdn: string;
    before(async () => {
        const run = await runProgram({ stack: "dev-ada", overrides: GROUP });
        hint = (await promiseOf(run.outputs.appOutputs)).demo.psql;
        fqdn = await promiseOf(run.outputs.postgresFqdn);
    });

    /** What bash hands `psql` when the hint is pasted (psql and az replaced by functions that print). */
    function argvOf(command: string): string[] {
        const script = `psql() { printf '%s\\0' "$@"; }; az() { printf token; }; ${command}`;
        const out = spawnSync("bash", ["-c", script], { encoding: "utf8" });
        expect(out.status, out.stderr).to.equal(0);
        return out.stdout.split("\0").slice(0, -1);
    }

    it("logs in as an administrator whose name has spaces, capitals, quotes and a $, quoted for the shell and libpq", () => {
        const [conninfo] = argvOf(hint);
        expect(conninfo).to.contain(String.raw`user='PG Admins (Prod) O\'Neil $HOME'`);
    });

    it("verifies the server certificate and host name against the Azure CA bundle", () => {
        const [conninfo] = argvOf(hint);
        expect(conninfo).to.equal(`host='${fqdn}' port=5432 dbname=postgres user='PG Admins (Prod) O\\'Neil $HOME' sslmode=verify-full sslrootcert='${AZURE_POSTGRES_CA_BUNDLE}'`);
    });

    it("asks for the app's role as a SQL string literal", () => {
        expect(argvOf(hint).slice(1)).to.deep.equal(["-c", "SELECT * FROM pgaadauth_list_principals(false) WHERE rolname = 'id-pgwi-dev-ada-demo'"]);
    });
});

describe("program: preview", () => {
    it("registers the same resources under `pulumi preview` as under `pulumi up`", async () => {
        const up = await runProgram({ stack: "dev" });
        const preview = await runProgram({ stack: "dev", preview: true });
        const names = (r: ProgramRun) => r.mocks.resources.map(x => `${x.type}::${x.name}`).sort();
        expect(names(preview)).to.deep.equal(names(up));
    });

    it("a preview neither builds the image nor asks ACR for a token", async () => {
        const preview = await runProgram({ stack: "dev", preview: true });
        expect(preview.mocks.named(T.image, "app-image-image").inputs.buildOnPreview).to.equal(false);
        expect(preview.acr.requests).to.have.length(0);
    });
});

// Components call super(type, name, {}, opts): passing args would make the engine await every input before any
// child registers, so an app's identity, registry and image build would wait for the whole AKS cluster.
describe("program: a deploy waits only on real dependencies", () => {
    const CLUSTER_MS = 600;
    let run: ProgramRun;
    before(async () => {
        run = await runProgram({ stack: "dev", delays: type => (type === T.cluster ? CLUSTER_MS : 0) });
    });

    for (const [what, type, name] of [
        ["the app's managed identity", T.identity, "demo-identity-identity"],
        ["the registry", T.registry, "app-image-registry"],
        ["the image build", T.image, "app-image-image"],
        ["the PostgreSQL server", T.server, "postgres-server"],
    ] as const) {
        it(`${what} is requested before the (slow) cluster finishes`, () => {
            expect(run.mocks.named(type, name).requestedAt).to.be.below(run.mocks.named(T.cluster, "aks-cluster").createdAt - CLUSTER_MS / 2);
        });
    }

    it("the federated credential, which needs the cluster's issuer, waits for the cluster", () => {
        expect(run.mocks.named(T.fic, "demo-identity-federation").requestedAt).to.be.at.least(run.mocks.named(T.cluster, "aks-cluster").createdAt);
    });
});

// Issue 13 acceptance, as prod's committed stack file evaluates: the database only through the VNet.
describe("program: prod is private (Pulumi.prod.yaml as committed)", () => {
    let prod: ProgramRun;
    let dev: ProgramRun;
    before(async () => {
        prod = await runProgram({ stack: "prod" });
        dev = await runProgram({ stack: "dev" });
    });
    const VNET = "azure-native:network:VirtualNetwork";
    const ZONE = "azure-native:privatedns:PrivateZone";
    const LINK = "azure-native:privatedns:VirtualNetworkLink";

    it("the PostgreSQL server has no public endpoint", () => {
        expect(prod.mocks.named(T.server, "postgres-server").inputs.network.publicNetworkAccess).to.equal("Disabled");
    });

    it("there is no firewall rule", () => {
        expect(prod.mocks.ofType(T.rule)).to.deep.equal([]);
    });

    it("the server is in the VNet's subnet delegated to flexible servers", () => {
        const vnet = prod.mocks.named(VNET, "network-vnet");
        const server = prod.mocks.named(T.server, "postgres-server").inputs.network;
        const subnet = (vnet.inputs.subnets as { name: string; delegations?: { serviceName: string }[] }[])
            .find(s => server.delegatedSubnetResourceId === `${vnet.id}/subnets/${s.name}`);
        expect(subnet?.delegations?.map(d => d.serviceName)).to.deep.equal(["Microsoft.DBforPostgreSQL/flexibleServers"]);
    });

    it("the server's private DNS zone is <prefix>.private.postgres.database.azure.com, linked to that VNet", () => {
        const zoneId = prod.mocks.named(T.server, "postgres-server").inputs.network.privateDnsZoneArmResourceId;
        const zone = prod.mocks.ofType(ZONE).find(z => z.id === zoneId)!;
        expect(zone.inputs.privateZoneName).to.equal("psql-pgwi-prod.private.postgres.database.azure.com");
        const link = prod.mocks.ofType(LINK).find(l => l.inputs.privateZoneName === zone.inputs.privateZoneName)!;
        expect(link.inputs.virtualNetwork.id).to.equal(prod.mocks.named(VNET, "network-vnet").id);
    });

    it("the nodes are in the VNet", () => {
        const vnetId = prod.mocks.named(VNET, "network-vnet").id;
        const pools = prod.mocks.named(T.cluster, "aks-cluster").inputs.agentPoolProfiles as { vnetSubnetID: string }[];
        expect(pools.map(p => p.vnetSubnetID)).to.deep.equal([`${vnetId}/subnets/snet-aks-nodes`]);
    });

    it("pods reach PostgreSQL only in its subnet", () => {
        const egress = prod.mocks.named("kubernetes:networking.k8s.io/v1:NetworkPolicy", "demo-namespace-network-policy").inputs.spec.egress as
            { to: { ipBlock?: { cidr: string } }[]; ports: { port: number }[] }[];
        expect(egress.find(rule => rule.ports.some(p => p.port === 5432))!.to).to.deep.equal([{ ipBlock: { cidr: stackValues("prod").networkPostgresSubnet } }]);
    });

    it("the registry has no public access and a private endpoint", () => {
        expect(prod.mocks.named(T.registry, "app-image-registry").inputs).to.include({ publicNetworkAccess: "Disabled", zoneRedundancy: "Enabled" });
        const registry = prod.mocks.named(T.registry, "app-image-registry");
        expect(prod.mocks.ofType("azure-native:network:PrivateEndpoint")
            .filter(pe => pe.inputs.privateLinkServiceConnections.some((c: { privateLinkServiceId: string }) => c.privateLinkServiceId === registry.id))
            .map(pe => pe.name)).to.deep.equal(["app-image-registry-endpoint"]);
    });

    it("the API server is restricted to the committed runner ranges and the nodes encrypt at host", () => {
        const cluster = prod.mocks.named(T.cluster, "aks-cluster").inputs;
        expect(cluster.apiServerAccessProfile.authorizedIPRanges).to.deep.equal(stackValues("prod").aksApiServerAuthorizedCidrs);
        expect(cluster.agentPoolProfiles[0].enableEncryptionAtHost).to.equal(true);
    });

    it("dev stays public: no VNet, firewall rules as before", () => {
        expect(dev.mocks.ofType(VNET)).to.deep.equal([]);
        expect(dev.mocks.named(T.server, "postgres-server").inputs.network).to.deep.equal({ publicNetworkAccess: "Enabled" });
        expect(dev.mocks.ofType(T.rule).length).to.be.greaterThan(0);
    });
});

// Issue 13 / D1: prod's server is private, so nothing from outside the VNet connects to it; its roles are made by a Job
// in the cluster, as the provisioning identity, which `pulumi up` waits for.
describe("program (prod stack): roles made inside the network", () => {
    let run: ProgramRun;
    const statementsOf = () => JSON.parse(run.mocks.ofType("kubernetes:core/v1:ConfigMap").find(c => c.name === "pg-roles-statements")!.inputs.data["statements.json"]) as { sql: string; resource?: string }[];
    before(async () => {
        run = await runProgram({ stack: "prod" });
    });

    it("prod's committed stack file sets the in-cluster role step", () => {
        expect(stackValues("prod").pgRoleStep).to.equal("job");
    });

    it("has no postgresql provider and no postgresql resource: nothing connects to the database from outside", () => {
        expect(run.mocks.resources.filter(r => r.type === T.pgProvider || r.type.startsWith("postgresql:"))).to.deep.equal([]);
    });

    it("the provisioning Job runs as exactly the ServiceAccount the provisioning identity trusts", async () => {
        const job = run.mocks.ofType(T.job).find(j => j.name === "pg-roles-job")!.inputs;
        const subject = `system:serviceaccount:${job.metadata.namespace}:${job.spec.template.spec.serviceAccountName}`;
        expect(run.mocks.named(T.fic, "pg-provisioner-identity-federation").inputs.subject).to.equal(subject);
        expect(await promiseOf(run.outputs.provisioningSubject)).to.equal(subject);
    });

    it("the provisioning identity is one of the server's Entra administrators, as a service principal", () => {
        const identity = run.mocks.named(T.identity, "pg-provisioner-identity-identity");
        const admin = run.mocks.named(T.admin, "postgres-entra-admin-2").inputs;
        expect(admin).to.include({ objectId: identity.state.principalId, principalName: identity.state.name, principalType: "ServicePrincipal" });
    });

    it("the Job's statements bind the app's role to its identity's principal id and create the app's database", () => {
        const sql = statementsOf().map(s => s.sql).join("\n");
        expect(sql).to.contain(`aadauth,oid=${principalIdFor("id-pgwi-prod-demo")},type=service`);
        expect(sql).to.match(/CREATE DATABASE "demo"/);
    });

    it("the Job logs in as the provisioning identity's role, over TLS it verifies", () => {
        const env = Object.fromEntries((run.mocks.ofType(T.job).find(j => j.name === "pg-roles-job")!.inputs.spec.template.spec.containers[0].env as { name: string; value?: string }[])
            .map(e => [e.name, e.value]));
        expect(env.PGUSER).to.equal(run.mocks.named(T.identity, "pg-provisioner-identity-identity").state.name);
        expect(env.PGSSLMODE).to.equal("verify-full");
    });

    it("the Job starts only after the server's admins and the provisioning identity's credential exist, and waits for nothing else of the server", () => {
        const names = ((run.mocks.optionsOf("pg-roles-job").dependsOn ?? []) as pulumi.Resource[]).map(d => (d as unknown as { __name?: string }).__name);
        expect(names).to.have.members(["postgres-entra-admin", "postgres-entra-admin-2", "pg-provisioner-identity"]);
        const provisioningChildren = run.mocks.registrations.filter(r => r.parent === "pg-provisioner-identity").map(r => r.name);
        expect(provisioningChildren).to.include("pg-provisioner-identity-federation");
    });

    it("up waits for the Job (no skipAwait), and the app's Deployment waits for it", () => {
        const job = run.mocks.ofType(T.job).find(j => j.name === "pg-roles-job")!.inputs;
        expect(job.metadata.annotations ?? {}).to.not.have.property("pulumi.com/skipAwait");
        const dependsOn = (run.mocks.optionsOf("demo-workload").dependsOn ?? []) as pulumi.Resource[];
        expect(dependsOn.map(d => (d as unknown as { __name?: string }).__name)).to.include("pg-roles");
    });

    it("the app's pods log in as the identity's own role, in the app's database", () => {
        const env = envOf(run.mocks.named(T.deployment, "demo-workload-deployment"));
        expect(env.PGUSER).to.equal(run.mocks.named(T.identity, "demo-identity-identity").state.name);
        expect(env.PGDATABASE).to.equal("demo");
    });
});
