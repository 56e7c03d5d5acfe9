import { expect } from "chai";
import * as yaml from "js-yaml";
import { aksServerId, clusterEndpoint, kubeconfigForLoginMode, tokenKubeconfig } from "../lib/kubeconfig";
import { AKS_SERVER_ID, aksUserKubeconfig, TENANT_ID } from "./mocks";

function execOf(kubeconfig: string): { args: string[]; interactiveMode: string; command: string } {
    return (yaml.load(kubeconfig) as any).users[0].user.exec;
}

describe("kubeconfig: kubelogin never waits for a person", () => {
    for (const mode of ["azurecli", "workloadidentity", "msi"] as const) {
        it(`rewrites AKS's device-code login to --login ${mode}, passing the tenant on`, () => {
            const exec = execOf(kubeconfigForLoginMode(aksUserKubeconfig("aks-x"), mode, TENANT_ID));
            expect(exec.args).to.deep.equal(["get-token", "--login", mode, "--server-id", AKS_SERVER_ID, "--tenant-id", TENANT_ID, "--environment", "AzurePublicCloud"]);
        });
    }

    it("marks the exec plugin never-interactive", () => {
        expect(execOf(kubeconfigForLoginMode(aksUserKubeconfig("aks-x"), "azurecli", TENANT_ID)).interactiveMode).to.equal("Never");
    });

    it("keeps the cluster endpoint and certificate authority AKS returned", () => {
        const before = yaml.load(aksUserKubeconfig("aks-x")) as any;
        const after = yaml.load(kubeconfigForLoginMode(aksUserKubeconfig("aks-x"), "azurecli", TENANT_ID)) as any;
        expect(after.clusters).to.deep.equal(before.clusters);
        expect(after["current-context"]).to.equal(before["current-context"]);
    });

    it("refuses a kubeconfig without a kubelogin user (Entra integration off)", () => {
        const certOnly = yaml.dump({ users: [{ name: "admin", user: { "client-certificate-data": "x" } }] });
        expect(() => kubeconfigForLoginMode(certOnly, "azurecli", TENANT_ID)).to.throw(/no kubelogin exec user/);
    });

    it("refuses a kubelogin user without --server-id", () => {
        const noServer = yaml.dump({ users: [{ name: "u", user: { exec: { command: "kubelogin", args: ["get-token"] } } }] });
        expect(() => kubeconfigForLoginMode(noServer, "azurecli", TENANT_ID)).to.throw(/no --server-id/);
    });

    it("reads the AKS server app id and the API endpoint from AKS's kubeconfig", () => {
        expect(aksServerId(aksUserKubeconfig("aks-x"))).to.equal(AKS_SERVER_ID);
        expect(clusterEndpoint(aksUserKubeconfig("aks-x")).server).to.equal("https://aks-x-dns.hcp.westeurope.azmk8s.io:443");
    });

    it("the token kubeconfig keeps the cluster and replaces every user by the bearer token", () => {
        const after = yaml.load(tokenKubeconfig(aksUserKubeconfig("aks-x"), "t0k3n")) as any;
        expect(after.clusters).to.deep.equal((yaml.load(aksUserKubeconfig("aks-x")) as any).clusters);
        expect(after.users.map((u: any) => u.user)).to.deep.equal([{ token: "t0k3n" }]);
    });
});
