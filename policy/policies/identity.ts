// AKS and identities: the cluster authenticates through Entra with workload identity, federated credentials
// trust only this stack's clusters (or allow-listed issuers), and role assignments grant the program's roles
// on one resource each.
import type { PolicyResource, StackValidationArgs, StackValidationPolicy } from "@pulumi/policy";
import { isArmExpression } from "../families";
import { AKS_ISSUER, checkFederatedCredential, checkRole, CLIENT_ID_ANNOTATION, sameIssuer, USE_LABEL } from "../rules";
import { familyPolicy, peek, peekCandidates, UNKNOWN } from "./common";

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

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

