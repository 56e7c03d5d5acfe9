import { expect } from "chai";
import * as yaml from "js-yaml";
import { kubeconfigForLoginMode } from "../components/kubeconfig";
import { AKS_SERVER_ID, aksUserKubeconfig } from "./mocks";

function execOf(kubeconfig: string): { args: string[]; interactiveMode: string; command: string } {
    return (yaml.load(kubeconfig) as any).users[0].user.exec;
}

describe("kubeconfig: kubelogin never waits for a person", () => {
    for (const mode of ["azurecli", "workloadidentity", "msi"] as const) {
        it(`rewrites AKS's device-code login to --login ${mode}`, () => {
            const exec = execOf(kubeconfigForLoginMode(aksUserKubeconfig("aks-x"), mode));
            expect(exec.args).to.deep.equal(["get-token", "--login", mode, "--server-id", AKS_SERVER_ID, "--environment", "AzurePublicCloud"]);
        });
    }

    it("marks the exec plugin never-interactive", () => {
        expect(execOf(kubeconfigForLoginMode(aksUserKubeconfig("aks-x"), "azurecli")).interactiveMode).to.equal("Never");
    });

    it("keeps the cluster endpoint and certificate authority AKS returned", () => {
        const before = yaml.load(aksUserKubeconfig("aks-x")) as any;
        const after = yaml.load(kubeconfigForLoginMode(aksUserKubeconfig("aks-x"), "azurecli")) as any;
        expect(after.clusters).to.deep.equal(before.clusters);
        expect(after["current-context"]).to.equal(before["current-context"]);
    });

    it("refuses a kubeconfig without a kubelogin user (Entra integration off)", () => {
        const certOnly = yaml.dump({ users: [{ name: "admin", user: { "client-certificate-data": "x" } }] });
        expect(() => kubeconfigForLoginMode(certOnly, "azurecli")).to.throw(/no kubelogin exec user/);
    });

    it("refuses a kubelogin user without --server-id", () => {
        const noServer = yaml.dump({ users: [{ name: "u", user: { exec: { command: "kubelogin", args: ["get-token"] } } }] });
        expect(() => kubeconfigForLoginMode(noServer, "azurecli")).to.throw(/no --server-id/);
    });
});
