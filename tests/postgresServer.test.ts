import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";
import { accessProblems, PostgresServer, PostgresServerArgs, SERVER_API_VERSION, SERVER_PARAMETERS, standbyZoneFor } from "../components/postgresServer";
import { DEPLOYER_ARM_TOKEN, DEPLOYER_OBJECT_ID, EGRESS_IP, promiseOf, TENANT_ID } from "./mocks";
import { underMocks } from "./harness";

const SERVER = "azure-native:dbforpostgresql:Server";
const ADMIN = "azure-native:dbforpostgresql:AdministratorsMicrosoftEntra";
/** The token of the admin in stacks deployed before the move to the GA resource. */
const OLD_ADMIN = "azure-native:dbforpostgresql:Administrator";
const PARAM = "azure-native:dbforpostgresql:Configuration";
const RULE = "azure-native:dbforpostgresql:FirewallRule";
const PATCH = "pulumi-nodejs:dynamic:Resource";

const baseArgs: PostgresServerArgs = {
    resourceGroupName: "rg-test",
    location: "westeurope",
    serverNamePrefix: "psql-test",
    version: "17",
    skuTier: "Burstable",
    skuName: "Standard_B1ms",
    storageSizeGb: 32,
    backupRetentionDays: 7,
    geoRedundantBackup: false,
    highAvailability: "Disabled",
    tenantId: TENANT_ID,
    administrator: { objectId: DEPLOYER_OBJECT_ID, principalName: "ada@contoso.onmicrosoft.com", principalType: "User" },
    clusterEgressIp: EGRESS_IP,
    allowedCidrs: ["198.51.100.0/28"],
    protect: false,
    maintenanceWindow: { dayOfWeek: 0, startHour: 2 },
};

function build(overrides: Partial<PostgresServerArgs> = {}, delays?: (type: string, name: string) => number) {
    return underMocks("test", () => new PostgresServer("pg", { ...baseArgs, ...overrides }), { delays });
}

describe("PostgresServer", () => {
    it("accepts Microsoft Entra tokens only: Entra auth on, password auth off, in our tenant", async () => {
        const { mocks } = await build();
        expect(mocks.named(SERVER, "pg-server").inputs.authConfig).to.deep.equal({
            activeDirectoryAuth: "Enabled", passwordAuth: "Disabled", tenantId: TENANT_ID,
        });
    });

    it("has no administrator login or password at all", async () => {
        const { mocks } = await build();
        const inputs = mocks.named(SERVER, "pg-server").inputs;
        expect(inputs).to.not.have.any.keys("administratorLogin", "administratorLoginPassword");
    });

    it("runs the configured PostgreSQL major version", async () => {
        const { mocks } = await build({ version: "16" });
        expect(mocks.named(SERVER, "pg-server").inputs.version).to.equal("16");
    });

    it("gets a globally unique name: the prefix plus a random suffix", async () => {
        const { result } = await build();
        expect(await promiseOf(result.name)).to.match(/^psql-test-[a-z0-9]{6}$/);
    });

    it("exposes the FQDN Azure assigns", async () => {
        const { result } = await build();
        const name = await promiseOf(result.name);
        expect(await promiseOf(result.fqdn)).to.equal(`${name}.postgres.database.azure.com`);
    });

    it("the Entra administrator is the configured principal, in our tenant", async () => {
        const { mocks } = await build();
        expect(mocks.named(ADMIN, "pg-entra-admin").inputs).to.include({
            objectId: DEPLOYER_OBJECT_ID, principalName: "ada@contoso.onmicrosoft.com", principalType: "User", tenantId: TENANT_ID,
        });
    });

    it("the Entra administrator is the GA AdministratorsMicrosoftEntra, aliased from Administrator so existing stacks update it in place", async () => {
        const { mocks } = await build();
        expect(mocks.ofType(OLD_ADMIN)).to.deep.equal([]);
        expect(mocks.ofType(ADMIN).map(r => r.name)).to.deep.equal(["pg-entra-admin"]);
        const aliases = (mocks.optionsOf("pg-entra-admin").aliases ?? []) as pulumi.Alias[];
        // Same logical name and parent, old type: the admin in an existing state is this resource, not a delete + create.
        expect(aliases).to.deep.include({ type: OLD_ADMIN });
    });

    it("admits the cluster's egress IP exactly, as a single address", async () => {
        const { mocks } = await build();
        expect(mocks.named(RULE, "pg-fw-aks-egress").inputs).to.include({ startIpAddress: EGRESS_IP, endIpAddress: EGRESS_IP });
    });

    it("admits each configured CIDR as its exact address range", async () => {
        const { mocks } = await build();
        expect(mocks.named(RULE, "pg-fw-allowed-198-51-100-0-28").inputs).to.include({ startIpAddress: "198.51.100.0", endIpAddress: "198.51.100.15" });
    });

    it("has no firewall rule for the world or for 'all Azure services'", async () => {
        const { mocks } = await build();
        for (const rule of mocks.ofType(RULE)) {
            expect(rule.inputs.startIpAddress, rule.name).to.not.equal("0.0.0.0");
            expect(rule.inputs.endIpAddress, rule.name).to.not.equal("255.255.255.255");
        }
        expect(mocks.ofType(RULE)).to.have.length(2);
    });

    it("enforces TLS 1.2+, logs connections and throttles failed logins", async () => {
        const { mocks } = await build();
        const params = Object.fromEntries(mocks.ofType(PARAM).map(p => [p.inputs.configurationName, p.inputs.value]));
        expect(params).to.deep.equal(SERVER_PARAMETERS);
        expect(params).to.include({ require_secure_transport: "on", ssl_min_protocol_version: "TLSv1.2" });
    });

    it("server parameters are retained on delete, because Azure cannot delete them", async () => {
        const { mocks } = await build();
        for (const param of mocks.ofType(PARAM)) {
            expect(mocks.optionsOf(param.name).retainOnDelete, param.name).to.equal(true);
        }
    });

    it("writes to the server's children one at a time (Azure answers ServerBusy to overlapping writes)", async () => {
        const { mocks } = await build({}, type => (type === ADMIN || type === PARAM || type === RULE ? 20 : 0));
        const writes = [...mocks.ofType(ADMIN), ...mocks.ofType(PARAM), ...mocks.ofType(RULE)]
            .sort((a, b) => a.requestedAt - b.requestedAt);
        expect(writes).to.have.length(1 + Object.keys(SERVER_PARAMETERS).length + 2);
        for (let i = 1; i < writes.length; i++) {
            expect(writes[i].requestedAt, `${writes[i].name} waits for ${writes[i - 1].name}`).to.be.at.least(writes[i - 1].createdAt);
        }
    });

    it("adminLogin resolves only after every firewall rule exists", async () => {
        let resolvedAt = -1;
        const { mocks } = await underMocks("test", m => {
            const server = new PostgresServer("pg", baseArgs);
            server.adminLogin.apply(() => { resolvedAt = m.elapsed(); });
            return server;
        }, { delays: type => (type === RULE ? 30 : 0) });
        const rules = mocks.ofType(RULE);
        expect(rules).to.have.length(2);
        expect(resolvedAt).to.be.at.least(Math.max(...rules.map(r => r.createdAt)));
    });

    it("ignores zone drift after an HA failover", async () => {
        const { mocks } = await build();
        expect(mocks.optionsOf("pg-server").ignoreChanges).to.include.members(["availabilityZone", "highAvailability.standbyAvailabilityZone"]);
    });

    it("leaves the storage size to autogrow after creation: a later PUT with the first size would be a refused shrink", async () => {
        const { mocks } = await build();
        const inputs = mocks.named(SERVER, "pg-server").inputs;
        expect(inputs.storage).to.deep.equal({ storageSizeGB: 32, autoGrow: "Enabled" });
        expect(mocks.optionsOf("pg-server").ignoreChanges).to.include("storage.storageSizeGB");
    });

    it("is protected when asked", async () => {
        const { mocks } = await build({ protect: true });
        expect(mocks.optionsOf("pg-server").protect).to.equal(true);
    });

    it("a protected server also carries an Azure CanNotDelete lock", async () => {
        const { mocks } = await build({ protect: true });
        expect(mocks.named("azure-native:authorization:ManagementLockByScope", "pg-lock").inputs).to.include({
            scope: mocks.named(SERVER, "pg-server").id, level: "CanNotDelete",
        });
    });

    it("an unprotected server has no lock", async () => {
        const { mocks } = await build();
        expect(mocks.ofType("azure-native:authorization:ManagementLockByScope")).to.have.length(0);
    });

    it("does not send the maintenance window on create, where Azure's API does not accept it", async () => {
        const { mocks } = await build({ maintenanceWindow: { dayOfWeek: 6, startHour: 3 } });
        expect(mocks.named(SERVER, "pg-server").inputs).to.not.have.property("maintenanceWindow");
    });

    it("applies the weekly maintenance window with a PATCH of the server once it exists", async () => {
        const { mocks } = await build({ maintenanceWindow: { dayOfWeek: 6, startHour: 3 } });
        const patch = mocks.named(PATCH, "pg-maintenance-window");
        expect(patch.inputs).to.deep.include({
            resourceId: mocks.named(SERVER, "pg-server").id,
            resourceType: "Microsoft.DBforPostgreSQL/flexibleServers",
            apiVersion: SERVER_API_VERSION,
            body: { properties: { maintenanceWindow: { customWindow: "Enabled", dayOfWeek: 6, startHour: 3, startMinute: 0 } } },
        });
        expect(patch.requestedAt).to.be.at.least(mocks.named(SERVER, "pg-server").createdAt);
    });

    it("the PATCH authenticates with the azure-native provider's ARM token, kept secret", async () => {
        const { mocks } = await build();
        const token = mocks.named(PATCH, "pg-maintenance-window").inputs.armToken;
        expect(token).to.have.property(pulumi.runtime.specialSigKey);
        expect(token.value).to.equal(DEPLOYER_ARM_TOKEN);
        expect(mocks.calls.map(c => c.token)).to.include("azure-native:authorization:getClientToken");
    });

    it("the server's children wait for the maintenance-window PATCH (Azure answers ServerBusy to overlapping writes)", async () => {
        const { mocks } = await build({}, type => (type === PATCH ? 30 : 0));
        expect(mocks.named(ADMIN, "pg-entra-admin").requestedAt).to.be.at.least(mocks.named(PATCH, "pg-maintenance-window").createdAt);
    });

    it("sends its logs and metrics to the given workspace", async () => {
        const workspace = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.OperationalInsights/workspaces/log-x";
        const { mocks } = await build({ logAnalyticsWorkspaceId: workspace });
        const diagnostics = mocks.named("azure-native:monitor:DiagnosticSetting", "pg-diagnostics").inputs;
        expect(diagnostics).to.deep.include({ resourceUri: mocks.named(SERVER, "pg-server").id, workspaceId: workspace });
        expect(diagnostics.logs).to.deep.equal([{ categoryGroup: "allLogs", enabled: true }]);
    });

    it("is not protected otherwise", async () => {
        const { mocks } = await build();
        expect(mocks.optionsOf("pg-server").protect).to.equal(false);
    });

    it("zone-redundant HA keeps its standby zone and geo-redundant backups are enabled when asked", async () => {
        const { mocks } = await build({
            skuTier: "GeneralPurpose", skuName: "Standard_D2ds_v5", highAvailability: "ZoneRedundant",
            availabilityZone: "1", standbyAvailabilityZone: "2", geoRedundantBackup: true, backupRetentionDays: 35,
        });
        const inputs = mocks.named(SERVER, "pg-server").inputs;
        expect(inputs.highAvailability).to.deep.equal({ mode: "ZoneRedundant", standbyAvailabilityZone: "2" });
        expect(inputs.availabilityZone).to.equal("1");
        expect(inputs.backup).to.deep.equal({ backupRetentionDays: 35, geoRedundantBackup: "Enabled" });
    });

    it("a SameZone standby is placed in the primary's zone", async () => {
        const { mocks } = await build({
            skuTier: "GeneralPurpose", skuName: "Standard_D2ds_v5", highAvailability: "SameZone", availabilityZone: "2",
        });
        expect(mocks.named(SERVER, "pg-server").inputs.highAvailability).to.deep.equal({ mode: "SameZone", standbyAvailabilityZone: "2" });
    });

    it("a SameZone server never gets a standby zone other than its primary's", () => {
        expect(() => standbyZoneFor("SameZone", "1", "2")).to.throw(/SameZone high availability puts the standby in the primary's zone \(1\), but standby zone 2/);
        expect(standbyZoneFor("SameZone", "1", "1")).to.equal("1");
        expect(standbyZoneFor("SameZone", undefined, undefined)).to.equal(undefined);
        expect(standbyZoneFor("ZoneRedundant", "1", "2")).to.equal("2");
        expect(standbyZoneFor("Disabled", "1", "2")).to.equal(undefined);
    });
});

describe("PostgresServer with private access (VNet integration)", () => {
    const vnet = `/subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590/resourceGroups/rg-test/providers/Microsoft.Network/virtualNetworks/vnet-test`;
    const privateNetwork = {
        delegatedSubnetId: `${vnet}/subnets/snet-postgres`,
        privateDnsZoneId: "/subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590/resourceGroups/rg-test/providers/Microsoft.Network/privateDnsZones/psql-test.private.postgres.database.azure.com",
    };
    const privateArgs: Partial<PostgresServerArgs> = {
        privateNetwork, clusterEgressIp: undefined, allowedCidrs: [], protect: true,
        skuTier: "GeneralPurpose", skuName: "Standard_D2ds_v5", highAvailability: "ZoneRedundant", availabilityZone: "1", standbyAvailabilityZone: "2",
    };

    it("has no public endpoint: public network access Disabled", async () => {
        const { mocks } = await build(privateArgs);
        expect(mocks.named(SERVER, "pg-server").inputs.network.publicNetworkAccess).to.equal("Disabled");
    });

    it("lives in the delegated subnet, named in the linked private DNS zone", async () => {
        const { mocks } = await build(privateArgs);
        expect(mocks.named(SERVER, "pg-server").inputs.network).to.deep.equal({
            publicNetworkAccess: "Disabled",
            delegatedSubnetResourceId: privateNetwork.delegatedSubnetId,
            privateDnsZoneArmResourceId: privateNetwork.privateDnsZoneId,
        });
    });

    it("has no firewall rule at all", async () => {
        const { mocks } = await build(privateArgs);
        expect(mocks.ofType(RULE)).to.deep.equal([]);
    });

    it("still resolves its admin login (nothing waits on a firewall rule that does not exist)", async () => {
        const { result } = await build(privateArgs);
        expect(await promiseOf(result.adminLogin)).to.equal("ada@contoso.onmicrosoft.com");
    });

    it("refuses firewall input: CIDRs or an egress IP would be rules a private server cannot have", () => {
        expect(accessProblems({ privateNetwork, allowedCidrs: ["198.51.100.0/28"] })).to.have.length(1);
        expect(accessProblems({ privateNetwork, allowedCidrs: [], clusterEgressIp: EGRESS_IP })).to.have.length(1);
        expect(accessProblems({ privateNetwork, allowedCidrs: [] })).to.deep.equal([]);
        expect(accessProblems({ allowedCidrs: [] })).to.deep.equal(["a public server needs clusterEgressIp: workloads connect from it"]);
    });

    it("a public server keeps today's public endpoint and its firewall rules", async () => {
        const { mocks } = await build();
        expect(mocks.named(SERVER, "pg-server").inputs.network).to.deep.equal({ publicNetworkAccess: "Enabled" });
        expect(mocks.ofType(RULE).map(r => r.inputs.firewallRuleName)).to.have.members(["aks-egress", "allowed-198-51-100-0-28"]);
    });
});
