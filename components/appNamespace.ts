import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { POD_SECURITY_LABELS } from "../policy/rules";
import { NON_INTERNET_BLOCKS } from "../lib/cidr";

/** PostgreSQL's port. */
const POSTGRES_PORT = 5432;

/**
 * A NetworkPolicy peer for "the internet": every IPv4 address except private, shared, link-local and loopback ranges —
 * so not the VNet, not the cluster, not the node's instance metadata endpoint (169.254.169.254).
 */
export function internetPeer(): k8s.types.input.networking.v1.NetworkPolicyPeer {
    return { ipBlock: { cidr: "0.0.0.0/0", except: [...NON_INTERNET_BLOCKS] } };
}

/**
 * The pods' egress rules: DNS to kube-dns only; PostgreSQL (5432) only to `postgresCidrs` when the server is private
 * (its delegated subnet), else only to public addresses; HTTPS (443) only to public addresses, for the Entra token
 * exchange. Entra's endpoints have no fixed addresses and Kubernetes NetworkPolicy has neither FQDNs nor Azure
 * service tags, so "public addresses only" is as narrow as a portable policy gets (README, "Pod egress").
 */
export function appEgressRules(postgresCidrs?: readonly pulumi.Input<string>[]): k8s.types.input.networking.v1.NetworkPolicyEgressRule[] {
    return [
        {
            to: [{
                namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } },
                podSelector: { matchLabels: { "k8s-app": "kube-dns" } },
            }],
            ports: [{ protocol: "UDP", port: 53 }, { protocol: "TCP", port: 53 }],
        },
        {
            to: postgresCidrs && postgresCidrs.length > 0 ? postgresCidrs.map(cidr => ({ ipBlock: { cidr } })) : [internetPeer()],
            ports: [{ protocol: "TCP", port: POSTGRES_PORT }],
        },
        { to: [internetPeer()], ports: [{ protocol: "TCP", port: 443 }] },
    ];
}

export interface AppNamespaceArgs {
    /** Namespace name; every app configured with it runs here. */
    namespace: string;
    /** The port the apps serve on: the only ingress, and only from this namespace. */
    appPort: number;
    /**
     * The app whose AppWorkload created this namespace before namespaces could be shared (its first app): aliases
     * keep an existing stack's Namespace and NetworkPolicy in place instead of deleting and recreating them.
     */
    formerOwner?: string;
    /**
     * Where the database is: the CIDRs of a private server's delegated subnet, the only place pods may reach on 5432.
     * undefined = a public server, whose address Azure may change (failover), so 5432 is allowed to public addresses.
     */
    postgresCidrs?: pulumi.Input<string>[];
}

/**
 * A namespace the apps run in, created once however many apps share it: Pod Security "restricted" and one
 * default-deny NetworkPolicy that lets pods reach only DNS, PostgreSQL and Entra ID. Pass the cluster's provider
 * in `opts.providers`.
 */
export class AppNamespace extends pulumi.ComponentResource {
    /** Namespace name, resolved once the namespace exists (hand it to each AppWorkload). */
    public readonly name: pulumi.Output<string>;

    /**
     * One AppNamespace per distinct namespace of `apps`, keyed by namespace (named `<namespace>-namespace`; the first
     * app in each is its former owner).
     */
    static forApps(apps: readonly { name: string; namespace: string }[], args: Omit<AppNamespaceArgs, "namespace" | "formerOwner">,
        opts?: pulumi.ComponentResourceOptions): Map<string, AppNamespace> {
        return new Map([...new Set(apps.map(app => app.namespace))].map(namespace => [namespace, new AppNamespace(`${namespace}-namespace`,
            { ...args, namespace, formerOwner: apps.find(app => app.namespace === namespace)!.name }, opts)]));
    }

    constructor(name: string, args: AppNamespaceArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aks-pg-passwordless:kubernetes:AppNamespace", name, {}, opts);

        const labels = { "app.kubernetes.io/part-of": "aks-pg-passwordless" };
        const formerParent = args.formerOwner && pulumi.createUrn(`${args.formerOwner}-workload`, "aks-pg-passwordless:kubernetes:AppWorkload");
        const formerly = (child: string): pulumi.CustomResourceOptions["aliases"] =>
            formerParent ? [{ name: `${args.formerOwner}-workload-${child}`, parent: formerParent }] : undefined;
        const namespace = new k8s.core.v1.Namespace(`${name}-namespace`, {
            metadata: {
                name: args.namespace,
                labels: {
                    ...labels,
                    // Pod Security "restricted", enforced, audited and warned: the labels the policy pack requires.
                    ...POD_SECURITY_LABELS,
                },
            },
        }, { parent: this, aliases: formerly("namespace") });

        // Default deny, then exactly what the chain needs: DNS to kube-dns, PostgreSQL (5432) to the database's subnet
        // (or public addresses for a public server) and HTTPS (443) to public addresses for the Entra token exchange
        // (see appEgressRules). Ingress: the app port, from this namespace only; open more with a policy of your own.
        new k8s.networking.v1.NetworkPolicy(`${name}-network-policy`, {
            metadata: { name: "default-deny-except-dns-postgres-entra", namespace: namespace.metadata.name, labels },
            spec: {
                podSelector: {},
                policyTypes: ["Ingress", "Egress"],
                ingress: [{ from: [{ podSelector: {} }], ports: [{ protocol: "TCP", port: args.appPort }] }],
                egress: appEgressRules(args.postgresCidrs),
            },
        }, { parent: this, aliases: formerly("network-policy") });

        this.name = namespace.metadata.name;
        this.registerOutputs({ name: this.name });
    }
}
