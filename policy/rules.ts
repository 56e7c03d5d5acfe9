// The project's security rules as values and pure checks, with no Pulumi or policy-SDK imports, so the policy
// pack and the program can enforce the very same rule (STYLE: "One rule, one home"). A check returns the
// problems it finds as sentences (empty when the value is fine); callers decide how to report them.

/** The only audience a workload identity federated credential may accept (Entra's token exchange). */
export const TOKEN_EXCHANGE_AUDIENCE = "api://AzureADTokenExchange";
/** ServiceAccount annotation naming the managed identity's client id. */
export const CLIENT_ID_ANNOTATION = "azure.workload.identity/client-id";
/** Pod label that makes the workload identity webhook inject a token. */
export const USE_LABEL = "azure.workload.identity/use";

/** The Pod Security Standard every namespace enforces, and the labels that say so. */
export const POD_SECURITY_LEVEL = "restricted";
export const POD_SECURITY_LABELS: Readonly<Record<string, string>> = {
    "pod-security.kubernetes.io/enforce": POD_SECURITY_LEVEL,
    "pod-security.kubernetes.io/audit": POD_SECURITY_LEVEL,
    "pod-security.kubernetes.io/warn": POD_SECURITY_LEVEL,
};
/** The one of those labels the API server enforces; the others only warn and audit. */
export const POD_SECURITY_ENFORCE_LABEL = "pod-security.kubernetes.io/enforce";

// ---------------------------------------------------------------------------------------------------------
// PostgreSQL server parameters

/** TLS versions a client may use: 1.2 and newer. Azure spells them `TLSv1.2`, `TLSv1.3`. */
export const ALLOWED_TLS_VERSIONS: readonly string[] = ["TLSv1.2", "TLSv1.3"];
export const MIN_TLS_VERSION = "TLSv1.2";

/**
 * Server parameters set on every server: TLS only (1.2+), connection auditing and brute-force throttling.
 * Values are Azure's spelling. The program sets exactly these; the pack rejects any Configuration that sets
 * one of them to something weaker.
 */
export const SERVER_PARAMETERS: Readonly<Record<string, string>> = {
    "require_secure_transport": "on",
    "ssl_min_protocol_version": MIN_TLS_VERSION,
    "log_connections": "on",
    "log_disconnections": "on",
    "connection_throttle.enable": "on",
};

// PostgreSQL reads a boolean parameter from any of these spellings, in any case (postgresql.org, "Parameter
// Interaction via the Configuration File": on/off, true/false, yes/no, 1/0).
const PG_TRUE = new Set(["on", "true", "yes", "1"]);

/** Problems with setting server parameter `name` to `value`; parameters this project does not govern pass. */
export function checkServerParameter(name: string, value: unknown): string[] {
    const parameter = name.toLowerCase();
    const text = typeof value === "string" ? value.trim() : value === undefined || value === null ? "" : String(value);
    if (parameter === "ssl_min_protocol_version") {
        return ALLOWED_TLS_VERSIONS.includes(text) ? [] : [`ssl_min_protocol_version "${text}" allows TLS below ${MIN_TLS_VERSION}; use one of ${ALLOWED_TLS_VERSIONS.join(", ")}`];
    }
    if (parameter === "ssl_max_protocol_version") {
        // Empty means "no upper bound"; anything else must still admit an allowed version.
        return text === "" || ALLOWED_TLS_VERSIONS.includes(text) ? [] : [`ssl_max_protocol_version "${text}" caps TLS below ${MIN_TLS_VERSION}`];
    }
    const required = SERVER_PARAMETERS[parameter];
    if (required === "on" && !PG_TRUE.has(text.toLowerCase())) {
        return [`${parameter} must stay "on", not "${text}"`];
    }
    return [];
}

// ---------------------------------------------------------------------------------------------------------
// Network

/** The broadest firewall range accepted (a /16). */
export const MAX_FIREWALL_ADDRESSES = 2 ** 16;

export function ipv4ToNumber(ip: string): number | undefined {
    const parts = ip.trim().split(".");
    if (parts.length !== 4 || !parts.every(p => /^\d{1,3}$/.test(p) && Number(p) <= 255)) {
        return undefined;
    }
    return parts.reduce((acc, p) => acc * 256 + Number(p), 0);
}

/** Problems with a firewall rule admitting `start`–`end`. Unreadable addresses are problems too. */
export function checkFirewallRange(start: unknown, end: unknown): string[] {
    const from = typeof start === "string" ? ipv4ToNumber(start) : undefined;
    const to = typeof end === "string" ? ipv4ToNumber(end) : undefined;
    if (from === undefined || to === undefined) {
        return [`firewall range ${String(start)}-${String(end)} is not two IPv4 addresses`];
    }
    if (from === 0) {
        // 0.0.0.0-0.0.0.0 is Azure's "allow all Azure services", which admits every tenant's Azure resources.
        return ["a rule starting at 0.0.0.0 admits all Azure services (or everyone); list exact addresses"];
    }
    if (to - from + 1 > MAX_FIREWALL_ADDRESSES) {
        return [`${start}-${end} spans more than a /16`];
    }
    return [];
}

// ---------------------------------------------------------------------------------------------------------
// Images and environment

/** An image reference pinned by tag or digest, never `latest` (in any case) or untagged. */
export function isPinnedImage(image: string): boolean {
    if (/\s/.test(image) || image.length === 0) {
        return false;
    }
    if (/@sha256:[0-9a-f]{64}$/.test(image)) {
        return true;
    }
    const lastSegment = image.slice(image.lastIndexOf("/") + 1);
    const colon = lastSegment.lastIndexOf(":");
    if (colon < 1) {
        return false;
    }
    const tag = lastSegment.slice(colon + 1);
    // Registries treat tags case-sensitively, so `LATEST` is a different tag — but just as mutable a name.
    return /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(tag) && tag.toLowerCase() !== "latest";
}

// Names that say "this variable carries a credential": passwords, secrets, and whole connection strings or
// URLs that embed one (libpq reads PGPASSWORD; frameworks read DATABASE_URL and *_CONNECTION_STRING).
const CREDENTIAL_ENV_NAMES: readonly RegExp[] = [
    /pass(word|wd)?|pwd|secret/i,
    /(^|_)DATABASE_URL$/i,
    /CONNECTION_?STRING/i,
];

/** Whether an environment variable's name says it carries a credential. */
export function isCredentialEnvName(name: string): boolean {
    return CREDENTIAL_ENV_NAMES.some(pattern => pattern.test(name));
}

// ---------------------------------------------------------------------------------------------------------
// Federated credentials

export const SERVICE_ACCOUNT_SUBJECT = /^system:serviceaccount:[a-z0-9]([-a-z0-9]*[a-z0-9])?:[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/** GitHub Actions' OIDC issuer; its subjects start `repo:<owner>/<repo>:` (GitHub docs, "About security hardening with OpenID Connect"). */
export const GITHUB_ACTIONS_ISSUER = "https://token.actions.githubusercontent.com";
const GITHUB_SUBJECT = /^repo:[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+:\S+$/;
/** An AKS cluster's OIDC issuer: https://<region>.oic.prod-aks.azure.com/<tenant id>/<cluster guid>/ */
export const AKS_ISSUER = /^https:\/\/[a-z0-9-]+\.oic\.prod-aks\.azure\.com\/[0-9a-f-]{36}\/[0-9a-f-]{36}\/$/i;

function normalisedIssuer(issuer: string): string {
    return issuer.endsWith("/") ? issuer : `${issuer}/`;
}

/** Whether two issuer URLs name the same issuer (Entra compares them as given; we forgive a trailing slash). */
export function sameIssuer(a: string, b: string): boolean {
    return normalisedIssuer(a) === normalisedIssuer(b);
}

/**
 * Problems with a federated credential's audiences, issuer and subject. `allowedIssuers` are issuers trusted
 * besides AKS clusters; whether an AKS issuer is this stack's own cluster is for the caller to decide.
 */
export function checkFederatedCredential(fic: { audiences?: unknown; issuer?: unknown; subject?: unknown }, allowedIssuers: readonly string[]): string[] {
    const problems: string[] = [];
    const { audiences, issuer, subject } = fic;
    if (!Array.isArray(audiences) || audiences.length !== 1 || audiences[0] !== TOKEN_EXCHANGE_AUDIENCE) {
        problems.push(`audiences must be exactly ["${TOKEN_EXCHANGE_AUDIENCE}"], not ${JSON.stringify(audiences)}`);
    }
    if (typeof issuer !== "string" || issuer === "") {
        problems.push("a federated credential needs an issuer");
    } else if (!AKS_ISSUER.test(normalisedIssuer(issuer)) && !allowedIssuers.some(allowed => sameIssuer(allowed, issuer))) {
        problems.push(`issuer "${issuer}" is neither an AKS cluster's OIDC issuer nor in the policy config's allowedIssuers`);
    }
    if (typeof subject !== "string" || subject === "") {
        problems.push("a federated credential needs a subject");
    } else if (typeof issuer === "string" && sameIssuer(issuer, GITHUB_ACTIONS_ISSUER)) {
        if (!GITHUB_SUBJECT.test(subject)) {
            problems.push(`subject "${subject}" is not repo:<owner>/<repo>:<context>`);
        }
    } else if (!SERVICE_ACCOUNT_SUBJECT.test(subject)) {
        problems.push(`subject "${subject}" is not system:serviceaccount:<namespace>:<serviceaccount>`);
    }
    return problems;
}

// ---------------------------------------------------------------------------------------------------------
// Azure roles

/** Built-in Azure role definitions, by their fixed GUIDs (the same in every tenant) and display names. */
export const AZURE_ROLES = {
    networkContributor: { id: "4d97b98b-1d4f-4787-a291-c67834d212e7", name: "Network Contributor" },
    aksRbacClusterAdmin: { id: "b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b", name: "Azure Kubernetes Service RBAC Cluster Admin" },
    acrPush: { id: "8311e382-0749-4cb8-b61a-304f252e45ec", name: "AcrPush" },
    acrPull: { id: "7f951dda-4ed3-4680-a7ca-43fe172d538d", name: "AcrPull" },
    keyVaultSecretsUser: { id: "4633458b-17de-408a-b874-0445c86b69e6", name: "Key Vault Secrets User" },
    storageBlobDataReader: { id: "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1", name: "Storage Blob Data Reader" },
    storageBlobDataContributor: { id: "ba92f5b4-2d11-453d-a403-e96b0029c9fe", name: "Storage Blob Data Contributor" },
    serviceBusDataSender: { id: "69a216fc-b8fb-44d8-bc22-1f3c2cd27a39", name: "Azure Service Bus Data Sender" },
    serviceBusDataReceiver: { id: "4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0", name: "Azure Service Bus Data Receiver" },
    owner: { id: "8e3af657-a8ff-443c-a75c-2fe8c4bcb635", name: "Owner" },
    contributor: { id: "b24988ac-6180-42a0-ab88-20f7382dd24c", name: "Contributor" },
    userAccessAdministrator: { id: "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9", name: "User Access Administrator" },
    rbacAdministrator: { id: "f58310d9-a9f6-439a-9e8d-f62e7b41a168", name: "Role Based Access Control Administrator" },
    aksContributor: { id: "ed7f3fbd-7b88-4dd4-9017-9adb7ce333f8", name: "Azure Kubernetes Service Contributor Role" },
    aksClusterAdmin: { id: "0ab0b1a8-8aac-4efd-b8c2-3ee1fb270be8", name: "Azure Kubernetes Service Cluster Admin Role" },
} as const;

type AzureRole = (typeof AZURE_ROLES)[keyof typeof AZURE_ROLES];

/**
 * Every role the program assigns (D5): its own (Network Contributor, AcrPull; cluster-admin and AcrPush for a
 * stack's `deployers`) and the extra roles config allows apps (lib/programRoles.ts, ALLOWED_APP_ROLES) —
 * the only roles a role assignment may grant unless policy config adds one. tests/roles.test.ts fails when the two
 * lists differ.
 */
export const PROGRAM_ROLES: readonly AzureRole[] = [
    AZURE_ROLES.networkContributor, AZURE_ROLES.aksRbacClusterAdmin, AZURE_ROLES.acrPush, AZURE_ROLES.acrPull,
    AZURE_ROLES.keyVaultSecretsUser, AZURE_ROLES.storageBlobDataReader, AZURE_ROLES.storageBlobDataContributor,
    AZURE_ROLES.serviceBusDataSender, AZURE_ROLES.serviceBusDataReceiver,
];

/**
 * Roles that hand out control over a resource's access or everything in it; never granted by a stack, not even
 * when config allow-lists them. (Owner, User Access Administrator and RBAC Administrator can assign roles;
 * Contributor and the AKS admin roles can read cluster-admin credentials or change the cluster itself.)
 */
export const PRIVILEGED_ROLES: readonly AzureRole[] = [
    AZURE_ROLES.owner, AZURE_ROLES.contributor, AZURE_ROLES.userAccessAdministrator, AZURE_ROLES.rbacAdministrator,
    AZURE_ROLES.aksContributor, AZURE_ROLES.aksClusterAdmin,
];

const GUID_IN = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;

/** The role definition GUID in a GUID or an ARM role definition id (the last GUID in it), lower-cased. */
export function roleGuid(roleDefinitionId: string): string | undefined {
    return roleDefinitionId.match(GUID_IN)?.pop()?.toLowerCase();
}

/**
 * Problems with granting a role given by id (GUID or ARM id) or by display name. Only the program's roles and
 * `extraAllowed` (GUIDs from policy config) pass; privileged roles never do.
 */
export function checkRole(role: { id?: unknown; name?: unknown }, extraAllowed: readonly string[] = []): string[] {
    const byName = typeof role.name === "string" ? Object.values(AZURE_ROLES).find(r => r.name.toLowerCase() === (role.name as string).toLowerCase()) : undefined;
    const guid = typeof role.id === "string" ? roleGuid(role.id) : byName?.id;
    const label = typeof role.name === "string" ? `"${role.name}"` : String(role.id);
    if (guid === undefined) {
        return [`role ${label} is neither a role definition GUID nor a built-in role this pack knows`];
    }
    const privileged = PRIVILEGED_ROLES.find(r => r.id === guid);
    if (privileged) {
        return [`role ${privileged.name} (${guid}) is privileged and never assigned by a stack`];
    }
    const allowed = PROGRAM_ROLES.some(r => r.id === guid) || extraAllowed.some(id => roleGuid(id) === guid);
    return allowed ? [] : [`role ${label} is not one the program assigns; add its GUID to the policy config's allowedRoleDefinitionIds if an app needs it`];
}

// ---------------------------------------------------------------------------------------------------------
// PostgreSQL roles

/**
 * Roles whose membership gives an app role power over the server or other roles' data: Azure's admin role and
 * PostgreSQL's predefined roles that read or write everything, touch server files or signal other backends.
 */
export const PRIVILEGED_PG_ROLES: readonly string[] = [
    "azure_pg_admin", "azuresu", "azure_superuser", "pg_read_all_data", "pg_write_all_data", "pg_read_server_files",
    "pg_write_server_files", "pg_execute_server_program", "pg_signal_backend", "pg_checkpoint", "pg_create_subscription",
    "pg_use_reserved_connections",
];

/** Role attributes an app role never has (the provider's names for SUPERUSER, CREATEROLE, …). */
const PG_ROLE_ATTRIBUTES: Readonly<Record<string, string>> = {
    superuser: "SUPERUSER",
    createRole: "CREATEROLE",
    createDatabase: "CREATEDB",
    replication: "REPLICATION",
    bypassRowLevelSecurity: "BYPASSRLS",
};

export function isPrivilegedPgRole(role: string): boolean {
    return PRIVILEGED_PG_ROLES.includes(role.trim().replace(/^"|"$/g, "").toLowerCase());
}

/** Problems with a PostgreSQL role's attributes, memberships and password. */
export function checkPgRole(role: Record<string, unknown>): string[] {
    const problems: string[] = [];
    for (const [attribute, keyword] of Object.entries(PG_ROLE_ATTRIBUTES)) {
        if (role[attribute] === true) {
            problems.push(`role must not have ${keyword}`);
        }
    }
    for (const member of Array.isArray(role.roles) ? role.roles : []) {
        if (typeof member === "string" && isPrivilegedPgRole(member)) {
            problems.push(`role must not be a member of ${member}`);
        }
    }
    if (role.password !== undefined || role.encryptedPassword !== undefined) {
        problems.push("role must not have a password (Entra tokens only)");
    }
    return problems;
}

// ---------------------------------------------------------------------------------------------------------
// Key Vault

/**
 * Problems with a Key Vault (azure-native's shape: settings under `properties`): data access must be authorised by
 * Azure RBAC — with `enableRbacAuthorization` false or absent the vault uses access policies (Key Vault's default) —
 * and it has no access policies; in production, purge protection must be on (Key Vault never accepts it false, so
 * absent means off).
 */
export function checkKeyVault(props: { properties?: { enableRbacAuthorization?: unknown; enablePurgeProtection?: unknown; accessPolicies?: unknown } }, production: boolean): string[] {
    const problems: string[] = [];
    const properties = props.properties ?? {};
    if (properties.enableRbacAuthorization !== true) {
        problems.push("a Key Vault must authorise data access with Azure RBAC (properties.enableRbacAuthorization: true), not access policies");
    }
    if (Array.isArray(properties.accessPolicies) && properties.accessPolicies.length > 0) {
        problems.push(`a Key Vault has no access policies (found ${properties.accessPolicies.length}): grant "Key Vault Secrets User" on each secret instead`);
    }
    if (production && properties.enablePurgeProtection !== true) {
        problems.push("in production a Key Vault needs purge protection (properties.enablePurgeProtection: true)");
    }
    return problems;
}
