import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import {
    APP_SHUTDOWN_BOUND_SECONDS, AppWorkload, AppWorkloadArgs, CLIENT_ID_ANNOTATION, PRE_STOP_SLEEP_SECONDS, USE_LABEL,
} from "../components/appWorkload";
import { IDENTITY_RETRY_BACKOFF_MAX_MS, READY_TIMEOUT_MS, SHUTDOWN_BOUND_MS, TOKEN_TIMEOUT_MS } from "../app/src/timeouts";
import { clientIdFor, promiseOf, TENANT_ID } from "./mocks";
import { underMocks } from "./harness";

const SA = "kubernetes:core/v1:ServiceAccount";
const DEPLOY = "kubernetes:apps/v1:Deployment";
const JOB = "kubernetes:batch/v1:Job";
const FQDN = "psql-test-x7k2q9.postgres.database.azure.com";

const baseArgs: AppWorkloadArgs = {
    appName: "orders",
    namespace: "shop",
    serviceAccountName: "orders",
    clientId: clientIdFor("id-test-orders"),
    tenantId: TENANT_ID,
    image: "contoso.azurecr.io/orders:1.4.2",
    replicas: 2,
    highAvailability: false,
    pgHost: FQDN,
    pgPort: 5432,
    pgUser: "id-test-orders",
    pgDatabase: "orders",
};

const PDB = "kubernetes:policy/v1:PodDisruptionBudget";

function build(overrides: Partial<AppWorkloadArgs> = {}) {
    return underMocks("test", () => {
        const provider = new k8s.Provider("cluster-k8s", { kubeconfig: "{}" });
        return new AppWorkload("orders-workload", { ...baseArgs, ...overrides }, { providers: [provider] });
    });
}

async function podSpec() {
    const { mocks } = await build();
    return mocks.named(DEPLOY, "orders-workload-deployment").inputs.spec.template;
}

describe("AppWorkload", () => {
    it("the ServiceAccount is annotated with the identity's client id", async () => {
        const { mocks } = await build();
        expect(mocks.named(SA, "orders-workload-serviceaccount").inputs.metadata.annotations[CLIENT_ID_ANNOTATION])
            .to.equal(clientIdFor("id-test-orders"));
    });

    it("the ServiceAccount carries the workload identity label", async () => {
        const { mocks } = await build();
        expect(mocks.named(SA, "orders-workload-serviceaccount").inputs.metadata.labels[USE_LABEL]).to.equal("true");
    });

    it("pods carry azure.workload.identity/use: \"true\", so the webhook projects the token", async () => {
        const template = await podSpec();
        expect(template.metadata.labels[USE_LABEL]).to.equal("true");
        expect(USE_LABEL).to.equal("azure.workload.identity/use");
    });

    it("pods run as the annotated ServiceAccount, in its namespace", async () => {
        const { mocks } = await build();
        const sa = mocks.named(SA, "orders-workload-serviceaccount").inputs.metadata;
        const deployment = mocks.named(DEPLOY, "orders-workload-deployment").inputs;
        expect(deployment.spec.template.spec.serviceAccountName).to.equal(sa.name);
        expect(deployment.metadata.namespace).to.equal(sa.namespace);
        expect(sa.namespace).to.equal("shop");
    });

    it("pods get exactly the libpq settings: host, port, user, database and sslmode=require", async () => {
        const env = (await podSpec()).spec.containers[0].env;
        expect(env).to.deep.equal([
            { name: "PGHOST", value: FQDN },
            { name: "PGPORT", value: "5432" },
            { name: "PGUSER", value: "id-test-orders" },
            { name: "PGDATABASE", value: "orders" },
            { name: "PGSSLMODE", value: "require" },
        ]);
    });

    it("no env var carries a password and nothing reads a Secret", async () => {
        const { mocks } = await build();
        for (const [type, name] of [[DEPLOY, "orders-workload-deployment"], [JOB, "orders-workload-check"]]) {
            const container = mocks.named(type, name).inputs.spec.template.spec.containers[0];
            expect(container.env.map((e: { name: string }) => e.name).join(","), name).to.not.match(/PASS|SECRET|TOKEN/i);
            expect(container.env.every((e: { valueFrom?: unknown }) => e.valueFrom === undefined), name).to.equal(true);
            expect(container, name).to.not.have.any.keys("envFrom");
        }
        expect(mocks.ofType("kubernetes:core/v1:Secret")).to.have.length(0);
    });

    it("containers run non-root, read-only, without privilege escalation or capabilities, under RuntimeDefault seccomp", async () => {
        const spec = (await podSpec()).spec;
        expect(spec.securityContext).to.deep.include({ runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } });
        expect(spec.containers[0].securityContext).to.deep.equal({
            allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] },
        });
    });

    it("containers have resource requests and limits", async () => {
        const resources = (await podSpec()).spec.containers[0].resources;
        expect(resources.requests).to.have.keys("cpu", "memory");
        expect(resources.limits).to.have.keys("cpu", "memory");
    });

    it("runs the given image with `serve`, and the given replica count", async () => {
        const { mocks } = await build();
        const spec = mocks.named(DEPLOY, "orders-workload-deployment").inputs.spec;
        expect(spec.replicas).to.equal(2);
        expect(spec.template.spec.containers[0]).to.deep.include({ image: "contoso.azurecr.io/orders:1.4.2", args: ["serve"] });
    });

    it("probes the service: liveness, readiness (a real SELECT 1) and startup on the http port", async () => {
        const container = (await podSpec()).spec.containers[0];
        expect(container.ports).to.deep.equal([{ name: "http", containerPort: 8080, protocol: "TCP" }]);
        expect(container.livenessProbe.httpGet).to.deep.equal({ path: "/healthz/live", port: "http" });
        expect(container.readinessProbe.httpGet).to.deep.equal({ path: "/healthz/ready", port: "http" });
        expect(container.startupProbe.httpGet).to.deep.equal({ path: "/healthz/live", port: "http" });
    });

    it("stopping: a preStop sleep (the image has no shell), then SIGTERM; preStop plus the app's shutdown bound fit in the grace period", async () => {
        const spec = (await podSpec()).spec;
        expect(spec.containers[0].lifecycle).to.deep.equal({ preStop: { sleep: { seconds: PRE_STOP_SLEEP_SECONDS } } });
        expect(PRE_STOP_SLEEP_SECONDS).to.be.at.least(3);
        expect(APP_SHUTDOWN_BOUND_SECONDS * 1000, "the bound the app enforces (app/src/timeouts.ts)").to.equal(SHUTDOWN_BOUND_MS);
        // The grace period starts when preStop starts.
        expect(spec.terminationGracePeriodSeconds).to.be.above(PRE_STOP_SLEEP_SECONDS + APP_SHUTDOWN_BOUND_SECONDS);
    });

    it("probe timeouts agree with the app: readiness waits longer than the app's readiness budget and tolerates one token retry cycle", async () => {
        const container = (await podSpec()).spec.containers[0];
        const ready = container.readinessProbe;
        expect(ready.timeoutSeconds * 1000, "kubelet must not cut the app's own readiness budget short").to.be.above(READY_TIMEOUT_MS);
        const toleratedMs = ready.periodSeconds * ready.failureThreshold * 1000;
        expect(toleratedMs, "a failing token endpoint the SDK is still retrying does not flip readiness").to.be.at.least(TOKEN_TIMEOUT_MS);
        expect(TOKEN_TIMEOUT_MS).to.be.above(IDENTITY_RETRY_BACKOFF_MAX_MS);
        for (const probe of [container.livenessProbe, container.readinessProbe, container.startupProbe]) {
            expect(probe.timeoutSeconds, JSON.stringify(probe)).to.be.a("number").at.least(2);
        }
    });

    it("a check Job runs the same image with `check`, as the same ServiceAccount, with the workload identity label", async () => {
        const { mocks } = await build();
        const deployment = mocks.named(DEPLOY, "orders-workload-deployment").inputs.spec.template;
        const job = mocks.named(JOB, "orders-workload-check").inputs;
        expect(job.metadata.namespace).to.equal("shop");
        expect(job.spec.template.spec.serviceAccountName).to.equal(deployment.spec.serviceAccountName);
        expect(job.spec.template.metadata.labels[USE_LABEL]).to.equal("true");
        expect(job.spec.template.spec.containers[0]).to.deep.include({ image: "contoso.azurecr.io/orders:1.4.2", args: ["check"] });
        expect(job.spec.template.spec.containers[0].env).to.deep.equal(deployment.spec.containers[0].env);
        expect(job.spec.template.spec.restartPolicy).to.equal("Never");
    });

    it("the check Job is as hardened as the service", async () => {
        const { mocks } = await build();
        const service = mocks.named(DEPLOY, "orders-workload-deployment").inputs.spec.template.spec;
        const check = mocks.named(JOB, "orders-workload-check").inputs.spec.template.spec;
        expect(check.securityContext).to.deep.equal(service.securityContext);
        expect(check.automountServiceAccountToken).to.equal(false);
        expect(check.containers[0].securityContext).to.deep.equal(service.containers[0].securityContext);
        expect(check.containers[0].resources).to.deep.equal(service.containers[0].resources);
    });

    it("the check Job runs after the Deployment exists and is bounded in time", async () => {
        const { mocks } = await build();
        const job = mocks.named(JOB, "orders-workload-check");
        expect(job.inputs.spec.activeDeadlineSeconds).to.be.within(60, 900);
        const dependsOn = mocks.optionsOf("orders-workload-check").dependsOn as pulumi.Resource[];
        expect((await Promise.all(dependsOn.map(d => promiseOf(d.urn)))).map(u => u.split("::").pop())).to.deep.equal(["orders-workload-deployment"]);
    });

    it("the check Job's template carries the client id, so a new identity replaces (re-runs) it", async () => {
        const { mocks } = await build();
        const annotations = mocks.named(JOB, "orders-workload-check").inputs.spec.template.metadata.annotations;
        expect(annotations[CLIENT_ID_ANNOTATION]).to.equal(clientIdFor("id-test-orders"));
    });

    it("a failing check reports its last log lines in the pod status, which `pulumi up` prints", async () => {
        const { mocks } = await build();
        expect(mocks.named(JOB, "orders-workload-check").inputs.spec.template.spec.containers[0].terminationMessagePolicy).to.equal("FallbackToLogsOnError");
    });

    it("with high availability, replicas spread across zones and nodes and a PodDisruptionBudget keeps one up", async () => {
        const { mocks } = await build({ highAvailability: true });
        const spec = mocks.named(DEPLOY, "orders-workload-deployment").inputs.spec.template.spec;
        expect(spec.topologySpreadConstraints[0]).to.include({ topologyKey: "topology.kubernetes.io/zone", maxSkew: 1 });
        expect(spec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].podAffinityTerm.topologyKey).to.equal("kubernetes.io/hostname");
        const pdb = mocks.named(PDB, "orders-workload-pdb").inputs.spec;
        expect(pdb).to.deep.equal({ minAvailable: 1, selector: { matchLabels: { "app.kubernetes.io/name": "orders" } } });
    });

    it("without high availability there is no PodDisruptionBudget and no spread", async () => {
        const { mocks } = await build();
        expect(mocks.ofType(PDB)).to.have.length(0);
        expect(mocks.named(DEPLOY, "orders-workload-deployment").inputs.spec.template.spec).to.not.have.any.keys("topologySpreadConstraints", "affinity");
    });

    it("runs in the namespace it is given and creates none: AppNamespace creates each namespace once", async () => {
        const { mocks } = await build();
        expect(mocks.ofType("kubernetes:core/v1:Namespace")).to.have.length(0);
        expect(mocks.ofType("kubernetes:networking.k8s.io/v1:NetworkPolicy")).to.have.length(0);
        for (const type of [SA, DEPLOY, JOB]) {
            expect(mocks.ofType(type)[0].inputs.metadata.namespace, type).to.equal("shop");
        }
    });

    it("every Kubernetes object goes through the given cluster provider, never the ambient kubeconfig", async () => {
        const { mocks } = await build();
        for (const type of [SA, DEPLOY, JOB]) {
            for (const r of mocks.ofType(type)) {
                expect(r.provider, r.name).to.match(/::cluster-k8s::/);
            }
        }
    });
});
