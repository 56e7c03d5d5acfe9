// Extra token subjects an app's identity trusts besides its own cluster's ServiceAccount: the same ServiceAccount on
// another cluster (a blue/green move), and GitHub Actions jobs (a migration run from CI). GitHub subjects come from the
// one template of DECISIONS D3 (bootstrap/githubSubjects.ts). Plain functions, tested without mocks.
import { githubSubject } from "../bootstrap/githubSubjects";
import { GITHUB_ACTIONS_ISSUER } from "../policy/rules";
import { MAX_FEDERATED_CREDENTIALS } from "./federatedCredentials";

export { GITHUB_ACTIONS_ISSUER };

/** Entra ID's limit per identity (lib/federatedCredentials.ts, which refuses more at the component too). */
export const MAX_FEDERATED_CREDENTIALS_PER_IDENTITY = MAX_FEDERATED_CREDENTIALS;

/** Names WorkloadIdentity gives its ServiceAccount credentials (`kubernetes-serviceaccount`, `-2`, …); GitHub ones may not take them. */
export const OWN_CLUSTER_CREDENTIAL = "kubernetes-serviceaccount";

/**
 * The app's own ServiceAccount, as another cluster's issuer signs it (both clusters run the same namespace and name).
 * Its credential is named like the cluster's own, numbered (`kubernetes-serviceaccount-2`, …).
 */
export interface OtherClusterSubject {
    kind: "kubernetes";
    /** The other cluster's OIDC issuer URL (https). */
    issuer: string;
}

/** A GitHub Actions job, with the subject the repository's customised template (D3) puts in its token. */
export interface GithubActionsSubject {
    /** Credential name, unique per identity: 3-120 letters, digits, '-' and '_', starting with a letter or digit. */
    name: string;
    kind: "github";
    /** `<owner>/<repo>`. */
    repository: string;
    /** The workflow file under .github/workflows, e.g. `migrate.yml`. */
    workflow: string;
    /** The ref the workflow runs from, e.g. `refs/heads/main`. */
    ref: string;
    /** The job's GitHub environment; undefined = a job without one (its context is then `ref:<ref>`). */
    environment?: string;
}

export type ExtraSubject = OtherClusterSubject | GithubActionsSubject;

/** How an extra subject is named in messages: a GitHub one by its credential name, another cluster's by its issuer. */
function labelOf(extra: ExtraSubject, index: number): string {
    return extra.kind === "github" ? `extra subject ${JSON.stringify(extra.name)}`
        : extra.kind === "kubernetes" ? `extra subject ${index} (kubernetes, issuer ${extra.issuer})` : `extra subject ${index}`;
}

/**
 * The extra subjects as WorkloadIdentity takes them: other clusters' issuers join the ServiceAccount's issuers (after
 * the stack's own), GitHub jobs become GitHub trusts with the D3 template's subject.
 */
export function extraSubjectsForIdentity(extras: readonly ExtraSubject[]): { issuers: string[]; github: { name: string; subject: string }[] } {
    return {
        issuers: extras.flatMap(e => (e.kind === "kubernetes" ? [e.issuer] : [])),
        github: extras.flatMap(e => (e.kind === "github" ? [{ name: e.name, subject: extraSubjectTrust(e, "").subject }] : [])),
    };
}

/** The issuer and subject an extra subject's federated credential trusts. */
export function extraSubjectTrust(extra: ExtraSubject, serviceAccountSubject: string): { issuer: string; subject: string } {
    if (extra.kind === "kubernetes") {
        return { issuer: extra.issuer, subject: serviceAccountSubject };
    }
    const context = extra.environment !== undefined ? { environment: extra.environment } : { ref: extra.ref };
    return { issuer: GITHUB_ACTIONS_ISSUER, subject: githubSubject(extra.repository, context, extra.workflow, extra.ref) };
}

const CREDENTIAL_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{2,119}$/;
const REPOSITORY = /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/;
const WORKFLOW_FILE = /^[A-Za-z0-9_.-]+\.ya?ml$/;
const GIT_REF = /^refs\/(heads|tags)\/[^\s:]+$/;
const ENVIRONMENT = /^[^\s:]{1,255}$/;

/** Why `issuer` cannot be an OIDC issuer Entra fetches keys from, or undefined. */
export function issuerProblem(issuer: string): string | undefined {
    let url: URL;
    try {
        url = new URL(issuer);
    } catch {
        return `issuer ${JSON.stringify(issuer)} is not a URL`;
    }
    if (url.protocol !== "https:") {
        return `issuer ${issuer} must be https (Entra only fetches an issuer's discovery document over TLS)`;
    }
    if (url.search !== "" || url.hash !== "" || url.username !== "" || url.password !== "") {
        return `issuer ${issuer} must have no query, fragment or credentials`;
    }
    return undefined;
}

/**
 * Every problem with an identity's extra subjects, each naming the subject: bad names or duplicates, a non-https
 * issuer, a GitHub subject the template cannot build, a trust listed twice, and more credentials than Entra allows per
 * identity counting the `ownCredentials` (the cluster's own, 1) already there. Empty when all are sound.
 */
export function extraSubjectProblems(extras: readonly ExtraSubject[], serviceAccountSubject: string, ownCredentials = 1): string[] {
    const problems: string[] = [];
    const names = new Set<string>();
    const trusts = new Map<string, string>();
    extras.forEach((extra, index) => {
        const label = labelOf(extra, index);
        if (extra.kind === "github") {
            if (typeof extra.name !== "string" || !CREDENTIAL_NAME.test(extra.name)) {
                problems.push(`${label}: a credential name is 3-120 letters, digits, '-' and '_', starting with a letter or digit`);
            } else if (extra.name.startsWith(OWN_CLUSTER_CREDENTIAL)) {
                problems.push(`${label}: names starting ${OWN_CLUSTER_CREDENTIAL} are the ServiceAccount's credentials`);
            } else if (names.has(extra.name)) {
                problems.push(`${label} is listed twice`);
            }
            names.add(extra.name);
        }

        if (extra.kind === "kubernetes") {
            const problem = issuerProblem(extra.issuer);
            if (problem) {
                problems.push(`${label}: ${problem}`);
                return;
            }
        } else if (extra.kind === "github") {
            const bad = [
                !REPOSITORY.test(extra.repository ?? "") && `repository ${JSON.stringify(extra.repository)} is not <owner>/<repo>`,
                !WORKFLOW_FILE.test(extra.workflow ?? "") && `workflow ${JSON.stringify(extra.workflow)} is not a file name under .github/workflows ending .yml or .yaml`,
                !GIT_REF.test(extra.ref ?? "") && `ref ${JSON.stringify(extra.ref)} is not refs/heads/<branch> or refs/tags/<tag>`,
                extra.environment !== undefined && !ENVIRONMENT.test(extra.environment) && `environment ${JSON.stringify(extra.environment)} must be non-empty, without spaces or ':'`,
            ].filter((p): p is string => typeof p === "string");
            if (bad.length > 0) {
                problems.push(...bad.map(p => `${label}: ${p}`));
                return;
            }
        } else {
            problems.push(`${label}: kind must be kubernetes (another cluster's issuer) or github (a GitHub Actions job)`);
            return;
        }
        const trust = extraSubjectTrust(extra, serviceAccountSubject);
        const key = `${trust.issuer.replace(/\/$/, "")} ${trust.subject}`;
        const first = trusts.get(key);
        if (first !== undefined) {
            problems.push(`${label} trusts the same issuer and subject as ${first} (${trust.subject}); Entra allows each pair once per identity`);
        } else {
            trusts.set(key, label);
        }
    });
    if (ownCredentials + extras.length > MAX_FEDERATED_CREDENTIALS_PER_IDENTITY) {
        problems.push(`${extras.length} extra subjects + ${ownCredentials} of the cluster's own = ${ownCredentials + extras.length} federated credentials; `
            + `Entra allows at most ${MAX_FEDERATED_CREDENTIALS_PER_IDENTITY} per identity`);
    }
    return problems;
}
