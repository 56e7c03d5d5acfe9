// The root harness reloads the program's modules for every stack shape it runs (a fresh copy per run, so
// shapes can't leak into each other), and ts-node transpiles a reloaded file again each time: a third of
// each run's CPU. Transpiling an unchanged file gives the same JavaScript, so this keeps it per file and
// modification time. The modules still run afresh every time; only the TypeScript-to-JavaScript step is kept.
import * as fs from "fs";

type Compilable = NodeJS.Module & { _compile(code: string, filename: string): unknown };

const transpileAndRun = require.extensions[".ts"]!;
const transpiled = new Map<string, { mtimeMs: number; code: string }>();

require.extensions[".ts"] = (module, filename) => {
    const m = module as Compilable;
    const mtimeMs = fs.statSync(filename).mtimeMs;
    const kept = transpiled.get(filename);
    if (kept && kept.mtimeMs === mtimeMs) {
        m._compile(kept.code, filename);
        return;
    }
    const compile = m._compile;
    m._compile = function (code: string, file: string) {
        transpiled.set(file, { mtimeMs, code });
        return compile.call(this, code, file);
    };
    transpileAndRun(module, filename);
};
