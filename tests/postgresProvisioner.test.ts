import { expect } from "chai";
import * as k8s from "@pulumi/kubernetes";
import * as batch from "kubernetes-models/batch/v1";
import * as networking from "kubernetes-models/networking.k8s.io/v1";
import * as core from "kubernetes-models/v1";
import {
    PostgresProvisioner, PostgresProvisionerArgs, PROVISIONER_NAMESPACE, PROVISIONER_RUN_AS_ID, PROVISIONER_SERVICE_ACCOUNT, STATEMENTS_KEY, STATEMENTS_MOUNT,
    statementsFile,
} from "../components/postgresProvisioner";
import { RUN_AS_ID } from "../components/appWorkload";
import { serviceAccountSubject, WorkloadIdentity, WorkloadIdentityArgs } from "../components/workloadIdentity";
import { appDatabaseStatements } from "../lib/postgresRoleSql";
import { CLIENT_ID_ANNOTATION, isCredentialEnvName, POD_SECURITY_LABELS, USE_LABEL } from "../policy/rules";
import { DEFAULT_STATEMENTS_FILE, parseStatements } from "../app/src/provision";
import { resourcePolicies, stackPolicies } from "../policy/policies";
import { packViolations } from "../policy/tests/run";
import { clientIdFor, principalIdFor, promiseOf, RecordedResource, TENANT_ID } from "./mocks";
import { underMocks } from "./harness";

const NS = "kubernetes:core/v1:Namespace";
const SA = "kubernetes:core/v1:ServiceAccount";
const CM = "kubernetes:core/v1:ConfigMap";
const NETPOL = "kubernetes:networking.k8s.io/v1:NetworkPolicy";
const JOB = "kubernetes:batch/v1:Job";
const FQDN = "psql-prod-x7k2q9.postgres.database.azure.com";
const PROVISIONER = "id-prod-pg-provisioner";

const orders = appDatabaseStatements({ roleName: "id-prod-orders", principalId: principalIdFor("id-prod-orders"), databaseName: "orders" });

const baseArgs: PostgresProvisionerArgs = {
    statements: orders,
    image: "contoso.azurecr.io/app:1.4.2",
    clientId: clientIdFor(PROVISIONER),
    tenantId: TENANT_ID,
    pgHost: FQDN,
    adminRole: PROVISIONER,
};

function build(overrides: Partial<PostgresProvisionerArgs> = {}, preview = false) {
    return underMocks("prod", () => {
        const provider = new k8s.Provider("cluster-k8s", { kubeconfig: "{}" });
        return new PostgresProvisioner("roles", { ...baseArgs, ...overrides }, { providers: [provider] });
    }, { preview });
}

async function jobNameWith(overrides: Partial<PostgresProvisionerArgs>): Promise<string> {
    const { result } = await build(overrides);
    return promiseOf(result.jobName);
}

function kubernetesObjects(resources: RecordedResource[]): RecordedResource[] {
    return resources.filter(r => r.type.startsWith("kubernetes:") && r.type !== "pulumi:providers:kubernetes");
}

describe("PostgresProvisioner", () => {
    it("the Job runs as exactly the ServiceAccount whose subject the provisioning identity trusts", async () => {
        const { mocks, result } = await underMocks("prod", () => {
            const issuer = "https://westeurope.oic.prod-aks.azure.com/72f988bf-86f1-41af-91ab-2d7cd011db47/6dae42f8-4368-4678-94ff-3960e28e3630/";
            // The ServiceAccount given both ways WorkloadIdentity has taken it (flat on this branch's base,
            // `serviceAccount: { namespace, name, issuers }` on main since daf1a33), so the test holds across the merge.
            const identityArgs = {
                resourceGroupName: "rg-prod", location: "westeurope", identityName: PROVISIONER, subscriptionId: "sub",
                namespace: PROVISIONER_NAMESPACE, serviceAccountName: PROVISIONER_SERVICE_ACCOUNT, oidcIssuerUrl: issuer,
                serviceAccount: { namespace: PROVISIONER_NAMESPACE, name: PROVISIONER_SERVICE_ACCOUNT, issuers: [issuer] },
            };
            const identity = new WorkloadIdentity("provisioner-identity", identityArgs as WorkloadIdentityArgs);
            const provider = new k8s.Provider("cluster-k8s", { kubeconfig: "{}" });
            const provisioner = new PostgresProvisioner("roles", { ...baseArgs, clientId: identity.clientId, tenantId: identity.tenantId }, { providers: [provider] });
            return { identity, provisioner };
        });
        const job = mocks.named(JOB, "roles-job").inputs;
        const sa = mocks.named(SA, "roles-serviceaccount").inputs.metadata;
        expect(job.spec.template.spec.serviceAccountName).to.equal(sa.name);
        expect(job.metadata.namespace).to.equal(sa.namespace);
        const trusted = mocks.ofType("azure-native:managedidentity:FederatedIdentityCredential").map(f => f.inputs.subject);
        expect(trusted).to.deep.equal([serviceAccountSubject(sa.namespace, sa.name)]);
        expect(await promiseOf(result.provisioner.federatedSubject)).to.equal(trusted[0]);
        expect(sa.annotations[CLIENT_ID_ANNOTATION]).to.equal(await promiseOf(result.identity.clientId));
        expect(job.spec.template.metadata.labels[USE_LABEL]).to.equal("true");
    });

    it("exports the namespace, ServiceAccount and subject it made", async () => {
        const { result } = await build({ namespace: "db-roles", serviceAccountName: "roles" });
        expect(await promiseOf(result.namespace)).to.equal("db-roles");
        expect(await promiseOf(result.serviceAccountName)).to.equal("roles");
        expect(await promiseOf(result.federatedSubject)).to.equal("system:serviceaccount:db-roles:roles");
    });

    it("the Job's name changes when the SQL changes, and not otherwise", async () => {
        const first = await jobNameWith({});
        expect(first).to.match(/^pg-provision-[0-9a-f]{10}$/);
        expect(await jobNameWith({}), "same inputs, same Job").to.equal(first);
        expect(await jobNameWith({ statements: orders.map(s => ({ ...s })) }), "equal statements, new objects").to.equal(first);
        expect(await jobNameWith({ databaseCidr: "10.42.2.0/24" }), "a NetworkPolicy change leaves the Job alone").to.equal(first);
        const billing = appDatabaseStatements({ roleName: "id-prod-billing", principalId: principalIdFor("id-prod-billing"), databaseName: "billing" });
        expect(await jobNameWith({ statements: [...orders, ...billing] }), "another app's SQL").to.not.equal(first);
        const relabelled = appDatabaseStatements({ roleName: "id-prod-orders", principalId: principalIdFor("id-prod-orders-recreated"), databaseName: "orders" });
        expect(await jobNameWith({ statements: relabelled }), "a new principal id").to.not.equal(first);
    });

    it("the Job's name changes with the image, the identity and the server, too", async () => {
        const first = await jobNameWith({});
        for (const change of [{ image: "contoso.azurecr.io/app:1.4.3" }, { clientId: clientIdFor("id-prod-other") }, { pgHost: "psql-prod-other.postgres.database.azure.com" }, { adminRole: "id-prod-other" }]) {
            expect(await jobNameWith(change), JSON.stringify(change)).to.not.equal(first);
        }
    });

    it("the ConfigMap holds the statements the executor accepts, under the name the Job mounts, immutable", async () => {
        const { mocks } = await build();
        const cm = mocks.named(CM, "roles-statements").inputs;
        const job = mocks.named(JOB, "roles-job").inputs;
        expect(cm.immutable).to.equal(true);
        expect(cm.metadata.name).to.equal(job.metadata.name);
        const plans = parseStatements(cm.data[STATEMENTS_KEY]);
        expect(plans.map(p => p.statement.sql)).to.deep.equal(orders.map(s => s.sql));
        expect(cm.data[STATEMENTS_KEY]).to.equal(statementsFile(orders));
        const pod = job.spec.template.spec;
        expect(pod.volumes.find((v: { name: string }) => v.name === "statements").configMap.name).to.equal(cm.metadata.name);
        expect(pod.containers[0].volumeMounts).to.deep.include({ name: "statements", mountPath: STATEMENTS_MOUNT, readOnly: true });
        expect(`${STATEMENTS_MOUNT}/${STATEMENTS_KEY}`).to.equal(DEFAULT_STATEMENTS_FILE);
    });

    it("the Job runs the image's provision command with verify-full and no password anywhere", async () => {
        const { mocks } = await build();
        const container = mocks.named(JOB, "roles-job").inputs.spec.template.spec.containers[0];
        expect(container.args).to.deep.equal(["provision"]);
        expect(container.env).to.deep.equal([
            { name: "PGHOST", value: FQDN },
            { name: "PGPORT", value: "5432" },
            { name: "PGUSER", value: PROVISIONER },
            { name: "PGDATABASE", value: "postgres" },
            { name: "PGSSLMODE", value: "verify-full" },
            { name: "PROVISION_STATEMENTS_FILE", value: DEFAULT_STATEMENTS_FILE },
        ]);
        expect(container.envFrom).to.equal(undefined);
        for (const r of kubernetesObjects(mocks.resources)) {
            expect(r.type, `${r.name} is a Secret`).to.not.equal("kubernetes:core/v1:Secret");
            const names = JSON.stringify(r.inputs).match(/"name":"[^"]*"/g) ?? [];
            expect(names.filter(n => isCredentialEnvName(n.slice(8, -1))), r.name).to.deep.equal([]);
            expect(JSON.stringify(r.inputs), r.name).to.not.match(/secretKeyRef|PGPASSWORD|\bPASSWORD\b/i);
        }
    });

    it("a namespace of its own, Pod Security restricted, with no Role or RoleBinding and no API token", async () => {
        const { mocks } = await build();
        const ns = mocks.named(NS, "roles-namespace").inputs.metadata;
        expect(ns.name).to.equal(PROVISIONER_NAMESPACE);
        expect(ns.labels).to.include(POD_SECURITY_LABELS);
        expect(mocks.resources.filter(r => /rbac\.authorization/.test(r.type))).to.deep.equal([]);
        expect(mocks.named(SA, "roles-serviceaccount").inputs.automountServiceAccountToken).to.equal(false);
        expect(mocks.named(JOB, "roles-job").inputs.spec.template.spec.automountServiceAccountToken).to.equal(false);
    });

    it("the pod is restricted: non-root as the image's user, RuntimeDefault seccomp, read-only, nothing to escalate", async () => {
        const { mocks } = await build();
        const pod = mocks.named(JOB, "roles-job").inputs.spec.template.spec;
        expect(PROVISIONER_RUN_AS_ID).to.equal(RUN_AS_ID);
        expect(pod.securityContext).to.deep.equal({
            runAsNonRoot: true, runAsUser: RUN_AS_ID, runAsGroup: RUN_AS_ID, fsGroup: RUN_AS_ID, seccompProfile: { type: "RuntimeDefault" },
        });
        expect(pod.containers[0].securityContext).to.deep.equal({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } });
        expect(pod.restartPolicy).to.equal("Never");
    });

    it("pulumi up waits for the Job (no skipAwait), longer than the Job's own deadline, and a failed Job is replaced on the next up", async () => {
        const { mocks } = await build();
        const job = mocks.named(JOB, "roles-job").inputs;
        expect(job.metadata.annotations).to.not.have.property("pulumi.com/skipAwait");
        expect(job.metadata.annotations).to.not.have.property("pulumi.com/waitFor");
        expect(Number(job.metadata.annotations["pulumi.com/timeoutSeconds"])).to.be.greaterThan(job.spec.activeDeadlineSeconds);
        expect(job.metadata.annotations["pulumi.com/replaceUnready"]).to.equal("true");
        expect(job.spec.backoffLimit).to.equal(3);
        expect(job.spec.activeDeadlineSeconds).to.equal(600);
        // A finished Job deleted by its TTL would vanish on refresh and run again; none is set.
        expect(job.spec.ttlSecondsAfterFinished).to.equal(undefined);
    });

    it("the Job waits for what it needs: runAfter becomes the Job's dependsOn", async () => {
        const { mocks } = await underMocks("prod", () => {
            const provider = new k8s.Provider("cluster-k8s", { kubeconfig: "{}" });
            const before = new k8s.core.v1.ConfigMap("federated-credential-stand-in", { metadata: { name: "x", namespace: "default" } }, { provider });
            return new PostgresProvisioner("roles", { ...baseArgs, runAfter: [before] }, { providers: [provider] });
        });
        const dependsOn = mocks.optionsOf("roles-job").dependsOn as unknown[];
        expect(dependsOn).to.have.length(1);
    });

    describe("the NetworkPolicy", () => {
        async function policy(overrides: Partial<PostgresProvisionerArgs> = {}) {
            const { mocks } = await build(overrides);
            return mocks.named(NETPOL, "roles-network-policy").inputs;
        }

        it("denies all ingress and every egress but DNS to kube-dns, 443 and 5432, for every pod in the namespace", async () => {
            const p = await policy();
            expect(p.spec.podSelector).to.deep.equal({});
            expect(p.spec.policyTypes).to.deep.equal(["Ingress", "Egress"]);
            expect(p.spec.ingress).to.deep.equal([]);
            const ports = p.spec.egress.flatMap((rule: { ports: { protocol: string; port: number }[] }) => rule.ports.map(x => `${x.protocol}/${x.port}`));
            expect(ports.sort()).to.deep.equal(["TCP/443", "TCP/53", "TCP/5432", "UDP/53"]);
            for (const rule of p.spec.egress) {
                expect(rule.ports, "every rule names its ports").to.have.length.greaterThan(0);
            }
            const dns = p.spec.egress.find((r: { ports: { port: number }[] }) => r.ports.some(x => x.port === 53));
            expect(dns.to).to.deep.equal([{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } }, podSelector: { matchLabels: { "k8s-app": "kube-dns" } } }]);
        });

        it("sends 5432 only to the database's CIDR when given", async () => {
            const p = await policy({ databaseCidr: "10.42.2.0/24" });
            const db = p.spec.egress.find((r: { ports: { port: number }[] }) => r.ports.some(x => x.port === 5432));
            expect(db).to.deep.equal({ to: [{ ipBlock: { cidr: "10.42.2.0/24" } }], ports: [{ protocol: "TCP", port: 5432 }] });
        });
    });

    it("every object validates against the Kubernetes OpenAPI schema", async () => {
        const { mocks } = await build({ databaseCidr: "10.42.2.0/24" });
        const models: Record<string, new (data: any) => { validate(): void }> = {
            [NS]: core.Namespace, [SA]: core.ServiceAccount, [CM]: core.ConfigMap, [NETPOL]: networking.NetworkPolicy, [JOB]: batch.Job,
        };
        const objects = kubernetesObjects(mocks.resources);
        expect(objects.map(r => r.type).sort()).to.deep.equal([CM, JOB, NS, NETPOL, SA].sort());
        for (const r of objects) {
            const [, apiVersion, kind] = /^kubernetes:(?:core\/)?(.+):(\w+)$/.exec(r.type)!;
            expect(() => new models[r.type]({ ...r.inputs, apiVersion, kind }).validate(), r.name).to.not.throw();
        }
    });

    it("the policy pack accepts every object it registers, as inputs and as outputs", async () => {
        const { mocks } = await build({ databaseCidr: "10.42.2.0/24" });
        const recorded = mocks.resources.filter(r => r.type !== "pulumi:pulumi:Stack");
        const inputs = recorded.map(r => ({ type: r.type, name: r.name, props: r.inputs }));
        const outputs = recorded.map(r => ({ type: r.type, name: r.name, props: { ...r.inputs, ...r.state } }));
        expect(inputs.map(r => r.type)).to.include.members([NS, SA, CM, NETPOL, JOB]);
        const found = [
            ...await packViolations({ resourcePolicies, stackPolicies: [] }, inputs, {}, { stack: "prod" }),
            ...await packViolations({ resourcePolicies: [], stackPolicies }, outputs, {}, { stack: "prod" }),
        ];
        expect(found).to.deep.equal([]);
        // The same check fails a Job that would run as root with a password in its environment.
        const job = inputs.find(r => r.type === JOB)!;
        const pod = job.props.spec.template.spec;
        const broken = { ...job, props: { ...job.props, spec: { ...job.props.spec, template: { ...job.props.spec.template, spec: {
            ...pod, securityContext: { ...pod.securityContext, runAsNonRoot: false },
            containers: [{ ...pod.containers[0], env: [...pod.containers[0].env, { name: "PGPASSWORD", value: "x" }] }],
        } } } } };
        expect(await packViolations({ resourcePolicies, stackPolicies: [] }, [broken], {}, { stack: "prod" })).to.have.length(2);
    });

    it("under preview, the Job's name is unknown until the identity's client id is, and nothing throws", async () => {
        const { mocks } = await build({}, true);
        expect(mocks.named(JOB, "roles-job")).to.not.equal(undefined);
    });
});
