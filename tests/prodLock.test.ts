// Issue 9, point 4 (D4): the CanNotDelete lock on the prod server is inherited by the server's children and blocks
// their deletion — for the deploy identity and for everyone else. Ordinary changes must not delete a child; the
// deletions that remain follow README → "The prod lock".
import * as fs from "fs";
import * as path from "path";
import { expect } from "chai";
import { RecordedResource } from "./mocks";
import { ROOT, runProgram, stackValues } from "./harness";

const SERVER = "azure-native:dbforpostgresql:Server";
const LOCK = "azure-native:authorization:ManagementLockByScope";

/** The server's children: resources below its id, and extension resources on it (lock, diagnostic settings). */
async function lockedChildren(overrides: Record<string, unknown> = {}): Promise<{ server: RecordedResource; children: RecordedResource[]; retained: Set<string> }> {
    const { mocks } = await runProgram({ stack: "prod", overrides });
    const [server] = mocks.ofType(SERVER);
    const children = mocks.resources.filter(r => r !== server
        && (r.id.toLowerCase().startsWith(`${server.id.toLowerCase()}/`) || r.inputs.scope === server.id || r.inputs.resourceUri === server.id));
    const retained = new Set(children.filter(c => mocks.optionsOf(c.name).retainOnDelete).map(c => c.name));
    return { server, children, retained };
}

const byName = (rs: RecordedResource[]) => new Map(rs.map(r => [`${r.type} ${r.name}`, JSON.stringify(r.inputs)]));

describe("the prod lock does not block ordinary changes (D4)", function () {
    this.timeout(120_000);
    // Prod as committed is private and has no firewall rules; the firewall cases run on prod's settings with a public
    // server (a protected stack that chose networkMode public), where rules under the lock still exist.
    const cidrs = ["52.174.16.0/28", "40.114.8.8/29", "13.69.64.64/27"];

    it("prod's server carries the CanNotDelete lock this file is about", async () => {
        const { children } = await lockedChildren();
        expect(children.filter(c => c.type === LOCK).map(c => c.inputs.level)).to.deep.equal(["CanNotDelete"]);
    });

    it("removing one CIDR from prod's list deletes exactly that firewall rule and changes no other child of the locked server", async () => {
        const before = byName((await lockedChildren({ networkMode: "public", pgAllowedCidrs: cidrs })).children);
        const after = byName((await lockedChildren({ networkMode: "public", pgAllowedCidrs: [cidrs[0], cidrs[2]] })).children);
        const deleted = [...before.keys()].filter(k => !after.has(k));
        const created = [...after.keys()].filter(k => !before.has(k));
        const changed = [...after.keys()].filter(k => before.has(k) && before.get(k) !== after.get(k));
        expect({ deleted, created, changed }).to.deep.equal({
            deleted: ["azure-native:dbforpostgresql:FirewallRule postgres-fw-allowed-40-114-8-8-29"], created: [], changed: [],
        });
    });

    it("adding a CIDR to prod's list creates one rule and deletes nothing", async () => {
        const before = byName((await lockedChildren({ networkMode: "public", pgAllowedCidrs: [cidrs[0], cidrs[2]] })).children);
        const after = byName((await lockedChildren({ networkMode: "public", pgAllowedCidrs: cidrs })).children);
        expect([...before.keys()].filter(k => !after.has(k))).to.deep.equal([]);
        expect([...after.keys()].filter(k => !before.has(k))).to.deep.equal(["azure-native:dbforpostgresql:FirewallRule postgres-fw-allowed-40-114-8-8-29"]);
    });

    it("prod's Entra admin is a group, so changing who administers is a membership change, not a new administrator", () => {
        expect(stackValues("prod").pgAdminPrincipalType).to.equal("Group");
    });

    it("every child of the locked server that a change could delete is covered by README → \"The prod lock\"", async () => {
        const { children, retained } = await lockedChildren({ networkMode: "public", pgAllowedCidrs: cidrs });
        const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
        const section = /### The prod lock\n([\s\S]*?)(\n## |\n### )/.exec(readme)?.[1] ?? "";
        expect(section, "README has a \"### The prod lock\" section").to.not.equal("");
        const deletable = children.filter(c => !retained.has(c.name) && c.type !== LOCK);
        expect(deletable.length).to.be.greaterThan(3);
        for (const type of new Set(deletable.map(c => c.type))) {
            // The procedure names each by its ARM type's last segment, e.g. `firewallRules`.
            const armSegment = children.find(c => c.type === type)!.id.split("/").slice(-2, -1)[0];
            expect(section, `${type} (${armSegment})`).to.contain(`\`${armSegment}\``);
        }
        // Server parameters are forgotten, never deleted (retainOnDelete), so the lock never stands in their way.
        expect(children.filter(c => c.type === "azure-native:dbforpostgresql:Configuration").every(c => retained.has(c.name))).to.equal(true);
    });
});
