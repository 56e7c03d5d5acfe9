// Rewrites the AKS user kubeconfig for a non-interactive kubelogin mode.
//
// With local accounts disabled, `listManagedClusterUserCredentials` returns an exec kubeconfig whose kubelogin
// defaults to `--login devicecode`: it prints a code and waits for a person, which hangs `pulumi up` in a
// pipeline. We keep the cluster, server id and environment AKS gave us and choose the login mode ourselves.
import * as yaml from "js-yaml";
import type { KubeloginMode } from "../config";

interface ExecConfig {
    command?: string;
    args?: string[];
    interactiveMode?: string;
    [key: string]: unknown;
}

interface Kubeconfig {
    users?: { name: string; user?: { exec?: ExecConfig } }[];
    [key: string]: unknown;
}

function argValue(args: string[], flag: string): string | undefined {
    const i = args.indexOf(flag);
    return i >= 0 ? args[i + 1] : undefined;
}

/**
 * Returns `kubeconfigYaml` with every kubelogin user switched to `mode` and marked never-interactive.
 * Throws when the kubeconfig has no kubelogin user: that means Entra integration is off, and silently
 * falling back to a certificate or the ambient kubeconfig is exactly what we refuse to do.
 */
export function kubeconfigForLoginMode(kubeconfigYaml: string, mode: KubeloginMode): string {
    const config = yaml.load(kubeconfigYaml) as Kubeconfig | undefined;
    const execUsers = (config?.users ?? []).filter(u => u.user?.exec?.command?.endsWith("kubelogin"));
    if (!config || execUsers.length === 0) {
        throw new Error("The AKS user kubeconfig has no kubelogin exec user: is Entra ID integration enabled on the cluster?");
    }
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
            ...(environment ? ["--environment", environment] : []),
        ];
        exec.interactiveMode = "Never";
    }
    return yaml.dump(config, { lineWidth: -1 });
}
