// Issue 12: the shape that keeps the program readable as it grows, checked rather than hoped for.
import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { PostgresServer, SERVER_PARAMETERS } from "../components/postgresServer";
import { WorkloadIdentity } from "../components/workloadIdentity";
import * as rules from "../policy/rules";
import { DEPLOYER_OBJECT_ID, EGRESS_IP, issuerUrlFor, SUBSCRIPTION_ID, TENANT_ID } from "./mocks";
import { ROOT, underMocks } from "./harness";

const COMPONENTS = path.join(ROOT, "components");
const componentFiles = fs.readdirSync(COMPONENTS).filter(f => f.endsWith(".ts"));
const source = (file: string) => fs.readFileSync(path.join(COMPONENTS, file), "utf8");

describe("shape: components/ holds components only, wired in index.ts", () => {
    for (const file of componentFiles) {
        it(`${file} declares one ComponentResource, named for its file`, () => {
            const classes = [...source(file).matchAll(/export class (\w+) extends pulumi\.ComponentResource/g)].map(m => m[1]);
            expect(classes).to.deep.equal([file[0].toUpperCase() + file.slice(1, -3)]);
        });

        it(`${file} imports no other component (the arrows between components are index.ts's wiring)`, () => {
            expect(source(file)).to.not.match(/from "\.\/[^"]+"/);
        });

        it(`${file} calls super(type, name, {}, opts), so no child waits for all of the component's inputs`, () => {
            expect(source(file)).to.match(/super\("aks-pg-passwordless:[a-z]+:\w+", name, \{\}, opts\)/);
        });
    }

    it("index.ts is at most 80 lines of wiring", () => {
        const lines = fs.readFileSync(path.join(ROOT, "index.ts"), "utf8").trimEnd().split("\n");
        expect(lines.length).to.be.at.most(80);
    });
});

describe("shape: a child registers before an unrelated slow input of its component resolves", () => {
    it("an app's managed identity is requested while the cluster's issuer (which only its credential needs) is still pending", async () => {
        let issuerResolvedAt = -1;
        const { mocks } = await underMocks("test", m => new WorkloadIdentity("orders-identity", {
            resourceGroupName: "rg-test", location: "westeurope", identityName: "id-test-orders", subscriptionId: SUBSCRIPTION_ID,
            serviceAccount: {
                namespace: "shop", name: "orders",
                issuers: [pulumi.output(new Promise<string>(resolve => setTimeout(() => {
                    issuerResolvedAt = m.elapsed();
                    resolve(issuerUrlFor("aks-test"));
                }, 1000)))],
            },
        }));
        const identity = mocks.named("azure-native:managedidentity:UserAssignedIdentity", "orders-identity-identity");
        expect(identity.requestedAt).to.be.below(issuerResolvedAt);
        expect(mocks.named("azure-native:managedidentity:FederatedIdentityCredential", "orders-identity-federation").requestedAt)
            .to.be.at.least(issuerResolvedAt);
    });
});

describe("shape: one rule, one home", () => {
    it("a server parameter added to policy/rules.ts is set by the program and enforced by the pack's check, with no second edit", async () => {
        const shared = rules.SERVER_PARAMETERS as Record<string, string>;
        expect(SERVER_PARAMETERS, "the component re-exports the pack's very object").to.equal(rules.SERVER_PARAMETERS);
        shared["log_checkpoints"] = "on";
        try {
            const { mocks } = await underMocks("test", () => new PostgresServer("pg", {
                resourceGroupName: "rg-test", location: "westeurope", serverNamePrefix: "psql-test", version: "17", skuTier: "Burstable",
                skuName: "Standard_B1ms", storageSizeGb: 32, backupRetentionDays: 7, geoRedundantBackup: false, highAvailability: "Disabled",
                tenantId: TENANT_ID, administrator: { objectId: DEPLOYER_OBJECT_ID, principalName: "ada@contoso.onmicrosoft.com", principalType: "User" },
                clusterEgressIp: EGRESS_IP, allowedCidrs: [], protect: false, maintenanceWindow: { dayOfWeek: 0, startHour: 2 },
            }));
            const set = mocks.ofType("azure-native:dbforpostgresql:Configuration").map(c => [c.inputs.configurationName, c.inputs.value]);
            expect(set).to.deep.include(["log_checkpoints", "on"]);
            // policy/policies/postgres.ts (postgres-server-parameters) reports exactly what checkServerParameter returns.
            expect(rules.checkServerParameter("log_checkpoints", "off")).to.deep.equal(['log_checkpoints must stay "on", not "off"']);
        } finally {
            delete shared["log_checkpoints"];
        }
    });

    it("the pack's policies import their rule values from policy/rules.ts, the module the program imports", () => {
        const policies = fs.readdirSync(path.join(ROOT, "policy", "policies")).filter(f => f.endsWith(".ts"));
        const usesRules = policies.filter(f => /from "\.\.\/rules"/.test(fs.readFileSync(path.join(ROOT, "policy", "policies", f), "utf8")));
        expect(usesRules).to.include.members(["postgres.ts", "identity.ts", "kubernetes.ts"]);
        const programImports = [...componentFiles.map(f => source(f)), fs.readFileSync(path.join(ROOT, "config", "rules.ts"), "utf8")]
            .filter(text => /from "\.\.\/policy\/rules"/.test(text));
        expect(programImports.length).to.be.at.least(4);
    });
});
