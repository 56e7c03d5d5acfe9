// One-time CI set-up (D3): per stack, a deploy identity GitHub Actions signs in as with OIDC, plus read-only preview
// identities (dev's for pull requests, prod's for the gated preview after merge), and the stacks' resource groups. Each identity has rights on its own
// stack's group only. Run once per subscription by someone allowed to create roles and assign them.
import * as crypto from "crypto";
import * as pulumi from "@pulumi/pulumi";
import * as authorization from "@pulumi/azure-native/authorization";
import * as resources from "@pulumi/azure-native/resources";
import { resourceNames } from "../config";
import { BUILTIN_ROLES as ROLES } from "../lib/azureRoles";
import { type IdentityRoleAssignment, WorkloadIdentity } from "../components/workloadIdentity";
import { loadBootstrapConfig } from "./config";
import { DEPLOY_GRANTS, Grant, LOCK_WRITER_ACTIONS, PREVIEW_GRANTS } from "./grants";
import { setupCommands } from "./githubSetup";
import {
    backendUrlVariable, clientIdVariable, deploySubject, gatedPreviewEnvironment, gatedPreviewSubject, gatedStacks, previewSubject, previewWorkflowUses,
} from "./githubSubjects";
import { backendUrl, resourceName, secretsKeyId, secretsProviderUrl, stateContainerId } from "./state";

const config = loadBootstrapConfig();
const client = authorization.getClientConfigOutput();
const tags = { project: "aks-pg-passwordless", purpose: "ci", "managed-by": "pulumi" };
const repo = config.githubRepository;

const ciGroup = new resources.ResourceGroup("ci", {
    resourceGroupName: `rg-${config.namePrefix}-ci`,
    location: config.location,
    tags,
});

// The main program's stacks run with createResourceGroup=false: the pipeline may work inside these groups but
// never create or delete resource groups in the subscription.
const stackGroups = new Map(config.stacks.map(stack => [stack, new resources.ResourceGroup(`stack-${stack}`, {
    resourceGroupName: resourceNames(config.namePrefix, stack).resourceGroup,
    location: config.location,
    tags: { ...tags, purpose: "app", stack },
})]));

// Lock, never unlock (D4): assignable only on the stacks' groups. A custom role's name must be unique in the tenant
// and its id is a GUID; both derive from the CI group's name, so a re-run finds the same role.
const lockWriterName = `CI lock writer (rg-${config.namePrefix}-ci)`;
const lockWriterHash = crypto.createHash("sha256").update(lockWriterName).digest("hex");
const lockWriter = new authorization.RoleDefinition("lock-writer", {
    scope: pulumi.interpolate`/subscriptions/${client.subscriptionId}`,
    roleDefinitionId: [lockWriterHash.slice(0, 8), lockWriterHash.slice(8, 12), `4${lockWriterHash.slice(13, 16)}`, `8${lockWriterHash.slice(17, 20)}`, lockWriterHash.slice(20, 32)].join("-"),
    roleName: lockWriterName,
    description: "Create and read management locks; never delete them. Held by the CI deploy identities.",
    permissions: [{ actions: [...LOCK_WRITER_ACTIONS], notActions: [], dataActions: [], notDataActions: [] }],
    assignableScopes: [...stackGroups.values()].map(g => g.id),
});

const onGroup = (group: resources.ResourceGroup, grants: readonly Grant[]): IdentityRoleAssignment[] =>
    grants.map(g => ({ scope: group.id, roleDefinitionId: g.role === "lockWriter" ? lockWriter.id : g.role, condition: g.condition, description: g.description }));

// Each stack's state and secrets key are its own (D2, bootstrap/state.ts): an identity's data roles are on its stack's
// container and key only. The workflows mint a 2-hour user-delegation SAS for that container with their Entra sign-in,
// which takes Storage Blob Delegator on the account (it reads no data: the SAS carries at most the signer's own data
// rights, which are on its stack's container only).
const onState = (stack: string, role: string): IdentityRoleAssignment[] => [
    ...(config.stateAccountId ? [
        { scope: stateContainerId(config.stateAccountId, stack), roleDefinitionId: role, description: `Pulumi state of ${stack} (its own container)` },
        { scope: config.stateAccountId, roleDefinitionId: ROLES.storageBlobDelegator, description: `User-delegation SAS for ${stack}'s state container` },
    ] : []),
    ...(config.secretsKeyVaultId ? [{ scope: secretsKeyId(config.secretsKeyVaultId, stack), roleDefinitionId: ROLES.keyVaultCryptoUser, description: `Pulumi state secrets of ${stack} (its own key)` }] : []),
];

// `deploy-<stack>` trusts only its stack's job of deploy.yml on main, in the GitHub environment named after the stack.
// Both are the program's own identity component (components/workloadIdentity.ts); the alias keeps identities made
// when CI had a component of its own, so their client ids — which GitHub holds as variables — never change.
const formerType = { aliases: [{ type: "aks-pg-passwordless:ci:CiIdentity" }] };
const deploys = config.stacks.map(stack => [stack, new WorkloadIdentity(`deploy-${stack}`, {
    resourceGroupName: ciGroup.name,
    location: ciGroup.location,
    identityName: `id-${config.namePrefix}-ci-deploy-${stack}`,
    github: [{ name: `github-deploy-${stack}`, subject: deploySubject(repo, stack) }],
    subscriptionId: client.subscriptionId,
    roleAssignments: [...onGroup(stackGroups.get(stack)!, DEPLOY_GRANTS), ...onState(stack, ROLES.storageBlobDataContributor)],
    tags,
}, formerType)] as const);

// `preview-<stack>` runs `pulumi preview` and can read, nothing else. No database access: previews do not refresh the
// PostgreSQL provider's resources, and it connects only to change something.
// - The pull-request stack's (dev only, D2) trusts the preview workflow from main, run for a pull request: PR code runs
//   with it.
// - Each gated stack's (prod) trusts that stack's preview job of deploy.yml on main, in `<stack>-preview`: the merged
//   program is previewed with rights to read only, so nothing runs as deploy-prod before the prod environment's
//   reviewers approve. A separate identity, not a second subject on deploy-prod, for exactly that reason.
const previewIdentity = (stack: string, subject: { name: string; subject: string }) => new WorkloadIdentity(`preview-${stack}`, {
    resourceGroupName: ciGroup.name,
    location: ciGroup.location,
    identityName: `id-${config.namePrefix}-ci-preview-${stack}`,
    github: [subject],
    subscriptionId: client.subscriptionId,
    roleAssignments: [...onGroup(stackGroups.get(stack)!, PREVIEW_GRANTS), ...onState(stack, ROLES.storageBlobDataReader)],
    tags,
}, formerType);
const previews = [
    [config.previewStack, previewIdentity(config.previewStack, { name: "github-pull-request", subject: previewSubject(repo) })] as const,
    ...gatedStacks(config.stacks, config.previewStack).map(stack =>
        [stack, previewIdentity(stack, { name: `github-${gatedPreviewEnvironment(stack)}`, subject: gatedPreviewSubject(repo, stack) })] as const),
];

// What the workflows need, as GitHub repository variables (none of them is a secret).
export const githubVariables = {
    AZURE_TENANT_ID: client.tenantId,
    AZURE_SUBSCRIPTION_ID: client.subscriptionId,
    ...Object.fromEntries(deploys.map(([stack, identity]) => [clientIdVariable("deploy", stack), identity.clientId])),
    ...Object.fromEntries(previews.map(([stack, identity]) => [clientIdVariable("preview", stack), identity.clientId])),
    ...(config.stateAccountId ? {
        AZURE_STORAGE_ACCOUNT: resourceName(config.stateAccountId),
        ...Object.fromEntries(config.stacks.map(stack => [backendUrlVariable(stack), backendUrl(stack)])),
    } : {}),
};
// What README → "Set up CI" applies to the repository (bootstrap/githubSetup.ts prints the same): the subject template
// the credentials above expect, the environments (each stack's, and `<stack>-preview` for gated stacks) that only main
// may deploy to, and the preview call.
export const githubSetup = {
    commands: setupCommands(repo, config.stacks, config.previewStack),
    previewWorkflowUses: previewWorkflowUses(repo),
};
// `pulumi stack init <stack> --secrets-provider <this>`: each stack's own key (azurekeyvault secrets provider only).
export const secretsProviders = config.secretsKeyVaultId
    ? Object.fromEntries(config.stacks.map(stack => [stack, secretsProviderUrl(config.secretsKeyVaultId!, stack)]))
    : undefined;
export const deployPrincipalIds = Object.fromEntries(deploys.map(([stack, identity]) => [stack, identity.principalId]));
export const stackResourceGroups = pulumi.all([...stackGroups.values()].map(g => g.name));
