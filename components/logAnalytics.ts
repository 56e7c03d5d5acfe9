import * as pulumi from "@pulumi/pulumi";
import * as monitor from "@pulumi/azure-native/monitor";
import * as operationalinsights from "@pulumi/azure-native/operationalinsights";

export interface LogAnalyticsArgs {
    /** Resource group of the workspace. */
    resourceGroupName: pulumi.Input<string>;
    /** Azure region. */
    location: pulumi.Input<string>;
    /** Workspace name. */
    workspaceName: string;
    /** Days logs are kept (30-730). */
    retentionDays: number;
    /** Tags for the workspace. */
    tags?: Record<string, string>;
}

/** The Log Analytics workspace Container Insights and the resources' diagnostic settings send to. */
export class LogAnalytics extends pulumi.ComponentResource {
    /** ARM id of the workspace: what diagnostic settings and the monitoring add-on take. */
    public readonly workspaceId: pulumi.Output<string>;

    constructor(name: string, args: LogAnalyticsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aks-pg-passwordless:azure:LogAnalytics", name, args, opts);

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

/**
 * Sends a resource's logs of `categoryGroup` ("audit", "allLogs") and all its metrics to a workspace, as a child of
 * `parent`. One shape for every resource, so every diagnostic setting lands in resource-specific tables.
 */
export function diagnosticsToWorkspace(
    parent: pulumi.Resource,
    name: string,
    resourceUri: pulumi.Input<string>,
    workspaceId: pulumi.Input<string>,
    categoryGroup: "audit" | "allLogs",
): monitor.DiagnosticSetting {
    return new monitor.DiagnosticSetting(name, {
        name: "to-log-analytics",
        resourceUri,
        workspaceId,
        logAnalyticsDestinationType: "Dedicated",
        logs: [{ categoryGroup, enabled: true }],
        metrics: [{ category: "AllMetrics", enabled: true }],
    }, { parent });
}
