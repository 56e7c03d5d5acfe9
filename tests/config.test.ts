import { expect } from "chai";
import {
    ConfigError, isDns1123Label, isDns1123Subdomain, isPgIdentifier, isPinnedImage, parseCidr, parseConfig, PROJECT,
} from "../config";
import { stackConfig } from "./harness";

/** Parses `stack`'s effective config with `overrides` applied; a key set to undefined is removed. */
function parse(stack: string, overrides: Record<string, unknown> = {}, stackName = stack) {
    const raw = stackConfig(stack, overrides);
    for (const [key, value] of Object.entries(overrides)) {
        if (value === undefined) {
            delete raw[key];
        }
    }
    return parseConfig(key => raw[key], stackName);
}

const devApp = { name: "demo" };

function expectConfigError(fn: () => unknown, key: string, value: string, allowed: string): void {
    let error: unknown;
    try {
        fn();
    } catch (e) {
        error = e;
    }
    expect(error, "expected a ConfigError").to.be.instanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).to.contain(`"${PROJECT}:${key}"`);
    expect(message).to.contain(value);
    expect(message).to.contain(allowed);
}

describe("config: the stack files", () => {
    it("dev parses to the cheapest sensible system", () => {
        const c = parse("dev");
        expect(c.aks.tier).to.equal("Free");
        expect(c.aks.nodeCount).to.equal(1);
        expect(c.postgres.skuTier).to.equal("Burstable");
        expect(c.postgres.highAvailability).to.equal("Disabled");
        expect(c.protectData).to.equal(false);
        expect(c.apps.map(a => a.name)).to.deep.equal(["demo"]);
    });

    it("prod parses to production-grade sizing with protected data", () => {
        const c = parse("prod");
        expect(c.aks.tier).to.equal("Standard");
        expect(c.aks.nodeCount).to.be.at.least(2);
        expect(c.aks.availabilityZones.length).to.be.at.least(2);
        expect(c.postgres.skuTier).to.equal("GeneralPurpose");
        expect(c.postgres.highAvailability).to.equal("ZoneRedundant");
        expect(c.postgres.geoRedundantBackup).to.equal(true);
        expect(c.postgres.backupRetentionDays).to.be.at.least(14);
        expect(c.protectData).to.equal(true);
    });

    it("the PostgreSQL version is 16 or newer in both stacks", () => {
        for (const stack of ["dev", "prod"]) {
            expect(Number(parse(stack).postgres.version)).to.be.at.least(16);
        }
    });

    it("an app's namespace, ServiceAccount and database default from its name", () => {
        const app = parse("dev", { apps: [{ name: "orders-api" }] }).apps[0];
        expect(app).to.include({ namespace: "orders-api", serviceAccount: "orders-api", database: "orders_api", replicas: 1 });
    });

    it("an app without an image runs the image the stack builds from app/", () => {
        expect(parse("dev").apps[0].image).to.equal(undefined);
    });

    it("an app may name a prebuilt image instead", () => {
        const app = parse("dev", { apps: [{ name: "api", image: "contoso.azurecr.io/api:1.4.2" }] }).apps[0];
        expect(app.image).to.equal("contoso.azurecr.io/api:1.4.2");
    });

    it("the parsed config is frozen", () => {
        const c = parse("dev");
        expect(Object.isFrozen(c)).to.equal(true);
        expect(Object.isFrozen(c.apps[0])).to.equal(true);
    });
});

/** [key, bad value(s) as overrides, value shown in the message, what-is-allowed fragment] */
const BAD_INPUTS: [string, Record<string, unknown>, string, string, string?][] = [
    ["location", { location: "West Europe" }, '"West Europe"', "Azure region name"],
    ["location", { location: undefined }, "(not set)", "this key is required"],
    ["namePrefix", { namePrefix: "Pg_WI" }, '"Pg_WI"', "2-10 lower-case letters or digits"],
    ["createResourceGroup", { createResourceGroup: "no" }, '"no"', "must be true or false"],
    ["deployers", { deployers: { objectId: "5a7c3a8e-0f0d-4c3b-9d57-3c1a2b4e5f60" } }, '{"objectId":"5a7c3a8e-0f0d-4c3b-9d57-3c1a2b4e5f60"}', "a list of {objectId, principalType}"],
    ["deployers[0].objectId", { deployers: [{ objectId: "me", principalType: "User" }] }, '"me"', "an Entra object id (a GUID)"],
    ["deployers[0].principalType", { deployers: [{ objectId: "5a7c3a8e-0f0d-4c3b-9d57-3c1a2b4e5f60", principalType: "Person" }] }, '"Person"', "one of User, Group, ServicePrincipal"],
    ["aksTier", { aksTier: "Basic" }, '"Basic"', "allowed values are Free, Standard, Premium"],
    ["aksKubernetesVersion", { aksKubernetesVersion: "latest" }, '"latest"', "a version such as 1.33"],
    ["aksNodeCount", { aksNodeCount: 0 }, '"0"', "an integer from 1 to 100"],
    ["aksNodeCount", { aksNodeCount: "two" }, '"two"', "an integer from 1 to 100"],
    ["aksNodeVmSize", { aksNodeVmSize: "D2s_v5" }, '"D2s_v5"', "an Azure VM size"],
    ["aksAvailabilityZones[0]", { aksAvailabilityZones: ["4"] }, '"4"', "availability zones are 1, 2, 3"],
    ["aksAvailabilityZones", { aksAvailabilityZones: "1,2" }, '"1,2"', "structured YAML"],
    ["aksApiServerAuthorizedCidrs[0]", { aksApiServerAuthorizedCidrs: ["10.0.0.1/24"] }, '"10.0.0.1/24"', "no host bits set"],
    ["aksAdminGroupObjectIds[0]", { aksAdminGroupObjectIds: ["aks-admins"] }, '"aks-admins"', "Entra group object id"],
    ["kubeloginMode", { kubeloginMode: "devicecode" }, '"devicecode"', "allowed values are azurecli, workloadidentity, msi"],
    ["pgVersion", { pgVersion: "15" }, '"15"', "allowed values are 16, 17, 18"],
    ["pgSkuTier", { pgSkuTier: "Basic" }, '"Basic"', "allowed values are Burstable, GeneralPurpose, MemoryOptimized"],
    ["pgSkuName", { pgSkuName: "Standard_D2ds_v5" }, '"Standard_D2ds_v5"', "is not a Burstable compute size"],
    ["pgStorageSizeGb", { pgStorageSizeGb: 100 }, '"100"', "allowed sizes are 32, 64, 128"],
    ["pgBackupRetentionDays", { pgBackupRetentionDays: 3 }, '"3"', "an integer from 7 to 35"],
    ["pgGeoRedundantBackup", { pgGeoRedundantBackup: "yes" }, '"yes"', "must be true or false"],
    ["pgHighAvailability", { pgHighAvailability: "Always" }, '"Always"', "allowed values are Disabled, ZoneRedundant, SameZone"],
    ["pgHighAvailability", { pgHighAvailability: "ZoneRedundant" }, '"ZoneRedundant"', "needs pgSkuTier GeneralPurpose or MemoryOptimized"],
    ["pgAvailabilityZone", { pgAvailabilityZone: "4" }, '"4"', "one of 1, 2, 3"],
    ["pgStandbyAvailabilityZone", { pgStandbyAvailabilityZone: "1" }, '"1"', "different from pgAvailabilityZone", "prod"],
    ["pgAllowedCidrs", { pgAllowedCidrs: [] }, "[]", "list at least the deployer's egress address"],
    ["pgAllowedCidrs[0]", { pgAllowedCidrs: ["0.0.0.0/0"] }, '"0.0.0.0/0"', "broader than /16 are refused"],
    ["pgAllowedCidrs[0]", { pgAllowedCidrs: ["0.0.0.0/32"] }, '"0.0.0.0/32"', "allow all Azure services"],
    ["pgAllowedCidrs[0]", { pgAllowedCidrs: ["10.0.0.0/8"] }, '"10.0.0.0/8"', "broader than /16 are refused"],
    ["pgAllowedCidrs[0]", { pgAllowedCidrs: ["2001:db8::/64"] }, '"2001:db8::/64"', "must be an IPv4 CIDR"],
    ["pgAllowedCidrs[1]", { pgAllowedCidrs: ["198.51.100.23/32", "my laptop"] }, '"my laptop"', "must be an IPv4 CIDR"],
    ["pgAdminObjectId", { pgAdminObjectId: "me" }, '"me"', "the Entra object id (a GUID) of the PostgreSQL administrator"],
    ["pgAdminObjectId", { pgAdminObjectId: undefined }, "(not set)", "this key is required"],
    ["pgAdminPrincipalName", { pgAdminPrincipalName: undefined }, "(not set)", "this key is required"],
    ["pgAdminPrincipalName", { pgAdminPrincipalName: " " }, '" "', "the administrator's login"],
    ["pgAdminPrincipalType", { pgAdminPrincipalType: "Robot" }, '"Robot"', "allowed values are User, Group, ServicePrincipal"],
    ["acrSku", { acrSku: "Free" }, '"Free"', "allowed values are Basic, Standard, Premium"],
    ["protectData", { protectData: "maybe" }, '"maybe"', "must be true or false"],
    ["workloadHighAvailability", { workloadHighAvailability: "yes" }, '"yes"', "must be true or false"],
    ["apps[0].replicas", { workloadHighAvailability: true, apps: [{ name: "demo", replicas: 1 }] }, "1", "needs at least 2 replicas per app"],
    ["aksAzurePolicy", { aksAzurePolicy: "on" }, '"on"', "must be true or false"],
    ["logAnalytics", { logAnalytics: 1 }, '"1"', "must be true or false"],
    ["logRetentionDays", { logRetentionDays: 7 }, '"7"', "an integer from 30 to 730"],
    ["pgMaintenanceDayOfWeek", { pgMaintenanceDayOfWeek: 7 }, '"7"', "an integer from 0 to 6"],
    ["pgMaintenanceStartHour", { pgMaintenanceStartHour: 24 }, '"24"', "an integer from 0 to 23"],
    ["apps", { apps: [] }, "[]", "non-empty list of apps"],
    ["apps", { apps: "demo" }, '"demo"', "structured YAML"],
    ["apps[0]", { apps: ["demo"] }, '"demo"', "must be an object"],
    ["apps[0].name", { apps: [{ name: "Orders_API" }] }, '"Orders_API"', "DNS-1123 label of at most 24 characters"],
    ["apps[0].name", { apps: [{ name: "a-very-long-application-name" }] }, '"a-very-long-application-name"', "at most 24 characters"],
    ["apps[0].name", { apps: [{ image: "nginx:1.27" }] }, "(not set)", "must be a string"],
    ["apps[0].namespace", { apps: [{ ...devApp, namespace: "Team_Payments" }] }, '"Team_Payments"', "DNS-1123 label"],
    ["apps[0].namespace", { apps: [{ ...devApp, namespace: "kube-system" }] }, '"kube-system"', "reserved"],
    ["apps[0].namespace", { apps: [{ ...devApp, namespace: "default" }] }, '"default"', "reserved"],
    ["apps[0].serviceAccount", { apps: [{ ...devApp, serviceAccount: "Payments SA" }] }, '"Payments SA"', "DNS-1123 subdomain"],
    ["apps[0].database", { apps: [{ ...devApp, database: "app-db" }] }, '"app-db"', "PostgreSQL identifier"],
    ["apps[0].database", { apps: [{ ...devApp, database: "postgres" }] }, '"postgres"', "is reserved"],
    ["apps[0].image", { apps: [{ ...devApp, image: "nginx" }] }, '"nginx"', "pinned by tag or digest"],
    ["apps[0].image", { apps: [{ ...devApp, image: "nginx:latest" }] }, '"nginx:latest"', "never untagged or :latest"],
    ["apps[0].replicas", { apps: [{ ...devApp, replicas: 0 }] }, "0", "an integer from 1 to 50"],
    ["apps[0].replicas", { apps: [{ ...devApp, replicas: 2.5 }] }, "2.5", "an integer from 1 to 50"],
    ["apps[0].image", { apps: [{ ...devApp, image: 42 }] }, "42", "must be a string"],
    ["apps[0].command", { apps: [{ ...devApp, command: ["sleep", "1"] }] }, '["sleep","1"]', "is not an app setting"],
    ["apps[0].colour", { apps: [{ ...devApp, colour: "blue" }] }, '"blue"', "is not an app setting"],
    ["apps[0].roleAssignments[0].scope", { apps: [{ ...devApp, roleAssignments: [{ scope: "/subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590", roleDefinitionId: "4633458b-17de-408a-b874-0445c86b69e6" }] }] }, '"/subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590"', "subscription- or resource-group-wide grants are refused"],
    ["apps[0].roleAssignments[0].roleDefinitionId", { apps: [{ ...devApp, roleAssignments: [{ scope: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv1", roleDefinitionId: "Key Vault Secrets User" }] }] }, '"Key Vault Secrets User"', "role definition GUID"],
    ["apps[1].name", { apps: [{ name: "api" }, { name: "api", namespace: "api2", database: "api2" }] }, '"api"', "every app needs its own name"],
    ["apps[1].database", { apps: [{ name: "api" }, { name: "worker", database: "api" }] }, '"api"', "every app needs its own database"],
    ["apps[1].namespace", { apps: [{ name: "api", namespace: "shop" }, { name: "worker", namespace: "shop" }] }, '"shop"', "every app needs its own namespace"],
];

describe("config: every bad value fails at start with key, value and what is allowed", () => {
    for (const [key, overrides, shown, allowed, stack] of BAD_INPUTS) {
        it(`rejects ${key} = ${shown}${stack ? ` (${stack})` : ""}`, () => {
            expectConfigError(() => parse(stack ?? "dev", overrides), key, shown, allowed);
        });
    }

    it("rejects a stack name that cannot be part of an Azure resource name", () => {
        expectConfigError(() => parse("dev", {}, "Prod-EU"), "(stack name)", '"Prod-EU"', "1-12 lower-case letters or digits");
    });

    it("ConfigError is a RunError, so Pulumi prints the message without a stack trace", () => {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const pulumi = require("@pulumi/pulumi");
        expect(new ConfigError("k", "v", "why")).to.be.instanceOf(pulumi.RunError);
    });
});

describe("config: the rules", () => {
    it("parseCidr returns the first and last address of a range", () => {
        expect(parseCidr("203.0.113.0/24")).to.deep.equal({ start: "203.0.113.0", end: "203.0.113.255", prefix: 24 });
        expect(parseCidr("198.51.100.23/32")).to.deep.equal({ start: "198.51.100.23", end: "198.51.100.23", prefix: 32 });
    });

    it("parseCidr refuses host bits, leading zeros, octets over 255 and missing prefixes", () => {
        for (const bad of ["10.0.0.1/24", "10.0.0.01/32", "256.0.0.0/8", "10.0.0.0", "10.0.0.0/33"]) {
            expect(parseCidr(bad), bad).to.equal(undefined);
        }
    });

    it("DNS-1123 labels are lower-case alphanumerics and '-', at most 63 characters", () => {
        expect(isDns1123Label("team-payments")).to.equal(true);
        expect(isDns1123Label("-payments")).to.equal(false);
        expect(isDns1123Label("a".repeat(64))).to.equal(false);
    });

    it("DNS-1123 subdomains also allow dots", () => {
        expect(isDns1123Subdomain("payments.api")).to.equal(true);
        expect(isDns1123Subdomain("payments..api")).to.equal(false);
    });

    it("PostgreSQL identifiers are lower-case, start with a letter or '_', at most 63 bytes", () => {
        expect(isPgIdentifier("orders_2")).to.equal(true);
        expect(isPgIdentifier("2orders")).to.equal(false);
        expect(isPgIdentifier("a".repeat(64))).to.equal(false);
    });

    it("images are pinned by tag or digest, never latest", () => {
        expect(isPinnedImage("contoso.azurecr.io/api:1.4.2")).to.equal(true);
        expect(isPinnedImage(`api@sha256:${"a".repeat(64)}`)).to.equal(true);
        expect(isPinnedImage("localhost:5000/api")).to.equal(false);
        expect(isPinnedImage("api:latest")).to.equal(false);
    });
});
