// How a pod is who it is and what it may do, in one place for every workload the program runs (apps, their checks, the
// provisioning Job): the Pod Security "restricted" container settings and the one small size they all need.

/** The subject a Kubernetes ServiceAccount token carries: what a federated credential trusts. */
export function serviceAccountSubject(namespace: string, serviceAccountName: string): string {
    return `system:serviceaccount:${namespace}:${serviceAccountName}`;
}

/** The distroless image's "nonroot" user and group; every pod runs as it (matches app/Dockerfile's USER). */
export const RUN_AS_ID = 65532;

/** Every container: no privilege escalation, read-only root file system, no Linux capabilities (Pod Security "restricted"). */
export const RESTRICTED_CONTAINER_SECURITY = {
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    capabilities: { drop: ["ALL"] },
};

/** Requests and limits of the app image's processes (the service, its check, the provisioner). */
export const SMALL_CONTAINER_RESOURCES = {
    requests: { cpu: "50m", memory: "64Mi" },
    limits: { cpu: "500m", memory: "256Mi" },
};
