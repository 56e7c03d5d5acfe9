// A local Microsoft Entra token endpoint for black-box tests of the built app, on loopback only.
//
// The app's WorkloadIdentityCredential is aimed at it exactly as the workload identity webhook aims it at Entra:
// AZURE_AUTHORITY_HOST (here https://127.0.0.1:<port>), AZURE_TENANT_ID, AZURE_CLIENT_ID and
// AZURE_FEDERATED_TOKEN_FILE. Two details of @azure/identity 4.14.1 / @azure/msal-node 7.2.1 shape it:
// - The authority must be https (IdentityClient refuses anything else), so the endpoint has a throwaway CA
//   whose certificate the child trusts through NODE_EXTRA_CA_CERTS.
// - MSAL validates an authority host it has no hard-coded metadata for by asking
//   https://login.microsoftonline.com/common/discovery/instance. The child gets HTTPS_PROXY pointing at a
//   loopback CONNECT proxy that tunnels that one host to this endpoint (which answers the discovery call the
//   way Entra answers for a trusted custom host) and refuses every other host — so nothing leaves the machine,
//   and `refusedConnects` proves it.
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as https from "https";
import * as net from "net";
import * as os from "os";
import * as path from "path";

export type EntraMode =
    | { kind: "ok" }
    /** Every token request answers this status (500 by default); `retryAfterSeconds` adds a Retry-After header. */
    | { kind: "fail"; status?: number; retryAfterSeconds?: number }
    /** Token requests answer after this delay. */
    | { kind: "slow"; delayMs: number };

export interface TokenRequestRecord {
    at: number;
    status: number;
}

const DISCOVERY_HOST = "login.microsoftonline.com";

export class FakeEntra {
    /** Token lifetime the endpoint announces (`expires_in`), seconds. */
    public expiresInSeconds = 3600;
    /** Optional `refresh_in` (seconds): when Entra wants the client to refresh early. */
    public refreshInSeconds: number | undefined;
    public mode: EntraMode = { kind: "ok" };
    /** Every POST to the token endpoint, with the status it got. */
    public readonly tokenRequests: TokenRequestRecord[] = [];
    /** CONNECT targets the proxy refused (anything but the discovery host). */
    public readonly refusedConnects: string[] = [];
    /** Called with each token before it is handed out (e.g. to make it the role's PostgreSQL password). */
    public beforeIssue: (token: string) => Promise<void> = async () => undefined;
    private generation = 1;
    private readonly sockets = new Set<net.Socket>();
    private stopped = false;

    private constructor(
        private readonly dir: string,
        private readonly server: https.Server,
        private readonly proxy: http.Server,
    ) {}

    static async start(): Promise<FakeEntra> {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fake-entra-"));
        const key = path.join(dir, "key.pem");
        const cert = path.join(dir, "cert.pem");
        execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=fake-entra",
            "-addext", `subjectAltName=IP:127.0.0.1,DNS:${DISCOVERY_HOST}`], { stdio: "ignore" });
        fs.writeFileSync(path.join(dir, "federated-token"), "a-projected-service-account-token");
        let self: FakeEntra | undefined;
        const server = https.createServer({ key: fs.readFileSync(key), cert: fs.readFileSync(cert) }, (req, res) => {
            void self!.handle(req, res);
        });
        const proxy = http.createServer((_req, res) => {
            res.writeHead(403).end();
        });
        self = new FakeEntra(dir, server, proxy);
        const track = (socket: net.Socket) => {
            self!.sockets.add(socket);
            socket.on("close", () => self!.sockets.delete(socket));
        };
        server.on("connection", track);
        proxy.on("connection", track);
        proxy.on("connect", (req: http.IncomingMessage, client: net.Socket) => {
            const target = req.url ?? "";
            if (target !== `${DISCOVERY_HOST}:443`) {
                self!.refusedConnects.push(target);
                client.end("HTTP/1.1 403 Forbidden\r\n\r\n");
                return;
            }
            const upstream = net.connect(self!.port, "127.0.0.1", () => {
                client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
                upstream.pipe(client);
                client.pipe(upstream);
            });
            track(upstream);
            upstream.on("error", () => client.destroy());
            client.on("error", () => upstream.destroy());
        });
        await new Promise<void>(resolve => server.listen(0, "127.0.0.1", resolve));
        await new Promise<void>(resolve => proxy.listen(0, "127.0.0.1", resolve));
        return self;
    }

    get port(): number {
        return (this.server.address() as net.AddressInfo).port;
    }

    get current(): string {
        return `token-${this.generation}`;
    }

    /** Moves to the next token; returns it. */
    rotate(): string {
        this.generation++;
        return this.current;
    }

    /** The environment the workload identity webhook gives a pod, aimed here. */
    env(): Record<string, string> {
        return {
            AZURE_AUTHORITY_HOST: `https://127.0.0.1:${this.port}/`,
            AZURE_TENANT_ID: "72f988bf-0000-4000-8000-00000000c0de",
            AZURE_CLIENT_ID: "c1d2e3f4-0000-4000-8000-0000000a11ce",
            AZURE_FEDERATED_TOKEN_FILE: path.join(this.dir, "federated-token"),
            NODE_EXTRA_CA_CERTS: path.join(this.dir, "cert.pem"),
            HTTPS_PROXY: `http://127.0.0.1:${(this.proxy.address() as net.AddressInfo).port}`,
            NO_PROXY: "127.0.0.1",
        };
    }

    /** Token requests since `since` (ms epoch), optionally only those answered with `status`. */
    requestsSince(since: number, status?: number): TokenRequestRecord[] {
        return this.tokenRequests.filter(r => r.at >= since && (status === undefined || r.status === status));
    }

    async stop(): Promise<void> {
        this.stopped = true;
        for (const socket of this.sockets) {
            socket.destroy();
        }
        await new Promise(resolve => this.server.close(resolve));
        await new Promise(resolve => this.proxy.close(resolve));
        fs.rmSync(this.dir, { recursive: true, force: true });
    }

    private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
        for await (const _ of req) { /* drain the body */ }
        const base = `https://127.0.0.1:${this.port}`;
        const url = new URL(req.url ?? "/", base);
        const json = (status: number, body: unknown, headers: Record<string, string> = {}) => {
            res.writeHead(status, { "content-type": "application/json", ...headers }).end(JSON.stringify(body));
        };
        if (url.pathname === "/common/discovery/instance") {
            const self = `127.0.0.1:${this.port}`;
            return json(200, {
                tenant_discovery_endpoint: `${base}/common/v2.0/.well-known/openid-configuration`,
                "api-version": "1.1",
                metadata: [{ preferred_network: self, preferred_cache: self, aliases: [self] }],
            });
        }
        const openId = url.pathname.match(/^\/([^/]+)\/v2\.0\/\.well-known\/openid-configuration$/);
        if (openId) {
            const tenant = openId[1];
            return json(200, {
                issuer: `${base}/${tenant}/v2.0`,
                token_endpoint: `${base}/${tenant}/oauth2/v2.0/token`,
                authorization_endpoint: `${base}/${tenant}/oauth2/v2.0/authorize`,
                end_session_endpoint: `${base}/${tenant}/oauth2/v2.0/logout`,
                jwks_uri: `${base}/${tenant}/discovery/v2.0/keys`,
            });
        }
        if (req.method === "POST" && /^\/[^/]+\/oauth2\/v2\.0\/token$/.test(url.pathname)) {
            const mode = this.mode;
            const record: TokenRequestRecord = { at: Date.now(), status: 0 };
            this.tokenRequests.push(record);
            if (mode.kind === "fail") {
                record.status = mode.status ?? 500;
                const headers: Record<string, string> = mode.retryAfterSeconds === undefined ? {} : { "retry-after": String(mode.retryAfterSeconds) };
                return json(record.status, {
                    error: "temporarily_unavailable",
                    error_description: "AADSTS50196: The server encountered an unexpected error (injected by the test).",
                    error_codes: [50196],
                }, headers);
            }
            if (mode.kind === "slow") {
                await new Promise(resolve => setTimeout(resolve, mode.delayMs).unref());
            }
            if (this.stopped) {
                return void res.destroy();
            }
            const token = this.current;
            await this.beforeIssue(token);
            record.status = 200;
            return json(200, {
                token_type: "Bearer",
                expires_in: this.expiresInSeconds,
                ext_expires_in: this.expiresInSeconds,
                ...(this.refreshInSeconds === undefined ? {} : { refresh_in: this.refreshInSeconds }),
                access_token: token,
            });
        }
        return json(404, { error: "not_found", error_description: `${req.method} ${url.pathname}` });
    }
}
