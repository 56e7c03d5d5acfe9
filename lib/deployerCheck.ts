// Who may run `pulumi up` for a stack: the PostgreSQL provider logs in as the configured Entra administrator
// with the runner's own token, so a runner that is not that administrator fails with 28P01 in the middle of a
// deploy. Checked at program start instead, before any resource is registered.
import type { EntraPrincipal } from "./azureScope";

export interface Runner {
    /** Object id of the identity the azure-native provider signed in as. */
    objectId: string;
    /** Its client (application) id, for the message. */
    clientId: string;
}

/**
 * Why `runner` cannot log in as `admin`, or undefined when it can (or when that cannot be known offline).
 * A group administrator admits its members; membership is only visible through Microsoft Graph, which this
 * program does not call, so for groups nothing is checked here (a non-member still fails with 28P01).
 */
export function adminMismatch(admin: EntraPrincipal & { principalName: string }, runner: Runner): string | undefined {
    if (admin.principalType === "Group") {
        return undefined;
    }
    if (runner.objectId.toLowerCase() === admin.objectId.toLowerCase()) {
        return undefined;
    }
    return `pulumi up runs as object id ${runner.objectId} (client id ${runner.clientId}), but the PostgreSQL Entra `
        + `administrator is ${admin.principalType} "${admin.principalName}" (object id ${admin.objectId}). The program creates the `
        + "apps' PostgreSQL roles by logging in as that administrator with the runner's own token, which PostgreSQL would refuse "
        + "(28P01). Run `up` as that administrator, or make pgAdminObjectId/pgAdminPrincipalName/pgAdminPrincipalType an Entra "
        + "group the runner belongs to (recommended for shared stacks).";
}
