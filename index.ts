// Wiring only: config → components → stack outputs, top to bottom as the architecture reads (async: see the runner check).
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
import { PostgresProvisioner, PROVISIONER_NAMESPACE, PROVISIONER_SERVICE_ACCOUNT } from "./components/postgresProvisioner";
import { PostgresRole } from "./components/postgresRole";
import { PostgresServer } from "./components/postgresServer";
import { WorkloadIdentity } from "./components/workloadIdentity";
import { adminMismatch } from "./lib/deployerCheck";
import { appRoleStatements } from "./lib/roleStatements";
import { extraSubjectsForIdentity } from "./lib/federatedSubjects";
export = async () => {
    const config = loadConfig();
    const names = resourceNames(config.namePrefix, config.stack);
    const { tenantId, subscriptionId, ...runner } = await authorization.getClientConfig(); // only these feed resources (D3)
    const asJob = config.roleStep === "job";
    const mismatch = pulumi.runtime.isDryRun() || asJob ? undefined : adminMismatch(config.postgres.administrator, runner);
    if (mismatch) { throw new pulumi.RunError(mismatch); } // before a single resource is registered
    const tags = { project: PROJECT, stack: config.stack, "managed-by": "pulumi" };
    const resourceGroup = config.createResourceGroup // else made once by bootstrap/, where CI may not create groups
        ? new resources.ResourceGroup("rg", { resourceGroupName: names.resourceGroup, location: config.location, tags })
        : resources.getResourceGroupOutput({ resourceGroupName: names.resourceGroup });
    const scope = { resourceGroupName: resourceGroup.name, location: resourceGroup.location, tags };
    const logs = config.monitoring && new LogAnalytics("logs", { ...scope, ...config.monitoring, workspaceName: names.logAnalytics });
    const net = config.network.mode === "private" ? new Network("network", { ...scope, ...config.network, virtualNetworkName: names.virtualNetwork,
        postgresPrivateDnsZoneName: postgresPrivateDnsZoneName(names.postgresServerPrefix) }) : undefined; // VNet, subnets, DNS zones
    const cluster = new AksCluster("aks", { ...scope, ...config.aks, clusterName: names.cluster, tenantId, subscriptionId,
        clusterAdmins: config.deployers, logAnalyticsWorkspaceId: logs?.workspaceId, network: net?.forCluster });
    // D1: where the runner cannot reach the server, a Job in the cluster creates the roles as this identity, an admin.
    const provisioning = asJob ? new WorkloadIdentity("pg-provisioner-identity", { ...scope, identityName: names.provisionerIdentity, subscriptionId,
        serviceAccount: { namespace: PROVISIONER_NAMESPACE, name: PROVISIONER_SERVICE_ACCOUNT, issuers: [cluster.oidcIssuerUrl] } }) : undefined;
    const postgres = new PostgresServer("postgres", { ...scope, ...config.postgres, serverNamePrefix: names.postgresServerPrefix, tenantId,
        protect: config.protectData, logAnalyticsWorkspaceId: logs?.workspaceId, additionalAdministrators: provisioning && [{ objectId: provisioning.principalId, principalName: provisioning.name }],
        ...(net ? { privateNetwork: net.forPostgres } : { clusterEgressIp: cluster.egressIp }) });
    const vault = new KeyVault("keyvault", { ...scope, ...config.keyVault, vaultNamePrefix: names.keyVaultPrefix, tenantId, protect: config.protectData, privateNetwork: net?.forKeyVault });
    const builtImage = asJob || config.apps.some(app => app.image === undefined) ? new AppImage("app-image", { ...scope, ...config.registry, // app/'s
        registryNamePrefix: names.registryPrefix, contextDir: "app", repository: "aks-pg-passwordless-app", tenantId, subscriptionId, pushers: config.deployers,
        kubeletObjectId: cluster.kubeletObjectId, privateNetwork: net?.forRegistry }) : undefined;
    const namespaces = AppNamespace.forApps(config.apps, { appPort: APP_PORT, postgresCidrs: net && [net.postgresSubnetCidr] }, { providers: [cluster.provider] });
    const apps = config.apps.map(app => {
        const extra = extraSubjectsForIdentity(app.extraSubjects); // another cluster's issuer; GitHub jobs (to the schema's owner)
        const identity = new WorkloadIdentity(`${app.name}-identity`, { ...scope, identityName: names.appIdentity(app.name), subscriptionId,
            serviceAccount: { namespace: app.namespace, name: app.serviceAccount, issuers: [cluster.oidcIssuerUrl, ...extra.issuers] },
            github: app.migrations ? [] : extra.github, roleAssignments: [...app.roleAssignments, ...vault.readGrants(app.name, app.secrets)] });
        const migration = app.migrations ? new WorkloadIdentity(`${app.name}-migrate-identity`, { // readwrite/readonly: owns the schema
            ...scope, identityName: `${names.appIdentity(app.name)}-migrate`,
            subscriptionId, serviceAccount: { namespace: app.namespace, name: `${app.serviceAccount}-migrate`, issuers: [cluster.oidcIssuerUrl, ...extra.issuers] },
            github: extra.github }) : undefined; // readwrite/readonly: migrations run as an identity of their own that owns the schema
        const db = { roleName: identity.name, principalId: identity.principalId, databaseName: app.database, profile: app.profile, developers: app.developers,
            migrator: migration && { roleName: migration.name, principalId: migration.principalId } };
        const role = asJob ? undefined : new PostgresRole(`${app.name}-postgres`, { ...db, host: postgres.fqdn, port: postgres.port,
            adminLogin: postgres.adminLogin, protect: config.protectData });
        return { app, identity, migration, role, statements: asJob ? appRoleStatements(db) : undefined };
    });
    const provisioner = provisioning && new PostgresProvisioner("pg-roles", { statements: pulumi.all(apps.map(a => a.statements!)).apply(s => s.flat()),
        image: builtImage!.imageRef, clientId: provisioning.clientId, tenantId: provisioning.tenantId, pgHost: postgres.fqdn, adminRole: provisioning.name,
        databaseCidr: net?.postgresSubnetCidr, runAfter: [...postgres.clusterAccess, provisioning] }, { providers: [cluster.provider] });
    const appOutputs = apps.map(({ app, identity, migration, role }) => {
        const workload = new AppWorkload(`${app.name}-workload`, { appName: app.name, namespace: namespaces.get(app.namespace)!.name,
            serviceAccountName: app.serviceAccount, clientId: identity.clientId, tenantId: identity.tenantId, image: app.image ?? builtImage!.imageRef,
            replicas: app.replicas, highAvailability: config.workloadHighAvailability, pgHost: postgres.fqdn, pgPort: postgres.port,
            pgUser: role?.roleName ?? identity.name, pgDatabase: role?.databaseName ?? app.database, // secrets mount once granted:
            secrets: app.secrets.length > 0 ? { keyVaultName: vault.name, secretNames: app.secrets, envFromSecrets: app.envFromSecrets } : undefined,
        }, { providers: [cluster.provider], dependsOn: [...(provisioner ? [provisioner] : []), ...(app.secrets.length > 0 ? [identity] : [])] });
        return [app.name, { clientId: identity.clientId, principalId: identity.principalId, role: role?.roleName ?? identity.name, database: app.database,
            namespace: app.namespace, serviceAccount: app.serviceAccount, subject: identity.subject, checkJob: workload.checkJobName, psql: postgres.psqlHint(identity.name),
            migration: migration && { clientId: migration.clientId, role: role?.migratorRoleName ?? migration.name, serviceAccount: `${app.serviceAccount}-migrate`, subject: migration.subject } }] as const;
    });
    return { resourceGroupName: resourceGroup.name, clusterName: cluster.name, oidcIssuerUrl: cluster.oidcIssuerUrl, clusterEgressIp: cluster.egressIp,
        kubeconfig: cluster.kubeconfig, postgresFqdn: postgres.fqdn, postgresAdminLogin: postgres.adminLogin, keyVaultName: vault.name, appImage: builtImage?.imageRef,
        provisioningJob: provisioner?.jobName, provisioningSubject: provisioner?.federatedSubject, appOutputs: Object.fromEntries(appOutputs) };
};
