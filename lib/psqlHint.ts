// The `psql` command the stack exports per app, for the administrator to check the app's role mapping. It is
// pasted into a POSIX shell, so every value is quoted three times over, innermost first: as a libpq conninfo value,
// as a SQL string literal, and as a shell double-quoted word. Group and service principal logins are display names,
// which may hold spaces, capitals and quotes ("PG Admins (Prod)").

/**
 * The CA bundle the hint verifies the server certificate against. Azure Database for PostgreSQL flexible server
 * certificates chain to DigiCert Global Root G2 or Microsoft RSA Root Certificate Authority 2017 (Microsoft's
 * "Azure Certificate Authority details"; README, "Verify from a pod", shows how to build this file).
 */
export const AZURE_POSTGRES_CA_BUNDLE = "azure-postgres-roots.pem";

/** A libpq conninfo value: always single-quoted, with `\` and `'` backslash-escaped (libpq "Connection Strings"). */
export function conninfoValue(value: string): string {
    return `'${value.replace(/[\\']/g, c => `\\${c}`)}'`;
}

/** A SQL string literal: single quotes, doubled inside (the one quoting the role SQL uses too). */
export { quoteLiteral as sqlLiteral } from "./postgresRoleSql";
import { quoteLiteral as sqlLiteral } from "./postgresRoleSql";

/** A word for a POSIX shell's double quotes: `$`, backquote, `"` and `\` escaped. */
export function shellDoubleQuoted(value: string): string {
    return `"${value.replace(/[$`"\\]/g, c => `\\${c}`)}"`;
}

/**
 * The command: an Entra token for PostgreSQL from `az` as the password, TLS that verifies the server's certificate
 * chain and host name (`sslmode=verify-full` against AZURE_POSTGRES_CA_BUNDLE), and a query for `role`'s mapping.
 */
export function psqlHint(host: string, port: number, adminLogin: string, role: string): string {
    const conninfo = [
        `host=${conninfoValue(host)}`, `port=${port}`, "dbname=postgres", `user=${conninfoValue(adminLogin)}`,
        "sslmode=verify-full", `sslrootcert=${conninfoValue(AZURE_POSTGRES_CA_BUNDLE)}`,
    ].join(" ");
    const query = `SELECT * FROM pgaadauth_list_principals(false) WHERE rolname = ${sqlLiteral(role)}`;
    return `PGPASSWORD="$(az account get-access-token --resource-type oss-rdbms --query accessToken -o tsv)" `
        + `psql ${shellDoubleQuoted(conninfo)} -c ${shellDoubleQuoted(query)}`;
}
