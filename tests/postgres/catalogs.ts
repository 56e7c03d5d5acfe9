// The catalogs that say who may do what on a server — roles, memberships, database owners and ACLs, and in each
// database its schemas, default privileges and relations with their owners and ACLs — by name, so two runs (or two
// executors, D1) compare with deep equality.
import { Cluster } from "./cluster";

export interface DatabaseCatalogs {
    namespaces: Record<string, unknown>[];
    defaultAcls: Record<string, unknown>[];
    relations: Record<string, unknown>[];
}

export interface Catalogs {
    roles: Record<string, unknown>[];
    memberships: Record<string, unknown>[];
    databases: Record<string, unknown>[];
    /** Per database that accepts connections (template0 does not), what lives inside it. */
    inside: Record<string, DatabaseCatalogs>;
}

const USER_SCHEMAS = "n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema'";

/**
 * An ACL as its items' text, sorted: an aclitem[] keeps items in the order grants happened, which the engine's
 * order of siblings decides, and means nothing. NULL (the built-in default) stays NULL, unlike an empty ACL.
 */
const acl = (column: string) => `CASE WHEN ${column} IS NULL THEN NULL ELSE ARRAY(SELECT a::text FROM unnest(${column}) a ORDER BY 1) END`;

export async function catalogs(cluster: Cluster): Promise<Catalogs> {
    // One kept superuser connection per database: one query at a time.
    const roles = await cluster.superuser(`SELECT rolname, rolsuper, rolinherit, rolcreaterole, rolcreatedb, rolcanlogin, rolreplication,
            rolbypassrls, rolconnlimit, rolvaliduntil::text AS rolvaliduntil, rolconfig
        FROM pg_roles ORDER BY rolname`);
    // inherit_option and set_option exist from PostgreSQL 16, the oldest major the config allows.
    const memberships = await cluster.superuser(`SELECT pg_get_userbyid(roleid) AS role, pg_get_userbyid(member) AS member,
            pg_get_userbyid(grantor) AS grantor, admin_option, inherit_option, set_option
        FROM pg_auth_members ORDER BY 1, 2, 3`);
    const databases = await cluster.superuser(`SELECT datname, pg_get_userbyid(datdba) AS owner, ${acl("datacl")} AS datacl, datallowconn, datconnlimit
        FROM pg_database ORDER BY datname`);
    const inside: Record<string, DatabaseCatalogs> = {};
    for (const { datname } of databases.filter(d => d.datallowconn) as { datname: string }[]) {
        const namespaces = await cluster.superuser(`SELECT n.nspname, pg_get_userbyid(n.nspowner) AS owner, ${acl("n.nspacl")} AS nspacl
            FROM pg_namespace n WHERE ${USER_SCHEMAS} ORDER BY 1`, [], datname);
        const defaultAcls = await cluster.superuser(`SELECT pg_get_userbyid(d.defaclrole) AS role, n.nspname, d.defaclobjtype,
                ${acl("d.defaclacl")} AS defaclacl
            FROM pg_default_acl d LEFT JOIN pg_namespace n ON n.oid = d.defaclnamespace ORDER BY 1, 2, 3`, [], datname);
        const relations = await cluster.superuser(`SELECT n.nspname, c.relname, c.relkind, pg_get_userbyid(c.relowner) AS owner, ${acl("c.relacl")} AS relacl
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE ${USER_SCHEMAS} ORDER BY 1, 2`, [], datname);
        inside[datname] = { namespaces, defaultAcls, relations };
    }
    return { roles, memberships, databases, inside };
}
