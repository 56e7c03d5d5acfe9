// One-time CI set-up: two user-assigned identities GitHub Actions signs in as with OIDC, and the stacks'
// resource groups they work in. Run once per subscription by someone allowed to assign roles.
import * as pulumi from "@pulumi/pulumi";
import * as authorization from "@pulumi/azure-native/authorization";
import * as resources from "@pulumi/azure-native/resources";
import { resourceNames } from "../config";
import { BUILTIN_ROLES as ROLES } from "../components/azureRoles";
import { assignOnlyCondition, CiIdentity, CiRoleAssignment } from "./ciIdentity";
import { loadBootstrapConfig } from "./config";

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
const stackGroups = config.stacks.map(stack => new resources.ResourceGroup(`stack-${stack}`, {
    resourceGroupName: resourceNames(config.namePrefix, stack).resourceGroup,
    location: config.location,
    tags: { ...tags, purpose: "app", stack },
}));

const onStacks = (role: string, description: string, condition?: string): CiRoleAssignment[] =>
    stackGroups.map(group => ({ scope: group.id, role, description, condition }));
// The workflows mint a 2-hour user-delegation SAS for the state container with their Entra sign-in, which
// takes Storage Blob Delegator on the account besides the data role on the container.
const stateAccountId = config.stateContainerId?.replace(/\/blobServices\/default\/containers\/[^/]+$/i, "");
const onState = (role: string): CiRoleAssignment[] => [
    ...(config.stateContainerId ? [
        { scope: config.stateContainerId, role, description: "Pulumi state (azblob backend)" },
        { scope: stateAccountId!, role: ROLES.storageBlobDelegator, description: "User-delegation SAS for the Pulumi state container" },
    ] : []),
    ...(config.secretsKeyVaultId ? [{ scope: config.secretsKeyVaultId, role: ROLES.keyVaultCryptoUser, description: "Pulumi state secrets (azurekeyvault)" }] : []),
];

// Pull requests run `pulumi preview` — PR code runs with these credentials, so they can read and nothing else.
// Reader for Azure, "Cluster User" for the kubeconfig, "RBAC Reader" for Kubernetes objects. No database access:
// previews do not refresh, and the PostgreSQL provider connects only to change something.
const preview = new CiIdentity("preview", {
    resourceGroupName: ciGroup.name,
    location: ciGroup.location,
    identityName: `id-${config.namePrefix}-ci-preview`,
    subjects: [{ name: "github-pull-request", subject: `repo:${repo}:pull_request` }],
    subscriptionId: client.subscriptionId,
    roles: [
        ...onStacks(ROLES.reader, "pulumi preview reads Azure resources"),
        ...onStacks(ROLES.aksClusterUser, "pulumi preview lists the cluster's user kubeconfig"),
        ...onStacks(ROLES.aksRbacReader, "pulumi preview reads Kubernetes objects"),
        ...onState(ROLES.storageBlobDataReader),
    ],
    tags,
});

// main and the production Environment run `pulumi up`: they change resources inside the stack groups and may
// assign only the four roles the program grants, only to managed identities.
const deploy = new CiIdentity("deploy", {
    resourceGroupName: ciGroup.name,
    location: ciGroup.location,
    identityName: `id-${config.namePrefix}-ci-deploy`,
    subjects: [
        { name: "github-main", subject: `repo:${repo}:ref:refs/heads/main` },
        { name: `github-environment-${config.productionEnvironment.toLowerCase().replace(/[^a-z0-9-]/g, "-")}`, subject: `repo:${repo}:environment:${config.productionEnvironment}` },
    ],
    subscriptionId: client.subscriptionId,
    roles: [
        ...onStacks(ROLES.contributor, "pulumi up creates and changes the stack's resources"),
        ...onStacks(ROLES.rbacAdministrator, "pulumi up grants the program's own roles to its managed identities",
            assignOnlyCondition([ROLES.networkContributor, ROLES.aksRbacClusterAdmin, ROLES.acrPush, ROLES.acrPull])),
        ...onState(ROLES.storageBlobDataContributor),
    ],
    tags,
});

// What the workflows need, as GitHub repository variables (none of them is a secret).
export const githubVariables = {
    AZURE_TENANT_ID: client.tenantId,
    AZURE_SUBSCRIPTION_ID: client.subscriptionId,
    AZURE_CLIENT_ID_PREVIEW: preview.clientId,
    AZURE_CLIENT_ID_DEPLOY: deploy.clientId,
};
export const deployIdentityName = deploy.name;
export const deployPrincipalId = deploy.principalId;
export const stackResourceGroups = pulumi.all(stackGroups.map(g => g.name));
