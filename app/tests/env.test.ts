import { expect } from "chai";
import { workloadIdentityCredential } from "../src/credential";
import { EnvError, readDbEnv } from "../src/env";

const good = { PGHOST: "psql-x.postgres.database.azure.com", PGUSER: "id-dev-orders", PGDATABASE: "orders" };

describe("env: the PG* variables are the whole configuration", () => {
    it("reads host, user and database, defaulting port 5432 and sslmode require", () => {
        expect(readDbEnv(good)).to.deep.equal({ ...{ host: good.PGHOST, user: good.PGUSER, database: good.PGDATABASE }, port: 5432, sslmode: "require" });
    });

    it("names every missing variable", () => {
        expect(() => readDbEnv({ PGUSER: "u" })).to.throw(EnvError, "missing environment: PGHOST, PGDATABASE");
    });

    for (const name of ["PGPASSWORD", "PGPASSFILE", "DATABASE_URL"]) {
        it(`refuses to start when ${name} is set: there is no password input`, () => {
            expect(() => readDbEnv({ ...good, [name]: "x" })).to.throw(EnvError, `${name} must not be set`);
        });
    }

    it("rejects a port that is not a TCP port", () => {
        expect(() => readDbEnv({ ...good, PGPORT: "70000" })).to.throw(EnvError, "PGPORT=70000 is not a TCP port");
    });

    it("rejects an sslmode it does not implement", () => {
        expect(() => readDbEnv({ ...good, PGSSLMODE: "prefer" })).to.throw(EnvError, "PGSSLMODE=prefer is not supported");
    });

    it("allows sslmode=disable only for a server on loopback", () => {
        expect(() => readDbEnv({ ...good, PGSSLMODE: "disable" })).to.throw(EnvError, "only allowed for a server on loopback");
        expect(readDbEnv({ ...good, PGHOST: "127.0.0.1", PGSSLMODE: "disable" }).sslmode).to.equal("disable");
    });

    it("without the webhook's variables, says the pod was not mutated and what to check", () => {
        expect(() => workloadIdentityCredential({ AZURE_CLIENT_ID: "c" }))
            .to.throw(EnvError, /missing AZURE_TENANT_ID, AZURE_FEDERATED_TOKEN_FILE: .*azure\.workload\.identity\/use/);
    });
});
