// One measurement of `npm run bench`'s scale section, in a process of its own so peak memory is this run's alone:
// evaluates `stack` with `apps` apps under the tests' mocks (no simulated provisioning) and prints JSON.
import { runProgram } from "../tests/harness";

async function main(): Promise<void> {
    const [stack, count] = [process.argv[2], Number(process.argv[3])];
    // prod runs workloads highly available: two replicas each, as config requires there.
    const apps = Array.from({ length: count }, (_, i) => ({ name: `app${String(i + 1).padStart(3, "0")}`, replicas: stack === "prod" ? 2 : 1 }));
    let peakHeap = 0;
    const sampler = setInterval(() => { peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed); }, 5);
    const t0 = process.hrtime.bigint();
    const cpu0 = process.cpuUsage();
    const run = await runProgram({ stack, overrides: { apps } });
    const cpu = process.cpuUsage(cpu0);
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    clearInterval(sampler);
    peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
    console.log(JSON.stringify({
        stack, apps: count, resources: run.mocks.resources.length, seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6,
        peakRssMb: process.resourceUsage().maxRSS / 1024, peakHeapMb: peakHeap / 2 ** 20,
    }));
}

main().catch(error => {
    console.error(error);
    process.exit(1);
});
