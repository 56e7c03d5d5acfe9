import * as crypto from "crypto";
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { CLIENT_ID_ANNOTATION, POD_SECURITY_LABELS, USE_LABEL } from "../policy/rules";
import { RESTRICTED_CONTAINER_SECURITY, RUN_AS_ID, serviceAccountSubject, SMALL_CONTAINER_RESOURCES } from "../lib/kubernetesIdentity";

/** Namespace the provisioning Job runs in, unless told otherwise: its own, shared with no app. */
export const PROVISIONER_NAMESPACE = "pg-provisioner";
/** ServiceAccount the provisioning Job runs as, unless told otherwise. */
export const PROVISIONER_SERVICE_ACCOUNT = "pg-provisioner";
/** Where the Job mounts the statements; the app's `provision` command reads it (app/src/provision.ts DEFAULT_STATEMENTS_FILE). */
export const STATEMENTS_MOUNT = "/etc/provision";
export const STATEMENTS_KEY = "statements.json";
/** UID/GID of the app image's distroless "nonroot" user, as every pod (lib/kubernetesIdentity.ts). */
export const PROVISIONER_RUN_AS_ID = RUN_AS_ID;
/** ServiceAccount annotation naming the identity's tenant. */
const TENANT_ID_ANNOTATION = "azure.workload.identity/tenant-id";

/**
 * One statement for the executor, as lib/postgresRoleSql.ts gives them (`appDatabaseStatements(app)` and its kin):
 * the SQL, the database to run it in (the administrator's when absent), and a query that finds it already applied.
 */
export interface ProvisionerStatement {
    sql: string;
    database?: string;
    skipIf?: string;
    /** The @pulumi/postgresql resource it stands for, for the Job's log. */
    resource?: string;
}

/**
 * The statements file the Job mounts: a JSON list of `{ resource?, sql, database?, skipIf? }` with keys in one
 * order, so the same statements always make the same bytes (and the same Job name).
 */
export function statementsFile(statements: readonly ProvisionerStatement[]): string {
    return JSON.stringify(statements.map(s => ({
        ...(s.resource !== undefined ? { resource: s.resource } : {}),
        sql: s.sql,
        ...(s.database !== undefined ? { database: s.database } : {}),
        ...(s.skipIf !== undefined ? { skipIf: s.skipIf } : {}),
    })), undefined, 1);
}

/** The name a Job with these inputs gets: `<prefix>-<first 10 hex of sha256 over every input>`. */
export function provisionerRunName(prefix: string, inputs: Record<string, unknown>): string {
    const canonical = JSON.stringify(Object.keys(inputs).sort().map(key => [key, inputs[key]]));
    return `${prefix}-${crypto.createHash("sha256").update(canonical).digest("hex").slice(0, 10)}`;
}

/** The token subject a ServiceAccount's pods present to Entra: what the provisioning identity's federated credential must trust. */
export const provisionerSubject = serviceAccountSubject;

export interface PostgresProvisionerArgs {
    /** The statements to apply, in order: every app's `appDatabaseStatements(…)` from lib/postgresRoleSql.ts. */
    statements: pulumi.Input<ProvisionerStatement[]>;
    /** The app image (it implements `provision`); pinned by tag or digest. */
    image: pulumi.Input<string>;
    /** Client id of the provisioning identity (a managed identity that is one of the server's Entra administrators). */
    clientId: pulumi.Input<string>;
    /** Entra tenant of the provisioning identity. */
    tenantId: pulumi.Input<string>;
    /** PostgreSQL server FQDN (PGHOST); the certificate must name it (verify-full). */
    pgHost: pulumi.Input<string>;
    /** PostgreSQL port; default 5432. */
    pgPort?: pulumi.Input<number>;
    /** The role the provisioning identity logs in as: its Entra administrator principal name (PGUSER). */
    adminRole: pulumi.Input<string>;
    /** The administrator's own database, where the lock is taken; default `postgres`. */
    adminDatabase?: pulumi.Input<string>;
    /**
     * Where the server listens (its delegated subnet or private endpoint, as a CIDR): egress on 5432 goes only there.
     * Default: 5432 to any address (a NetworkPolicy cannot name a host).
     */
    databaseCidr?: pulumi.Input<string>;
    /** Namespace to create and run in; default `pg-provisioner`. The provisioning identity must trust this namespace's ServiceAccount. */
    namespace?: string;
    /** ServiceAccount to create and run as; default `pg-provisioner`. */
    serviceAccountName?: string;
    /** Longest the Job may run, pulls and retries included; default 600 s. `pulumi up` waits a little longer. */
    activeDeadlineSeconds?: number;
    /** Pod retries after a failure (a federated credential that has not propagated yet, a server restarting); default 3. */
    backoffLimit?: number;
    /**
     * What must exist before the Job runs: the provisioning identity's federated credential and its Entra
     * administrator entry on the server (and the server itself). Default none.
     */
    runAfter?: pulumi.Input<pulumi.Resource>[];
}

/**
 * Applies the program's PostgreSQL roles, databases and grants from inside the cluster (DECISIONS.md D1), for a
 * server the machine running `pulumi up` cannot reach: a namespace of its own (Pod Security restricted), a
 * ServiceAccount bound to the provisioning identity, a NetworkPolicy that lets its pods reach only DNS, Entra (443)
 * and the database (5432), the statements in an immutable ConfigMap, and a Job that runs the app image's
 * `provision` on them. The Job's name is a hash of everything it runs with, so new SQL (or image, or server) is a new
 * Job; an unchanged program leaves the finished Job alone. Pass the cluster's provider in `opts.providers`.
 *
 * `pulumi up` waits for the Job: pulumi-kubernetes awaits every batch/v1 Job it creates until its `Complete`
 * condition is true, and fails the update on a `Failed` condition with reason BackoffLimitExceeded or
 * DeadlineExceeded (provider/pkg/await/job.go jobInitAwaiter, checker/job/check.go jobComplete; registered for
 * "batch/v1/Job" in await/awaiters.go), unless the object carries `pulumi.com/skipAwait: "true"` (we never set it).
 * The wait is bounded by the resource's timeout: 10 minutes unless `pulumi.com/timeoutSeconds` says otherwise
 * (await.go Creation; metadata.TimeoutDuration), so the Job carries a timeout above its own deadline and the Job's
 * own failure is what `up` reports. `pulumi.com/replaceUnready: "true"` makes the next `up` replace a Job that
 * failed (provider.go Diff: for a Job that is not ready, the annotation forces a delete-before-replace), so a
 * transient failure is retried by running `up` again.
 */
export class PostgresProvisioner extends pulumi.ComponentResource {
    /** The Job that applied the statements (its name changes with them). */
    public readonly jobName: pulumi.Output<string>;
    /** The provisioner's namespace. */
    public readonly namespace: pulumi.Output<string>;
    /** The ServiceAccount the Job runs as. */
    public readonly serviceAccountName: pulumi.Output<string>;
    /** `system:serviceaccount:<namespace>:<serviceAccount>`: the subject the provisioning identity must trust. */
    public readonly federatedSubject: pulumi.Output<string>;

    constructor(name: string, args: PostgresProvisionerArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aks-pg-passwordless:kubernetes:PostgresProvisioner", name, {}, opts);

        const labels = { "app.kubernetes.io/name": "pg-provisioner", "app.kubernetes.io/part-of": "aks-pg-passwordless" };
        const deadline = args.activeDeadlineSeconds ?? 600;
        const backoffLimit = args.backoffLimit ?? 3;

        const namespace = new k8s.core.v1.Namespace(`${name}-namespace`, {
            metadata: { name: args.namespace ?? PROVISIONER_NAMESPACE, labels: { ...labels, ...POD_SECURITY_LABELS } },
        }, { parent: this });
        const ns = namespace.metadata.name;

        const serviceAccount = new k8s.core.v1.ServiceAccount(`${name}-serviceaccount`, {
            metadata: {
                name: args.serviceAccountName ?? PROVISIONER_SERVICE_ACCOUNT,
                namespace: ns,
                labels: { ...labels, [USE_LABEL]: "true" },
                annotations: { [CLIENT_ID_ANNOTATION]: args.clientId, [TENANT_ID_ANNOTATION]: args.tenantId },
            },
            // The Job never calls the Kubernetes API (no Role, no RoleBinding); the webhook projects the Azure token.
            automountServiceAccountToken: false,
        }, { parent: this });

        // Default deny; out only to DNS, Entra's token endpoint (443: no fixed addresses) and PostgreSQL; nothing in.
        new k8s.networking.v1.NetworkPolicy(`${name}-network-policy`, {
            metadata: { name: "default-deny-except-dns-entra-postgres", namespace: ns, labels },
            spec: {
                podSelector: {},
                policyTypes: ["Ingress", "Egress"],
                ingress: [],
                egress: [
                    {
                        to: [{
                            namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } },
                            podSelector: { matchLabels: { "k8s-app": "kube-dns" } },
                        }],
                        ports: [{ protocol: "UDP", port: 53 }, { protocol: "TCP", port: 53 }],
                    },
                    { ports: [{ protocol: "TCP", port: 443 }] },
                    args.databaseCidr !== undefined
                        ? { to: [{ ipBlock: { cidr: args.databaseCidr } }], ports: [{ protocol: "TCP", port: 5432 }] }
                        : { ports: [{ protocol: "TCP", port: 5432 }] },
                ],
            },
        }, { parent: this });

        const pgPort = pulumi.output(args.pgPort ?? 5432);
        const adminDatabase = pulumi.output(args.adminDatabase ?? "postgres");
        const file = pulumi.output(args.statements).apply(statementsFile);
        // Every input the Job runs with, hashed into its name: Job specs are immutable, so a change is a new Job.
        const runName = pulumi.all<string | number>({
            statements: file, image: args.image, clientId: args.clientId, tenantId: args.tenantId, host: args.pgHost, port: pgPort,
            user: args.adminRole, database: adminDatabase, serviceAccount: serviceAccount.metadata.name, namespace: ns,
        }).apply(inputs => provisionerRunName("pg-provision", { ...inputs, deadline, backoffLimit }));

        const statements = new k8s.core.v1.ConfigMap(`${name}-statements`, {
            metadata: { name: runName, namespace: ns, labels },
            immutable: true,
            data: { [STATEMENTS_KEY]: file },
        }, { parent: this });

        const podLabels = { ...labels, [USE_LABEL]: "true", "app.kubernetes.io/component": "provision" };
        const job = new k8s.batch.v1.Job(`${name}-job`, {
            metadata: {
                name: runName,
                namespace: ns,
                labels: { ...labels, "app.kubernetes.io/component": "provision" },
                annotations: {
                    "pulumi.com/timeoutSeconds": String(deadline + 120),
                    "pulumi.com/replaceUnready": "true",
                },
            },
            spec: {
                backoffLimit,
                activeDeadlineSeconds: deadline,
                // No ttlSecondsAfterFinished: the finished Job stays, so `pulumi refresh` finds it and an unchanged
                // program does not run it again. Pulumi deletes it when the statements (and so its name) change.
                template: {
                    metadata: { labels: podLabels },
                    spec: {
                        serviceAccountName: serviceAccount.metadata.name,
                        automountServiceAccountToken: false,
                        restartPolicy: "Never",
                        securityContext: {
                            runAsNonRoot: true,
                            runAsUser: PROVISIONER_RUN_AS_ID,
                            runAsGroup: PROVISIONER_RUN_AS_ID,
                            fsGroup: PROVISIONER_RUN_AS_ID,
                            seccompProfile: { type: "RuntimeDefault" },
                        },
                        containers: [{
                            name: "provision",
                            image: args.image,
                            args: ["provision"],
                            env: [
                                { name: "PGHOST", value: args.pgHost },
                                { name: "PGPORT", value: pgPort.apply(String) },
                                { name: "PGUSER", value: args.adminRole },
                                { name: "PGDATABASE", value: adminDatabase },
                                { name: "PGSSLMODE", value: "verify-full" },
                                { name: "PROVISION_STATEMENTS_FILE", value: `${STATEMENTS_MOUNT}/${STATEMENTS_KEY}` },
                            ],
                            resources: SMALL_CONTAINER_RESOURCES,
                            securityContext: RESTRICTED_CONTAINER_SECURITY,
                            terminationMessagePolicy: "FallbackToLogsOnError",
                            volumeMounts: [
                                { name: "statements", mountPath: STATEMENTS_MOUNT, readOnly: true },
                                { name: "tmp", mountPath: "/tmp" },
                            ],
                        }],
                        volumes: [
                            { name: "statements", configMap: { name: statements.metadata.name, defaultMode: 0o444 } },
                            { name: "tmp", emptyDir: { sizeLimit: "16Mi" } },
                        ],
                    },
                },
            },
        }, { parent: this, dependsOn: args.runAfter });

        this.jobName = job.metadata.name;
        this.namespace = ns;
        this.serviceAccountName = serviceAccount.metadata.name;
        // Derived here only, from the very ServiceAccount the Job runs as.
        this.federatedSubject = pulumi.all([serviceAccount.metadata.namespace, serviceAccount.metadata.name])
            .apply(([namespaceName, sa]) => provisionerSubject(namespaceName!, sa!));

        this.registerOutputs({
            jobName: this.jobName,
            namespace: this.namespace,
            serviceAccountName: this.serviceAccountName,
            federatedSubject: this.federatedSubject,
        });
    }
}
