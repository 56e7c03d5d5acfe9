// The README's "same in another language" snippets: the Python one must at least compile; the others are marked
// as not built here. All three must use the PostgreSQL scope, the workload identity credential and a bounded pool.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { expect } from "chai";
import { POSTGRES_SCOPE } from "../src/tokens";

const readme = fs.readFileSync(path.join(__dirname, "..", "..", "README.md"), "utf8");
const section = readme.slice(readme.indexOf("### The same in another language"));
const block = (lang: string) => section.match(new RegExp("```" + lang + "\\n([\\s\\S]*?)```"))?.[1];

describe("README: the same in another language", () => {
    it("the Python snippet compiles (python3 -m py_compile)", () => {
        const code = block("python");
        expect(code, "a ```python block").to.be.a("string");
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "readme-py-"));
        try {
            const file = path.join(dir, "entra_pool.py");
            fs.writeFileSync(file, code!);
            const result = spawnSync("python3", ["-m", "py_compile", file], { encoding: "utf8" });
            expect(result.error, "python3 is needed to compile the README's snippet").to.equal(undefined);
            expect(result.status, result.stderr).to.equal(0);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    for (const [lang, label] of [["python", "Python"], ["java", "Java"], ["csharp", ".NET"]] as const) {
        it(`the ${label} snippet asks for the PostgreSQL scope with the workload identity credential and bounds its pool`, () => {
            const code = block(lang)!;
            expect(code, lang).to.contain(POSTGRES_SCOPE);
            expect(code, lang).to.match(/WorkloadIdentityCredential/);
            expect(code, lang).to.match(/max_size=10|setMaximumPoolSize\(10\)|Maximum Pool Size=10/);
            expect(code, lang).to.match(/statement_timeout=5000/);
        });
    }

    it("the Java and .NET snippets are marked as not built here", () => {
        expect(section).to.match(/Java \([^)]*\) — not built here/);
        expect(section).to.match(/\.NET \([^)]*\) — not built here/);
    });
});
