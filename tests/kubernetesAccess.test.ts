// The wait for Azure RBAC propagation, against a real local API-server stand-in: it answers 403 while a new
// role assignment propagates, then allows. Real sockets and real TLS with a cluster-style private CA.
import { expect } from "chai";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as https from "https";
import { AddressInfo } from "net";
import * as os from "os";
import * as path from "path";
import { waitForKubernetesAccess } from "../lib/kubernetesAccess";

interface FakeApiServer {
    url: string;
    requests: { path: string; authorization?: string; body: any }[];
    close(): Promise<void>;
}

/** Answers `forbidden` access reviews with 403, then `allowed: true`; over TLS when given a key pair. */
async function fakeApiServer(forbidden: number, tls?: { key: string; cert: string }): Promise<FakeApiServer> {
    const requests: FakeApiServer["requests"] = [];
    const handler: http.RequestListener = (req, res) => {
        let body = "";
        req.on("data", chunk => { body += chunk; });
        req.on("end", () => {
            const review = JSON.parse(body);
            requests.push({ path: req.url ?? "", authorization: req.headers.authorization, body: review });
            if (requests.length <= forbidden) {
                res.writeHead(403, { "content-type": "application/json" }).end(JSON.stringify({ kind: "Status", reason: "Forbidden", code: 403 }));
            } else {
                res.writeHead(201, { "content-type": "application/json" }).end(JSON.stringify({ ...review, status: { allowed: true } }));
            }
        });
    };
    const server = tls ? https.createServer(tls, handler) : http.createServer(handler);
    await new Promise<void>(resolve => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    return {
        url: `${tls ? "https" : "http"}://127.0.0.1:${port}`,
        requests,
        close: () => new Promise(resolve => server.close(() => resolve())),
    };
}

const FAST = { initialDelayMs: 20, maxDelayMs: 80 };

describe("waitForKubernetesAccess: Azure RBAC for Kubernetes propagates slowly", () => {
    it("keeps asking through 403s and returns once the API server allows creating namespaces", async () => {
        const api = await fakeApiServer(3);
        try {
            const result = await waitForKubernetesAccess({ server: api.url, token: "tkn", verb: "create", resource: "namespaces", ...FAST });
            expect(result.attempts).to.equal(4);
            expect(api.requests).to.have.length(4);
        } finally {
            await api.close();
        }
    });

    it("asks with the caller's bearer token, as a SelfSubjectAccessReview for exactly that verb and resource", async () => {
        const api = await fakeApiServer(0);
        try {
            await waitForKubernetesAccess({ server: api.url, token: "tkn", verb: "create", resource: "namespaces", ...FAST });
            expect(api.requests[0]).to.deep.include({ path: "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", authorization: "Bearer tkn" });
            expect(api.requests[0].body).to.deep.equal({
                apiVersion: "authorization.k8s.io/v1", kind: "SelfSubjectAccessReview",
                spec: { resourceAttributes: { verb: "create", resource: "namespaces", group: "" } },
            });
        } finally {
            await api.close();
        }
    });

    it("backs off between attempts instead of hammering the API server", async () => {
        const api = await fakeApiServer(3);
        const started = Date.now();
        try {
            await waitForKubernetesAccess({ server: api.url, token: "t", verb: "create", resource: "namespaces", initialDelayMs: 30, maxDelayMs: 1000 });
            expect(Date.now() - started).to.be.at.least(30 + 60 + 120);
        } finally {
            await api.close();
        }
    });

    it("gives up after its timeout with a message naming the API server, the permission and where it comes from", async () => {
        const api = await fakeApiServer(1000);
        try {
            let error: Error | undefined;
            await waitForKubernetesAccess({ server: api.url, token: "t", verb: "create", resource: "namespaces", timeoutMs: 200, ...FAST })
                .catch(e => { error = e; });
            expect(error?.message).to.contain(api.url).and.contain("create namespaces").and.contain("403")
                .and.contain("RBAC Cluster Admin").and.contain("deployers");
        } finally {
            await api.close();
        }
    });

    it("trusts the cluster's own CA (certificate-authority-data), as AKS's API server presents a private certificate", async function () {
        this.timeout(20_000);
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fake-aks-ca-"));
        try {
            execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", path.join(dir, "key.pem"), "-out", path.join(dir, "cert.pem")], { stdio: "ignore" });
            const tls = { key: fs.readFileSync(path.join(dir, "key.pem"), "utf8"), cert: fs.readFileSync(path.join(dir, "cert.pem"), "utf8") };
            const api = await fakeApiServer(1, tls);
            try {
                const caData = Buffer.from(tls.cert).toString("base64");
                const result = await waitForKubernetesAccess({ server: api.url, caData, token: "t", verb: "create", resource: "namespaces", ...FAST });
                expect(result.attempts).to.equal(2);
                // Without the CA the same server is not trusted: every attempt fails at TLS, never reaching the handler.
                let error: Error | undefined;
                await waitForKubernetesAccess({ server: api.url, token: "t", verb: "create", resource: "namespaces", timeoutMs: 100, ...FAST })
                    .catch(e => { error = e; });
                expect(error?.message).to.contain("no answer from");
                expect(api.requests).to.have.length(2);
            } finally {
                await api.close();
            }
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});
