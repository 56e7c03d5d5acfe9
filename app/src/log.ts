// One JSON object per line on stdout: what Container Insights and `kubectl logs` parse without help.
export type Level = "debug" | "info" | "warn" | "error";

export interface Logger {
    log(level: Level, msg: string, fields?: Record<string, unknown>): void;
}

export function jsonLogger(write: (line: string) => void = line => process.stdout.write(line + "\n")): Logger {
    return {
        log(level, msg, fields = {}) {
            write(JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields }));
        },
    };
}

/** A logger that keeps lines in memory, for tests. */
export function memoryLogger(): Logger & { lines: Record<string, unknown>[] } {
    const lines: Record<string, unknown>[] = [];
    return { lines, log: (level, msg, fields = {}) => lines.push({ level, msg, ...fields }) };
}
