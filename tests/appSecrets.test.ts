// An app's Key Vault secrets: the SecretProviderClass, the read-only CSI mount, and where the app finds them.
import { expect } from "chai";
import * as k8s from "@pulumi/kubernetes";
import {
    appSecretsProblems, AppWorkload, AppWorkloadArgs, KEYVAULT_DIR_ENV, KEYVAULT_OBJECTS_ENV, SECRETS_MOUNT_PATH,
    SECRETS_STORE_CSI_DRIVER, secretProviderObjects,
} from "../components/appWorkload";
import { KEYVAULT_DIR_ENV as APP_DIR_ENV, KEYVAULT_OBJECTS_ENV as APP_OBJECTS_ENV } from "../app/src/mounted";
import { clientIdFor, TENANT_ID } from "./mocks";
import { underMocks } from "./harness";

const SPC = "kubernetes:secrets-store.csi.x-k8s.io/v1:SecretProviderClass";
const DEPLOY = "kubernetes:apps/v1:Deployment";
const JOB = "kubernetes:batch/v1:Job";
const CLIENT_ID = clientIdFor("id-test-orders");

const baseArgs: AppWorkloadArgs = {
    appName: "orders",
    namespace: "shop",
    serviceAccountName: "orders",
    clientId: CLIENT_ID,
    tenantId: TENANT_ID,
    image: "contoso.azurecr.io/orders:1.4.2",
    replicas: 1,
    highAvailability: false,
    pgHost: "psql-test-x7k2q9.postgres.database.azure.com",
    pgPort: 5432,
    pgUser: "id-test-orders",
    pgDatabase: "orders",
    secrets: { keyVaultName: "kv-akspg-dev-x7k2q9", secretNames: ["demo-api-key", "payments-api-key"] },
};

function build(overrides: Partial<AppWorkloadArgs> = {}) {
    return underMocks("test", () => {
        const provider = new k8s.Provider("cluster-k8s", { kubeconfig: "{}" });
        return new AppWorkload("orders-workload", { ...baseArgs, ...overrides }, { providers: [provider] });
    });
}

describe("AppWorkload: Key Vault secrets through the Secrets Store CSI driver", () => {
    it("the SecretProviderClass is in the app's namespace and names the app's own client id and tenant (workload identity)", async () => {
        const { mocks } = await build();
        const spc = mocks.named(SPC, "orders-workload-secret-provider").inputs;
        expect(spc.metadata.namespace).to.equal("shop");
        expect(spc.spec.provider).to.equal("azure");
        expect(spc.spec.parameters).to.include({
            clientID: CLIENT_ID, tenantId: TENANT_ID, keyvaultName: "kv-akspg-dev-x7k2q9", usePodIdentity: "false", useVMManagedIdentity: "false",
        });
        // The ServiceAccount the pods run as carries the same client id: the token the driver exchanges is for it.
        const sa = mocks.named("kubernetes:core/v1:ServiceAccount", "orders-workload-serviceaccount").inputs;
        expect(sa.metadata.annotations["azure.workload.identity/client-id"]).to.equal(spc.spec.parameters.clientID);
    });

    it("the SecretProviderClass lists exactly the app's secrets, latest version", async () => {
        const { mocks } = await build();
        const objects = mocks.named(SPC, "orders-workload-secret-provider").inputs.spec.parameters.objects;
        expect(objects).to.equal(secretProviderObjects(["demo-api-key", "payments-api-key"]));
        expect(objects).to.equal([
            "array:",
            "  - |", "    objectName: demo-api-key", "    objectType: secret", '    objectVersion: ""',
            "  - |", "    objectName: payments-api-key", "    objectType: secret", '    objectVersion: ""',
            "",
        ].join("\n"));
    });

    it("nothing syncs to a Kubernetes Secret by default: no secretObjects, no Secret, no env var from a Secret", async () => {
        const { mocks } = await build();
        expect(mocks.named(SPC, "orders-workload-secret-provider").inputs.spec).to.not.have.property("secretObjects");
        expect(mocks.ofType("kubernetes:core/v1:Secret")).to.have.length(0);
        for (const type of [DEPLOY, JOB]) {
            for (const r of mocks.ofType(type)) {
                for (const env of r.inputs.spec.template.spec.containers[0].env) {
                    expect(env.valueFrom, `${r.name} ${env.name}`).to.equal(undefined);
                }
            }
        }
    });

    it("the Deployment and the check Job mount it read-only through the CSI driver, at the path the app is told", async () => {
        const { mocks } = await build();
        for (const r of [mocks.named(DEPLOY, "orders-workload-deployment"), mocks.ofType(JOB)[0]]) {
            const spec = r.inputs.spec.template.spec;
            const volume = spec.volumes.find((v: any) => v.csi);
            expect(volume.csi).to.deep.equal({
                driver: SECRETS_STORE_CSI_DRIVER, readOnly: true, volumeAttributes: { secretProviderClass: "orders-keyvault" },
            });
            const container = spec.containers[0];
            const mount = container.volumeMounts.find((m: any) => m.name === volume.name);
            expect(mount, r.name).to.deep.equal({ name: volume.name, mountPath: SECRETS_MOUNT_PATH, readOnly: true });
            const env = Object.fromEntries(container.env.map((e: any) => [e.name, e.value]));
            expect(env[KEYVAULT_DIR_ENV], r.name).to.equal(mount.mountPath);
            expect(env[KEYVAULT_OBJECTS_ENV], r.name).to.equal("demo-api-key,payments-api-key");
        }
    });

    it("the environment names are the ones the app reads (app/src/mounted.ts)", () => {
        expect(KEYVAULT_DIR_ENV).to.equal(APP_DIR_ENV);
        expect(KEYVAULT_OBJECTS_ENV).to.equal(APP_OBJECTS_ENV);
    });

    it("the check Job runs `check`, which reads the mounted files", async () => {
        const { mocks } = await build();
        const job = mocks.ofType(JOB)[0].inputs.spec.template.spec;
        expect(job.containers[0].args).to.deep.equal(["check"]);
        expect(job.volumes.some((v: any) => v.csi?.volumeAttributes?.secretProviderClass === "orders-keyvault")).to.equal(true);
    });

    it("without secrets there is no SecretProviderClass, no CSI volume and no Key Vault environment", async () => {
        const { mocks } = await build({ secrets: undefined });
        expect(mocks.ofType(SPC)).to.have.length(0);
        const spec = mocks.named(DEPLOY, "orders-workload-deployment").inputs.spec.template.spec;
        expect(spec.volumes.filter((v: any) => v.csi)).to.have.length(0);
        expect(spec.containers[0].env.map((e: any) => e.name)).to.not.include(KEYVAULT_DIR_ENV);
    });

    it("an env var from a secret, only when asked: that one secret synced into a Kubernetes Secret the variable reads", async () => {
        const { mocks } = await build({ secrets: { ...baseArgs.secrets!, envFromSecrets: { PAYMENTS_TOKEN: "payments-api-key" } } });
        const spc = mocks.named(SPC, "orders-workload-secret-provider").inputs.spec;
        expect(spc.secretObjects).to.deep.equal([{
            secretName: "orders-keyvault", type: "Opaque", data: [{ objectName: "payments-api-key", key: "payments-api-key" }],
        }]);
        const env = mocks.named(DEPLOY, "orders-workload-deployment").inputs.spec.template.spec.containers[0].env
            .find((e: any) => e.name === "PAYMENTS_TOKEN");
        expect(env.valueFrom).to.deep.equal({ secretKeyRef: { name: "orders-keyvault", key: "payments-api-key" } });
    });

    it("refuses bad secret names and env vars from secrets the app does not list, naming each", () => {
        expect(appSecretsProblems({ secretNames: ["ok-name", "bad_name", "ok-name"], envFromSecrets: { "1X": "ok-name", Y: "other" } })).to.deep.equal([
            'secrets: "bad_name" is not a Key Vault secret name (1-127 letters, digits and \'-\')',
            "secrets lists a secret twice",
            'envFromSecrets: "1X" is not an environment variable name',
            'envFromSecrets.Y: "other" is not one of the app\'s secrets',
        ]);
    });
});
