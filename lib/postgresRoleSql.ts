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


/**
 * The label that binds a PostgreSQL role to a person's Entra login (a user) by its object id — what
 * `pgaadauth_create_principal_with_oid(…, 'user', …)` writes (learn.microsoft.com/azure/postgresql, "Manage
 * Microsoft Entra roles": `SECURITY LABEL for "pgaadauth" on role "<upn>" is 'aadauth,oid=<oid>,type=user'`).
 */
export function entraUserLabelText(objectId: string): string {
    return `aadauth,oid=${objectId},type=user`;
}

/**
 * What an app's long-running role may do:
 * - `owner`: owns its database (and so everything in it, DDL included) — one identity for migrations and traffic.
 * - `readwrite`: DML on the tables of one schema that the app's migration role owns; no DDL anywhere.
 * - `readonly`: SELECT on those tables.
 */
export const ROLE_PROFILES = ["owner", "readwrite", "readonly"] as const;
export type RoleProfile = (typeof ROLE_PROFILES)[number];
/** The profiles that leave DDL to a separate migration role. */
export type AccessProfile = Exclude<RoleProfile, "owner">;

/** Per access profile, the privileges granted on each kind of object — and nothing else. */
export const PROFILE_PRIVILEGES: Record<AccessProfile, { database: string[]; schema: string[]; tables: string[]; sequences: string[] }> = {
    // No CREATE on the database or the schema; no TRUNCATE, REFERENCES or TRIGGER (which are DDL-adjacent).
    // Sequences: USAGE for nextval() of `serial` columns (identity columns need none), SELECT for currval().
    readwrite: { database: ["CONNECT", "TEMPORARY"], schema: ["USAGE"], tables: ["SELECT", "INSERT", "UPDATE", "DELETE"], sequences: ["USAGE", "SELECT"] },
    readonly: { database: ["CONNECT"], schema: ["USAGE"], tables: ["SELECT"], sequences: [] },
};

/** The migration role of an app whose long-running role is `readwrite` or `readonly`. */
export interface MigratorRole {
    /** Its LOGIN role; by convention the migration identity's name. */
    roleName: string;
    /** Object (principal) id of the migration identity. */
    principalId: string;
}

export interface AppDatabase {
    /** The app's LOGIN role; by convention its managed identity's name. */
    roleName: string;
    /** Object (principal) id of the managed identity the role is bound to. */
    principalId: string;
    /** The app's own database. */
    databaseName: string;
    /** What the app's role may do; default `owner`. */
    profile?: RoleProfile;
    /** Owns the database and the schema and runs DDL; required for `readwrite`/`readonly`, refused for `owner`. */
    migrator?: MigratorRole;
    /** The schema the migration role owns and the app's role uses (`readwrite`/`readonly`); default: the database's name. */
    schemaName?: string;
}

/** Names of the @pulumi/postgresql resources (logical-name suffixes) the statements correspond to. */
export type StatementResource =
    | "role" | "entra-label" | "admins-member" | "database" | "revoke-public" | "database-grant"
    | "migrator-role" | "migrator-entra-label" | "migrator-admins-member" | "migrator-database-grant" | "schema"
    | "schema-grant" | "tables-grant" | "sequences-grant" | "default-tables" | "default-sequences"
    | `developer-${string}`;

/**
 * A statement and the @pulumi/postgresql resource (by logical-name suffix) that declares the same thing. An
 * executor runs `sql` connected to `database` (the administrator's `postgres` when absent), unless `skipIf` (a
 * query run on the same connection) returns a row: that makes CREATE ROLE/DATABASE safe to run again, which
 * PostgreSQL has no IF NOT EXISTS for and CREATE DATABASE cannot do inside a DO block. `applyStatements` below
 * is the reference loop.
 */
export interface AppDatabaseStatement {
    resource: StatementResource;
    sql: string;
    database?: string;
    skipIf?: string;
}

/** A double-quoted identifier, whatever the name holds (`-`, `@`, upper case, quotes). */
export function quoteIdent(name: string): string {
    return `"${name.replace(/"/g, '""')}"`;
}

/** A standard-conforming string literal. */
export function quoteLiteral(value: string): string {
    return `'${value.replace(/'/g, "''")}'`;
}

/** The profile, defaulted. */
export function profileOf(app: Pick<AppDatabase, "profile">): RoleProfile {
    return app.profile ?? "owner";
}

/** The schema an app's tables live in: `public` for `owner` (its role owns the database), else the migration role's schema. */
export function schemaOf(app: Pick<AppDatabase, "profile" | "schemaName" | "databaseName">): string {
    return profileOf(app) === "owner" ? "public" : app.schemaName ?? app.databaseName;
}

/** Who creates (and so owns) the app's tables: the app's role for `owner`, else its migration role. */
export function tableOwnerOf(app: Pick<AppDatabase, "profile" | "roleName" | "migrator">): string {
    return profileOf(app) === "owner" ? app.roleName : app.migrator!.roleName;
}

/** Why an app's role settings are inconsistent, or undefined when they are fine. */
export function appDatabaseProblem(app: AppDatabase): string | undefined {
    const profile = profileOf(app);
    if (!(ROLE_PROFILES as readonly string[]).includes(profile)) {
        return `profile ${JSON.stringify(profile)} is not one of ${ROLE_PROFILES.join(", ")}`;
    }
    if (profile === "owner" && app.migrator) {
        return "profile owner runs migrations as the app's own role: a migration role is only for readwrite or readonly";
    }
    if (profile !== "owner" && !app.migrator) {
        return `profile ${profile} holds no DDL: it needs a migration role that owns the schema (migrations)`;
    }
    if (app.migrator && app.migrator.roleName === app.roleName) {
        return "the migration role must be a role of its own, not the app's";
    }
    if (profile === "owner" && app.schemaName !== undefined) {
        return "profile owner uses the public schema of its own database; schemaName is only for readwrite or readonly";
    }
    return undefined;
}

/** Role attributes every role the program makes has: it logs in (with an Entra token) and can do nothing server-wide. */
const LOGIN_ATTRIBUTES = "LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE INHERIT NOREPLICATION NOBYPASSRLS CONNECTION LIMIT -1 VALID UNTIL 'infinity'";
/**
 * The attributes a re-run re-asserts. From PostgreSQL 16, ALTER ROLE naming SUPERUSER, REPLICATION or BYPASSRLS
 * (even as NO…) needs the caller to hold that attribute (docs, ALTER ROLE), which Azure's administrator does not
 * all hold; and only holders can give them, so an administrator's role can never have gained them.
 */
const CONVERGED_ATTRIBUTES = "LOGIN NOCREATEDB NOCREATEROLE INHERIT CONNECTION LIMIT -1 VALID UNTIL 'infinity'";

/**
 * A LOGIN role bound to an Entra principal, that Azure's administrators are members of: created when missing,
 * its attributes and search_path set either way (so a re-run converges), its label (re)written — which is also
 * how a re-created identity's new principal id reaches the same role (SECURITY LABEL replaces the old label).
 */
function entraRoleStatements(prefix: "" | "migrator-" | `developer-${string}-`, roleName: string, label: string, searchPath?: string): AppDatabaseStatement[] {
    const role = quoteIdent(roleName);
    const r = (s: string) => `${prefix}${s}` as StatementResource;
    return [
        { resource: r("role"), sql: `CREATE ROLE ${role} WITH ${LOGIN_ATTRIBUTES}`, skipIf: `SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = ${quoteLiteral(roleName)}` },
        { resource: r("role"), sql: `ALTER ROLE ${role} WITH ${CONVERGED_ATTRIBUTES}` },
        { resource: r("role"), sql: searchPath === undefined ? `ALTER ROLE ${role} RESET search_path` : `ALTER ROLE ${role} SET search_path TO ${quoteIdent(searchPath)}` },
        { resource: r("entra-label"), sql: `SECURITY LABEL FOR ${quoteIdent(ENTRA_LABEL_PROVIDER)} ON ROLE ${role} IS ${quoteLiteral(label)}` },
        { resource: r("admins-member"), sql: `GRANT ${role} TO ${quoteIdent(AZURE_ADMIN_GROUP)}` },
    ];
}

/** Where an access profile applies: a schema of a database, and the role whose future tables it covers. */
export interface AccessPlace {
    databaseName: string;
    schemaName: string;
    tableOwner: string;
}

/**
 * A role's rights under an access profile: database, schema, the tables and sequences there now, and those
 * `tableOwner` creates there later (ALTER DEFAULT PRIVILEGES FOR ROLE, which applies only to objects that very role
 * creates). Each pair revokes first, as the provider's Grant and DefaultPrivileges do, so a re-run converges.
 */
export function accessStatements(prefix: "" | `developer-${string}-`, grantee: string, profile: AccessProfile, place: AccessPlace): AppDatabaseStatement[] {
    const to = quoteIdent(grantee);
    const db = quoteIdent(place.databaseName);
    const schema = quoteIdent(place.schemaName);
    const privileges = PROFILE_PRIVILEGES[profile];
    const inDb = { database: place.databaseName };
    const r = (s: string) => `${prefix}${s}` as StatementResource;
    const defaults = `ALTER DEFAULT PRIVILEGES FOR ROLE ${quoteIdent(place.tableOwner)} IN SCHEMA ${schema}`;
    const statements: AppDatabaseStatement[] = [
        { resource: r("database-grant"), sql: `REVOKE ALL PRIVILEGES ON DATABASE ${db} FROM ${to}` },
        { resource: r("database-grant"), sql: `GRANT ${privileges.database.join(", ")} ON DATABASE ${db} TO ${to}` },
        { resource: r("schema-grant"), sql: `REVOKE ALL PRIVILEGES ON SCHEMA ${schema} FROM ${to}`, ...inDb },
        { resource: r("schema-grant"), sql: `GRANT ${privileges.schema.join(", ")} ON SCHEMA ${schema} TO ${to}`, ...inDb },
        { resource: r("tables-grant"), sql: `REVOKE ALL PRIVILEGES ON ALL TABLES IN SCHEMA ${schema} FROM ${to}`, ...inDb },
        { resource: r("tables-grant"), sql: `GRANT ${privileges.tables.join(", ")} ON ALL TABLES IN SCHEMA ${schema} TO ${to}`, ...inDb },
        { resource: r("default-tables"), sql: `${defaults} REVOKE ALL ON TABLES FROM ${to}`, ...inDb },
        { resource: r("default-tables"), sql: `${defaults} GRANT ${privileges.tables.join(", ")} ON TABLES TO ${to}`, ...inDb },
    ];
    if (privileges.sequences.length > 0) {
        statements.push(
            { resource: r("sequences-grant"), sql: `REVOKE ALL PRIVILEGES ON ALL SEQUENCES IN SCHEMA ${schema} FROM ${to}`, ...inDb },
            { resource: r("sequences-grant"), sql: `GRANT ${privileges.sequences.join(", ")} ON ALL SEQUENCES IN SCHEMA ${schema} TO ${to}`, ...inDb },
            { resource: r("default-sequences"), sql: `${defaults} REVOKE ALL ON SEQUENCES FROM ${to}`, ...inDb },
            { resource: r("default-sequences"), sql: `${defaults} GRANT ${privileges.sequences.join(", ")} ON SEQUENCES TO ${to}`, ...inDb },
        );
    }
    return statements;
}

/**
 * The statements, in order, as the server's administrator (CREATEROLE, CREATEDB, not a superuser, not the
 * owner of anything it did not create) runs them. Safe to run again: the result is the same catalogs.
 *
 * Why `admins-member`: PostgreSQL applies a GRANT or REVOKE on a database as its owner only when the role issuing
 * it is the owner or has the owner's privileges (PostgreSQL docs, GRANT, notes on non-owners); anyone else can
 * only revoke what they granted themselves. From PostgreSQL 16 a CREATEROLE role gets ADMIN OPTION on the roles
 * it creates but, with `createrole_self_grant` at its default, neither INHERIT nor SET — so without this
 * membership the administrator's `REVOKE … FROM PUBLIC` on a database the app role owns revokes nothing (a
 * WARNING, no error). Granting the app role to `azure_pg_admin` (by the administrator, who holds ADMIN OPTION)
 * lets every administrator act as the owner, also after the Entra administrator is replaced. The creating
 * administrator could already grant itself that membership; the group holds only Azure's administrators.
 *
 * For `readwrite`/`readonly` the migration role owns the database and the schema (so it alone has DDL), and the
 * app's role gets `accessStatements` on that schema, covering the tables the migration role creates later.
 */
export function appDatabaseStatements(app: AppDatabase): AppDatabaseStatement[] {
    const problem = appDatabaseProblem(app);
    if (problem) {
        throw new Error(`${app.databaseName}: ${problem}`);
    }
    const profile = profileOf(app);
    const db = quoteIdent(app.databaseName);
    const owner = profile === "owner" ? app.roleName : app.migrator!.roleName;
    const ownerResource = profile === "owner" ? "database-grant" : "migrator-database-grant";
    const schema = schemaOf(app);
    const searchPath = profile === "owner" ? undefined : schema;
    return [
        ...(app.migrator ? entraRoleStatements("migrator-", app.migrator.roleName, entraServiceLabelText(app.migrator.principalId), searchPath) : []),
        ...entraRoleStatements("", app.roleName, entraServiceLabelText(app.principalId), searchPath),
        {
            resource: "database", sql: `CREATE DATABASE ${db} OWNER ${quoteIdent(owner)} TEMPLATE template0 ENCODING 'UTF8'`,
            skipIf: `SELECT 1 FROM pg_catalog.pg_database WHERE datname = ${quoteLiteral(app.databaseName)}`,
        },
        { resource: "database", sql: `ALTER DATABASE ${db} OWNER TO ${quoteIdent(owner)}` },
        { resource: "revoke-public", sql: `REVOKE ALL PRIVILEGES ON DATABASE ${db} FROM PUBLIC` },
        { resource: ownerResource, sql: `REVOKE ALL PRIVILEGES ON DATABASE ${db} FROM ${quoteIdent(owner)}` },
        { resource: ownerResource, sql: `GRANT ${APP_DATABASE_PRIVILEGES.join(", ")} ON DATABASE ${db} TO ${quoteIdent(owner)}` },
        ...(profile === "owner" ? [] : [
            { resource: "schema" as const, sql: `CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)} AUTHORIZATION ${quoteIdent(owner)}`, database: app.databaseName },
            { resource: "schema" as const, sql: `ALTER SCHEMA ${quoteIdent(schema)} OWNER TO ${quoteIdent(owner)}`, database: app.databaseName },
            ...accessStatements("", app.roleName, profile, { databaseName: app.databaseName, schemaName: schema, tableOwner: owner }),
        ]),
    ];
}

// ---------------------------------------------------------------------------------------------------------------
// Developers (dev only): a person's own role, on their own Entra login.

/** Developer profiles: a person reads and writes data, or only reads it; never DDL, never the app's own role. */
export const DEVELOPER_PROFILES = ["readwrite", "readonly"] as const satisfies readonly AccessProfile[];

export interface Developer {
    /** The person's Entra user principal name, e.g. `ada@contoso.com`: the PostgreSQL role they log in as. */
    login: string;
    /** The person's Entra object id. */
    objectId: string;
    /** What they may do in the app's database; default `readwrite`. */
    profile?: AccessProfile;
}

/** The logical-name key of a developer's resources: their login, reduced to what a URN reads well with. */
export function developerKey(login: string): string {
    return login.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "");
}

/**
 * A developer's role with `profile`'s grants on one app's database and schema, covering the tables the app's
 * table owner creates later. Run after `appDatabaseStatements(app)`.
 */
export function developerStatements(developer: Developer, app: AppDatabase): AppDatabaseStatement[] {
    const prefix = `developer-${developerKey(developer.login)}-` as const;
    const schema = schemaOf(app);
    return [
        ...entraRoleStatements(prefix, developer.login, entraUserLabelText(developer.objectId), profileOf(app) === "owner" ? undefined : schema),
        ...accessStatements(prefix, developer.login, developer.profile ?? "readwrite", {
            databaseName: app.databaseName, schemaName: schema, tableOwner: tableOwnerOf(app),
        }),
    ];
}

/** Everything one app needs, in order: its own statements, then each developer's (dev only; config refuses them elsewhere). */
export function appWithDevelopersStatements(app: AppDatabase, developers: readonly Developer[] = []): AppDatabaseStatement[] {
    return [...appDatabaseStatements(app), ...developers.flatMap(d => developerStatements(d, app))];
}

/** Stacks that must never hold a developer role. */
const PRODUCTION_STACK = /^prod(-|$)/;
const UPN = /^[^@\s"]+@[^@\s"]+\.[^@\s"]+$/;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Why `developers` may not be given on `stack`, or undefined when they may. Never in prod (a `prod` or `prod-…`
 * stack, or any stack that protects its data): production data is reached through the apps, not by people.
 */
export function developerRoleProblem(stack: string, developers: readonly Developer[], options: { protectData?: boolean } = {}): string | undefined {
    if (developers.length === 0) {
        return undefined;
    }
    if (PRODUCTION_STACK.test(stack) || options.protectData) {
        return `developer roles are for dev only: stack ${stack}${PRODUCTION_STACK.test(stack) ? " is a production stack" : " protects its data"}; remove developers`;
    }
    const seen = new Set<string>();
    for (const [i, d] of developers.entries()) {
        if (!UPN.test(d.login)) {
            return `developers[${i}].login ${JSON.stringify(d.login)} is not a user principal name (name@domain)`;
        }
        if (!GUID.test(d.objectId)) {
            return `developers[${i}].objectId ${JSON.stringify(d.objectId)} is not an Entra object id (a GUID)`;
        }
        if (d.profile !== undefined && !(DEVELOPER_PROFILES as readonly string[]).includes(d.profile)) {
            return `developers[${i}].profile ${JSON.stringify(d.profile)} is not one of ${DEVELOPER_PROFILES.join(", ")}`;
        }
        const key = d.login.toLowerCase();
        if (seen.has(key)) {
            return `developers[${i}].login ${d.login} is listed twice: a person has one role on the server, for one app`;
        }
        seen.add(key);
    }
    return undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// Removing an app: only when the operator says so.

export interface RemovalOptions {
    /** Drop the app's database and everything in it. Without it, the data is kept and handed to `keeper`. */
    dropDatabase: boolean;
    /** With `dropDatabase: false`: the NOLOGIN role that owns the database, its schema and tables afterwards. */
    keeper?: string;
}

/**
 * What removes an app's roles from the server, in order — the procedure of the README's "Removing an app". Not
 * part of any `pulumi up`: the app's database is protected in prod, and a role that still owns objects cannot be
 * dropped. Keeping the data: REASSIGN OWNED gives the database, the schema and the tables to `keeper` (created
 * NOLOGIN when missing, and made a member of azure_pg_admin so the administrators can still act on it), DROP OWNED
 * removes every privilege granted to the app's roles there and the default privileges they defined or received,
 * then the roles go. Dropping the data: the database goes first (nobody may be connected), then DROP OWNED in
 * `postgres` for anything left on shared objects, then the roles.
 */
export function removalStatements(app: Pick<AppDatabase, "roleName" | "databaseName" | "migrator">, options: RemovalOptions): AppDatabaseStatement[] {
    const roles = [app.roleName, ...(app.migrator ? [app.migrator.roleName] : [])].map(quoteIdent).join(", ");
    const dropRoles: AppDatabaseStatement[] = [app.roleName, ...(app.migrator ? [app.migrator.roleName] : [])].map(name => ({
        resource: (name === app.roleName ? "role" : "migrator-role") as StatementResource,
        sql: `DROP ROLE IF EXISTS ${quoteIdent(name)}`,
    }));
    if (options.dropDatabase) {
        return [
            { resource: "database", sql: `DROP DATABASE IF EXISTS ${quoteIdent(app.databaseName)}` },
            { resource: "role", sql: `DROP OWNED BY ${roles}` },
            ...dropRoles,
        ];
    }
    if (!options.keeper) {
        throw new Error(`${app.databaseName}: keeping the data needs a keeper role to own it (options.keeper)`);
    }
    const keeper = quoteIdent(options.keeper);
    const inDb = { database: app.databaseName };
    return [
        { resource: "role", sql: `CREATE ROLE ${keeper} WITH NOLOGIN`, skipIf: `SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = ${quoteLiteral(options.keeper)}` },
        { resource: "admins-member", sql: `GRANT ${keeper} TO ${quoteIdent(AZURE_ADMIN_GROUP)}` },
        { resource: "database", sql: `REASSIGN OWNED BY ${roles} TO ${keeper}`, ...inDb },
        { resource: "database", sql: `DROP OWNED BY ${roles}`, ...inDb },
        { resource: "role", sql: `DROP OWNED BY ${roles}` },
        ...dropRoles,
    ];
}

// ---------------------------------------------------------------------------------------------------------------

/** A connection an executor runs statements on (node-postgres' Client fits). */
export interface SqlSession {
    query(sql: string): Promise<{ rows: unknown[] }>;
}

/**
 * The reference executor loop: each statement on a session to its database, skipped when its `skipIf` finds a
 * row. Returns the statements it ran (for a log).
 */
export async function applyStatements(sessionFor: (database: string) => Promise<SqlSession>, statements: readonly AppDatabaseStatement[],
    adminDatabase = "postgres"): Promise<AppDatabaseStatement[]> {
    const ran: AppDatabaseStatement[] = [];
    for (const statement of statements) {
        const session = await sessionFor(statement.database ?? adminDatabase);
        if (statement.skipIf && (await session.query(statement.skipIf)).rows.length > 0) {
            continue;
        }
        await session.query(statement.sql);
        ran.push(statement);
    }
    return ran;
}
