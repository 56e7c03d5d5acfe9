import { expect } from "chai";
import * as k8s from "@pulumi/kubernetes";
import { AppWorkload, AppWorkloadArgs, CLIENT_ID_ANNOTATION, USE_LABEL } from "../components/appWorkload";
import { clientIdFor, TENANT_ID } from "./mocks";
import { underMocks } from "./harness";

const NS = "kubernetes:core/v1:Namespace";
const SA = "kubernetes:core/v1:ServiceAccount";
const DEPLOY = "kubernetes:apps/v1:Deployment";
const FQDN = "psql-test-x7k2q9.postgres.database.azure.com";

const baseArgs: AppWorkloadArgs = {
    appName: "orders",
    namespace: "shop",
    serviceAccountName: "orders",
    clientId: clientIdFor("id-test-orders"),
    tenantId: TENANT_ID,
    image: "contoso.azurecr.io/orders:1.4.2",
    replicas: 2,
    pgHost: FQDN,
    pgPort: 5432,
    pgUser: "id-test-orders",
    pgDatabase: "orders",
};

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
        const container = mocks.named(DEPLOY, "orders-workload-deployment").inputs.spec.template.spec.containers[0];
        expect(container.env.map((e: { name: string }) => e.name).join(",")).to.not.match(/PASS|SECRET|TOKEN/i);
        expect(container.env.every((e: { valueFrom?: unknown }) => e.valueFrom === undefined)).to.equal(true);
        expect(container).to.not.have.any.keys("envFrom");
        expect(mocks.ofType("kubernetes:core/v1:Secret")).to.have.length(0);
    });

    it("the namespace enforces the Pod Security 'restricted' standard", async () => {
        const { mocks } = await build();
        expect(mocks.named(NS, "orders-workload-namespace").inputs.metadata.labels["pod-security.kubernetes.io/enforce"]).to.equal("restricted");
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

    it("runs the configured image, replicas and command", async () => {
        const { mocks } = await build({ command: ["/app/server", "--port=8080"] });
        const spec = mocks.named(DEPLOY, "orders-workload-deployment").inputs.spec;
        expect(spec.replicas).to.equal(2);
        expect(spec.template.spec.containers[0].image).to.equal("contoso.azurecr.io/orders:1.4.2");
        expect(spec.template.spec.containers[0].command).to.deep.equal(["/app/server", "--port=8080"]);
    });

    it("keeps the image's entrypoint when no command is given", async () => {
        expect((await podSpec()).spec.containers[0]).to.not.have.any.keys("command");
    });

    it("every Kubernetes object goes through the given cluster provider, never the ambient kubeconfig", async () => {
        const { mocks } = await build();
        for (const type of [NS, SA, DEPLOY]) {
            for (const r of mocks.ofType(type)) {
                expect(r.provider, r.name).to.match(/::cluster-k8s::/);
            }
        }
    });
});
