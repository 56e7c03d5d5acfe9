import * as pulumi from "@pulumi/pulumi";
import * as authorization from "@pulumi/azure-native/authorization";
import * as managedidentity from "@pulumi/azure-native/managedidentity";
import { roleDefinitionId } from "../lib/azureRoles";
import { chainedFederatedCredentials } from "../lib/federatedCredentials";

/** The issuer of GitHub Actions' OIDC tokens. */
export { GITHUB_ACTIONS_ISSUER as GITHUB_ISSUER } from "../policy/rules";
import { GITHUB_ACTIONS_ISSUER as GITHUB_ISSUER } from "../policy/rules";

export interface CiRoleAssignment {
    /** ARM id of what the role applies to (a resource group, a container, a vault). */
    scope: pulumi.Input<string>;
    /** Built-in role definition GUID, or the ARM id of a custom role definition. */
    role: pulumi.Input<string>;
    /** ABAC condition narrowing the role (e.g. which roles it may assign), if any. */
    condition?: string;
    /** Why the pipeline needs it; stored as the assignment's description. */
    description: string;
}

export interface CiIdentityArgs {
    /** Resource group of the identity. */
    resourceGroupName: pulumi.Input<string>;
    /** Azure region. */
    location: pulumi.Input<string>;
    /** Managed identity name. */
    identityName: string;
    /** GitHub token subjects this identity trusts, each with a credential name. */
    subjects: { name: string; subject: string }[];
    /** Subscription owning the role definitions. */
    subscriptionId: pulumi.Input<string>;
    /** What the pipeline may do, and where. */
    roles: CiRoleAssignment[];
    /** Tags for the identity. */
    tags?: Record<string, string>;
}

/**
 * A user-assigned managed identity GitHub Actions signs in as with OIDC — no app registration, no client
 * secret — trusting exactly the listed workflow subjects, with exactly the listed roles.
 */
export class CiIdentity extends pulumi.ComponentResource {
    /** Client id: the `AZURE_CLIENT_ID` the workflow signs in with. */
    public readonly clientId: pulumi.Output<string>;
    /** Principal (object) id: make it a member of the PostgreSQL admin group for deploys. */
    public readonly principalId: pulumi.Output<string>;
    /** Identity name. */
    public readonly name: pulumi.Output<string>;

    constructor(name: string, args: CiIdentityArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aks-pg-passwordless:ci:CiIdentity", name, {}, opts);

        const identity = new managedidentity.UserAssignedIdentity(`${name}-identity`, {
            resourceGroupName: args.resourceGroupName,
            location: args.location,
            resourceName: args.identityName,
            tags: args.tags,
        }, { parent: this });

        chainedFederatedCredentials(this, `${name}-github`,
            { resourceGroupName: args.resourceGroupName, identityName: identity.name },
            args.subjects.map(s => ({ name: s.name, issuer: GITHUB_ISSUER, subject: s.subject })));

        args.roles.forEach((role, i) => {
            new authorization.RoleAssignment(`${name}-role-${i}`, {
                principalId: identity.principalId,
                principalType: "ServicePrincipal",
                roleDefinitionId: typeof role.role === "string" ? roleDefinitionId(args.subscriptionId, role.role) : role.role,
                scope: role.scope,
                description: role.description,
                ...(role.condition ? { condition: role.condition, conditionVersion: "2.0" } : {}),
            }, { parent: this });
        });

        this.clientId = identity.clientId;
        this.principalId = identity.principalId;
        this.name = identity.name;
        this.registerOutputs({ clientId: this.clientId, principalId: this.principalId, name: this.name });
    }
}
