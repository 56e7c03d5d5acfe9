// The project's security invariants as CrossGuard policies, checked on resource inputs before anything is
// created. Every policy is mandatory: a violation fails `pulumi preview` and `pulumi up`.
//
// A policy judges a type family (families.ts), not one type token: versioned azure-native modules, the
// classic azure provider, resources inside inline ARM templates, every Kubernetes version of a kind and its
// `…Patch` variant. What a preview can't inspect (linked ARM templates, Helm releases rendered inside the
// provider, scripts) is denied unless policy config allow-lists it by name. The rule values live in rules.ts,
// shared with the program.
//
// During a preview, reading a value that is not known yet throws inside the SDK, which then reports the policy
// as "can't run during preview" (advisory) for that resource; `pulumi up` judges it again with every value
// known. A value that is `undefined` is therefore absent, not unknown, and is judged as absent.
import type {
    PolicyResource, ResourceValidationArgs, ResourceValidationPolicy, StackValidationArgs, StackValidationPolicy,
} from "@pulumi/policy";
import { Candidate, candidatesOf, Family, isArmExpression, podTemplateOf } from "./families";
import {
    AKS_ISSUER, CLIENT_ID_ANNOTATION, checkFederatedCredential, checkFirewallRange, checkPgRole, checkRole, checkServerParameter,
    isCredentialEnvName, isPinnedImage, isPrivilegedPgRole, POD_SECURITY_ENFORCE_LABEL, POD_SECURITY_LEVEL, sameIssuer, TOKEN_EXCHANGE_AUDIENCE, USE_LABEL,
} from "./rules";

export { CLIENT_ID_ANNOTATION, isPinnedImage, TOKEN_EXCHANGE_AUDIENCE, USE_LABEL };

type Props = Record<string, any>;

/** The types the program itself creates, one member of each family (for tests and messages). */
export const TYPES = {
    pgServer: "azure-native:dbforpostgresql:Server",
    pgFirewallRule: "azure-native:dbforpostgresql:FirewallRule",
    pgConfiguration: "azure-native:dbforpostgresql:Configuration",
    pgAdministrator: "azure-native:dbforpostgresql:Administrator",
    cluster: "azure-native:containerservice:ManagedCluster",
    fic: "azure-native:managedidentity:FederatedIdentityCredential",
    roleAssignment: "azure-native:authorization:RoleAssignment",
    lock: "azure-native:authorization:ManagementLockByScope",
    pgDatabase: "postgresql:index/database:Database",
    pgRole: "postgresql:index/role:Role",
    namespace: "kubernetes:core/v1:Namespace",
    serviceAccount: "kubernetes:core/v1:ServiceAccount",
    secret: "kubernetes:core/v1:Secret",
} as const;

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DEFAULT_PROD_STACKS = ["prod"];

/** The stack a resource belongs to, from its URN (`urn:pulumi:<stack>::<project>::…`). */
export function stackOf(urn: string): string {
    return urn.startsWith("urn:pulumi:") ? urn.slice("urn:pulumi:".length).split("::")[0] : "";
}

/**
 * Whether `stack` is production: named in policy config `prodStacks` (default ["prod"]; "org/prod" works too).
 * Decided by the stack a resource is deployed to, never by tags the program writes. The engine names the
 * stack in every URN (and, for Node.js packs, in PULUMI_NODEJS_STACK, i.e. `pulumi.getStack()`: see
 * constructEnv in pulumi/pulumi's pkg/resource/plugin/analyzer_plugin.go); the URN is what the SDK hands each
 * policy, so it is what tests can set.
 */
export function isProdStack(stack: string, prodStacks: readonly string[] | undefined): boolean {
    return (prodStacks ?? DEFAULT_PROD_STACKS).some(s => s.slice(s.lastIndexOf("/") + 1) === stack);
}

const PROD_STACKS_SCHEMA = { type: "array", items: { type: "string" }, default: DEFAULT_PROD_STACKS, description: "Stacks that are production (by stack name)." } as const;

function isUnknownValueError(e: unknown): boolean {
    return e instanceof Error && e.constructor.name === "UnknownValueError";
}

const UNKNOWN = Symbol("unknown during preview");

/** Reads a value that may not be known during a preview, without giving up the whole policy. */
function peek<T>(read: () => T): T | typeof UNKNOWN {
    try {
        return read();
    } catch (e) {
        if (isUnknownValueError(e)) {
            return UNKNOWN;
        }
        throw e;
    }
}

function familyPolicy(
    name: string, description: string, families: Family[],
    check: (c: Candidate, report: (message: string) => void, args: ResourceValidationArgs) => void,
    configSchema?: ResourceValidationPolicy["configSchema"],
): ResourceValidationPolicy {
    return {
        name,
        description,
        enforcementLevel: "mandatory",
        ...(configSchema ? { configSchema } : {}),
        validateResource: (args, report) => {
            for (const candidate of candidatesOf(args.type, args.props as Props)) {
                if (families.includes(candidate.family)) {
                    check(candidate, message => report(candidate.where + message), args);
                }
            }
        },
    };
}

function sameText(value: unknown, expected: string): boolean {
    return typeof value === "string" && value.toLowerCase() === expected.toLowerCase();
}

// ---------------------------------------------------------------------------------------------------------
// PostgreSQL (Azure side)

export const postgresEntraOnly = familyPolicy(
    "postgres-entra-only",
    "PostgreSQL is a Flexible Server that accepts Microsoft Entra tokens only: Entra auth enabled, password auth disabled, no administrator password.",
    ["pgServer"],
    (c, report) => {
        if (c.serverKind !== "flexible") {
            report(`a ${c.serverKind === "single" ? "Single Server" : "Cosmos DB for PostgreSQL cluster"} can't be made Entra-only here; use a Flexible Server`);
            return;
        }
        const props = c.props;
        if (!sameText(props.authConfig?.activeDirectoryAuth, "Enabled")) {
            report("authConfig.activeDirectoryAuth must be \"Enabled\"");
        }
        if (!sameText(props.authConfig?.passwordAuth, "Disabled")) {
            report("authConfig.passwordAuth must be \"Disabled\"");
        }
        if (props.administratorLogin !== undefined || props.administratorLoginPassword !== undefined) {
            report("a server must not have an administrator login or password");
        }
    });

export const postgresFirewallNotOpen = familyPolicy(
    "postgres-firewall-not-open",
    "No PostgreSQL firewall rule opens the server to the internet, to a range broader than /16, or to all Azure services (0.0.0.0).",
    ["pgFirewallRule"],
    (c, report) => checkFirewallRange(c.props.startIpAddress, c.props.endIpAddress).forEach(report));

export const postgresServerParameters = familyPolicy(
    "postgres-server-parameters",
    "No server parameter weakens TLS (require_secure_transport on, TLS 1.2 or newer) or turns off connection auditing or throttling.",
    ["pgConfiguration"],
    (c, report) => {
        const name = c.props.configurationName;
        if (isArmExpression(name) || isArmExpression(c.props.value)) {
            report("a template expression in a server parameter can't be checked at preview; use literals");
            return;
        }
        if (typeof name === "string") {
            checkServerParameter(name, c.props.value).forEach(report);
        }
    });

interface EntraAdminsConfig {
    /** Entra object ids that may be a server's Microsoft Entra administrator. */
    postgresAdmins?: string[];
    prodStacks?: string[];
}

export const postgresEntraAdmins = familyPolicy(
    "postgres-entra-admins",
    "A server's Microsoft Entra administrators are only the principals listed in policy config (postgresAdmins); in production each is a group, never one person.",
    ["pgAdministrator"],
    (c, report, args) => {
        const config = args.getConfig<EntraAdminsConfig>();
        const admins = (config.postgresAdmins ?? []).map(id => id.toLowerCase());
        const objectId = c.props.objectId ?? c.props.sid;
        if (admins.length === 0) {
            report("policy config postgresAdmins lists no Entra administrators; list the object ids allowed to administer PostgreSQL");
        } else if (typeof objectId !== "string" || !admins.includes(objectId.toLowerCase())) {
            report(`Entra administrator ${String(objectId)} (${String(c.props.principalName)}) is not in the policy config's postgresAdmins`);
        }
        if (isProdStack(stackOf(args.urn), config.prodStacks) && !sameText(c.props.principalType, "Group")) {
            report(`in production the Entra administrator must be a group, not ${String(c.props.principalType)}`);
        }
    },
    {
        properties: {
            postgresAdmins: { type: "array", items: { type: "string" }, default: [], description: "Entra object ids allowed as PostgreSQL Entra administrators." },
            prodStacks: PROD_STACKS_SCHEMA,
        },
    });

// ---------------------------------------------------------------------------------------------------------
// PostgreSQL (inside the server)

export const postgresRolesLeastPrivilege = familyPolicy(
    "postgres-roles-least-privilege",
    "PostgreSQL roles the stack creates are plain: no SUPERUSER, CREATEROLE, CREATEDB, REPLICATION or BYPASSRLS, no password, no membership in azure_pg_admin or PostgreSQL's all-data/server-file roles, and no grant that can be passed on.",
    ["pgRole", "pgGrantRole", "pgGrant"],
    (c, report) => {
        const props = c.props;
        if (c.family === "pgRole") {
            checkPgRole(props).forEach(report);
        } else if (c.family === "pgGrantRole") {
            if (typeof props.grantRole === "string" && isPrivilegedPgRole(props.grantRole)) {
                report(`granting ${props.grantRole} to ${String(props.role)} makes it an administrator`);
            }
            if (props.withAdminOption === true) {
                report(`${String(props.role)} must not get ${String(props.grantRole)} WITH ADMIN OPTION`);
            }
        } else {
            if (props.withGrantOption === true) {
                report(`${String(props.role)} must not get privileges WITH GRANT OPTION`);
            }
            if (sameText(props.role, "public") && Array.isArray(props.privileges) && props.privileges.length > 0) {
                report(`granting ${props.privileges.join(", ")} to PUBLIC gives them to every role`);
            }
        }
    });

// ---------------------------------------------------------------------------------------------------------
// AKS and identities

interface ClusterConfig {
    /** Entra group object ids that may be a cluster's admin groups (aadProfile.adminGroupObjectIDs). */
    clusterAdminGroups?: string[];
}

export const aksWorkloadIdentity = familyPolicy(
    "aks-workload-identity",
    "AKS publishes an OIDC issuer, runs workload identity, and authenticates only through Entra ID with Azure RBAC (local accounts off); its admin groups are only those listed in policy config.",
    ["cluster"],
    (c, report, args) => {
        const props = c.props;
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
        const allowedGroups = (args.getConfig<ClusterConfig>().clusterAdminGroups ?? []).map(id => id.toLowerCase());
        for (const group of props.aadProfile?.adminGroupObjectIDs ?? []) {
            if (typeof group !== "string" || !allowedGroups.includes(group.toLowerCase())) {
                report(`admin group ${String(group)} gets cluster-admin but is not in the policy config's clusterAdminGroups`);
            }
        }
    },
    {
        properties: {
            clusterAdminGroups: { type: "array", items: { type: "string" }, default: [], description: "Entra group object ids allowed as AKS admin groups." },
        },
    });

interface IssuersConfig {
    /** Issuers trusted besides this stack's own AKS clusters (e.g. GitHub Actions, a second cluster). */
    allowedIssuers?: string[];
}

const ISSUERS_SCHEMA = {
    properties: {
        allowedIssuers: { type: "array", items: { type: "string" }, default: [], description: "OIDC issuers trusted besides the stack's own AKS clusters." },
    },
} as const;

export const federatedCredentialShape = familyPolicy(
    "federated-credential-shape",
    "A federated credential's only audience is api://AzureADTokenExchange, its issuer is an AKS cluster's or allow-listed, and its subject is present and well-formed (system:serviceaccount:<namespace>:<serviceaccount>).",
    ["federatedCredential"],
    (c, report, args) => checkFederatedCredential(c.props, args.getConfig<IssuersConfig>().allowedIssuers ?? []).forEach(report),
    ISSUERS_SCHEMA);

/**
 * The OIDC issuer URLs of the stack's AKS clusters that are known. Stack policies see each resource's outputs
 * (pulumi/pulumi's step generator passes `Outputs` to AnalyzeStack), so an existing cluster's issuer is known
 * in a preview too; a cluster created in this update has none yet.
 */
function clusterIssuers(resources: PolicyResource[]): string[] {
    const issuers: string[] = [];
    for (const r of resources) {
        for (const c of peekCandidates(r)) {
            const issuer = c.family === "cluster" ? peek(() => c.props.oidcIssuerProfile?.issuerURL) : undefined;
            if (typeof issuer === "string") {
                issuers.push(issuer);
            }
        }
    }
    return issuers;
}

function peekCandidates(r: PolicyResource): Candidate[] {
    const found = peek(() => candidatesOf(r.type, r.props as Props));
    return found === UNKNOWN ? [] : found;
}

export const federatedCredentialIssuer: StackValidationPolicy = {
    name: "federated-credential-issuer",
    description: "A federated credential that trusts an AKS issuer trusts one of this stack's clusters (its issuer output, or an input taken from it), unless policy config allow-lists the issuer.",
    enforcementLevel: "mandatory",
    configSchema: ISSUERS_SCHEMA,
    validateStack: (args: StackValidationArgs, report) => {
        const allowed = args.getConfig<IssuersConfig>().allowedIssuers ?? [];
        const ownIssuers = clusterIssuers(args.resources);
        for (const r of args.resources) {
            for (const c of peekCandidates(r).filter(x => x.family === "federatedCredential")) {
                const issuer = peek(() => c.props.issuer);
                if (typeof issuer !== "string" || !AKS_ISSUER.test(issuer.endsWith("/") ? issuer : `${issuer}/`)) {
                    continue; // unknown, absent or not an AKS issuer: federated-credential-shape judges those
                }
                // A cluster created in this very update has no issuer yet; an issuer taken from such a cluster is
                // judged after the update, when the cluster's issuer is known.
                const fromNewCluster = c.where === "" && (r.propertyDependencies?.issuer ?? [])
                    .some(d => peekCandidates(d).some(x => x.family === "cluster" && peek(() => x.props.oidcIssuerProfile?.issuerURL) === UNKNOWN));
                const own = ownIssuers.some(i => sameIssuer(i, issuer));
                if (!own && !fromNewCluster && !allowed.some(i => sameIssuer(i, issuer))) {
                    report(`${c.where}${r.name} trusts ${issuer}, which is not the OIDC issuer of a cluster in this stack nor in the policy config's allowedIssuers`, r.urn);
                }
            }
        }
    },
};

export const serviceAccountClientId = familyPolicy(
    "serviceaccount-client-id",
    "A ServiceAccount that opts into workload identity carries a valid azure.workload.identity/client-id annotation.",
    ["serviceAccount"],
    (c, report) => {
        const annotations = c.props.metadata?.annotations ?? {};
        const optedIn = c.props.metadata?.labels?.[USE_LABEL] === "true" || CLIENT_ID_ANNOTATION in annotations;
        if (!optedIn) {
            return;
        }
        const clientId = annotations[CLIENT_ID_ANNOTATION];
        if (clientId === undefined && !(CLIENT_ID_ANNOTATION in annotations)) {
            // A patch may label a ServiceAccount whose annotation another manager set.
            if (!c.patch) {
                report(`missing annotation ${CLIENT_ID_ANNOTATION}`);
            }
        } else if (typeof clientId !== "string" || !GUID.test(clientId)) {
            report(`${CLIENT_ID_ANNOTATION} "${String(clientId)}" is not a client id (GUID)`);
        }
    });

interface RolesConfig {
    /** Role definition GUIDs apps may be given besides the program's own (never a privileged role). */
    allowedRoleDefinitionIds?: string[];
}

export const roleAssignmentsResourceScoped = familyPolicy(
    "role-assignments-resource-scoped",
    "Role assignments target one resource, never a whole subscription, management group or resource group.",
    ["roleAssignment"],
    (c, report) => {
        const scope = c.props.scope;
        if (scope === undefined) {
            report("a role assignment without a scope applies to the whole deployment scope");
        } else if (isArmExpression(scope)) {
            report(`scope ${scope} is a template expression the pack can't evaluate; use the resource's literal id`);
        } else if (typeof scope !== "string" || !/^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/.+\/.+\/.+/i.test(scope)) {
            report(`scope "${String(scope)}" is wider than one resource`);
        }
    });

export const roleAssignmentsAllowedRoles = familyPolicy(
    "role-assignments-allowed-roles",
    "Role assignments grant only the roles the program assigns (AcrPull, AcrPush, Network Contributor, AKS RBAC Cluster Admin, Key Vault Secrets User) or ones policy config allows; Owner, Contributor, User Access Administrator and other privileged roles never.",
    ["roleAssignment"],
    (c, report, args) => {
        const extra = args.getConfig<RolesConfig>().allowedRoleDefinitionIds ?? [];
        checkRole({ id: c.props.roleDefinitionId, name: c.props.roleDefinitionName }, extra).forEach(report);
    },
    {
        properties: {
            allowedRoleDefinitionIds: { type: "array", items: { type: "string" }, default: [], description: "Role definition GUIDs apps may be given besides the program's own." },
        },
    });

// ---------------------------------------------------------------------------------------------------------
// Kubernetes workloads

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

// ---------------------------------------------------------------------------------------------------------
// What a preview can't inspect

interface OpaqueConfig {
    /** Logical names of Helm releases allowed (their manifests are rendered inside the provider). */
    helmReleases?: string[];
    /** Logical names of ARM deployments allowed to link a template (templateLink / parametersLink / template spec). */
    linkedTemplates?: string[];
    /** Logical names of deployment scripts and commands allowed (they run arbitrary code). */
    scripts?: string[];
}

export const opaqueResourcesAllowListed = familyPolicy(
    "opaque-resources-allow-listed",
    "Resources whose effect a preview can't inspect — Helm releases, ARM deployments of linked templates, deployment scripts and commands — are denied unless policy config allow-lists them by resource name.",
    ["helmRelease", "linkedTemplate", "script"],
    (c, report, args) => {
        const config = args.getConfig<OpaqueConfig>();
        const [list, key, what] = c.family === "helmRelease" ? [config.helmReleases, "helmReleases", "a Helm release renders its manifests inside the provider"]
            : c.family === "linkedTemplate" ? [config.linkedTemplates, "linkedTemplates", "a linked template is fetched by Azure, not seen at preview"]
                : [config.scripts, "scripts", "a script or command can do anything its identity may"];
        if (!(list ?? []).includes(args.name)) {
            report(`${what}; allow-list "${args.name}" in the policy config's ${key} if it has been reviewed`);
        }
    },
    {
        properties: {
            helmReleases: { type: "array", items: { type: "string" }, default: [], description: "Helm releases allowed, by resource name." },
            linkedTemplates: { type: "array", items: { type: "string" }, default: [], description: "ARM deployments allowed to link a template, by resource name." },
            scripts: { type: "array", items: { type: "string" }, default: [], description: "Deployment scripts and commands allowed, by resource name." },
        },
    });

// ---------------------------------------------------------------------------------------------------------
// Stack policies

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

export interface ProdDataConfig {
    /** Stacks that are production, by stack name. */
    prodStacks?: string[];
}

export const prodDataProtected: StackValidationPolicy = {
    name: "prod-data-protected",
    description: "In a production stack (by stack name, policy config prodStacks) every PostgreSQL server and database is protected, and each server carries an Azure CanNotDelete lock.",
    enforcementLevel: "mandatory",
    configSchema: { properties: { prodStacks: PROD_STACKS_SCHEMA } },
    validateStack: (args: StackValidationArgs, report) => {
        const stack = args.resources.length > 0 ? stackOf(args.resources[0].urn) : "";
        if (!isProdStack(stack, args.getConfig<ProdDataConfig>().prodStacks)) {
            return;
        }
        const familyOf = (r: PolicyResource): Family | undefined => peekCandidates(r).find(c => c.where === "")?.family;
        const servers = args.resources.filter(r => familyOf(r) === "pgServer");
        for (const r of args.resources.filter(x => familyOf(x) === "pgServer" || familyOf(x) === "pgDatabase")) {
            if (r.opts?.protect !== true) {
                report(`${r.type.split(":").pop()} ${r.name} must be protected in production`, r.urn);
            }
        }
        const locks = args.resources.filter(r => familyOf(r) === "lock");
        for (const server of servers) {
            const serverName = String(peek(() => server.props.serverName ?? server.props.name) ?? server.name).toLowerCase();
            // The lock's scope is the server's ARM id; during a first preview it is not known yet.
            const locked = locks.some(r => {
                const level = peek(() => r.props.level);
                const scope = peek(() => r.props.scope ?? r.props.resourceName);
                return level === "CanNotDelete" && (scope === UNKNOWN || scope === undefined || r.dependencies?.includes(server)
                    || (typeof scope === "string" && (scope.toLowerCase() === serverName || scope.toLowerCase().endsWith(`/${serverName}`))));
            });
            if (!locked) {
                report(`PostgreSQL server ${server.name} needs a CanNotDelete lock in production`, server.urn);
            }
        }
    },
};

export const resourcePolicies: ResourceValidationPolicy[] = [
    postgresEntraOnly,
    postgresFirewallNotOpen,
    postgresServerParameters,
    postgresEntraAdmins,
    postgresRolesLeastPrivilege,
    aksWorkloadIdentity,
    federatedCredentialShape,
    serviceAccountClientId,
    noPasswords,
    podSecurityRestricted,
    imagesPinned,
    namespaceRestricted,
    roleAssignmentsResourceScoped,
    roleAssignmentsAllowedRoles,
    opaqueResourcesAllowListed,
];

export const stackPolicies: StackValidationPolicy[] = [podLabelWithClientId, prodDataProtected, federatedCredentialIssuer];
