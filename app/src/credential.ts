// The app's credential. In a pod: workload identity, and nothing else. Outside a pod (a developer running the app
// against dev from a laptop): the developer's own Azure CLI login, so the app connects as that person's PostgreSQL role.
//
// WorkloadIdentityCredential rather than DefaultAzureCredential: in the pod there is exactly one right way to
// get a token (exchange the projected ServiceAccount token), and we want its failure, not a chain that falls
// through to IMDS or the Azure CLI, time out, and report the wrong cause. The choice between the two is made once,
// from the environment, never by trying one after the other.
import { execFile } from "node:child_process";
import { WorkloadIdentityCredential, type AccessToken, type GetTokenOptions, type TokenCredential } from "@azure/identity";
import { EnvError } from "./env";

export const WORKLOAD_IDENTITY_ENV = ["AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_FEDERATED_TOKEN_FILE"] as const;

export function workloadIdentityCredential(env: NodeJS.ProcessEnv): TokenCredential {
    const missing = WORKLOAD_IDENTITY_ENV.filter(name => !env[name]);
    if (missing.length > 0) {
        throw new EnvError(`missing ${missing.join(", ")}: the workload identity webhook did not mutate this pod. `
            + `Is it labelled azure.workload.identity/use: "true" and running as a ServiceAccount annotated with azure.workload.identity/client-id?`);
    }
    return new WorkloadIdentityCredential({
        clientId: env.AZURE_CLIENT_ID,
        tenantId: env.AZURE_TENANT_ID,
        tokenFilePath: env.AZURE_FEDERATED_TOKEN_FILE,
    });
}

/** Where the app runs, as its environment tells: a pod (Kubernetes always sets KUBERNETES_SERVICE_HOST) or not. */
export function runsInPod(env: NodeJS.ProcessEnv): boolean {
    return Boolean(env.KUBERNETES_SERVICE_HOST || env.AZURE_FEDERATED_TOKEN_FILE);
}

/**
 * Workload identity in a pod (failing, named, when the webhook did not mutate it); outside a pod, the developer's
 * `az login`. A pod never falls back to the CLI: there, a missing token file is the bug to report.
 */
export function appCredential(env: NodeJS.ProcessEnv): TokenCredential {
    return runsInPod(env) ? workloadIdentityCredential(env) : new AzureCliDeveloperCredential({ tenantId: env.AZURE_TENANT_ID });
}

export interface AzureCliDeveloperCredentialOptions {
    /** Pin the tenant (`az account get-access-token --tenant`); default the CLI's current account's. */
    tenantId?: string;
    /** The Azure CLI executable, found on PATH. */
    command?: string;
    /** How long `az` may take. */
    timeoutMs?: number;
}

/**
 * The signed-in developer's token from the Azure CLI: `az account get-access-token --resource <resource>`, run with
 * execFile (no shell, arguments passed as they are). The resource is the scope without `/.default`; for PostgreSQL,
 * https://ossrdbms-aad.database.windows.net (the resource Microsoft's "Connect with Microsoft Entra ID" uses with
 * `az account get-access-token --resource-type oss-rdbms`).
 */
export class AzureCliDeveloperCredential implements TokenCredential {
    constructor(private readonly options: AzureCliDeveloperCredentialOptions = {}) {}

    async getToken(scopes: string | string[], _options?: GetTokenOptions): Promise<AccessToken> {
        const scope = Array.isArray(scopes) ? scopes[0] : scopes;
        if (!scope || !/^https:\/\/[^\s]+$/.test(scope)) {
            throw new Error(`AzureCliDeveloperCredential: ${JSON.stringify(scope)} is not a resource scope`);
        }
        const resource = scope.replace(/\/\.default$/, "");
        const args = ["account", "get-access-token", "--resource", resource, "--output", "json",
            ...(this.options.tenantId ? ["--tenant", this.options.tenantId] : [])];
        const command = this.options.command ?? "az";
        const stdout = await new Promise<string>((resolve, reject) => {
            execFile(command, args, { timeout: this.options.timeoutMs ?? 30_000, windowsHide: true }, (error, out, err) => {
                if (error) {
                    const code = (error as NodeJS.ErrnoException).code;
                    reject(new Error(code === "ENOENT"
                        ? `the Azure CLI (${command}) is not on PATH: outside a pod the app signs in as you; install it and run az login`
                        : `${command} account get-access-token failed: ${String(err).trim().split("\n")[0] || error.message}. Run az login (as yourself) and try again`));
                    return;
                }
                resolve(out);
            });
        });
        let parsed: { accessToken?: unknown; expires_on?: unknown; expiresOn?: unknown };
        try {
            parsed = JSON.parse(stdout);
        } catch {
            throw new Error(`${command} account get-access-token printed no JSON`);
        }
        if (typeof parsed.accessToken !== "string" || parsed.accessToken === "") {
            throw new Error(`${command} account get-access-token returned no accessToken`);
        }
        return { token: parsed.accessToken, expiresOnTimestamp: expiryOf(parsed) };
    }
}

/**
 * Expiry in ms since the epoch: `expires_on` (POSIX seconds, Azure CLI 2.54+) where present, else `expiresOn`, which
 * older CLIs print as local time without a zone ("2026-11-30 05:12:34.000000").
 */
function expiryOf(parsed: { expires_on?: unknown; expiresOn?: unknown }): number {
    if (typeof parsed.expires_on === "number" || (typeof parsed.expires_on === "string" && /^\d+$/.test(parsed.expires_on))) {
        return Number(parsed.expires_on) * 1000;
    }
    if (typeof parsed.expiresOn === "string") {
        const local = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})/.exec(parsed.expiresOn);
        if (local) {
            const [, y, mo, d, h, mi, s] = local.map(Number);
            return new Date(y, mo - 1, d, h, mi, s).getTime();
        }
    }
    throw new Error("az account get-access-token returned no expiry");
}
