// The project's security invariants as CrossGuard policies, checked on resource inputs before anything is
// created. Every policy is mandatory: a violation fails `pulumi preview` and `pulumi up`.
//
// A policy judges a type family (families.ts), not one type token: versioned azure-native modules, the
// classic azure provider, resources inside inline ARM templates, every Kubernetes version of a kind and its
// `…Patch` variant. What a preview can't inspect (linked ARM templates, Helm releases rendered inside the
// provider, scripts) is denied unless policy config allow-lists it by name. The rule values live in rules.ts,
// shared with the program.
//
// During a preview, reading a value that is not known yet throws inside the SDK, which then reports the policy
// as "can't run during preview" (advisory) for that resource; `pulumi up` judges it again with every value
// known. A value that is `undefined` is therefore absent, not unknown, and is judged as absent.
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { aksWorkloadIdentity, federatedCredentialIssuer, federatedCredentialShape, roleAssignmentsAllowedRoles, roleAssignmentsResourceScoped, serviceAccountClientId } from "./identity";
import { keyVaultRbacPurgeProtected } from "./keyVault";
import { imagesPinned, namespaceRestricted, noPasswords, podLabelWithClientId, podSecurityRestricted } from "./kubernetes";
import { opaqueResourcesAllowListed } from "./opaque";
import {
    postgresEntraAdmins, postgresEntraOnly, postgresFirewallNotOpen, postgresRolesLeastPrivilege, postgresServerParameters, prodDataProtected, postgresProvisioningAdminIsOwnIdentity,
} from "./postgres";

export * from "./identity";
export * from "./keyVault";
export * from "./kubernetes";
export * from "./opaque";
export * from "./postgres";
export { isProdStack, stackOf } from "./common";
export { CLIENT_ID_ANNOTATION, isPinnedImage, TOKEN_EXCHANGE_AUDIENCE, USE_LABEL } from "../rules";

/** The types the program itself creates, one member of each family (for tests and messages). */
export const TYPES = {
    pgServer: "azure-native:dbforpostgresql:Server",
    pgFirewallRule: "azure-native:dbforpostgresql:FirewallRule",
    pgConfiguration: "azure-native:dbforpostgresql:Configuration",
    pgAdministrator: "azure-native:dbforpostgresql:AdministratorsMicrosoftEntra",
    cluster: "azure-native:containerservice:ManagedCluster",
    keyVault: "azure-native:keyvault:Vault",
    fic: "azure-native:managedidentity:FederatedIdentityCredential",
    roleAssignment: "azure-native:authorization:RoleAssignment",
    lock: "azure-native:authorization:ManagementLockByScope",
    pgDatabase: "postgresql:index/database:Database",
    pgRole: "postgresql:index/role:Role",
    namespace: "kubernetes:core/v1:Namespace",
    serviceAccount: "kubernetes:core/v1:ServiceAccount",
    secret: "kubernetes:core/v1:Secret",
} as const;


export const resourcePolicies: ResourceValidationPolicy[] = [
    postgresEntraOnly,
    postgresFirewallNotOpen,
    postgresServerParameters,
    postgresEntraAdmins,
    postgresRolesLeastPrivilege,
    aksWorkloadIdentity,
    federatedCredentialShape,
    serviceAccountClientId,
    noPasswords,
    podSecurityRestricted,
    imagesPinned,
    namespaceRestricted,
    roleAssignmentsResourceScoped,
    roleAssignmentsAllowedRoles,
    keyVaultRbacPurgeProtected,
    opaqueResourcesAllowListed,
];

export const stackPolicies: StackValidationPolicy[] = [podLabelWithClientId, prodDataProtected, federatedCredentialIssuer, postgresProvisioningAdminIsOwnIdentity];
