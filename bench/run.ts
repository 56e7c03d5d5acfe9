// `npm run bench [-- --only deploy,scale,token,tests] [--apps 1,10,50,100]`: measures what issue 12 ("Speed")
// asks, prints a table per section and writes bench/results.json. Not part of `npm test` (it takes minutes and
// its numbers depend on the machine); README → "Performance" shows one run's results.
//   deploy  simulated deploy of dev and prod (tools/plan.ts: the real program under the tests' mocks, each create
//           taking tools/provisioning.ts's duration on a virtual clock): wall, serial sum, and the lower bound from
//           bench/dependencies.ts's model of the true dependencies, which knows nothing of the program's graph
//   scale   evaluation time and peak memory with 1..100 apps, each count in a fresh process
//   token   app pool throughput with Entra-sized tokens vs a static password on a real PostgreSQL
//   tests   wall and CPU time of `npm run test:unit` and `npm test`
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { lowerBound } from "./dependencies";
import { measureTokenOverhead, TokenResult } from "./tokenOverhead";
import { planStack } from "../tools/plan";
import { azureProvisioning } from "../tools/provisioning";

const ROOT = path.resolve(__dirname, "..");
const args = process.argv.slice(2);
const flag = (name: string) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? args[i + 1] : undefined;
};
const sections = (flag("only") ?? "deploy,scale,token,tests").split(",");
const appCounts = (flag("apps") ?? "1,10,50,100").split(",").map(Number);
const mmss = (s: number) => `${Math.floor(s / 60)}:${String(Math.round(s % 60)).padStart(2, "0")}`;

function table(headers: string[], rows: (string | number)[][]): string {
    const cells = [headers, ...rows.map(r => r.map(String))];
    const widths = headers.map((_, i) => Math.max(...cells.map(r => r[i].length)));
    const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i])).join(" | ")} |`;
    return [line(headers), `|${widths.map(w => "-".repeat(w + 2)).join("|")}|`, ...cells.slice(1).map(line)].join("\n");
}

interface DeployResult {
    stack: string; resources: number; wallSeconds: number; serialSeconds: number; boundSeconds: number; ratio: number;
    boundPath: string[]; programCriticalPath: string[]; writeOrder: string[]; roleStepStart: number | undefined;
}

async function deploy(stack: string): Promise<DeployResult> {
    const plan = await planStack(stack);
    const bound = lowerBound(plan.recorded, r => azureProvisioning.seconds(r.type, r.name));
    return {
        stack, resources: plan.resources.length, wallSeconds: plan.wallSeconds, serialSeconds: plan.serialSeconds,
        boundSeconds: bound.seconds, ratio: Number((plan.wallSeconds / bound.seconds).toFixed(3)),
        boundPath: bound.path, programCriticalPath: plan.criticalPath.map(r => r.name), writeOrder: bound.writeOrder,
        // The role step: the provider's first role (pgRoleStep provider) or the in-cluster provisioning Job (job).
        roleStepStart: plan.resources.find(r => r.type === "postgresql:index/role:Role" || r.name === "pg-roles-job")?.start,
    };
}

interface ScaleResult { stack: string; apps: number; resources: number; seconds: number; cpuSeconds: number; peakRssMb: number; peakHeapMb: number }

function scale(stack: string, apps: number): ScaleResult {
    const child = spawnSync(process.execPath, ["-r", "ts-node/register/transpile-only", path.join(__dirname, "scaleOne.ts"), stack, String(apps)],
        { cwd: ROOT, encoding: "utf8", maxBuffer: 64 * 2 ** 20 });
    if (child.status !== 0) {
        throw new Error(`scale ${stack} ${apps} apps failed:\n${child.stderr}`);
    }
    return JSON.parse(child.stdout.trim().split("\n").pop()!);
}

interface TestLoopResult { command: string; ok: boolean; wallSeconds: number; cpuSeconds: number }

function timed(command: string[]): TestLoopResult {
    const out = path.join(os.tmpdir(), `bench-time-${process.pid}`);
    const child = spawnSync("/usr/bin/time", ["-f", "%e %U %S", "-o", out, ...command], { cwd: ROOT, encoding: "utf8", maxBuffer: 256 * 2 ** 20 });
    const [wall, user, system] = fs.readFileSync(out, "utf8").trim().split("\n").pop()!.split(" ").map(Number);
    fs.rmSync(out, { force: true });
    if (child.status !== 0) {
        process.stderr.write(child.stdout.slice(-4000) + child.stderr.slice(-4000));
    }
    return { command: command.join(" "), ok: child.status === 0, wallSeconds: wall, cpuSeconds: Number((user + system).toFixed(1)) };
}

async function main(): Promise<void> {
    const results: Record<string, unknown> = {
        machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, memoryGb: Math.round(os.totalmem() / 2 ** 30), node: process.version, loadAverage: os.loadavg().map(l => Number(l.toFixed(1))) },
        date: new Date().toISOString(),
    };
    if (sections.includes("deploy")) {
        const deploys = [await deploy("dev"), await deploy("prod")];
        results.deploy = deploys;
        console.log("\nDeploy critical path (simulated; tools/provisioning.ts durations, bench/dependencies.ts bound)\n");
        console.log(table(["stack", "resources", "wall", "serial sum", "lower bound", "wall / bound", "role step starts"],
            deploys.map(d => [d.stack, d.resources, mmss(d.wallSeconds), mmss(d.serialSeconds), mmss(d.boundSeconds), d.ratio.toFixed(3),
                d.roleStepStart === undefined ? "-" : mmss(d.roleStepStart)])));
        for (const d of deploys) {
            console.log(`\n${d.stack}: bound's chain ${d.boundPath.join(" → ")}\n${d.stack}: program's critical path ${d.programCriticalPath.join(" → ")}`);
        }
    }
    if (sections.includes("scale")) {
        const rows: ScaleResult[] = [];
        for (const stack of ["dev", "prod"]) {
            for (const n of appCounts) {
                rows.push(scale(stack, n));
            }
        }
        const slope = (stack: string) => {
            const [a, b] = [rows.find(r => r.stack === stack && r.apps === Math.min(...appCounts))!, rows.find(r => r.stack === stack && r.apps === Math.max(...appCounts))!];
            return (b.cpuSeconds - a.cpuSeconds) / (b.apps - a.apps);
        };
        results.scale = { runs: rows, cpuSecondsPerApp: { dev: slope("dev"), prod: slope("prod") } };
        console.log("\nScale: one evaluation per process, no simulated provisioning\n");
        console.log(table(["stack", "apps", "resources", "wall s", "CPU s", "peak RSS MB", "peak heap MB"],
            rows.map(r => [r.stack, r.apps, r.resources, r.seconds.toFixed(1), r.cpuSeconds.toFixed(1), Math.round(r.peakRssMb), Math.round(r.peakHeapMb)])));
        console.log(`CPU per extra app: dev ${slope("dev").toFixed(3)} s, prod ${slope("prod").toFixed(3)} s`);
    }
    if (sections.includes("token")) {
        const token: TokenResult = await measureTokenOverhead();
        results.token = token;
        console.log(`\nToken overhead: PostgreSQL ${token.major}, ${token.tokenBytes}-byte token vs ${token.passwordBytes}-byte password, median of ${token.rounds} alternating rounds of ${token.roundSeconds} s\n`);
        console.log(table(["workload", "token ops/s", "password ops/s", "token / password", "bare pg + password ops/s"],
            [["steady pool (connections reused)", token.steady.token, token.steady.password, token.steady.ratio.toFixed(3), token.steady.barePg],
                ["churn (new connection per query)", token.churn.token, token.churn.password, token.churn.ratio.toFixed(3), token.churn.barePg]]));
    }
    if (sections.includes("tests")) {
        const loops = [timed(["npm", "run", "--silent", "test:unit"]), timed(["npm", "test", "--silent"])];
        results.tests = loops;
        console.log("\nTest loop\n");
        console.log(table(["command", "result", "wall s", "CPU s"], loops.map(l => [l.command, l.ok ? "pass" : "FAIL", l.wallSeconds.toFixed(1), l.cpuSeconds.toFixed(1)])));
    }
    const file = path.join(__dirname, "results.json");
    const previous = fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, "utf8")) : {};
    fs.writeFileSync(file, `${JSON.stringify({ ...previous, ...results }, null, 2)}\n`);
    console.log(`\nwrote ${path.relative(ROOT, file)}`);
}

main().catch(error => {
    console.error(error);
    process.exit(1);
});
