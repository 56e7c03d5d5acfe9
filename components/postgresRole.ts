import * as pulumi from "@pulumi/pulumi";
import * as authorization from "@pulumi/azure-native/authorization";
import * as postgresql from "@pulumi/postgresql";
import {
    AccessProfile, APP_DATABASE_PRIVILEGES, appDatabaseProblem, AZURE_ADMIN_GROUP, Developer, developerKey, ENTRA_LABEL_PROVIDER,
    entraServiceLabelText, entraUserLabelText, PROFILE_PRIVILEGES, RoleProfile, schemaOf,
} from "../lib/postgresRoleSql";

/** The Entra resource Azure Database for PostgreSQL accepts tokens for (scope `<resource>/.default`). */
export const OSSRDBMS_RESOURCE = "https://ossrdbms-aad.database.windows.net";

export { ENTRA_LABEL_PROVIDER };
export type { AccessProfile, Developer, RoleProfile };

/** The label that binds a PostgreSQL role to a managed identity (a service principal) by its object id. */
export function entraServiceLabel(principalId: pulumi.Input<string>): pulumi.Output<string> {
    return pulumi.output(principalId).apply(entraServiceLabelText);
}

/** What a stack chooses per app: the profile of its long-running role and whether it has a migration role. */
export interface PostgresRoleSettings {
    /** What the app's role may do: `owner` (default; owns its database, DDL included), `readwrite` (DML only) or `readonly`. */
    profile?: RoleProfile;
    /** The schema the migration role owns and the app uses (`readwrite`/`readonly`); default: the database's name. */
    schemaName?: string;
    /** Dev only (see `developerRoleProblem`): people whose own Entra login gets a role on this app's database. */
    developers?: Developer[];
}

/** The migration role of a `readwrite`/`readonly` app: its own identity, owner of the database and the schema. */
export interface PostgresMigratorArgs {
    /** PostgreSQL role; by convention the migration identity's name (e.g. `id-dev-orders-migrate`). */
    roleName: pulumi.Input<string>;
    /** Object (principal) id of the migration identity. */
    principalId: pulumi.Input<string>;
}

export interface PostgresRoleArgs extends PostgresRoleSettings {
    /** Server FQDN to connect to. */
    host: pulumi.Input<string>;
    /** Server port. */
    port: pulumi.Input<number>;
    /** The Entra administrator's login; the deployer authenticates as it with its own Entra token. */
    adminLogin: pulumi.Input<string>;
    /** PostgreSQL role to create; by convention the managed identity's name. */
    roleName: pulumi.Input<string>;
    /** Object (principal) id of the managed identity the role is bound to. */
    principalId: pulumi.Input<string>;
    /** The app's own database, owned by the role (`owner`) or by the migration role. */
    databaseName: string;
    /** Required for `readwrite`/`readonly`, refused for `owner`. */
    migrator?: PostgresMigratorArgs;
    /** Protect the database from deletion and replacement. */
    protect: boolean;
}

/**
 * One app's place in PostgreSQL: LOGIN roles with no password, bound to managed identities through the `pgaadauth`
 * security label, and a database nobody else may connect to. With profile `owner` the app's role owns the database;
 * with `readwrite`/`readonly` a migration role owns it and a schema in it, and the app's role gets only DML (or
 * SELECT) there — on today's tables and, through default privileges, on those the migration role creates later.
 * Created over an Entra-authenticated connection as the server's Entra administrator — never as a superuser,
 * never with a password. Each child declares what `appDatabaseStatements` (lib/postgresRoleSql.ts) says as SQL
 * for the in-cluster executor; tests/postgres/ proves both leave the same catalogs.
 */
export class PostgresRole extends pulumi.ComponentResource {
    /** The role name; resolves once the role is bound to its Entra principal. */
    public readonly roleName: pulumi.Output<string>;
    /** The migration role's name (`readwrite`/`readonly`), once bound to its principal; undefined for `owner`. */
    public readonly migratorRoleName?: pulumi.Output<string>;
    /** The app's database; resolves once it exists and belongs to its owner. */
    public readonly databaseName: pulumi.Output<string>;
    /** The provider that talks to the server as the Entra administrator. */
    public readonly provider: postgresql.Provider;

    constructor(name: string, args: PostgresRoleArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aks-pg-passwordless:postgresql:PostgresRole", name, {}, opts);
        const profile = args.profile ?? "owner";
        const problem = appDatabaseProblem({ ...args, roleName: "app", principalId: "", migrator: args.migrator && { roleName: "migrator", principalId: "" } });
        if (problem) {
            throw new pulumi.RunError(`PostgresRole ${name}: ${problem}`);
        }

        // `adminLogin` only resolves once the administrator and the firewall rules exist, so this provider
        // never tries to connect early. The password is the deployer's own Entra token for PostgreSQL, minted
        // by the azure-native provider's credentials at that moment rather than by the provider's
        // `azureIdentityAuth` (DefaultAzureCredential → Azure CLI), because in CI the CLI's federated login
        // expires minutes after `azure/login` and cannot renew (Azure/azure-cli#28708), while the server is
        // ready 5-15 minutes in. Valid for the Entra access-token lifetime (60-90 minutes) from then.
        const adminToken = pulumi.secret(pulumi.output(args.adminLogin).apply(async () =>
            (await authorization.getClientToken({ endpoint: OSSRDBMS_RESOURCE }, { parent: this })).token));
        this.provider = new postgresql.Provider(`${name}-admin`, {
            host: args.host,
            port: args.port,
            database: "postgres",
            username: args.adminLogin,
            password: adminToken,
            // Verify the server certificate and host name, not only encrypt: the password is the deployer's Entra
            // token. Azure's certificates chain to DigiCert Global Root G2 / Microsoft RSA Root CA 2017, which the
            // provider's driver (lib/pq) checks against the system roots when no sslrootcert is given.
            sslmode: "verify-full",
            superuser: false,
            connectTimeout: 30,
        }, { parent: this });
        const asAdmin = { parent: this, provider: this.provider };
        const schemaName = schemaOf({ profile, schemaName: args.schemaName, databaseName: args.databaseName });
        const searchPaths = profile === "owner" ? undefined : [schemaName];

        // A LOGIN role bound to an Entra principal, with Azure's administrators as members. The label is its own
        // resource whose `label` is no replacement field in the provider (ForceNew false on `label` in
        // terraform-provider-postgresql's resource_postgresql_security_label.go): a re-created identity's new
        // principal id is an update that rewrites the label on the same role, which keeps its objects.
        //
        // Why the membership: the administrator is not a superuser and does not own the database, and the provider
        // takes no owner rights for database-level grants (getRolesToGrant in resource_postgresql_grant.go borrows
        // owners only for schema and table grants): without it a revoke by the administrator removes nothing. As
        // members of the owner, Azure's administrators act as the owner.
        const entraRole = (prefix: string, roleName: pulumi.Input<string>, label: pulumi.Input<string>) => {
            const role = new postgresql.Role(`${name}-${prefix}role`, {
                name: roleName,
                login: true,
                superuser: false,
                createDatabase: false,
                createRole: false,
                replication: false,
                bypassRowLevelSecurity: false,
                ...(searchPaths ? { searchPaths } : {}),
            }, { ...asAdmin, retainOnDelete: true });
            const entraLabel = new postgresql.SecurityLabel(`${name}-${prefix}entra-label`, {
                objectType: "role",
                objectName: role.name,
                labelProvider: ENTRA_LABEL_PROVIDER,
                label,
            }, asAdmin);
            const adminsMember = new postgresql.GrantRole(`${name}-${prefix}admins-member`, {
                role: AZURE_ADMIN_GROUP,
                grantRole: role.name,
                withAdminOption: false,
            }, asAdmin);
            return { role, entraLabel, adminsMember };
        };

        const migrator = args.migrator && entraRole("migrator-", args.migrator.roleName, entraServiceLabel(args.migrator.principalId));
        const app = entraRole("", args.roleName, entraServiceLabel(args.principalId));
        const owner = migrator ?? app;

        // Roles and data outlive their resources (retainOnDelete): Pulumi forgetting them — an app removed from config, a
        // stack moving its role step to the in-cluster Job — never drops a database; removing one is the operator's
        // call (README, "Database roles: … removing an app"; lib/postgresRoleSql.ts removalStatements).
        const database = new postgresql.Database(`${name}-database`, {
            name: args.databaseName,
            owner: owner.role.name,
            encoding: "UTF8",
            template: "template0",
        }, { ...asAdmin, protect: args.protect, retainOnDelete: true });

        // Isolation between apps on one server: PUBLIC loses CONNECT/TEMPORARY on this database (an empty
        // privilege list revokes), and the owner's rights are spelled out rather than left implicit.
        const asOwner = { ...asAdmin, dependsOn: [owner.adminsMember] };
        new postgresql.Grant(`${name}-revoke-public`, {
            database: database.name,
            role: "public",
            objectType: "database",
            privileges: [],
        }, asOwner);
        new postgresql.Grant(`${name}-${migrator ? "migrator-" : ""}database-grant`, {
            database: database.name,
            role: owner.role.name,
            objectType: "database",
            privileges: [...APP_DATABASE_PRIVILEGES],
        }, asOwner);

        let schema: pulumi.Output<string> = pulumi.output(schemaName);
        if (migrator) {
            // The provider creates the schema in the app's database as its owner's member (withRolesGranted).
            schema = new postgresql.Schema(`${name}-schema`, {
                name: schemaName,
                database: database.name,
                owner: migrator.role.name,
            }, asAdmin).name;
            this.access(name, "", app.role.name, profile as AccessProfile, { database: database.name, schema, tableOwner: migrator.role.name }, asOwner);
        }

        // Dev only (the caller checks developerRoleProblem): each person's own role, type=user, with their profile's
        // grants on this app's schema, including the tables the table owner creates later.
        for (const developer of args.developers ?? []) {
            const key = `developer-${developerKey(developer.login)}-`;
            const dev = entraRole(key, developer.login, entraUserLabelText(developer.objectId));
            this.access(name, key, dev.role.name, developer.profile ?? "readwrite",
                { database: database.name, schema, tableOwner: owner.role.name }, { ...asOwner, dependsOn: [owner.adminsMember, dev.adminsMember] });
        }

        this.roleName = app.entraLabel.objectName;
        this.migratorRoleName = migrator?.entraLabel.objectName;
        this.databaseName = database.name;

        this.registerOutputs({
            roleName: this.roleName,
            migratorRoleName: this.migratorRoleName,
            databaseName: this.databaseName,
            provider: this.provider,
        });
    }

    /** `accessStatements` (lib/postgresRoleSql.ts) as resources: one per statement pair there. */
    private access(name: string, prefix: string, grantee: pulumi.Input<string>, profile: AccessProfile,
        place: { database: pulumi.Input<string>; schema: pulumi.Input<string>; tableOwner: pulumi.Input<string> },
        opts: pulumi.CustomResourceOptions): void {
        const privileges = PROFILE_PRIVILEGES[profile];
        new postgresql.Grant(`${name}-${prefix}database-grant`, {
            database: place.database, role: grantee, objectType: "database", privileges: privileges.database,
        }, opts);
        new postgresql.Grant(`${name}-${prefix}schema-grant`, {
            database: place.database, schema: place.schema, role: grantee, objectType: "schema", privileges: privileges.schema,
        }, opts);
        const kinds = [["tables", "table", privileges.tables], ["sequences", "sequence", privileges.sequences]] as const;
        for (const [plural, objectType, granted] of kinds) {
            if (granted.length === 0) {
                continue;
            }
            new postgresql.Grant(`${name}-${prefix}${plural}-grant`, {
                database: place.database, schema: place.schema, role: grantee, objectType, privileges: [...granted],
            }, opts);
            new postgresql.DefaultPrivileges(`${name}-${prefix}default-${plural}`, {
                database: place.database, schema: place.schema, owner: place.tableOwner, role: grantee, objectType, privileges: [...granted],
            }, opts);
        }
    }
}
