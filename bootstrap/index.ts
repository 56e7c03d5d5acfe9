// One-time CI set-up (D3): per stack, a deploy identity GitHub Actions signs in as with OIDC, plus a read-only
// preview identity for dev, and the stacks' resource groups they work in. Each identity has rights on its own
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
import { clientIdVariable, deploySubject, previewSubject, previewWorkflowUses } from "./githubSubjects";

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

// The workflows mint a 2-hour user-delegation SAS for the state container with their Entra sign-in, which
// takes Storage Blob Delegator on the account besides the data role on the container.
const stateAccountId = config.stateContainerId?.replace(/\/blobServices\/default\/containers\/[^/]+$/i, "");
const onState = (role: string): IdentityRoleAssignment[] => [
    ...(config.stateContainerId ? [
        { scope: config.stateContainerId, roleDefinitionId: role, description: "Pulumi state (azblob backend)" },
        { scope: stateAccountId!, roleDefinitionId: ROLES.storageBlobDelegator, description: "User-delegation SAS for the Pulumi state container" },
    ] : []),
    ...(config.secretsKeyVaultId ? [{ scope: config.secretsKeyVaultId, roleDefinitionId: ROLES.keyVaultCryptoUser, description: "Pulumi state secrets (azurekeyvault)" }] : []),
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
    roleAssignments: [...onGroup(stackGroups.get(stack)!, DEPLOY_GRANTS), ...onState(ROLES.storageBlobDataContributor)],
    tags,
}, formerType)] as const);

// Pull requests run `pulumi preview` of the preview stack only (D2) — PR code runs with these credentials, so they
// can read and nothing else. No database access: previews do not refresh, and the PostgreSQL provider connects only
// to change something.
const preview = new WorkloadIdentity(`preview-${config.previewStack}`, {
    resourceGroupName: ciGroup.name,
    location: ciGroup.location,
    identityName: `id-${config.namePrefix}-ci-preview-${config.previewStack}`,
    github: [{ name: "github-pull-request", subject: previewSubject(repo) }],
    subscriptionId: client.subscriptionId,
    roleAssignments: [...onGroup(stackGroups.get(config.previewStack)!, PREVIEW_GRANTS), ...onState(ROLES.storageBlobDataReader)],
    tags,
}, formerType);

// What the workflows need, as GitHub repository variables (none of them is a secret).
export const githubVariables = {
    AZURE_TENANT_ID: client.tenantId,
    AZURE_SUBSCRIPTION_ID: client.subscriptionId,
    ...Object.fromEntries(deploys.map(([stack, identity]) => [clientIdVariable("deploy", stack), identity.clientId])),
    [clientIdVariable("preview", config.previewStack)]: preview.clientId,
};
// What README → "Set up CI" applies to the repository (bootstrap/githubSetup.ts prints the same): the subject template
// the credentials above expect, one environment per stack that only main may deploy to, and the preview call.
export const githubSetup = {
    commands: setupCommands(repo, config.stacks),
    previewWorkflowUses: previewWorkflowUses(repo),
};
export const deployPrincipalIds = Object.fromEntries(deploys.map(([stack, identity]) => [stack, identity.principalId]));
export const stackResourceGroups = pulumi.all([...stackGroups.values()].map(g => g.name));
