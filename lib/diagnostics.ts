import * as pulumi from "@pulumi/pulumi";
import * as monitor from "@pulumi/azure-native/monitor";

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

/** The stream group Container Insights sends when it collects every table (its default cost preset). */
export const CONTAINER_INSIGHTS_STREAM = "Microsoft-ContainerInsights-Group-Default";

export interface ContainerInsightsArgs {
    /** Resource group of the rule (the cluster's). */
    resourceGroupName: pulumi.Input<string>;
    /** The cluster's region: the rule lives beside the cluster. */
    location: pulumi.Input<string>;
    /** Cluster name, for the rule's name. */
    clusterName: string;
    /** ARM id of the cluster the rule is associated with. */
    clusterId: pulumi.Input<string>;
    /** Workspace the Container Insights tables land in. */
    workspaceId: pulumi.Input<string>;
    /** Tags for the rule. */
    tags?: Record<string, string>;
}

/**
 * The data collection rule and its association that the monitoring add-on needs when it authenticates with managed
 * identity (`useAADAuth`): without them the agent runs but nothing reaches the workspace. Shaped as Microsoft's
 * onboarding templates and docs describe it: rule `MSCI-<region>-<cluster>`, the ContainerInsights extension sending
 * the default stream group to the workspace, association `ContainerInsightsExtension` on the cluster.
 * https://learn.microsoft.com/azure/azure-monitor/containers/container-insights-data-collection-dcr
 * https://learn.microsoft.com/azure/azure-monitor/containers/container-insights-transformations
 * (and Microsoft's onboarding templates in microsoft/Docker-Provider, scripts/onboarding/aks, which the Container
 * Insights team points to for managed-identity clusters in hashicorp/terraform-provider-azurerm#21305)
 */
export function containerInsightsDataCollection(parent: pulumi.Resource, name: string, args: ContainerInsightsArgs): {
    rule: monitor.DataCollectionRule;
    association: monitor.DataCollectionRuleAssociation;
} {
    const destination = "ciworkspace";
    const rule = new monitor.DataCollectionRule(`${name}-dcr`, {
        resourceGroupName: args.resourceGroupName,
        location: args.location,
        dataCollectionRuleName: pulumi.interpolate`MSCI-${args.location}-${args.clusterName}`,
        kind: "Linux",
        description: `Container Insights for AKS cluster ${args.clusterName}`,
        dataSources: {
            extensions: [{
                name: "ContainerInsightsExtension",
                extensionName: "ContainerInsights",
                streams: [CONTAINER_INSIGHTS_STREAM],
                extensionSettings: {
                    dataCollectionSettings: { interval: "1m", namespaceFilteringMode: "Off", enableContainerLogV2: true },
                },
            }],
        },
        destinations: { logAnalytics: [{ name: destination, workspaceResourceId: args.workspaceId }] },
        dataFlows: [{ streams: [CONTAINER_INSIGHTS_STREAM], destinations: [destination] }],
        tags: args.tags,
    }, { parent });
    const association = new monitor.DataCollectionRuleAssociation(`${name}-dcr-association`, {
        associationName: "ContainerInsightsExtension",
        resourceUri: args.clusterId,
        dataCollectionRuleId: rule.id,
        description: "Sends this cluster's Container Insights data through its data collection rule",
    }, { parent });
    return { rule, association };
}
