// `npm test`: every suite CI runs, the independent ones side by side (D6: < 3 min wall on 2 cores after install).
// Each suite's output is printed whole when it ends, so logs do not interleave; the exit code fails if any suite does.
import { spawn } from "node:child_process";

const SUITES = ["test:program", "test:app", "test:policy", "test:postgres"];
const started = Date.now();

function run(script) {
    return new Promise(resolve => {
        const t0 = Date.now();
        const child = spawn("npm", ["run", "--silent", script], { stdio: ["ignore", "pipe", "pipe"], env: process.env });
        let output = "";
        child.stdout.on("data", chunk => { output += chunk; });
        child.stderr.on("data", chunk => { output += chunk; });
        child.on("close", code => {
            const seconds = ((Date.now() - t0) / 1000).toFixed(1);
            process.stdout.write(`\n===== ${script}: ${code === 0 ? "passed" : `FAILED (exit ${code})`} in ${seconds} s =====\n${output}`);
            resolve({ script, code, seconds });
        });
    });
}

const results = await Promise.all(SUITES.map(run));
console.log(`\n===== all suites in ${((Date.now() - started) / 1000).toFixed(1)} s wall =====`);
for (const r of results) {
    console.log(`  ${r.code === 0 ? "ok  " : "FAIL"} ${r.script} (${r.seconds} s)`);
}
process.exit(results.every(r => r.code === 0) ? 0 : 1);
