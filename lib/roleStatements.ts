// The statements the in-cluster executor runs for one app (D1): the same definition PostgresRole declares through the
// provider, from lib/postgresRoleSql.ts, once the identities' names and principal ids are known.
import * as pulumi from "@pulumi/pulumi";
import { type AppDatabase, type AppDatabaseStatement, appWithDevelopersStatements, type Developer } from "./postgresRoleSql";

/** One app's place in PostgreSQL, with identity values that are still outputs. */
export interface AppRoleInputs extends Omit<AppDatabase, "roleName" | "principalId" | "migrator"> {
    roleName: pulumi.Input<string>;
    principalId: pulumi.Input<string>;
    migrator?: { roleName: pulumi.Input<string>; principalId: pulumi.Input<string> };
    developers?: readonly Developer[];
}

/** The app's statements, then each developer's (dev only; config refuses developers where data is protected). */
export function appRoleStatements(app: AppRoleInputs): pulumi.Output<AppDatabaseStatement[]> {
    return pulumi.all([app.roleName, app.principalId, app.migrator?.roleName, app.migrator?.principalId])
        .apply(([roleName, principalId, migratorName, migratorId]) => {
            const resolved: AppDatabase = {
                roleName, principalId, databaseName: app.databaseName, profile: app.profile, schemaName: app.schemaName,
                migrator: migratorName === undefined ? undefined : { roleName: migratorName, principalId: migratorId! },
            };
            return appWithDevelopersStatements(resolved, app.developers);
        });
}
