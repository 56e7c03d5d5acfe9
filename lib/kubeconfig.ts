// The two kubeconfigs this program makes from the one AKS returns.
//
// With local accounts disabled, `listManagedClusterUserCredentials` returns an exec kubeconfig whose kubelogin
// defaults to `--login devicecode`: it prints a code and waits for a person, which hangs `pulumi up` in a
// pipeline. From it we keep the cluster (server, CA) and the AKS server id, and build:
// - for people (the `kubeconfig` stack output): kubelogin in a non-interactive mode, with the tenant;
// - for the program's own Kubernetes provider: a bearer token the azure-native provider minted when the
//   cluster was ready (see tokenKubeconfig for why not kubelogin).
import * as yaml from "js-yaml";

/** How the exported kubeconfig's kubelogin signs in; never the interactive device-code default. */
export type KubeloginMode = "azurecli" | "workloadidentity" | "msi";
export const KUBELOGIN_MODES: readonly KubeloginMode[] = ["azurecli", "workloadidentity", "msi"];

interface ExecConfig {
    command?: string;
    args?: string[];
    interactiveMode?: string;
    [key: string]: unknown;
}

interface Kubeconfig {
    clusters?: { name: string; cluster: { server: string; "certificate-authority-data"?: string } }[];
    contexts?: { name: string; context: { cluster: string; user: string } }[];
    "current-context"?: string;
    users?: { name: string; user?: { exec?: ExecConfig; token?: string } }[];
    [key: string]: unknown;
}

function argValue(args: string[], flag: string): string | undefined {
    const i = args.indexOf(flag);
    return i >= 0 ? args[i + 1] : undefined;
}

function parse(kubeconfigYaml: string): { config: Kubeconfig; execUsers: NonNullable<Kubeconfig["users"]> } {
    const config = yaml.load(kubeconfigYaml) as Kubeconfig | undefined;
    const execUsers = (config?.users ?? []).filter(u => u.user?.exec?.command?.endsWith("kubelogin"));
    if (!config || execUsers.length === 0) {
        throw new Error("The AKS user kubeconfig has no kubelogin exec user: is Entra ID integration enabled on the cluster?");
    }
    return { config, execUsers };
}

/** The application id of the AKS Entra server app: the audience of tokens the API server accepts. */
export function aksServerId(kubeconfigYaml: string): string {
    const { execUsers } = parse(kubeconfigYaml);
    const serverId = argValue(execUsers[0].user!.exec!.args ?? [], "--server-id");
    if (!serverId) {
        throw new Error(`kubeconfig user "${execUsers[0].name}" has no --server-id`);
    }
    return serverId;
}

/** The API server URL and CA (base64 PEM) of the current context. */
export function clusterEndpoint(kubeconfigYaml: string): { server: string; caData?: string } {
    const { config } = parse(kubeconfigYaml);
    const context = config.contexts?.find(c => c.name === config["current-context"]) ?? config.contexts?.[0];
    const cluster = config.clusters?.find(c => c.name === context?.context.cluster) ?? config.clusters?.[0];
    if (!cluster?.cluster.server) {
        throw new Error("The AKS user kubeconfig names no API server");
    }
    return { server: cluster.cluster.server, caData: cluster.cluster["certificate-authority-data"] };
}

/**
 * Returns `kubeconfigYaml` with every kubelogin user switched to `mode`, pinned to `tenantId` (a guest or
 * multi-tenant login must not pick its home tenant) and marked never-interactive.
 * Throws when the kubeconfig has no kubelogin user: that means Entra integration is off, and silently
 * falling back to a certificate or the ambient kubeconfig is exactly what we refuse to do.
 */
export function kubeconfigForLoginMode(kubeconfigYaml: string, mode: KubeloginMode, tenantId: string): string {
    const { config, execUsers } = parse(kubeconfigYaml);
    for (const user of execUsers) {
        const exec = user.user!.exec!;
        const original = exec.args ?? [];
        const serverId = argValue(original, "--server-id");
        if (!serverId) {
            throw new Error(`kubeconfig user "${user.name}" has no --server-id; cannot build a ${mode} login for it`);
        }
        const environment = argValue(original, "--environment");
        exec.args = [
            "get-token",
            "--login", mode,
            "--server-id", serverId,
            "--tenant-id", tenantId,
            ...(environment ? ["--environment", environment] : []),
        ];
        exec.interactiveMode = "Never";
    }
    return yaml.dump(config, { lineWidth: -1 });
}

/**
 * The same cluster with every user replaced by a static bearer token.
 *
 * Why not kubelogin for the program's own provider: in GitHub Actions, `azure/login` hands the Azure CLI a
 * GitHub OIDC token that expires minutes later, and the CLI cannot fetch a new one (Azure/azure-cli#28708,
 * AADSTS700024). The Kubernetes provider first connects 5-15 minutes into a first deploy, when AKS is ready,
 * so `kubelogin --login azurecli` would fail there. The azure-native provider, signed in with
 * ARM_USE_OIDC, fetches a fresh GitHub token for every Entra request (pulumi-azure-native,
 * provider/pkg/provider/auth_azidentity.go, getOidcTokenExchangeAssertion), so a token it mints once the cluster
 * exists is valid for the Entra access-token lifetime from that moment (60-90 minutes by default).
 */
export function tokenKubeconfig(kubeconfigYaml: string, token: string): string {
    const { config } = parse(kubeconfigYaml);
    for (const user of config.users ?? []) {
        user.user = { token };
    }
    return yaml.dump(config, { lineWidth: -1 });
}
