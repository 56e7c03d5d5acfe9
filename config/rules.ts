// Validation rules as plain functions and constants: tests call them directly, without mocks. Rules the policy pack
// enforces too live in policy/rules.ts (import-free) and are imported from there — one rule, one home.
import type { EntraPrincipalType } from "../lib/azureScope";
import { parseCidr } from "../lib/cidr";
import type { PgSkuTier } from "../components/postgresServer";
import { ipv4ToNumber } from "../policy/rules";
import { ConfigError } from "./errors";

export { parseCidr };
export { isPinnedImage } from "../policy/rules";

export const ZONES = ["1", "2", "3"] as const;
export const PG_VERSIONS = ["16", "17", "18"] as const;
/** Azure Database for PostgreSQL Flexible Server premium SSD sizes (GiB). */
export const PG_STORAGE_SIZES_GB = [32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32767] as const;
/** Which VM families each compute tier accepts. */
export const PG_SKU_PATTERNS: Record<PgSkuTier, RegExp> = {
    Burstable: /^Standard_B\d+(s|ms)$/,
    GeneralPurpose: /^Standard_D\d+a?d?s_v[3-6]$/,
    MemoryOptimized: /^Standard_E\d+a?d?s_v[3-6]$/,
};
/** The broadest firewall range we accept; anything wider is "open to the internet" in practice. */
export const MIN_FIREWALL_PREFIX = 16;
/** Database names Azure or PostgreSQL already use. */
export const RESERVED_DATABASES = ["postgres", "template0", "template1", "azure_maintenance", "azure_sys"];
/** The oldest Kubernetes minor the workloads run on (the preStop sleep handler is on by default from 1.30). */
export const MIN_KUBERNETES_MINOR = 30;
export const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const PG_IDENTIFIER = /^[a-z_][a-z0-9_]*$/;
const PG_IDENTIFIER_MAX = 63;

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

export function checkCidr(cidr: string, key: string): void {
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
export function checkPublicCidr(cidr: string, key: string): void {
    checkCidr(cidr, key);
    const block = nonPublicRange(cidr);
    if (block) {
        throw new ConfigError(key, cidr, `overlaps ${block}, which is never a public source address: the server's firewall `
            + "sees the public address you connect from (e.g. `curl -s https://ifconfig.me`); list that as <address>/32");
    }
}

export function checkZone(zone: string, key: string): void {
    if (!(ZONES as readonly string[]).includes(zone)) {
        throw new ConfigError(key, zone, `availability zones are ${ZONES.join(", ")}`);
    }
}

export function exampleSku(tier: PgSkuTier): string {
    return { Burstable: "Standard_B1ms", GeneralPurpose: "Standard_D2ds_v5", MemoryOptimized: "Standard_E2ds_v5" }[tier];
}


/**
 * Why `version` cannot run the app's Deployment, or undefined. It stops with a `preStop.sleep` handler (the image is
 * distroless: no shell to sleep in), on by default from Kubernetes 1.30 (KEP-3960, feature gate PodLifecycleSleepAction).
 */
export function kubernetesVersionProblem(version: string): string | undefined {
    const [major, minor] = version.split(".").map(Number);
    return major < 1 || (major === 1 && minor < MIN_KUBERNETES_MINOR)
        ? `must be 1.${MIN_KUBERNETES_MINOR} or newer: the app's pods stop with the preStop sleep handler, on by default from 1.${MIN_KUBERNETES_MINOR}`
        : undefined;
}
