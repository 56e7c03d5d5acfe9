import * as pulumi from "@pulumi/pulumi";
import * as authorization from "@pulumi/azure-native/authorization";
import * as managedidentity from "@pulumi/azure-native/managedidentity";
import { roleDefinitionId } from "../lib/azureRoles";
import type { AzureScope } from "../lib/azureScope";
import { serviceAccountSubject } from "../lib/kubernetesIdentity";
import { chainedFederatedCredentials, TOKEN_EXCHANGE_AUDIENCE } from "../lib/federatedCredentials";
import { GITHUB_ACTIONS_ISSUER } from "../policy/rules";

export { TOKEN_EXCHANGE_AUDIENCE };

export { serviceAccountSubject };

export interface IdentityRoleAssignment {
    /** ARM id of what the role applies to: one resource for an app, a resource group or container for CI. */
    scope: pulumi.Input<string>;
    /** Role definition GUID, or the full ARM id of a built-in or custom role definition. */
    roleDefinitionId: pulumi.Input<string>;
    /** ABAC condition narrowing the role (e.g. which roles it may assign), if any. */
    condition?: string;
    /** Why the identity needs it; stored as the assignment's description. */
    description?: string;
}

/** The Kubernetes ServiceAccount an identity trusts, on one or more clusters. */
export interface TrustedServiceAccount {
    /** Kubernetes namespace the workload runs in. This component is the single source of truth for it. */
    namespace: string;
    /** Kubernetes ServiceAccount the workload runs as. This component is the single source of truth for it. */
    name: string;
    /** OIDC issuer URLs of the clusters whose tokens for it are trusted: the stack's, then e.g. a blue/green peer. */
    issuers: pulumi.Input<string>[];
}

/** A GitHub Actions job the identity trusts: its subject comes from bootstrap/githubSubjects.ts (D3). */
export interface GitHubTrust {
    /** Credential name, unique per identity. */
    name: string;
    /** The exact subject claim of the job's OIDC token. */
    subject: string;
}

export interface WorkloadIdentityArgs extends AzureScope {
    /** Managed identity name; an app's PostgreSQL role is named after it. */
    identityName: string;
    /** The ServiceAccount trusted (app identities); undefined for identities only CI jobs use. */
    serviceAccount?: TrustedServiceAccount;
    /** GitHub Actions jobs trusted (CI identities, an app's migration job run from CI); default none. */
    github?: readonly GitHubTrust[];
    /** Subscription that owns GUID-named role definitions in `roleAssignments`. */
    subscriptionId: pulumi.Input<string>;
    /** Azure roles for this identity, each on its narrowest scope; default none. */
    roleAssignments?: readonly IdentityRoleAssignment[];
}

/**
 * A user-assigned managed identity that workloads sign in as by workload identity federation — no secret — and the
 * roles it holds. One component for every such identity: an app's (trusting exactly
 * `system:serviceaccount:<namespace>:<serviceAccount>` from its cluster's issuer) and CI's (trusting exactly the
 * GitHub jobs bootstrap/ names). All its federated credentials are written one after another (Azure refuses
 * concurrent writes on one identity) and at most 20 (Azure's limit per identity).
 */
export class WorkloadIdentity extends pulumi.ComponentResource {
    /** Managed identity name (also the app's PostgreSQL role name). */
    public readonly name: pulumi.Output<string>;
    /** ARM id of the managed identity. */
    public readonly id: pulumi.Output<string>;
    /** Client (application) id: goes into the ServiceAccount annotation. */
    public readonly clientId: pulumi.Output<string>;
    /** Principal (object) id: goes into the PostgreSQL security label and role assignments. */
    public readonly principalId: pulumi.Output<string>;
    /** Entra tenant of the identity. */
    public readonly tenantId: pulumi.Output<string>;
    /** Namespace the trusted ServiceAccount lives in (undefined for an identity only CI jobs use). */
    public readonly namespace: pulumi.Output<string | undefined>;
    /** Name of the trusted ServiceAccount (undefined for an identity only CI jobs use). */
    public readonly serviceAccountName: pulumi.Output<string | undefined>;
    /** The exact ServiceAccount token subject trusted (undefined for an identity only CI jobs use). */
    public readonly subject: pulumi.Output<string | undefined>;

    constructor(name: string, args: WorkloadIdentityArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aks-pg-passwordless:azure:WorkloadIdentity", name, {}, opts);

        const identity = new managedidentity.UserAssignedIdentity(`${name}-identity`, {
            resourceGroupName: args.resourceGroupName,
            location: args.location,
            resourceName: args.identityName,
            tags: args.tags,
        }, { parent: this });

        // Resource names are stable per kind of trust; credential names only need to be unique per identity.
        const sa = args.serviceAccount;
        const subject = sa && serviceAccountSubject(sa.namespace, sa.name);
        const numbered = (base: string, i: number) => `${base}${i === 0 ? "" : `-${i + 1}`}`;
        chainedFederatedCredentials(this, { resourceGroupName: args.resourceGroupName, identityName: identity.name }, [
            ...(sa?.issuers ?? []).map((issuer, i) => ({
                resourceName: numbered(`${name}-federation`, i), name: numbered("kubernetes-serviceaccount", i), issuer, subject: subject!,
            })),
            ...(args.github ?? []).map((trust, i) => ({
                resourceName: numbered(`${name}-github`, i), name: trust.name, issuer: GITHUB_ACTIONS_ISSUER, subject: trust.subject,
            })),
        ]);

        (args.roleAssignments ?? []).forEach((assignment, i) => {
            new authorization.RoleAssignment(`${name}-role-${i}`, {
                principalId: identity.principalId,
                principalType: "ServicePrincipal",
                roleDefinitionId: roleDefinitionId(args.subscriptionId, assignment.roleDefinitionId),
                scope: assignment.scope,
                description: assignment.description,
                ...(assignment.condition ? { condition: assignment.condition, conditionVersion: "2.0" } : {}),
            }, { parent: this });
        });

        this.name = identity.name;
        this.id = identity.id;
        this.clientId = identity.clientId;
        this.principalId = identity.principalId;
        this.tenantId = identity.tenantId;
        this.namespace = pulumi.output(sa?.namespace);
        this.serviceAccountName = pulumi.output(sa?.name);
        this.subject = pulumi.output(subject);

        this.registerOutputs({
            name: this.name,
            id: this.id,
            clientId: this.clientId,
            principalId: this.principalId,
            tenantId: this.tenantId,
            namespace: this.namespace,
            serviceAccountName: this.serviceAccountName,
            subject: this.subject,
        });
    }
}
