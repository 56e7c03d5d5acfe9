// PostgreSQL: the server accepts Entra tokens only, stays closed and on TLS 1.2+, has only the configured
// admins, its roles are plain, and in production its data is protected and locked.
import type { PolicyResource, StackValidationArgs, StackValidationPolicy } from "@pulumi/policy";
import { Family, isArmExpression } from "../families";
import { checkFirewallRange, checkPgRole, checkServerParameter, isPrivilegedPgRole } from "../rules";
import { familyPolicy, isProdStack, peek, peekCandidates, PROD_STACKS_SCHEMA, sameText, stackOf, UNKNOWN } from "./common";

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
    /**
     * Names of the in-cluster provisioning identities (D1) allowed as ServicePrincipal administrators. Listed by name
     * because the program creates the identity in the same deploy, so its object id is not known at preview.
     */
    provisioningAdmins?: string[];
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
        const provisioner = typeof c.props.principalName === "string" && (config.provisioningAdmins ?? []).includes(c.props.principalName);
        if (provisioner) {
            if (!sameText(c.props.principalType, "ServicePrincipal")) {
                report(`provisioning administrator ${c.props.principalName} must be the managed identity (ServicePrincipal), not ${String(c.props.principalType)}`);
            }
            return;
        }
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
            provisioningAdmins: { type: "array", items: { type: "string" }, default: [], description: "Names of the in-cluster provisioning identities allowed as ServicePrincipal administrators (D1)." },
            prodStacks: PROD_STACKS_SCHEMA,
        },
    });

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

export interface ProdDataConfig {
    /** Stacks that are production, by stack name. */
    prodStacks?: string[];
}

/**
 * The by-name allowance of `postgres-entra-admins` cannot be walked around with a look-alike: a provisioning
 * administrator must be the user-assigned identity of that name in this very stack, by its principal id. Entra
 * display names are not unique, and the identity's id is known only once it exists, so the check is on the stack:
 * at preview an unknown object id passes; at `up` it must be that identity's principal id.
 */
export const postgresProvisioningAdminIsOwnIdentity: StackValidationPolicy = {
    name: "postgres-provisioning-admin-is-own-identity",
    description: "A PostgreSQL Entra administrator allowed by name (provisioningAdmins) is this stack's user-assigned identity of that name, by principal id.",
    enforcementLevel: "mandatory",
    // The same list as postgres-entra-admins' (tests/policyConfig.test.ts keeps the two equal).
    configSchema: { properties: { provisioningAdmins: { type: "array", items: { type: "string" }, default: [], description: "Names of the in-cluster provisioning identities allowed as administrators (D1)." } } },
    validateStack: (args: StackValidationArgs, report) => {
        const named = new Set(args.getConfig<EntraAdminsConfig>().provisioningAdmins ?? []);
        const identities = args.resources.filter(r => /^azure-native:managedidentity(\/v\w+)?:UserAssignedIdentity$/.test(r.type));
        for (const r of args.resources) {
            for (const c of peekCandidates(r).filter(x => x.family === "pgAdministrator")) {
                const principalName = peek(() => c.props.principalName);
                if (typeof principalName !== "string" || !named.has(principalName)) {
                    continue;
                }
                const own = identities.filter(i => peek(() => i.props.resourceName) === principalName);
                const objectId = peek(() => c.props.objectId ?? c.props.sid);
                const matches = own.some(i => {
                    const principalId = peek(() => i.props.principalId);
                    return objectId === UNKNOWN || principalId === UNKNOWN || (typeof objectId === "string" && typeof principalId === "string"
                        && objectId.toLowerCase() === principalId.toLowerCase());
                });
                if (!matches) {
                    report(`${c.where}${r.name}: provisioning administrator ${principalName} is not this stack's identity of that name `
                        + `(object id ${String(objectId === UNKNOWN ? "unknown" : objectId)})`, r.urn);
                }
            }
        }
    },
};

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

