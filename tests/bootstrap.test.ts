// bootstrap/: the CI identities, run under mocks with the bootstrap project's own config.
import * as fs from "fs";
import * as path from "path";
import { expect } from "chai";
import * as yaml from "js-yaml";
import { BUILTIN_ROLES } from "../lib/azureRoles";
import { GITHUB_ACTIONS_ISSUER as GITHUB_ISSUER } from "../policy/rules";
import { backendUrlVariable, clientIdVariable, deploySubject, gatedPreviewSubject } from "../bootstrap/githubSubjects";
import { setupCommands } from "../bootstrap/githubSetup";
import { delegationCondition, DELEGABLE_ROLES } from "../lib/programRoles";
import { BOOTSTRAP_PROJECT, parseBootstrapConfig } from "../bootstrap/config";
import { ConfigError } from "../config";
import { AzureMocks, promiseOf, RecordedResource, SUBSCRIPTION_ID } from "./mocks";
import { freshProjectModules, ROOT, underMocks } from "./harness";

const REPO = "contoso/aks-pg-passwordless";
const FIC = "azure-native:managedidentity:FederatedIdentityCredential";
const ROLE = "azure-native:authorization:RoleAssignment";
const ACCOUNT = "/subscriptions/s/resourceGroups/rg-state/providers/Microsoft.Storage/storageAccounts/pulumistate";
/** Each stack's own state container (bootstrap/state.ts). */
const stateOf = (stack: string) => `${ACCOUNT}/blobServices/default/containers/pulumi-state-${stack}`;
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
const groupId = (stack: string) => `/subscriptions/${SUBSCRIPTION_ID}/resourceGroups/rg-pgwi-${stack}`;

function rolesOf(mocks: AzureMocks, identity: string): RecordedResource[] {
    const principal = mocks.named("azure-native:managedidentity:UserAssignedIdentity", `${identity}-identity`).state.principalId;
    return mocks.ofType(ROLE).filter(r => r.inputs.principalId === principal);
}

describe("bootstrap: the CI identities", () => {
    let mocks: AzureMocks;
    let outputs: Record<string, any>;
    let lockWriterId: string;
    before(async () => {
        ({ mocks, result: outputs } = await runBootstrap({ stateAccountId: ACCOUNT, secretsKeyVaultId: VAULT }));
        lockWriterId = mocks.named("azure-native:authorization:RoleDefinition", "lock-writer").id;
    });

    it("makes one deploy identity per stack, the pull requests' preview identity for dev, and prod's gated preview identity", () => {
        expect(mocks.ofType("azure-native:managedidentity:UserAssignedIdentity").map(i => i.inputs.resourceName))
            .to.have.members(["id-pgwi-ci-deploy-dev", "id-pgwi-ci-deploy-prod", "id-pgwi-ci-preview-dev", "id-pgwi-ci-preview-prod"]);
    });

    it("the preview identity trusts only the preview workflow from main, run for a pull request, from GitHub's issuer", () => {
        const creds = mocks.ofType(FIC).filter(f => f.inputs.resourceName === "id-pgwi-ci-preview-dev");
        expect(creds.map(c => c.inputs)).to.deep.equal([{
            resourceGroupName: "rg-pgwi-ci", resourceName: "id-pgwi-ci-preview-dev", federatedIdentityCredentialResourceName: "github-pull-request",
            issuer: GITHUB_ISSUER,
            subject: `repo:${REPO}:pull_request:job_workflow_ref:${REPO}/.github/workflows/preview.yml@refs/heads/main`,
            audiences: ["api://AzureADTokenExchange"],
        }]);
        expect(GITHUB_ISSUER).to.equal("https://token.actions.githubusercontent.com");
    });

    for (const stack of ["dev", "prod"]) {
        it(`deploy-${stack} trusts only deploy.yml on main in the ${stack} environment, and nothing else`, () => {
            const subjects = mocks.ofType(FIC).filter(f => f.inputs.resourceName === `id-pgwi-ci-deploy-${stack}`).map(f => f.inputs.subject);
            expect(subjects).to.deep.equal([`repo:${REPO}:environment:${stack}:job_workflow_ref:${REPO}/.github/workflows/deploy.yml@refs/heads/main`]);
            expect(subjects).to.deep.equal([deploySubject(REPO, stack)]);
        });

        it(`deploy-${stack} holds Contributor, the lock writer, conditioned RBAC Administrator, AKS RBAC Cluster Admin and AcrPush on rg-pgwi-${stack} only`, () => {
            const onGroups = rolesOf(mocks, `deploy-${stack}`).filter(r => /^\/subscriptions\/[^/]+\/resourceGroups\/rg-pgwi-(dev|prod)$/.test(r.inputs.scope));
            expect(onGroups.map(r => [r.inputs.roleDefinitionId, r.inputs.scope])).to.have.deep.members([
                [roleId(BUILTIN_ROLES.contributor), groupId(stack)],
                [lockWriterId, groupId(stack)],
                [roleId(BUILTIN_ROLES.rbacAdministrator), groupId(stack)],
                [roleId(BUILTIN_ROLES.aksRbacClusterAdmin), groupId(stack)],
                [roleId(BUILTIN_ROLES.acrPush), groupId(stack)],
            ]);
            const admin = onGroups.find(r => r.inputs.roleDefinitionId === roleId(BUILTIN_ROLES.rbacAdministrator))!;
            expect(admin.inputs.conditionVersion).to.equal("2.0");
            expect(admin.inputs.condition).to.equal(delegationCondition());
            expect(onGroups.filter(r => r.inputs.condition !== undefined)).to.have.length(1);
        });
    }

    it("no deploy identity has any right on another stack's group", () => {
        for (const [stack, other] of [["dev", "prod"], ["prod", "dev"]]) {
            expect(rolesOf(mocks, `deploy-${stack}`).filter(r => r.inputs.scope.startsWith(groupId(other)))).to.deep.equal([]);
        }
    });

    it("the lock writer may read and write locks, never delete them, and is assignable only on the stacks' groups", () => {
        const def = mocks.named("azure-native:authorization:RoleDefinition", "lock-writer").inputs;
        expect(def.permissions).to.deep.equal([{
            actions: ["Microsoft.Authorization/locks/read", "Microsoft.Authorization/locks/write"], notActions: [], dataActions: [], notDataActions: [],
        }]);
        expect(def.assignableScopes).to.have.members([groupId("dev"), groupId("prod")]);
        expect(def.scope).to.equal(`/subscriptions/${SUBSCRIPTION_ID}`);
        expect(def.roleDefinitionId).to.match(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-8[0-9a-f]{3}-[0-9a-f]{12}$/);
        expect(lockWriterId).to.equal(`/subscriptions/${SUBSCRIPTION_ID}/providers/Microsoft.Authorization/roleDefinitions/${def.roleDefinitionId}`);
    });

    it("the delegation condition is generated from the program's role list: each listed role and principal type, write and delete", () => {
        const condition = delegationCondition();
        for (const role of DELEGABLE_ROLES) {
            expect(condition).to.contain(role.roleId);
        }
        expect(condition).to.contain("ActionMatches{'Microsoft.Authorization/roleAssignments/write'}");
        expect(condition).to.contain("ActionMatches{'Microsoft.Authorization/roleAssignments/delete'}");
        expect(condition).to.contain("@Request[Microsoft.Authorization/roleAssignments:PrincipalType] ForAnyOfAnyValues:StringEqualsIgnoreCase {'ServicePrincipal'}");
        expect(condition).to.contain("@Resource[Microsoft.Authorization/roleAssignments:PrincipalType] ForAnyOfAnyValues:StringEqualsIgnoreCase {'ServicePrincipal'}");
        expect(condition).to.not.contain(BUILTIN_ROLES.contributor);
        expect(condition).to.not.contain(BUILTIN_ROLES.rbacAdministrator);
    });

    it("CI identities are the program's identity component, aliased from CI's former one so their client ids never change", () => {
        for (const name of ["deploy-dev", "deploy-prod", "preview-dev"]) {
            const registration = mocks.registrations.find(r => r.name === name)!;
            expect(registration.type, name).to.equal("aks-pg-passwordless:azure:WorkloadIdentity");
            expect(mocks.optionsOf(name).aliases, name).to.deep.equal([{ type: "aks-pg-passwordless:ci:CiIdentity" }]);
        }
    });

    it("the deploy identities' credentials are replaced delete-first", () => {
        for (const stack of ["dev", "prod"]) {
            expect(mocks.optionsOf(`deploy-${stack}-github`).deleteBeforeReplace).to.equal(true);
        }
    });

    it("the preview identity can only read, and only dev: Reader, AKS Cluster User and AKS RBAC Reader on rg-pgwi-dev, dev's state and dev's key", () => {
        const roles = rolesOf(mocks, "preview-dev").map(r => [r.inputs.roleDefinitionId, r.inputs.scope]);
        expect(roles).to.have.deep.members([
            [roleId(BUILTIN_ROLES.reader), groupId("dev")], [roleId(BUILTIN_ROLES.aksClusterUser), groupId("dev")], [roleId(BUILTIN_ROLES.aksRbacReader), groupId("dev")],
            [roleId(BUILTIN_ROLES.storageBlobDataReader), stateOf("dev")],
            [roleId(BUILTIN_ROLES.storageBlobDelegator), ACCOUNT],
            [roleId(BUILTIN_ROLES.keyVaultCryptoUser), `${VAULT}/keys/pulumi-dev`],
        ]);
    });

    it("the deploy identities write their own stack's state", () => {
        for (const stack of ["dev", "prod"]) {
            expect(rolesOf(mocks, `deploy-${stack}`).some(r => r.inputs.roleDefinitionId === roleId(BUILTIN_ROLES.storageBlobDataContributor) && r.inputs.scope === stateOf(stack))).to.equal(true);
        }
    });

    it("no CI role reaches beyond a resource group: nothing on the subscription", () => {
        for (const r of mocks.ofType(ROLE)) {
            expect(r.inputs.scope, r.name).to.match(/^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+/);
        }
    });

    it("creates the stacks' resource groups the main program then uses with createResourceGroup=false", () => {
        expect(mocks.ofType("azure-native:resources:ResourceGroup").map(r => r.inputs.resourceGroupName)).to.have.members(["rg-pgwi-ci", "rg-pgwi-dev", "rg-pgwi-prod"]);
    });

    it("exports the GitHub repository variables the workflows read, one client id per identity", async () => {
        const vars = await promiseOf(outputs.githubVariables) as Record<string, string>;
        expect(Object.keys(vars)).to.have.members([
            "AZURE_TENANT_ID", "AZURE_SUBSCRIPTION_ID", "AZURE_CLIENT_ID_DEPLOY_DEV", "AZURE_CLIENT_ID_DEPLOY_PROD", "AZURE_CLIENT_ID_PREVIEW_DEV", "AZURE_CLIENT_ID_PREVIEW_PROD",
            "AZURE_STORAGE_ACCOUNT", "PULUMI_BACKEND_URL_DEV", "PULUMI_BACKEND_URL_PROD",
        ]);
        for (const stack of ["dev", "prod"]) {
            expect(vars[clientIdVariable("deploy", stack)]).to.equal(mocks.named("azure-native:managedidentity:UserAssignedIdentity", `deploy-${stack}-identity`).state.clientId);
        }
        expect(vars.AZURE_CLIENT_ID_PREVIEW_DEV).to.equal(mocks.named("azure-native:managedidentity:UserAssignedIdentity", "preview-dev-identity").state.clientId);
    });

    it("exports the GitHub set-up the credentials expect: the subject template, the environments limited to main, the preview workflow", async () => {
        const setup = await promiseOf(outputs.githubSetup) as any;
        expect(setup.commands).to.deep.equal(setupCommands(REPO, ["dev", "prod"], "dev"));
        expect(setup.commands[0]).to.contain(`'{"use_default":false,"include_claim_keys":["repo","context","job_workflow_ref"]}'`);
        // dev, prod-preview, prod.
        expect(setup.commands.filter((c: string) => c.includes("deployment-branch-policies -f name=main"))).to.have.length(3);
        expect(setup.previewWorkflowUses).to.equal(`${REPO}/.github/workflows/preview.yml@main`);
    });

    it("without a state container or vault, grants no data-plane roles", async () => {
        const { mocks: plain } = await runBootstrap();
        const guids = plain.ofType(ROLE).map(r => r.inputs.roleDefinitionId);
        expect(guids).to.not.include(roleId(BUILTIN_ROLES.storageBlobDataReader));
        expect(guids).to.not.include(roleId(BUILTIN_ROLES.keyVaultCryptoUser));
    });
});

// Issue 15 / D2: the prod gate's read-only preview identity, and state and secrets keys split per stack, so that no
// identity of one stack holds a grant that reaches another stack's state or its secrets key.
describe("bootstrap: per-stack state, secrets keys and the prod preview identity", () => {
    const container = stateOf;
    const key = (stack: string) => `${VAULT}/keys/pulumi-${stack}`;
    /** Roles that read or write blob data or use keys: a grant of one of these on a scope reaches everything below it. */
    const DATA_ROLES = [BUILTIN_ROLES.storageBlobDataReader, BUILTIN_ROLES.storageBlobDataContributor, BUILTIN_ROLES.keyVaultCryptoUser].map(roleId);
    /** Does an assignment on `scope` reach `target` (the same resource, or one of its parents)? */
    const reaches = (scope: string, target: string) => target.toLowerCase() === scope.toLowerCase() || target.toLowerCase().startsWith(`${scope.toLowerCase()}/`);
    let mocks: AzureMocks;
    let outputs: Record<string, any>;
    before(async () => {
        ({ mocks, result: outputs } = await runBootstrap({ stateAccountId: ACCOUNT, secretsKeyVaultId: VAULT }));
    });

    for (const [identity, own, other] of [["preview-dev", "dev", "prod"], ["deploy-dev", "dev", "prod"], ["deploy-prod", "prod", "dev"], ["preview-prod", "prod", "dev"]]) {
        it(`${identity} holds no data grant that reaches ${other}'s state container or ${other}'s secrets key`, () => {
            const data = rolesOf(mocks, identity).filter(r => DATA_ROLES.includes(r.inputs.roleDefinitionId));
            for (const target of [container(other), key(other)]) {
                expect(data.filter(r => reaches(r.inputs.scope, target)).map(r => r.inputs.scope), target).to.deep.equal([]);
            }
            // …and it does hold what its own stack needs.
            expect(data.map(r => r.inputs.scope)).to.have.members([container(own), key(own)]);
        });
    }

    it("the only grant of preview-dev whose scope contains prod's state is Storage Blob Delegator, which reads no data", () => {
        const over = rolesOf(mocks, "preview-dev").filter(r => reaches(r.inputs.scope, container("prod")) || reaches(r.inputs.scope, key("prod")));
        expect(over.map(r => [r.inputs.roleDefinitionId, r.inputs.scope])).to.deep.equal([[roleId(BUILTIN_ROLES.storageBlobDelegator), ACCOUNT]]);
        // Microsoft's definition (built-in roles → Storage): one action, generateUserDelegationKey, and no data actions. A
        // user-delegation SAS it signs carries at most the signer's own data rights ("Create a user delegation SAS"),
        // which are on dev's container only.
        expect(BUILTIN_ROLES.storageBlobDelegator).to.equal("db58b8e5-c6ad-4a2a-8342-4190687cbf4a");
    });

    it("the preview identities only read state; the deploy identities write it", () => {
        const stateRole = (identity: string) => rolesOf(mocks, identity).filter(r => r.inputs.scope.includes("/containers/")).map(r => r.inputs.roleDefinitionId);
        expect(stateRole("preview-dev")).to.deep.equal([roleId(BUILTIN_ROLES.storageBlobDataReader)]);
        expect(stateRole("preview-prod")).to.deep.equal([roleId(BUILTIN_ROLES.storageBlobDataReader)]);
        expect(stateRole("deploy-dev")).to.deep.equal([roleId(BUILTIN_ROLES.storageBlobDataContributor)]);
        expect(stateRole("deploy-prod")).to.deep.equal([roleId(BUILTIN_ROLES.storageBlobDataContributor)]);
    });

    it("the prod preview identity trusts only deploy.yml on main in the prod-preview environment", () => {
        const creds = mocks.ofType(FIC).filter(f => f.inputs.resourceName === "id-pgwi-ci-preview-prod").map(f => f.inputs.subject);
        expect(creds).to.deep.equal([`repo:${REPO}:environment:prod-preview:job_workflow_ref:${REPO}/.github/workflows/deploy.yml@refs/heads/main`]);
        expect(creds).to.deep.equal([gatedPreviewSubject(REPO, "prod")]);
        // deploy-prod still trusts only the prod environment (the one with required reviewers).
        expect(mocks.ofType(FIC).filter(f => f.inputs.resourceName === "id-pgwi-ci-deploy-prod").map(f => f.inputs.subject)).to.deep.equal([deploySubject(REPO, "prod")]);
    });

    it("the prod preview identity can only read, and only prod: Reader, AKS Cluster User, AKS RBAC Reader on rg-pgwi-prod", () => {
        const onGroups = rolesOf(mocks, "preview-prod").filter(r => /\/resourceGroups\/rg-pgwi-[a-z]+$/.test(r.inputs.scope)).map(r => [r.inputs.roleDefinitionId, r.inputs.scope]);
        expect(onGroups).to.have.deep.members([
            [roleId(BUILTIN_ROLES.reader), groupId("prod")], [roleId(BUILTIN_ROLES.aksClusterUser), groupId("prod")], [roleId(BUILTIN_ROLES.aksRbacReader), groupId("prod")],
        ]);
    });

    it("exports each stack's backend URL and secrets provider, and the prod preview client id", async () => {
        const vars = await promiseOf(outputs.githubVariables) as Record<string, string>;
        expect(vars).to.include({
            AZURE_STORAGE_ACCOUNT: "pulumistate",
            [backendUrlVariable("dev")]: "azblob://pulumi-state-dev",
            [backendUrlVariable("prod")]: "azblob://pulumi-state-prod",
        });
        expect(vars[clientIdVariable("preview", "prod")]).to.equal(mocks.named("azure-native:managedidentity:UserAssignedIdentity", "preview-prod-identity").state.clientId);
        expect(await promiseOf(outputs.secretsProviders)).to.deep.equal({
            dev: "azurekeyvault://kv-pulumi.vault.azure.net/keys/pulumi-dev",
            prod: "azurekeyvault://kv-pulumi.vault.azure.net/keys/pulumi-prod",
        });
    });

    it("the set-up makes the prod-preview environment deployable from main only, beside dev and prod", async () => {
        const setup = await promiseOf(outputs.githubSetup) as any;
        expect(setup.commands).to.include(`gh api -X POST repos/${REPO}/environments/prod-preview/deployment-branch-policies -f name=main -f type=branch`);
        expect(setup.commands.filter((c: string) => c.includes("deployment-branch-policies"))).to.have.length(3);
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
        ["stateAccountId", "pulumistate", "stateAccountId", "a storage account's ARM id"],
        ["stateAccountId", `${ACCOUNT}/blobServices/default/containers/state`, "stateAccountId", "a storage account's ARM id"],
        // The old single shared container is refused by name, not silently ignored.
        ["stateContainerId", `${ACCOUNT}/blobServices/default/containers/state`, "stateContainerId", "is replaced by stateAccountId"],
        ["secretsKeyVaultId", "kv-pulumi", "secretsKeyVaultId", "a Key Vault's ARM id"],
        ["previewStack", "staging", "previewStack", "must be one of stacks (dev, prod)"],
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
