// A stand-in for an AKS API server's SelfSubjectAccessReview endpoint, answering the way Azure RBAC for
// Kubernetes does while a new role assignment propagates: forbidden a number of times, then allowed.
export class KubernetesApiDouble {
    public readonly reviews: { url: string; token: string; resourceAttributes: Record<string, string>; epochMs: number }[] = [];

    /** @param forbiddenAnswers how many reviews are answered 403 before access "arrives". */
    constructor(private forbiddenAnswers = 0) {}

    handles(url: string): boolean {
        return /^https:\/\/[a-z0-9-]+\.hcp\.[a-z0-9]+\.azmk8s\.io(:443)?\/apis\/authorization\.k8s\.io\/v1\/selfsubjectaccessreviews$/.test(url);
    }

    readonly fetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
        const url = String(input);
        if (!this.handles(url) || init?.method !== "POST") {
            throw new Error(`unexpected network call in tests: ${init?.method ?? "GET"} ${url}`);
        }
        const headers = new Headers(init.headers);
        const body = JSON.parse(String(init.body)) as { spec: { resourceAttributes: Record<string, string> } };
        this.reviews.push({
            url, token: (headers.get("authorization") ?? "").replace(/^Bearer /, ""),
            resourceAttributes: body.spec.resourceAttributes, epochMs: Date.now(),
        });
        if (this.forbiddenAnswers > 0) {
            this.forbiddenAnswers--;
            return new Response(JSON.stringify({ kind: "Status", status: "Failure", reason: "Forbidden", code: 403 }), { status: 403 });
        }
        return new Response(JSON.stringify({ ...body, status: { allowed: true } }), { status: 201 });
    };
}
