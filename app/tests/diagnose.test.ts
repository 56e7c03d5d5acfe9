// The error classification as plain code: which step, whether retrying can help, and the fix a person needs.
import { expect } from "chai";
import { diagnose, StepTimeoutError } from "../src/db";
import { textFieldProblem } from "../src/http";
import { TokenExchangeError } from "../src/tokens";

const pgError = (code: string, message: string) => Object.assign(new Error(message), { code });
const who = { user: "id-dev-orders", database: "orders" };

describe("diagnose: every failure is named by its step, and only what can pass is retriable", () => {
    it("3D000 is a missing database, not a permission problem, and is not retried", () => {
        const d = diagnose(pgError("3D000", 'database "orders" does not exist'), who);
        expect(d).to.include({ step: "database", retriable: false });
        expect(d.fix).to.contain("PGDATABASE");
    });

    it("42501 at connect is a missing CONNECT privilege, with the GRANT", () => {
        const d = diagnose(pgError("42501", 'permission denied for database "orders"'), who);
        expect(d).to.include({ step: "permission", retriable: false, fix: 'GRANT CONNECT ON DATABASE "orders" TO "id-dev-orders"' });
    });

    it("28P01 names both causes — no such role, or a role bound to another principal — and both fixes", () => {
        const d = diagnose(pgError("28P01", 'password authentication failed for user "id-dev-orders"'), who);
        expect(d).to.include({ step: "authentication", retriable: false });
        expect(d.fix).to.match(/no role named "id-dev-orders"/).and.match(/bound to another principal/).and.match(/pgaadauth_create_principal_with_oid/);
    });

    for (const code of ["57P01", "57P03", "53300"]) {
        it(`${code} (the server is restarting or full) is retriable`, () => {
            expect(diagnose(pgError(code, "x"))).to.include({ step: "server", retriable: true });
        });
    }

    it("a refused or reset connection is a retriable TCP problem; a name that does not resolve is not", () => {
        expect(diagnose(pgError("ECONNREFUSED", "connect ECONNREFUSED"))).to.include({ step: "TCP", retriable: true });
        expect(diagnose(pgError("ECONNRESET", "read ECONNRESET"))).to.include({ step: "TCP", retriable: true });
        expect(diagnose(pgError("ENOTFOUND", "getaddrinfo ENOTFOUND"))).to.include({ step: "TCP", retriable: false });
    });

    it("a step timeout names its step", () => {
        for (const step of ["TCP", "TLS", "authentication"] as const) {
            expect(diagnose(new StepTimeoutError(step, 5000))).to.include({ step, timedOut: true });
        }
    });

    it("a token failure or token timeout is the token step", () => {
        expect(diagnose(new TokenExchangeError(new Error("AADSTS50196")))).to.include({ step: "token exchange", timedOut: false });
        expect(diagnose(new TokenExchangeError(new Error("no token within 10000 ms")))).to.include({ step: "token exchange", timedOut: true });
    });

    it("a statement timeout (57014) and a client read timeout are the query step", () => {
        expect(diagnose(pgError("57014", "canceling statement due to statement timeout"))).to.include({ step: "query", timedOut: true });
        expect(diagnose(new Error("Query read timeout"))).to.include({ step: "query", timedOut: true });
    });
});

describe("textFieldProblem: what PostgreSQL text can store, counted as char_length counts", () => {
    it("accepts 1 to max code points, however many UTF-16 units they take", () => {
        expect(textFieldProblem("name", "😀".repeat(200), 200)).to.equal(undefined);
        expect(textFieldProblem("name", "😀".repeat(201), 200)).to.match(/1 to 200 characters .* it has 201/);
        expect(textFieldProblem("name", "", 200)).to.match(/1 to 200/);
    });

    it("rejects NUL, lone surrogates and non-strings", () => {
        expect(textFieldProblem("name", "a\u0000b", 200)).to.match(/NUL/);
        expect(textFieldProblem("name", "a\ud800b", 200)).to.match(/lone surrogate/);
        expect(textFieldProblem("name", "a\udc00", 200)).to.match(/lone surrogate/);
        expect(textFieldProblem("name", 42, 200)).to.match(/must be a string/);
    });
});
