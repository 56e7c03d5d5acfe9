// Every Azure role assignment the main program can make (D5): which role, on what kind of resource, to what
// kind of principal. Two consumers are generated from this one list so they cannot drift:
// - config validation refuses an app's extra role that is not in `ALLOWED_APP_ROLES` (`isAllowedAppRole`);
// - bootstrap/ gives each deploy identity "Role Based Access Control Administrator" with an ABAC condition
//   (`delegationCondition`) that lets it write and delete exactly these (role, principal type) pairs.
// tests/permissions.test.ts evaluates the program per stack and fails when it assigns anything not listed here.
import { BUILTIN_ROLES } from "./azureRoles";

/** The principal types Azure records on a role assignment. */
export type AssignablePrincipalType = "ServicePrincipal" | "User" | "Group";

export interface ProgramRole {
    /** Built-in role definition GUID (the same in every tenant). */
    roleId: string;
    /** The role's display name in Azure. */
    roleName: string;
    /** ARM resource type of the scope the program places it on (the delegation itself is limited to the stack's group). */
    scopeType: string;
    /** Who receives it. */
    principalType: AssignablePrincipalType;
    /** Why the program assigns it. */
    purpose: string;
}

/** Role assignments the program's own components make. */
export const PROGRAM_ROLES: readonly ProgramRole[] = Object.freeze([
    {
        roleId: BUILTIN_ROLES.networkContributor, roleName: "Network Contributor",
        scopeType: "Microsoft.Network/publicIPAddresses", principalType: "ServicePrincipal",
        purpose: "the AKS control-plane identity joins the egress public IP to the cluster's load balancer",
    },
    {
        roleId: BUILTIN_ROLES.networkContributor, roleName: "Network Contributor",
        scopeType: "Microsoft.Network/virtualNetworks/subnets", principalType: "ServicePrincipal",
        purpose: "the AKS control-plane identity joins the nodes to their subnet (private network, VNet made by the program)",
    },
    {
        roleId: BUILTIN_ROLES.acrPull, roleName: "AcrPull",
        scopeType: "Microsoft.ContainerRegistry/registries", principalType: "ServicePrincipal",
        purpose: "the cluster's kubelet identity pulls the app image",
    },
    {
        roleId: BUILTIN_ROLES.keyVaultSecretsUser, roleName: "Key Vault Secrets User",
        scopeType: "Microsoft.KeyVault/vaults/secrets", principalType: "ServicePrincipal",
        purpose: "an app's identity reads one secret it lists (apps[].secrets), on that secret's own scope, never the vault",
    },
]);


/**
 * Extra roles an app's identity may get (config `apps[].roleAssignments`), each on one resource. Kept to data-plane
 * roles that let a workload use one resource and change nothing about who can reach it: read or write blobs, read
 * secrets, send or receive messages. Anything that manages a resource or its access (Owner, Contributor, any
 * "…Administrator", Key Vault Secrets Officer, Storage Blob Data Owner, which may set ACLs) is left out: a config
 * change must never be able to make the deploy identity hand out control.
 */
export const ALLOWED_APP_ROLES: readonly ProgramRole[] = Object.freeze([
    {
        roleId: BUILTIN_ROLES.storageBlobDataReader, roleName: "Storage Blob Data Reader",
        scopeType: "Microsoft.Storage/storageAccounts", principalType: "ServicePrincipal",
        purpose: "an app reads blobs",
    },
    {
        roleId: BUILTIN_ROLES.storageBlobDataContributor, roleName: "Storage Blob Data Contributor",
        scopeType: "Microsoft.Storage/storageAccounts", principalType: "ServicePrincipal",
        purpose: "an app reads and writes blobs",
    },
    {
        roleId: BUILTIN_ROLES.keyVaultSecretsUser, roleName: "Key Vault Secrets User",
        scopeType: "Microsoft.KeyVault/vaults", principalType: "ServicePrincipal",
        purpose: "an app reads secrets (place it on one secret where possible)",
    },
    {
        roleId: BUILTIN_ROLES.serviceBusDataSender, roleName: "Azure Service Bus Data Sender",
        scopeType: "Microsoft.ServiceBus/namespaces", principalType: "ServicePrincipal",
        purpose: "an app sends messages",
    },
    {
        roleId: BUILTIN_ROLES.serviceBusDataReceiver, roleName: "Azure Service Bus Data Receiver",
        scopeType: "Microsoft.ServiceBus/namespaces", principalType: "ServicePrincipal",
        purpose: "an app receives messages",
    },
]);

/** Everything the deploy identity may assign: the program's own roles and the apps' allowed extras. */
export const DELEGABLE_ROLES: readonly ProgramRole[] = Object.freeze([...PROGRAM_ROLES, ...ALLOWED_APP_ROLES]);

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The GUID of a role given as a GUID or as a full role definition ARM id; undefined for anything else. */
export function roleGuid(roleDefinitionId: string): string | undefined {
    const last = roleDefinitionId.split("/").pop() ?? "";
    return GUID.test(last) ? last.toLowerCase() : undefined;
}

/** True when an app may be given `roleDefinitionId` (a GUID or a role definition ARM id). */
export function isAllowedAppRole(roleDefinitionId: string): boolean {
    const guid = roleGuid(roleDefinitionId);
    return ALLOWED_APP_ROLES.some(r => r.roleId === guid);
}

/** "Name (GUID), …" of the allowed app roles, for error messages and the README. */
export function allowedAppRolesText(): string {
    return ALLOWED_APP_ROLES.map(r => `${r.roleName} (${r.roleId})`).join(", ");
}

/**
 * The ABAC condition on the deploy identity's "Role Based Access Control Administrator" assignment: it may create
 * and delete role assignments only for the (role, principal type) pairs in `roles` — never Owner, never User Access
 * Administrator, never another role, never to a person unless a pair says so. Creation is checked on the request's
 * attributes, deletion on the existing assignment's (Microsoft's "Authorization actions and attributes" lists role
 * definition id and principal type for both).
 */
export function delegationCondition(roles: readonly ProgramRole[] = DELEGABLE_ROLES): string {
    const byType = new Map<AssignablePrincipalType, string[]>();
    for (const r of roles) {
        const list = byType.get(r.principalType) ?? [];
        if (!list.includes(r.roleId)) {
            list.push(r.roleId);
        }
        byType.set(r.principalType, list);
    }
    const allowed = (source: "Request" | "Resource") => [...byType.entries()]
        .map(([type, ids]) => `(@${source}[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals {${ids.join(", ")}}`
            + ` AND @${source}[Microsoft.Authorization/roleAssignments:PrincipalType] ForAnyOfAnyValues:StringEqualsIgnoreCase {'${type}'})`)
        .join(" OR ");
    return "((!(ActionMatches{'Microsoft.Authorization/roleAssignments/write'})) OR "
        + `(${allowed("Request")})) AND `
        + "((!(ActionMatches{'Microsoft.Authorization/roleAssignments/delete'})) OR "
        + `(${allowed("Resource")}))`;
}
