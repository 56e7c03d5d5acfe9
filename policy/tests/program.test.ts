// The program's own resources, in every stack shape, pass every policy. Runs the real index.ts under the
// root project's mocks (tests/harness.ts) and feeds each registered resource to the pack the way the engine
// does: inputs to resource policies, outputs to stack policies, URNs naming the stack.
import { expect } from "chai";
import * as pack from "../policies";
import { resourcePolicies, stackPolicies } from "../policies";
import * as fs from "fs";
import * as path from "path";
import { runProgram } from "../../tests/harness";
import { FakeResource, PackConfig, packViolations, stackViolations, violations } from "./run";

const SHAPES = [
    { title: "dev", options: { stack: "dev" } },
    { title: "prod", options: { stack: "prod" } },
    { title: "dev under preview", options: { stack: "dev", preview: true } },
    { title: "prod under preview", options: { stack: "prod", preview: true } },
    { title: "dev with three apps and a prebuilt image", options: { stack: "dev", overrides: { apps: [{ name: "alpha" }, { name: "bravo", namespace: "shop" }, { name: "charlie", image: "contoso.azurecr.io/c:1.0.0" }] } } },
];

/** The policy config CI passes for a stack (.github/actions/pulumi: policyPackConfigs = policy/config/<stack>.json). */
function packConfigFor(stack: string): PackConfig {
    return JSON.parse(fs.readFileSync(path.join(__dirname, "..", "config", `${stack}.json`), "utf8")) as PackConfig;
}

interface ProgramResources {
    /** Inputs, as resource policies see them. */
    inputs: FakeResource[];
    /** Outputs, as stack policies see them. */
    outputs: FakeResource[];
}

const runs = new Map<string, Promise<ProgramResources>>();

/** Each shape runs once; the tests below share the run. */
function programResources(options: Parameters<typeof runProgram>[0]): Promise<ProgramResources> {
    const cacheKey = JSON.stringify(options);
    if (!runs.has(cacheKey)) {
        runs.set(cacheKey, runProgram(options).then(({ mocks }) => {
            const recorded = mocks.resources.filter(r => r.type !== "pulumi:pulumi:Stack");
            const protect = (name: string) => mocks.optionsOf(name).protect === true;
            return {
                inputs: recorded.map(r => ({ type: r.type, name: r.name, props: r.inputs, protect: protect(r.name) })),
                outputs: recorded.map(r => ({ type: r.type, name: r.name, props: { ...r.inputs, ...r.state }, protect: protect(r.name) })),
            };
        }));
    }
    return runs.get(cacheKey)!;
}

describe("the program passes its own policy pack", () => {
    for (const { title, options } of SHAPES) {
        it(title, async () => {
            const { inputs, outputs } = await programResources(options);
            expect(inputs.length).to.be.greaterThan(20);
            const config = packConfigFor(options.stack);
            const found = [
                ...await packViolations({ resourcePolicies, stackPolicies: [] }, inputs, config, { stack: options.stack }),
                ...await packViolations({ resourcePolicies: [], stackPolicies }, outputs, config, { stack: options.stack }),
            ];
            expect(found).to.deep.equal([]);
        });
    }

    it("the same check catches a program that breaks a rule", async () => {
        const { inputs } = await programResources({ stack: "prod" });
        const resources = inputs.map(r => ({ ...r }));
        const server = resources.find(r => r.type === pack.TYPES.pgServer)!;
        server.protect = false;
        server.props = { ...server.props, authConfig: { ...server.props.authConfig, passwordAuth: "Enabled" } };
        expect(await violations(pack.postgresEntraOnly, server)).to.have.length(1);
        expect(await stackViolations(pack.prodDataProtected, resources, {}, { stack: "prod" })).to.have.length(1);
    });
});
