// The catalogs that say who may do what on a server — roles, memberships, database owners and ACLs — by name,
// so two runs (or two executors, D1) compare with deep equality.
import { Cluster } from "./cluster";

export interface Catalogs {
    roles: Record<string, unknown>[];
    memberships: Record<string, unknown>[];
    databases: Record<string, unknown>[];
}

export async function catalogs(cluster: Cluster): Promise<Catalogs> {
    // One kept superuser connection: one query at a time.
    const roles = await cluster.superuser(`SELECT rolname, rolsuper, rolinherit, rolcreaterole, rolcreatedb, rolcanlogin, rolreplication,
            rolbypassrls, rolconnlimit, rolvaliduntil::text AS rolvaliduntil, rolconfig
        FROM pg_roles ORDER BY rolname`);
    // inherit_option and set_option exist from PostgreSQL 16, the oldest major the config allows.
    const memberships = await cluster.superuser(`SELECT pg_get_userbyid(roleid) AS role, pg_get_userbyid(member) AS member,
            pg_get_userbyid(grantor) AS grantor, admin_option, inherit_option, set_option
        FROM pg_auth_members ORDER BY 1, 2, 3`);
    const databases = await cluster.superuser(`SELECT datname, pg_get_userbyid(datdba) AS owner, datacl::text AS datacl, datallowconn, datconnlimit
        FROM pg_database ORDER BY datname`);
    return { roles, memberships, databases };
}
