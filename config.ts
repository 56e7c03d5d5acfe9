// The one typed, validated config loader. Every stack value is read and checked here, at program start,
// so a bad value stops `pulumi preview`/`up` before any resource is touched. Defaults live in Pulumi.yaml
// (`pulumi config` documents itself); this module requires every declared key and never invents defaults,
// so there is exactly one place a default is written down.
import * as pulumi from "@pulumi/pulumi";

export const PROJECT = "aks-pg-passwordless";

export type AksTier = "Free" | "Standard" | "Premium";
export type KubeloginMode = "azurecli" | "workloadidentity" | "msi";
export type PgSkuTier = "Burstable" | "GeneralPurpose" | "MemoryOptimized";
export type PgHighAvailability = "Disabled" | "ZoneRedundant" | "SameZone";
export type EntraPrincipalType = "User" | "Group" | "ServicePrincipal";
/** A principal that runs `pulumi up` for a stack without bootstrap's grants (a person's own stack). */
export interface DeployerConfig {
    /** Entra object id. */
    objectId: string;
    /** User, Group or ServicePrincipal: passed to Azure so it need not look the principal up. */
    principalType: EntraPrincipalType;
}
export type AcrSku = "Basic" | "Standard" | "Premium";

/** An extra Azure role the app's identity gets, on exactly one resource. */
export interface AppRoleAssignment {
    /** ARM id of the single resource the role applies to (a Key Vault, a storage account, …). */
    scope: string;
    /** Role definition GUID (e.g. Key Vault Secrets User) or its full ARM id. */
    roleDefinitionId: string;
}

/** One application: it gets its own identity, federated credential, PostgreSQL role, database and workload. */
export interface AppConfig {
    name: string;
    namespace: string;
    serviceAccount: string;
    database: string;
    /** A prebuilt image implementing the app contract; undefined = build app/ and push it to the stack's registry. */
    image?: string;
    replicas: number;
    roleAssignments: AppRoleAssignment[];
}

export interface EntraAdminConfig {
    /** Object id of the PostgreSQL Entra administrator (never derived from whoever runs `pulumi up`). */
    objectId: string;
    /** The administrator's PostgreSQL login: a UPN, a group display name or a service principal name. */
    principalName: string;
    principalType: EntraPrincipalType;
}

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
    deployers: DeployerConfig[];
    aks: {
        tier: AksTier;
        kubernetesVersion?: string;
        nodeCount: number;
        nodeVmSize: string;
        availabilityZones: string[];
        apiServerAuthorizedCidrs: string[];
        adminGroupObjectIds: string[];
        kubeloginMode: KubeloginMode;
        /** Azure Policy add-on (Gatekeeper) on the cluster. */
        azurePolicy: boolean;
    };
    /** Container Insights and diagnostic settings to a Log Analytics workspace. */
    monitoring: { enabled: boolean; retentionDays: number };
    postgres: {
        version: string;
        skuTier: PgSkuTier;
        skuName: string;
        storageSizeGb: number;
        backupRetentionDays: number;
        geoRedundantBackup: boolean;
        highAvailability: PgHighAvailability;
        availabilityZone?: string;
        standbyAvailabilityZone?: string;
        allowedCidrs: string[];
        admin: EntraAdminConfig;
        /** Weekly maintenance window: day (0 = Sunday) and start hour, UTC. */
        maintenance: { dayOfWeek: number; startHour: number };
    };
    /** SKU of the registry the app image is pushed to (only created when an app has no image of its own). */
    acrSku: AcrSku;
    /** Protect the PostgreSQL server and every app database from `pulumi destroy` and replacement, and lock the server. */
    protectData: boolean;
    /** Every app runs ≥ 2 replicas spread across zones and nodes, with a PodDisruptionBudget. */
    workloadHighAvailability: boolean;
    apps: AppConfig[];
}

/** Reads one raw config value (as Pulumi stores it: a string, JSON for arrays and objects). */
export type RawGetter = (key: string) => string | undefined;

const AKS_TIERS: readonly AksTier[] = ["Free", "Standard", "Premium"];
const KUBELOGIN_MODES: readonly KubeloginMode[] = ["azurecli", "workloadidentity", "msi"];
const PG_SKU_TIERS: readonly PgSkuTier[] = ["Burstable", "GeneralPurpose", "MemoryOptimized"];
const PG_HA_MODES: readonly PgHighAvailability[] = ["Disabled", "ZoneRedundant", "SameZone"];
const PG_VERSIONS = ["16", "17", "18"] as const;
const ENTRA_TYPES: readonly EntraPrincipalType[] = ["User", "Group", "ServicePrincipal"];
const ACR_SKUS: readonly AcrSku[] = ["Basic", "Standard", "Premium"];
const ZONES = ["1", "2", "3"] as const;
/** Azure Database for PostgreSQL Flexible Server premium SSD sizes (GiB). */
export const PG_STORAGE_SIZES_GB = [32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32767] as const;
/** Which VM families each compute tier accepts. */
const PG_SKU_PATTERNS: Record<PgSkuTier, RegExp> = {
    Burstable: /^Standard_B\d+(s|ms)$/,
    GeneralPurpose: /^Standard_D\d+a?d?s_v[3-6]$/,
    MemoryOptimized: /^Standard_E\d+a?d?s_v[3-6]$/,
};
/** The broadest firewall range we accept; anything wider is "open to the internet" in practice. */
export const MIN_FIREWALL_PREFIX = 16;
/** Database names Azure or PostgreSQL already use. */
const RESERVED_DATABASES = ["postgres", "template0", "template1", "azure_maintenance", "azure_sys"];
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const PG_IDENTIFIER = /^[a-z_][a-z0-9_]*$/;
const PG_IDENTIFIER_MAX = 63;

/** A config problem, reported without a stack trace; the message names the key, the value and what is allowed. */
export class ConfigError extends pulumi.RunError {
    constructor(key: string, value: unknown, allowed: string, project = PROJECT) {
        super(`Invalid config "${project}:${key}" = ${show(value)}: ${allowed}`);
        this.name = "ConfigError";
    }
}

function show(value: unknown): string {
    return value === undefined ? "(not set)" : JSON.stringify(value);
}

// ---- Rules, exported so tests (and the policy pack later) call them directly, without mocks. ----

/** A Kubernetes DNS-1123 label: namespaces, app names. */
export function isDns1123Label(value: string): boolean {
    return value.length <= 63 && DNS1123_LABEL.test(value);
}

/** A Kubernetes DNS-1123 subdomain: ServiceAccount names. */
export function isDns1123Subdomain(value: string): boolean {
    return value.length <= 253 && DNS1123_SUBDOMAIN.test(value);
}

/** An unquoted-safe PostgreSQL identifier: lower case, starts with a letter or `_`, at most 63 bytes. */
export function isPgIdentifier(value: string): boolean {
    return value.length <= PG_IDENTIFIER_MAX && PG_IDENTIFIER.test(value);
}

/** Parses IPv4 CIDR notation; returns the first and last address, or undefined when it is not a valid CIDR. */
export function parseCidr(cidr: string): { start: string; end: string; prefix: number } | undefined {
    const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr);
    if (!match) {
        return undefined;
    }
    const octets = match.slice(1, 5).map(Number);
    const prefix = Number(match[5]);
    if (octets.some(o => o > 255) || prefix > 32 || match.slice(1, 5).some(o => o.length > 1 && o.startsWith("0"))) {
        return undefined;
    }
    const address = octets.reduce((acc, o) => acc * 256 + o, 0);
    const size = 2 ** (32 - prefix);
    if (address % size !== 0) {
        return undefined; // host bits set: "10.0.0.1/24" is ambiguous, ask for "10.0.0.0/24"
    }
    return { start: toIp(address), end: toIp(address + size - 1), prefix };
}

function toIp(n: number): string {
    return [24, 16, 8, 0].map(shift => Math.floor(n / 2 ** shift) % 256).join(".");
}

/** An image reference pinned by tag or digest, never `latest` or untagged. */
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
    return /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(tag) && tag !== "latest";
}

/** Azure resource names built from the prefix, stack and app names: one place derives them all. */
export function resourceNames(namePrefix: string, stack: string) {
    const base = `${namePrefix}-${stack}`;
    return {
        resourceGroup: `rg-${base}`,
        cluster: `aks-${base}`,
        logAnalytics: `log-${base}`,
        postgresServerPrefix: `psql-${base}`,
        /** Registry names allow letters and digits only. */
        registryPrefix: `acr${namePrefix}${stack}`,
        /** The app's managed identity; its PostgreSQL role carries the same name. */
        appIdentity: (app: string) => `id-${base}-${app}`,
    };
}

// ---- Parsing ----

/** Typed reads of raw config values; every failure is a ConfigError naming key, value and what is allowed. */
export class Reader {
    constructor(private readonly get: RawGetter, private readonly project = PROJECT) {}

    error(key: string, value: unknown, allowed: string): ConfigError {
        return new ConfigError(key, value, allowed, this.project);
    }

    raw(key: string): string {
        const value = this.get(key);
        if (value === undefined) {
            throw this.error(key, undefined, "this key is required (declare it in Pulumi.yaml or set it with `pulumi config set`)");
        }
        return value;
    }

    string(key: string, pattern?: RegExp, allowed?: string): string {
        const value = this.raw(key);
        if (pattern && !pattern.test(value)) {
            throw this.error(key, value, allowed ?? `must match ${pattern}`);
        }
        return value;
    }

    optionalString(key: string, pattern: RegExp, allowed: string): string | undefined {
        const value = this.raw(key);
        if (value === "") {
            return undefined;
        }
        if (!pattern.test(value)) {
            throw this.error(key, value, allowed);
        }
        return value;
    }

    oneOf<T extends string>(key: string, options: readonly T[]): T {
        const value = this.raw(key);
        if (!(options as readonly string[]).includes(value)) {
            throw this.error(key, value, `allowed values are ${options.join(", ")}`);
        }
        return value as T;
    }

    integer(key: string, min: number, max: number): number {
        const value = this.raw(key);
        const n = Number(value);
        if (!/^-?\d+$/.test(value.trim()) || n < min || n > max) {
            throw this.error(key, value, `must be an integer from ${min} to ${max}`);
        }
        return n;
    }

    boolean(key: string): boolean {
        const value = this.raw(key);
        if (value !== "true" && value !== "false") {
            throw this.error(key, value, "must be true or false");
        }
        return value === "true";
    }

    json(key: string): unknown {
        const value = this.raw(key);
        try {
            return JSON.parse(value);
        } catch {
            throw this.error(key, value, "must be structured YAML (a list or an object), not a plain string");
        }
    }

    stringArray(key: string, check?: (item: string, itemKey: string) => void): string[] {
        const value = this.json(key);
        if (!Array.isArray(value) || value.some(item => typeof item !== "string")) {
            throw this.error(key, value, "must be a list of strings");
        }
        value.forEach((item, i) => check?.(item, `${key}[${i}]`));
        return value;
    }
}

function checkCidr(cidr: string, key: string): void {
    const parsed = parseCidr(cidr);
    if (!parsed) {
        throw new ConfigError(key, cidr, "must be an IPv4 CIDR with no host bits set, e.g. 203.0.113.7/32 or 203.0.113.0/24");
    }
    if (parsed.prefix < MIN_FIREWALL_PREFIX) {
        throw new ConfigError(key, cidr, `ranges broader than /${MIN_FIREWALL_PREFIX} are refused: list the exact egress addresses that need access`);
    }
    if (parsed.start === "0.0.0.0") {
        throw new ConfigError(key, cidr, "0.0.0.0 is Azure's \"allow all Azure services\" rule and is never allowed");
    }
}

function checkZone(zone: string, key: string): void {
    if (!(ZONES as readonly string[]).includes(zone)) {
        throw new ConfigError(key, zone, `availability zones are ${ZONES.join(", ")}`);
    }
}

/** Validates raw stack config into a frozen, typed object, or throws a ConfigError naming the first bad key. */
export function parseConfig(get: RawGetter, stack: string): Readonly<StackConfig> {
    const r = new Reader(get);

    const namePrefix = r.string("namePrefix", /^[a-z][a-z0-9]{1,9}$/, "must be 2-10 lower-case letters or digits, starting with a letter");
    if (!/^[a-z0-9]{1,12}$/.test(stack)) {
        throw new ConfigError("(stack name)", stack, "stack names feed Azure resource names: use 1-12 lower-case letters or digits");
    }

    const aksTier = r.oneOf("aksTier", AKS_TIERS);
    const nodeCount = r.integer("aksNodeCount", 1, 100);
    const availabilityZones = r.stringArray("aksAvailabilityZones", checkZone);

    const skuTier = r.oneOf("pgSkuTier", PG_SKU_TIERS);
    const skuName = r.raw("pgSkuName");
    if (!PG_SKU_PATTERNS[skuTier].test(skuName)) {
        throw new ConfigError("pgSkuName", skuName, `is not a ${skuTier} compute size (expected a name matching ${PG_SKU_PATTERNS[skuTier]}, e.g. ${exampleSku(skuTier)})`);
    }
    const storage = r.integer("pgStorageSizeGb", 32, 32767);
    if (!(PG_STORAGE_SIZES_GB as readonly number[]).includes(storage)) {
        throw new ConfigError("pgStorageSizeGb", String(storage), `allowed sizes are ${PG_STORAGE_SIZES_GB.join(", ")}`);
    }
    const highAvailability = r.oneOf("pgHighAvailability", PG_HA_MODES);
    if (highAvailability !== "Disabled" && skuTier === "Burstable") {
        throw new ConfigError("pgHighAvailability", highAvailability, "high availability needs pgSkuTier GeneralPurpose or MemoryOptimized (Burstable has none)");
    }
    const zonePattern = /^[123]$/;
    const availabilityZone = r.optionalString("pgAvailabilityZone", zonePattern, `must be empty or one of ${ZONES.join(", ")}`);
    const standbyAvailabilityZone = r.optionalString("pgStandbyAvailabilityZone", zonePattern, `must be empty or one of ${ZONES.join(", ")}`);
    if (highAvailability === "ZoneRedundant" && availabilityZone && availabilityZone === standbyAvailabilityZone) {
        throw new ConfigError("pgStandbyAvailabilityZone", standbyAvailabilityZone, "zone-redundant HA needs a standby zone different from pgAvailabilityZone");
    }
    const allowedCidrs = r.stringArray("pgAllowedCidrs", checkCidr);
    if (allowedCidrs.length === 0) {
        throw new ConfigError("pgAllowedCidrs", [], "list at least the deployer's egress address (e.g. 203.0.113.7/32): `pulumi up` connects to the server to create the app roles");
    }
    const adminObjectId = r.string("pgAdminObjectId", GUID, "must be the Entra object id (a GUID) of the PostgreSQL administrator: a group for shared stacks, yourself for a personal one (`az ad signed-in-user show --query id -o tsv`)");

    const config: StackConfig = {
        stack,
        location: r.string("location", /^[a-z][a-z0-9]+$/, "must be an Azure region name such as westeurope or eastus2"),
        namePrefix,
        createResourceGroup: r.boolean("createResourceGroup"),
        deployers: parseDeployers(r.json("deployers")),
        aks: {
            tier: aksTier,
            kubernetesVersion: r.optionalString("aksKubernetesVersion", /^\d+\.\d+(\.\d+)?$/, "must be empty (AKS default) or a version such as 1.33 or 1.33.2"),
            nodeCount,
            nodeVmSize: r.string("aksNodeVmSize", /^Standard_[A-Za-z0-9_]+$/, "must be an Azure VM size such as Standard_D2s_v5"),
            availabilityZones,
            apiServerAuthorizedCidrs: r.stringArray("aksApiServerAuthorizedCidrs", checkCidr),
            adminGroupObjectIds: r.stringArray("aksAdminGroupObjectIds", (id, key) => {
                if (!GUID.test(id)) {
                    throw new ConfigError(key, id, "must be an Entra group object id (a GUID)");
                }
            }),
            kubeloginMode: r.oneOf("kubeloginMode", KUBELOGIN_MODES),
            azurePolicy: r.boolean("aksAzurePolicy"),
        },
        monitoring: {
            enabled: r.boolean("logAnalytics"),
            retentionDays: r.integer("logRetentionDays", 30, 730),
        },
        postgres: {
            version: r.oneOf("pgVersion", PG_VERSIONS),
            skuTier,
            skuName,
            storageSizeGb: storage,
            backupRetentionDays: r.integer("pgBackupRetentionDays", 7, 35),
            geoRedundantBackup: r.boolean("pgGeoRedundantBackup"),
            highAvailability,
            availabilityZone,
            standbyAvailabilityZone,
            allowedCidrs,
            admin: {
                objectId: adminObjectId,
                principalName: r.string("pgAdminPrincipalName", /^\S(.*\S)?$/, "must be the administrator's login: a user principal name, a group display name or a service principal name"),
                principalType: r.oneOf("pgAdminPrincipalType", ENTRA_TYPES),
            },
            maintenance: {
                dayOfWeek: r.integer("pgMaintenanceDayOfWeek", 0, 6),
                startHour: r.integer("pgMaintenanceStartHour", 0, 23),
            },
        },
        acrSku: r.oneOf("acrSku", ACR_SKUS),
        protectData: r.boolean("protectData"),
        workloadHighAvailability: r.boolean("workloadHighAvailability"),
        apps: parseApps(r.json("apps")),
    };
    if (config.workloadHighAvailability) {
        const single = config.apps.findIndex(app => app.replicas < 2);
        if (single >= 0) {
            throw new ConfigError(`apps[${single}].replicas`, config.apps[single].replicas,
                "workloadHighAvailability needs at least 2 replicas per app (a PodDisruptionBudget with one replica blocks every node drain)");
        }
    }
    return deepFreeze(config);
}

function exampleSku(tier: PgSkuTier): string {
    return { Burstable: "Standard_B1ms", GeneralPurpose: "Standard_D2ds_v5", MemoryOptimized: "Standard_E2ds_v5" }[tier];
}

const APP_KEYS = ["name", "namespace", "serviceAccount", "database", "image", "replicas", "roleAssignments"];

function parseApps(value: unknown): AppConfig[] {
    if (!Array.isArray(value) || value.length === 0) {
        throw new ConfigError("apps", value, "must be a non-empty list of apps, each with at least a name");
    }
    const apps = value.map((item, i) => parseApp(item, `apps[${i}]`));
    const seen = new Map<string, string>();
    apps.forEach((app, i) => {
        // A namespace of its own per app: the app's component creates it, and it is the app's isolation boundary
        // (Pod Security, later NetworkPolicy). Unique namespaces also make every token subject unique.
        for (const field of ["name", "namespace", "database"] as const) {
            const claim = `${field}:${app[field]}`;
            const previous = seen.get(claim);
            if (previous !== undefined) {
                throw new ConfigError(`apps[${i}].${field}`, app[field], `already used by ${previous}; every app needs its own ${field}`);
            }
            seen.set(claim, `apps[${i}]`);
        }
    });
    return apps;
}

function parseApp(item: unknown, key: string): AppConfig {
    if (typeof item !== "object" || item === null || Array.isArray(item)) {
        throw new ConfigError(key, item, "must be an object with at least a name");
    }
    const obj = item as Record<string, unknown>;
    const unknownKey = Object.keys(obj).find(k => !APP_KEYS.includes(k));
    if (unknownKey) {
        throw new ConfigError(`${key}.${unknownKey}`, obj[unknownKey], `is not an app setting; allowed: ${APP_KEYS.join(", ")}`);
    }
    const str = (field: string, fallback?: string): string => {
        const v = obj[field] ?? fallback;
        if (typeof v !== "string") {
            throw new ConfigError(`${key}.${field}`, v, "must be a string");
        }
        return v;
    };

    const name = str("name");
    // 24 keeps the identity (= PostgreSQL role) name "id-<prefix ≤10>-<stack ≤12>-<name ≤24>" within 63 bytes.
    if (!isDns1123Label(name) || name.length > 24) {
        throw new ConfigError(`${key}.name`, name, "must be a DNS-1123 label of at most 24 characters (lower-case letters, digits, '-'; starts and ends alphanumeric)");
    }
    const namespace = str("namespace", name);
    if (!isDns1123Label(namespace)) {
        throw new ConfigError(`${key}.namespace`, namespace, "must be a DNS-1123 label (lower-case letters, digits, '-'; at most 63 characters; starts and ends alphanumeric)");
    }
    if (namespace.startsWith("kube-") || namespace === "default") {
        throw new ConfigError(`${key}.namespace`, namespace, "kube-* and default are reserved: give the app a namespace of its own");
    }
    const serviceAccount = str("serviceAccount", name);
    if (!isDns1123Subdomain(serviceAccount)) {
        throw new ConfigError(`${key}.serviceAccount`, serviceAccount, "must be a DNS-1123 subdomain (lower-case letters, digits, '-', '.'; at most 253 characters)");
    }
    const database = str("database", name.replace(/-/g, "_"));
    if (!isPgIdentifier(database)) {
        throw new ConfigError(`${key}.database`, database, "must be a PostgreSQL identifier: lower-case letters, digits and '_', starting with a letter or '_', at most 63 characters");
    }
    if (RESERVED_DATABASES.includes(database)) {
        throw new ConfigError(`${key}.database`, database, `is reserved (${RESERVED_DATABASES.join(", ")}); give the app a database of its own`);
    }
    // Without an image of its own the app runs the image the stack builds from app/.
    const image = obj.image === undefined ? undefined : str("image");
    if (image !== undefined && !isPinnedImage(image)) {
        throw new ConfigError(`${key}.image`, image, "must be an image pinned by tag or digest (registry/repo:tag or repo@sha256:…), never untagged or :latest");
    }
    const replicas = obj.replicas ?? 1;
    if (typeof replicas !== "number" || !Number.isInteger(replicas) || replicas < 1 || replicas > 50) {
        throw new ConfigError(`${key}.replicas`, replicas, "must be an integer from 1 to 50");
    }
    return {
        name, namespace, serviceAccount, database, image, replicas,
        roleAssignments: parseRoleAssignments(obj.roleAssignments ?? [], `${key}.roleAssignments`),
    };
}

function parseRoleAssignments(value: unknown, key: string): AppRoleAssignment[] {
    if (!Array.isArray(value)) {
        throw new ConfigError(key, value, "must be a list of {scope, roleDefinitionId}");
    }
    return value.map((item, i) => {
        const itemKey = `${key}[${i}]`;
        const obj = (typeof item === "object" && item !== null ? item : {}) as Record<string, unknown>;
        const { scope, roleDefinitionId } = obj;
        // Least privilege: one specific resource, never a subscription or a whole resource group.
        if (typeof scope !== "string" || !/^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/[^/]+\/[^/]+\/[^/]+/i.test(scope)) {
            throw new ConfigError(`${itemKey}.scope`, scope, "must be the ARM id of one resource (/subscriptions/…/resourceGroups/…/providers/…); subscription- or resource-group-wide grants are refused");
        }
        if (typeof roleDefinitionId !== "string"
            || !(GUID.test(roleDefinitionId) || /^\/subscriptions\/[^/]+\/providers\/Microsoft\.Authorization\/roleDefinitions\/[0-9a-f-]{36}$/i.test(roleDefinitionId))) {
            throw new ConfigError(`${itemKey}.roleDefinitionId`, roleDefinitionId, "must be a role definition GUID or /subscriptions/<id>/providers/Microsoft.Authorization/roleDefinitions/<GUID>");
        }
        return { scope, roleDefinitionId };
    });
}

function parseDeployers(value: unknown): DeployerConfig[] {
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
        if (typeof obj.principalType !== "string" || !(ENTRA_TYPES as readonly string[]).includes(obj.principalType)) {
            throw new ConfigError(`${key}.principalType`, obj.principalType, `must be one of ${ENTRA_TYPES.join(", ")}`);
        }
        return { objectId: obj.objectId, principalType: obj.principalType as EntraPrincipalType };
    });
}

function deepFreeze<T>(value: T): T {
    if (typeof value === "object" && value !== null) {
        Object.values(value).forEach(deepFreeze);
        Object.freeze(value);
    }
    return value;
}

/** Loads the current stack's config through Pulumi. Call once, from index.ts. */
export function loadConfig(): Readonly<StackConfig> {
    const cfg = new pulumi.Config();
    return parseConfig(key => cfg.get(key), pulumi.getStack());
}
