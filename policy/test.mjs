// `npm test`: type-check and run the tests at the same time. tsc and mocha share nothing, so on two cores the
// suite takes as long as the slower of the two instead of their sum. mocha's output streams; tsc's follows.
// Fails when either fails.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import * as path from "node:path";

const here = path.dirname(fileURLToPath(import.meta.url));
const bin = name => path.join(here, "node_modules", ".bin", name);

function run(command, args, { stream }) {
    return new Promise(resolve => {
        const child = spawn(command, args, { cwd: here, stdio: ["ignore", stream ? "inherit" : "pipe", stream ? "inherit" : "pipe"] });
        let output = "";
        child.stdout?.on("data", chunk => { output += chunk; });
        child.stderr?.on("data", chunk => { output += chunk; });
        child.on("close", code => resolve({ code: code ?? 1, output }));
    });
}

const [typecheck, tests] = await Promise.all([
    run(bin("tsc"), ["--noEmit"], { stream: false }),
    run(bin("mocha"), process.argv.slice(2), { stream: true }),
]);
if (typecheck.code !== 0) {
    process.stderr.write(`\ntsc --noEmit failed:\n${typecheck.output}`);
}
process.exitCode = typecheck.code !== 0 ? typecheck.code : tests.code;
