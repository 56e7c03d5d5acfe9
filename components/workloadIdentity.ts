import * as pulumi from "@pulumi/pulumi";
import * as authorization from "@pulumi/azure-native/authorization";
import * as managedidentity from "@pulumi/azure-native/managedidentity";
import { BUILTIN_ROLES, roleDefinitionId } from "../lib/azureRoles";
import { chainedFederatedCredentials, TOKEN_EXCHANGE_AUDIENCE } from "../lib/federatedCredentials";
import { extraSubjectProblems, extraSubjectTrust, OWN_CLUSTER_CREDENTIAL, type ExtraSubject } from "../lib/federatedSubjects";

export { TOKEN_EXCHANGE_AUDIENCE };
export type { ExtraSubject };

/** The subject a Kubernetes ServiceAccount token carries. */
export function serviceAccountSubject(namespace: string, serviceAccountName: string): string {
    return `system:serviceaccount:${namespace}:${serviceAccountName}`;
}

export interface ExtraRoleAssignment {
    /** ARM id of the one resource the identity may use (a Key Vault, a storage account, …). */
    scope: pulumi.Input<string>;
    /** Role definition GUID or full ARM id. */
    roleDefinitionId: string;
}

export interface WorkloadIdentityArgs {
    /** Resource group of the managed identity. */
    resourceGroupName: pulumi.Input<string>;
    /** Azure region of the managed identity. */
    location: pulumi.Input<string>;
    /** Managed identity name; the app's PostgreSQL role is named after it. */
    identityName: string;
    /** Kubernetes namespace the app runs in. This component is the single source of truth for it. */
    namespace: string;
    /** Kubernetes ServiceAccount the app runs as. This component is the single source of truth for it. */
    serviceAccountName: string;
    /** OIDC issuer URL of the cluster whose ServiceAccount tokens this identity trusts. */
    oidcIssuerUrl: pulumi.Input<string>;
    /**
     * Further subjects this identity trusts, each once: the same ServiceAccount from another cluster's issuer (a
     * blue/green move), GitHub Actions jobs (subject from the D3 template). Validated by extraSubjectProblems; default none.
     */
    extraSubjects?: ExtraSubject[];
    /**
     * ARM ids of the Key Vault secrets this identity reads (`<vault id>/secrets/<name>`): "Key Vault Secrets User" on
     * each secret, never on the vault, so an app reads its own secrets and no other's. Default none.
     */
    keyVaultSecretIds?: pulumi.Input<string>[];
    /** Subscription that owns the role definitions in `roleAssignments`. */
    subscriptionId: pulumi.Input<string>;
    /** Extra Azure roles for this identity, each on one resource; default none. */
    roleAssignments?: ExtraRoleAssignment[];
    /** Tags for the managed identity. */
    tags?: Record<string, string>;
}

/**
 * One app's Azure identity: a user-assigned managed identity plus the federated credential(s) that let exactly
 * `system:serviceaccount:<namespace>:<serviceAccount>` from the cluster's issuer act as it.
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
    /** Namespace the trusted ServiceAccount lives in. */
    public readonly namespace: pulumi.Output<string>;
    /** Name of the trusted ServiceAccount. */
    public readonly serviceAccountName: pulumi.Output<string>;
    /** The exact token subject every federated credential here trusts. */
    public readonly subject: pulumi.Output<string>;

    constructor(name: string, args: WorkloadIdentityArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aks-pg-passwordless:azure:WorkloadIdentity", name, {}, opts);

        const subject = serviceAccountSubject(args.namespace, args.serviceAccountName);
        const extraSubjects = args.extraSubjects ?? [];
        const problems = extraSubjectProblems(extraSubjects, subject);
        if (problems.length > 0) {
            throw new Error(`WorkloadIdentity ${name}: ${problems.join("; ")}`);
        }

        const identity = new managedidentity.UserAssignedIdentity(`${name}-identity`, {
            resourceGroupName: args.resourceGroupName,
            location: args.location,
            resourceName: args.identityName,
            tags: args.tags,
        }, { parent: this });

        // Names only need to be unique per identity; the subject carries namespace and ServiceAccount. One chain, so
        // the extra subjects are written one after another after the cluster's own.
        chainedFederatedCredentials(this, `${name}-federation`,
            { resourceGroupName: args.resourceGroupName, identityName: identity.name },
            [
                { name: OWN_CLUSTER_CREDENTIAL, issuer: args.oidcIssuerUrl, subject },
                ...extraSubjects.map(extra => ({ name: extra.name, ...extraSubjectTrust(extra, subject) })),
            ]);

        (args.keyVaultSecretIds ?? []).forEach((secretId, i) => {
            new authorization.RoleAssignment(`${name}-secret-${i}`, {
                principalId: identity.principalId,
                principalType: "ServicePrincipal",
                roleDefinitionId: roleDefinitionId(args.subscriptionId, BUILTIN_ROLES.keyVaultSecretsUser),
                scope: secretId,
                description: "The app reads this one Key Vault secret through the Secrets Store CSI driver",
            }, { parent: this });
        });

        (args.roleAssignments ?? []).forEach((assignment, i) => {
            new authorization.RoleAssignment(`${name}-role-${i}`, {
                principalId: identity.principalId,
                principalType: "ServicePrincipal",
                roleDefinitionId: roleDefinitionId(args.subscriptionId, assignment.roleDefinitionId),
                scope: assignment.scope,
            }, { parent: this });
        });

        this.name = identity.name;
        this.id = identity.id;
        this.clientId = identity.clientId;
        this.principalId = identity.principalId;
        this.tenantId = identity.tenantId;
        this.namespace = pulumi.output(args.namespace);
        this.serviceAccountName = pulumi.output(args.serviceAccountName);
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
