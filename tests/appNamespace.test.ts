import { expect } from "chai";
import * as k8s from "@pulumi/kubernetes";
import { AppNamespace } from "../components/appNamespace";
import { APP_PORT } from "../components/appWorkload";
import { promiseOf } from "./mocks";
import { underMocks } from "./harness";

const NS = "kubernetes:core/v1:Namespace";
const NETPOL = "kubernetes:networking.k8s.io/v1:NetworkPolicy";

function build(formerOwner?: string, postgresCidrs?: string[]) {
    return underMocks("test", () => {
        const provider = new k8s.Provider("cluster-k8s", { kubeconfig: "{}" });
        return new AppNamespace("shop-namespace", { namespace: "shop", appPort: APP_PORT, formerOwner, postgresCidrs }, { providers: [provider] });
    });
}

/** The PostgreSQL subnet of the prod-like address plan (tests/network.test.ts). */
const POSTGRES_SUBNET = "10.42.1.0/28";
const INTERNET = { ipBlock: { cidr: "0.0.0.0/0", except: ["10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12", "192.168.0.0/16"] } };
type EgressRule = { to?: unknown[]; ports: { protocol: string; port: number }[] };

describe("AppNamespace", () => {
    it("creates the namespace under its configured name and exports it", async () => {
        const { mocks, result } = await build();
        expect(mocks.named(NS, "shop-namespace-namespace").inputs.metadata.name).to.equal("shop");
        expect(await promiseOf(result.name)).to.equal("shop");
    });

    it("the namespace enforces the Pod Security 'restricted' standard", async () => {
        const { mocks } = await build();
        expect(mocks.named(NS, "shop-namespace-namespace").inputs.metadata.labels["pod-security.kubernetes.io/enforce"]).to.equal("restricted");
    });

    it("the namespace denies traffic by default and lets pods reach only DNS, PostgreSQL and Entra ID", async () => {
        const { mocks } = await build();
        const policy = mocks.named(NETPOL, "shop-namespace-network-policy").inputs;
        expect(policy.metadata.namespace).to.equal("shop");
        const spec = policy.spec;
        expect(spec.podSelector).to.deep.equal({});
        expect(spec.policyTypes).to.have.members(["Ingress", "Egress"]);
        const egressPorts = spec.egress.flatMap((rule: { ports: { protocol: string; port: number }[] }) => rule.ports.map(p => `${p.protocol}/${p.port}`));
        expect(egressPorts).to.have.members(["UDP/53", "TCP/53", "TCP/5432", "TCP/443"]);
        expect(spec.egress[0].to[0].podSelector.matchLabels).to.deep.equal({ "k8s-app": "kube-dns" });
    });

    it("ingress is only the app port, from the namespace itself", async () => {
        const { mocks } = await build();
        expect(mocks.named(NETPOL, "shop-namespace-network-policy").inputs.spec.ingress).to.deep.equal([
            { from: [{ podSelector: {} }], ports: [{ protocol: "TCP", port: 8080 }] },
        ]);
    });

    it("without a former owner its objects carry no alias of ours", async () => {
        const { mocks } = await build();
        const named = (mocks.optionsOf("shop-namespace-namespace").aliases ?? []) as { name?: string }[];
        expect(named.filter(a => a.name)).to.deep.equal([]);
    });

    it("every object goes through the given cluster provider", async () => {
        const { mocks } = await build("api");
        for (const r of mocks.resources.filter(x => x.type.startsWith("kubernetes:") && x.type !== "pulumi:providers:kubernetes")) {
            expect(r.provider, r.name).to.match(/pulumi:providers:kubernetes::cluster-k8s::/);
        }
    });

    it("no egress rule is open to every destination (the old rules allowed any host on 5432 and 443)", async () => {
        const { mocks } = await build(undefined, [POSTGRES_SUBNET]);
        const egress = mocks.named(NETPOL, "shop-namespace-network-policy").inputs.spec.egress as EgressRule[];
        for (const rule of egress) {
            expect(rule.to, JSON.stringify(rule.ports)).to.be.an("array").that.is.not.empty;
        }
    });

    it("private database: egress is exactly DNS to kube-dns, 5432 to the database subnet, 443 to public addresses", async () => {
        const { mocks } = await build(undefined, [POSTGRES_SUBNET]);
        expect(mocks.named(NETPOL, "shop-namespace-network-policy").inputs.spec.egress).to.deep.equal([
            {
                to: [{
                    namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } },
                    podSelector: { matchLabels: { "k8s-app": "kube-dns" } },
                }],
                ports: [{ protocol: "UDP", port: 53 }, { protocol: "TCP", port: 53 }],
            },
            { to: [{ ipBlock: { cidr: POSTGRES_SUBNET } }], ports: [{ protocol: "TCP", port: 5432 }] },
            { to: [INTERNET], ports: [{ protocol: "TCP", port: 443 }] },
        ]);
    });

    it("443 never reaches the VNet, the cluster or the node's metadata endpoint", async () => {
        const { mocks } = await build(undefined, [POSTGRES_SUBNET]);
        const https = (mocks.named(NETPOL, "shop-namespace-network-policy").inputs.spec.egress as EgressRule[])
            .find(rule => rule.ports.some(p => p.port === 443))!;
        expect(https.to).to.deep.equal([INTERNET]);
    });

    it("public database: 5432 goes only to public addresses (Azure may move a public server's address)", async () => {
        const { mocks } = await build();
        const postgres = (mocks.named(NETPOL, "shop-namespace-network-policy").inputs.spec.egress as EgressRule[])
            .find(rule => rule.ports.some(p => p.port === 5432))!;
        expect(postgres.to).to.deep.equal([INTERNET]);
    });
});
