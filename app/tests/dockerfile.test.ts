// No Docker engine runs here, so the image recipe is checked as text, and the compiled entrypoint it ships is
// exercised by the integration tests (dist/main.js).
import * as fs from "fs";
import * as path from "path";
import { expect } from "chai";

const APP = path.join(__dirname, "..");
const lines = fs.readFileSync(path.join(APP, "Dockerfile"), "utf8").split("\n").map(l => l.trim()).filter(l => l && !l.startsWith("#"));
const instructions = (name: string) => lines.filter(l => l.toUpperCase().startsWith(`${name} `)).map(l => l.slice(name.length + 1).trim());

describe("Dockerfile", () => {
    it("pins every base image by tag or digest, never latest", () => {
        for (const from of instructions("FROM")) {
            const image = from.split(/\s+/)[0];
            expect(image, from).to.match(/(:[\w.-]+|@sha256:[0-9a-f]{64})$/);
            expect(image, from).to.not.match(/:latest$/);
        }
    });

    it("runs as a numeric non-root user, the UID the pod securityContext uses", () => {
        const users = instructions("USER");
        expect(users.at(-1)).to.equal("65532:65532");
    });

    it("starts dist/main.js with `serve` by default, so the Job can pass `check`", () => {
        expect(instructions("ENTRYPOINT").at(-1)).to.equal('["/nodejs/bin/node", "/app/dist/main.js"]');
        expect(instructions("CMD").at(-1)).to.equal('["serve"]');
    });

    it("copies only files that exist in app/", () => {
        for (const copy of instructions("COPY").filter(c => !c.startsWith("--from"))) {
            const sources = copy.split(/\s+/).slice(0, -1);
            for (const source of sources) {
                expect(fs.existsSync(path.join(APP, source)), source).to.equal(true);
            }
        }
    });

    it("builds with the lockfile (npm ci) and ships no dev dependencies", () => {
        expect(lines).to.include("RUN npm ci --no-audit --no-fund");
        expect(lines.some(l => l.includes("npm prune --omit=dev"))).to.equal(true);
    });
});
