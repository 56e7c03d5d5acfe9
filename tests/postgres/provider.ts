// What @pulumi/postgresql 3.18.1 sends to the server, statement by statement, for the resources PostgresRole
// declares. The bridged Terraform provider is cyrilgdn/terraform-provider-postgresql at ff936b9 (the `upstream`
// submodule of pulumi/pulumi-postgresql since "Upgrade terraform-provider-postgresql to v1.27.0", #974, which
// 3.18.x ships). Each function cites the Go function it follows (file under postgresql/); statement text,
// quoting, parameters, connections and transactions are reproduced as that code builds them.
//
// Connections: the provider's `db` is a database/sql pool with SetMaxIdleConns(0) (config.go, Client.Connect),
// so each `db.Exec`/`db.QueryRow` is an autocommit statement; `startTransaction(client, dbname)` (helpers.go)
// opens a transaction on `dbname` (the provider's database, `postgres`, when empty).
import { Client, types } from "pg";
import { Cluster } from "./cluster";

/** A resource as the program declared it (type token, logical name, inputs as recorded by the mocks). */
export interface DeclaredResource {
    type: string;
    name: string;
    inputs: Record<string, any>;
}

export const TYPES = {
    role: "postgresql:index/role:Role",
    label: "postgresql:index/securityLabel:SecurityLabel",
    grantRole: "postgresql:index/grantRole:GrantRole",
    database: "postgresql:index/database:Database",
    grant: "postgresql:index/grant:Grant",
    schema: "postgresql:index/schema:Schema",
    defaultPrivileges: "postgresql:index/defaultPrivileges:DefaultPrivileges",
} as const;

/**
 * Orders the engine may create the resources in: each waits for the outputs (or dependsOn) of those it uses, and
 * siblings (the label, the admins' membership and the database all wait only for the role) run in any order.
 */
export const ENGINE_ORDERS: string[][] = [
    [TYPES.role, TYPES.label, TYPES.grantRole, TYPES.database, TYPES.schema, TYPES.grant, TYPES.defaultPrivileges],
    [TYPES.role, TYPES.database, TYPES.grantRole, TYPES.label, TYPES.schema, TYPES.defaultPrivileges, TYPES.grant],
];

export interface Sent {
    resource: string;
    database: string;
    sql: string;
    params?: unknown[];
    /** WARNINGs/NOTICEs the server answered with (e.g. "no privileges could be revoked"). */
    notices: string[];
    /** Not executed locally (the pgaadauth label); checked separately. */
    recordedOnly?: boolean;
}

/** lib/pq's QuoteIdentifier: cut at NUL, double the quotes, always quote. */
export function pqQuoteIdentifier(name: string): string {
    const end = name.indexOf("\u0000");
    return `"${(end >= 0 ? name.slice(0, end) : name).replace(/"/g, '""')}"`;
}

/** lib/pq's QuoteLiteral: double single quotes; with a backslash, double it and prefix ` E`. */
export function pqQuoteLiteral(literal: string): string {
    const quoted = literal.replace(/'/g, "''");
    return quoted.includes("\\") ? ` E'${quoted.replace(/\\/g, "\\\\")}'` : `'${quoted}'`;
}

/** resource_postgresql_security_label.go quoteIdentifier: quote unless a lower-case plain identifier. */
export function labelQuoteIdentifier(name: string): string {
    return /^[a-zA-Z_][a-zA-Z0-9_]*$/.test(name) && name === name.toLowerCase() ? name : pqQuoteIdentifier(name);
}

type Tx = { exec(sql: string, params?: unknown[]): Promise<Record<string, any>[]> };

/** The provider's view of the server: one admin login (the provider's `username`), a log of what it sent. */
export class ProviderSession {
    public readonly sent: Sent[] = [];
    private readonly clients = new Map<string, Promise<Client & { notices: string[] }>>();

    constructor(private readonly cluster: Cluster, public readonly username: string) {}

    /** The kept connection `key` to `database`, with the notices the server sent on it. */
    private conn(key: string, database: string): Promise<Client & { notices: string[] }> {
        let conn = this.clients.get(key);
        if (!conn) {
            conn = this.cluster.connect(this.username, database).then(client => {
                const notices: string[] = [];
                client.on("notice", n => notices.push(`${n.severity}: ${n.message}`));
                return Object.assign(client, { notices });
            });
            this.clients.set(key, conn);
        }
        return conn;
    }

    private async run(client: Client & { notices: string[] }, resource: string, database: string, sql: string, params?: unknown[]) {
        const start = client.notices.length;
        const entry: Sent = { resource, database, sql, params, notices: [] };
        this.sent.push(entry);
        try {
            return (await client.query(sql, params)).rows as Record<string, any>[];
        } finally {
            entry.notices = client.notices.slice(start);
        }
    }

    /** `db.Exec` / `db.QueryRow` on the provider's database: autocommit. */
    async db(resource: string, sql: string, params?: unknown[]): Promise<Record<string, any>[]> {
        return this.run(await this.conn("db", "postgres"), resource, "postgres", sql, params);
    }

    /**
     * `startTransaction(client, database)`: BEGIN, commit only if `fn` asks to (deferredRollback otherwise). The
     * provider opens a fresh connection each time; one connection per database, reused for transactions that
     * never overlap, keeps the test fast and sends the same statements.
     */
    async tx<T>(resource: string, dbname: string, fn: (tx: Tx & { commit(): Promise<void> }) => Promise<T>): Promise<T> {
        const database = dbname || "postgres"; // the provider's own database
        const client = await this.conn(`tx:${database}`, database);
        let open = true;
        const tx = {
            exec: (sql: string, params?: unknown[]) => this.run(client, resource, database, sql, params),
            commit: async () => { await this.run(client, resource, database, "COMMIT"); open = false; },
        };
        await this.run(client, resource, database, "BEGIN");
        try {
            return await fn(tx);
        } finally {
            if (open) {
                await this.run(client, resource, database, "ROLLBACK");
            }
        }
    }

    /** A statement that cannot run locally (no pgaadauth): logged, not sent. */
    record(resource: string, sql: string): void {
        this.sent.push({ resource, database: "postgres", sql, notices: [], recordedOnly: true });
    }

    async close(): Promise<void> {
        await Promise.all([...this.clients.values()].map(c => c.then(client => client.end(), () => undefined)));
        this.clients.clear();
    }
}

const textArrayParser = (types.getTypeParser as (oid: number) => (value: string) => unknown)(1009 /* text[] */);
/** name[] (what ARRAY(SELECT pg_get_userbyid(…)) yields) comes back as text from node-postgres; Go's driver decodes it. */
const textArray = (v: unknown): string[] => (typeof v === "string" ? textArrayParser(v) as string[] : v as string[]);

const bool = (v: unknown, dflt: boolean) => (v === undefined ? dflt : v === true || v === "true");

// ---------------------------------------------------------------------------------------------------------------
// Role — resource_postgresql_role.go

/** resourcePostgreSQLRoleCreate: CREATE ROLE (+ roles, search_path) in one transaction, then the read. */
async function createRole(s: ProviderSession, r: DeclaredResource): Promise<void> {
    const i = r.inputs;
    const name: string = i.name;
    await s.tx(r.name, "", async tx => {
        const opts: string[] = [];
        // stringOpts: PASSWORD (not set: the role has none), VALID UNTIL (schema default "infinity")
        const validUntil: string = i.validUntil ?? "infinity";
        opts.push(validUntil === "" || validUntil.toLowerCase() === "infinity" ? "VALID UNTIL 'infinity'" : `VALID UNTIL '${validUntil}'`);
        opts.push(`CONNECTION LIMIT ${i.connectionLimit ?? -1}`);
        opts.push(bool(i.superuser, false) ? "SUPERUSER" : "NOSUPERUSER");
        opts.push(bool(i.createDatabase, false) ? "CREATEDB" : "NOCREATEDB");
        opts.push(bool(i.createRole, false) ? "CREATEROLE" : "NOCREATEROLE");
        opts.push(bool(i.inherit, true) ? "INHERIT" : "NOINHERIT");
        opts.push(bool(i.login, false) ? "LOGIN" : "NOLOGIN");
        opts.push(bool(i.bypassRowLevelSecurity, false) ? "BYPASSRLS" : "NOBYPASSRLS"); // featureRLS (9.5+)
        opts.push(bool(i.replication, false) ? "REPLICATION" : "NOREPLICATION"); // featureReplication
        if (i.password !== undefined || i.passwordWo !== undefined) {
            throw new Error(`${r.name}: a password was declared; this model (and the program) has none`);
        }
        await tx.exec(`CREATE ROLE ${pqQuoteIdentifier(name)} WITH ${opts.join(" ")}`);
        for (const granted of (i.roles ?? []) as string[]) { // grantRoles
            await tx.exec(`GRANT ${pqQuoteIdentifier(granted)} TO ${pqQuoteIdentifier(name)}`);
        }
        const searchPath = ((i.searchPaths ?? []) as string[]).map(pqQuoteIdentifier).join(", ") || "DEFAULT"; // alterSearchPath
        await tx.exec(`ALTER ROLE ${pqQuoteIdentifier(name)} SET search_path TO ${searchPath}`);
        for (const key of ["statementTimeout", "idleInTransactionSessionTimeout", "assumeRole"]) {
            if (i[key] !== undefined) {
                throw new Error(`${r.name}: ${key} is not modelled (the program does not set it)`);
            }
        }
        await tx.commit();
    });
    await readRole(s, r, false);
}

/** resourcePostgreSQLRoleExists (on refresh) + resourcePostgreSQLRoleReadImpl: the state the provider stores. */
async function readRole(s: ProviderSession, r: DeclaredResource, checkExists = true): Promise<Record<string, unknown> | undefined> {
    if (checkExists && (await s.db(r.name, "SELECT rolname FROM pg_catalog.pg_roles WHERE rolname=$1", [r.inputs.name])).length === 0) {
        return undefined;
    }
    const [row] = await s.db(r.name, `SELECT ARRAY(
			SELECT pg_get_userbyid(roleid) FROM pg_catalog.pg_auth_members members WHERE member = pg_roles.oid
		), rolname, rolsuper, rolinherit, rolcreaterole, rolcreatedb, rolcanlogin, rolconnlimit, COALESCE(rolvaliduntil::TEXT, 'infinity'), rolconfig, rolreplication, rolbypassrls
		FROM pg_catalog.pg_roles WHERE rolname=$1`, [r.inputs.name]);
    if (!row) {
        return undefined;
    }
    return {
        name: row.rolname, superuser: row.rolsuper, inherit: row.rolinherit, createRole: row.rolcreaterole,
        createDatabase: row.rolcreatedb, login: row.rolcanlogin, connectionLimit: row.rolconnlimit,
        validUntil: row.coalesce, replication: row.rolreplication, bypassRowLevelSecurity: row.rolbypassrls,
        roles: [...textArray(row.array)].sort(), searchPaths: readSearchPath(row.rolconfig ?? []),
    };
}

/** readSearchPath: the first rolconfig entry starting with `search_path`, split on ", ", each part's quotes trimmed. */
function readSearchPath(rolconfig: string[]): string[] {
    const entry = rolconfig.find(c => c.startsWith("search_path"));
    return entry === undefined ? [] : entry.slice("search_path=".length).split(", ").map(p => p.replace(/^"+|"+$/g, ""));
}

function wantedRole(i: Record<string, any>): Record<string, unknown> {
    return {
        name: i.name, superuser: bool(i.superuser, false), inherit: bool(i.inherit, true), createRole: bool(i.createRole, false),
        createDatabase: bool(i.createDatabase, false), login: bool(i.login, false), connectionLimit: i.connectionLimit ?? -1,
        validUntil: i.validUntil ?? "infinity", replication: bool(i.replication, false),
        bypassRowLevelSecurity: bool(i.bypassRowLevelSecurity, false), roles: [...(i.roles ?? [])].sort(), searchPaths: i.searchPaths ?? [],
    };
}

// ---------------------------------------------------------------------------------------------------------------
// SecurityLabel — resource_postgresql_security_label.go

/** resourcePostgreSQLSecurityLabelUpdateImpl's statement (note its double space and `ON role"name"`). */
export function securityLabelSql(i: Record<string, any>): string {
    return `SECURITY LABEL  FOR ${pqQuoteIdentifier(i.labelProvider)} ON ${i.objectType}${pqQuoteIdentifier(i.objectName)} IS ${pqQuoteLiteral(i.label)}`;
}

/** resourcePostgreSQLSecurityLabelReadImpl: the query and parameters the read sends. */
export function securityLabelRead(i: Record<string, any>): { sql: string; params: string[] } {
    return {
        sql: "SELECT objtype, provider, objname, label FROM pg_seclabels WHERE objtype = $1 and objname = $2 and provider = $3",
        params: [i.objectType, labelQuoteIdentifier(i.objectName), labelQuoteIdentifier(i.labelProvider)],
    };
}

async function createLabel(s: ProviderSession, r: DeclaredResource): Promise<void> {
    s.record(r.name, securityLabelSql(r.inputs));
    await readLabel(s, r);
}

/**
 * The read runs for real; locally it finds no row (no label provider can be loaded without a C module), so the
 * stored state is what the create recorded. Whether Azure's row would match the read's parameters is checked
 * by the test against pg_seclabels' definition.
 */
async function readLabel(s: ProviderSession, r: DeclaredResource): Promise<Record<string, unknown>> {
    await s.tx(r.name, "", async () => undefined); // startTransaction, unused by the query
    const { sql, params } = securityLabelRead(r.inputs);
    await s.db(r.name, sql, params);
    const i = r.inputs;
    return { objectType: i.objectType, objectName: i.objectName, labelProvider: i.labelProvider, label: i.label };
}

// ---------------------------------------------------------------------------------------------------------------
// GrantRole — resource_postgresql_grant_role.go

async function createGrantRole(s: ProviderSession, r: DeclaredResource): Promise<void> {
    const i = r.inputs;
    await s.tx(r.name, "", async tx => {
        await tx.exec(`REVOKE ${pqQuoteIdentifier(i.grantRole)} FROM ${pqQuoteIdentifier(i.role)}`); // revokeRole
        await tx.exec(`GRANT ${pqQuoteIdentifier(i.grantRole)} TO ${pqQuoteIdentifier(i.role)}${bool(i.withAdminOption, false) ? " WITH ADMIN OPTION" : ""}`);
        await tx.commit();
    });
    await readGrantRole(s, r);
}

/** readGrantRole: QueryRow takes the first row, whichever pg_auth_members row that is. */
async function readGrantRole(s: ProviderSession, r: DeclaredResource): Promise<Record<string, unknown> | undefined> {
    const rows = await s.db(r.name, `
SELECT
  pg_get_userbyid(member) as role,
  pg_get_userbyid(roleid) as grant_role,
  admin_option
FROM
  pg_auth_members
WHERE
  pg_get_userbyid(member) = $1 AND
  pg_get_userbyid(roleid) = $2;
`, [r.inputs.role, r.inputs.grantRole]);
    return rows[0] && { role: rows[0].role, grantRole: rows[0].grant_role, withAdminOption: rows[0].admin_option };
}

// ---------------------------------------------------------------------------------------------------------------
// Database — resource_postgresql_database.go

/** helpers.go isMemberOfRole: a membership counts only with SET (from PostgreSQL 16, when the column exists). */
async function isMemberOfRole(s: ProviderSession, resource: string, role: string, member: string): Promise<boolean> {
    const setOption = await s.db(resource, "SELECT 1 FROM information_schema.columns WHERE table_name='pg_auth_members' AND column_name = 'set_option'");
    let query = "SELECT 1 FROM pg_auth_members WHERE pg_get_userbyid(roleid) = $1 AND pg_get_userbyid(member) = $2";
    if (setOption.length > 0) {
        query += " AND set_option";
    }
    return (await s.db(resource, query, [role, member])).length > 0;
}

/** helpers.go pgLockRole. */
async function pgLockRole(tx: Tx, role: string): Promise<void> {
    await tx.exec("SET statement_timeout = 0");
    await tx.exec("SELECT pg_advisory_xact_lock(oid::bigint) FROM pg_roles WHERE rolname = $1", [role]);
    await tx.exec("SELECT pg_advisory_xact_lock(member::bigint) FROM pg_auth_members JOIN pg_roles ON roleid = pg_roles.oid WHERE rolname = $1", [role]);
}

/**
 * createDatabase: under an advisory lock on the admin, the admin temporarily becomes a member of the owner
 * (grantRoleMembership, needed to give the database to another role), CREATE DATABASE, then the deferred
 * revokeRoleMembership and the lock transaction's rollback; then resourcePostgreSQLDatabaseReadImpl.
 */
async function createDatabase(s: ProviderSession, r: DeclaredResource): Promise<void> {
    const i = r.inputs;
    const currentUser = s.username; // config.getDatabaseUsername()
    const owner: string | undefined = i.owner;
    await s.tx(r.name, "", async lockTxn => {
        let granted = false;
        if (owner) {
            await pgLockRole(lockTxn, currentUser);
            if (owner !== currentUser && !(await isMemberOfRole(s, r.name, owner, currentUser))) {
                await s.db(r.name, `GRANT ${pqQuoteIdentifier(owner)} TO ${pqQuoteIdentifier(currentUser)}`);
                granted = true;
            }
        }
        try {
            let sql = `CREATE DATABASE ${pqQuoteIdentifier(i.name)}`;
            sql += ` OWNER ${pqQuoteIdentifier(owner ?? currentUser)}`;
            const template: string | undefined = i.template;
            sql += template === undefined || template === "" ? " TEMPLATE template0"
                : template.toUpperCase() === "DEFAULT" ? " TEMPLATE DEFAULT" : ` TEMPLATE ${pqQuoteIdentifier(template)}`;
            const encoding: string | undefined = i.encoding;
            sql += encoding === undefined || encoding === "" ? " ENCODING 'UTF8'"
                : encoding.toUpperCase() === "DEFAULT" ? " ENCODING DEFAULT" : ` ENCODING '${encoding.replace(/\\/g, "\\\\").replace(/'/g, "''")}' `;
            for (const key of ["lcCollate", "lcCtype", "tablespaceName"]) {
                if (i[key] !== undefined) {
                    throw new Error(`${r.name}: ${key} is not modelled (the program does not set it)`);
                }
            }
            sql += ` ALLOW_CONNECTIONS ${bool(i.allowConnections, true)}`; // featureDBAllowConnections
            sql += ` CONNECTION LIMIT ${i.connectionLimit ?? -1}`;
            sql += ` IS_TEMPLATE ${bool(i.isTemplate, false)}`; // featureDBIsTemplate
            await s.db(r.name, sql);
        } finally {
            if (granted && await isMemberOfRole(s, r.name, owner!, currentUser)) { // deferred revokeRoleMembership
                await s.db(r.name, `REVOKE ${pqQuoteIdentifier(owner!)} FROM ${pqQuoteIdentifier(currentUser)}`);
            }
        }
    });
    await readDatabase(s, r, false);
}

async function readDatabase(s: ProviderSession, r: DeclaredResource, checkExists = true): Promise<Record<string, unknown> | undefined> {
    const name: string = r.inputs.name;
    if (checkExists) { // resourcePostgreSQLDatabaseExists
        const found = await s.tx(r.name, "", tx => tx.exec("SELECT datname FROM pg_database WHERE datname=$1", [name]));
        if (found.length === 0) {
            return undefined;
        }
    }
    const [owner] = await s.db(r.name, "SELECT d.datname, pg_catalog.pg_get_userbyid(d.datdba) from pg_database d WHERE datname=$1", [name]);
    if (!owner) {
        return undefined;
    }
    const from = "FROM pg_catalog.pg_database AS d, pg_catalog.pg_tablespace AS ts WHERE d.datname = $1 AND d.dattablespace = ts.oid";
    const [row] = await s.db(r.name, `SELECT pg_catalog.pg_encoding_to_char(d.encoding), d.datcollate, d.datctype, ts.spcname, d.datconnlimit ${from}`, [name]);
    const [allow] = await s.db(r.name, `SELECT d.datallowconn ${from}`, [name]);
    const [tmpl] = await s.db(r.name, `SELECT d.datistemplate ${from}`, [name]);
    return {
        name: owner.datname, owner: owner.pg_get_userbyid, encoding: row.pg_encoding_to_char, connectionLimit: row.datconnlimit,
        allowConnections: allow.datallowconn, isTemplate: tmpl.datistemplate, template: r.inputs.template ?? "template0",
    };
}

function wantedDatabase(i: Record<string, any>): Record<string, unknown> {
    return {
        name: i.name, owner: i.owner, encoding: i.encoding ?? "UTF8", connectionLimit: i.connectionLimit ?? -1,
        allowConnections: bool(i.allowConnections, true), isTemplate: bool(i.isTemplate, false), template: i.template ?? "template0",
    };
}

// ---------------------------------------------------------------------------------------------------------------
// Grant — resource_postgresql_grant.go (object types database, schema, table and sequence; no `objects`, no columns)

/** resource_postgresql_grant.go objectTypes: the pg_class relkind (or pg_default_acl defaclobjtype) of each type. */
const OBJECT_TYPES: Record<string, string> = { table: "r", sequence: "S", function: "f", routine: "f", type: "T", schema: "n" };

/** helpers.go getDatabaseOwner: `database` by name, or the connection's (current_database()) when empty. */
async function getDatabaseOwner(tx: Tx, database: string): Promise<string> {
    const [row] = database === ""
        ? await tx.exec("\nSELECT rolname\n  FROM pg_database\n  JOIN pg_roles ON datdba = pg_roles.oid\n  WHERE datname = current_database()\n")
        : await tx.exec("\nSELECT rolname\n  FROM pg_database\n  JOIN pg_roles ON datdba = pg_roles.oid\n  WHERE datname = $1\n", [database]);
    if (!row) {
        throw new Error(`could not find database '${database}' while looking for owner`);
    }
    return row.rolname;
}

/** helpers.go isMemberOfRole, on the transaction (withRolesGranted's callers pass it). */
async function isMemberOfRoleTx(tx: Tx, role: string, member: string): Promise<boolean> {
    const setOption = await tx.exec("SELECT 1 FROM information_schema.columns WHERE table_name='pg_auth_members' AND column_name = 'set_option'");
    let query = "SELECT 1 FROM pg_auth_members WHERE pg_get_userbyid(roleid) = $1 AND pg_get_userbyid(member) = $2";
    if (setOption.length > 0) {
        query += " AND set_option";
    }
    return (await tx.exec(query, [role, member])).length > 0;
}

/** helpers.go grantRoleMembership / revokeRoleMembership: act only when the membership is (not) there. */
async function grantRoleMembership(tx: Tx, role: string, member: string): Promise<boolean> {
    if (member === role || await isMemberOfRoleTx(tx, role, member)) {
        return false;
    }
    await tx.exec(`GRANT ${pqQuoteIdentifier(role)} TO ${pqQuoteIdentifier(member)}`);
    return true;
}

async function revokeRoleMembership(tx: Tx, role: string, member: string): Promise<boolean> {
    if (member === role || !(await isMemberOfRoleTx(tx, role, member))) {
        return false;
    }
    await tx.exec(`REVOKE ${pqQuoteIdentifier(role)} FROM ${pqQuoteIdentifier(member)}`);
    return true;
}

/**
 * helpers.go withRolesGranted: unless a superuser, the current user becomes a member of each role (after revoking
 * the reverse membership, should there be one), runs `fn`, then undoes both — all in the caller's transaction.
 */
async function withRolesGranted(tx: Tx, roles: string[], fn: () => Promise<void>): Promise<void> {
    if (roles.length === 0) {
        return fn();
    }
    const [{ current_user: currentUser }] = await tx.exec("SELECT CURRENT_USER");
    const isSuperuser = async (role: string) => (await tx.exec("SELECT rolsuper FROM pg_roles WHERE rolname = $1", [role]))[0].rolsuper === true;
    if (await isSuperuser(currentUser)) {
        return fn();
    }
    const granted: string[] = [];
    const revoked: string[] = [];
    for (const role of roles) {
        if (await isSuperuser(role)) {
            continue;
        }
        if (await revokeRoleMembership(tx, currentUser, role)) {
            revoked.push(role);
        }
        if (await grantRoleMembership(tx, role, currentUser)) {
            granted.push(role);
        }
    }
    await fn();
    for (const role of granted) {
        await revokeRoleMembership(tx, role, currentUser);
    }
    for (const role of revoked) {
        if ((await tx.exec("SELECT 1 FROM pg_roles WHERE rolname=$1", [role])).length > 0) { // roleExists
            await grantRoleMembership(tx, currentUser, role);
        }
    }
}

/** resource_postgresql_grant.go getRolesToGrant: the tables' owners (not for schema grants), the schema's, resolved. */
async function getRolesToGrant(tx: Tx, i: Record<string, any>): Promise<string[]> {
    if (i.objectType === "database") {
        return [];
    }
    let owners: string[] = [];
    if (i.objectType !== "schema") { // getTablesOwner
        owners = (await tx.exec("SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = $1", [i.schema])).map(r => r.tableowner);
    }
    const [schemaOwner] = await tx.exec("\nSELECT rolname\n  FROM pg_namespace\n  JOIN pg_roles ON nspowner = pg_roles.oid\n  WHERE nspname = $1\n", [i.schema]);
    if (!schemaOwner) {
        throw new Error(`could not find schema '${i.schema}' while looking for owner`);
    }
    if (!owners.includes(schemaOwner.rolname)) {
        owners.push(schemaOwner.rolname);
    }
    const resolved: string[] = []; // resolveOwners
    for (const owner of owners) {
        resolved.push(owner === "pg_database_owner" ? await getDatabaseOwner(tx, "") : owner);
    }
    return resolved;
}

/** createRevokeQuery / createGrantQuery for the object types modelled (no `objects`: every object in the schema). */
function grantQueries(i: Record<string, any>): { revoke: string; grant?: string } {
    const role = pqQuoteIdentifier(i.role);
    const privileges = ((i.privileges ?? []) as string[]).join(",");
    switch (i.objectType) {
        case "database": {
            const db = pqQuoteIdentifier(i.database);
            return { revoke: `REVOKE ALL PRIVILEGES ON DATABASE ${db} FROM ${role}`, grant: privileges ? `GRANT ${privileges} ON DATABASE ${db} TO ${role}` : undefined };
        }
        case "schema": {
            const schema = pqQuoteIdentifier(i.schema);
            return { revoke: `REVOKE ALL PRIVILEGES ON SCHEMA ${schema} FROM ${role}`, grant: privileges ? `GRANT ${privileges} ON SCHEMA ${schema} TO ${role}` : undefined };
        }
        case "table":
        case "sequence": {
            const all = `ALL ${i.objectType.toUpperCase()}S IN SCHEMA ${pqQuoteIdentifier(i.schema)}`;
            return { revoke: `REVOKE ALL PRIVILEGES ON ${all} FROM ${role}`, grant: privileges ? `GRANT ${privileges} ON ${all} TO ${role}` : undefined };
        }
        default:
            throw new Error(`object type ${i.objectType} is not modelled`);
    }
}

/**
 * resourcePostgreSQLGrantCreateOrUpdate: on the target database, lock the role (and the database for a database
 * grant), borrow the owners' roles (getRolesToGrant), REVOKE ALL then GRANT (nothing when the list is empty),
 * commit; then readRolePrivileges.
 */
async function createGrant(s: ProviderSession, r: DeclaredResource): Promise<void> {
    const i = r.inputs;
    if ((i.objects ?? []).length > 0 || (i.columns ?? []).length > 0 || bool(i.withGrantOption, false)) {
        throw new Error(`${r.name}: grants on named objects, columns or with grant option are not modelled`);
    }
    if (i.objectType !== "database" && !i.schema) {
        throw new Error(`${r.name}: parameter 'schema' is mandatory for postgresql_grant resource`);
    }
    await s.tx(r.name, i.database, async tx => {
        await pgLockRole(tx, i.role);
        if (i.objectType === "database") {
            await tx.exec("SET statement_timeout = 0"); // pgLockDatabase
            await tx.exec("SELECT pg_advisory_xact_lock(oid::bigint) FROM pg_database WHERE datname = $1", [i.database]);
        }
        const owners = await getRolesToGrant(tx, i);
        await withRolesGranted(tx, owners, async () => {
            const { revoke, grant } = grantQueries(i);
            await tx.exec(revoke);
            if (grant) {
                await tx.exec(grant);
            }
        });
        await tx.commit();
    });
    await s.tx(r.name, i.database, tx => readGrantPrivileges(tx, i));
}

/** getRoleOID: PUBLIC is grantee 0. */
async function roleOid(tx: Tx, role: string): Promise<number> {
    return role === "public" ? 0 : (await tx.exec("SELECT oid FROM pg_roles WHERE rolname = $1", [role]))[0].oid;
}

/** readRolePrivileges: what the provider stores as `privileges` (for tables: the first table that differs, else as declared). */
async function readGrantPrivileges(tx: Tx, i: Record<string, any>): Promise<string[]> {
    const oid = await roleOid(tx, i.role);
    const wanted = [...(i.privileges ?? [])].sort();
    switch (i.objectType) {
        case "database":
        case "schema": {
            const [row] = i.objectType === "database"
                ? await tx.exec("\nSELECT array_agg(privilege_type)\nFROM (\n\tSELECT (aclexplode(datacl)).* FROM pg_database WHERE datname=$1\n) as privileges\nWHERE grantee = $2\n", [i.database, oid])
                : await tx.exec("\nSELECT array_agg(privilege_type)\nFROM (\n\tSELECT (aclexplode(nspacl)).* FROM pg_namespace WHERE nspname=$1\n) as privileges\nWHERE grantee = $2\n", [i.schema, oid]);
            return [...textArray(row.array_agg ?? [])].sort();
        }
        default: {
            const rows = await tx.exec(`
SELECT pg_class.relname, array_remove(array_agg(privilege_type), NULL)
FROM pg_class
JOIN pg_namespace ON pg_namespace.oid = pg_class.relnamespace
LEFT JOIN (
    SELECT acls.* FROM (
        SELECT relname, relnamespace, relkind, (aclexplode(relacl)).* FROM pg_class c
    ) as acls
    WHERE grantee=$1
) privs
USING (relname, relnamespace, relkind)
WHERE nspname = $2 AND relkind = $3
GROUP BY pg_class.relname
`, [oid, i.schema, OBJECT_TYPES[i.objectType]]);
            for (const row of rows) {
                const granted = [...textArray(row.array_remove)].sort();
                if (JSON.stringify(granted) !== JSON.stringify(wanted)) {
                    return granted;
                }
            }
            return wanted;
        }
    }
}

/** checkRoleDBSchemaExists: the database, the role (unless PUBLIC) and, for objects in a schema, the schema. */
async function roleDbSchemaExists(s: ProviderSession, r: DeclaredResource): Promise<boolean> {
    const i = r.inputs;
    if ((await s.db(r.name, "SELECT datname FROM pg_database WHERE datname=$1", [i.database])).length === 0) {
        return false;
    }
    return s.tx(r.name, i.database, async tx => {
        if (i.role !== "public" && (await tx.exec("SELECT 1 FROM pg_roles WHERE rolname=$1", [i.role])).length === 0) {
            return false;
        }
        if (i.objectType !== "database" && i.schema) {
            return (await tx.exec("SELECT 1 FROM pg_namespace WHERE nspname=$1", [i.schema])).length > 0;
        }
        return true;
    });
}

/** resourcePostgreSQLGrantRead: checkRoleDBSchemaExists, then readRolePrivileges. */
async function readGrant(s: ProviderSession, r: DeclaredResource): Promise<Record<string, unknown> | undefined> {
    if (!(await roleDbSchemaExists(s, r))) {
        return undefined;
    }
    return { privileges: await s.tx(r.name, r.inputs.database, tx => readGrantPrivileges(tx, r.inputs)) };
}

// ---------------------------------------------------------------------------------------------------------------
// Schema — resource_postgresql_schema.go

/**
 * resourcePostgreSQLSchemaCreate: in the schema's database, borrow the database owner's and the schema owner's
 * roles, then createSchema (CREATE SCHEMA IF NOT EXISTS … AUTHORIZATION when missing); commit; read.
 */
async function createSchema(s: ProviderSession, r: DeclaredResource): Promise<void> {
    const i = r.inputs;
    if (i.policies !== undefined || i.ifNotExists === false) {
        throw new Error(`${r.name}: schema policies and if_not_exists=false are not modelled`);
    }
    await s.tx(r.name, i.database, async tx => {
        const dbOwner = await getDatabaseOwner(tx, i.database);
        const roles = [dbOwner, ...(i.owner && i.owner !== dbOwner ? [i.owner] : [])];
        await withRolesGranted(tx, roles, async () => {
            const found = await tx.exec("SELECT TRUE FROM pg_catalog.pg_namespace WHERE nspname = $1", [i.name]);
            if (found.length > 0) {
                throw new Error(`${r.name}: the schema exists already; setSchemaOwner is not modelled`);
            }
            await tx.exec(`CREATE SCHEMA IF NOT EXISTS ${pqQuoteIdentifier(i.name)}${i.owner ? ` AUTHORIZATION ${pqQuoteIdentifier(i.owner)}` : ""}`);
        });
        await tx.commit();
    });
    await readSchema(s, r, false);
}

/** resourcePostgreSQLSchemaExists (on refresh) + resourcePostgreSQLSchemaReadImpl. */
async function readSchema(s: ProviderSession, r: DeclaredResource, checkExists = true): Promise<Record<string, unknown> | undefined> {
    const i = r.inputs;
    if (checkExists) {
        if ((await s.db(r.name, "SELECT datname FROM pg_database WHERE datname=$1", [i.database])).length === 0) { // dbExists
            return undefined;
        }
        const found = await s.tx(r.name, i.database, tx => tx.exec("SELECT n.nspname FROM pg_catalog.pg_namespace n WHERE n.nspname=$1", [i.name]));
        if (found.length === 0) {
            return undefined;
        }
    }
    const [row] = await s.tx(r.name, i.database, tx => tx.exec(
        "SELECT pg_catalog.pg_get_userbyid(n.nspowner), COALESCE(n.nspacl, '{}'::aclitem[])::TEXT[] FROM pg_catalog.pg_namespace n WHERE n.nspname=$1", [i.name]));
    return row && { name: i.name, owner: row.pg_get_userbyid, database: i.database };
}

// ---------------------------------------------------------------------------------------------------------------
// DefaultPrivileges — resource_postgresql_default_privileges.go

function defaultPrivilegesQueries(i: Record<string, any>): { revoke: string; grant?: string } {
    const inSchema = i.schema ? `IN SCHEMA ${pqQuoteIdentifier(i.schema)}` : "";
    const head = `ALTER DEFAULT PRIVILEGES FOR ROLE ${pqQuoteIdentifier(i.owner)} ${inSchema}`;
    const kind = `${String(i.objectType).toUpperCase()}S`;
    const privileges = ((i.privileges ?? []) as string[]).join(",");
    return {
        revoke: `${head} REVOKE ALL ON ${kind} FROM ${pqQuoteIdentifier(i.role)}`,
        grant: privileges ? `${head} GRANT ${privileges} ON ${kind} TO ${pqQuoteIdentifier(i.role)}` : undefined,
    };
}

/** resourcePostgreSQLDefaultPrivilegesCreate (also its Update): lock the owner, borrow its role, revoke all, grant; read. */
async function createDefaultPrivileges(s: ProviderSession, r: DeclaredResource): Promise<void> {
    const i = r.inputs;
    if (bool(i.withGrantOption, false) || !["table", "sequence"].includes(i.objectType)) {
        throw new Error(`${r.name}: only tables and sequences without grant option are modelled`);
    }
    await s.tx(r.name, i.database, async tx => {
        await pgLockRole(tx, i.owner);
        await withRolesGranted(tx, [i.owner], async () => {
            const { revoke, grant } = defaultPrivilegesQueries(i);
            await tx.exec(revoke);
            if (grant) {
                await tx.exec(grant);
            }
        });
        await tx.commit();
    });
    await s.tx(r.name, i.database, tx => readDefaultPrivilegesTx(tx, i));
}

/** readRoleDefaultPrivileges: the privileges `owner` gives `role` by default in the schema; undefined when none (gone). */
async function readDefaultPrivilegesTx(tx: Tx, i: Record<string, any>): Promise<string[] | undefined> {
    await pgLockRole(tx, i.owner);
    const oid = await roleOid(tx, i.role);
    const [row] = await tx.exec(`SELECT array_agg(prtype) FROM (
\t\tSELECT defaclnamespace, (aclexplode(defaclacl)).* FROM pg_default_acl
\t\tWHERE defaclobjtype = $3
\t) AS t (namespace, grantor_oid, grantee_oid, prtype, grantable)
\tJOIN pg_namespace ON pg_namespace.oid = namespace
\tWHERE grantee_oid = $1 AND nspname = $2 AND pg_get_userbyid(grantor_oid) = $4;
`, [oid, i.schema, OBJECT_TYPES[i.objectType], i.owner]);
    const privileges = [...textArray(row.array_agg ?? [])].sort();
    return privileges.length === 0 && (i.privileges ?? []).length > 0 ? undefined : privileges;
}

async function readDefaultPrivileges(s: ProviderSession, r: DeclaredResource): Promise<Record<string, unknown> | undefined> {
    if (!(await roleDbSchemaExists(s, r))) {
        return undefined;
    }
    const privileges = await s.tx(r.name, r.inputs.database, tx => readDefaultPrivilegesTx(tx, r.inputs));
    return privileges && { privileges };
}

// ---------------------------------------------------------------------------------------------------------------

interface Model {
    create(s: ProviderSession, r: DeclaredResource): Promise<void>;
    read(s: ProviderSession, r: DeclaredResource): Promise<Record<string, unknown> | undefined>;
    wanted(i: Record<string, any>): Record<string, unknown>;
    /** The statements an update sends, for resources the provider updates in place. */
    update?(s: ProviderSession, r: DeclaredResource): Promise<void>;
}

const MODELS: Record<string, Model> = {
    [TYPES.role]: { create: createRole, read: readRole, wanted: wantedRole },
    [TYPES.label]: {
        // resourcePostgreSQLSecurityLabelUpdate sends the create's statement with the new label, then reads.
        create: createLabel, read: readLabel, update: createLabel,
        wanted: i => ({ objectType: i.objectType, objectName: i.objectName, labelProvider: i.labelProvider, label: i.label }),
    },
    [TYPES.grantRole]: {
        create: createGrantRole, read: readGrantRole,
        wanted: i => ({ role: i.role, grantRole: i.grantRole, withAdminOption: bool(i.withAdminOption, false) }),
    },
    [TYPES.database]: { create: createDatabase, read: readDatabase, wanted: wantedDatabase },
    [TYPES.grant]: {
        create: createGrant, read: readGrant, update: createGrant,
        wanted: i => ({ privileges: [...(i.privileges ?? [])].sort() }),
    },
    [TYPES.schema]: { create: createSchema, read: readSchema, wanted: i => ({ name: i.name, owner: i.owner, database: i.database }) },
    [TYPES.defaultPrivileges]: {
        create: createDefaultPrivileges, read: readDefaultPrivileges, update: createDefaultPrivileges,
        wanted: i => ({ privileges: [...(i.privileges ?? [])].sort() }),
    },
};

function modelOf(r: DeclaredResource): Model {
    const model = MODELS[r.type];
    if (!model) {
        throw new Error(`${r.name}: no model of what ${r.type} sends; add it to tests/postgres/provider.ts from the provider's source`);
    }
    return model;
}

/** The declared resources in an order the engine may create them in. */
export function inEngineOrder(resources: DeclaredResource[], order = ENGINE_ORDERS[0]): DeclaredResource[] {
    resources.forEach(modelOf);
    return [...resources].sort((a, b) => order.indexOf(a.type) - order.indexOf(b.type));
}

/** `pulumi up` on an empty stack: each resource's create, as the provider sends it. */
export async function firstApply(s: ProviderSession, resources: DeclaredResource[], order = ENGINE_ORDERS[0]): Promise<void> {
    for (const r of inEngineOrder(resources, order)) {
        await modelOf(r).create(s, r);
    }
}

export interface Drift {
    resource: string;
    read: Record<string, unknown> | undefined;
    wanted: Record<string, unknown>;
}

/**
 * `pulumi up --refresh` on an unchanged program: every resource's read; where what the provider reads differs
 * from what the program declares, the provider would act (update, or create again when the read finds nothing) —
 * and does here, so the catalogs show what a second apply leaves.
 */
export async function secondApply(s: ProviderSession, resources: DeclaredResource[]): Promise<Drift[]> {
    const drift: Drift[] = [];
    for (const r of inEngineOrder(resources)) {
        const model = modelOf(r);
        const read = await model.read(s, r);
        const wanted = model.wanted(r.inputs);
        if (read === undefined || JSON.stringify(read) !== JSON.stringify(wanted)) {
            drift.push({ resource: r.name, read, wanted });
            if (read !== undefined && model.update) {
                await model.update(s, r);
            } else {
                throw new Error(`${r.name}: a second apply would replace it (read ${JSON.stringify(read)}, declared ${JSON.stringify(wanted)})`);
            }
        }
    }
    return drift;
}

/**
 * Fields whose change the provider answers with a replacement (ForceNew in its schema), per type this model
 * updates: resource_postgresql_security_label.go marks object_name, object_type and label_provider ForceNew and
 * `label` not.
 */
const FORCE_NEW: Record<string, string[]> = {
    [TYPES.label]: ["objectName", "objectType", "labelProvider"],
};

export interface Change {
    resource: string;
    changed: string[];
    /** `unmodelled`: a change this model does not know the provider's answer to (the test fails on it). */
    action: "update" | "replace" | "unmodelled";
}

/**
 * `pulumi up` after the program changed (`before` → `after`, same logical names): each changed resource's update
 * as the provider sends it; replacements are reported, not run.
 */
export async function changeApply(s: ProviderSession, before: DeclaredResource[], after: DeclaredResource[]): Promise<Change[]> {
    const changes: Change[] = [];
    for (const r of inEngineOrder(after)) {
        const old = before.find(b => b.name === r.name);
        if (!old) {
            changes.push({ resource: r.name, changed: ["(new)"], action: "unmodelled" });
            continue;
        }
        const changed = [...new Set([...Object.keys(old.inputs), ...Object.keys(r.inputs)])]
            .filter(k => JSON.stringify(old.inputs[k]) !== JSON.stringify(r.inputs[k]));
        if (changed.length === 0) {
            continue;
        }
        const forceNew = FORCE_NEW[r.type];
        const model = modelOf(r);
        if (!forceNew || !model.update) {
            changes.push({ resource: r.name, changed, action: "unmodelled" });
        } else if (changed.some(k => forceNew.includes(k))) {
            changes.push({ resource: r.name, changed, action: "replace" });
        } else {
            await model.update(s, r);
            changes.push({ resource: r.name, changed, action: "update" });
        }
    }
    return changes;
}
