// IPv4 address arithmetic: plain functions config validation and the network settings use, tested without mocks.
// Addresses are read by policy/rules.ts's ipv4ToNumber (one parser for the program and the policy pack).
import { ipv4ToNumber } from "../policy/rules";

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

export function toIp(n: number): string {
    return [24, 16, 8, 0].map(shift => Math.floor(n / 2 ** shift) % 256).join(".");
}

/** An IPv4 CIDR block as numbers: its first and last address and its prefix length. */
export interface Ipv4Block {
    cidr: string;
    first: number;
    last: number;
    prefix: number;
}

/** A CIDR as numbers (parsed by parseCidr, so the same rule: network address, no host bits); undefined when invalid. */
export function ipv4Block(cidr: string): Ipv4Block | undefined {
    const range = parseCidr(cidr);
    return range && { cidr, first: ipv4ToNumber(range.start)!, last: ipv4ToNumber(range.end)!, prefix: range.prefix };
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
