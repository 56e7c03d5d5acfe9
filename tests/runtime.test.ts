// The supported runtime and the supply chain, checked as files: Node.js 22 LTS everywhere the project names a
// Node (engines, types, the app image, CI, the gate script), actions on releases that run on a supported Node,
// Renovate grouping Pulumi, and the license and security policy a user looks for.
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { expect } from "chai";
import * as yaml from "js-yaml";
import { ROOT } from "./harness";

const read = (file: string) => fs.readFileSync(path.join(ROOT, file), "utf8");
const json = (file: string) => JSON.parse(read(file));
/** The packages with dependencies of their own (bootstrap/ uses the root's). */
const PACKAGES = ["package.json", "app/package.json", "policy/package.json"];
const WORKFLOW_FILES = [
    ...fs.readdirSync(path.join(ROOT, ".github", "workflows")).filter(f => f.endsWith(".yml")).map(f => `.github/workflows/${f}`),
    ".github/actions/pulumi/action.yml",
];

/** Every step of a workflow's jobs or a composite action. */
function stepsOf(doc: any): any[] {
    return [...Object.values<any>(doc.jobs ?? {}).flatMap(job => job.steps ?? []), ...(doc.runs?.steps ?? [])];
}

/**
 * The first release of each action whose action.yml says `runs.using: node24` (checked in each repository's tags):
 * GitHub runners stopped running Node 20 actions in 2026. A new action goes here once its release is checked.
 */
const NODE24_SINCE: Record<string, number> = {
    "actions/checkout": 5,
    "actions/setup-node": 5,
    "azure/login": 3,
    "pulumi/actions": 7,
};

describe("runtime: Node.js 22 LTS everywhere", () => {
    it("the program and the app require Node 22 or newer (engines)", () => {
        for (const file of ["package.json", "app/package.json"]) {
            expect(json(file).engines?.node, file).to.equal(">=22");
        }
    });

    it("@types/node is an exact 22.x in the program and the app", () => {
        for (const file of ["package.json", "app/package.json"]) {
            expect(json(file).devDependencies["@types/node"], file).to.match(/^22\.\d+\.\d+$/);
        }
    });

    it("the app image builds on node:22 and runs on distroless nodejs22", () => {
        const froms = read("app/Dockerfile").split("\n").filter(l => /^FROM\s/i.test(l)).map(l => l.split(/\s+/)[1]);
        expect(froms).to.have.length(2);
        expect(froms[0]).to.match(/^node:22\.\d+\.\d+-bookworm-slim(@sha256:[0-9a-f]{64})?$/);
        expect(froms[1]).to.match(/^gcr\.io\/distroless\/nodejs22-debian12:nonroot(@sha256:[0-9a-f]{64})?$/);
    });

    it("every workflow that sets up Node sets up 22", () => {
        const versions = WORKFLOW_FILES.flatMap(file => stepsOf(yaml.load(read(file)))
            .filter(step => String(step.uses).startsWith("actions/setup-node@"))
            .map(step => [file, String(step.with?.["node-version"])]));
        expect(versions.length).to.be.greaterThan(0);
        for (const [file, version] of versions) {
            expect(version, file).to.equal("22");
        }
    });

    it("every external action is on a release that runs on Node 24", () => {
        for (const file of WORKFLOW_FILES) {
            // Actions are pinned by commit SHA with the release as a comment (`uses: a/b@<sha> # v6.1.0`): the release is read from the comment.
            const releases = new Map([...read(file).matchAll(/uses:\s*(\S+)\s+#\s*(v\d+\.\d+\.\d+)\s*$/gm)].map(m => [m[1], m[2]]));
            for (const uses of stepsOf(yaml.load(read(file))).map(step => step.uses).filter(u => u && !u.startsWith("./"))) {
                const [action, ref] = uses.split("@");
                const version = /^[0-9a-f]{40}$/.test(ref) ? releases.get(uses) : ref;
                expect(NODE24_SINCE, `${file}: ${action} is not in NODE24_SINCE; check its action.yml's runs.using`).to.have.property(action);
                expect(Number(/^v(\d+)\./.exec(version)?.[1]), `${file}: ${uses}`).to.be.at.least(NODE24_SINCE[action]);
            }
        }
    });

    it(".ci/run installs Node 22 from the npm registry where the machine's Node is another major, and refuses to test on it", () => {
        const script = read(".ci/run");
        expect(script).to.match(/^NODE_VERSION=22\.\d+\.\d+$/m);
        expect(script).to.contain('npm install --no-save --no-package-lock --no-audit --no-fund --prefix "$node_dir" "node@${NODE_VERSION}"');
        expect(script).to.contain('export PATH="$node_dir/node_modules/.bin:$PATH"');
        expect(script.indexOf("export PATH=")).to.be.below(script.indexOf("npm run setup"));
    });

    it("the README names Node.js 22", () => {
        expect(read("README.md")).to.contain("Node.js 22 LTS");
        expect(read("README.md")).to.not.match(/Node\.js 20/);
    });
});

/** Renovate's glob for package names: `**` matches anything, `*` anything but '/'. */
function globMatches(glob: string, name: string): boolean {
    const pattern = glob.split("**").map(part => part.split("*").map(s => s.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join("[^/]*")).join(".*");
    return new RegExp(`^${pattern}$`).test(name);
}

describe("supply chain", () => {
    it("Renovate proposes every Pulumi package bump in one grouped pull request", () => {
        const config = json("renovate.json");
        const pulumi = PACKAGES.flatMap(file => Object.keys({ ...json(file).dependencies, ...json(file).devDependencies }))
            .filter(name => name.startsWith("@pulumi/"));
        expect(pulumi.length).to.be.greaterThan(3);
        for (const name of new Set(pulumi)) {
            const rules = (config.packageRules as any[]).filter(rule => rule.groupName && (rule.matchPackageNames ?? []).some((g: string) => globMatches(g, name)));
            expect(rules.map(r => r.groupName), name).to.deep.equal(["Pulumi"]);
        }
    });

    it("Renovate keeps pins exact and never moves Node.js to a new major on its own", () => {
        const config = json("renovate.json");
        expect(config.rangeStrategy).to.equal("pin");
        const nodeMajor = (config.packageRules as any[]).find(rule => rule.enabled === false && rule.matchUpdateTypes?.includes("major"));
        expect(nodeMajor?.matchPackageNames).to.include.members(["node", "@types/node"]);
    });

    it("LICENSE is the Apache License 2.0, word for word, and every package says Apache-2.0", () => {
        // MD5 of the canonical https://www.apache.org/licenses/LICENSE-2.0.txt.
        expect(crypto.createHash("md5").update(read("LICENSE")).digest("hex")).to.equal("3b83ef96387f14655fc854ddc3c6bd57");
        for (const file of PACKAGES) {
            expect(json(file).license, file).to.equal("Apache-2.0");
        }
    });

    it("SECURITY.md says how to report privately and what is in scope", () => {
        const policy = read("SECURITY.md");
        for (const heading of ["## Reporting a vulnerability", "## In scope", "## Out of scope"]) {
            expect(policy).to.contain(heading);
        }
        expect(policy).to.contain("Report a vulnerability");
    });
});
