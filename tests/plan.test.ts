// The offline plan (`npm run plan -- <stack>`): the same machinery as these tests, printed for people.
import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { planStack, readmeWithGraph, render, StackPlan } from "../tools/plan";
import { ROOT } from "./harness";

describe("plan: a stack without a cloud", () => {
    let dev: StackPlan;
    before(async function () {
        this.timeout(60_000);
        dev = await planStack("dev", {});
    });

    it("groups every resource under the component that owns it", () => {
        expect([...dev.components.values()]).to.include.members([
            "aks-pg-passwordless:azure:AksCluster", "aks-pg-passwordless:azure:PostgresServer",
            "aks-pg-passwordless:azure:WorkloadIdentity", "aks-pg-passwordless:postgresql:PostgresRole",
        ]);
        expect(dev.resources.find(r => r.type === "azure-native:containerservice:ManagedCluster")?.component).to.equal("aks");
        expect(dev.resources.find(r => r.type === "azure-native:managedidentity:FederatedIdentityCredential")?.component).to.equal("demo-identity");
    });

    it("simulates the deploy: AKS and PostgreSQL take minutes, the whole stack less than its serial sum", () => {
        const cluster = dev.resources.find(r => r.type === "azure-native:containerservice:ManagedCluster")!;
        expect(cluster.end - cluster.start).to.be.within(7 * 60, 9 * 60);
        expect(dev.wallSeconds).to.be.below(dev.serialSeconds);
    });

    it("the critical path is a chain: each step starts after the previous one ends, and it ends last", () => {
        const path = dev.criticalPath;
        expect(path.length).to.be.greaterThan(3);
        for (let i = 1; i < path.length; i++) {
            expect(path[i].start, path[i].name).to.be.at.least(path[i - 1].end - 3);
        }
        expect(path[path.length - 1].end).to.equal(dev.wallSeconds);
    });

    it("the component graph follows the trust chain's outputs: issuer, principal id, client id, FQDN", () => {
        const label = (from: string, to: string) => dev.edges.find(e => e.from === from && e.to === to)?.outputs ?? [];
        expect(label("aks", "demo-identity")).to.include("oidcIssuerProfile.issuerURL");
        expect(label("demo-identity", "demo-postgres")).to.include("principalId");
        expect(label("demo-identity", "demo-workload")).to.include("clientId");
        expect(label("postgres", "demo-workload")).to.include("fullyQualifiedDomainName");
    });

    it("prints the tree, the timeline, the critical path and the Mermaid graph", () => {
        const text = render(dev);
        expect(text).to.contain("AksCluster aks").and.contain("Critical path").and.contain("```mermaid\nflowchart LR");
    });

    it("the README's architecture graph is the plan's, regenerated", () => {
        const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
        expect(readmeWithGraph(readme, dev) === readme,
            "README's generated graph is stale: run `npm run plan -- dev --write-readme`").to.equal(true);
    });

    it("bad config stops the plan with the same message `pulumi up` gives", async () => {
        let error: Error | undefined;
        await planStack("dev", { overrides: { pgSkuTier: "Basic" } }).catch(e => { error = e; });
        expect(error?.message).to.contain('Invalid config "aks-pg-passwordless:pgSkuTier" = "Basic"');
    });
});
