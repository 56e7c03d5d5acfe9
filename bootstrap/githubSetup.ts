// The repository side of D3, from the same module as bootstrap's federated credentials: the OIDC subject template,
// one environment per stack (and `<stack>-preview` for the gated stacks, D2) deployable from main only, and
// pull-request.yml's call of the pinned preview workflow.
//
//   npx ts-node bootstrap/githubSetup.ts <owner>/<repository> [stack ...]            # prints the gh commands
//   npx ts-node bootstrap/githubSetup.ts <owner>/<repository> [stack ...] --write    # also points pull-request.yml at it
//
// It prints rather than runs, so the commands can be reviewed (and are tested offline in tests/workflows.test.ts).
import * as fs from "fs";
import * as path from "path";
import { deployEnvironment, gatedPreviewEnvironment, gatedStacks, MAIN_REF, PREVIEW_WORKFLOW, previewWorkflowUses, subjectCustomization } from "./githubSubjects";

const shellQuote = (s: string) => `'${s.replace(/'/g, "'\\''")}'`;

/** `gh api` commands that make GitHub mint the subjects bootstrap's credentials trust. */
export function setupCommands(repository: string, stacks: readonly string[], previewStack = "dev"): string[] {
    const api = `repos/${repository}`;
    const branch = MAIN_REF.replace("refs/heads/", "");
    const gated = gatedStacks(stacks, previewStack);
    // A gated stack's preview environment comes first: its job runs before the stack's own (approval) environment's.
    const environments = stacks.flatMap(stack => gated.includes(stack) ? [gatedPreviewEnvironment(stack), deployEnvironment(stack)] : [deployEnvironment(stack)]);
    return [
        `gh api -X PUT ${api}/actions/oidc/customization/sub --input - <<< ${shellQuote(JSON.stringify(subjectCustomization()))}`,
        ...environments.flatMap(name => {
            const env = encodeURIComponent(name);
            return [
                `gh api -X PUT ${api}/environments/${env} --input - <<< ${shellQuote(JSON.stringify({ deployment_branch_policy: { protected_branches: false, custom_branch_policies: true } }))}`,
                `gh api -X POST ${api}/environments/${env}/deployment-branch-policies -f name=${branch} -f type=branch`,
            ];
        }),
    ];
}

/** pull-request.yml's text with its preview job calling `repository`'s preview workflow at main. */
export function withPreviewRepository(workflow: string, repository: string): string {
    const pattern = new RegExp(`(\\n\\s+uses: )[^\\s]+/\\.github/workflows/${PREVIEW_WORKFLOW.replace(".", "\\.")}@main\\b`);
    if (!pattern.test(workflow)) {
        throw new Error(`pull-request.yml has no call of .github/workflows/${PREVIEW_WORKFLOW}@main to point at ${repository}`);
    }
    return workflow.replace(pattern, `$1${previewWorkflowUses(repository)}`);
}

if (require.main === module) {
    const args = process.argv.slice(2);
    const write = args.includes("--write");
    const [repository, ...rest] = args.filter(a => a !== "--write");
    if (!repository || !/^[A-Za-z0-9-]{1,39}\/[A-Za-z0-9._-]{1,100}$/.test(repository)) {
        console.error("usage: ts-node bootstrap/githubSetup.ts <owner>/<repository> [stack ...] [--write]");
        process.exit(2);
    }
    const stacks = rest.length > 0 ? rest : ["dev", "prod"];
    console.log(setupCommands(repository, stacks).join("\n"));
    if (write) {
        const file = path.join(__dirname, "..", ".github", "workflows", "pull-request.yml");
        fs.writeFileSync(file, withPreviewRepository(fs.readFileSync(file, "utf8"), repository));
        console.error(`pull-request.yml now calls ${previewWorkflowUses(repository)}`);
    }
}
