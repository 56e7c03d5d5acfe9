// No runner here executes GitHub Actions, so the workflows are proven offline: every file validates against
// the GitHub Actions schema (@action-validator/cli), and the facts that matter are asserted on the parsed YAML.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { expect } from "chai";
import * as yaml from "js-yaml";
import { ROOT } from "./harness";
import {
    backendUrlVariable, clientIdVariable, DEPLOY_WORKFLOW, deployEnvironment, deploySubject, gatedPreviewEnvironment, gatedPreviewSubject, MAIN_REF,
    PREVIEW_WORKFLOW, previewSubject, previewWorkflowUses, SUBJECT_CLAIM_KEYS,
} from "../bootstrap/githubSubjects";
import { setupCommands, withPreviewRepository } from "../bootstrap/githubSetup";

const WORKFLOWS = path.join(ROOT, ".github", "workflows");
const ACTION = path.join(ROOT, ".github", "actions", "pulumi", "action.yml");
const files = [...fs.readdirSync(WORKFLOWS).filter(f => f.endsWith(".yml")).map(f => path.join(WORKFLOWS, f)), ACTION];
const load = (file: string) => yaml.load(fs.readFileSync(file, "utf8")) as any;
const pr = load(path.join(WORKFLOWS, "pull-request.yml"));
const deploy = load(path.join(WORKFLOWS, "deploy.yml"));
const preview = load(path.join(WORKFLOWS, "preview.yml"));
const action = load(ACTION);
/** The validator's own entry point (its package exports nothing else). */
const VALIDATOR = path.join(ROOT, "node_modules", "@action-validator", "cli", "cli.mjs");
/** Where prod's jobs run (D1): the labels (or runner group) in PROD_RUNNER, by default self-hosted runners labelled prod. */
const PROD_RUNS_ON = `\${{ fromJSON(vars.PROD_RUNNER || '["self-hosted","prod"]') }}`;

/** Every `uses:` in a file, at job or step level. */
function usesOf(doc: any): string[] {
    const found: string[] = [];
    const walk = (node: any) => {
        if (Array.isArray(node)) {
            node.forEach(walk);
        } else if (node && typeof node === "object") {
            for (const [k, v] of Object.entries(node)) {
                if (k === "uses" && typeof v === "string") {
                    found.push(v);
                } else {
                    walk(v);
                }
            }
        }
    };
    walk(doc);
    return found;
}

/** A job that calls the preview workflow pinned at main (it signs in through that workflow). */
const callsPreview = (job: any) => typeof job.uses === "string" && /\/\.github\/workflows\/preview\.yml@main$/.test(job.uses);

/** Steps that run the Pulumi composite action, with their inputs. */
function pulumiSteps(job: any): Record<string, string>[] {
    return (job.steps ?? []).filter((s: any) => s.uses === "./.github/actions/pulumi").map((s: any) => s.with);
}

describe("workflows: schema", () => {
    for (const file of files) {
        it(`${path.relative(ROOT, file)} is a valid GitHub Actions ${file === ACTION ? "action" : "workflow"}`, () => {
            const result = spawnSync(process.execPath, [VALIDATOR, file], { encoding: "utf8" });
            expect(result.status, result.stdout + result.stderr).to.equal(0);
        });
    }

    it("the validator really rejects a broken workflow", () => {
        const broken = path.join(require("os").tmpdir(), "broken-workflow.yml");
        fs.writeFileSync(broken, "name: x\non: push\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    stepz: []\n");
        const result = spawnSync(process.execPath, [VALIDATOR, broken], { encoding: "utf8" });
        expect(result.status).to.not.equal(0);
    });
});

describe("workflows: the facts that matter", () => {
    it("every external action is pinned to an exact version or a commit", () => {
        for (const file of files) {
            // The one exception: pull-request.yml calls this repository's own preview workflow at main, because the
            // preview identity trusts exactly that workflow ref (see the subject test below).
            for (const uses of usesOf(load(file)).filter(u => !u.startsWith("./") && !(file.endsWith("pull-request.yml") && u === pr.jobs.preview.uses))) {
                expect(uses, `${path.basename(file)}: ${uses}`).to.match(/@(v\d+\.\d+\.\d+|[0-9a-f]{40})$/);
            }
        }
    });

    it("workflows grant only read access by default; id-token: write appears only on jobs that sign in to Azure", () => {
        for (const file of files.filter(f => f !== ACTION)) {
            const doc = load(file);
            expect(doc.permissions, path.basename(file)).to.deep.equal({ contents: "read" });
            for (const [name, job] of Object.entries<any>(doc.jobs)) {
                const signsIn = pulumiSteps(job).length > 0 || callsPreview(job);
                expect(job.permissions?.["id-token"] === "write", `${path.basename(file)}/${name}`).to.equal(signsIn);
            }
        }
    });

    it("the pull-request workflow runs on pull_request (never pull_request_target) and never deploys", () => {
        expect(Object.keys(pr.on)).to.deep.equal(["pull_request"]);
        expect(Object.values<any>(pr.jobs).flatMap(pulumiSteps)).to.deep.equal([]);
        expect(Object.keys(preview.on)).to.deep.equal(["workflow_call"]);
        const commands = Object.values<any>(preview.jobs).flatMap(pulumiSteps).map(w => w.command);
        expect(commands).to.deep.equal(["preview"]);
        for (const file of ["pull-request.yml", "preview.yml"]) {
            expect(fs.readFileSync(path.join(WORKFLOWS, file), "utf8")).to.not.match(/command:\s*(up|destroy|refresh)/);
        }
    });

    it("pull requests from forks get no cloud credentials", () => {
        expect(pr.jobs.preview.if).to.equal("github.event.pull_request.head.repo.full_name == github.repository");
    });

    it("pull requests preview dev only (D2), with the policy pack", () => {
        expect(pr.jobs.preview.strategy).to.equal(undefined);
        const steps = Object.values<any>(preview.jobs).flatMap(pulumiSteps);
        expect(steps).to.have.length(1);
        expect(steps[0]).to.include({ stack: "dev", "client-id": `\${{ vars.${clientIdVariable("preview", "dev")} }}` });
        expect(JSON.stringify([pr, preview])).to.not.match(/prod/i);
        const pulumiAction = action.runs.steps.find((s: any) => String(s.uses).startsWith("pulumi/actions@"));
        expect(pulumiAction.with).to.include({ policyPacks: "policy", refresh: "${{ inputs.refresh == 'true' }}" });
        expect(action.inputs.refresh.default).to.equal("false");
    });

    // D2: the PR comment is posted by a job that runs none of the PR's code; the job that does run it cannot write.
    it("the job that runs the pull request's code cannot write to the pull request, and never comments itself", () => {
        expect(preview.jobs.preview.permissions).to.deep.equal({ contents: "read", "id-token": "write" });
        const pulumiAction = action.runs.steps.find((s: any) => String(s.uses).startsWith("pulumi/actions@"));
        expect(pulumiAction.with["comment-on-pr"]).to.equal(false);
        expect(action.inputs).to.not.have.property("comment-on-pr");
    });

    it("a separate job posts the preview: no checkout, no action of this repository, no install, only pull-requests: write", () => {
        const comment = preview.jobs.comment;
        expect(comment.needs).to.equal("preview");
        expect(comment.permissions).to.deep.equal({ "pull-requests": "write" });
        expect(usesOf(comment)).to.deep.equal([]);
        const script = comment.steps.map((s: any) => s.run ?? "").join("\n");
        expect(script).to.not.match(/\b(npm|npx|node|git)\b|^\s*pulumi\b/m);
        // The preview text reaches the script through the environment, never spliced into it.
        expect(script).to.not.contain("${{");
        expect(comment.steps[0].env.PREVIEW).to.equal("${{ needs.preview.outputs.preview }}");
    });

    it("the pull request passes the preview only the secrets it needs, never all of them", () => {
        expect(pr.jobs.preview).to.not.have.property("secrets", "inherit");
        expect(Object.keys(pr.jobs.preview.secrets).sort()).to.deep.equal(["PULUMI_ACCESS_TOKEN", "PULUMI_CONFIG_PASSPHRASE"]);
    });

    it("tests run before any preview or deploy", () => {
        expect(pr.jobs.preview.needs).to.equal("test");
        expect(deploy.jobs.dev.needs).to.equal("test");
        for (const doc of [pr, deploy]) {
            expect(doc.jobs.test.uses).to.equal("./.github/workflows/test.yml");
        }
    });

    it("main deploys dev, then previews and deploys prod — each up in the GitHub environment named after its stack (prod: required reviewers)", () => {
        expect(deploy.on.push.branches).to.deep.equal(["main"]);
        expect(pulumiSteps(deploy.jobs.dev)[0]).to.include({ command: "up", stack: "dev" });
        expect(pulumiSteps(deploy.jobs.prod)[0]).to.include({ command: "up", stack: "prod" });
        expect(deploy.jobs["prod-preview"].needs).to.equal("dev");
        expect(deploy.jobs.prod.needs).to.equal("prod-preview");
        expect(deploy.jobs.prod.environment).to.equal("prod");
        expect(deploy.jobs.dev.environment).to.equal("dev");
    });

    it("each job that signs in has exactly the token subject its identity trusts (bootstrap/githubSubjects.ts)", () => {
        const repo = "contoso/aks-pg-passwordless";
        // What GitHub puts in `sub` with the customised template, from where the job really is.
        for (const stack of ["dev", "prod"]) {
            const subject = `repo:${repo}:environment:${deploy.jobs[stack].environment}:job_workflow_ref:${repo}/.github/workflows/deploy.yml@${MAIN_REF}`;
            expect(subject).to.equal(deploySubject(repo, stack));
        }
        expect(fs.existsSync(path.join(WORKFLOWS, DEPLOY_WORKFLOW))).to.equal(true);
        expect(fs.existsSync(path.join(WORKFLOWS, PREVIEW_WORKFLOW))).to.equal(true);
        // The preview job has no environment, so its context is the event; its workflow ref is the pinned preview.yml.
        const [owner, name] = pr.jobs.preview.uses.split("/");
        const called = `${owner}/${name}`;
        expect(pr.jobs.preview.uses).to.equal(previewWorkflowUses(called));
        expect(Object.values<any>(preview.jobs).every(j => j.environment === undefined)).to.equal(true);
        expect(`repo:${called}:pull_request:job_workflow_ref:${called}/.github/workflows/preview.yml@${MAIN_REF}`).to.equal(previewSubject(called));
    });

    it("nothing refreshes but a hand-started prod deploy asked to (the lock procedure's last step)", () => {
        expect(pulumiSteps(preview.jobs.preview)[0].refresh).to.equal(undefined);
        expect(pulumiSteps(deploy.jobs.dev)[0].refresh).to.equal(undefined);
        // The prod preview never refreshes: preview-prod holds no database role for the PostgreSQL provider to read with.
        expect(pulumiSteps(deploy.jobs["prod-preview"])[0].refresh).to.equal(undefined);
        expect(pulumiSteps(deploy.jobs.prod)[0].refresh).to.equal("${{ github.event_name == 'workflow_dispatch' && inputs.refresh }}");
        expect(deploy.on.workflow_dispatch.inputs.refresh).to.include({ type: "boolean", default: false });
    });

    it("two runs never update one stack at once", () => {
        for (const stack of ["dev", "prod"]) {
            expect(deploy.jobs[stack].concurrency).to.deep.equal({ group: `pulumi-${stack}`, "cancel-in-progress": false });
        }
        expect(pr.concurrency.group).to.contain("github.event.pull_request.number");
    });

    it("Azure sign-in is OIDC only: no client secret or credentials JSON anywhere", () => {
        for (const file of files) {
            const text = fs.readFileSync(file, "utf8");
            expect(text, path.basename(file)).to.not.match(/client-secret|ARM_CLIENT_SECRET|AZURE_CREDENTIALS|creds:/);
        }
        expect(deploy.env.ARM_USE_OIDC).to.equal("true");
        expect(preview.jobs.preview.env.ARM_USE_OIDC).to.equal("true");
        const login = action.runs.steps.find((s: any) => String(s.uses).startsWith("azure/login@"));
        expect(Object.keys(login.with)).to.have.members(["client-id", "tenant-id", "subscription-id"]);
    });

    it("the preview identity previews, and each stack is deployed by its own deploy identity", () => {
        const variable = (name: string) => `\${{ vars.${name} }}`;
        expect(preview.jobs.preview.env.ARM_CLIENT_ID).to.equal(variable(clientIdVariable("preview", "dev")));
        expect(pulumiSteps(preview.jobs.preview)[0]["state-permissions"]).to.equal("rl");
        expect(deploy.env.ARM_CLIENT_ID).to.equal(undefined);
        for (const stack of ["dev", "prod"]) {
            expect(deploy.jobs[stack].env.ARM_CLIENT_ID).to.equal(variable(clientIdVariable("deploy", stack)));
            expect(pulumiSteps(deploy.jobs[stack])[0]["client-id"]).to.equal(variable(clientIdVariable("deploy", stack)));
        }
    });
});

// Issue 15: the prod gate (D2), per-stack state (D2) and the supply chain. Each of these failed on the workflows before.
describe("workflows: prod only through its gate (D2)", () => {
    const REPO = "contoso/aks-pg-passwordless";
    /** The `sub` GitHub mints for a job of deploy.yml on main, from where the job really is. */
    const deployJobSubject = (job: any) => job.environment === undefined
        ? `repo:${REPO}:ref:${MAIN_REF}:job_workflow_ref:${REPO}/.github/workflows/${DEPLOY_WORKFLOW}@${MAIN_REF}`
        : `repo:${REPO}:environment:${job.environment}:job_workflow_ref:${REPO}/.github/workflows/${DEPLOY_WORKFLOW}@${MAIN_REF}`;
    /** What each identity trusts, from the one subject template. */
    const trusted: Record<string, string> = {
        [clientIdVariable("deploy", "dev")]: deploySubject(REPO, "dev"),
        [clientIdVariable("deploy", "prod")]: deploySubject(REPO, "prod"),
        [clientIdVariable("preview", "dev")]: previewSubject(REPO),
        [clientIdVariable("preview", "prod")]: gatedPreviewSubject(REPO, "prod"),
    };
    const signingJobs = Object.entries<any>(deploy.jobs).filter(([, job]) => pulumiSteps(job).length > 0);

    it("prod is previewed after merge, then waits for the prod environment's approval, then `up` runs (preview → approval → up)", () => {
        const previewJob = deploy.jobs["prod-preview"];
        expect(pulumiSteps(previewJob)).to.have.length(1);
        expect(pulumiSteps(previewJob)[0]).to.include({ command: "preview", stack: "prod" });
        expect(previewJob.needs).to.equal("dev");
        expect(previewJob.environment).to.equal(gatedPreviewEnvironment("prod"));
        expect(deploy.jobs.prod.needs).to.equal("prod-preview");
        expect(deploy.jobs.prod.environment).to.equal(deployEnvironment("prod"));
        // The only job that runs `up` of prod is the one in the prod environment (required reviewers).
        const prodUps = signingJobs.filter(([, job]) => pulumiSteps(job).some(w => w.command === "up" && w.stack === "prod"));
        expect(prodUps.map(([name]) => name)).to.deep.equal(["prod"]);
    });

    it("no workflow but deploy.yml's prod job names deploy-prod's client id, and no pull-request job names any prod identity", () => {
        const deployProd = `vars.${clientIdVariable("deploy", "prod")}`;
        for (const file of files) {
            const doc = load(file);
            for (const [name, job] of Object.entries<any>(doc.jobs ?? {})) {
                const text = JSON.stringify(job);
                const isProdJob = file.endsWith(DEPLOY_WORKFLOW) && name === "prod";
                expect(text.includes(deployProd), `${path.basename(file)}/${name}`).to.equal(isProdJob);
                if (isProdJob) {
                    expect(job.environment).to.equal("prod");
                }
            }
        }
        expect(JSON.stringify([pr, preview])).to.not.match(/PREVIEW_PROD|DEPLOY_PROD/);
        // No pull-request job runs in an environment, so none can reach an environment's secrets (prod's passphrase).
        expect([...Object.values<any>(pr.jobs), ...Object.values<any>(preview.jobs)].map(j => j.environment)).to.deep.equal([undefined, undefined, undefined, undefined]);
    });

    it("the preview and the up check out the same commit", () => {
        for (const name of ["prod-preview", "prod"]) {
            const checkout = deploy.jobs[name].steps.find((s: any) => String(s.uses).startsWith("actions/checkout@"));
            expect(checkout.with?.ref, name).to.equal("${{ github.sha }}");
        }
    });

    it("each deploy job signs in as the identity that trusts exactly its own subject", () => {
        for (const [name, job] of signingJobs) {
            const variable = /^\$\{\{ vars\.(\w+) \}\}$/.exec(pulumiSteps(job)[0]["client-id"])![1];
            expect(trusted[variable], `${name} signs in as ${variable}`).to.equal(deployJobSubject(job));
        }
    });

    it("the four subjects differ: no dev job and no pull-request job can sign in as a prod identity", () => {
        expect(new Set(Object.values(trusted)).size).to.equal(4);
        for (const prodSubject of [deploySubject(REPO, "prod"), gatedPreviewSubject(REPO, "prod")]) {
            expect(deployJobSubject(deploy.jobs.dev)).to.not.equal(prodSubject);
            expect(previewSubject(REPO)).to.not.equal(prodSubject);
        }
        // The prod preview identity is never the dev preview identity, and never deploy-prod.
        expect(pulumiSteps(deploy.jobs["prod-preview"])[0]["client-id"]).to.equal(`\${{ vars.${clientIdVariable("preview", "prod")} }}`);
    });

    it("prod jobs run on the prod runners (D1); pull-request previews and dev never do", () => {
        for (const name of ["prod-preview", "prod"]) {
            expect(deploy.jobs[name]["runs-on"], name).to.equal(PROD_RUNS_ON);
        }
        for (const job of [deploy.jobs.dev, ...Object.values<any>(preview.jobs)]) {
            expect(String(job["runs-on"])).to.not.contain("PROD_RUNNER");
        }
    });

    it("one deploy run at a time: a second run waits for the first's approval instead of previewing prod against stale state", () => {
        expect(deploy.concurrency).to.deep.equal({ group: "deploy", "cancel-in-progress": false });
    });

    it("each stack's jobs use that stack's state backend and nothing else's", () => {
        const backend = (stack: string) => `\${{ vars.${backendUrlVariable(stack)} }}`;
        expect(pulumiSteps(preview.jobs.preview)[0]["backend-url"]).to.equal(backend("dev"));
        for (const [, job] of signingJobs) {
            const step = pulumiSteps(job)[0];
            expect(step["backend-url"]).to.equal(backend(step.stack));
        }
        for (const doc of [deploy, preview]) {
            expect(JSON.stringify(doc)).to.not.contain("vars.PULUMI_BACKEND_URL }}");
        }
        expect(JSON.stringify(preview)).to.not.contain(backendUrlVariable("prod"));
    });

    it("the state SAS is minted for the stack's own container, taken from its backend URL", () => {
        expect(action.inputs["backend-url"].required).to.equal(true);
        const sas = action.runs.steps.find((s: any) => /generate-sas/.test(s.run ?? ""));
        expect(sas.run).to.contain('--name "$container"');
        expect(sas.run).to.not.contain("AZURE_STORAGE_CONTAINER");
    });
});

describe("workflows: supply chain", () => {
    it("every action outside this repository is pinned to a full commit SHA, with the version as a comment", () => {
        for (const file of files) {
            for (const line of fs.readFileSync(file, "utf8").split("\n").filter(l => /^\s*-?\s*uses:/.test(l))) {
                const uses = line.replace(/^\s*-?\s*uses:\s*/, "");
                if (uses.startsWith("./")) {
                    continue;
                }
                // The one exception: pull-request.yml calls this repository's own preview workflow at main, because the
                // preview identity trusts exactly that workflow ref (the subject tests above).
                if (file.endsWith("pull-request.yml") && uses === pr.jobs.preview.uses) {
                    continue;
                }
                expect(uses, `${path.basename(file)}: ${uses}`).to.match(/^[\w.-]+\/[\w.-]+(\/[\w./-]+)?@[0-9a-f]{40} # v\d+\.\d+\.\d+$/);
            }
        }
    });

    it("one pin per action: every file uses the same commit of the same action", () => {
        const pins = new Map<string, Set<string>>();
        for (const file of files) {
            for (const uses of usesOf(load(file)).filter(u => !u.startsWith("./") && u !== pr.jobs.preview.uses)) {
                const [name, ref] = uses.split("@");
                pins.set(name, (pins.get(name) ?? new Set()).add(ref));
            }
        }
        for (const [name, refs] of pins) {
            expect([...refs], name).to.have.length(1);
        }
    });

    it("the Pulumi CLI is the SDK's version, downloaded with its SHA-256 checked, and pulumi/actions uses that one", () => {
        const sdk = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")).dependencies["@pulumi/pulumi"];
        const install = action.runs.steps.find((s: any) => s.name?.startsWith("Install the Pulumi CLI"));
        expect(install.env.PULUMI_VERSION).to.equal(sdk);
        expect(install.env.PULUMI_SHA256_LINUX_X64).to.match(/^[0-9a-f]{64}$/);
        expect(install.env.PULUMI_SHA256_LINUX_ARM64).to.match(/^[0-9a-f]{64}$/);
        expect(install.run).to.match(/sha256sum --check --strict/);
        expect(install.run).to.contain("releases/download/v${PULUMI_VERSION}/");
        const steps: any[] = action.runs.steps;
        const pulumiAction = steps.find(s => String(s.uses).startsWith("pulumi/actions@"));
        expect(pulumiAction.with["pulumi-version"]).to.equal(sdk);
        expect(steps.indexOf(install)).to.be.lessThan(steps.indexOf(pulumiAction));
    });

    it("the jobs that hold Azure tokens install without running any package's install scripts", () => {
        const install = action.runs.steps.find((s: any) => /npm ci/.test(s.run ?? ""));
        const commands = install.run.split("&&").map((c: string) => c.trim());
        expect(commands).to.have.length(2);
        for (const command of commands) {
            expect(command).to.match(/^npm ci .*--ignore-scripts/);
        }
        // Installed before Azure sign-in, so nothing an install does can use the token.
        const steps: any[] = action.runs.steps;
        expect(steps.indexOf(install)).to.be.lessThan(steps.findIndex(s => String(s.uses).startsWith("azure/login@")));
    });

    it("CI audits the production dependencies of the program, the app and the policy pack", () => {
        const audit = load(path.join(WORKFLOWS, "test.yml")).jobs.audit;
        const runs = audit.steps.map((s: any) => s.run).filter(Boolean);
        expect(runs).to.have.members([
            "npm audit --omit=dev --audit-level=high",
            "npm audit --omit=dev --audit-level=high --prefix app",
            "npm audit --omit=dev --audit-level=high --prefix policy",
        ]);
        expect(audit.permissions ?? load(path.join(WORKFLOWS, "test.yml")).permissions).to.deep.equal({ contents: "read" });
    });

    it("nothing in CI installs kubelogin (the program takes its Kubernetes token from the azure-native provider)", () => {
        for (const file of files) {
            expect(fs.readFileSync(file, "utf8"), path.basename(file)).to.not.match(/kubelogin|install-cli/i);
        }
    });

    it("the app's base images are pinned by digest, and Renovate keeps the digests current", () => {
        const froms = fs.readFileSync(path.join(ROOT, "app", "Dockerfile"), "utf8").split("\n").filter(l => /^FROM /.test(l));
        expect(froms).to.have.length(2);
        for (const from of froms) {
            expect(from).to.match(/^FROM [\w./-]+:[\w.-]+@sha256:[0-9a-f]{64}( AS \w+)?$/);
        }
        const renovate = JSON.parse(fs.readFileSync(path.join(ROOT, "renovate.json"), "utf8"));
        const dockerRule = renovate.packageRules.find((r: any) => (r.matchManagers ?? []).includes("dockerfile"));
        expect(dockerRule.pinDigests).to.equal(true);
    });
});

describe("workflows: the repository set-up comes from the one subject template (bootstrap/githubSetup.ts)", () => {
    const repo = "fabrikam/payments";
    const commands = setupCommands(repo, ["dev", "prod"]);
    const body = (command: string) => JSON.parse(/<<< '(.*)'$/.exec(command)![1]);

    it("customises the subject to exactly the claims the credentials' subjects are built from", () => {
        const [custom] = commands;
        expect(custom).to.match(new RegExp(`^gh api -X PUT repos/${repo}/actions/oidc/customization/sub `));
        expect(body(custom)).to.deep.equal({ use_default: false, include_claim_keys: [...SUBJECT_CLAIM_KEYS] });
        // Each subject bootstrap trusts is those claims, in that order.
        expect(deploySubject(repo, "prod").split(":").filter((_, i) => i % 2 === 0).slice(0, 3)).to.deep.equal(["repo", "environment", "job_workflow_ref"]);
    });

    it("creates one environment per stack, named as the deploy jobs name them, deployable from main only", () => {
        for (const stack of ["dev", "prod"]) {
            expect(deploy.jobs[stack].environment).to.equal(stack);
            const put = commands.find(c => c.includes(`/environments/${stack} `))!;
            expect(body(put)).to.deep.equal({ deployment_branch_policy: { protected_branches: false, custom_branch_policies: true } });
            expect(commands).to.include(`gh api -X POST repos/${repo}/environments/${stack}/deployment-branch-policies -f name=main -f type=branch`);
        }
    });

    it("creates the prod-preview environment the prod preview job runs in, deployable from main only, before prod's", () => {
        const env = deploy.jobs["prod-preview"].environment;
        expect(env).to.equal(gatedPreviewEnvironment("prod"));
        const put = commands.findIndex(c => c.includes(`/environments/${env} `));
        expect(body(commands[put])).to.deep.equal({ deployment_branch_policy: { protected_branches: false, custom_branch_policies: true } });
        expect(commands[put + 1]).to.equal(`gh api -X POST repos/${repo}/environments/${env}/deployment-branch-policies -f name=main -f type=branch`);
        expect(put).to.be.lessThan(commands.findIndex(c => c.includes("/environments/prod ")));
        // dev, previewed by pull requests, has no gated preview environment.
        expect(commands.some(c => c.includes("/environments/dev-preview"))).to.equal(false);
    });

    it("points pull-request.yml's preview call at the repository, changing nothing else", () => {
        const text = fs.readFileSync(path.join(WORKFLOWS, "pull-request.yml"), "utf8");
        const rewritten = withPreviewRepository(text, repo);
        expect(yaml.load(rewritten)).to.deep.equal({ ...pr, jobs: { ...pr.jobs, preview: { ...pr.jobs.preview, uses: previewWorkflowUses(repo) } } });
        expect(() => withPreviewRepository("jobs: {}\n", repo)).to.throw("no call of .github/workflows/preview.yml@main");
    });
});
