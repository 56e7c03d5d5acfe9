// Wiring only: config → components → stack outputs. Every resource except the resource group lives in a
// component under components/. The program is an async function so that the checks which need Azure (who is
// running it) fail before a single resource is registered.
import * as pulumi from "@pulumi/pulumi";
import * as authorization from "@pulumi/azure-native/authorization";
import * as resources from "@pulumi/azure-native/resources";
import { loadConfig, PROJECT, resourceNames } from "./config";
import { adminMismatch } from "./lib/deployerCheck";
import { AksCluster } from "./components/aksCluster";
import { AppImage } from "./components/appImage";
import { AppNamespace } from "./components/appNamespace";
import { APP_PORT, AppWorkload } from "./components/appWorkload";
import { LogAnalytics } from "./components/logAnalytics";
import { PostgresRole } from "./components/postgresRole";
import { PostgresServer } from "./components/postgresServer";
import { WorkloadIdentity } from "./components/workloadIdentity";
import { psqlHint } from "./lib/psqlHint";

export = async () => {
    const config = loadConfig();
    const names = resourceNames(config.namePrefix, config.stack);
    // Who runs the program matters only for these checks and for the credentials providers use (D3). Of the sign-in
    // only the tenant and the subscription feed resources, which are the stack's, not the person's: a preview by
    // CI's read-only identity and an `up` by a colleague plan the same resources.
    const runner = await authorization.getClientConfig();
    if (!pulumi.runtime.isDryRun()) {
        const problem = adminMismatch(config.postgres.admin, runner);
        if (problem) {
            throw new pulumi.RunError(problem);
        }
    }
    const tags = { project: PROJECT, stack: config.stack, "managed-by": "pulumi" };

    // The stack's resource group: created here, or — where a CI identity may not create resource groups —
    // created once by bootstrap/ and only looked up.
    const resourceGroup = config.createResourceGroup
        ? new resources.ResourceGroup("rg", { resourceGroupName: names.resourceGroup, location: config.location, tags })
        : resources.getResourceGroupOutput({ resourceGroupName: names.resourceGroup });

    const logs = config.monitoring.enabled
        ? new LogAnalytics("logs", {
            resourceGroupName: resourceGroup.name,
            location: resourceGroup.location,
            workspaceName: names.logAnalytics,
            retentionDays: config.monitoring.retentionDays,
            tags,
        })
        : undefined;

    const cluster = new AksCluster("aks", {
        resourceGroupName: resourceGroup.name,
        location: resourceGroup.location,
        clusterName: names.cluster,
        tier: config.aks.tier,
        kubernetesVersion: config.aks.kubernetesVersion,
        nodeCount: config.aks.nodeCount,
        nodeVmSize: config.aks.nodeVmSize,
        availabilityZones: [...config.aks.availabilityZones],
        apiServerAuthorizedCidrs: [...config.aks.apiServerAuthorizedCidrs],
        adminGroupObjectIds: [...config.aks.adminGroupObjectIds],
        tenantId: runner.tenantId,
        subscriptionId: runner.subscriptionId,
        clusterAdmins: [...config.deployers],
        kubeloginMode: config.aks.kubeloginMode,
        azurePolicy: config.aks.azurePolicy,
        logAnalyticsWorkspaceId: logs?.workspaceId,
        tags,
    });

    const pg = config.postgres;
    const postgres = new PostgresServer("postgres", {
        resourceGroupName: resourceGroup.name,
        location: resourceGroup.location,
        serverNamePrefix: names.postgresServerPrefix,
        version: pg.version,
        skuTier: pg.skuTier,
        skuName: pg.skuName,
        storageSizeGb: pg.storageSizeGb,
        backupRetentionDays: pg.backupRetentionDays,
        geoRedundantBackup: pg.geoRedundantBackup,
        highAvailability: pg.highAvailability,
        availabilityZone: pg.availabilityZone,
        standbyAvailabilityZone: pg.standbyAvailabilityZone,
        tenantId: runner.tenantId,
        administrator: {
            objectId: pg.admin.objectId,
            principalName: pg.admin.principalName,
            principalType: pg.admin.principalType,
        },
        clusterEgressIp: cluster.egressIp,
        allowedCidrs: [...pg.allowedCidrs],
        protect: config.protectData,
        maintenanceWindow: pg.maintenance,
        logAnalyticsWorkspaceId: logs?.workspaceId,
        tags,
    });

    // Built only when some app runs the image from app/ rather than one of its own.
    const builtImage = config.apps.some(app => app.image === undefined)
        ? new AppImage("app-image", {
            resourceGroupName: resourceGroup.name,
            location: resourceGroup.location,
            registryNamePrefix: names.registryPrefix,
            sku: config.acrSku,
            // Relative to the project directory, so state does not depend on where the repository is checked out.
            contextDir: "app",
            repository: "aks-pg-passwordless-app",
            tenantId: runner.tenantId,
            subscriptionId: runner.subscriptionId,
            pushers: [...config.deployers],
            kubeletObjectId: cluster.kubeletObjectId,
            tags,
        })
        : undefined;

    // Each namespace once, however many apps share it.
    const namespaces = new Map([...new Set(config.apps.map(app => app.namespace))].map(namespace => [namespace,
        new AppNamespace(`${namespace}-namespace`, {
            namespace,
            appPort: APP_PORT,
            formerOwner: config.apps.find(app => app.namespace === namespace)!.name,
        }, { providers: [cluster.provider] })]));

    const apps = config.apps.map(app => {
        const identity = new WorkloadIdentity(`${app.name}-identity`, {
            resourceGroupName: resourceGroup.name,
            location: resourceGroup.location,
            identityName: names.appIdentity(app.name),
            namespace: app.namespace,
            serviceAccountName: app.serviceAccount,
            oidcIssuerUrl: cluster.oidcIssuerUrl,
            subscriptionId: runner.subscriptionId,
            roleAssignments: app.roleAssignments.map(a => ({ ...a })),
            tags,
        });

        const role = new PostgresRole(`${app.name}-postgres`, {
            host: postgres.fqdn,
            port: postgres.port,
            adminLogin: postgres.adminLogin,
            roleName: identity.name,
            principalId: identity.principalId,
            databaseName: app.database,
            protect: config.protectData,
        });

        const workload = new AppWorkload(`${app.name}-workload`, {
            appName: app.name,
            namespace: namespaces.get(app.namespace)!.name,
            serviceAccountName: identity.serviceAccountName,
            clientId: identity.clientId,
            tenantId: identity.tenantId,
            image: app.image ?? builtImage!.imageRef,
            replicas: app.replicas,
            highAvailability: config.workloadHighAvailability,
            pgHost: postgres.fqdn,
            pgPort: postgres.port,
            pgUser: role.roleName,
            pgDatabase: role.databaseName,
        }, { providers: [cluster.provider] });

        return [app.name, {
            clientId: identity.clientId,
            principalId: identity.principalId,
            role: role.roleName,
            database: role.databaseName,
            namespace: identity.namespace,
            serviceAccount: identity.serviceAccountName,
            checkJob: workload.checkJobName,
            psql: pulumi.all([postgres.fqdn, postgres.port, postgres.adminLogin, role.roleName]).apply(([host, port, admin, roleName]) => psqlHint(host, port, admin, roleName)),
        }] as const;
    });

    return {
        resourceGroupName: resourceGroup.name,
        clusterName: cluster.name,
        oidcIssuerUrl: cluster.oidcIssuerUrl,
        clusterEgressIp: cluster.egressIp,
        kubeconfig: cluster.kubeconfig,
        postgresFqdn: postgres.fqdn,
        postgresAdminLogin: postgres.adminLogin,
        appImage: builtImage?.imageRef,
        appOutputs: Object.fromEntries(apps),
    };
};
