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
} as const;

/**
 * Orders the engine may create the resources in: each waits for the outputs (or dependsOn) of those it uses, and
 * siblings (the label, the admins' membership and the database all wait only for the role) run in any order.
 */
export const ENGINE_ORDERS: string[][] = [
    [TYPES.role, TYPES.label, TYPES.grantRole, TYPES.database, TYPES.grant],
    [TYPES.role, TYPES.database, TYPES.grantRole, TYPES.label, TYPES.grant],
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
        roles: [...textArray(row.array)].sort(), searchPaths: (row.rolconfig ?? []).filter((c: string) => c.startsWith("search_path=")),
    };
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
// Grant — resource_postgresql_grant.go (object_type "database" only: the program declares no other)

/**
 * resourcePostgreSQLGrantCreateOrUpdate: on the target database, lock the role and the database, take the
 * owners' roles (getRolesToGrant returns none for object_type database), REVOKE ALL then GRANT (nothing when
 * the list is empty), commit; then readRolePrivileges.
 */
async function createGrant(s: ProviderSession, r: DeclaredResource): Promise<void> {
    const i = r.inputs;
    if (i.objectType !== "database" || i.schema !== undefined || (i.objects ?? []).length > 0 || bool(i.withGrantOption, false)) {
        throw new Error(`${r.name}: only plain database grants are modelled`);
    }
    await s.tx(r.name, i.database, async tx => {
        await pgLockRole(tx, i.role);
        await tx.exec("SET statement_timeout = 0"); // pgLockDatabase
        await tx.exec("SELECT pg_advisory_xact_lock(oid::bigint) FROM pg_database WHERE datname = $1", [i.database]);
        // withRolesGranted(txn, [], fn) → fn(): createRevokeQuery, then createGrantQuery
        await tx.exec(`REVOKE ALL PRIVILEGES ON DATABASE ${pqQuoteIdentifier(i.database)} FROM ${pqQuoteIdentifier(i.role)}`);
        const privileges = (i.privileges ?? []) as string[];
        if (privileges.length > 0) {
            await tx.exec(`GRANT ${privileges.join(",")} ON DATABASE ${pqQuoteIdentifier(i.database)} TO ${pqQuoteIdentifier(i.role)}`);
        }
        await tx.commit();
    });
    await s.tx(r.name, i.database, tx => readGrantPrivileges(tx, i));
}

async function readGrantPrivileges(tx: Tx, i: Record<string, any>): Promise<string[]> {
    let oid = 0; // getRoleOID: PUBLIC is grantee 0
    if (i.role !== "public") {
        [{ oid }] = await tx.exec("SELECT oid FROM pg_roles WHERE rolname = $1", [i.role]);
    }
    const [row] = await tx.exec(`
SELECT array_agg(privilege_type)
FROM (
	SELECT (aclexplode(datacl)).* FROM pg_database WHERE datname=$1
) as privileges
WHERE grantee = $2
`, [i.database, oid]);
    return [...(row.array_agg ?? [])].sort();
}

/** resourcePostgreSQLGrantRead: checkRoleDBSchemaExists, then readRolePrivileges. */
async function readGrant(s: ProviderSession, r: DeclaredResource): Promise<Record<string, unknown> | undefined> {
    const i = r.inputs;
    if ((await s.db(r.name, "SELECT datname FROM pg_database WHERE datname=$1", [i.database])).length === 0) {
        return undefined;
    }
    const roleFound = await s.tx(r.name, i.database, async tx =>
        i.role === "public" || (await tx.exec("SELECT 1 FROM pg_roles WHERE rolname=$1", [i.role])).length > 0);
    if (!roleFound) {
        return undefined;
    }
    return { privileges: await s.tx(r.name, i.database, tx => readGrantPrivileges(tx, i)) };
}

// ---------------------------------------------------------------------------------------------------------------

interface Model {
    create(s: ProviderSession, r: DeclaredResource): Promise<void>;
    read(s: ProviderSession, r: DeclaredResource): Promise<Record<string, unknown> | undefined>;
    wanted(i: Record<string, any>): Record<string, unknown>;
    /** The statements an update sends (Grant is the only resource here whose update is not a replacement). */
    update?(s: ProviderSession, r: DeclaredResource): Promise<void>;
}

const MODELS: Record<string, Model> = {
    [TYPES.role]: { create: createRole, read: readRole, wanted: wantedRole },
    [TYPES.label]: {
        create: createLabel, read: readLabel,
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
