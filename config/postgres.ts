// The server's settings: PostgresServerSettings, read and validated, including the combinations Azure refuses.
import { ENTRA_PRINCIPAL_TYPES } from "../lib/azureScope";
import { PG_HA_MODES, PG_SKU_TIERS, type PostgresServerSettings } from "../components/postgresServer";
import { Problems } from "./errors";
import { Reader, stringList } from "./reader";
import {
    checkPublicCidr, entraLoginProblem, exampleSku, GUID, PG_SKU_PATTERNS, PG_STORAGE_SIZES_GB, PG_VERSIONS, ZONES,
} from "./rules";

/**
 * `privateServer`: the server is in a VNet (networkMode private) and has no firewall to list addresses in.
 * `roleStepInCluster`: the in-cluster Job makes the roles (pgRoleStep job), so the deployer needs no firewall rule.
 */
export function readPostgres(r: Reader, problems: Problems, stack: string, privateServer = false, roleStepInCluster = false): PostgresServerSettings {
    const v = <T>(rule: () => T): T => problems.check(rule) as T;
    const skuTier = problems.check(() => r.oneOf("pgSkuTier", PG_SKU_TIERS));
    const skuName = problems.check(() => r.raw("pgSkuName"));
    if (skuTier !== undefined && skuName !== undefined && !PG_SKU_PATTERNS[skuTier].test(skuName)) {
        problems.add("pgSkuName", skuName, `is not a ${skuTier} compute size (expected a name matching ${PG_SKU_PATTERNS[skuTier]}, e.g. ${exampleSku(skuTier)})`);
    }
    const storage = problems.check(() => r.integer("pgStorageSizeGb", 32, 32767));
    if (storage !== undefined && !(PG_STORAGE_SIZES_GB as readonly number[]).includes(storage)) {
        problems.add("pgStorageSizeGb", String(storage), `allowed sizes are ${PG_STORAGE_SIZES_GB.join(", ")}`);
    }
    const highAvailability = problems.check(() => r.oneOf("pgHighAvailability", PG_HA_MODES));
    if (highAvailability !== undefined && highAvailability !== "Disabled" && skuTier === "Burstable") {
        problems.add("pgHighAvailability", highAvailability, "high availability needs pgSkuTier GeneralPurpose or MemoryOptimized (Burstable has none)");
    }
    const zonePattern = /^[123]$/;
    const availabilityZone = problems.check(() => r.optionalString("pgAvailabilityZone", zonePattern, `must be empty or one of ${ZONES.join(", ")}`));
    const standbyAvailabilityZone = problems.check(() => r.optionalString("pgStandbyAvailabilityZone", zonePattern, `must be empty or one of ${ZONES.join(", ")}`));
    if (highAvailability === "ZoneRedundant" && availabilityZone && availabilityZone === standbyAvailabilityZone) {
        problems.add("pgStandbyAvailabilityZone", standbyAvailabilityZone, "zone-redundant HA needs a standby zone different from pgAvailabilityZone");
    }
    // Azure's SameZone mode places the standby in the primary's zone by definition (HighAvailabilityMode "SameZone":
    // "standby server in the same availability zone as the primary"); a standby zone would be ignored or rejected.
    if (highAvailability === "SameZone" && standbyAvailabilityZone) {
        problems.add("pgStandbyAvailabilityZone", standbyAvailabilityZone, "SameZone HA puts the standby in the primary's zone "
            + "(pgAvailabilityZone): leave pgStandbyAvailabilityZone empty, or choose ZoneRedundant for a standby in another zone");
    }
    if (highAvailability === "Disabled" && standbyAvailabilityZone) {
        problems.add("pgStandbyAvailabilityZone", standbyAvailabilityZone, "without high availability there is no standby: leave it empty or set pgHighAvailability");
    }
    const allowedCidrs = v(() => stringList(r, problems, "pgAllowedCidrs", checkPublicCidr));
    if (privateServer && allowedCidrs && allowedCidrs.length > 0) {
        problems.add("pgAllowedCidrs", allowedCidrs, "a private server (networkMode private) has no public endpoint and no firewall rules: "
            + "leave pgAllowedCidrs empty; the deploy runners reach it from inside (or peered with) the VNet");
    }
    if (!privateServer && !roleStepInCluster && allowedCidrs?.length === 0) {
        problems.add("pgAllowedCidrs", [], `list at least the deployer's public egress address as <address>/32 in Pulumi.${stack}.yaml `
            + "(e.g. from `curl -s https://ifconfig.me`): `pulumi up` connects to the server to create the app roles");
    }
    const adminObjectId = problems.check(() => r.string("pgAdminObjectId", GUID, "must be the Entra object id (a GUID) of the PostgreSQL administrator: a group for shared stacks, yourself for a personal one (`az ad signed-in-user show --query id -o tsv`)"));
    const adminName = problems.check(() => r.raw("pgAdminPrincipalName"));
    const adminType = problems.check(() => r.oneOf("pgAdminPrincipalType", ENTRA_PRINCIPAL_TYPES));
    const adminNameProblem = adminName !== undefined && adminType !== undefined ? entraLoginProblem(adminName, adminType) : undefined;
    if (adminNameProblem) {
        problems.add("pgAdminPrincipalName", adminName, adminNameProblem);
    }

    return {
        version: v(() => r.oneOf("pgVersion", PG_VERSIONS)),
        skuTier: skuTier!,
        skuName: skuName!,
        storageSizeGb: storage!,
        backupRetentionDays: v(() => r.integer("pgBackupRetentionDays", 7, 35)),
        geoRedundantBackup: v(() => r.boolean("pgGeoRedundantBackup")),
        highAvailability: highAvailability!,
        availabilityZone,
        standbyAvailabilityZone,
        allowedCidrs,
        administrator: { objectId: adminObjectId!, principalName: adminName!, principalType: adminType! },
        maintenanceWindow: {
            dayOfWeek: v(() => r.integer("pgMaintenanceDayOfWeek", 0, 6)),
            startHour: v(() => r.integer("pgMaintenanceStartHour", 0, 23)),
        },
    };
}
