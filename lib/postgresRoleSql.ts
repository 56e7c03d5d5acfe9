// One definition of what an app's place in PostgreSQL is, as SQL. `PostgresRole` declares it with
// @pulumi/postgresql resources (one per statement below); an executor that runs where the provider can't (the
// in-cluster provisioning Job of D1) runs these statements. tests/postgres/ proves on real PostgreSQL 16, 17
// and 18 that both leave the same catalogs.

/** The security-label provider Azure's Entra extension reads to map a role to an Entra principal. */
export const ENTRA_LABEL_PROVIDER = "pgaadauth";

/**
 * Azure's group of server administrators: every administrator (password or Entra) is a member, with inherited
 * privileges; only `azuresu`, which Microsoft holds, is a superuser
 * (learn.microsoft.com/azure/postgresql/security/security-access-control).
 */
export const AZURE_ADMIN_GROUP = "azure_pg_admin";

/** What an app's role may do in its own database, spelled out rather than left implicit in ownership. */
export const APP_DATABASE_PRIVILEGES = ["CONNECT", "CREATE", "TEMPORARY"] as const;

/** The label that binds a PostgreSQL role to a managed identity (a service principal) by its object id. */
export function entraServiceLabelText(principalId: string): string {
    return `aadauth,oid=${principalId},type=service`;
}

export interface AppDatabase {
    /** The app's LOGIN role; by convention its managed identity's name. */
    roleName: string;
    /** Object (principal) id of the managed identity the role is bound to. */
    principalId: string;
    /** The app's own database, owned by the role. */
    databaseName: string;
}

/** A statement and the @pulumi/postgresql resource (by logical-name suffix) that declares the same thing. */
export interface AppDatabaseStatement {
    resource: "role" | "entra-label" | "admins-member" | "database" | "revoke-public" | "database-grant";
    sql: string;
}

/** A double-quoted identifier, whatever the name holds (`-`, `@`, upper case, quotes). */
export function quoteIdent(name: string): string {
    return `"${name.replace(/"/g, '""')}"`;
}

/** A standard-conforming string literal. */
export function quoteLiteral(value: string): string {
    return `'${value.replace(/'/g, "''")}'`;
}

/**
 * The statements, in order, as the server's administrator (CREATEROLE, CREATEDB, not a superuser, not the
 * owner of anything it did not create) runs them.
 *
 * Why `admins-member`: PostgreSQL applies a GRANT or REVOKE on a database as its owner only when the role issuing
 * it is the owner or has the owner's privileges (PostgreSQL docs, GRANT, notes on non-owners); anyone else can
 * only revoke what they granted themselves. From PostgreSQL 16 a CREATEROLE role gets ADMIN OPTION on the roles
 * it creates but, with `createrole_self_grant` at its default, neither INHERIT nor SET — so without this
 * membership the administrator's `REVOKE … FROM PUBLIC` on a database the app role owns revokes nothing (a
 * WARNING, no error). Granting the app role to `azure_pg_admin` (by the administrator, who holds ADMIN OPTION)
 * lets every administrator act as the owner, also after the Entra administrator is replaced. The creating
 * administrator could already grant itself that membership; the group holds only Azure's administrators.
 */
export function appDatabaseStatements(app: AppDatabase): AppDatabaseStatement[] {
    const role = quoteIdent(app.roleName);
    const db = quoteIdent(app.databaseName);
    return [
        { resource: "role", sql: `CREATE ROLE ${role} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE INHERIT NOREPLICATION NOBYPASSRLS CONNECTION LIMIT -1 VALID UNTIL 'infinity'` },
        { resource: "entra-label", sql: `SECURITY LABEL FOR ${quoteIdent(ENTRA_LABEL_PROVIDER)} ON ROLE ${role} IS ${quoteLiteral(entraServiceLabelText(app.principalId))}` },
        { resource: "admins-member", sql: `GRANT ${role} TO ${quoteIdent(AZURE_ADMIN_GROUP)}` },
        { resource: "database", sql: `CREATE DATABASE ${db} OWNER ${role} TEMPLATE template0 ENCODING 'UTF8'` },
        { resource: "revoke-public", sql: `REVOKE ALL PRIVILEGES ON DATABASE ${db} FROM PUBLIC` },
        { resource: "database-grant", sql: `GRANT ${APP_DATABASE_PRIVILEGES.join(", ")} ON DATABASE ${db} TO ${role}` },
    ];
}
