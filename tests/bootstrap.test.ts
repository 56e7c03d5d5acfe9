// bootstrap/: the CI identities, run under mocks with the bootstrap project's own config.
import * as fs from "fs";
import * as path from "path";
import { expect } from "chai";
import * as yaml from "js-yaml";
import { BUILTIN_ROLES } from "../components/azureRoles";
import { assignOnlyCondition, GITHUB_ISSUER } from "../bootstrap/ciIdentity";
import { BOOTSTRAP_PROJECT, parseBootstrapConfig } from "../bootstrap/config";
import { ConfigError } from "../config";
import { AzureMocks, promiseOf, RecordedResource, SUBSCRIPTION_ID } from "./mocks";
import { freshProjectModules, ROOT, underMocks } from "./harness";

const REPO = "contoso/aks-pg-passwordless";
const FIC = "azure-native:managedidentity:FederatedIdentityCredential";
const ROLE = "azure-native:authorization:RoleAssignment";
const STATE = "/subscriptions/s/resourceGroups/rg-state/providers/Microsoft.Storage/storageAccounts/pulumistate/blobServices/default/containers/state";
const VAULT = "/subscriptions/s/resourceGroups/rg-state/providers/Microsoft.KeyVault/vaults/kv-pulumi";

function bootstrapConfig(overrides: Record<string, unknown> = {}): Record<string, string> {
    const project = yaml.load(fs.readFileSync(path.join(ROOT, "bootstrap", "Pulumi.yaml"), "utf8")) as { name: string; config: Record<string, { default?: unknown }> };
    expect(project.name).to.equal(BOOTSTRAP_PROJECT);
    const values: Record<string, unknown> = { githubRepository: REPO, ...overrides };
    for (const [key, decl] of Object.entries(project.config)) {
        if (!(key in values) && decl.default !== undefined) {
            values[key] = decl.default;
        }
    }
    return Object.fromEntries(Object.entries(values).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]));
}

async function runBootstrap(overrides: Record<string, unknown> = {}) {
    freshProjectModules();
    return underMocks("ci", () => require(path.join(ROOT, "bootstrap", "index.ts")) as Record<string, any>,
        { project: BOOTSTRAP_PROJECT, config: bootstrapConfig(overrides) });
}

const roleId = (guid: string) => `/subscriptions/${SUBSCRIPTION_ID}/providers/Microsoft.Authorization/roleDefinitions/${guid}`;

function rolesOf(mocks: AzureMocks, identity: "preview" | "deploy"): RecordedResource[] {
    const principal = mocks.named("azure-native:managedidentity:UserAssignedIdentity", `${identity}-identity`).state.principalId;
    return mocks.ofType(ROLE).filter(r => r.inputs.principalId === principal);
}

describe("bootstrap: the CI identities", () => {
    let mocks: AzureMocks;
    let outputs: Record<string, any>;
    before(async () => {
        ({ mocks, result: outputs } = await runBootstrap({ stateContainerId: STATE, secretsKeyVaultId: VAULT }));
    });

    it("the preview identity trusts only pull requests of this repository, from GitHub's issuer", () => {
        const creds = mocks.ofType(FIC).filter(f => f.inputs.resourceName === "id-pgwi-ci-preview");
        expect(creds.map(c => c.inputs)).to.deep.equal([{
            resourceGroupName: "rg-pgwi-ci", resourceName: "id-pgwi-ci-preview", federatedIdentityCredentialResourceName: "github-pull-request",
            issuer: GITHUB_ISSUER, subject: `repo:${REPO}:pull_request`, audiences: ["api://AzureADTokenExchange"],
        }]);
        expect(GITHUB_ISSUER).to.equal("https://token.actions.githubusercontent.com");
    });

    it("the deploy identity trusts main and the prod Environment, and nothing else", () => {
        const subjects = mocks.ofType(FIC).filter(f => f.inputs.resourceName === "id-pgwi-ci-deploy").map(f => f.inputs.subject);
        expect(subjects).to.deep.equal([`repo:${REPO}:ref:refs/heads/main`, `repo:${REPO}:environment:prod`]);
    });

    it("the deploy identity's credentials are written one after another and replaced delete-first", () => {
        expect(mocks.optionsOf("deploy-github-2").dependsOn).to.have.length(1);
        expect(mocks.optionsOf("deploy-github").deleteBeforeReplace).to.equal(true);
        expect(mocks.optionsOf("deploy-github-2").deleteBeforeReplace).to.equal(true);
    });

    it("the preview identity can only read: Reader, AKS Cluster User and AKS RBAC Reader on each stack group, state reader", () => {
        const roles = rolesOf(mocks, "preview").map(r => [r.inputs.roleDefinitionId, r.inputs.scope]);
        const groups = ["rg-pgwi-dev", "rg-pgwi-prod"].map(g => `/subscriptions/${SUBSCRIPTION_ID}/resourceGroups/${g}`);
        expect(roles).to.have.deep.members([
            ...groups.flatMap(g => [[roleId(BUILTIN_ROLES.reader), g], [roleId(BUILTIN_ROLES.aksClusterUser), g], [roleId(BUILTIN_ROLES.aksRbacReader), g]]),
            [roleId(BUILTIN_ROLES.storageBlobDataReader), STATE],
            [roleId(BUILTIN_ROLES.storageBlobDelegator), STATE.replace("/blobServices/default/containers/state", "")],
            [roleId(BUILTIN_ROLES.keyVaultCryptoUser), VAULT],
        ]);
    });

    it("the deploy identity may change the stack groups and assign only the program's four roles, to managed identities", () => {
        const roles = rolesOf(mocks, "deploy");
        const admin = roles.filter(r => r.inputs.roleDefinitionId === roleId(BUILTIN_ROLES.rbacAdministrator));
        expect(admin).to.have.length(2);
        for (const r of admin) {
            expect(r.inputs.conditionVersion).to.equal("2.0");
            expect(r.inputs.condition).to.equal(assignOnlyCondition([BUILTIN_ROLES.networkContributor, BUILTIN_ROLES.aksRbacClusterAdmin, BUILTIN_ROLES.acrPush, BUILTIN_ROLES.acrPull]));
            expect(r.inputs.condition).to.contain("StringEqualsIgnoreCase {'ServicePrincipal'}");
        }
        expect(roles.filter(r => r.inputs.roleDefinitionId === roleId(BUILTIN_ROLES.contributor))).to.have.length(2);
        expect(roles.some(r => r.inputs.roleDefinitionId === roleId(BUILTIN_ROLES.storageBlobDataContributor) && r.inputs.scope === STATE)).to.equal(true);
    });

    it("no CI role reaches beyond a resource group: nothing on the subscription", () => {
        for (const r of mocks.ofType(ROLE)) {
            expect(r.inputs.scope, r.name).to.match(/^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+/);
        }
    });

    it("creates the stacks' resource groups the main program then uses with createResourceGroup=false", () => {
        expect(mocks.ofType("azure-native:resources:ResourceGroup").map(r => r.inputs.resourceGroupName)).to.have.members(["rg-pgwi-ci", "rg-pgwi-dev", "rg-pgwi-prod"]);
    });

    it("exports the GitHub repository variables the workflows read", async () => {
        const vars = await promiseOf(outputs.githubVariables) as Record<string, string>;
        expect(Object.keys(vars)).to.have.members(["AZURE_TENANT_ID", "AZURE_SUBSCRIPTION_ID", "AZURE_CLIENT_ID_PREVIEW", "AZURE_CLIENT_ID_DEPLOY"]);
        expect(vars.AZURE_CLIENT_ID_DEPLOY).to.equal(mocks.named("azure-native:managedidentity:UserAssignedIdentity", "deploy-identity").state.clientId);
    });

    it("without a state container or vault, grants no data-plane roles", async () => {
        const { mocks: plain } = await runBootstrap();
        const guids = plain.ofType(ROLE).map(r => r.inputs.roleDefinitionId);
        expect(guids).to.not.include(roleId(BUILTIN_ROLES.storageBlobDataReader));
        expect(guids).to.not.include(roleId(BUILTIN_ROLES.keyVaultCryptoUser));
    });
});

describe("bootstrap: config", () => {
    const parse = (overrides: Record<string, unknown>) => {
        const raw = bootstrapConfig(overrides);
        return parseBootstrapConfig(key => raw[key]);
    };

    for (const [key, value, reported, allowed] of [
        ["githubRepository", "contoso", "githubRepository", "must be owner/repository"],
        ["stacks", ["Prod"], "stacks[0]", "1-12 lower-case letters or digits"],
        ["stacks", [], "stacks", "list at least one stack"],
        ["stateContainerId", "pulumistate", "stateContainerId", "blob container's ARM id"],
        ["secretsKeyVaultId", "kv-pulumi", "secretsKeyVaultId", "a Key Vault's ARM id"],
    ] as const) {
        it(`rejects ${key} = ${JSON.stringify(value)}`, () => {
            expect(() => parse({ [key]: value })).to.throw(ConfigError, `"${BOOTSTRAP_PROJECT}:${reported}"`);
            expect(() => parse({ [key]: value })).to.throw(allowed);
        });
    }

    it("githubRepository is required", () => {
        const raw = bootstrapConfig();
        delete raw.githubRepository;
        expect(() => parseBootstrapConfig(key => raw[key])).to.throw(`"${BOOTSTRAP_PROJECT}:githubRepository" = (not set)`);
    });
});
