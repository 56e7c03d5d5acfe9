// The one typed, validated config loader. Every stack value is read and checked here, at program start,
// so a bad value stops `pulumi preview`/`up` before any resource is touched. Defaults live in Pulumi.yaml
// (`pulumi config` documents itself); this module requires every declared key and never invents defaults,
// so there is exactly one place a default is written down.
import * as pulumi from "@pulumi/pulumi";
import { allowedAppRolesText, isAllowedAppRole } from "./lib/programRoles";

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
/** The oldest Kubernetes minor the workloads run on (the preStop sleep handler is on by default from 1.30). */
export const MIN_KUBERNETES_MINOR = 30;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const PG_IDENTIFIER = /^[a-z_][a-z0-9_]*$/;
const PG_IDENTIFIER_MAX = 63;

/**
 * Bad config, reported without a stack trace. One problem reads `Invalid config "<project>:<key>" = <value>: <what
 * is allowed>`; the second constructor folds every problem of a stack into one error, so all are fixed in one pass.
 */
export class ConfigError extends pulumi.RunError {
    /** One line per problem, each naming the key, the value and what is allowed. */
    readonly problems: readonly string[];

    /** One problem: `key` (without the project prefix), its `value`, and what is `allowed`. */
    constructor(key: string, value: unknown, allowed: string, project?: string);
    /** Every problem of `stack`, as one error. */
    constructor(problems: readonly ConfigError[], stack: string);
    constructor(keyOrErrors: string | readonly ConfigError[], valueOrStack: unknown, allowed?: string, project = PROJECT) {
        const problems = typeof keyOrErrors === "string"
            ? [`Invalid config "${project}:${keyOrErrors}" = ${show(valueOrStack)}: ${allowed}`]
            : keyOrErrors.flatMap(e => e.problems);
        super(problems.length === 1 ? problems[0] : [
            `${problems.length} config values of stack "${String(valueOrStack)}" are invalid; fix them together `
                + `(in Pulumi.${String(valueOrStack)}.yaml or with \`pulumi config set\`):`,
            ...problems.map(p => `  - ${p}`),
        ].join("\n"));
        this.name = "ConfigError";
        this.problems = problems;
    }
}

function show(value: unknown): string {
    return value === undefined ? "(not set)" : JSON.stringify(value);
}

/**
 * Collects problems instead of stopping at the first: `check` runs one rule and records its ConfigError, so every
 * later rule still runs and the stack's whole list is reported at once.
 */
export class Problems {
    readonly errors: ConfigError[] = [];

    /** Runs `rule`; on a ConfigError records it and returns undefined (a dependent rule then skips itself). */
    check<T>(rule: () => T): T | undefined {
        try {
            return rule();
        } catch (e) {
            if (e instanceof ConfigError) {
                this.errors.push(e);
                return undefined;
            }
            throw e;
        }
    }

    add(key: string, value: unknown, allowed: string): void {
        this.errors.push(new ConfigError(key, value, allowed));
    }

    /** Throws every recorded problem as one ConfigError. */
    throwIfAny(stack: string): void {
        if (this.errors.length > 0) {
            throw new ConfigError(this.errors, stack);
        }
    }
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

// One rule, one home: the policy pack and the program judge images by the same function (policy/rules.ts imports
// nothing, so the program can share it).
export { isPinnedImage } from "./policy/rules";
import { ipv4ToNumber, isPinnedImage } from "./policy/rules";

/**
 * IPv4 blocks that are never a public source address (IANA's special-purpose registry, RFC 6890: "not globally
 * reachable"). Azure's PostgreSQL firewall compares rules with the public address a client arrives from, so a rule
 * for one of these admits nobody and the role step then times out.
 */
export const NON_PUBLIC_RANGES: readonly [cidr: string, what: string][] = [
    ["0.0.0.0/8", "\"this network\""],
    ["10.0.0.0/8", "private (RFC 1918)"],
    ["100.64.0.0/10", "shared address space (carrier-grade NAT, RFC 6598)"],
    ["127.0.0.0/8", "loopback"],
    ["169.254.0.0/16", "link-local"],
    ["172.16.0.0/12", "private (RFC 1918)"],
    ["192.0.0.0/24", "IETF protocol assignments"],
    ["192.0.2.0/24", "documentation (TEST-NET-1)"],
    ["192.88.99.0/24", "6to4 relay anycast"],
    ["192.168.0.0/16", "private (RFC 1918)"],
    ["198.18.0.0/15", "benchmarking (RFC 2544)"],
    ["198.51.100.0/24", "documentation (TEST-NET-2)"],
    ["203.0.113.0/24", "documentation (TEST-NET-3)"],
    ["224.0.0.0/4", "multicast"],
    ["240.0.0.0/4", "reserved"],
];

/** Only ever called on addresses parseCidr produced, so always a number. */
const ipNumber = (ip: string): number => ipv4ToNumber(ip)!;

/** The non-public block `cidr` overlaps, as "<block> (<what>)", or undefined for a public range. */
export function nonPublicRange(cidr: string): string | undefined {
    const range = parseCidr(cidr);
    if (!range) {
        return undefined;
    }
    const [start, end] = [ipNumber(range.start), ipNumber(range.end)];
    const hit = NON_PUBLIC_RANGES.find(([block]) => {
        const b = parseCidr(block)!;
        return start <= ipNumber(b.end) && ipNumber(b.start) <= end;
    });
    return hit && `${hit[0]} (${hit[1]})`;
}

/**
 * The repository path of an image reference, without registry host, tag or digest. Following the distribution
 * reference grammar, the first component is a registry host when it has a '.' or ':' or is `localhost`.
 */
export function imageRepository(image: string): string {
    const withoutDigest = image.split("@")[0];
    const slash = withoutDigest.lastIndexOf("/");
    const colon = withoutDigest.lastIndexOf(":");
    const name = colon > slash ? withoutDigest.slice(0, colon) : withoutDigest;
    const parts = name.split("/");
    const hasHost = parts.length > 1 && (/[.:]/.test(parts[0]) || parts[0] === "localhost");
    return (hasHost ? parts.slice(1) : parts).join("/");
}

const UPN = /^[A-Za-z0-9'._!#^~-]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$/;

/**
 * Why `name` cannot be the PostgreSQL login of an Entra principal of `type`, or undefined when it can. The server
 * maps the administrator to a role named exactly `principalName`: a user's user principal name (UPN), a group's or
 * service principal's display name. Rules: Entra's UPN rules for users (characters A-Z a-z 0-9 ' . - _ ! # ^ ~, at
 * most 64 before the '@', no '.' right before it); PostgreSQL truncates identifiers to 63 bytes (NAMEDATALEN), so a
 * longer name would never match the token's.
 */
export function entraLoginProblem(name: string, type: EntraPrincipalType): string | undefined {
    if (!/^\S(.*\S)?$/.test(name) || /[\u0000-\u001f]/.test(name)) {
        return "must be the administrator's login with no leading or trailing spaces";
    }
    if (GUID.test(name)) {
        return "is an object id, not a login: put it in pgAdminObjectId and set pgAdminPrincipalName to the login "
            + "(a user principal name, or a group's or service principal's display name)";
    }
    if (Buffer.byteLength(name) > PG_IDENTIFIER_MAX) {
        return `is ${Buffer.byteLength(name)} bytes; PostgreSQL role names are at most ${PG_IDENTIFIER_MAX}, so the login could never match`;
    }
    if (type === "User" && (!UPN.test(name) || /\.@/.test(name) || name.startsWith("."))) {
        return "a User administrator logs in with their user principal name, e.g. ada@contoso.onmicrosoft.com "
            + "(az ad signed-in-user show --query userPrincipalName -o tsv); for a group set pgAdminPrincipalType Group";
    }
    if (type !== "User" && name.includes("@")) {
        return `a ${type} administrator logs in with its display name (e.g. pg-admins-prod), not a user principal name; `
            + "for a person set pgAdminPrincipalType User";
    }
    return undefined;
}

/** Levenshtein distance, for "did you mean". */
function editDistance(a: string, b: string): number {
    let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
        const current = [i];
        for (let j = 1; j <= b.length; j++) {
            current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
        }
        previous = current;
    }
    return previous[b.length];
}

/** The known key closest to `key` (case-insensitively), when it is close enough to be a typo. */
export function closestKey(key: string, known: Iterable<string>): string | undefined {
    let best: { key: string; distance: number } | undefined;
    for (const candidate of known) {
        const distance = editDistance(key.toLowerCase(), candidate.toLowerCase());
        if (!best || distance < best.distance) {
            best = { key: candidate, distance };
        }
    }
    return best && best.distance <= Math.max(2, Math.floor(key.length / 3)) ? best.key : undefined;
}

function unknownKeyMessage(key: string, known: Iterable<string>, what: string): string {
    const suggestion = closestKey(key, known);
    return `is not ${what}${suggestion ? `; did you mean "${suggestion}"?` : ""} (keys are case-sensitive; `
        + `README, "Config reference", lists them all)`;
}

/**
 * A stack name feeds every Azure name (`rg-<prefix>-<stack>`, …): 1-12 lower-case letters, digits and single '-',
 * so a person's own stack `dev-<name>` fits. 12 keeps the longest names within Azure's limits (tests/naming.test.ts).
 */
export const STACK_NAME = /^(?=.{1,12}$)[a-z0-9]+(-[a-z0-9]+)*$/;

/** Azure resource names built from the prefix, stack and app names: one place derives them all. */
export function resourceNames(namePrefix: string, stack: string) {
    const base = `${namePrefix}-${stack}`;
    return {
        resourceGroup: `rg-${base}`,
        cluster: `aks-${base}`,
        logAnalytics: `log-${base}`,
        postgresServerPrefix: `psql-${base}`,
        /** Registry names allow letters and digits only, so a stack's '-' is dropped. */
        registryPrefix: `acr${namePrefix}${stack.replace(/-/g, "")}`,
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

    /** Whether the stack sets `key` at all (Pulumi.yaml's defaults count). */
    isSet(key: string): boolean {
        return this.get(key) !== undefined;
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

/** A rule of the public PostgreSQL server's firewall: a CIDR, and a public one (see NON_PUBLIC_RANGES). */
function checkPublicCidr(cidr: string, key: string): void {
    checkCidr(cidr, key);
    const block = nonPublicRange(cidr);
    if (block) {
        throw new ConfigError(key, cidr, `overlaps ${block}, which is never a public source address: the server's firewall `
            + "sees the public address you connect from (e.g. `curl -s https://ifconfig.me`); list that as <address>/32");
    }
}

function checkZone(zone: string, key: string): void {
    if (!(ZONES as readonly string[]).includes(zone)) {
        throw new ConfigError(key, zone, `availability zones are ${ZONES.join(", ")}`);
    }
}

/** A list of strings, each item checked on its own so every bad item is reported. */
function stringList(r: Reader, problems: Problems, key: string, check: (item: string, itemKey: string) => void): string[] {
    const items = r.stringArray(key);
    items.forEach((item, i) => problems.check(() => check(item, `${key}[${i}]`)));
    return items;
}

/** What a stack without apps is told: apps are declared per stack, in its own stack file. */
function noAppsMessage(stack: string): string {
    return `a stack runs at least one app, declared in the stack file Pulumi.${stack}.yaml (Pulumi.yaml cannot declare `
        + `a list of objects):\n      config:\n        ${PROJECT}:apps:\n          - name: demo\n`
        + `    or run \`pulumi config set --path 'apps[0].name' demo --stack ${stack}\` (README, "Config reference", lists an app's fields)`;
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

    const skuTier = problems.check(() => r.oneOf("pgSkuTier", PG_SKU_TIERS));
    const skuName = problems.check(() => r.raw("pgSkuName"));
    if (skuTier !== undefined && skuName !== undefined && !PG_SKU_PATTERNS[skuTier].test(skuName)) {
        problems.add("pgSkuName", skuName, `is not a ${skuTier} compute size (expected a name matching ${PG_SKU_PATTERNS[skuTier]}, e.g. ${exampleSku(skuTier)})`);
    }
    const storage = problems.check(() => r.integer("pgStorageSizeGb", 32, 32767));
    if (storage !== undefined && !(PG_STORAGE_SIZES_GB as readonly number[]).includes(storage)) {
        problems.add("pgStorageSizeGb", String(storage), `allowed sizes are ${PG_STORAGE_SIZES_GB.join(", ")}`);
    }
    const highAvailability = problems.check(() => r.oneOf("pgHighAvailability", PG_HA_MODES));
    if (highAvailability !== undefined && highAvailability !== "Disabled" && skuTier === "Burstable") {
        problems.add("pgHighAvailability", highAvailability, "high availability needs pgSkuTier GeneralPurpose or MemoryOptimized (Burstable has none)");
    }
    const zonePattern = /^[123]$/;
    const availabilityZone = problems.check(() => r.optionalString("pgAvailabilityZone", zonePattern, `must be empty or one of ${ZONES.join(", ")}`));
    const standbyAvailabilityZone = problems.check(() => r.optionalString("pgStandbyAvailabilityZone", zonePattern, `must be empty or one of ${ZONES.join(", ")}`));
    if (highAvailability === "ZoneRedundant" && availabilityZone && availabilityZone === standbyAvailabilityZone) {
        problems.add("pgStandbyAvailabilityZone", standbyAvailabilityZone, "zone-redundant HA needs a standby zone different from pgAvailabilityZone");
    }
    // Azure's SameZone mode places the standby in the primary's zone by definition (HighAvailabilityMode "SameZone":
    // "standby server in the same availability zone as the primary"); a standby zone would be ignored or rejected.
    if (highAvailability === "SameZone" && standbyAvailabilityZone) {
        problems.add("pgStandbyAvailabilityZone", standbyAvailabilityZone, "SameZone HA puts the standby in the primary's zone "
            + "(pgAvailabilityZone): leave pgStandbyAvailabilityZone empty, or choose ZoneRedundant for a standby in another zone");
    }
    if (highAvailability === "Disabled" && standbyAvailabilityZone) {
        problems.add("pgStandbyAvailabilityZone", standbyAvailabilityZone, "without high availability there is no standby: leave it empty or set pgHighAvailability");
    }
    const allowedCidrs = v(() => stringList(r, problems, "pgAllowedCidrs", checkPublicCidr));
    if (allowedCidrs?.length === 0) {
        problems.add("pgAllowedCidrs", [], `list at least the deployer's public egress address as <address>/32 in Pulumi.${stack}.yaml `
            + "(e.g. from `curl -s https://ifconfig.me`): `pulumi up` connects to the server to create the app roles");
    }
    const adminObjectId = problems.check(() => r.string("pgAdminObjectId", GUID, "must be the Entra object id (a GUID) of the PostgreSQL administrator: a group for shared stacks, yourself for a personal one (`az ad signed-in-user show --query id -o tsv`)"));
    const adminName = problems.check(() => r.raw("pgAdminPrincipalName"));
    const adminType = problems.check(() => r.oneOf("pgAdminPrincipalType", ENTRA_TYPES));
    const adminNameProblem = adminName !== undefined && adminType !== undefined ? entraLoginProblem(adminName, adminType) : undefined;
    if (adminNameProblem) {
        problems.add("pgAdminPrincipalName", adminName, adminNameProblem);
    }

    const workloadHighAvailability = v(() => r.boolean("workloadHighAvailability"));
    const apps = v(() => parseApps(r, problems, stack));
    if (workloadHighAvailability && apps) {
        apps.forEach((app, i) => {
            if (app && app.replicas < 2) {
                problems.add(`apps[${i}].replicas`, app.replicas,
                    "workloadHighAvailability needs at least 2 replicas per app (a PodDisruptionBudget with one replica blocks every node drain)");
            }
        });
    }

    // A stack bootstrap/ made (createResourceGroup false) is deployed by an identity that may delegate roles only
    // inside the stack's own resource group (bootstrap/grants.ts): an app role elsewhere would fail mid-deploy.
    const createResourceGroup = v(() => r.boolean("createResourceGroup"));
    if (createResourceGroup === false && namePrefix !== undefined && apps) {
        const group = `/resourceGroups/${resourceNames(namePrefix, stack).resourceGroup}/`;
        apps.forEach((app, i) => app?.roleAssignments.forEach((assignment, j) => {
            if (!assignment.scope.toLowerCase().includes(group.toLowerCase())) {
                problems.add(`apps[${i}].roleAssignments[${j}].scope`, assignment.scope, `must be a resource in the stack's own resource group `
                    + `(…${group}…): the deploy identity of a CI-deployed stack may assign roles only there (bootstrap/grants.ts)`);
            }
        }));
    }

    const config: StackConfig = {
        stack,
        location: v(() => r.string("location", /^[a-z][a-z0-9]+$/, "must be an Azure region name such as westeurope or eastus2")),
        namePrefix,
        createResourceGroup: createResourceGroup!,
        // Not declared in Pulumi.yaml (Pulumi's config types have no object): absent means none.
        deployers: v(() => parseDeployers(r.isSet("deployers") ? r.json("deployers") : [])),
        aks: {
            tier: v(() => r.oneOf("aksTier", AKS_TIERS)),
            kubernetesVersion: v(() => {
                const version = r.optionalString("aksKubernetesVersion", /^\d+\.\d+(\.\d+)?$/, "must be empty (AKS default) or a version such as 1.33 or 1.33.2");
                // The app's Deployment stops with a `preStop.sleep` handler (the image is distroless: no shell to
                // sleep in), on by default from Kubernetes 1.30 (KEP-3960, feature gate PodLifecycleSleepAction).
                const [major, minor] = (version ?? "").split(".").map(Number);
                if (version !== undefined && (major < 1 || (major === 1 && minor < MIN_KUBERNETES_MINOR))) {
                    throw new ConfigError("aksKubernetesVersion", version, `must be 1.${MIN_KUBERNETES_MINOR} or newer: the app's pods stop with the preStop sleep handler, on by default from 1.${MIN_KUBERNETES_MINOR}`);
                }
                return version;
            }),
            nodeCount: v(() => r.integer("aksNodeCount", 1, 100)),
            nodeVmSize: v(() => r.string("aksNodeVmSize", /^Standard_[A-Za-z0-9_]+$/, "must be an Azure VM size such as Standard_D2s_v5")),
            availabilityZones: v(() => stringList(r, problems, "aksAvailabilityZones", checkZone)),
            apiServerAuthorizedCidrs: v(() => stringList(r, problems, "aksApiServerAuthorizedCidrs", checkCidr)),
            adminGroupObjectIds: v(() => stringList(r, problems, "aksAdminGroupObjectIds", (id, key) => {
                if (!GUID.test(id)) {
                    throw new ConfigError(key, id, "must be an Entra group object id (a GUID)");
                }
            })),
            kubeloginMode: v(() => r.oneOf("kubeloginMode", KUBELOGIN_MODES)),
            azurePolicy: v(() => r.boolean("aksAzurePolicy")),
        },
        monitoring: {
            enabled: v(() => r.boolean("logAnalytics")),
            retentionDays: v(() => r.integer("logRetentionDays", 30, 730)),
        },
        postgres: {
            version: v(() => r.oneOf("pgVersion", PG_VERSIONS)),
            skuTier: skuTier!,
            skuName: skuName!,
            storageSizeGb: storage!,
            backupRetentionDays: v(() => r.integer("pgBackupRetentionDays", 7, 35)),
            geoRedundantBackup: v(() => r.boolean("pgGeoRedundantBackup")),
            highAvailability: highAvailability!,
            availabilityZone,
            standbyAvailabilityZone,
            allowedCidrs,
            admin: { objectId: adminObjectId!, principalName: adminName!, principalType: adminType! },
            maintenance: {
                dayOfWeek: v(() => r.integer("pgMaintenanceDayOfWeek", 0, 6)),
                startHour: v(() => r.integer("pgMaintenanceStartHour", 0, 23)),
            },
        },
        acrSku: v(() => r.oneOf("acrSku", ACR_SKUS)),
        protectData: v(() => r.boolean("protectData")),
        workloadHighAvailability,
        apps,
    };

    // The Pulumi CLI type-checks only the keys Pulumi.yaml declares; anything else in the project's namespace would
    // be ignored without a word. Every key is known by being read above, so this list cannot drift from the code.
    for (const key of Object.keys(raw).filter(k => !read.has(k))) {
        problems.add(key, parseForMessage(raw[key]), unknownKeyMessage(key, read, `a setting of this program`));
    }
    problems.throwIfAny(stack);
    return deepFreeze(config);
}

/** Shows a raw value as the user wrote it: JSON lists and objects parsed, everything else as the string. */
function parseForMessage(value: string): unknown {
    try {
        const parsed: unknown = JSON.parse(value);
        return typeof parsed === "object" && parsed !== null ? parsed : value;
    } catch {
        return value;
    }
}

function exampleSku(tier: PgSkuTier): string {
    return { Burstable: "Standard_B1ms", GeneralPurpose: "Standard_D2ds_v5", MemoryOptimized: "Standard_E2ds_v5" }[tier];
}

const APP_KEYS = ["name", "namespace", "serviceAccount", "database", "image", "replicas", "roleAssignments"];

function parseApps(r: Reader, problems: Problems, stack: string): AppConfig[] {
    const value = r.isSet("apps") ? r.json("apps") : undefined;
    if (value === undefined || (Array.isArray(value) && value.length === 0)) {
        throw new ConfigError("apps", value, noAppsMessage(stack));
    }
    if (!Array.isArray(value)) {
        throw new ConfigError("apps", value, "must be a list of apps, each with at least a name");
    }
    /** Each app, or undefined where its problems are recorded (parseConfig then throws). */
    const apps = value.map((item, i) => problems.check(() => parseApp(item, `apps[${i}]`)));
    // Apps may share a namespace (it is created once). What must stay unique: the name (it names the identity and
    // the PostgreSQL role), the database, and the ServiceAccount within a namespace — the federated credential
    // trusts system:serviceaccount:<namespace>:<serviceAccount>, so two apps there would share one subject and
    // each could sign in as the other.
    const claims: [string, (app: AppConfig) => string, string, string][] = [
        ["name", app => app.name, "name", "every app needs its own name"],
        ["database", app => app.database, "database", "every app needs its own database"],
        ["serviceAccount", app => `${app.namespace}/${app.serviceAccount}`, "serviceAccount",
            "apps may share a namespace but not a ServiceAccount in it: both identities would trust the one subject "
            + "system:serviceaccount:<namespace>:<serviceAccount>, so each app could sign in as the other"],
    ];
    for (const [field, claimOf, shownField, allowed] of claims) {
        const seen = new Map<string, number>();
        apps.forEach((app, i) => {
            if (!app) {
                return;
            }
            const claim = claimOf(app);
            const previous = seen.get(claim);
            if (previous !== undefined) {
                problems.add(`apps[${i}].${shownField}`, app[field as keyof AppConfig],
                    `already used by apps[${previous}]${field === "serviceAccount" ? ` in namespace ${app.namespace}` : ""}; ${allowed}`);
            } else {
                seen.set(claim, i);
            }
        });
    }
    return apps as AppConfig[]; // undefined entries only alongside recorded problems
}

function parseApp(item: unknown, key: string): AppConfig {
    if (typeof item !== "object" || item === null || Array.isArray(item)) {
        throw new ConfigError(key, item, "must be an object with at least a name");
    }
    const obj = item as Record<string, unknown>;
    const problems = new Problems();
    for (const unknownKey of Object.keys(obj).filter(k => !APP_KEYS.includes(k))) {
        problems.add(`${key}.${unknownKey}`, obj[unknownKey], `${unknownKeyMessage(unknownKey, APP_KEYS, "an app setting")}; allowed: ${APP_KEYS.join(", ")}`);
    }
    const str = (field: string, fallback?: string): string => {
        const v = obj[field] ?? fallback;
        if (typeof v !== "string") {
            throw new ConfigError(`${key}.${field}`, v, "must be a string");
        }
        return v;
    };
    const field = <T>(rule: () => T): T => problems.check(rule) as T;

    const name = field(() => {
        const n = str("name");
        // 24 keeps the identity (= PostgreSQL role) name "id-<prefix ≤10>-<stack ≤12>-<name ≤24>" within 63 bytes.
        if (!isDns1123Label(n) || n.length > 24) {
            throw new ConfigError(`${key}.name`, n, "must be a DNS-1123 label of at most 24 characters (lower-case letters, digits, '-'; starts and ends alphanumeric)");
        }
        return n;
    });
    // namespace, serviceAccount and database default from the name: with a bad name, report only the name.
    const derived = <T>(fieldName: string, rule: () => T): T => (obj[fieldName] === undefined && name === undefined ? undefined as T : field(rule));
    const namespace = derived("namespace", () => {
        const ns = str("namespace", name);
        if (!isDns1123Label(ns)) {
            throw new ConfigError(`${key}.namespace`, ns, "must be a DNS-1123 label (lower-case letters, digits, '-'; at most 63 characters; starts and ends alphanumeric)");
        }
        if (ns.startsWith("kube-") || ns === "default") {
            throw new ConfigError(`${key}.namespace`, ns, "kube-* and default are reserved: give the app a namespace of its own");
        }
        return ns;
    });
    const serviceAccount = derived("serviceAccount", () => {
        const sa = str("serviceAccount", name);
        if (!isDns1123Subdomain(sa)) {
            throw new ConfigError(`${key}.serviceAccount`, sa, "must be a DNS-1123 subdomain (lower-case letters, digits, '-', '.'; at most 253 characters)");
        }
        return sa;
    });
    const database = derived("database", () => {
        const db = str("database", name.replace(/-/g, "_"));
        if (!isPgIdentifier(db)) {
            throw new ConfigError(`${key}.database`, db, "must be a PostgreSQL identifier: lower-case letters, digits and '_', starting with a letter or '_', at most 63 characters");
        }
        if (RESERVED_DATABASES.includes(db)) {
            throw new ConfigError(`${key}.database`, db, `is reserved (${RESERVED_DATABASES.join(", ")}); give the app a database of its own`);
        }
        return db;
    });
    // Without an image of its own the app runs the image the stack builds from app/.
    const image = field(() => {
        const img = obj.image === undefined ? undefined : str("image");
        if (img !== undefined && !isPinnedImage(img)) {
            throw new ConfigError(`${key}.image`, img, "must be an image pinned by tag or digest (registry/repo:tag or repo@sha256:…), never untagged or :latest");
        }
        // Registries refuse a repository path with upper case ("repository name must be lowercase"); host and tag may have it.
        if (img !== undefined && /[A-Z]/.test(imageRepository(img))) {
            throw new ConfigError(`${key}.image`, img, `its repository path "${imageRepository(img)}" must be lower case `
                + `(only the registry host and the tag may have capitals): use "${img.replace(imageRepository(img), imageRepository(img).toLowerCase())}"`);
        }
        return img;
    });
    const replicas = field(() => {
        const n = obj.replicas ?? 1;
        if (typeof n !== "number" || !Number.isInteger(n) || n < 1 || n > 50) {
            throw new ConfigError(`${key}.replicas`, n, "must be an integer from 1 to 50");
        }
        return n;
    });
    const roleAssignments = field(() => parseRoleAssignments(obj.roleAssignments ?? [], `${key}.roleAssignments`));
    if (problems.errors.length > 0) {
        throw new ConfigError(problems.errors, "");
    }
    return { name, namespace, serviceAccount, database, image, replicas, roleAssignments };
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
        // D5: the deploy identities may delegate only the roles lib/programRoles.ts lists; anything else
        // would fail halfway through a CI deploy with AuthorizationFailed.
        if (!isAllowedAppRole(roleDefinitionId)) {
            throw new ConfigError(`${itemKey}.roleDefinitionId`, roleDefinitionId, `must be one of the roles the deploy identities may assign: ${allowedAppRolesText()}`);
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
    // Every key of the project's namespace, so keys the program does not read are caught; other namespaces
    // (azure-native:, kubernetes:, …) belong to their providers and are left alone.
    const prefix = `${PROJECT}:`;
    const raw = Object.fromEntries(Object.entries(pulumi.runtime.allConfig())
        .filter(([key]) => key.startsWith(prefix))
        .map(([key, value]) => [key.slice(prefix.length), value]));
    return parseConfig(raw, pulumi.getStack());
}
