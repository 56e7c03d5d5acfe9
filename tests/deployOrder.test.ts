// What the deploy waits for (issue 12, "Speed"). Azure serialises writes to one PostgreSQL server (ServerBusy), so
// the server's children stay one after another; but the role step — the deployer connecting as the Entra
// administrator — needs only the server, its administrator and the firewall rule that lets the deployer in, and
// must not queue behind the server parameters. Checked on the component (which outputs the role step reads) and on
// both stacks' simulated deploys (tools/plan.ts on a virtual clock, tools/provisioning.ts's durations).
import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";
import { lowerBound } from "../bench/dependencies";
import { PostgresServer, PostgresServerArgs } from "../components/postgresServer";
import { planStack, PlannedResource, StackPlan } from "../tools/plan";
import { azureProvisioning } from "../tools/provisioning";
import { DEPLOYER_OBJECT_ID, EGRESS_IP, TENANT_ID } from "./mocks";
import { underMocks } from "./harness";

const args: PostgresServerArgs = {
    resourceGroupName: "rg-test",
    location: "westeurope",
    serverNamePrefix: "psql-test",
    version: "17",
    skuTier: "Burstable",
    skuName: "Standard_B1ms",
    storageSizeGb: 32,
    backupRetentionDays: 7,
    geoRedundantBackup: false,
    highAvailability: "Disabled",
    tenantId: TENANT_ID,
    administrator: { objectId: DEPLOYER_OBJECT_ID, principalName: "ada@contoso.onmicrosoft.com", principalType: "User" },
    clusterEgressIp: EGRESS_IP,
    allowedCidrs: ["198.51.100.0/28", "203.0.113.8/29"],
    protect: true,
    maintenanceWindow: { dayOfWeek: 0, startHour: 2 },
    logAnalyticsWorkspaceId: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.OperationalInsights/workspaces/log-x",
};

/** Logical names of every resource `outputs` carry a dependency on. */
async function dependenciesOf(outputs: pulumi.Output<unknown>[]): Promise<string[]> {
    const resources = new Set<pulumi.Resource>();
    for (const output of outputs) {
        // allResources: the resources an Output's value was computed from (what the engine makes a reader wait for).
        for (const resource of await (output as unknown as { allResources(): Promise<Set<pulumi.Resource>> }).allResources()) {
            resources.add(resource);
        }
    }
    const urns = await Promise.all([...resources].map(r => new Promise<string>(resolve => r.urn.apply(resolve))));
    return urns.map(urn => urn.split("::").pop()!).sort();
}

describe("deploy order: the role step waits only for what it needs", () => {
    it("what the role step reads (host, port, admin login) depends on exactly the server, its admin and the deployer's firewall rules", async () => {
        const { result } = await underMocks("test", async () => {
            const server = new PostgresServer("pg", args);
            return dependenciesOf([server.fqdn, server.port, server.adminLogin]);
        });
        expect(result).to.deep.equal(["pg-entra-admin", "pg-fw-allowed-198-51-100-0-28", "pg-fw-allowed-203-0-113-8-29", "pg-server"]);
    });

    for (const stack of ["dev", "prod"]) {
        describe(`${stack}, simulated deploy`, () => {
            // The workspace is made slow (40 minutes) to show who waits for it: only what reads from it.
            const SLOW_WORKSPACE = 40 * 60;
            const seconds = (type: string, name: string) => (/operationalinsights:Workspace$/.test(type) ? SLOW_WORKSPACE : azureProvisioning.seconds(type, name));
            let plan: StackPlan;
            before(async function () {
                this.timeout(120_000);
                plan = await planStack(stack, { overrides: { logAnalytics: true }, model: { seconds } });
            });
            const named = (name: string): PlannedResource => {
                const found = plan.resources.find(r => r.name === name);
                expect(found, `${name} in the plan`).to.not.equal(undefined);
                return found!;
            };
            const matching = (pattern: RegExp) => plan.resources.filter(r => pattern.test(r.name));

            it("the role step starts the moment the deployer's firewall rule exists, before any server parameter is written", () => {
                const deployerRules = matching(/^postgres-fw-allowed-/);
                expect(deployerRules).to.have.length.greaterThan(0);
                const role = named("demo-postgres-role");
                expect(role.start).to.equal(Math.max(...deployerRules.map(r => r.end), named("postgres-entra-admin").end));
                for (const parameter of matching(/^postgres-param-/)) {
                    expect(role.start, `role step vs ${parameter.name}`).to.be.at.most(parameter.start);
                }
            });

            it("the app's check still runs only after the cluster's egress IP may reach the database", () => {
                expect(named("demo-workload-check").start).to.be.at.least(named("postgres-fw-aks-egress").end);
            });

            it("the server's writes and the role step do not wait for the Log Analytics workspace", () => {
                const workspace = named("logs-workspace");
                expect(workspace.end).to.equal(SLOW_WORKSPACE);
                const independent = plan.resources.filter(r => /^postgres-/.test(r.name) && r.name !== "postgres-diagnostics")
                    .concat(matching(/^demo-postgres-/));
                for (const r of independent) {
                    expect(r.end, r.name).to.be.below(workspace.end);
                }
            });

            it("the app identity, registry and image start before the cluster finishes", () => {
                const cluster = named("aks-cluster");
                for (const name of ["demo-identity-identity", "app-image-registry", "app-image-image"]) {
                    expect(named(name).start, name).to.be.below(cluster.end);
                }
            });
        });
    }

    // With the provisioning model as it is (not the slow workspace above), the server's create and its nine
    // serialised writes bound both stacks; the program should not add to that.
    for (const stack of ["dev", "prod"]) {
        it(`${stack}: the whole deploy takes at most 5% longer than the lower bound of bench/dependencies.ts's true dependencies`, async function () {
            this.timeout(120_000);
            const plan = await planStack(stack);
            const bound = lowerBound(plan.recorded, r => azureProvisioning.seconds(r.type, r.name));
            expect(bound.seconds).to.be.at.most(plan.wallSeconds);
            expect(plan.wallSeconds, `wall ${plan.wallSeconds} s vs bound ${bound.seconds} s (${bound.path.join(" → ")})`)
                .to.be.at.most(1.05 * bound.seconds);
        });
    }
});
