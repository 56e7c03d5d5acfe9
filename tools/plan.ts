// `npm run plan -- <stack>`: see a stack without a cloud. Evaluates the real index.ts with the stack's files
// under the same mocks the tests use (no Azure credentials, no Pulumi CLI), with every create taking as long as
// tools/provisioning.ts says (on a virtual clock, tools/virtualClock.ts), and prints what it would create grouped by component, the simulated deploy
// timeline with its critical path, and a Mermaid graph of the components and the outputs flowing between them.
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { azureProvisioning, ProvisioningModel } from "./provisioning";
import { SimulatedMocks, VirtualClock } from "./virtualClock";
import { runnerFor, runProgram } from "../tests/harness";
import { RecordedResource, SUBSCRIPTION_ID, TENANT_ID } from "../tests/mocks";

/** Recorded times are simulated milliseconds (tools/virtualClock.ts). */
const MS_PER_SIMULATED_SECOND = 1000;

export interface PlannedResource {
    type: string;
    name: string;
    /** Logical name of the top-level component (or the resource itself at top level). */
    component: string;
    /** Simulated seconds from the start of the deploy. */
    start: number;
    end: number;
}

export interface ComponentEdge {
    from: string;
    to: string;
    /** The outputs of `from` that `to` takes as inputs (e.g. principalId, fullyQualifiedDomainName). */
    outputs: string[];
}

export interface StackPlan {
    stack: string;
    /** component logical name → its type token. */
    components: Map<string, string>;
    resources: PlannedResource[];
    /** The chain of resources, each waiting on the previous, that ends last. */
    criticalPath: PlannedResource[];
    /** Simulated seconds until the last resource is created. */
    wallSeconds: number;
    /** Simulated seconds if everything ran one after another. */
    serialSeconds: number;
    edges: ComponentEdge[];
    /** The custom resources as the mocks recorded them (inputs, state), in simulated ms. */
    recorded: RecordedResource[];
}

export interface PlanOptions {
    /** Config values replacing the stack's. */
    overrides?: Record<string, unknown>;
    model?: ProvisioningModel;
}

/** Every [path, string value] leaf of a value, skipping what every Azure resource shares (tags, location, group). */
function stringLeaves(value: unknown, path = ""): [string, string][] {
    if (typeof value === "string") {
        return [[path, value]];
    }
    if (Array.isArray(value)) {
        return value.flatMap((v, i) => stringLeaves(v, `${path}[${i}]`));
    }
    if (value && typeof value === "object") {
        return Object.entries(value)
            .filter(([k]) => !["tags", "location", "resourceGroupName"].includes(k))
            .flatMap(([k, v]) => stringLeaves(v, path ? `${path}.${k}` : k));
    }
    return [];
}

/**
 * The outputs of `r` worth following: its id and every distinctive string Azure (here, the mocks) reports that
 * `r` was not given — an echoed input (a name, the tenant) flows from config, not from `r`.
 */
function outputsOf(r: RecordedResource): [string, string][] {
    const given = new Set(stringLeaves(r.inputs).map(([, v]) => v));
    return [["id", r.id] as [string, string], ...stringLeaves(r.state)]
        // The tenant and subscription come from the provider's sign-in, whichever resource happens to report them.
        .filter(([, v]) => v.length >= 12 && !given.has(v) && v !== pulumi.runtime.specialSecretSig && v !== TENANT_ID && v !== SUBSCRIPTION_ID);
}

export async function planStack(stack: string, options: PlanOptions = {}): Promise<StackPlan> {
    const model = options.model ?? azureProvisioning;
    const simulated = new SimulatedMocks(new VirtualClock(), (type, name) => model.seconds(type, name));
    simulated.runner = runnerFor(stack, options.overrides);
    const run = await runProgram({ stack, overrides: options.overrides, mocks: simulated });
    const { mocks } = run;
    const parentOf = new Map(mocks.registrations.map(r => [r.name, r.parent]));
    const topOf = (name: string): string => {
        let current = name;
        for (let parent = parentOf.get(current); parent !== undefined; parent = parentOf.get(current)) {
            current = parent;
        }
        return current;
    };
    const components = new Map(mocks.registrations.filter(r => !r.custom && r.parent === undefined).map(r => [r.name, r.type]));
    // Components are registered through the mocks too; only custom resources take time or appear in the timeline.
    const isComponent = (name: string) => components.has(name) || mocks.registrations.some(r => r.name === name && !r.custom);
    const custom = mocks.resources.filter(r => r.type !== "pulumi:pulumi:Stack" && !isComponent(r.name));
    const t0 = Math.min(...custom.map(r => r.requestedAt));
    const toSeconds = (ms: number) => Math.round((ms - t0) / MS_PER_SIMULATED_SECOND);
    const resources: PlannedResource[] = custom.map(r => ({
        type: r.type, name: r.name, component: topOf(r.name), start: toSeconds(r.requestedAt), end: toSeconds(r.createdAt),
    }));
    resources.sort((a, b) => a.start - b.start || a.end - b.end);

    // Walk back from whatever finished last: each step's predecessor is what finished latest before it started.
    const criticalPath: PlannedResource[] = [];
    let current = resources.reduce((a, b) => (b.end > a.end ? b : a), resources[0]);
    const slack = 3; // simulated seconds of scheduling noise
    while (current) {
        criticalPath.unshift(current);
        // Strictly earlier starts only, so the walk always moves back in time and ends.
        const before = resources.filter(r => r.start < current!.start && r.end <= current!.start + slack);
        current = before.length > 0 ? before.reduce((a, b) => (b.end > a.end ? b : a)) : undefined!;
    }

    // Component graph: an edge wherever a resource's input carries another component's output value.
    const edges = new Map<string, Set<string>>();
    const byName = new Map(custom.map(r => [r.name, r]));
    for (const target of custom) {
        const to = topOf(target.name);
        const inputs = stringLeaves(target.inputs).map(([, v]) => v);
        if (target.provider) {
            const providerName = /::([^:]+)::[^:]*$/.exec(target.provider)?.[1];
            const from = providerName && byName.has(providerName) ? topOf(providerName) : undefined;
            if (from && from !== to) {
                edges.set(`${from}\u0000${to}`, (edges.get(`${from}\u0000${to}`) ?? new Set()).add("provider"));
            }
        }
        for (const source of custom) {
            const from = topOf(source.name);
            // A value can only flow from something that existed before the target was asked for.
            if (from === to || source.createdAt > target.requestedAt) {
                continue;
            }
            for (const [key, value] of outputsOf(source)) {
                if (inputs.some(input => input.includes(value))) {
                    edges.set(`${from}\u0000${to}`, (edges.get(`${from}\u0000${to}`) ?? new Set()).add(key.replace(/\[\d+\]/g, "")));
                }
            }
        }
    }

    const serialSeconds = custom.reduce((sum, r) => sum + model.seconds(r.type, r.name), 0);
    return {
        stack,
        components,
        resources,
        criticalPath,
        wallSeconds: Math.max(...resources.map(r => r.end)),
        serialSeconds,
        recorded: custom,
        edges: [...edges].map(([k, outputs]) => {
            const [from, to] = k.split("\u0000");
            return { from, to, outputs: [...outputs].sort() };
        }).sort((a, b) => a.from.localeCompare(b.from) || a.to.localeCompare(b.to)),
    };
}

const shortType = (type: string) => type.replace(/^azure-native:/, "").replace(/^aks-pg-passwordless:[a-z]+:/, "");
const minutes = (s: number) => `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;

/** The component graph as a Mermaid flowchart (what the README's architecture diagram is generated from). */
export function mermaid(plan: StackPlan): string {
    const id = (name: string) => name.replace(/[^A-Za-z0-9]/g, "_");
    const label = (name: string) => `${shortType(plan.components.get(name) ?? plan.resources.find(r => r.name === name)?.type ?? name)}<br/>${name}`;
    const nodes = new Set(plan.edges.flatMap(e => [e.from, e.to]));
    const lines = ["flowchart LR"];
    for (const node of [...nodes].sort()) {
        lines.push(`    ${id(node)}["${label(node)}"]`);
    }
    for (const edge of plan.edges) {
        lines.push(`    ${id(edge.from)} -->|${edge.outputs.join(", ")}| ${id(edge.to)}`);
    }
    return lines.join("\n");
}

/** The README block the architecture graph is generated into (tests/plan.test.ts fails when it is stale). */
export const README_BEGIN = "<!-- generated: npm run plan -- dev --write-readme (tests/plan.test.ts fails when stale) -->";
export const README_END = "<!-- end generated -->";

/** README.md with its generated graph replaced by `plan`'s. */
export function readmeWithGraph(readme: string, plan: StackPlan): string {
    const start = readme.indexOf(README_BEGIN);
    const end = readme.indexOf(README_END, start);
    if (start < 0 || end < 0) {
        throw new Error(`README.md has no block between ${README_BEGIN} and ${README_END}`);
    }
    return `${readme.slice(0, start + README_BEGIN.length)}\n\`\`\`mermaid\n${mermaid(plan)}\n\`\`\`\n${readme.slice(end)}`;
}

export function render(plan: StackPlan): string {
    const out: string[] = [`Stack ${plan.stack}: ${plan.resources.length} resources in ${plan.components.size} top-level components`, ""];
    for (const [component, type] of [...plan.components].sort()) {
        out.push(`${shortType(type)} ${component}`);
        for (const r of plan.resources.filter(x => x.component === component)) {
            out.push(`  ${r.name.padEnd(44)} ${shortType(r.type)}`);
        }
    }
    for (const r of plan.resources.filter(x => !plan.components.has(x.component))) {
        out.push(`${shortType(r.type)} ${r.name}`);
    }
    out.push("", `Simulated deploy: ${minutes(plan.wallSeconds)} wall, ${minutes(plan.serialSeconds)} if serial (model: tools/provisioning.ts)`, "",
        "Timeline (start-end, m:ss):");
    for (const r of plan.resources.filter(x => x.end - x.start > 0 || plan.criticalPath.includes(x))) {
        out.push(`  ${plan.criticalPath.includes(r) ? "*" : " "} ${minutes(r.start).padStart(6)}-${minutes(r.end).padEnd(6)} ${r.name}`);
    }
    out.push("", "Critical path (* above):", ...plan.criticalPath.map(r => `  ${minutes(r.end).padStart(6)}  ${r.name} (${shortType(r.type)})`),
        "", "Mermaid (components and the outputs that flow between them):", "```mermaid", mermaid(plan), "```");
    return out.join("\n");
}

async function main(): Promise<void> {
    const args = process.argv.slice(2);
    const stack = args.find(a => !a.startsWith("--"));
    if (!stack) {
        console.error("usage: npm run plan -- <stack> [--mermaid | --write-readme]   (reads Pulumi.yaml and Pulumi.<stack>.yaml)");
        process.exit(2);
    }
    try {
        const plan = await planStack(stack);
        if (args.includes("--write-readme")) {
            const readme = path.join(__dirname, "..", "README.md");
            fs.writeFileSync(readme, readmeWithGraph(fs.readFileSync(readme, "utf8"), plan));
            console.log("README.md: generated graph updated");
        } else {
            console.log(args.includes("--mermaid") ? mermaid(plan) : render(plan));
        }
    } catch (error) {
        // Config errors are RunErrors: print the message alone, exactly as `pulumi up` would.
        const e = error as Error;
        console.error(e.name === "ConfigError" || e.name === "RunError" ? e.message : e.stack ?? String(e));
        process.exit(1);
    }
}

if (require.main === module) {
    void main();
}
