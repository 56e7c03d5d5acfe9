import * as pulumi from "@pulumi/pulumi";

/** What every Azure component takes the same way: where its resources live and how they are tagged. */
export interface AzureScope {
    /** Resource group of the component's Azure resources. */
    resourceGroupName: pulumi.Input<string>;
    /** Azure region. */
    location: pulumi.Input<string>;
    /** Tags for every Azure resource the component creates. */
    tags?: Record<string, string>;
}

/** The kinds of Entra principal a role assignment or a PostgreSQL administrator can be. */
export type EntraPrincipalType = "User" | "Group" | "ServicePrincipal";
export const ENTRA_PRINCIPAL_TYPES: readonly EntraPrincipalType[] = ["User", "Group", "ServicePrincipal"];

/** An Entra principal named by config (never derived from whoever runs the program, D3). */
export interface EntraPrincipal {
    /** Entra object id. */
    objectId: string;
    /** User, Group or ServicePrincipal: passed to Azure so it need not look the principal up. */
    principalType: EntraPrincipalType;
}
