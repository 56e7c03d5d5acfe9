// How a pod is who it is, in one place for every workload the program runs (apps, their checks, the provisioning Job).

/** The subject a Kubernetes ServiceAccount token carries: what a federated credential trusts. */
export function serviceAccountSubject(namespace: string, serviceAccountName: string): string {
    return `system:serviceaccount:${namespace}:${serviceAccountName}`;
}

/** The distroless image's "nonroot" user and group; every pod runs as it (matches app/Dockerfile's USER). */
export const RUN_AS_ID = 65532;
