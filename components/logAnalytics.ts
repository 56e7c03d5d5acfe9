import * as pulumi from "@pulumi/pulumi";
import * as operationalinsights from "@pulumi/azure-native/operationalinsights";
import type { AzureScope } from "../lib/azureScope";

/** What a stack chooses about its logs (config reads and validates these). */
export interface LogAnalyticsSettings {
    /** Days logs are kept (30-730). */
    retentionDays: number;
}

export interface LogAnalyticsArgs extends LogAnalyticsSettings, AzureScope {
    /** Workspace name. */
    workspaceName: string;
}

/** The Log Analytics workspace Container Insights and the resources' diagnostic settings send to. */
export class LogAnalytics extends pulumi.ComponentResource {
    /** ARM id of the workspace: what diagnostic settings and the monitoring add-on take. */
    public readonly workspaceId: pulumi.Output<string>;

    constructor(name: string, args: LogAnalyticsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aks-pg-passwordless:azure:LogAnalytics", name, {}, opts);

        const workspace = new operationalinsights.Workspace(`${name}-workspace`, {
            resourceGroupName: args.resourceGroupName,
            location: args.location,
            workspaceName: args.workspaceName,
            sku: { name: "PerGB2018" },
            retentionInDays: args.retentionDays,
            // Agents authenticate with Entra ID, not workspace keys.
            features: { disableLocalAuth: true },
            tags: args.tags,
        }, { parent: this });

        this.workspaceId = workspace.id;
        this.registerOutputs({ workspaceId: this.workspaceId });
    }
}
