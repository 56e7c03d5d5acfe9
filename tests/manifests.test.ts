// Every Kubernetes object the program registers, in both stacks, validated against the Kubernetes OpenAPI
// schema by kubernetes-models (generated from the upstream OpenAPI spec) — not by rules we wrote ourselves.
import { expect } from "chai";
import * as apps from "kubernetes-models/apps/v1";
import * as batch from "kubernetes-models/batch/v1";
import * as networking from "kubernetes-models/networking.k8s.io/v1";
import * as policy from "kubernetes-models/policy/v1";
import * as core from "kubernetes-models/v1";
import { crdSchemas, schemaProblems } from "./crdSchema";
import { RecordedResource } from "./mocks";
import { runProgram } from "./harness";

type Model = { validate(): void };
const MODELS: Record<string, new (data: any) => Model> = {
    "kubernetes:core/v1:Namespace": core.Namespace,
    "kubernetes:core/v1:ServiceAccount": core.ServiceAccount,
    "kubernetes:core/v1:ConfigMap": core.ConfigMap,
    "kubernetes:apps/v1:Deployment": apps.Deployment,
    "kubernetes:batch/v1:Job": batch.Job,
    "kubernetes:networking.k8s.io/v1:NetworkPolicy": networking.NetworkPolicy,
    "kubernetes:policy/v1:PodDisruptionBudget": policy.PodDisruptionBudget,
};

/** The object as the API server would receive it. */
function manifest(r: RecordedResource): Record<string, unknown> {
    const [, apiVersion, kind] = /^kubernetes:(?:core\/)?(.+):(\w+)$/.exec(r.type)!;
    return { ...r.inputs, apiVersion, kind };
}

const CRDS = crdSchemas();

function validate(r: RecordedResource): void {
    const Model = MODELS[r.type];
    const crd = CRDS[r.type];
    if (crd) {
        const problems = schemaProblems(crd, manifest(r));
        if (problems.length > 0) {
            throw new Error(problems.join("; "));
        }
        return;
    }
    if (!Model) {
        throw new Error(`no schema model registered for ${r.type}: add it to tests/manifests.test.ts`);
    }
    new Model(manifest(r)).validate();
}

const RUNS = [
    { title: "dev", options: { stack: "dev" } },
    { title: "prod", options: { stack: "prod" } },
    { title: "dev with three apps and a prebuilt image", options: { stack: "dev", overrides: { apps: [{ name: "alpha" }, { name: "bravo", serviceAccount: "bravo.api" }, { name: "charlie", image: "contoso.azurecr.io/c:1.0.0" }] } } },
];

describe("manifests: every Kubernetes object validates against the Kubernetes OpenAPI schema", () => {
    for (const { title, options } of RUNS) {
        it(`${title}`, async () => {
            const { mocks } = await runProgram(options);
            const objects = mocks.resources.filter(r => r.type.startsWith("kubernetes:"));
            expect(objects.length).to.be.greaterThan(4);
            for (const r of objects) {
                expect(() => validate(r), `${r.type} ${r.name}`).to.not.throw();
            }
        });
    }

    it("the CRD validator really rejects a field the SecretProviderClass schema does not have, and a non-string parameter", () => {
        const schema = CRDS["kubernetes:secrets-store.csi.x-k8s.io/v1:SecretProviderClass"];
        expect(schemaProblems(schema, { spec: { provider: "azure", secretObject: [] } })).to.deep.equal([".spec.secretObject: not in the schema (the API server would prune it)"]);
        expect(schemaProblems(schema, { spec: { parameters: { usePodIdentity: false } } })).to.deep.equal([".spec.parameters.usePodIdentity: expected string, got boolean"]);
    });

    it("the validator really rejects an invalid object", () => {
        const broken = new apps.Deployment({ metadata: { name: "x" }, spec: { template: { spec: { containers: [{ name: "x", image: "i:1", ports: [{ containerPort: "http" as any }] }] } } } as any });
        expect(() => broken.validate()).to.throw();
    });
});
