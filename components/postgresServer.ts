import * as pulumi from "@pulumi/pulumi";
import * as authorization from "@pulumi/azure-native/authorization";
import * as dbforpostgresql from "@pulumi/azure-native/dbforpostgresql";
import { ArmPatch } from "../lib/armPatch";
import { globalNameSuffix } from "../lib/globalNameSuffix";
import { diagnosticsToWorkspace } from "../lib/diagnostics";
import type { AzureScope, EntraPrincipalType } from "../lib/azureScope";
import { parseCidr } from "../lib/cidr";
import { psqlHint } from "../lib/psqlHint";

/** PostgreSQL's port on Azure Database for PostgreSQL Flexible Server. */
export const POSTGRES_PORT = 5432;

/** The Azure REST API version azure-native uses for flexible servers; the maintenance-window PATCH uses the same. */
export const SERVER_API_VERSION = "2025-08-01";

/**
 * The standby zone to request: none without HA; the primary's own zone for SameZone (Azure places a SameZone standby
 * beside its primary: a different zone is a contradiction, refused here rather than by Azure mid-deploy); the
 * configured one for ZoneRedundant.
 */
export function standbyZoneFor(mode: PgHighAvailability, primaryZone?: string, standbyZone?: string): string | undefined {
    switch (mode) {
        case "Disabled":
            return undefined;
        case "SameZone":
            if (standbyZone !== undefined && standbyZone !== primaryZone) {
                throw new Error(`SameZone high availability puts the standby in the primary's zone (${primaryZone ?? "Azure's choice"}), ` +
                    `but standby zone ${standbyZone} was asked for`);
            }
            return primaryZone;
        default:
            return standbyZone;
    }
}

/** Server parameters set on every server, the very ones the policy pack enforces (one rule, one home). */
export { SERVER_PARAMETERS } from "../policy/rules";
import { SERVER_PARAMETERS } from "../policy/rules";

/** Compute tier of the server. */
export type PgSkuTier = "Burstable" | "GeneralPurpose" | "MemoryOptimized";
export const PG_SKU_TIERS: readonly PgSkuTier[] = ["Burstable", "GeneralPurpose", "MemoryOptimized"];
/** High-availability mode of the server. */
export type PgHighAvailability = "Disabled" | "ZoneRedundant" | "SameZone";
export const PG_HA_MODES: readonly PgHighAvailability[] = ["Disabled", "ZoneRedundant", "SameZone"];

export interface EntraAdministrator {
    /** Object id of the Entra principal. */
    objectId: string;
    /** Its PostgreSQL login: UPN for a user, display name for a group or service principal. */
    principalName: string;
    /** User, Group or ServicePrincipal. */
    principalType: EntraPrincipalType;
}

/** Where a privately accessed server lives (VNet integration). */
export interface PostgresPrivateNetwork {
    /** ARM id of a subnet delegated to Microsoft.DBforPostgreSQL/flexibleServers. */
    delegatedSubnetId: pulumi.Input<string>;
    /** ARM id of a private DNS zone ending in `.postgres.database.azure.com`, linked to the clients' VNet. */
    privateDnsZoneId: pulumi.Input<string>;
}

/**
 * Problems with the access arguments: a private server takes no firewall input (it has no public endpoint to
 * filter), a public one needs the cluster's egress IP.
 */
export function accessProblems(args: Pick<PostgresServerArgs, "privateNetwork" | "clusterEgressIp" | "allowedCidrs">): string[] {
    if (args.privateNetwork) {
        return [
            ...(args.allowedCidrs.length > 0 ? [`allowedCidrs (${args.allowedCidrs.join(", ")}) are firewall rules, which a private server has none of`] : []),
            ...(args.clusterEgressIp !== undefined ? ["clusterEgressIp is for a firewall rule, which a private server has none of"] : []),
        ];
    }
    return args.clusterEgressIp === undefined ? ["a public server needs clusterEgressIp: workloads connect from it"] : [];
}

/** What a stack chooses about its server (config/postgres.ts reads and validates these). */
export interface PostgresServerSettings {
    /** PostgreSQL major version (16 or newer). */
    version: string;
    /** Compute tier. */
    skuTier: PgSkuTier;
    /** Compute size, e.g. Standard_B1ms or Standard_D2ds_v5. */
    skuName: string;
    /** Storage in GiB at creation; afterwards storage autogrow owns the size (changes here are ignored). */
    storageSizeGb: number;
    /** Days of point-in-time restore. */
    backupRetentionDays: number;
    /** Copy backups to the paired region (can only be chosen at creation). */
    geoRedundantBackup: boolean;
    /** High-availability mode. */
    highAvailability: PgHighAvailability;
    /** Preferred zone of the primary; undefined = Azure picks. */
    availabilityZone?: string;
    /** Preferred zone of the zone-redundant standby; undefined = Azure picks. A SameZone standby always gets the primary's zone. */
    standbyAvailabilityZone?: string;
    /** The Microsoft Entra administrator: the only principal that manages roles. */
    administrator: EntraAdministrator;

    /** Public access only: further IPv4 CIDRs allowed to connect (the deployer, which creates the app roles). */
    allowedCidrs: readonly string[];
    /** Weekly maintenance window (UTC): day 0 = Sunday, start hour. */
    maintenanceWindow: { dayOfWeek: number; startHour: number };
}

export interface PostgresServerArgs extends PostgresServerSettings, AzureScope {
    /** Server name prefix; a random suffix makes the DNS name (<name>.postgres.database.azure.com) globally unique. */
    serverNamePrefix: string;
    /** Entra tenant whose tokens the server accepts. */
    tenantId: pulumi.Input<string>;
    /**
     * Private access (VNet integration): the server gets an address in this delegated subnet and a name in this private
     * DNS zone, and no public endpoint at all. undefined = public access behind firewall rules. Fixed at creation.
     */
    privateNetwork?: PostgresPrivateNetwork;
    /** Public access only: the cluster's egress IP, the one address workloads connect from. */
    clusterEgressIp?: pulumi.Input<string>;
    /** Protect the server from deletion and replacement, and put an Azure CanNotDelete lock on it. */
    protect: boolean;
    /** Log Analytics workspace for the server's logs and metrics; undefined = none. */
    logAnalyticsWorkspaceId?: pulumi.Input<string>;
    /**
     * Further Entra administrators the program itself creates: the in-cluster provisioning identity (D1), a managed
     * identity whose ids are outputs. Written after the configured administrator, one at a time (one server's writes).
     */
    additionalAdministrators?: readonly { objectId: pulumi.Input<string>; principalName: pulumi.Input<string> }[];
}

/**
 * Azure Database for PostgreSQL Flexible Server with Microsoft Entra authentication only: no administrator
 * login, no password anywhere. Either private (VNet integration: an address in a delegated subnet, a name in a linked
 * private DNS zone, no public endpoint and no firewall rules) or public, limited to the cluster's egress IP and listed CIDRs.
 */
export class PostgresServer extends pulumi.ComponentResource {
    /** Server name. */
    public readonly name: pulumi.Output<string>;
    /** ARM id of the server. */
    public readonly id: pulumi.Output<string>;
    /** Fully qualified domain name clients connect to. */
    public readonly fqdn: pulumi.Output<string>;
    /** Port clients connect to. */
    public readonly port: pulumi.Output<number>;
    /** Entra tenant whose tokens the server accepts. */
    public readonly tenantId: pulumi.Output<string>;
    /**
     * The Entra administrator's login. Resolves once the administrator and the firewall rules for `allowedCidrs` (the
     * deployer's) exist, so the deployer connecting with it is let in — and not later: the role step reads it, and
     * must not wait for the server parameters (bench/dependencies.ts).
     */
    public readonly adminLogin: pulumi.Output<string>;
    /**
     * What a client in the cluster needs before it logs in as an administrator (the in-cluster provisioning Job): the
     * administrators and, for a public server, the cluster's firewall rule — not the parameters, the lock or the
     * diagnostics (a dependency on the whole component would wait for all of those, and so for Log Analytics).
     */
    public readonly clusterAccess: pulumi.Resource[];

    /** The `psql` command an administrator runs to open `role`'s session checks (lib/psqlHint.ts: quoted, verify-full). */
    psqlHint(role: pulumi.Input<string>): pulumi.Output<string> {
        return pulumi.all([this.fqdn, this.port, this.adminLogin, role]).apply(([host, port, admin, name]) => psqlHint(host, port, admin, name));
    }

    constructor(name: string, args: PostgresServerArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aks-pg-passwordless:azure:PostgresServer", name, {}, opts);

        const problems = accessProblems(args);
        if (problems.length > 0) {
            throw new Error(`PostgresServer ${name}: ${problems.join("; ")}`);
        }

        const suffix = globalNameSuffix(this, name);

        const server = new dbforpostgresql.Server(`${name}-server`, {
            resourceGroupName: args.resourceGroupName,
            location: args.location,
            serverName: pulumi.interpolate`${args.serverNamePrefix}-${suffix}`,
            version: args.version,
            sku: { name: args.skuName, tier: args.skuTier },
            storage: { storageSizeGB: args.storageSizeGb, autoGrow: "Enabled" },
            backup: {
                backupRetentionDays: args.backupRetentionDays,
                geoRedundantBackup: args.geoRedundantBackup ? "Enabled" : "Disabled",
            },
            highAvailability: {
                mode: args.highAvailability,
                standbyAvailabilityZone: standbyZoneFor(args.highAvailability, args.availabilityZone, args.standbyAvailabilityZone),
            },
            availabilityZone: args.availabilityZone,
            authConfig: {
                activeDirectoryAuth: "Enabled",
                passwordAuth: "Disabled",
                tenantId: args.tenantId,
            },
            // Private access puts the server in the delegated subnet with its name in the private zone; both ids are
            // taken at creation only, and Azure fixes the network mode then (README, "Moving a stack from public to
            // private"). Public access is then Disabled, which is what Terraform's azurerm provider derives from VNet
            // injection too (hashicorp/terraform-provider-azurerm#24708).
            network: args.privateNetwork
                ? {
                    publicNetworkAccess: "Disabled",
                    delegatedSubnetResourceId: args.privateNetwork.delegatedSubnetId,
                    privateDnsZoneArmResourceId: args.privateNetwork.privateDnsZoneId,
                }
                : { publicNetworkAccess: "Enabled" },
            // No maintenanceWindow here: the REST API marks it x-ms-mutability [read, update] (not accepted on create);
            // it is applied right after creation by the PATCH below.
            createMode: "Default",
            tags: args.tags,
        }, {
            parent: this,
            protect: args.protect,
            ignoreChanges: [
                // After an HA failover the primary and standby swap zones; that is Azure working, not drift.
                "availabilityZone", "highAvailability.standbyAvailabilityZone",
                // With autogrow on, Azure grows the disk past the configured size (doubling it on Premium SSD), and
                // storage can't be scaled down: a later PUT with the original size would be refused. The configured
                // size only applies at creation.
                // https://learn.microsoft.com/azure/postgresql/scale/how-to-auto-grow-storage
                // https://learn.microsoft.com/azure/postgresql/flexible-server/how-to-scale-compute-storage-portal
                "storage.storageSizeGB",
            ],
        });

        // The custom maintenance window, applied as the follow-up update Azure requires (as az CLI and Terraform do),
        // with a token from the azure-native provider's own credentials. Re-applied only when the window changes.
        const maintenance = new ArmPatch(`${name}-maintenance-window`, {
            resourceId: server.id,
            resourceType: "Microsoft.DBforPostgreSQL/flexibleServers",
            apiVersion: SERVER_API_VERSION,
            body: {
                properties: {
                    maintenanceWindow: {
                        customWindow: "Enabled",
                        dayOfWeek: args.maintenanceWindow.dayOfWeek,
                        startHour: args.maintenanceWindow.startHour,
                        startMinute: 0,
                    },
                },
            },
            // Minted once the server exists, so a long create does not outlive it (in CI, the azure-native provider
            // fetches a fresh GitHub OIDC token for it; see lib/kubeconfig.ts, tokenKubeconfig).
            armToken: pulumi.secret(server.id.apply(async () => (await authorization.getClientToken({}, { parent: this })).token)),
        }, { parent: this });

        // Writes to one server's children must not overlap: Azure answers ServerBusy. Each waits for the last.
        let last: pulumi.Resource = maintenance;
        const after = (): pulumi.CustomResourceOptions => ({ parent: this, dependsOn: [last] });

        // The GA resource (API version 2025-08-01), whose request tests/azure-api checks against Azure's spec; the
        // older `Administrator` token used a preview version (2025-01-01-preview). Stacks deployed with that token
        // hold this admin under it: the alias makes the change of token an in-place update of the same admin.
        // Without it Pulumi sees one resource to create and another to delete, both the same ARM id
        // (…/administrators/<objectId>): it PUTs the new one, then DELETEs the old one. On prod the delete fails (the
        // CanNotDelete lock on the server covers its children) and `up` stops; elsewhere it succeeds and removes the
        // very admin just written, leaving the server without an Entra admin while the state says it has one.
        // azure-native 3.28.0 lists the same alias itself; naming it here keeps that when the SDK's list changes.
        const admin = new dbforpostgresql.AdministratorsMicrosoftEntra(`${name}-entra-admin`, {
            resourceGroupName: args.resourceGroupName,
            serverName: server.name,
            objectId: args.administrator.objectId,
            principalName: args.administrator.principalName,
            principalType: args.administrator.principalType,
            tenantId: args.tenantId,
        }, { ...after(), aliases: [{ type: "azure-native:dbforpostgresql:Administrator" }] });
        last = admin;
        const clusterAccess: pulumi.Resource[] = [admin];
        (args.additionalAdministrators ?? []).forEach((extra, i) => {
            // A re-created identity has a new object id, which is part of the admin's ARM id: the old entry goes first
            // (two entries cannot map the one role name). On a locked server that deletion follows README "The prod lock".
            last = new dbforpostgresql.AdministratorsMicrosoftEntra(`${name}-entra-admin-${i + 2}`, {
                resourceGroupName: args.resourceGroupName,
                serverName: server.name,
                objectId: extra.objectId,
                principalName: extra.principalName,
                principalType: "ServicePrincipal",
                tenantId: args.tenantId,
            }, { ...after(), deleteBeforeReplace: true });
            clusterAccess.push(last);
        });

        // The firewall rules come next, the cluster's before the deployer's, so that the role step (which reads
        // adminLogin below) starts right after the admin and the deployer's rules and not behind the server parameters
        // — and, the writes being serialised, whatever the role step's outputs reach (the app's Deployment and check
        // Job) also runs after the cluster's egress IP may connect.
        const deployerRules: dbforpostgresql.FirewallRule[] = [];
        const addRule = (ruleName: string, start: pulumi.Input<string>, end: pulumi.Input<string>) => {
            const rule = new dbforpostgresql.FirewallRule(`${name}-fw-${ruleName}`, {
                resourceGroupName: args.resourceGroupName,
                serverName: server.name,
                firewallRuleName: ruleName,
                startIpAddress: start,
                endIpAddress: end,
            }, after());
            last = rule;
            return rule;
        };
        if (!args.privateNetwork) {
            clusterAccess.push(addRule("aks-egress", args.clusterEgressIp!, args.clusterEgressIp!));
        }
        // Each rule is named after its CIDR, not its position: removing one CIDR deletes exactly that rule and rewrites
        // no other. On prod the server's CanNotDelete lock also blocks deleting a firewall rule (locks are inherited by
        // child resources), so the removal follows README → "The prod lock"; adding a CIDR never deletes anything.
        const seen = new Set<string>();
        args.allowedCidrs.forEach((cidr, i) => {
            const range = parseCidr(cidr);
            if (!range) {
                throw new Error(`PostgresServer ${name}: allowedCidrs[${i}] = ${cidr} is not an IPv4 CIDR`);
            }
            const ruleName = `allowed-${cidr.replace(/[./]/g, "-")}`; // 198.51.100.0/28 → allowed-198-51-100-0-28
            if (seen.has(ruleName)) {
                throw new Error(`PostgresServer ${name}: allowedCidrs[${i}] = ${cidr} is listed twice`);
            }
            seen.add(ruleName);
            deployerRules.push(addRule(ruleName, range.start, range.end));
        });

        // The server parameters last: the role step needs none of them. Its client verifies the server's certificate
        // and host name (sslmode verify-full, TLS 1.2 or newer) whatever require_secure_transport and
        // ssl_min_protocol_version say, and logging and connection throttling change nothing it does. None of the five
        // is static in PostgreSQL (ssl_min_protocol_version reloads, log_(dis)connections take effect per session) nor,
        // for Azure's own two, listed as needing a restart: a dynamic parameter applies to new connections without one
        // (learn.microsoft.com/azure/postgresql/flexible-server/concepts-server-parameters), so the role step's
        // connection stays up while they are written.
        for (const [parameter, value] of Object.entries(SERVER_PARAMETERS)) {
            last = new dbforpostgresql.Configuration(`${name}-param-${parameter.replace(/[._]/g, "-")}`, {
                resourceGroupName: args.resourceGroupName,
                serverName: server.name,
                configurationName: parameter,
                value,
                source: "user-override",
            }, {
                ...after(),
                // Azure cannot delete a server parameter; deleting the resource only forgets it.
                retainOnDelete: true,
            });
        }

        if (args.protect) {
            // `protect` guards against Pulumi; the lock guards against everyone else (portal, CLI, scripts).
            new authorization.ManagementLockByScope(`${name}-lock`, {
                scope: server.id,
                lockName: "do-not-delete",
                level: "CanNotDelete",
                notes: "Production data: remove this lock deliberately before deleting the server.",
            }, { parent: this });
        }
        if (args.logAnalyticsWorkspaceId) {
            diagnosticsToWorkspace(this, `${name}-diagnostics`, server.id, args.logAnalyticsWorkspaceId, "allLogs");
        }

        this.name = server.name;
        this.id = server.id;
        this.fqdn = server.fullyQualifiedDomainName;
        this.port = pulumi.output(POSTGRES_PORT);
        this.tenantId = pulumi.output(args.tenantId);
        this.clusterAccess = clusterAccess;
        this.adminLogin = pulumi
            .all([admin.principalName, ...deployerRules.map(rule => rule.id)])
            .apply(([login]) => login ?? args.administrator.principalName);

        this.registerOutputs({
            name: this.name,
            id: this.id,
            fqdn: this.fqdn,
            port: this.port,
            tenantId: this.tenantId,
            adminLogin: this.adminLogin,
        });
    }
}
