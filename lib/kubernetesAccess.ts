// Waits until the Kubernetes API lets the deployer create what the program creates.
//
// With Azure RBAC for Kubernetes, a new role assignment on the cluster takes minutes to reach the API server's
// authorization webhook ("Role assignment changes can take up to five minutes to propagate", AKS docs,
// "Use Azure RBAC for Kubernetes authorization"); until then every request is forbidden. The Kubernetes
// provider does not retry a 403, so the first Namespace of a first `pulumi up` would fail the deploy. The
// program makes its provider's kubeconfig resolve only after this check passes.
import { Agent } from "undici";

export interface AccessCheck {
    /** API server URL, e.g. https://aks-x-dns.hcp.westeurope.azmk8s.io:443. */
    server: string;
    /** The cluster CA (base64-encoded PEM), as in a kubeconfig's certificate-authority-data. */
    caData?: string;
    /** Bearer token of the principal whose access is checked. */
    token: string;
    /** What the principal must be allowed to do (a SelfSubjectAccessReview's resourceAttributes). */
    verb: string;
    resource: string;
    group?: string;
    /** Give up after this long, ms (default 15 minutes: beyond Azure's documented propagation time). */
    timeoutMs?: number;
    /** First wait between attempts, ms; doubles up to maxDelayMs (defaults 2 s and 30 s). */
    initialDelayMs?: number;
    maxDelayMs?: number;
}

export interface AccessResult {
    attempts: number;
    elapsedMs: number;
}

type Verdict = { allowed: true } | { allowed: false; why: string };

async function review(check: AccessCheck, dispatcher: Agent | undefined): Promise<Verdict> {
    const url = `${check.server.replace(/\/$/, "")}/apis/authorization.k8s.io/v1/selfsubjectaccessreviews`;
    let response: Response;
    try {
        response = await fetch(url, {
            method: "POST",
            headers: { "content-type": "application/json", accept: "application/json", authorization: `Bearer ${check.token}` },
            body: JSON.stringify({
                apiVersion: "authorization.k8s.io/v1",
                kind: "SelfSubjectAccessReview",
                spec: { resourceAttributes: { verb: check.verb, resource: check.resource, group: check.group ?? "" } },
            }),
            signal: AbortSignal.timeout(30_000),
            // Node's fetch takes an undici dispatcher; it carries the cluster's own CA.
            ...(dispatcher ? { dispatcher } : {}),
        } as RequestInit);
    } catch (error) {
        return { allowed: false, why: `no answer from ${url}: ${(error as Error).message}` };
    }
    const body = await response.text();
    if (response.status === 401 || response.status === 403) {
        return { allowed: false, why: `${response.status} ${body.slice(0, 200)}` };
    }
    if (!response.ok) {
        return { allowed: false, why: `${response.status} from the API server: ${body.slice(0, 200)}` };
    }
    const status = (JSON.parse(body) as { status?: { allowed?: boolean; reason?: string } }).status;
    return status?.allowed === true
        ? { allowed: true }
        : { allowed: false, why: `not allowed to ${check.verb} ${check.resource}${status?.reason ? `: ${status.reason}` : ""}` };
}

/**
 * Polls a SelfSubjectAccessReview with exponential backoff until it is allowed; rejects after `timeoutMs` with
 * the last reason. Forbidden and not-yet-allowed answers are what propagation looks like, so both are retried.
 */
export async function waitForKubernetesAccess(check: AccessCheck): Promise<AccessResult> {
    const timeoutMs = check.timeoutMs ?? 15 * 60_000;
    const maxDelayMs = check.maxDelayMs ?? 30_000;
    let delayMs = check.initialDelayMs ?? 2_000;
    const dispatcher = check.caData
        ? new Agent({ connect: { ca: Buffer.from(check.caData, "base64").toString("utf8") } })
        : undefined;
    const started = Date.now();
    try {
        for (let attempts = 1; ; attempts++) {
            const verdict = await review(check, dispatcher);
            const elapsedMs = Date.now() - started;
            if (verdict.allowed) {
                return { attempts, elapsedMs };
            }
            if (elapsedMs + delayMs > timeoutMs) {
                throw new Error(`The Kubernetes API at ${check.server} still refuses to let the deployer ${check.verb} ${check.resource} `
                    + `after ${attempts} attempts over ${Math.round(elapsedMs / 1000)} s (${verdict.why}). The deployer needs `
                    + "\"Azure Kubernetes Service RBAC Cluster Admin\" on the cluster: bootstrap/ grants it to CI's deploy identity; "
                    + "a person lists their object id under `deployers` in their stack's config.");
            }
            await new Promise(resolve => setTimeout(resolve, delayMs));
            delayMs = Math.min(delayMs * 2, maxDelayMs);
        }
    } finally {
        await dispatcher?.close();
    }
}
