// The one typed, validated config loader. Every stack value is read and checked here, at program start, so a bad
// value stops `pulumi preview`/`up` before any resource is touched — all problems at once. Defaults live in
// Pulumi.yaml (`pulumi config` documents itself); these modules require every declared key and never invent
// defaults. Each concern has its own file; the settings types belong to the components that take them.
import * as pulumi from "@pulumi/pulumi";
import { apiServerAccessProblem, type AksClusterSettings } from "../components/aksCluster";
import type { NetworkSettings } from "../components/network";
import { ACR_SKUS, type AppImageSettings } from "../components/appImage";
import type { LogAnalyticsSettings } from "../components/logAnalytics";
import type { KeyVaultSettings } from "../components/keyVault";
import type { PostgresServerSettings } from "../components/postgresServer";
import { ENTRA_PRINCIPAL_TYPES, type EntraPrincipal } from "../lib/azureScope";
import { readAks } from "./aks";
import { type AppSettings, checkAppsAgainstStack, parseApps } from "./apps";
import { ConfigError, parseForMessage, Problems, unknownKeyMessage } from "./errors";
import { readKeyVault, readSecretsProvider } from "./keyVault";
import { PROJECT, resourceNames, STACK_NAME } from "./naming";
import { readNetwork } from "./network";
import { readPostgres } from "./postgres";
import { deepFreeze, Reader } from "./reader";
import { GUID } from "./rules";

export * from "./errors";
export * from "./naming";
export * from "./reader";
export * from "./rules";
export type { AppRoleAssignment, AppSettings } from "./apps";

export type RoleStep = "provider" | "job";
export const ROLE_STEPS: readonly RoleStep[] = ["provider", "job"];

export interface StackConfig {
    stack: string;
    location: string;
    namePrefix: string;
    /** Create the resource group; false = it exists already (made by bootstrap/ for CI-deployed stacks). */
    createResourceGroup: boolean;
    /**
     * Principals granted cluster-admin on the cluster and AcrPush on the registry by the program. Stacks deployed
     * by CI leave this empty: bootstrap/ grants its deploy identity both on the stack's resource group.
     */
    deployers: EntraPrincipal[];
    aks: AksClusterSettings;
    /** public (dev: no VNet) or private (prod: VNet, delegated PostgreSQL subnet, private DNS, private registry). */
    network: NetworkSettings;
    /** Container Insights and diagnostic settings to a Log Analytics workspace; undefined = none. */
    monitoring?: LogAnalyticsSettings;
    postgres: PostgresServerSettings;
    /** The stack's Key Vault: apps' `secrets` are read from it through the cluster's secrets provider add-on. */
    keyVault: KeyVaultSettings;
    /** The registry the app image is pushed to (only created when an app has no image of its own). */
    registry: AppImageSettings;
    /** Who creates the apps' roles and databases (D1): `provider` from the runner, `job` from inside the cluster. */
    roleStep: RoleStep;
    /** Protect the PostgreSQL server and every app database from `pulumi destroy` and replacement, and lock the server. */
    protectData: boolean;
    /** Every app runs ≥ 2 replicas spread across zones and nodes, with a PodDisruptionBudget. */
    workloadHighAvailability: boolean;
    apps: AppSettings[];
}

/**
 * Validates raw stack config (bare keys → Pulumi's string encoding, JSON for lists and objects) into a frozen,
 * typed object. Every problem is collected and thrown as one ConfigError: bad values, keys the program does not
 * read (with the closest known key), and combinations that cannot work.
 */
export function parseConfig(raw: Readonly<Record<string, string>>, stack: string): Readonly<StackConfig> {
    const problems = new Problems();
    const read = new Set<string>();
    const r = new Reader(key => {
        read.add(key);
        return Object.prototype.hasOwnProperty.call(raw, key) ? raw[key] : undefined;
    });
    /** A value, or undefined once its problem is recorded: parseConfig then throws before returning anything. */
    const v = <T>(rule: () => T): T => problems.check(rule) as T;

    if (!STACK_NAME.test(stack)) {
        problems.add("(stack name)", stack, "stack names feed Azure resource names: use 1-12 lower-case letters, digits "
            + "and single '-', e.g. dev, prod, or dev-ada for a person's own stack");
    }
    const namePrefix = v(() => r.string("namePrefix", /^[a-z][a-z0-9]{1,9}$/, "must be 2-10 lower-case letters or digits, starting with a letter"));
    const network = readNetwork(r, problems);
    // D1: the role step runs where the database is reachable; a private server never is from outside its VNet.
    const roleStep = v(() => r.oneOf("pgRoleStep", ROLE_STEPS));
    const postgres = readPostgres(r, problems, stack, network.mode === "private", roleStep === "job");
    const workloadHighAvailability = v(() => r.boolean("workloadHighAvailability"));
    const apps = v(() => parseApps(r, problems, stack));
    const createResourceGroup = v(() => r.boolean("createResourceGroup"));
    const protectData = v(() => r.boolean("protectData"));
    checkAppsAgainstStack(apps ?? [], problems, {
        workloadHighAvailability, createResourceGroup, name: stack, protectData,
        resourceGroup: namePrefix === undefined ? undefined : resourceNames(namePrefix, stack).resourceGroup,
    });
    // A stack whose data is protected (prod) is administered by a group, never one person: people leave, and a
    // group's membership is where access is reviewed. The policy pack refuses the same for prod stacks.
    if (protectData && postgres.administrator.principalType !== undefined && postgres.administrator.principalType !== "Group") {
        problems.add("pgAdminPrincipalType", postgres.administrator.principalType, "a stack with protectData true (production data) "
            + "needs an Entra group as PostgreSQL administrator, never one person or one pipeline: set the group's object id, display name and Group");
    }
    if (roleStep === "provider" && network.mode === "private") {
        problems.add("pgRoleStep", roleStep, "a private server (networkMode private) is reachable only inside its VNet: set pgRoleStep job, "
            + "so an in-cluster Job creates the roles as the provisioning identity");
    }
    const monitoringEnabled = v(() => r.boolean("logAnalytics"));
    const monitoring = { retentionDays: v(() => r.integer("logRetentionDays", 30, 730)) };

    const config: StackConfig = {
        stack,
        location: v(() => r.string("location", /^[a-z][a-z0-9]+$/, "must be an Azure region name such as westeurope or eastus2")),
        namePrefix,
        createResourceGroup,
        // Not declared in Pulumi.yaml (Pulumi's config types have no object): absent means none.
        deployers: v(() => parseDeployers(r.isSet("deployers") ? r.json("deployers") : [])),
        aks: {
            ...readAks(r, problems),
            enableEncryptionAtHost: v(() => r.boolean("aksEncryptionAtHost")),
            // A private stack is deployed by runners with a known network path (D1): its API is never open to all.
            requireRestrictedApiServer: network.mode === "private",
            keyVaultSecretsProvider: readSecretsProvider(r, problems),
        },
        network,
        monitoring: monitoringEnabled ? monitoring : undefined,
        postgres,
        keyVault: readKeyVault(r, problems),
        registry: { sku: v(() => r.oneOf("acrSku", ACR_SKUS)) },
        protectData,
        roleStep,
        workloadHighAvailability,
        apps,
    };

    // Each listed range is already checked (checkCidr: a CIDR, at most a /16); what is left is an empty list where the
    // stack must be restricted.
    const apiProblem = config.aks.apiServerAuthorizedCidrs?.length === 0
        ? apiServerAccessProblem(config.aks.requireRestrictedApiServer ?? false, [])
        : undefined;
    if (apiProblem) {
        problems.add("aksApiServerAuthorizedCidrs", config.aks.apiServerAuthorizedCidrs, apiProblem);
    }
    if (network.mode === "private" && config.registry.sku !== "Premium" && apps?.some(app => app.image === undefined)) {
        problems.add("acrSku", config.registry.sku, "a private network's registry has no public access and is reached through a private endpoint, "
            + "which only Premium has: set acrSku to Premium");
    }

    // The Pulumi CLI type-checks only the keys Pulumi.yaml declares; anything else in the project's namespace would
    // be ignored without a word. Every key is known by being read above, so this list cannot drift from the code.
    for (const key of Object.keys(raw).filter(k => !read.has(k))) {
        problems.add(key, parseForMessage(raw[key]), unknownKeyMessage(key, read, `a setting of this program`));
    }
    problems.throwIfAny(stack);
    return deepFreeze(config);
}

function parseDeployers(value: unknown): EntraPrincipal[] {
    if (!Array.isArray(value)) {
        throw new ConfigError("deployers", value, "must be a list of {objectId, principalType}");
    }
    return value.map((item, i) => {
        const key = `deployers[${i}]`;
        const obj = (typeof item === "object" && item !== null ? item : {}) as Record<string, unknown>;
        const unknown = Object.keys(obj).filter(k => k !== "objectId" && k !== "principalType");
        if (unknown.length > 0) {
            throw new ConfigError(`${key}.${unknown[0]}`, obj[unknown[0]], "is not a deployer setting (allowed: objectId, principalType)");
        }
        if (typeof obj.objectId !== "string" || !GUID.test(obj.objectId)) {
            throw new ConfigError(`${key}.objectId`, obj.objectId, "must be an Entra object id (a GUID)");
        }
        if (typeof obj.principalType !== "string" || !(ENTRA_PRINCIPAL_TYPES as readonly string[]).includes(obj.principalType)) {
            throw new ConfigError(`${key}.principalType`, obj.principalType, `must be one of ${ENTRA_PRINCIPAL_TYPES.join(", ")}`);
        }
        return { objectId: obj.objectId, principalType: obj.principalType as EntraPrincipal["principalType"] };
    });
}

/** Loads the current stack's config through Pulumi. Call once, from index.ts. */
export function loadConfig(): Readonly<StackConfig> {
    // Every key of the project's namespace, so keys the program does not read are caught; other namespaces
    // (azure-native:, kubernetes:, …) belong to their providers and are left alone.
    const prefix = `${PROJECT}:`;
    const raw = Object.fromEntries(Object.entries(pulumi.runtime.allConfig())
        .filter(([key]) => key.startsWith(prefix))
        .map(([key, value]) => [key.slice(prefix.length), value]));
    return parseConfig(raw, pulumi.getStack());
}
