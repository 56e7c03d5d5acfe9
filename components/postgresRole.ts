import * as pulumi from "@pulumi/pulumi";
import * as authorization from "@pulumi/azure-native/authorization";
import * as postgresql from "@pulumi/postgresql";
import {
    APP_DATABASE_PRIVILEGES, AZURE_ADMIN_GROUP, ENTRA_LABEL_PROVIDER, entraServiceLabelText,
} from "../lib/postgresRoleSql";

/** The Entra resource Azure Database for PostgreSQL accepts tokens for (scope `<resource>/.default`). */
export const OSSRDBMS_RESOURCE = "https://ossrdbms-aad.database.windows.net";

export { ENTRA_LABEL_PROVIDER };

/** The label that binds a PostgreSQL role to a managed identity (a service principal) by its object id. */
export function entraServiceLabel(principalId: pulumi.Input<string>): pulumi.Output<string> {
    return pulumi.output(principalId).apply(entraServiceLabelText);
}

export interface PostgresRoleArgs {
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
    /** The app's own database, owned by the role. */
    databaseName: string;
    /** Protect the database from deletion and replacement. */
    protect: boolean;
}

/**
 * One app's place in PostgreSQL: a LOGIN role with no password, bound to its managed identity through the
 * `pgaadauth` security label, owning a database nobody else may connect to. Created over an Entra-authenticated
 * connection as the server's Entra administrator — never as a superuser, never with a password. Each child
 * declares one statement of `appDatabaseStatements` (postgresRoleSql.ts), the definition an in-cluster executor
 * shares.
 */
export class PostgresRole extends pulumi.ComponentResource {
    /** The role name; resolves once the role is bound to its Entra principal. */
    public readonly roleName: pulumi.Output<string>;
    /** The app's database; resolves once it exists and belongs to the role. */
    public readonly databaseName: pulumi.Output<string>;
    /** The provider that talks to the server as the Entra administrator. */
    public readonly provider: postgresql.Provider;

    constructor(name: string, args: PostgresRoleArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aks-pg-passwordless:postgresql:PostgresRole", name, {}, opts);

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

        const role = new postgresql.Role(`${name}-role`, {
            name: args.roleName,
            login: true,
            superuser: false,
            createDatabase: false,
            createRole: false,
            replication: false,
            bypassRowLevelSecurity: false,
        }, asAdmin);

        const label = new postgresql.SecurityLabel(`${name}-entra-label`, {
            objectType: "role",
            objectName: role.name,
            labelProvider: ENTRA_LABEL_PROVIDER,
            label: entraServiceLabel(args.principalId),
        }, asAdmin);

        const database = new postgresql.Database(`${name}-database`, {
            name: args.databaseName,
            owner: role.name,
            encoding: "UTF8",
            template: "template0",
        }, { ...asAdmin, protect: args.protect });

        // The administrator is not a superuser and does not own the database, and the provider takes no owner
        // rights for database-level grants (getRolesToGrant in terraform-provider-postgresql's
        // resource_postgresql_grant.go borrows owners only for schema and table grants): without this a revoke by
        // the administrator removes nothing. As members of the owner, Azure's administrators act as the owner.
        const adminsMember = new postgresql.GrantRole(`${name}-admins-member`, {
            role: AZURE_ADMIN_GROUP,
            grantRole: role.name,
            withAdminOption: false,
        }, asAdmin);

        // Isolation between apps on one server: PUBLIC loses CONNECT/TEMPORARY on this database (an empty
        // privilege list revokes), and the owner's rights are spelled out rather than left implicit.
        const asOwner = { ...asAdmin, dependsOn: [adminsMember] };
        new postgresql.Grant(`${name}-revoke-public`, {
            database: database.name,
            role: "public",
            objectType: "database",
            privileges: [],
        }, asOwner);
        new postgresql.Grant(`${name}-database-grant`, {
            database: database.name,
            role: role.name,
            objectType: "database",
            privileges: [...APP_DATABASE_PRIVILEGES],
        }, asOwner);

        this.roleName = label.objectName;
        this.databaseName = database.name;

        this.registerOutputs({
            roleName: this.roleName,
            databaseName: this.databaseName,
            provider: this.provider,
        });
    }
}
