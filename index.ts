// Wiring only: config → components → stack outputs, top to bottom as the architecture reads. The program is async
// so that the check which needs Azure (who is running it) fails before a single resource is registered.
import * as pulumi from "@pulumi/pulumi";
import * as authorization from "@pulumi/azure-native/authorization";
import * as resources from "@pulumi/azure-native/resources";
import { loadConfig, PROJECT, resourceNames } from "./config";
import { AksCluster } from "./components/aksCluster";
import { AppImage } from "./components/appImage";
import { KeyVault } from "./components/keyVault";
import { AppNamespace } from "./components/appNamespace";
import { APP_PORT, AppWorkload } from "./components/appWorkload";
import { LogAnalytics } from "./components/logAnalytics";
import { Network, postgresPrivateDnsZoneName } from "./components/network";
import { PostgresRole } from "./components/postgresRole";
import { PostgresServer } from "./components/postgresServer";
import { WorkloadIdentity } from "./components/workloadIdentity";
import { adminMismatch } from "./lib/deployerCheck";
import { extraSubjectsForIdentity } from "./lib/federatedSubjects";
import { secretReadGrants } from "./lib/keyVaultNames";
import { psqlHint } from "./lib/psqlHint";

export = async () => {
    const config = loadConfig();
    const names = resourceNames(config.namePrefix, config.stack);
    // Only the tenant and subscription of the sign-in feed resources (D3); the runner is checked against the admin.
    const { tenantId, subscriptionId, ...runner } = await authorization.getClientConfig();
    const mismatch = pulumi.runtime.isDryRun() ? undefined : adminMismatch(config.postgres.administrator, runner);
    if (mismatch) {
        throw new pulumi.RunError(mismatch);
    }
    const tags = { project: PROJECT, stack: config.stack, "managed-by": "pulumi" };
    // Created here, or — where a CI identity may not create resource groups — made once by bootstrap/ and looked up.
    const resourceGroup = config.createResourceGroup
        ? new resources.ResourceGroup("rg", { resourceGroupName: names.resourceGroup, location: config.location, tags })
        : resources.getResourceGroupOutput({ resourceGroupName: names.resourceGroup });
    const scope = { resourceGroupName: resourceGroup.name, location: resourceGroup.location, tags };

    const logs = config.monitoring && new LogAnalytics("logs", { ...scope, ...config.monitoring, workspaceName: names.logAnalytics });
    // A private stack's VNet (or a platform team's subnets) and private DNS zones; a public one has none.
    const { mode, ...networkSettings } = config.network;
    const net = mode === "private"
        ? new Network("network", { ...scope, ...networkSettings, virtualNetworkName: names.virtualNetwork,
            postgresPrivateDnsZoneName: postgresPrivateDnsZoneName(names.postgresServerPrefix) })
        : undefined;
    const plan = config.network.addressPlan;
    const cluster = new AksCluster("aks", { ...scope, ...config.aks, clusterName: names.cluster, tenantId, subscriptionId,
        clusterAdmins: config.deployers, logAnalyticsWorkspaceId: logs?.workspaceId,
        network: net && { nodesSubnetId: net.aksNodesSubnetId, podCidr: plan.pods, serviceCidr: plan.services,
            dnsServiceIp: plan.dnsServiceIp, grantSubnetAccess: !config.network.existingSubnets } });
    const postgres = new PostgresServer("postgres", { ...scope, ...config.postgres, serverNamePrefix: names.postgresServerPrefix,
        tenantId, protect: config.protectData, logAnalyticsWorkspaceId: logs?.workspaceId,
        ...(net
            ? { privateNetwork: { delegatedSubnetId: net.postgresSubnetId, privateDnsZoneId: net.postgresPrivateDnsZoneId } }
            : { clusterEgressIp: cluster.egressIp }) });
    const vault = new KeyVault("keyvault", { ...scope, ...config.keyVault, vaultNamePrefix: names.keyVaultPrefix, tenantId,
        protect: config.protectData, privateNetwork: net && { privateEndpointsSubnetId: net.privateEndpointsSubnetId, privateDnsZoneId: net.keyVaultPrivateDnsZoneId } });
    // Built only when some app runs the image from app/ rather than one of its own.
    const builtImage = config.apps.some(app => app.image === undefined)
        ? new AppImage("app-image", { ...scope, ...config.registry, registryNamePrefix: names.registryPrefix, contextDir: "app",
            repository: "aks-pg-passwordless-app", tenantId, subscriptionId, pushers: config.deployers, kubeletObjectId: cluster.kubeletObjectId,
            privateNetwork: net && { privateEndpointsSubnetId: net.privateEndpointsSubnetId, privateDnsZoneId: net.registryPrivateDnsZoneId } })
        : undefined;
    // Each namespace once, however many apps share it; a private server is reachable on 5432 in its subnet only.
    const namespaces = new Map([...new Set(config.apps.map(app => app.namespace))].map(namespace => [namespace,
        new AppNamespace(`${namespace}-namespace`, { namespace, appPort: APP_PORT,
            formerOwner: config.apps.find(app => app.namespace === namespace)!.name,
            postgresCidrs: net ? [plan.postgres] : undefined }, { providers: [cluster.provider] })]));

    const apps = config.apps.map(app => {
        const extra = extraSubjectsForIdentity(app.extraSubjects);
        const identity = new WorkloadIdentity(`${app.name}-identity`, { ...scope, identityName: names.appIdentity(app.name),
            serviceAccount: { namespace: app.namespace, name: app.serviceAccount, issuers: [cluster.oidcIssuerUrl, ...extra.issuers] },
            github: app.migrations ? [] : extra.github, subscriptionId, roleAssignments: [...app.roleAssignments, ...secretReadGrants(vault, app.name, app.secrets)] });
        // readwrite/readonly: migrations run as an identity of their own (ServiceAccount `<serviceAccount>-migrate`), which
        // owns the schema; the app's pods hold no DDL.
        const migration = app.migrations ? new WorkloadIdentity(`${app.name}-migrate-identity`, { ...scope,
            identityName: `${names.appIdentity(app.name)}-migrate`, subscriptionId,
            serviceAccount: { namespace: app.namespace, name: `${app.serviceAccount}-migrate`, issuers: [cluster.oidcIssuerUrl, ...extra.issuers] },
            github: extra.github }) : undefined; // a CI migration job (extraSubjects kind github) signs in as the schema's owner
        const role = new PostgresRole(`${app.name}-postgres`, { host: postgres.fqdn, port: postgres.port, adminLogin: postgres.adminLogin,
            roleName: identity.name, principalId: identity.principalId, databaseName: app.database, protect: config.protectData,
            profile: app.profile, developers: app.developers,
            migrator: migration && { roleName: migration.name, principalId: migration.principalId } });
        const workload = new AppWorkload(`${app.name}-workload`, { appName: app.name, namespace: namespaces.get(app.namespace)!.name,
            serviceAccountName: app.serviceAccount, clientId: identity.clientId, tenantId: identity.tenantId,
            image: app.image ?? builtImage!.imageRef, replicas: app.replicas, highAvailability: config.workloadHighAvailability,
            pgHost: postgres.fqdn, pgPort: postgres.port, pgUser: role.roleName, pgDatabase: role.databaseName,
            secrets: app.secrets.length > 0 ? { keyVaultName: vault.name, secretNames: app.secrets, envFromSecrets: app.envFromSecrets } : undefined,
        }, { providers: [cluster.provider], dependsOn: app.secrets.length > 0 ? [identity] : [] }); // secrets mount once granted
        return [app.name, { clientId: identity.clientId, principalId: identity.principalId, role: role.roleName,
            database: role.databaseName, namespace: app.namespace, serviceAccount: app.serviceAccount, subject: identity.subject,
            migration: migration && { clientId: migration.clientId, role: role.migratorRoleName!, serviceAccount: `${app.serviceAccount}-migrate`, subject: migration.subject },
            checkJob: workload.checkJobName, psql: pulumi.all([postgres.fqdn, postgres.port, postgres.adminLogin, role.roleName])
                .apply(([host, port, admin, roleName]) => psqlHint(host, port, admin, roleName)) }] as const;
    });

    return {
        resourceGroupName: resourceGroup.name, clusterName: cluster.name, oidcIssuerUrl: cluster.oidcIssuerUrl,
        clusterEgressIp: cluster.egressIp, kubeconfig: cluster.kubeconfig, postgresFqdn: postgres.fqdn,
        postgresAdminLogin: postgres.adminLogin, keyVaultName: vault.name, appImage: builtImage?.imageRef, appOutputs: Object.fromEntries(apps),
    };
};
