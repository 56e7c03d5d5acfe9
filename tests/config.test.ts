import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import {
    ConfigError, isDns1123Label, isDns1123Subdomain, isPgIdentifier, isPinnedImage, parseCidr, parseConfig, PROJECT,
} from "../config";
import { projectDeclarations, ROOT, stackConfig, stackFileValues } from "./harness";

/** Parses `stack`'s effective config (its real stack file) with `overrides` applied; a key set to undefined is removed. */
function parse(stack: string, overrides: Record<string, unknown> = {}, stackName = stack) {
    return parseConfig(stackConfig(stack, overrides), stackName);
}

/** The ConfigError `fn` throws (failing the test when it throws nothing or something else). */
function configErrorOf(fn: () => unknown): ConfigError {
    try {
        fn();
    } catch (e) {
        expect(e, "expected a ConfigError").to.be.instanceOf(ConfigError);
        return e as ConfigError;
    }
    expect.fail("expected a ConfigError, but the config was accepted");
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
export const BAD_INPUTS: [string, Record<string, unknown>, string, string, string?][] = [
    ["location", { location: "West Europe" }, '"West Europe"', "Azure region name"],
    ["location", { location: undefined }, "(not set)", "this key is required"],
    ["namePrefix", { namePrefix: "Pg_WI" }, '"Pg_WI"', "2-10 lower-case letters or digits"],
    ["createResourceGroup", { createResourceGroup: "no" }, '"no"', "must be true or false"],
    ["apps[0].roleAssignments[0].scope", { createResourceGroup: false, apps: [{ name: "demo", roleAssignments: [{ scope: "/subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590/resourceGroups/rg-shared/providers/Microsoft.KeyVault/vaults/kv-shared", roleDefinitionId: "4633458b-17de-408a-b874-0445c86b69e6" }] }] }, '"/subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590/resourceGroups/rg-shared/providers/Microsoft.KeyVault/vaults/kv-shared"', "must be a resource in the stack's own resource group"],
    ["deployers", { deployers: { objectId: "5a7c3a8e-0f0d-4c3b-9d57-3c1a2b4e5f60" } }, '{"objectId":"5a7c3a8e-0f0d-4c3b-9d57-3c1a2b4e5f60"}', "a list of {objectId, principalType}"],
    ["deployers[0].objectId", { deployers: [{ objectId: "me", principalType: "User" }] }, '"me"', "an Entra object id (a GUID)"],
    ["deployers[0].principalType", { deployers: [{ objectId: "5a7c3a8e-0f0d-4c3b-9d57-3c1a2b4e5f60", principalType: "Person" }] }, '"Person"', "one of User, Group, ServicePrincipal"],
    ["aksTier", { aksTier: "Basic" }, '"Basic"', "allowed values are Free, Standard, Premium"],
    ["aksKubernetesVersion", { aksKubernetesVersion: "latest" }, '"latest"', "a version such as 1.33"],
    ["aksKubernetesVersion", { aksKubernetesVersion: "1.29" }, '"1.29"', "must be 1.30 or newer: the app's pods stop with the preStop sleep handler"],
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
    ["pgAllowedCidrs", { pgAllowedCidrs: [] }, "[]", "list at least the deployer's public egress address"],
    ["pgAllowedCidrs[0]", { pgAllowedCidrs: ["0.0.0.0/0"] }, '"0.0.0.0/0"', "broader than /16 are refused"],
    ["pgAllowedCidrs[0]", { pgAllowedCidrs: ["0.0.0.0/32"] }, '"0.0.0.0/32"', "allow all Azure services"],
    ["pgAllowedCidrs[0]", { pgAllowedCidrs: ["10.0.0.0/8"] }, '"10.0.0.0/8"', "broader than /16 are refused"],
    ["pgAllowedCidrs[0]", { pgAllowedCidrs: ["2001:db8::/64"] }, '"2001:db8::/64"', "must be an IPv4 CIDR"],
    ["pgAllowedCidrs[1]", { pgAllowedCidrs: ["198.51.100.23/32", "my laptop"] }, '"my laptop"', "must be an IPv4 CIDR"],
    ["pgAdminObjectId", { pgAdminObjectId: "me" }, '"me"', "the Entra object id (a GUID) of the PostgreSQL administrator"],
    ["pgAdminObjectId", { pgAdminObjectId: undefined }, "(not set)", "this key is required"],
    ["pgAdminPrincipalName", { pgAdminPrincipalName: undefined }, "(not set)", "this key is required"],
    ["pgAdminPrincipalName", { pgAdminPrincipalName: " " }, '" "', "the administrator's login with no leading or trailing spaces"],
    ["pgAdminPrincipalType", { pgAdminPrincipalType: "Robot" }, '"Robot"', "allowed values are User, Group, ServicePrincipal"],
    ["acrSku", { acrSku: "Free" }, '"Free"', "allowed values are Basic, Standard, Premium"],
    ["protectData", { protectData: "maybe" }, '"maybe"', "must be true or false"],
    ["pgRoleStep", { pgRoleStep: "psql" }, '"psql"', "allowed values are provider, job"],
    ["pgRoleStep", { pgRoleStep: "provider" }, '"provider"', "a private server (networkMode private) is reachable only inside its VNet", "prod"],
    ["pgAdminPrincipalType", { pgAdminPrincipalType: "User", pgAdminPrincipalName: "ada@contoso.onmicrosoft.com" }, '"User"', "needs an Entra group as PostgreSQL administrator", "prod"],
    ["workloadHighAvailability", { workloadHighAvailability: "yes" }, '"yes"', "must be true or false"],
    ["apps[0].replicas", { workloadHighAvailability: true, apps: [{ name: "demo", replicas: 1 }] }, "1", "needs at least 2 replicas per app"],
    ["aksAzurePolicy", { aksAzurePolicy: "on" }, '"on"', "must be true or false"],
    ["logAnalytics", { logAnalytics: 1 }, '"1"', "must be true or false"],
    ["logRetentionDays", { logRetentionDays: 7 }, '"7"', "an integer from 30 to 730"],
    ["pgMaintenanceDayOfWeek", { pgMaintenanceDayOfWeek: 7 }, '"7"', "an integer from 0 to 6"],
    ["pgMaintenanceStartHour", { pgMaintenanceStartHour: 24 }, '"24"', "an integer from 0 to 23"],
    ["apps", { apps: [] }, "[]", "declared in the stack file Pulumi.dev.yaml"],
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
    ["apps[0].profile", { apps: [{ ...devApp, profile: "admin" }] }, '"admin"', "must be one of owner, readwrite, readonly"],
    ["apps[0].migrations", { apps: [{ ...devApp, profile: "readwrite", migrations: false, image: "contoso.azurecr.io/demo:1.0.0" }] }, "false", "needs a migration identity"],
    ["apps[0].profile", { apps: [{ ...devApp, profile: "readonly" }] }, '"readonly"', "creates its table at start-up as its own role"],
    ["apps[0].migrations", { apps: [{ ...devApp, migrations: true }] }, "true", "only for profile readwrite or readonly"],
    ["apps[0].developers[0]", { apps: [{ ...devApp, developers: [{ login: "ada", objectId: "0c2b7d1e-4f3a-4e8b-9a61-2d5c7e9f1a30" }] }] }, '{"login":"ada","objectId":"0c2b7d1e-4f3a-4e8b-9a61-2d5c7e9f1a30"}', "not a user principal name"],
    ["apps[0].developers", { apps: [{ ...devApp, replicas: 2, developers: [{ login: "ada@contoso.com", objectId: "0c2b7d1e-4f3a-4e8b-9a61-2d5c7e9f1a30" }] }] }, '["ada@contoso.com"]', "for dev only", "prod"],
    ["apps[1].developers[0].login", { apps: [{ name: "api", developers: [{ login: "ada@contoso.com", objectId: "0c2b7d1e-4f3a-4e8b-9a61-2d5c7e9f1a30" }] }, { name: "worker", developers: [{ login: "Ada@contoso.com", objectId: "0c2b7d1e-4f3a-4e8b-9a61-2d5c7e9f1a30" }] }] }, '"Ada@contoso.com"', "one PostgreSQL role on the server"],
    ["apps[0].secrets", { apps: [{ ...devApp, secrets: ["demo_api_key"] }] }, '["demo_api_key"]', "is not a Key Vault secret name"],
    ["apps[0].extraSubjects", { apps: [{ ...devApp, extraSubjects: [{ kind: "kubernetes", issuer: "http://aks-green.example.com/" }] }] }, '[{"kind":"kubernetes","issuer":"http://aks-green.example.com/"}]', "must be https"],
    ["apps[0].extraSubjects", { apps: [{ ...devApp, extraSubjects: [{ kind: "github", name: "ci-migrate", repository: "contoso", workflow: "migrate.yml", ref: "refs/heads/main" }] }] }, '[{"kind":"github","name":"ci-migrate","repository":"contoso","workflow":"migrate.yml","ref":"refs/heads/main"}]', 'extra subject "ci-migrate": repository "contoso" is not <owner>/<repo>'],
    ["keyVaultSoftDeleteRetentionDays", { keyVaultSoftDeleteRetentionDays: 3 }, '"3"', "must be an integer from 7 to 90"],
    ["keyVaultRotationPollInterval", { keyVaultRotationPollInterval: "2 minutes" }, '"2 minutes"', "a duration such as 2m"],
    ["apps[1].name", { apps: [{ name: "api" }, { name: "api", namespace: "api2", database: "api2" }] }, '"api"', "every app needs its own name"],
    ["apps[1].database", { apps: [{ name: "api" }, { name: "worker", database: "api" }] }, '"api"', "every app needs its own database"],
    ["apps[1].serviceAccount", { apps: [{ name: "api", namespace: "shop", serviceAccount: "runner" }, { name: "worker", namespace: "shop", serviceAccount: "runner" }] }, '"runner"', "each app could sign in as the other"],
];

describe("config: the role step decides who needs a path to the database", () => {
    it("a public stack whose roles the in-cluster Job makes needs no deployer address in pgAllowedCidrs", () => {
        expect(parse("dev", { pgRoleStep: "job", pgAllowedCidrs: [] }).postgres.allowedCidrs).to.deep.equal([]);
    });
});

describe("config: every bad value fails at start with key, value and what is allowed", () => {
    for (const [key, overrides, shown, allowed, stack] of BAD_INPUTS) {
        it(`rejects ${key} = ${shown}${stack ? ` (${stack})` : ""}`, () => {
            expectConfigError(() => parse(stack ?? "dev", overrides), key, shown, allowed);
        });
    }

    it("rejects a stack name that cannot be part of an Azure resource name", () => {
        expectConfigError(() => parse("dev", {}, "Prod-EU"), "(stack name)", '"Prod-EU"', "1-12 lower-case letters, digits and single '-'");
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
        // The same function the policy pack uses: `LATEST` is as mutable as `latest`.
        expect(isPinnedImage("contoso.azurecr.io/api:LATEST")).to.equal(false);
        expect(isPinnedImage("api:latest")).to.equal(false);
    });
});

describe("config: a newcomer's mistakes are caught at start, all at once, by name", () => {
    it("a typo'd key in the project's namespace fails and names the closest key", () => {
        expectConfigError(() => parse("dev", { pgSkuname: "Standard_B2s" }), "pgSkuname", '"Standard_B2s"', 'did you mean "pgSkuName"?');
    });

    it("a key like no known key fails without a guess", () => {
        const error = configErrorOf(() => parse("dev", { favouriteColour: "blue" }));
        expect(error.message).to.contain(`"${PROJECT}:favouriteColour" = "blue": is not a setting of this program (keys are case-sensitive`);
        expect(error.message).to.not.contain("did you mean");
    });

    it("a typo'd app field names the closest field", () => {
        expectConfigError(() => parse("dev", { apps: [{ name: "demo", replica: 2 }] }), "apps[0].replica", "2", 'did you mean "replicas"?');
    });

    it("every bad value is reported in one RunError, each with key, value and what is allowed", () => {
        const error = configErrorOf(() => parse("dev", {
            aksTier: "Basic", pgVersion: "15", pgAllowedCidrs: ["10.1.0.0/16"], pgSkuname: "Standard_B2s", apps: [{ name: "Demo", replicas: 0 }],
        }));
        expect(error).to.be.instanceOf(pulumi.RunError);
        expect(error.problems).to.have.length(6);
        for (const fragment of [
            `"${PROJECT}:aksTier" = "Basic": allowed values are Free, Standard, Premium`,
            `"${PROJECT}:pgVersion" = "15": allowed values are 16, 17, 18`,
            `"${PROJECT}:pgAllowedCidrs[0]" = "10.1.0.0/16": overlaps 10.0.0.0/8 (private (RFC 1918))`,
            `"${PROJECT}:pgSkuname" = "Standard_B2s": is not a setting of this program; did you mean "pgSkuName"?`,
            `"${PROJECT}:apps[0].name" = "Demo": must be a DNS-1123 label`,
            `"${PROJECT}:apps[0].replicas" = 0: must be an integer from 1 to 50`,
        ]) {
            expect(error.message).to.contain(fragment);
        }
        expect(error.message).to.match(/^6 config values of stack "dev" are invalid/);
    });

    it("a bad app and a rule that reads every app are both reported, not a crash", () => {
        const error = configErrorOf(() => parse("prod", { apps: [{ name: "Bad_Name" }, { name: "ok", replicas: 1 }] }));
        expect(error.problems).to.have.length(2);
        expect(error.message).to.contain(`"${PROJECT}:apps[0].name" = "Bad_Name"`).and.contain(`"${PROJECT}:apps[1].replicas" = 1: workloadHighAvailability needs`);
    });

    it("one bad value keeps the one-line message", () => {
        const error = configErrorOf(() => parse("dev", { aksTier: "Basic" }));
        expect(error.message).to.equal(`Invalid config "${PROJECT}:aksTier" = "Basic": allowed values are Free, Standard, Premium`);
    });

    const NON_PUBLIC: [string, string][] = [
        ["10.20.0.0/16", "10.0.0.0/8 (private (RFC 1918))"],
        ["172.16.5.0/24", "172.16.0.0/12 (private (RFC 1918))"],
        ["192.168.1.10/32", "192.168.0.0/16 (private (RFC 1918))"],
        ["127.0.0.1/32", "127.0.0.0/8 (loopback)"],
        ["169.254.169.254/32", "169.254.0.0/16 (link-local)"],
        ["100.64.12.0/24", "100.64.0.0/10 (shared address space (carrier-grade NAT, RFC 6598))"],
        ["100.127.255.255/32", "100.64.0.0/10 (shared address space"],
        ["198.51.100.23/32", "198.51.100.0/24 (documentation (TEST-NET-2))"],
        ["224.0.0.0/16", "224.0.0.0/4 (multicast)"],
    ];
    for (const [cidr, block] of NON_PUBLIC) {
        it(`the public server's firewall refuses ${cidr}: ${block.split(" (")[1]}`, () => {
            expectConfigError(() => parse("dev", { pgAllowedCidrs: [cidr] }), "pgAllowedCidrs[0]", `"${cidr}"`, `overlaps ${block}`);
        });
    }

    it("the public ranges right next to them are accepted", () => {
        const cidrs = ["100.128.0.0/16", "100.63.255.0/24", "172.32.0.0/16", "11.0.0.0/16", "20.86.144.16/28"];
        expect(parse("dev", { pgAllowedCidrs: cidrs }).postgres.allowedCidrs).to.deep.equal(cidrs);
    });

    it("an image whose repository path has upper case is refused, with the lower-case spelling", () => {
        expectConfigError(() => parse("dev", { apps: [{ name: "api", image: "contoso.azurecr.io/Team/API:1.0.0" }] }),
            "apps[0].image", '"contoso.azurecr.io/Team/API:1.0.0"', 'repository path "Team/API" must be lower case');
        expectConfigError(() => parse("dev", { apps: [{ name: "api", image: "MyApi:1.0.0" }] }), "apps[0].image", '"MyApi:1.0.0"', 'use "myapi:1.0.0"');
    });

    it("upper case in the registry host and the tag is accepted", () => {
        const image = "Contoso.azurecr.io/team/api:V1.0.0-RC1";
        expect(parse("dev", { apps: [{ name: "api", image }] }).apps[0].image).to.equal(image);
    });

    it("SameZone HA with a standby zone is refused: the standby is in the primary's zone", () => {
        expectConfigError(() => parse("prod", { pgHighAvailability: "SameZone" }), "pgStandbyAvailabilityZone", '"2"', "SameZone HA puts the standby in the primary's zone");
    });

    it("SameZone HA without a standby zone is accepted", () => {
        expect(parse("prod", { pgHighAvailability: "SameZone", pgStandbyAvailabilityZone: "" }).postgres.highAvailability).to.equal("SameZone");
    });

    it("a standby zone without HA is refused rather than ignored", () => {
        expectConfigError(() => parse("dev", { pgStandbyAvailabilityZone: "2" }), "pgStandbyAvailabilityZone", '"2"', "without high availability there is no standby");
    });

    const ENTRA_NAMES: [string, Record<string, unknown>, string, string][] = [
        ["a User by a display name", { pgAdminPrincipalName: "Ada Lovelace" }, '"Ada Lovelace"', "logs in with their user principal name"],
        ["a User by an object id", { pgAdminPrincipalName: "5a7c3a8e-0f0d-4c3b-9d57-3c1a2b4e5f60" }, '"5a7c3a8e-0f0d-4c3b-9d57-3c1a2b4e5f60"', "is an object id, not a login"],
        ["a User whose UPN has a '.' before the '@'", { pgAdminPrincipalName: "ada.@contoso.com" }, '"ada.@contoso.com"', "user principal name"],
        ["a Group by a user principal name", { pgAdminObjectId: "3f2b8a51-6c1e-4d7a-9b0e-2c4d5e6f7a8b", pgAdminPrincipalType: "Group", pgAdminPrincipalName: "pg-admins@contoso.com" }, '"pg-admins@contoso.com"', "a Group administrator logs in with its display name"],
        ["a ServicePrincipal by a user principal name", { pgAdminObjectId: "3f2b8a51-6c1e-4d7a-9b0e-2c4d5e6f7a8b", pgAdminPrincipalType: "ServicePrincipal", pgAdminPrincipalName: "deploy@contoso.com" }, '"deploy@contoso.com"', "a ServicePrincipal administrator logs in with its display name"],
        ["a Group name longer than a PostgreSQL role name", { pgAdminObjectId: "3f2b8a51-6c1e-4d7a-9b0e-2c4d5e6f7a8b", pgAdminPrincipalType: "Group", pgAdminPrincipalName: "g".repeat(64) }, `"${"g".repeat(64)}"`, "PostgreSQL role names are at most 63"],
    ];
    for (const [what, overrides, shown, allowed] of ENTRA_NAMES) {
        it(`an Entra administrator name that does not fit its type is refused: ${what}`, () => {
            expectConfigError(() => parse("dev-ada", overrides), "pgAdminPrincipalName", shown, allowed);
        });
    }

    it("Entra administrator names that fit their type are accepted, spaces and capitals included", () => {
        expect(parse("dev-ada").postgres.administrator.principalName).to.equal("ada@contoso.onmicrosoft.com");
        expect(parse("dev-ada", { pgAdminPrincipalName: "ada_fabrikam.com#EXT#@contoso.onmicrosoft.com" }).postgres.administrator.principalName)
            .to.equal("ada_fabrikam.com#EXT#@contoso.onmicrosoft.com");
        const group = { pgAdminObjectId: "3f2b8a51-6c1e-4d7a-9b0e-2c4d5e6f7a8b", pgAdminPrincipalType: "Group", pgAdminPrincipalName: "PG Admins (Prod)" };
        expect(parse("dev-ada", group).postgres.administrator.principalName).to.equal("PG Admins (Prod)");
    });

    it("an app's PostgreSQL profile defaults to owner without migrations; readwrite and readonly default to a migration identity", () => {
        const apps = parse("dev", { apps: [{ name: "api" }, { name: "shop", profile: "readwrite", image: "contoso.azurecr.io/shop:1.4.0" }, { name: "bi", profile: "readonly", migrations: true, image: "contoso.azurecr.io/bi:2.0.0" }] }).apps;
        expect(apps.map(a => [a.profile, a.migrations])).to.deep.equal([["owner", false], ["readwrite", true], ["readonly", true]]);
    });

    it("a dev stack's developers are read with their profile, none by default", () => {
        const ada = { login: "ada@contoso.com", objectId: "0c2b7d1e-4f3a-4e8b-9a61-2d5c7e9f1a30", profile: "readonly" };
        const apps = parse("dev", { apps: [{ name: "api", developers: [ada] }, { name: "shop" }] }).apps;
        expect(apps.map(a => a.developers)).to.deep.equal([[ada], []]);
    });

    it("apps may share a namespace, each with its own ServiceAccount", () => {
        const apps = parse("dev", { apps: [{ name: "api", namespace: "shop" }, { name: "worker", namespace: "shop" }] }).apps;
        expect(apps.map(a => `${a.namespace}/${a.serviceAccount}`)).to.deep.equal(["shop/api", "shop/worker"]);
    });

    it("the same ServiceAccount name in two namespaces is two subjects, and accepted", () => {
        const apps = parse("dev", { apps: [{ name: "api", namespace: "shop", serviceAccount: "runner" }, { name: "worker", namespace: "depot", serviceAccount: "runner" }] }).apps;
        expect(apps).to.have.length(2);
    });

    for (const apps of [undefined, []]) {
        it(`a stack with ${apps ? "an empty list of" : "no"} apps is told what to add, in its own stack file`, () => {
            const error = configErrorOf(() => parse("dev-ada", { apps }));
            expect(error.message).to.contain(`"${PROJECT}:apps" = ${apps ? "[]" : "(not set)"}: a stack runs at least one app, declared in the stack file Pulumi.dev-ada.yaml`);
            expect(error.message).to.contain(`${PROJECT}:apps:\n          - name: demo`);
            expect(error.message).to.contain("pulumi config set --path 'apps[0].name' demo --stack dev-ada");
            expect(error.message).to.not.contain("declare it in Pulumi.yaml");
        });
    }
});

describe("config: personal stacks and the committed stack files", () => {
    it("a person's own stack dev-<name> is a valid stack name", () => {
        expect(parse("dev-ada").stack).to.equal("dev-ada");
    });

    for (const bad of ["dev--ada", "-dev", "dev-", "dev_ada", "Dev-Ada", "dev-abcdefghi"]) {
        it(`the stack name ${bad} is refused`, () => {
            expectConfigError(() => parse("dev-ada", {}, bad), "(stack name)", `"${bad}"`, "1-12 lower-case letters, digits and single '-'");
        });
    }

    it("the shared stack files parse as committed: CI needs no value that is not in them", () => {
        for (const stack of ["dev", "prod"]) {
            expect(() => parse(stack), stack).to.not.throw();
        }
    });

    it("no shared stack file names a person: their administrators are the deploy identity or a group, and no deployer is listed", () => {
        for (const stack of ["dev", "prod"]) {
            const values = stackFileValues(stack);
            expect(values.pgAdminPrincipalType, stack).to.be.oneOf(["Group", "ServicePrincipal"]);
            expect(values.deployers ?? [], stack).to.deep.equal([]);
            expect(String(values.pgAdminPrincipalName), stack).to.not.contain("@");
        }
    });

    it("prod's private network, authorised ranges and administrator group are committed in Pulumi.prod.yaml (no firewall)", () => {
        const prod = stackFileValues("prod");
        expect(prod.networkMode).to.equal("private");
        expect(prod.aksApiServerAuthorizedCidrs).to.be.an("array").that.is.not.empty;
        expect(prod).to.not.have.property("pgAllowedCidrs");
        expect(prod).to.include({ pgAdminPrincipalType: "Group", createResourceGroup: false });
        expect(String(prod.pgAdminObjectId)).to.match(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    });

    it("git ignores personal stack files at the root, and only those", () => {
        const ignored = fs.readFileSync(path.join(ROOT, ".gitignore"), "utf8").split("\n");
        expect(ignored).to.include("/Pulumi.dev-*.yaml");
        expect(ignored.some(line => /^\/?Pulumi\.(dev|prod|\*)\.yaml$/.test(line))).to.equal(false);
    });
});

/** Renders a Pulumi.yaml default the way the README's table shows it. */
function readmeDefault(value: unknown): string {
    if (value === undefined) {
        return "required";
    }
    return value === "" ? '`""`' : `\`${typeof value === "string" ? value : JSON.stringify(value)}\``;
}

/** The rows of the README table under "## Config reference": key → [default, description]. */
function readmeConfigTable(): Map<string, [string, string]> {
    const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
    const section = readme.slice(readme.indexOf("## Config reference"));
    const table = section.slice(section.indexOf("| Key | Default | Description |"));
    const rows = table.split("\n").slice(2).filter(line => line.startsWith("|"));
    const cells = (row: string) => row.slice(1, -1).split(/(?<!\\)\|/).map(c => c.trim().replace(/\\\|/g, "|"));
    const end = table.split("\n").slice(2).findIndex(line => !line.startsWith("|"));
    return new Map(rows.slice(0, end < 0 ? undefined : end).map(row => {
        const [key, def, description] = cells(row);
        return [key.replace(/`/g, ""), [def, description]];
    }));
}

describe("config: the README's config reference matches Pulumi.yaml", () => {
    const declared = projectDeclarations();
    const table = readmeConfigTable();

    for (const [key, declaration] of Object.entries(declared)) {
        it(`${key}: in the README with Pulumi.yaml's default and description`, () => {
            const row = table.get(key);
            const expected = `| \`${key}\` | ${readmeDefault(declaration.default)} | ${String(declaration.description).replace(/\|/g, "\\|")} |`;
            expect(row, `README's config table has no row for ${key}; add:\n${expected}`).to.not.equal(undefined);
            expect(row, `README row for ${key} differs from Pulumi.yaml; expected:\n${expected}`)
                .to.deep.equal([readmeDefault(declaration.default), String(declaration.description)]);
        });
    }

    it("the README lists no key that Pulumi.yaml does not declare (besides deployers and apps, which it cannot)", () => {
        expect([...table.keys()].filter(k => !(k in declared))).to.deep.equal(["deployers", "apps"]);
    });

    // Pulumi's project schema (pulumi/pulumi sdk/go/common/workspace/project.json, configTypeDeclaration) allows only
    // these types, for a key and for an array's items; the CLI refuses a Pulumi.yaml that declares anything else.
    it("Pulumi.yaml declares only the config types the Pulumi CLI accepts", () => {
        const allowed = ["string", "integer", "boolean", "array"];
        for (const [key, declaration] of Object.entries(declared) as [string, { type?: string; items?: { type?: string } }][]) {
            expect(allowed, key).to.include(declaration.type);
            if (declaration.type === "array") {
                expect(allowed, `${key}.items`).to.include(declaration.items?.type);
            }
        }
    });
});

describe("config: the README's table of bad inputs shows the messages the program prints", () => {
    const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
    for (const [key, overrides, shown, , stack] of BAD_INPUTS) {
        it(`${key} = ${shown}${stack ? ` (${stack})` : ""}`, () => {
            for (const problem of configErrorOf(() => parse(stack ?? "dev", overrides)).problems) {
                const row = `| \`${key}\` | ${problem.replace(/\|/g, "\\|").replace(/\n/g, " ")} |`;
                expect(readme, `README's "Bad inputs and their messages" lacks:\n${row}`).to.contain(row);
            }
        });
    }
});

describe("config: the README's example of a stack with several mistakes", () => {
    it("is exactly what the program prints for it", () => {
        const error = configErrorOf(() => parse("dev-ada", { pgSkuname: "Standard_B2s", pgAllowedCidrs: ["192.168.1.10/32"], pgAdminPrincipalName: "Ada Lovelace" }));
        expect(fs.readFileSync(path.join(ROOT, "README.md"), "utf8")).to.contain(`\`\`\`\n${error.message}\n\`\`\``);
    });
});

describe("config: the network", () => {
    const prodValues = () => stackConfig("prod");

    it("prod is private and restricted as committed", () => {
        const config = parseConfig(prodValues(), "prod");
        expect(config.network.mode).to.equal("private");
        expect(config.network.existingSubnets).to.equal(undefined);
        expect(config.aks.requireRestrictedApiServer).to.equal(true);
        expect(config.aks.enableEncryptionAtHost).to.equal(true);
        expect(config.postgres.allowedCidrs).to.deep.equal([]);
    });

    it("prod refuses an unrestricted Kubernetes API: its committed file with the authorised ranges emptied fails", () => {
        expect(() => parseConfig({ ...prodValues(), aksApiServerAuthorizedCidrs: "[]" }, "prod"))
            .to.throw(/aksApiServerAuthorizedCidrs" = \[\]: this stack must not expose an unrestricted Kubernetes API/);
    });

    it("a private stack refuses firewall CIDRs: it has no public endpoint", () => {
        expect(() => parseConfig({ ...prodValues(), pgAllowedCidrs: '["20.86.144.16/28"]' }, "prod"))
            .to.throw(/pgAllowedCidrs.*no public endpoint and no firewall rules/);
    });

    it("a private stack refuses overlapping subnets, under the config key", () => {
        expect(() => parseConfig({ ...prodValues(), networkPostgresSubnet: "10.42.0.0/27" }, "prod"))
            .to.throw(/"aks-pg-passwordless:networkPostgresSubnet" = "10.42.0.0\/27": networkAksNodesSubnet = 10.42.0.0\/24 and networkPostgresSubnet = 10.42.0.0\/27 overlap/);
    });

    it("a private stack needs a Premium registry for its private endpoint", () => {
        expect(() => parseConfig({ ...prodValues(), acrSku: "Standard" }, "prod")).to.throw(/acrSku.*only Premium has/);
    });

    it("bring your own VNet takes all three subnet ids, from one VNet", () => {
        const vnet = "/subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590/resourceGroups/rg-hub/providers/Microsoft.Network/virtualNetworks/spoke";
        const byo = { networkExistingAksNodesSubnetId: `${vnet}/subnets/aks`, networkExistingPostgresSubnetId: `${vnet}/subnets/pg`,
            networkExistingPrivateEndpointsSubnetId: `${vnet}/subnets/pe` };
        expect(parseConfig({ ...prodValues(), ...byo }, "prod").network.existingSubnets).to.deep.equal({
            aksNodesSubnetId: `${vnet}/subnets/aks`, postgresSubnetId: `${vnet}/subnets/pg`, privateEndpointsSubnetId: `${vnet}/subnets/pe`,
        });
        expect(() => parseConfig({ ...prodValues(), networkExistingAksNodesSubnetId: `${vnet}/subnets/aks` }, "prod"))
            .to.throw(/networkExistingPostgresSubnetId.*all three existing subnet ids/);
    });

    it("dev stays public: no VNet settings apply and its firewall CIDRs are still required", () => {
        const config = parseConfig(stackConfig("dev"), "dev");
        expect(config.network.mode).to.equal("public");
        expect(config.aks.requireRestrictedApiServer).to.equal(false);
    });
});
