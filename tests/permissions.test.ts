// Issue 9, point 3: each deploy identity made by bootstrap/ can do everything its stack's program asks of it.
// Per stack, the main program is evaluated under the mocks as CI runs it; every resource it would create becomes the
// ARM actions its create and delete need, every role assignment becomes (role, principal type). Then bootstrap is
// evaluated and the deploy identity's grants — built-in role definitions as Microsoft publishes them, bootstrap's
// custom lock role as recorded, the ABAC condition parsed and evaluated — must cover each need.
import * as path from "path";
import { expect } from "chai";
import * as fs from "fs";
import * as yaml from "js-yaml";
import { BUILTIN_ROLES } from "../lib/azureRoles";
import { ALLOWED_APP_ROLES, isAllowedAppRole, PROGRAM_ROLES, roleGuid } from "../lib/programRoles";
import { BOOTSTRAP_PROJECT } from "../bootstrap/config";
import { AzureMocks, SUBSCRIPTION_ID } from "./mocks";
import { freshProjectModules, ROOT, runProgram, stackConfig, underMocks } from "./harness";

// ---- Built-in role definitions (permissions only), as Microsoft's "Azure built-in roles" pages list them:
// General → Contributor (b24988ac…); Privileged → Role Based Access Control Administrator (f58310d9…);
// Containers → Azure Kubernetes Service RBAC Cluster Admin (b1ff04bb…), AcrPush (8311e382…). Checked against
// learn.microsoft.com/azure/role-based-access-control/built-in-roles/{general,privileged,containers}.
interface Permissions { actions: string[]; notActions: string[]; dataActions: string[]; notDataActions: string[] }
const BUILTIN_DEFINITIONS: Record<string, Permissions> = {
    [BUILTIN_ROLES.contributor]: {
        actions: ["*"],
        notActions: [
            "Microsoft.Authorization/*/Delete", "Microsoft.Authorization/*/Write", "Microsoft.Authorization/elevateAccess/Action",
            "Microsoft.Blueprint/blueprintAssignments/write", "Microsoft.Blueprint/blueprintAssignments/delete",
            "Microsoft.Compute/galleries/share/action", "Microsoft.Purview/consents/write", "Microsoft.Purview/consents/delete",
            "Microsoft.Resources/deploymentStacks/manageDenySetting/action",
        ],
        dataActions: [], notDataActions: [],
    },
    [BUILTIN_ROLES.rbacAdministrator]: {
        actions: ["Microsoft.Authorization/roleAssignments/write", "Microsoft.Authorization/roleAssignments/delete", "*/read", "Microsoft.Support/*"],
        notActions: [], dataActions: [], notDataActions: [],
    },
    [BUILTIN_ROLES.aksRbacClusterAdmin]: {
        actions: [
            "Microsoft.Authorization/*/read", "Microsoft.Resources/subscriptions/operationresults/read", "Microsoft.Resources/subscriptions/read",
            "Microsoft.Resources/subscriptions/resourceGroups/read", "Microsoft.ContainerService/managedClusters/listClusterUserCredential/action",
            "Microsoft.Insights/alertRules/*", "Microsoft.Support/*",
        ],
        notActions: [], dataActions: ["Microsoft.ContainerService/managedClusters/*"], notDataActions: [],
    },
    [BUILTIN_ROLES.acrPush]: {
        actions: ["Microsoft.ContainerRegistry/registries/pull/read", "Microsoft.ContainerRegistry/registries/push/write"],
        notActions: [], dataActions: [], notDataActions: [],
    },
};

/** Azure's action matching: case-insensitive, `*` matches any run of characters. */
function actionMatches(pattern: string, action: string): boolean {
    const re = new RegExp(`^${pattern.split("*").map(p => p.replace(/[.+?^${}()|[\]\\/]/g, "\\$&")).join(".*")}$`, "i");
    return re.test(action);
}

function permits(p: Permissions, action: string, data: boolean): boolean {
    const [allow, deny] = data ? [p.dataActions, p.notDataActions] : [p.actions, p.notActions];
    return allow.some(a => actionMatches(a, action)) && !deny.some(a => actionMatches(a, action));
}

// ---- ABAC conditions: the subset Azure documents for role-assignment delegation (ActionMatches, @Request/@Resource
// attributes compared with GuidEquals / StringEqualsIgnoreCase, single values or ForAnyOfAnyValues sets, !, AND, OR).
type Attributes = Record<string, string>;
interface Request { action: string; request: Attributes; resource: Attributes }

export function evaluateCondition(condition: string, req: Request): boolean {
    const tokens = condition.match(/\(|\)|!|\bAND\b|\bOR\b|ActionMatches\{'[^']*'\}|@(?:Request|Resource)\[[^\]]+\]|[A-Za-z]+:[A-Za-z]+|[A-Za-z]+|\{[^}]*\}|'[^']*'/g) ?? [];
    let i = 0;
    const peek = () => tokens[i];
    const next = () => tokens[i++];
    const values = (token: string) => token.startsWith("{")
        ? token.slice(1, -1).split(",").map(v => v.trim().replace(/^'|'$/g, ""))
        : [token.replace(/^'|'$/g, "")];
    const factor = (): boolean => {
        const t = next();
        if (t === "!") {
            return !factor();
        }
        if (t === "(") {
            const v = expr();
            expect(next(), `condition: missing ) in ${condition}`).to.equal(")");
            return v;
        }
        if (t?.startsWith("ActionMatches{")) {
            return actionMatches(t.slice("ActionMatches{'".length, -2), req.action);
        }
        if (t?.startsWith("@")) {
            const [, source, attr] = /^@(Request|Resource)\[[^:]+:([^\]]+)\]$/.exec(t)!;
            const op = next();
            const wanted = values(next());
            const actual = (source === "Request" ? req.request : req.resource)[attr];
            if (actual === undefined) {
                return false;
            }
            const eq = op.endsWith("GuidEquals") || op.endsWith("StringEqualsIgnoreCase")
                ? (a: string, b: string) => a.toLowerCase() === b.toLowerCase()
                : (() => { throw new Error(`condition: operator ${op} not modelled`); })();
            return wanted.some(w => eq(w, actual));
        }
        throw new Error(`condition: unexpected token ${t} in ${condition}`);
    };
    const term = (): boolean => {
        let v = factor();
        while (peek() === "AND") {
            next();
            v = factor() && v;
        }
        return v;
    };
    const expr = (): boolean => {
        let v = term();
        while (peek() === "OR") {
            next();
            v = term() || v;
        }
        return v;
    };
    const result = expr();
    expect(i, `condition: trailing tokens in ${condition}`).to.equal(tokens.length);
    return result;
}

// ---- What the program needs.
/** ARM resource type of each azure-native resource the program creates; a new type fails until it is added. */
const ARM_TYPE: Record<string, string> = {
    "azure-native:resources:ResourceGroup": "Microsoft.Resources/subscriptions/resourceGroups",
    "azure-native:operationalinsights:Workspace": "Microsoft.OperationalInsights/workspaces",
    "azure-native:network:PublicIPAddress": "Microsoft.Network/publicIPAddresses",
    "azure-native:managedidentity:UserAssignedIdentity": "Microsoft.ManagedIdentity/userAssignedIdentities",
    "azure-native:managedidentity:FederatedIdentityCredential": "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials",
    "azure-native:containerservice:ManagedCluster": "Microsoft.ContainerService/managedClusters",
    "azure-native:containerregistry:Registry": "Microsoft.ContainerRegistry/registries",
    "azure-native:dbforpostgresql:Server": "Microsoft.DBforPostgreSQL/flexibleServers",
    "azure-native:dbforpostgresql:AdministratorsMicrosoftEntra": "Microsoft.DBforPostgreSQL/flexibleServers/administrators",
    "azure-native:dbforpostgresql:Configuration": "Microsoft.DBforPostgreSQL/flexibleServers/configurations",
    "azure-native:dbforpostgresql:FirewallRule": "Microsoft.DBforPostgreSQL/flexibleServers/firewallRules",
    "azure-native:monitor:DiagnosticSetting": "Microsoft.Insights/diagnosticSettings",
    "azure-native:insights:DataCollectionRule": "Microsoft.Insights/dataCollectionRules",
    "azure-native:monitor:DataCollectionRule": "Microsoft.Insights/dataCollectionRules",
    "azure-native:monitor:DataCollectionRuleAssociation": "Microsoft.Insights/dataCollectionRuleAssociations",
    "azure-native:insights:DataCollectionRuleAssociation": "Microsoft.Insights/dataCollectionRuleAssociations",
    "azure-native:authorization:RoleAssignment": "Microsoft.Authorization/roleAssignments",
    "azure-native:authorization:ManagementLockByScope": "Microsoft.Authorization/locks",
    "azure-native:network:VirtualNetwork": "Microsoft.Network/virtualNetworks",
    "azure-native:network:PrivateEndpoint": "Microsoft.Network/privateEndpoints",
    "azure-native:network:PrivateDnsZoneGroup": "Microsoft.Network/privateEndpoints/privateDnsZoneGroups",
    "azure-native:privatedns:PrivateZone": "Microsoft.Network/privateDnsZones",
    "azure-native:privatedns:VirtualNetworkLink": "Microsoft.Network/privateDnsZones/virtualNetworkLinks",
    "azure-native:keyvault:Vault": "Microsoft.KeyVault/vaults",
    "azure-native:keyvault:Secret": "Microsoft.KeyVault/vaults/secrets",
};

/** An ARM id of a resource of `type`, child types included (`Microsoft.Network/virtualNetworks/subnets` → …/virtualNetworks/<v>/subnets/<s>). */
function scopeOfType(type: string): RegExp {
    const [namespace, ...types] = type.split("/");
    return new RegExp(`/providers/${namespace}/${types.map(t => `${t}/[^/]+`).join("/")}(/|$)`, "i");
}

const GROUP = (inputs: Record<string, any>) => `/subscriptions/${SUBSCRIPTION_ID}/resourceGroups/${inputs.resourceGroupName}`;
/** What each invoke the program makes asks of ARM (null: it asks nothing of ARM, e.g. reading the caller's own token). */
const INVOKES: Record<string, ((inputs: Record<string, any>) => { action: string; scope: string }) | null> = {
    "azure-native:authorization:getClientConfig": null,
    "azure-native:authorization:getClientToken": null,
    "azure-native:resources:getResourceGroup": i => ({ action: "Microsoft.Resources/subscriptions/resourceGroups/read", scope: GROUP(i) }),
    "azure-native:keyvault:getSecret": i => ({
        action: "Microsoft.KeyVault/vaults/secrets/read",
        scope: `${GROUP(i)}/providers/Microsoft.KeyVault/vaults/${i.vaultName}/secrets/${i.secretName}`,
    }),
    "azure-native:containerservice:listManagedClusterUserCredentials": i => ({
        action: "Microsoft.ContainerService/managedClusters/listClusterUserCredential/action",
        scope: `${GROUP(i)}/providers/Microsoft.ContainerService/managedClusters/${i.resourceName}`,
    }),
};

interface Need {
    /** What asks for it, for the failure message. */
    what: string;
    action: string;
    scope: string;
    data?: boolean;
    request?: Attributes;
    resource?: Attributes;
}

/** Where a Kubernetes object lives in Azure RBAC for Kubernetes: managedClusters/<group>/<plural>/<verb>. */
function kubernetesDataAction(type: string, verb: "write" | "delete"): string {
    const [, group, kind] = /^kubernetes:([^:]+)\/[^/:]+:(\w+)$/.exec(type) ?? [];
    if (!kind) {
        throw new Error(`permissions: cannot map ${type} to a Kubernetes data action`);
    }
    const lower = kind.toLowerCase();
    const plural = lower.endsWith("y") ? `${lower.slice(0, -1)}ies` : lower.endsWith("s") ? `${lower}es` : `${lower}s`;
    return `Microsoft.ContainerService/managedClusters/${group === "core" ? "" : `${group}/`}${plural}/${verb}`;
}

export function needsOf(mocks: AzureMocks): Need[] {
    const cluster = mocks.ofType("azure-native:containerservice:ManagedCluster")[0];
    const registry = mocks.ofType("azure-native:containerregistry:Registry")[0];
    const needs: Need[] = [];
    for (const r of mocks.resources) {
        const what = `${r.type} ${r.name}`;
        if (r.type.startsWith("azure-native:")) {
            const armType = ARM_TYPE[r.type];
            if (!armType) {
                throw new Error(`permissions: no ARM type for ${r.type}; add it to ARM_TYPE in tests/permissions.test.ts`);
            }
            if (r.type === "azure-native:authorization:RoleAssignment") {
                const attrs = { RoleDefinitionId: roleGuid(r.inputs.roleDefinitionId) ?? r.inputs.roleDefinitionId, PrincipalType: r.inputs.principalType };
                needs.push({ what, action: `${armType}/write`, scope: r.inputs.scope, request: attrs });
                needs.push({ what, action: `${armType}/delete`, scope: r.inputs.scope, resource: attrs });
                continue;
            }
            const scope = r.id;
            needs.push({ what, action: `${armType}/write`, scope });
            // The lock's own delete is left out on purpose: only a person may remove it (D4; asserted below).
            if (r.type !== "azure-native:authorization:ManagementLockByScope") {
                needs.push({ what, action: `${armType}/delete`, scope });
            }
            const assigned = r.inputs.identity?.userAssignedIdentities;
            for (const id of Array.isArray(assigned) ? assigned : Object.keys(assigned ?? {})) {
                needs.push({ what: `${what} (uses ${id})`, action: "Microsoft.ManagedIdentity/userAssignedIdentities/assign/action", scope: id });
            }
        } else if (r.type.startsWith("kubernetes:") && !r.type.startsWith("kubernetes:helm")) {
            needs.push({ what, action: kubernetesDataAction(r.type, "write"), scope: cluster.id, data: true });
            needs.push({ what, action: kubernetesDataAction(r.type, "delete"), scope: cluster.id, data: true });
        } else if (r.type === "pulumi-nodejs:dynamic:Resource" && typeof r.inputs.resourceType === "string" && r.inputs.body) {
            // lib/armPatch.ts: a follow-up PATCH of an existing resource (the maintenance window) is its write.
            needs.push({ what, action: `${r.inputs.resourceType}/write`, scope: r.inputs.resourceId });
        } else if (r.type === "docker-build:index:Image" && r.inputs.push) {
            needs.push({ what, action: "Microsoft.ContainerRegistry/registries/push/write", scope: registry.id });
        }
        // postgresql:* runs as the server's Entra administrator (README → "Set up CI"); random:* and pulumi:* touch no Azure API.
    }
    for (const call of mocks.calls) {
        const invoke = INVOKES[call.token];
        if (invoke === undefined) {
            throw new Error(`permissions: no ARM action for the invoke ${call.token}; add it to INVOKES in tests/permissions.test.ts`);
        }
        if (invoke) {
            needs.push({ what: `invoke ${call.token}`, ...invoke(call.inputs) });
        }
    }
    return needs;
}

// ---- What bootstrap grants.
interface Grant { roleDefinitionId: string; scope: string; condition?: string; permissions: Permissions }

function grantsOf(bootstrap: AzureMocks, identity: string): Grant[] {
    const principal = bootstrap.named("azure-native:managedidentity:UserAssignedIdentity", `${identity}-identity`).state.principalId;
    const custom = new Map(bootstrap.ofType("azure-native:authorization:RoleDefinition").map(d => [d.id.toLowerCase(), d.inputs.permissions[0] as Permissions]));
    return bootstrap.ofType("azure-native:authorization:RoleAssignment").filter(a => a.inputs.principalId === principal).map(a => {
        const id: string = a.inputs.roleDefinitionId;
        const permissions = custom.get(id.toLowerCase()) ?? BUILTIN_DEFINITIONS[roleGuid(id) ?? ""];
        return { roleDefinitionId: id, scope: a.inputs.scope, condition: a.inputs.condition, permissions: permissions ?? { actions: [], notActions: [], dataActions: [], notDataActions: [] } };
    });
}

const within = (scope: string, grantScope: string) =>
    scope.toLowerCase() === grantScope.toLowerCase() || scope.toLowerCase().startsWith(`${grantScope.toLowerCase()}/`);

function covered(need: Need, grants: Grant[]): boolean {
    return grants.some(g => within(need.scope, g.scope)
        && permits(g.permissions, need.action, need.data ?? false)
        && (!g.condition || evaluateCondition(g.condition, { action: need.action, request: need.request ?? {}, resource: need.resource ?? {} })));
}

// ---- Running both programs as CI does.
const REPO = "contoso/aks-pg-passwordless";
const groupId = (stack: string) => `/subscriptions/${SUBSCRIPTION_ID}/resourceGroups/rg-pgwi-${stack}`;
/** An app's extra role, on one resource in the stack's own group (the only place its deploy identity may delegate). */
const appExtraRole = (stack: string) => ({
    scope: `${groupId(stack)}/providers/Microsoft.KeyVault/vaults/kv-demo-${stack}`,
    roleDefinitionId: BUILTIN_ROLES.keyVaultSecretsUser,
});
/** The deploy identity bootstrap makes for `stack`. */
const deployIdentity = (stack: string) => `deploy-${stack}`;

/** The stack as committed (its file holds what CI needs: README → "Set up CI"), plus one extra app role to prove those are covered. */
function ciOverrides(stack: string): Record<string, unknown> {
    const apps = JSON.parse(stackConfig(stack).apps) as Record<string, unknown>[];
    return { apps: apps.map((app, i) => i === 0 ? { ...app, roleAssignments: [appExtraRole(stack)] } : app) };
}

async function runBootstrap(): Promise<AzureMocks> {
    freshProjectModules();
    const project = yaml.load(fs.readFileSync(path.join(ROOT, "bootstrap", "Pulumi.yaml"), "utf8")) as { config: Record<string, { default?: unknown }> };
    const config: Record<string, string> = { githubRepository: REPO };
    for (const [key, decl] of Object.entries(project.config)) {
        if (!(key in config) && decl.default !== undefined) {
            config[key] = typeof decl.default === "string" ? decl.default : JSON.stringify(decl.default);
        }
    }
    const { mocks } = await underMocks("ci", () => require(path.join(ROOT, "bootstrap", "index.ts")), { project: BOOTSTRAP_PROJECT, config });
    return mocks;
}

describe("permissions: each deploy identity can do what its stack's program asks", function () {
    this.timeout(120_000);
    let bootstrap: AzureMocks;
    const programs: Record<string, AzureMocks> = {};
    before(async () => {
        bootstrap = await runBootstrap();
        for (const stack of ["dev", "prod"]) {
            programs[stack] = (await runProgram({ stack, overrides: ciOverrides(stack) })).mocks;
        }
    });

    for (const stack of ["dev", "prod"]) {
        it(`${stack}: every create and delete of every Azure resource and role assignment is within deploy-${stack}'s grants`, () => {
            const grants = grantsOf(bootstrap, deployIdentity(stack));
            const missing = needsOf(programs[stack]).filter(n => !covered(n, grants))
                .map(n => `${n.action} on ${n.scope}${n.request ? ` ${JSON.stringify(n.request)}` : ""}${n.resource ? ` ${JSON.stringify(n.resource)}` : ""} (${n.what})`);
            expect([...new Set(missing)], `deploy-${stack} lacks:\n  ${[...new Set(missing)].join("\n  ")}\n`).to.deep.equal([]);
        });

        it(`${stack}: the program assigns only roles listed in lib/programRoles.ts, to the listed principal type and kind of resource`, () => {
            const listed = [...PROGRAM_ROLES, ...ALLOWED_APP_ROLES];
            for (const a of programs[stack].ofType("azure-native:authorization:RoleAssignment")) {
                const guid = roleGuid(a.inputs.roleDefinitionId);
                const entry = listed.find(r => r.roleId === guid && r.principalType === a.inputs.principalType
                    && scopeOfType(r.scopeType).test(a.inputs.scope));
                expect(entry, `${a.name}: ${guid} to a ${a.inputs.principalType} on ${a.inputs.scope}`).to.not.equal(undefined);
            }
        });
    }

    it("every program role in the list is one the program really makes (a role it stopped assigning must leave the list)", () => {
        const made = new Set(["dev", "prod"].flatMap(stack => programs[stack].ofType("azure-native:authorization:RoleAssignment")
            .map(a => `${roleGuid(a.inputs.roleDefinitionId)} ${a.inputs.principalType}`)));
        for (const r of PROGRAM_ROLES) {
            expect(made.has(`${r.roleId} ${r.principalType}`), `${r.roleName} to a ${r.principalType}`).to.equal(true);
        }
    });

    it("prod: deploy-prod can create the server's lock but cannot delete it (D4)", () => {
        const lock = programs.prod.ofType("azure-native:authorization:ManagementLockByScope");
        expect(lock).to.have.length(1);
        const grants = grantsOf(bootstrap, deployIdentity("prod"));
        expect(covered({ what: "lock", action: "Microsoft.Authorization/locks/write", scope: lock[0].id }, grants)).to.equal(true);
        expect(covered({ what: "lock", action: "Microsoft.Authorization/locks/delete", scope: lock[0].id }, grants)).to.equal(false);
    });

    it("deploy-dev can do nothing in prod's group, and deploy-prod nothing in dev's", () => {
        for (const [stack, other] of [["dev", "prod"], ["prod", "dev"]]) {
            const grants = grantsOf(bootstrap, deployIdentity(stack));
            const theirs = needsOf(programs[other]).filter(n => n.scope.startsWith(groupId(other)));
            expect(theirs.length).to.be.greaterThan(10);
            expect(theirs.filter(n => covered(n, grants)).map(n => n.what)).to.deep.equal([]);
        }
    });

    it("the delegation refuses what the program never asks for: Owner, User Access Administrator, a listed role to a person", () => {
        const grants = grantsOf(bootstrap, deployIdentity("prod"));
        const assign = (role: string, principalType: string) => covered({
            what: "probe", action: "Microsoft.Authorization/roleAssignments/write", scope: `${groupId("prod")}/providers/Microsoft.KeyVault/vaults/kv`,
            request: { RoleDefinitionId: role, PrincipalType: principalType },
        }, grants);
        expect(assign(BUILTIN_ROLES.keyVaultSecretsUser, "ServicePrincipal")).to.equal(true);
        expect(assign("8e3af657-a8ff-443c-a75c-2fe8c4bcb635", "ServicePrincipal")).to.equal(false); // Owner
        expect(assign("18d7d88d-d35e-4fb5-a5c3-7773c20a72d9", "ServicePrincipal")).to.equal(false); // User Access Administrator
        expect(assign(BUILTIN_ROLES.keyVaultSecretsUser, "User")).to.equal(false);
        expect(assign(BUILTIN_ROLES.rbacAdministrator, "ServicePrincipal")).to.equal(false);
    });
});

describe("permissions: the models the check relies on", () => {
    it("Contributor can write a firewall rule but not a lock or a role assignment", () => {
        const c = BUILTIN_DEFINITIONS[BUILTIN_ROLES.contributor];
        expect(permits(c, "Microsoft.DBforPostgreSQL/flexibleServers/firewallRules/write", false)).to.equal(true);
        expect(permits(c, "Microsoft.Authorization/locks/write", false)).to.equal(false);
        expect(permits(c, "Microsoft.Authorization/roleAssignments/write", false)).to.equal(false);
    });

    it("the condition evaluator follows ActionMatches, attributes, !, AND and OR", () => {
        const cond = "((!(ActionMatches{'Microsoft.Authorization/roleAssignments/write'})) OR (@Request[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals {a1, b2} AND @Request[Microsoft.Authorization/roleAssignments:PrincipalType] ForAnyOfAnyValues:StringEqualsIgnoreCase {'ServicePrincipal'}))";
        const write = (role: string, type: string) => evaluateCondition(cond, { action: "Microsoft.Authorization/roleAssignments/write", request: { RoleDefinitionId: role, PrincipalType: type }, resource: {} });
        expect(write("b2", "serviceprincipal")).to.equal(true);
        expect(write("c3", "ServicePrincipal")).to.equal(false);
        expect(write("a1", "User")).to.equal(false);
        expect(evaluateCondition(cond, { action: "Microsoft.Authorization/roleAssignments/delete", request: {}, resource: {} })).to.equal(true);
    });

    it("isAllowedAppRole accepts the listed data roles by GUID or ARM id and refuses any other", () => {
        expect(isAllowedAppRole(BUILTIN_ROLES.keyVaultSecretsUser)).to.equal(true);
        expect(isAllowedAppRole(`/subscriptions/${SUBSCRIPTION_ID}/providers/Microsoft.Authorization/roleDefinitions/${BUILTIN_ROLES.storageBlobDataReader.toUpperCase()}`)).to.equal(true);
        expect(isAllowedAppRole(BUILTIN_ROLES.contributor)).to.equal(false);
        expect(isAllowedAppRole("8e3af657-a8ff-443c-a75c-2fe8c4bcb635")).to.equal(false);
        expect(isAllowedAppRole(BUILTIN_ROLES.acrPull)).to.equal(false);
    });
});

