// Azure's naming rules for every named resource the program creates, checked for the shared stacks, a person's own
// stack (dev-<name>, with its '-') and at the longest names config allows (10-character prefix, 12-character stack
// with and without '-', 24-character app).
import { expect } from "chai";
import { RecordedResource } from "./mocks";
import { ProgramRun, runProgram } from "./harness";

/** [resource type, name input, rule, what the rule is] — from Azure's resource naming rules. */
const RULES: [string, string, RegExp, string][] = [
    ["azure-native:resources:ResourceGroup", "resourceGroupName", /^[-\w.()]{0,89}[-\w()]$/, "1-90 word characters, '-', '.', '()'; not ending in '.'"],
    ["azure-native:containerservice:ManagedCluster", "resourceName", /^[a-zA-Z0-9][a-zA-Z0-9_-]{0,61}[a-zA-Z0-9]$/, "1-63 alphanumerics, '_', '-'"],
    ["azure-native:containerservice:ManagedCluster", "dnsPrefix", /^[a-zA-Z0-9][a-zA-Z0-9-]{0,52}[a-zA-Z0-9]$/, "1-54 alphanumerics and '-'"],
    ["azure-native:dbforpostgresql:Server", "serverName", /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/, "3-63 lower-case letters, digits, '-'"],
    ["azure-native:dbforpostgresql:FirewallRule", "firewallRuleName", /^[a-zA-Z0-9_-]{1,80}$/, "1-80 alphanumerics, '_', '-'"],
    ["azure-native:containerregistry:Registry", "registryName", /^[a-zA-Z0-9]{5,50}$/, "5-50 alphanumerics"],
    ["azure-native:managedidentity:UserAssignedIdentity", "resourceName", /^[a-zA-Z0-9][a-zA-Z0-9_-]{2,127}$/, "3-128 alphanumerics, '_', '-'"],
    ["azure-native:managedidentity:FederatedIdentityCredential", "federatedIdentityCredentialResourceName", /^[a-zA-Z0-9][a-zA-Z0-9_-]{2,119}$/, "3-120 alphanumerics, '_', '-'"],
    ["azure-native:network:PublicIPAddress", "publicIpAddressName", /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,78}[a-zA-Z0-9_]$/, "1-80 alphanumerics, '_', '.', '-'"],
    ["azure-native:operationalinsights:Workspace", "workspaceName", /^[a-zA-Z0-9][a-zA-Z0-9-]{2,61}[a-zA-Z0-9]$/, "4-63 alphanumerics and '-'"],
    ["azure-native:keyvault:Vault", "vaultName", /^(?!.*--)[a-zA-Z][a-zA-Z0-9-]{1,22}[a-zA-Z0-9]$/, "3-24 alphanumerics and single '-', starting with a letter"],
    ["azure-native:keyvault:Secret", "secretName", /^[a-zA-Z0-9-]{1,127}$/, "1-127 alphanumerics and '-'"],
];

/** Names that are DNS names under a shared Azure zone must be globally unique: they end in a random suffix. */
const GLOBAL: [string, string, RegExp][] = [
    ["azure-native:dbforpostgresql:Server", "serverName", /-[a-z0-9]{6}$/],
    ["azure-native:containerregistry:Registry", "registryName", /[a-z0-9]{6}$/],
    ["azure-native:keyvault:Vault", "vaultName", /-[a-z0-9]{6}$/],
];

const LONGEST_APP = "a".repeat(12) + "-" + "b".repeat(11);

function named(run: ProgramRun, type: string): RecordedResource[] {
    return run.mocks.ofType(type);
}

describe("naming: every Azure name obeys Azure's rules, at the longest names config allows", () => {
    let runs: ProgramRun[];
    before(async () => {
        runs = [
            await runProgram({ stack: "dev" }),
            await runProgram({ stack: "prod" }),
            await runProgram({ stack: "dev-ada" }),
            await runProgram({ stack: "dev-ada", stackName: "dev-abcdefgh", overrides: { namePrefix: "abcdefghij", apps: [{ name: LONGEST_APP }] } }),
            await runProgram({ stack: "prod", stackName: "productioneu", overrides: { namePrefix: "abcdefghij", apps: [{ name: LONGEST_APP, replicas: 2 }] } }),
        ];
    });

    for (const [type, field, rule, meaning] of RULES) {
        it(`${type.split(":").pop()}.${field}: ${meaning}`, () => {
            let checked = 0;
            for (const run of runs) {
                for (const r of named(run, type)) {
                    expect(r.inputs[field], `${r.name}.${field}`).to.match(rule);
                    checked++;
                }
            }
            expect(checked, `some ${type} was checked`).to.be.greaterThan(0);
        });
    }

    for (const [type, field, suffix] of GLOBAL) {
        it(`${type.split(":").pop()}.${field} is globally unique through a random suffix`, () => {
            for (const r of runs.flatMap(run => named(run, type))) {
                expect(r.inputs[field], r.name).to.match(suffix);
            }
            const random = runs[0].mocks.ofType("random:index/randomString:RandomString");
            expect(random.length).to.be.greaterThan(0);
        });
    }

    it("a person's stack dev-<name> keeps its name in every resource name, except the registry's (letters and digits only)", () => {
        const personal = runs[2];
        expect(personal.mocks.named("azure-native:resources:ResourceGroup", "rg").inputs.resourceGroupName).to.equal("rg-pgwi-dev-ada");
        expect(personal.mocks.named("azure-native:containerservice:ManagedCluster", "aks-cluster").inputs.resourceName).to.equal("aks-pgwi-dev-ada");
        expect(personal.mocks.ofType("azure-native:containerregistry:Registry")[0].inputs.registryName).to.match(/^acrpgwidevada[a-z0-9]{6}$/);
    });

    it("the app's PostgreSQL role (the identity name) fits PostgreSQL's 63-byte identifiers", () => {
        for (const run of runs) {
            for (const role of run.mocks.ofType("postgresql:index/role:Role")) {
                expect(Buffer.byteLength(role.inputs.name), role.inputs.name).to.be.at.most(63);
            }
        }
    });
});
