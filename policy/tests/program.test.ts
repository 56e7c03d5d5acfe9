// The program's own resources, in every stack shape, pass every policy. Runs the real index.ts under the
// root project's mocks (tests/harness.ts) and feeds each registered resource — inputs and options — to the pack.
import { expect } from "chai";
import { resourcePolicies, stackPolicies } from "../policies";
import { runProgram } from "../../tests/harness";
import { FakeResource, stackViolations, violations } from "./run";

const SHAPES = [
    { title: "dev", options: { stack: "dev" } },
    { title: "prod", options: { stack: "prod" } },
    { title: "dev under preview", options: { stack: "dev", preview: true } },
    { title: "prod under preview", options: { stack: "prod", preview: true } },
    { title: "dev with three apps and a prebuilt image", options: { stack: "dev", overrides: { apps: [{ name: "alpha" }, { name: "bravo", namespace: "shop" }, { name: "charlie", image: "contoso.azurecr.io/c:1.0.0" }] } } },
];

async function programResources(options: Parameters<typeof runProgram>[0]): Promise<FakeResource[]> {
    const { mocks } = await runProgram(options);
    return mocks.resources
        .filter(r => r.type !== "pulumi:pulumi:Stack")
        .map(r => ({ type: r.type, name: r.name, props: r.inputs, protect: mocks.optionsOf(r.name).protect === true }));
}

describe("the program passes its own policy pack", () => {
    for (const { title, options } of SHAPES) {
        it(title, async () => {
            const resources = await programResources(options);
            expect(resources.length).to.be.greaterThan(20);
            const found: string[] = [];
            for (const resource of resources) {
                for (const policy of resourcePolicies) {
                    found.push(...(await violations(policy, resource)).map(v => `${policy.name} on ${resource.name}: ${v}`));
                }
            }
            for (const policy of stackPolicies) {
                found.push(...(await stackViolations(policy, resources)).map(v => `${policy.name}: ${v}`));
            }
            expect(found).to.deep.equal([]);
        });
    }

    it("the same check catches a program that breaks a rule", async () => {
        const resources = await programResources({ stack: "prod" });
        const server = resources.find(r => r.type === "azure-native:dbforpostgresql:Server")!;
        server.protect = false;
        server.props = { ...server.props, authConfig: { ...server.props.authConfig, passwordAuth: "Enabled" } };
        const entraOnly = resourcePolicies.find(p => p.name === "postgres-entra-only")!;
        const prodData = stackPolicies.find(p => p.name === "prod-data-protected")!;
        expect(await violations(entraOnly, server)).to.have.length(1);
        expect(await stackViolations(prodData, resources)).to.have.length(1);
    });
});
