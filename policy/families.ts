// Which resources a policy judges: type families, not exact type tokens. One family covers a resource in every
// shape a program can create it —
//   - azure-native's default and versioned modules (`azure-native:dbforpostgresql/v20250801:Server`),
//   - the classic `azure` provider (`azure:postgresql/flexibleServerFirewallRule:FlexibleServerFirewallRule`),
//   - an ARM resource inside an inline template of a deployment, or a generic `resources:Resource`,
//   - any Kubernetes group/version of a kind, and its server-side-apply `…Patch` variant.
// Each member is handed to the policies as a `Candidate` whose props use azure-native's input names, so one
// check serves every shape.

type Props = Record<string, any>;

export type Family =
    | "pgServer" | "pgFirewallRule" | "pgConfiguration" | "pgAdministrator" | "pgDatabase"
    | "cluster" | "federatedCredential" | "roleAssignment" | "lock"
    | "pgRole" | "pgGrantRole" | "pgGrant"
    | "workload" | "namespace" | "serviceAccount" | "secret" | "configMap"
    | "helmRelease" | "linkedTemplate" | "script"
    | "keyVault";

export interface Candidate {
    family: Family;
    /** Props in azure-native's (or Kubernetes') shape. */
    props: Props;
    /** Where in the resource it sits, prefixed to messages: "" for the resource itself. */
    where: string;
    /** Flexible Server, or a PostgreSQL server kind this project does not allow (pgServer only). */
    serverKind?: "flexible" | "single" | "cosmos";
    /** The Kubernetes kind without "Patch" (Kubernetes families only). */
    kind?: string;
    /** A server-side-apply patch: judged on what it sets, since what it leaves alone is not its doing. */
    patch?: boolean;
}

interface Token {
    provider: string;
    module: string;
    name: string;
}

/** `azure-native:dbforpostgresql/v20250801:Server` → { azure-native, dbforpostgresql, Server }. */
export function parseToken(type: string): Token {
    const [provider = "", middle = "", name = ""] = type.split(":");
    return { provider, module: middle.split("/")[0].toLowerCase(), name };
}

// ---------------------------------------------------------------------------------------------------------
// azure-native and classic azure

const AZURE_NATIVE: Record<string, Record<string, Family>> = {
    dbforpostgresql: {
        // Versioned modules keep older names: v20171201 is Single Server (Server, ServerAdministrator), and
        // azure-native v2 named Cosmos DB for PostgreSQL clusters `dbforpostgresql:Cluster`.
        Server: "pgServer", SingleServer: "pgServer", ServerGroupCluster: "pgServer", Cluster: "pgServer",
        ServerAdministrator: "pgAdministrator",
        FirewallRule: "pgFirewallRule", SingleServerFirewallRule: "pgFirewallRule", ServerGroupFirewallRule: "pgFirewallRule",
        Configuration: "pgConfiguration", SingleServerConfiguration: "pgConfiguration",
        Administrator: "pgAdministrator", AdministratorsMicrosoftEntra: "pgAdministrator", SingleServerServerAdministrator: "pgAdministrator",
        Database: "pgDatabase", SingleServerDatabase: "pgDatabase",
    },
    cosmosdbforpostgresql: { Cluster: "pgServer", FirewallRule: "pgFirewallRule" },
    containerservice: { ManagedCluster: "cluster" },
    keyvault: { Vault: "keyVault" },
    managedidentity: { FederatedIdentityCredential: "federatedCredential" },
    authorization: {
        RoleAssignment: "roleAssignment",
        ManagementLockByScope: "lock", ManagementLockAtResourceLevel: "lock", ManagementLockAtResourceGroupLevel: "lock",
    },
    resources: { AzureCliScript: "script", AzurePowerShellScript: "script" },
};

function serverKindOf(name: string): Candidate["serverKind"] {
    return name === "Server" ? "flexible" : name.startsWith("Single") ? "single" : "cosmos";
}

/**
 * `props` with some fields renamed or derived. The rest is read through to `props` only when a check reads it:
 * during a preview, reading a value that is not known yet throws (the SDK's unknown-checking proxy), and a
 * spread would read every field, so an unknown field no check needs would stop the check.
 */
function withFields(props: Props, fields: Props): Props {
    return Object.assign(Object.create(props) as Props, fields);
}

/** Classic `azure` provider resources, translated to azure-native's input names. */
const CLASSIC: Record<string, (p: Props) => Candidate> = {
    "postgresql/flexibleServer:FlexibleServer": p => ({
        family: "pgServer", serverKind: "flexible", where: "",
        props: withFields(p, {
            // The classic provider leaves password auth on unless told otherwise (azurerm: password_auth_enabled defaults to true).
            authConfig: {
                activeDirectoryAuth: p.authentication?.activeDirectoryAuthEnabled === true ? "Enabled" : "Disabled",
                passwordAuth: p.authentication?.passwordAuthEnabled === false ? "Disabled" : "Enabled",
            },
            administratorLoginPassword: p.administratorPassword ?? p.administratorPasswordWo,
        }),
    }),
    "postgresql/server:Server": p => ({ family: "pgServer", serverKind: "single", where: "", props: p }),
    "postgresql/flexibleServerFirewallRule:FlexibleServerFirewallRule": p => ({ family: "pgFirewallRule", where: "", props: p }),
    "postgresql/firewallRule:FirewallRule": p => ({ family: "pgFirewallRule", where: "", props: p }),
    "cosmosdb/postgresqlFirewallRule:PostgresqlFirewallRule": p => ({ family: "pgFirewallRule", where: "", props: p }),
    "cosmosdb/postgresqlCluster:PostgresqlCluster": p => ({ family: "pgServer", serverKind: "cosmos", where: "", props: p }),
    "postgresql/flexibleServerConfiguration:FlexibleServerConfiguration": p => ({ family: "pgConfiguration", where: "", props: withFields(p, { configurationName: p.name }) }),
    "postgresql/configuration:Configuration": p => ({ family: "pgConfiguration", where: "", props: withFields(p, { configurationName: p.name }) }),
    "postgresql/flexibleServerActiveDirectoryAdministrator:FlexibleServerActiveDirectoryAdministrator": p => ({ family: "pgAdministrator", where: "", props: p }),
    "postgresql/activeDirectoryAdministrator:ActiveDirectoryAdministrator": p => ({ family: "pgAdministrator", where: "", props: withFields(p, { principalName: p.login }) }),
    "postgresql/flexibleServerDatabase:FlexibleServerDatabase": p => ({ family: "pgDatabase", where: "", props: p }),
    "postgresql/database:Database": p => ({ family: "pgDatabase", where: "", props: p }),
    "armmsi/federatedIdentityCredential:FederatedIdentityCredential": p => ({ family: "federatedCredential", where: "", props: withFields(p, { audiences: p.audience }) }),
    "managedidentity/federatedIdentityCredential:FederatedIdentityCredential": p => ({ family: "federatedCredential", where: "", props: withFields(p, { audiences: p.audience }) }),
    "authorization/assignment:Assignment": p => ({ family: "roleAssignment", where: "", props: p }),
    "management/lock:Lock": p => ({ family: "lock", where: "", props: withFields(p, { level: p.lockLevel }) }),
    // azurerm renamed these in v4 (rbac_authorization_enabled); either spelling counts. Its default is access policies.
    "keyvault/keyVault:KeyVault": p => ({
        family: "keyVault", where: "",
        props: {
            properties: {
                enableRbacAuthorization: p.rbacAuthorizationEnabled ?? p.enableRbacAuthorization,
                enablePurgeProtection: p.purgeProtectionEnabled,
                accessPolicies: p.accessPolicies,
            },
        },
    }),
    "core/resourceDeploymentScriptAzureCli:ResourceDeploymentScriptAzureCli": p => ({ family: "script", where: "", props: p }),
    "core/resourceDeploymentScriptPowerShell:ResourceDeploymentScriptPowerShell": p => ({ family: "script", where: "", props: p }),
};

// ---------------------------------------------------------------------------------------------------------
// ARM: inline templates and generic resources

/** ARM resource types (lower case) → family and the translation of `properties` to azure-native inputs. */
const ARM_TYPES: Record<string, { family: Family; serverKind?: Candidate["serverKind"]; props: (properties: Props, name: string) => Props }> = {
    "microsoft.dbforpostgresql/flexibleservers": { family: "pgServer", serverKind: "flexible", props: p => p },
    "microsoft.dbforpostgresql/servers": { family: "pgServer", serverKind: "single", props: p => p },
    "microsoft.dbforpostgresql/servergroupsv2": { family: "pgServer", serverKind: "cosmos", props: p => p },
    "microsoft.dbforpostgresql/flexibleservers/firewallrules": { family: "pgFirewallRule", props: p => p },
    "microsoft.dbforpostgresql/servers/firewallrules": { family: "pgFirewallRule", props: p => p },
    "microsoft.dbforpostgresql/servergroupsv2/firewallrules": { family: "pgFirewallRule", props: p => p },
    "microsoft.dbforpostgresql/flexibleservers/configurations": { family: "pgConfiguration", props: (p, name) => withFields(p, { configurationName: lastSegment(name) }) },
    "microsoft.dbforpostgresql/servers/configurations": { family: "pgConfiguration", props: (p, name) => withFields(p, { configurationName: lastSegment(name) }) },
    "microsoft.dbforpostgresql/flexibleservers/administrators": { family: "pgAdministrator", props: (p, name) => withFields(p, { objectId: p.objectId ?? lastSegment(name) }) },
    "microsoft.dbforpostgresql/servers/administrators": { family: "pgAdministrator", props: (p, name) => withFields(p, { principalName: p.login, objectId: p.sid ?? lastSegment(name) }) },
    "microsoft.dbforpostgresql/flexibleservers/databases": { family: "pgDatabase", props: p => p },
    "microsoft.containerservice/managedclusters": { family: "cluster", props: p => p },
    "microsoft.managedidentity/userassignedidentities/federatedidentitycredentials": { family: "federatedCredential", props: p => p },
    "microsoft.authorization/roleassignments": { family: "roleAssignment", props: p => p },
    "microsoft.authorization/locks": { family: "lock", props: p => p },
    "microsoft.resources/deploymentscripts": { family: "script", props: p => p },
    // azure-native keeps a vault's ARM `properties` nested under `properties`.
    "microsoft.keyvault/vaults": { family: "keyVault", props: p => ({ properties: p }) },
};

function lastSegment(name: string): string {
    return name.slice(name.lastIndexOf("/") + 1);
}

/** An ARM template expression (`[...]`, but not the `[[` escape for a literal bracket). */
export function isArmExpression(value: unknown): value is string {
    return typeof value === "string" && value.startsWith("[") && !value.startsWith("[[") && value.endsWith("]");
}

interface TemplateScope {
    parameters: Props;
    variables: Props;
}

/**
 * Resolves `[parameters('x')]` and `[variables('x')]` (the forms a template uses to pass plain values) from the
 * deployment's parameter values, the template's defaults and its variables; other expressions stay as they are
 * and the policies reject them where they decide, because a preview can't evaluate them.
 */
function resolve(value: unknown, scope: TemplateScope, depth = 0): unknown {
    if (Array.isArray(value)) {
        return value.map(v => resolve(v, scope, depth));
    }
    if (value !== null && typeof value === "object") {
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolve(v, scope, depth)]));
    }
    if (!isArmExpression(value) || depth > 8) {
        return value;
    }
    const reference = /^\[\s*(parameters|variables)\(\s*'([^']+)'\s*\)\s*\]$/i.exec(value);
    if (!reference) {
        return value;
    }
    const [, kind, key] = reference;
    const found = kind.toLowerCase() === "parameters" ? scope.parameters[key] : scope.variables[key];
    return found === undefined ? value : resolve(found, scope, depth + 1);
}

function asObject(value: unknown): Props | undefined {
    if (typeof value === "string") {
        try {
            const parsed: unknown = JSON.parse(value);
            return parsed !== null && typeof parsed === "object" ? parsed as Props : undefined;
        } catch {
            return undefined;
        }
    }
    return value !== null && typeof value === "object" ? value as Props : undefined;
}

function scopeOf(template: Props, parameterValues: Props | undefined): TemplateScope {
    const parameters: Props = {};
    for (const [key, declaration] of Object.entries(asObject(template.parameters) ?? {})) {
        parameters[key] = (declaration as Props | undefined)?.defaultValue;
    }
    for (const [key, given] of Object.entries(parameterValues ?? {})) {
        parameters[key] = (given as Props | undefined)?.value ?? parameters[key];
    }
    return { parameters, variables: asObject(template.variables) ?? {} };
}

/** The resources of a template: an array, or (languageVersion 2.0) an object keyed by symbolic name. */
function templateResources(template: Props): Props[] {
    const resources = template.resources;
    if (Array.isArray(resources)) {
        return resources;
    }
    return resources !== null && typeof resources === "object" ? Object.values(resources) : [];
}

/** Every family member an inline template creates, nested children and nested inline deployments included. */
function fromTemplate(template: Props, parameterValues: Props | undefined, where: string, depth = 0): Candidate[] {
    const scope = scopeOf(template, parameterValues);
    const found: Candidate[] = [];
    const visit = (resource: Props, parentType: string, parentName: string): void => {
        const ownType = String(resource.type ?? "");
        const type = (parentType && !ownType.includes(".") ? `${parentType}/${ownType}` : ownType).toLowerCase();
        const name = parentName && !ownType.includes(".") ? `${parentName}/${resource.name}` : String(resource.name ?? "");
        const here = `${where}template resource ${type} "${name}": `;
        if (type === "microsoft.resources/deployments") {
            found.push(...fromDeploymentProperties(asObject(resource.properties) ?? {}, here, depth + 1, scope));
        } else {
            const arm = ARM_TYPES[type];
            if (arm) {
                const properties = resolve(asObject(resource.properties) ?? {}, scope) as Props;
                const props = arm.props(properties, name);
                if (arm.family === "roleAssignment" && resource.scope !== undefined) {
                    props.scope = resolve(resource.scope, scope);
                }
                found.push({ family: arm.family, serverKind: arm.serverKind, props, where: here });
            }
        }
        for (const child of Array.isArray(resource.resources) ? resource.resources : []) {
            visit(child, type, name);
        }
    };
    for (const resource of templateResources(template)) {
        // `existing: true` (languageVersion 2.0) references a resource; it creates nothing.
        if (resource.existing !== true) {
            visit(resource, "", "");
        }
    }
    return found;
}

/** What a deployment's `properties` (or a deployment stack's inputs) create, and whether it links a template. */
function fromDeploymentProperties(properties: Props, where: string, depth: number, outer?: TemplateScope): Candidate[] {
    const found: Candidate[] = [];
    if (properties.templateLink !== undefined || properties.parametersLink !== undefined) {
        found.push({ family: "linkedTemplate", props: properties, where });
    }
    const template = asObject(properties.template);
    if (template && depth < 10) {
        // A nested deployment with outer scope sees the parent's parameters (expressionEvaluationOptions.scope "outer").
        const parameterValues = outer && properties.expressionEvaluationOptions?.scope !== "inner"
            ? Object.fromEntries(Object.entries(outer.parameters).map(([k, v]) => [k, { value: v }]))
            : asObject(properties.parameters);
        found.push(...fromTemplate(template, parameterValues, where, depth));
    }
    return found;
}

/** azure-native `resources:Resource`: any ARM type by namespace, parent path and type. */
function fromGenericResource(p: Props): Candidate[] {
    const parentTypes = String(p.parentResourcePath ?? "").split("/").filter((_, i) => i % 2 === 0).filter(Boolean);
    const type = [p.resourceProviderNamespace, ...parentTypes, p.resourceType].filter(Boolean).join("/").toLowerCase();
    const arm = ARM_TYPES[type];
    if (!arm) {
        return [];
    }
    const name = [String(p.parentResourcePath ?? ""), String(p.resourceName ?? "")].filter(Boolean).join("/");
    return [{ family: arm.family, serverKind: arm.serverKind, props: arm.props(asObject(p.properties) ?? {}, name), where: `generic resource ${type}: ` }];
}

// ---------------------------------------------------------------------------------------------------------
// Kubernetes

const WORKLOAD_KINDS = new Set(["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Job", "CronJob", "Pod", "PodTemplate"]);

/** Where a workload kind keeps its pod template ({ metadata, spec } of the pods it runs). */
export function podTemplateOf(kind: string, props: Props): Props | undefined {
    switch (kind) {
        case "Pod": return { metadata: props.metadata, spec: props.spec };
        case "PodTemplate": return props.template;
        case "CronJob": return props.spec?.jobTemplate?.spec?.template;
        default: return WORKLOAD_KINDS.has(kind) ? props.spec?.template : undefined;
    }
}

function kubernetesFamily(kind: string): Family | undefined {
    return WORKLOAD_KINDS.has(kind) ? "workload"
        : ({ Namespace: "namespace", ServiceAccount: "serviceAccount", Secret: "secret", ConfigMap: "configMap" } as Record<string, Family>)[kind];
}

function kubernetesCandidate(token: Token, type: string, props: Props): Candidate[] {
    // `kubernetes:<group>/<version>:<Kind>`; a CustomResource takes its token from any apiVersion and kind, so
    // the kind alone decides (a "CustomResource" of apps/v1 Deployment is a Deployment).
    if (/^kubernetes:helm\.sh\/[^:]+:Release$/.test(type)) {
        return [{ family: "helmRelease", props, where: "" }];
    }
    if (token.name.endsWith("List") && Array.isArray(props.items)) {
        // `…List` kinds (DeploymentList, and the generic core/v1 List) create every item.
        const listed = token.name.slice(0, -"List".length);
        return (props.items as Props[]).flatMap((item, i) => {
            const kind = typeof item?.kind === "string" ? item.kind : listed;
            const family = kubernetesFamily(kind);
            return family ? [{ family, kind, props: item, where: `items[${i}] (${kind}): ` }] : [];
        });
    }
    const patch = token.name.endsWith("Patch");
    const kind = patch ? token.name.slice(0, -"Patch".length) : token.name;
    const family = kubernetesFamily(kind);
    return family ? [{ family, kind, patch, props, where: "" }] : [];
}

// ---------------------------------------------------------------------------------------------------------

/** @pulumi/postgresql resources (cyrilgdn/terraform-provider-postgresql). */
const POSTGRESQL: Record<string, Family> = {
    "index/role:Role": "pgRole",
    "index/grantRole:GrantRole": "pgGrantRole",
    "index/grant:Grant": "pgGrant",
    "index/defaultPrivileges:DefaultPrivileges": "pgGrant",
    "index/database:Database": "pgDatabase",
};

/** Every family member a resource of `type` with `props` is or creates. */
export function candidatesOf(type: string, props: Props): Candidate[] {
    const token = parseToken(type);
    switch (token.provider) {
        case "azure-native": {
            if (token.module === "resources") {
                if (/^Deployment(At\w+Scope)?$/.test(token.name)) {
                    return fromDeploymentProperties(asObject(props.properties) ?? {}, "", 0);
                }
                if (/^DeploymentStackAt/.test(token.name)) {
                    return fromDeploymentProperties(props, "", 0);
                }
                if (token.name === "TemplateSpecVersion") {
                    const main = asObject(props.mainTemplate);
                    return main ? fromTemplate(main, undefined, "template spec: ") : [];
                }
                if (token.name === "Resource") {
                    return fromGenericResource(props);
                }
            }
            const family = AZURE_NATIVE[token.module]?.[token.name];
            if (!family) {
                return [];
            }
            return [{ family, props, where: "", serverKind: family === "pgServer" ? (token.module === "cosmosdbforpostgresql" ? "cosmos" : serverKindOf(token.name)) : undefined }];
        }
        case "azure": {
            const key = type.slice("azure:".length);
            if (/^(core\/(resourceGroup|subscription|tenant)TemplateDeployment|management\/groupTemplateDeployment|core\/templateDeployment):/.test(key)) {
                const properties = {
                    template: props.templateContent ?? props.templateBody,
                    parameters: asObject(props.parametersContent ?? props.parametersBody),
                    templateLink: props.templateSpecVersionId,
                };
                return fromDeploymentProperties(properties, "", 0);
            }
            const translate = CLASSIC[key];
            return translate ? [translate(props)] : [];
        }
        case "azuread":
            // An app registration's federated credential (azuread provider) trusts an issuer just the same.
            return type === "azuread:index/applicationFederatedIdentityCredential:ApplicationFederatedIdentityCredential"
                ? [{ family: "federatedCredential", props, where: "" }] : [];
        case "postgresql": {
            const family = POSTGRESQL[type.slice("postgresql:".length)];
            return family ? [{ family, props, where: "" }] : [];
        }
        case "kubernetes":
            return kubernetesCandidate(token, type, props);
        case "command":
            // pulumi-command runs any program (an `az` call can open a firewall); nothing to inspect.
            return [{ family: "script", props, where: "" }];
        default:
            return [];
    }
}
