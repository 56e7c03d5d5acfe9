// The project's security invariants as CrossGuard policies, checked on resource inputs before anything is
// created. Every policy is mandatory: a violation fails `pulumi preview` and `pulumi up`.
//
// Values a preview cannot know yet (outputs of resources not created) arrive as undefined; a policy judges
// only what it can see, and judges it again on `pulumi up`, when everything is known.
import type {
    PolicyResource, ReportViolation, ResourceValidationArgs, ResourceValidationPolicy, StackValidationArgs, StackValidationPolicy,
} from "@pulumi/policy";

type Props = Record<string, any>;

export const TYPES = {
    pgServer: "azure-native:dbforpostgresql:Server",
    pgFirewallRule: "azure-native:dbforpostgresql:FirewallRule",
    cluster: "azure-native:containerservice:ManagedCluster",
    fic: "azure-native:managedidentity:FederatedIdentityCredential",
    roleAssignment: "azure-native:authorization:RoleAssignment",
    lock: "azure-native:authorization:ManagementLockByScope",
    pgDatabase: "postgresql:index/database:Database",
    namespace: "kubernetes:core/v1:Namespace",
    serviceAccount: "kubernetes:core/v1:ServiceAccount",
    secret: "kubernetes:core/v1:Secret",
} as const;

export const TOKEN_EXCHANGE_AUDIENCE = "api://AzureADTokenExchange";
export const CLIENT_ID_ANNOTATION = "azure.workload.identity/client-id";
export const USE_LABEL = "azure.workload.identity/use";
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const SUBJECT = /^system:serviceaccount:[a-z0-9]([-a-z0-9]*[a-z0-9])?:[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const PASSWORDISH = /pass(word|wd)?|pwd|secret/i;
/** The broadest firewall range accepted (a /16). */
const MAX_FIREWALL_ADDRESSES = 2 ** 16;

/** Kubernetes workload types and where their pod template lives. */
const WORKLOADS: Record<string, (props: Props) => Props | undefined> = {
    "kubernetes:apps/v1:Deployment": p => p.spec?.template,
    "kubernetes:apps/v1:StatefulSet": p => p.spec?.template,
    "kubernetes:apps/v1:DaemonSet": p => p.spec?.template,
    "kubernetes:apps/v1:ReplicaSet": p => p.spec?.template,
    "kubernetes:batch/v1:Job": p => p.spec?.template,
    "kubernetes:batch/v1:CronJob": p => p.spec?.jobTemplate?.spec?.template,
    "kubernetes:core/v1:Pod": p => ({ metadata: p.metadata, spec: p.spec }),
};

function podTemplate(type: string, props: Props): Props | undefined {
    return WORKLOADS[type]?.(props);
}

function containersOf(pod: Props): Props[] {
    return [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];
}

function ipToNumber(ip: string): number | undefined {
    const parts = ip.split(".").map(Number);
    return parts.length === 4 && parts.every(p => Number.isInteger(p) && p >= 0 && p <= 255)
        ? parts.reduce((acc, p) => acc * 256 + p, 0)
        : undefined;
}

/** An image reference pinned by tag or digest, never `latest` or untagged. */
export function isPinnedImage(image: string): boolean {
    if (/@sha256:[0-9a-f]{64}$/.test(image)) {
        return true;
    }
    const last = image.slice(image.lastIndexOf("/") + 1);
    const colon = last.lastIndexOf(":");
    return colon > 0 && last.slice(colon + 1) !== "latest";
}

function resourcePolicy(name: string, description: string, type: string | ((t: string) => boolean),
    check: (props: Props, report: ReportViolation, args: ResourceValidationArgs) => void): ResourceValidationPolicy {
    const applies = typeof type === "string" ? (t: string) => t === type : type;
    return {
        name,
        description,
        enforcementLevel: "mandatory",
        validateResource: (args, report) => {
            if (applies(args.type)) {
                check(args.props as Props, report, args);
            }
        },
    };
}

export const postgresEntraOnly = resourcePolicy(
    "postgres-entra-only",
    "PostgreSQL Flexible Server accepts Microsoft Entra tokens only: Entra auth enabled, password auth disabled, no administrator password.",
    TYPES.pgServer,
    (props, report) => {
        if (props.authConfig?.activeDirectoryAuth !== "Enabled") {
            report("authConfig.activeDirectoryAuth must be \"Enabled\"");
        }
        if (props.authConfig?.passwordAuth !== "Disabled") {
            report("authConfig.passwordAuth must be \"Disabled\"");
        }
        if (props.administratorLogin !== undefined || props.administratorLoginPassword !== undefined) {
            report("a server must not have an administrator login or password");
        }
    });

export const postgresFirewallNotOpen = resourcePolicy(
    "postgres-firewall-not-open",
    "No PostgreSQL firewall rule opens the server to the internet, to a range broader than /16, or to all Azure services (0.0.0.0).",
    TYPES.pgFirewallRule,
    (props, report) => {
        const start = typeof props.startIpAddress === "string" ? ipToNumber(props.startIpAddress) : undefined;
        const end = typeof props.endIpAddress === "string" ? ipToNumber(props.endIpAddress) : undefined;
        if (props.startIpAddress === "0.0.0.0") {
            report("a rule starting at 0.0.0.0 admits all Azure services (or everyone); list exact addresses");
            return;
        }
        if (start !== undefined && end !== undefined && end - start + 1 > MAX_FIREWALL_ADDRESSES) {
            report(`${props.startIpAddress}-${props.endIpAddress} spans more than a /16`);
        }
    });

export const aksWorkloadIdentity = resourcePolicy(
    "aks-workload-identity",
    "AKS publishes an OIDC issuer, runs workload identity, and authenticates only through Entra ID with Azure RBAC (local accounts off).",
    TYPES.cluster,
    (props, report) => {
        if (props.oidcIssuerProfile?.enabled !== true) {
            report("oidcIssuerProfile.enabled must be true");
        }
        if (props.securityProfile?.workloadIdentity?.enabled !== true) {
            report("securityProfile.workloadIdentity.enabled must be true");
        }
        if (props.disableLocalAccounts !== true) {
            report("disableLocalAccounts must be true");
        }
        if (props.aadProfile?.managed !== true || props.aadProfile?.enableAzureRBAC !== true) {
            report("aadProfile must be managed Entra integration with enableAzureRBAC");
        }
    });

export const federatedCredentialShape = resourcePolicy(
    "federated-credential-shape",
    "A federated credential's only audience is api://AzureADTokenExchange and its subject is system:serviceaccount:<namespace>:<serviceaccount>.",
    TYPES.fic,
    (props, report) => {
        const audiences = props.audiences;
        if (Array.isArray(audiences) && (audiences.length !== 1 || audiences[0] !== TOKEN_EXCHANGE_AUDIENCE)) {
            report(`audiences must be exactly ["${TOKEN_EXCHANGE_AUDIENCE}"], not ${JSON.stringify(audiences)}`);
        }
        if (typeof props.subject === "string" && !SUBJECT.test(props.subject)) {
            report(`subject "${props.subject}" is not system:serviceaccount:<namespace>:<serviceaccount>`);
        }
    });

export const serviceAccountClientId = resourcePolicy(
    "serviceaccount-client-id",
    "A ServiceAccount that opts into workload identity carries a valid azure.workload.identity/client-id annotation.",
    TYPES.serviceAccount,
    (props, report) => {
        const annotations = props.metadata?.annotations ?? {};
        const optedIn = props.metadata?.labels?.[USE_LABEL] === "true" || CLIENT_ID_ANNOTATION in annotations;
        if (!optedIn) {
            return;
        }
        const clientId = annotations[CLIENT_ID_ANNOTATION];
        if (clientId === undefined && !(CLIENT_ID_ANNOTATION in annotations)) {
            report(`missing annotation ${CLIENT_ID_ANNOTATION}`);
        } else if (typeof clientId === "string" && !GUID.test(clientId)) {
            report(`${CLIENT_ID_ANNOTATION} "${clientId}" is not a client id (GUID)`);
        }
    });

export const noPasswords = resourcePolicy(
    "no-passwords",
    "No container gets a password through its environment or a Secret, and no Secret holds a password.",
    t => t in WORKLOADS || t === TYPES.secret,
    (props, report, args) => {
        if (args.type === TYPES.secret) {
            const keys = [...Object.keys(props.data ?? {}), ...Object.keys(props.stringData ?? {})];
            for (const key of keys.filter(k => PASSWORDISH.test(k))) {
                report(`Secret key "${key}" carries a password`);
            }
            return;
        }
        for (const container of containersOf(podTemplate(args.type, props) ?? {})) {
            for (const env of container.env ?? []) {
                if (PASSWORDISH.test(env.name ?? "")) {
                    report(`container "${container.name}" env ${env.name} carries a password`);
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

export const podSecurityRestricted = resourcePolicy(
    "pod-security-restricted",
    "Pods meet the Pod Security 'restricted' standard and more: non-root, RuntimeDefault seccomp, no privilege escalation, all capabilities dropped, read-only root filesystem, no host namespaces or host paths, requests and limits set.",
    t => t in WORKLOADS,
    (props, report, args) => {
        const pod = podTemplate(args.type, props);
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
        for (const c of containersOf(pod!)) {
            const sc = c.securityContext ?? {};
            const who = `container "${c.name}"`;
            if ((sc.runAsNonRoot ?? podContext.runAsNonRoot) !== true) {
                report(`${who} must run with runAsNonRoot: true`);
            }
            if ((sc.runAsUser ?? podContext.runAsUser) === 0) {
                report(`${who} must not run as UID 0`);
            }
            const seccomp = (sc.seccompProfile ?? podContext.seccompProfile)?.type;
            if (seccomp !== "RuntimeDefault" && seccomp !== "Localhost") {
                report(`${who} needs seccompProfile RuntimeDefault`);
            }
            if (sc.allowPrivilegeEscalation !== false) {
                report(`${who} must set allowPrivilegeEscalation: false`);
            }
            if (sc.privileged === true) {
                report(`${who} must not be privileged`);
            }
            if (!(sc.capabilities?.drop ?? []).includes("ALL")) {
                report(`${who} must drop ALL capabilities`);
            }
            if ((sc.capabilities?.add ?? []).some((cap: string) => cap !== "NET_BIND_SERVICE")) {
                report(`${who} may add no capability but NET_BIND_SERVICE`);
            }
            if (sc.readOnlyRootFilesystem !== true) {
                report(`${who} must have a read-only root filesystem`);
            }
            if (!c.resources?.requests?.cpu || !c.resources?.requests?.memory || !c.resources?.limits?.cpu || !c.resources?.limits?.memory) {
                report(`${who} must set cpu and memory requests and limits`);
            }
        }
    });

export const imagesPinned = resourcePolicy(
    "images-pinned",
    "Every container image is pinned by tag or digest, never :latest or untagged.",
    t => t in WORKLOADS,
    (props, report, args) => {
        for (const c of containersOf(podTemplate(args.type, props) ?? {})) {
            if (typeof c.image === "string" && !isPinnedImage(c.image)) {
                report(`container "${c.name}" image "${c.image}" is not pinned by tag or digest`);
            }
        }
    });

export const namespaceRestricted = resourcePolicy(
    "namespace-pod-security",
    "Every namespace enforces the Pod Security 'restricted' standard.",
    TYPES.namespace,
    (props, report) => {
        if (props.metadata?.labels?.["pod-security.kubernetes.io/enforce"] !== "restricted") {
            report("label pod-security.kubernetes.io/enforce must be \"restricted\"");
        }
    });

export const roleAssignmentsResourceScoped = resourcePolicy(
    "role-assignments-resource-scoped",
    "Role assignments target one resource, never a whole subscription, management group or resource group.",
    TYPES.roleAssignment,
    (props, report) => {
        const scope = props.scope;
        if (typeof scope === "string" && !/^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/.+\/.+\/.+/i.test(scope)) {
            report(`scope "${scope}" is wider than one resource`);
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
        const federated = new Set(args.resources
            .filter(r => r.type === TYPES.serviceAccount && r.props.metadata?.annotations?.[CLIENT_ID_ANNOTATION] !== undefined)
            .map(r => key(r.props.metadata?.namespace, r.props.metadata?.name)));
        for (const r of args.resources) {
            const pod = podTemplate(r.type, r.props);
            if (!pod) {
                continue;
            }
            const namespace = r.props.metadata?.namespace;
            const serviceAccount = pod.spec?.serviceAccountName;
            if (serviceAccount !== undefined && federated.has(key(namespace, serviceAccount)) && pod.metadata?.labels?.[USE_LABEL] !== "true") {
                report(`${r.name} runs as ${key(namespace, serviceAccount)}, which has a client id, but its pods lack ${USE_LABEL}: "true"`, r.urn);
            }
        }
    },
};

export interface ProdDataConfig {
    /** Stack tags that mark production; resources carry `tags.stack`. */
    prodStacks: string[];
}

export const prodDataProtected: StackValidationPolicy = {
    name: "prod-data-protected",
    description: "In a production stack the PostgreSQL server and every database are protected, and the server carries an Azure CanNotDelete lock.",
    enforcementLevel: "mandatory",
    configSchema: {
        properties: { prodStacks: { type: "array", items: { type: "string" }, default: ["prod"] } },
    },
    validateStack: (args: StackValidationArgs, report) => {
        const prodStacks = (args.getConfig<ProdDataConfig>().prodStacks ?? ["prod"]);
        const isProd = args.resources.some(r => prodStacks.includes(r.props.tags?.stack));
        if (!isProd) {
            return;
        }
        const protectedTypes: string[] = [TYPES.pgServer, TYPES.pgDatabase];
        for (const r of args.resources.filter((x: PolicyResource) => protectedTypes.includes(x.type))) {
            if (r.opts?.protect !== true) {
                report(`${r.type.split(":").pop()} ${r.name} must be protected in production`, r.urn);
            }
        }
        for (const server of args.resources.filter(r => r.type === TYPES.pgServer)) {
            const serverName = String(server.props.serverName ?? server.name).toLowerCase();
            // The lock's scope is the server's ARM id; during a first preview it is not known yet.
            const locked = args.resources.some(r => r.type === TYPES.lock && r.props.level === "CanNotDelete"
                && (r.props.scope === undefined || r.dependencies?.includes(server)
                    || (typeof r.props.scope === "string" && r.props.scope.toLowerCase().endsWith(`/${serverName}`))));
            if (!locked) {
                report(`PostgreSQL server ${server.name} needs a CanNotDelete lock in production`, server.urn);
            }
        }
    },
};

export const resourcePolicies: ResourceValidationPolicy[] = [
    postgresEntraOnly,
    postgresFirewallNotOpen,
    aksWorkloadIdentity,
    federatedCredentialShape,
    serviceAccountClientId,
    noPasswords,
    podSecurityRestricted,
    imagesPinned,
    namespaceRestricted,
    roleAssignmentsResourceScoped,
];

export const stackPolicies: StackValidationPolicy[] = [podLabelWithClientId, prodDataProtected];
