// The one place GitHub OIDC subjects are built (D3). The repository's subject claim is customised to
// `repo`, `context`, `job_workflow_ref`, so a token names the repository, the job's context (environment or
// event) and the exact workflow file and ref it runs from. Bootstrap's federated credentials, the set-up
// commands that apply the customisation, and anything else that trusts a GitHub token build the subject here.
//
// GitHub: "Customizing the subject claims for an organization or repository" (OpenID Connect reference) —
// with include_claim_keys [repo, context, job_workflow_ref] a job in environment prod of deploy.yml on main gets
// `repo:<owner>/<repo>:environment:prod:job_workflow_ref:<owner>/<repo>/.github/workflows/deploy.yml@refs/heads/main`;
// the context is `environment:<name>` for a job with an environment, `pull_request` for pull-request events without
// one, `ref:<ref>` otherwise.

/** The claims, in order, the repository's OIDC subject template includes. */
export const SUBJECT_CLAIM_KEYS = ["repo", "context", "job_workflow_ref"] as const;

/** Body of `PUT /repos/{owner}/{repo}/actions/oidc/customization/sub`. */
export function subjectCustomization(): { use_default: false; include_claim_keys: string[] } {
    return { use_default: false, include_claim_keys: [...SUBJECT_CLAIM_KEYS] };
}

/** A job's context as it appears in the subject. */
export type SubjectContext = { environment: string } | { event: "pull_request" } | { ref: string };

/** The subject of a token minted for `workflowFile` at `ref` in `repository`, in `context`. */
export function githubSubject(repository: string, context: SubjectContext, workflowFile: string, ref: string): string {
    const ctx = "environment" in context ? `environment:${context.environment}`
        : "event" in context ? context.event
            : `ref:${context.ref}`;
    return `repo:${repository}:${ctx}:job_workflow_ref:${repository}/.github/workflows/${workflowFile}@${ref}`;
}

/** The branch every deploy and every trusted workflow comes from. */
export const MAIN_REF = "refs/heads/main";
/** The workflow whose jobs deploy stacks; each job runs in the GitHub environment named after its stack. */
export const DEPLOY_WORKFLOW = "deploy.yml";
/**
 * The reusable workflow that previews a pull request. pull-request.yml calls it by full path at `main`, so its
 * job_workflow_ref is the same for every pull request (`…/preview.yml@refs/heads/main`) and reviewed code decides
 * what runs with the token. A job defined in pull-request.yml itself would carry `@refs/pull/<n>/merge`, different
 * for every pull request: federated credentials on a managed identity match the subject exactly (flexible
 * credentials with wildcards, `claimsMatchingExpression`, are a preview for app registrations and are not in the
 * azure-native SDK's FederatedIdentityCredential), so that could not be trusted without trusting every workflow.
 */
export const PREVIEW_WORKFLOW = "preview.yml";

/** The GitHub environment a stack's deploy job runs in. */
export function deployEnvironment(stack: string): string {
    return stack;
}

/** What `deploy-<stack>` trusts: the stack's job of deploy.yml on main, in the stack's environment. */
export function deploySubject(repository: string, stack: string): string {
    return githubSubject(repository, { environment: deployEnvironment(stack) }, DEPLOY_WORKFLOW, MAIN_REF);
}

/**
 * The GitHub environment in which deploy.yml previews a gated stack (prod) after merge, before the stack's own
 * environment asks for approval (D2: preview → approval → up). It has no reviewers — only the main-only branch rule —
 * and its own subject, trusted by the read-only `preview-<stack>` identity: the preview runs the merged program with
 * rights to read, never to change, so nothing runs with prod's deploy identity before a person has approved.
 */
export function gatedPreviewEnvironment(stack: string): string {
    return `${stack}-preview`;
}

/** What `preview-<stack>` of a gated stack trusts: the stack's preview job of deploy.yml on main, in `<stack>-preview`. */
export function gatedPreviewSubject(repository: string, stack: string): string {
    return githubSubject(repository, { environment: gatedPreviewEnvironment(stack) }, DEPLOY_WORKFLOW, MAIN_REF);
}

/** The stacks deploy.yml gates (preview → approval → up): every stack but the one pull requests preview. */
export function gatedStacks(stacks: readonly string[], previewStack: string): string[] {
    return stacks.filter(stack => stack !== previewStack);
}

/** What `preview-<stack>` of the pull-request stack trusts: the preview workflow from main, run for a pull request. */
export function previewSubject(repository: string): string {
    return githubSubject(repository, { event: "pull_request" }, PREVIEW_WORKFLOW, MAIN_REF);
}

/** The `uses:` with which pull-request.yml calls the preview workflow. */
export function previewWorkflowUses(repository: string): string {
    return `${repository}/.github/workflows/${PREVIEW_WORKFLOW}@main`;
}

/** The GitHub repository variable holding an identity's client id, e.g. AZURE_CLIENT_ID_DEPLOY_PROD. */
export function clientIdVariable(kind: "deploy" | "preview", stack: string): string {
    return `AZURE_CLIENT_ID_${kind.toUpperCase()}_${stack.toUpperCase()}`;
}

/** The GitHub repository variable holding a stack's own state backend URL, e.g. PULUMI_BACKEND_URL_PROD. */
export function backendUrlVariable(stack: string): string {
    return `PULUMI_BACKEND_URL_${stack.toUpperCase()}`;
}
