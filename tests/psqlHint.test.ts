import { spawnSync } from "child_process";
import { expect } from "chai";
import { conninfoValue, psqlHint, sqlLiteral } from "../lib/psqlHint";

/** What bash hands `psql` for `command` (psql and az replaced by functions that print their arguments). */
function argvOf(command: string): string[] {
    const out = spawnSync("bash", ["-c", `psql() { printf '%s\\0' "$@"; }; az() { printf token; }; ${command}`], { encoding: "utf8" });
    expect(out.status, out.stderr).to.equal(0);
    return out.stdout.split("\0").slice(0, -1);
}

describe("psqlHint", () => {
    it("conninfo values are single-quoted with backslash and quote escaped, as libpq reads them", () => {
        expect(conninfoValue(String.raw`a b\c'd`)).to.equal(String.raw`'a b\\c\'d'`);
    });

    it("SQL literals double their single quotes", () => {
        expect(sqlLiteral("id-x'y")).to.equal("'id-x''y'");
    });

    it("the shell hands psql the conninfo and the query unchanged: no expansion of $, backquotes or backslashes", () => {
        const [conninfo, flag, query] = argvOf(psqlHint("psql-x.postgres.database.azure.com", 5432, "Team `whoami` \\ $PATH \"PG\"", "role$1"));
        expect(conninfo).to.equal(String.raw`host='psql-x.postgres.database.azure.com' port=5432 dbname=postgres user='Team ` + "`whoami`" + String.raw` \\ $PATH "PG"' sslmode=verify-full sslrootcert='azure-postgres-roots.pem'`);
        expect(flag).to.equal("-c");
        expect(query).to.equal("SELECT * FROM pgaadauth_list_principals(false) WHERE rolname = 'role$1'");
    });

    it("the password is the Entra token az prints, for the PostgreSQL resource", () => {
        const hint = psqlHint("h", 5432, "a", "r");
        expect(hint).to.match(/^PGPASSWORD="\$\(az account get-access-token --resource-type oss-rdbms --query accessToken -o tsv\)" psql /);
    });
});
