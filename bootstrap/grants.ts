// What each CI identity holds on its own stack's resource group, and why. index.ts places these; the README's
// "First deploy" table and tests/permissions.test.ts read them from here.
import { BUILTIN_ROLES as ROLES } from "../lib/azureRoles";
import { delegationCondition } from "../lib/programRoles";

/**
 * The custom role that lets the pipeline lock but never unlock (D4). Contributor's NotActions exclude
 * `Microsoft.Authorization/*​/Write` and `…/*​/Delete` (Microsoft's built-in role definition), so neither Contributor
 * nor RBAC Administrator can create the program's CanNotDelete lock on the prod server. No `locks/delete`: removing
 * a lock stays a person's deliberate act (README → "The prod lock").
 */
export const LOCK_WRITER_ACTIONS = ["Microsoft.Authorization/locks/read", "Microsoft.Authorization/locks/write"] as const;

/** A grant by role: a built-in GUID or `"lockWriter"`, bootstrap's custom role. */
export interface Grant {
    role: string | "lockWriter";
    /** ABAC condition narrowing the role, if any. */
    condition?: string;
    /** Why the pipeline needs it; stored as the assignment's description. */
    description: string;
}

/** `deploy-<stack>`: runs `pulumi up` of its stack, on that stack's group only. */
export const DEPLOY_GRANTS: readonly Grant[] = Object.freeze([
    { role: ROLES.contributor, description: "pulumi up creates, changes and deletes the stack's resources" },
    { role: "lockWriter", description: "pulumi up creates the CanNotDelete lock on the prod server; it cannot remove it" },
    {
        role: ROLES.rbacAdministrator, condition: delegationCondition(),
        description: "pulumi up assigns the program's listed roles (lib/programRoles.ts) to the stack's managed identities",
    },
    { role: ROLES.aksRbacClusterAdmin, description: "pulumi up creates the stack's Kubernetes objects; granted here, long before the cluster exists" },
    { role: ROLES.acrPush, description: "pulumi up pushes the app image to the stack's registry" },
]);

/** `preview-<stack>`: runs `pulumi preview` of pull requests — read-only, on that stack's group only. */
export const PREVIEW_GRANTS: readonly Grant[] = Object.freeze([
    { role: ROLES.reader, description: "pulumi preview reads Azure resources" },
    { role: ROLES.aksClusterUser, description: "pulumi preview lists the cluster's user kubeconfig" },
    { role: ROLES.aksRbacReader, description: "pulumi preview reads Kubernetes objects" },
]);
