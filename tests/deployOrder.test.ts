// What the deploy waits for (issue 12, "Speed"). Azure serialises writes to one PostgreSQL server (ServerBusy), so
// the server's children stay one after another; but the role step must not queue behind the server parameters. Each
// stack has its own role step: dev's (pgRoleStep provider) is the deployer connecting as the Entra administrator and
// needs only the server, its administrator and the firewall rule that lets the deployer in; prod's (pgRoleStep job,
// a private server) is the in-cluster provisioning Job, which needs the cluster, the image, the provisioning
// identity's federated credential and that identity's administrator entry on the server. Checked on the component (which outputs the role step reads) and on
// both stacks' simulated deploys (tools/plan.ts on a virtual clock, tools/provisioning.ts's durations).
import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";
import { lowerBound, prerequisitesOf } from "../bench/dependencies";
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

    // Which role step each stack's config chooses (Pulumi.<stack>.yaml, pgRoleStep).
    const roleSteps = { dev: "provider", prod: "job" } as const;
    for (const [stack, roleStep] of Object.entries(roleSteps)) {
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

            if (roleStep === "provider") {
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
            } else {
                // What the provisioning Job truly needs (bench/dependencies.ts, "provisioning Job"): its namespace's
                // objects in the cluster, the image and the path to pull it from the private registry, a token (the
                // federated credential), and a login (the server, its linked private zone, the provisioning identity's
                // administrator entry).
                const jobNeeds = [
                    "pg-roles-serviceaccount", "pg-roles-statements", "pg-roles-network-policy",
                    "app-image-image", "app-image-kubelet-pull", "app-image-registry-dns", "network-registry-dns-link",
                    "pg-provisioner-identity-federation", "postgres-server", "network-postgres-dns-link", "postgres-entra-admin-2",
                ];

                it("the dependency model's provisioning Job needs exactly the cluster objects, image, credential and admin this test names", () => {
                    const job = plan.recorded.find(r => r.name === "pg-roles-job");
                    expect(job, "pg-roles-job in the inventory").to.not.equal(undefined);
                    expect([...prerequisitesOf(job!, plan.recorded).needs].sort()).to.deep.equal([...jobNeeds].sort());
                });

                // Here the cluster waits for the slow workspace (its monitoring add-on names it), and the Job for the
                // cluster: a true wait. Not queuing behind the server parameters is checked on the real durations below.
                it("the provisioning Job starts the moment what it needs exists", () => {
                    expect(named("pg-roles-job").start).to.equal(Math.max(...jobNeeds.map(name => named(name).end)));
                });

                it("the app's pods and check start only once the provisioning Job has made their roles", () => {
                    const job = named("pg-roles-job");
                    for (const name of ["demo-workload-deployment", "demo-workload-check"]) {
                        expect(named(name).start, name).to.be.at.least(job.end);
                    }
                });
            }

            it("the server's writes and the role step do not wait for the Log Analytics workspace", () => {
                const workspace = named("logs-workspace");
                expect(workspace.end).to.equal(SLOW_WORKSPACE);
                // dev's role step is among them; prod's in-cluster Job is not: it runs in the cluster, which truly waits.
                const independent = plan.resources.filter(r => /^postgres-/.test(r.name) && r.name !== "postgres-diagnostics")
                    .concat(matching(/^demo-postgres-/));
                expect(independent.some(r => r.name === "demo-postgres-role"), "the role step among them").to.equal(roleStep === "provider");
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

    // With the provisioning model as it is (not the slow workspace above), the server's create and its serialised
    // writes bound both stacks (prod's after its private DNS zone and link); the program should not add to that.
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

    it("prod: the provisioning Job does not queue behind the server parameters", async function () {
        this.timeout(120_000);
        const plan = await planStack("prod");
        const job = plan.resources.find(r => r.name === "pg-roles-job")!;
        const parameters = plan.resources.filter(r => /^postgres-param-/.test(r.name));
        expect(parameters).to.have.length.greaterThan(0);
        for (const parameter of parameters) {
            expect(job.start, `provisioning Job vs ${parameter.name}`).to.be.at.most(parameter.start);
        }
    });
});
