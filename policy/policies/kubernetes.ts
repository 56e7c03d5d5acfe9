// Kubernetes workloads: no credentials in the environment, Pod Security "restricted", pinned images, namespaces
// that enforce it, and pods labelled for the workload identity webhook.
import type { StackValidationArgs, StackValidationPolicy } from "@pulumi/policy";
import { Candidate, podTemplateOf } from "../families";
import { CLIENT_ID_ANNOTATION, isCredentialEnvName, isPinnedImage, POD_SECURITY_ENFORCE_LABEL, POD_SECURITY_LEVEL, USE_LABEL } from "../rules";
import { familyPolicy, peekCandidates, Props } from "./common";

function containersOf(pod: Props): Props[] {
    return [...(pod.spec?.initContainers ?? []), ...(pod.spec?.ephemeralContainers ?? []), ...(pod.spec?.containers ?? [])];
}

function podOf(c: Candidate): Props | undefined {
    return c.kind ? podTemplateOf(c.kind, c.props) : undefined;
}

export const noPasswords = familyPolicy(
    "no-passwords",
    "No container gets a credential through its environment (a variable named like a password, DATABASE_URL or a connection string, or read from a Secret), and no Secret or ConfigMap holds one.",
    ["workload", "secret", "configMap"],
    (c, report) => {
        if (c.family === "secret" || c.family === "configMap") {
            // A ConfigMap's keys become variable names through envFrom, so its keys follow the same rule.
            const keys = [...Object.keys(c.props.data ?? {}), ...Object.keys(c.props.stringData ?? {})];
            for (const key of keys.filter(isCredentialEnvName)) {
                report(`${c.kind} key "${key}" carries a credential`);
            }
            return;
        }
        for (const container of containersOf(podOf(c) ?? {})) {
            for (const env of container.env ?? []) {
                if (isCredentialEnvName(env.name ?? "")) {
                    report(`container "${container.name}" env ${env.name} carries a credential`);
                }
                if (env.valueFrom?.secretKeyRef) {
                    report(`container "${container.name}" env ${env.name} reads a Secret`);
                }
            }
            for (const from of container.envFrom ?? []) {
                if (from.secretRef) {
                    report(`container "${container.name}" loads a whole Secret into its environment`);
                }
            }
        }
    });

export const podSecurityRestricted = familyPolicy(
    "pod-security-restricted",
    "Pods meet the Pod Security 'restricted' standard and more: non-root, RuntimeDefault seccomp, no privilege escalation, all capabilities dropped, read-only root filesystem, no host namespaces or host paths, requests and limits set. A patch may omit these, but may not set anything weaker.",
    ["workload"],
    (c, report) => {
        const pod = podOf(c);
        const spec = pod?.spec;
        if (!spec) {
            return;
        }
        if (spec.hostNetwork || spec.hostPID || spec.hostIPC) {
            report("pods must not use host namespaces");
        }
        if ((spec.volumes ?? []).some((v: Props) => v.hostPath)) {
            report("pods must not mount host paths");
        }
        const podContext = spec.securityContext ?? {};
        const patch = c.patch === true;
        if (patch) {
            // A patch may weaken the pod's defaults without naming a container.
            const seccomp = podContext.seccompProfile?.type;
            if (podContext.runAsNonRoot === false || podContext.runAsUser === 0) {
                report("a patch must not let the pod run as root");
            }
            if (seccomp !== undefined && seccomp !== "RuntimeDefault" && seccomp !== "Localhost") {
                report(`a patch must not set the pod's seccompProfile to ${String(seccomp)}`);
            }
        }
        for (const container of containersOf(pod!)) {
            const sc = container.securityContext ?? {};
            const who = `container "${container.name}"`;
            const runAsNonRoot = sc.runAsNonRoot ?? podContext.runAsNonRoot;
            if (patch ? runAsNonRoot === false : runAsNonRoot !== true) {
                report(`${who} must run with runAsNonRoot: true`);
            }
            if ((sc.runAsUser ?? podContext.runAsUser) === 0) {
                report(`${who} must not run as UID 0`);
            }
            const seccomp = (sc.seccompProfile ?? podContext.seccompProfile)?.type;
            if ((!patch || seccomp !== undefined) && seccomp !== "RuntimeDefault" && seccomp !== "Localhost") {
                report(`${who} needs seccompProfile RuntimeDefault`);
            }
            if (patch ? sc.allowPrivilegeEscalation === true : sc.allowPrivilegeEscalation !== false) {
                report(`${who} must set allowPrivilegeEscalation: false`);
            }
            if (sc.privileged === true) {
                report(`${who} must not be privileged`);
            }
            // capabilities.drop is replaced as a whole, so a patch that sets it must still drop ALL.
            if ((!patch || sc.capabilities?.drop !== undefined) && !(sc.capabilities?.drop ?? []).includes("ALL")) {
                report(`${who} must drop ALL capabilities`);
            }
            if ((sc.capabilities?.add ?? []).some((cap: string) => cap !== "NET_BIND_SERVICE")) {
                report(`${who} may add no capability but NET_BIND_SERVICE`);
            }
            if (patch ? sc.readOnlyRootFilesystem === false : sc.readOnlyRootFilesystem !== true) {
                report(`${who} must have a read-only root filesystem`);
            }
            if (!patch && (!container.resources?.requests?.cpu || !container.resources?.requests?.memory || !container.resources?.limits?.cpu || !container.resources?.limits?.memory)) {
                report(`${who} must set cpu and memory requests and limits`);
            }
        }
    });

export const imagesPinned = familyPolicy(
    "images-pinned",
    "Every container image is pinned by tag or digest, never :latest (in any case) or untagged.",
    ["workload"],
    (c, report) => {
        for (const container of containersOf(podOf(c) ?? {})) {
            if (container.image !== undefined && (typeof container.image !== "string" || !isPinnedImage(container.image))) {
                report(`container "${container.name}" image "${String(container.image)}" is not pinned by tag or digest`);
            }
        }
    });

export const namespaceRestricted = familyPolicy(
    "namespace-pod-security",
    "Every namespace enforces the Pod Security 'restricted' standard; a patch may not change or remove that label.",
    ["namespace"],
    (c, report) => {
        const labels = c.props.metadata?.labels ?? {};
        const setsLabel = c.patch ? POD_SECURITY_ENFORCE_LABEL in labels : true;
        if (setsLabel && labels[POD_SECURITY_ENFORCE_LABEL] !== POD_SECURITY_LEVEL) {
            report(`label ${POD_SECURITY_ENFORCE_LABEL} must be "${POD_SECURITY_LEVEL}"`);
        }
    });

function key(namespace: unknown, name: unknown): string {
    return `${namespace ?? "default"}/${name ?? "default"}`;
}

export const podLabelWithClientId: StackValidationPolicy = {
    name: "pod-label-with-client-id",
    description: "Pods that run as a ServiceAccount with an azure.workload.identity/client-id carry the label azure.workload.identity/use: \"true\" (without it the webhook injects no token).",
    enforcementLevel: "mandatory",
    validateStack: (args: StackValidationArgs, report) => {
        const all = args.resources.map(r => ({ r, candidates: peekCandidates(r) }));
        const federated = new Set(all
            .filter(({ candidates }) => candidates.some(c => c.family === "serviceAccount" && c.props.metadata?.annotations?.[CLIENT_ID_ANNOTATION] !== undefined))
            .map(({ r }) => key(r.props.metadata?.namespace, r.props.metadata?.name)));
        for (const { r, candidates } of all) {
            for (const c of candidates.filter(x => x.family === "workload" && !x.patch)) {
                const pod = podOf(c);
                const namespace = r.props.metadata?.namespace;
                const serviceAccount = pod?.spec?.serviceAccountName;
                if (serviceAccount !== undefined && federated.has(key(namespace, serviceAccount)) && pod?.metadata?.labels?.[USE_LABEL] !== "true") {
                    report(`${r.name} runs as ${key(namespace, serviceAccount)}, which has a client id, but its pods lack ${USE_LABEL}: "true"`, r.urn);
                }
            }
        }
    },
};

