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

