import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { POD_SECURITY_LABELS } from "../policy/rules";

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
}

/**
 * A namespace the apps run in, created once however many apps share it: Pod Security "restricted" and one
 * default-deny NetworkPolicy that lets pods reach only DNS, PostgreSQL and Entra ID. Pass the cluster's provider
 * in `opts.providers`.
 */
export class AppNamespace extends pulumi.ComponentResource {
    /** Namespace name, resolved once the namespace exists (hand it to each AppWorkload). */
    public readonly name: pulumi.Output<string>;

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

        // Default deny, then exactly what the chain needs: DNS, PostgreSQL (5432) and HTTPS (443) for the Entra
        // token exchange — Azure endpoints have no fixed addresses, so the rules are by port. Ingress: the app
        // port, from this namespace only; open more with a policy of your own.
        new k8s.networking.v1.NetworkPolicy(`${name}-network-policy`, {
            metadata: { name: "default-deny-except-dns-postgres-entra", namespace: namespace.metadata.name, labels },
            spec: {
                podSelector: {},
                policyTypes: ["Ingress", "Egress"],
                ingress: [{ from: [{ podSelector: {} }], ports: [{ protocol: "TCP", port: args.appPort }] }],
                egress: [
                    {
                        to: [{
                            namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } },
                            podSelector: { matchLabels: { "k8s-app": "kube-dns" } },
                        }],
                        ports: [{ protocol: "UDP", port: 53 }, { protocol: "TCP", port: 53 }],
                    },
                    { ports: [{ protocol: "TCP", port: 5432 }] },
                    { ports: [{ protocol: "TCP", port: 443 }] },
                ],
            },
        }, { parent: this, aliases: formerly("network-policy") });

        this.name = namespace.metadata.name;
        this.registerOutputs({ name: this.name });
    }
}
