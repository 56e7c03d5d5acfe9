// IPv4 address-plan arithmetic: plain functions the network settings are validated with, tested without mocks.
// Addresses are read by policy/rules.ts's ipv4ToNumber (one parser for the program and the policy pack).
import { ipv4ToNumber } from "../policy/rules";

/** An IPv4 CIDR block as numbers: its first and last address and its prefix length. */
export interface Ipv4Block {
    cidr: string;
    first: number;
    last: number;
    prefix: number;
}

/**
 * Parses `a.b.c.d/n`; undefined when it is not an IPv4 CIDR or has host bits set ("10.0.0.1/24" is ambiguous,
 * "10.0.0.0/24" is meant) — the same rule as config's parseCidr.
 */
export function ipv4Block(cidr: string): Ipv4Block | undefined {
    const match = /^([0-9.]+)\/(\d{1,2})$/.exec(cidr);
    const address = match ? ipv4ToNumber(match[1]) : undefined;
    if (!match || address === undefined || match[1].split(".").some(o => o.length > 1 && o.startsWith("0"))) {
        return undefined;
    }
    const prefix = Number(match[2]);
    if (prefix > 32) {
        return undefined;
    }
    const size = 2 ** (32 - prefix);
    if (address % size !== 0) {
        return undefined;
    }
    return { cidr, first: address, last: address + size - 1, prefix };
}

/** Whether two blocks share at least one address. */
export function blocksOverlap(a: Ipv4Block, b: Ipv4Block): boolean {
    return a.first <= b.last && b.first <= a.last;
}

/** Whether `inner` lies wholly inside `outer`. */
export function blockContains(outer: Ipv4Block, inner: Ipv4Block): boolean {
    return outer.first <= inner.first && inner.last <= outer.last;
}

/** Whether `ip` (a single address) lies inside `block`. */
export function blockHasAddress(block: Ipv4Block, ip: string): boolean {
    const n = ipv4ToNumber(ip);
    return n !== undefined && block.first <= n && n <= block.last;
}

/** Number of addresses in a block. */
export function blockSize(block: Ipv4Block): number {
    return block.last - block.first + 1;
}

/**
 * The private and special-use blocks a pod must not reach over the "internet" egress rule: RFC 1918, shared
 * address space (RFC 6598), link-local (169.254.0.0/16, which holds the instance metadata endpoint — workload
 * identity never uses it) and loopback.
 */
export const NON_INTERNET_BLOCKS: readonly string[] = [
    "10.0.0.0/8",
    "100.64.0.0/10",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "172.16.0.0/12",
    "192.168.0.0/16",
];
