import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";

/** The webhook's ServiceAccount annotation and pod label, as the policy pack checks them (one rule, one home). */
export { CLIENT_ID_ANNOTATION, USE_LABEL } from "../policy/rules";
import { CLIENT_ID_ANNOTATION, USE_LABEL } from "../policy/rules";
import { RESTRICTED_CONTAINER_SECURITY, RUN_AS_ID, SMALL_CONTAINER_RESOURCES } from "../lib/kubernetesIdentity";
/** ServiceAccount annotation naming the identity's tenant. */
export const TENANT_ID_ANNOTATION = "azure.workload.identity/tenant-id";
/** UID/GID the containers run as: distroless "nonroot", the user the app image declares. */
export { RUN_AS_ID };
/** The port the app image serves HTTP on. */
export const APP_PORT = 8080;

/**
 * Pod lifecycle, sized to the app contract: after SIGTERM the image exits within APP_SHUTDOWN_BOUND_SECONDS
 * (app/src/timeouts.ts: drain 10 s + pool close 2 s). Before SIGTERM the kubelet runs the preStop hook, so
 * endpoint controllers and kube-proxy stop routing here while the app still serves. The image is distroless
 * (no shell, no `sleep` binary), so the hook is the kubelet's own `sleep` action: beta and on by default
 * since Kubernetes 1.30 (feature gate PodLifecycleSleepAction, KEP-3960; alpha in 1.29, GA in 1.34) —
 * the minimum cluster version for this workload.
 */
export const PRE_STOP_SLEEP_SECONDS = 5;
/** What the image promises: SIGTERM to exit, at most (app/src/timeouts.ts SHUTDOWN_BOUND_MS). */
export const APP_SHUTDOWN_BOUND_SECONDS = 12;
/** The grace period starts when preStop starts: preStop + the app's bound + 3 s for the runtime to deliver and reap. */
export const TERMINATION_GRACE_PERIOD_SECONDS = PRE_STOP_SLEEP_SECONDS + APP_SHUTDOWN_BOUND_SECONDS + 3;
/**
 * Probe timing. Readiness answers within the app's own 2 s budget (READY_TIMEOUT_MS), so the probe waits 3 s
 * (the default timeoutSeconds of 1 s would cut it short). It flips only after 3 failures 5 s apart: longer than
 * one @azure/identity retry cycle on a failing token endpoint (3 retries, 1 + 2 + 4 s backoff at most) and the
 * app's 10 s token timeout, so a blip the SDK rides out does not take the pod out of the Service. Liveness never
 * touches the database or the token.
 */
export const READINESS_PROBE = { periodSeconds: 5, timeoutSeconds: 3, failureThreshold: 3 } as const;
export const LIVENESS_PROBE = { periodSeconds: 10, timeoutSeconds: 2, failureThreshold: 3 } as const;

/** Where the Secrets Store CSI driver mounts an app's Key Vault secrets: one file per secret, named after it. */
export const SECRETS_MOUNT_PATH = "/mnt/secrets-store";
/**
 * The environment telling the app where its mounted Key Vault objects are and which to expect (app/src/mounted.ts). Not
 * named like credentials: the policy pack's no-passwords policy refuses variables named like a secret.
 */
export const KEYVAULT_DIR_ENV = "KEYVAULT_DIR";
export const KEYVAULT_OBJECTS_ENV = "KEYVAULT_OBJECTS";
/** The CSI driver the AKS Key Vault secrets provider add-on installs. */
export const SECRETS_STORE_CSI_DRIVER = "secrets-store.csi.k8s.io";

/** The app's Key Vault secrets, read through the Secrets Store CSI driver as its own workload identity. */
export interface AppSecretsMount {
    /** Name of the Key Vault holding them. */
    keyVaultName: pulumi.Input<string>;
    /** Secret names; each is a file `SECRETS_MOUNT_PATH/<name>` in every container (env KEYVAULT_DIR, KEYVAULT_OBJECTS). */
    secretNames: string[];
    /**
     * Only where a program can take a value from an environment variable alone: env var name → secret name. These are
     * synced into a Kubernetes Secret (the CSI driver's `secretObjects`, which exist while a pod mounts the volume) and
     * set from it. Default none: nothing leaves the read-only mount. The policy pack's no-credentials-in-env policy
     * refuses an env var read from a Secret, so a stack that opts in must lower that policy's enforcement level in its policy config.
     */
    envFromSecrets?: Record<string, string>;
}

/** Every problem with an app's secrets mount, each naming the field; empty when sound. */
export function appSecretsProblems(secrets: Pick<AppSecretsMount, "secretNames" | "envFromSecrets">): string[] {
    const problems: string[] = [];
    for (const secret of secrets.secretNames) {
        // Key Vault's secret names (1-127 letters, digits, '-'): also safe as file names in the mount.
        if (!/^[a-zA-Z0-9-]{1,127}$/.test(secret)) {
            problems.push(`secrets: ${JSON.stringify(secret)} is not a Key Vault secret name (1-127 letters, digits and '-')`);
        }
    }
    if (new Set(secrets.secretNames).size !== secrets.secretNames.length) {
        problems.push("secrets lists a secret twice");
    }
    for (const [envName, secret] of Object.entries(secrets.envFromSecrets ?? {})) {
        if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(envName)) {
            problems.push(`envFromSecrets: ${JSON.stringify(envName)} is not an environment variable name`);
        }
        if (!secrets.secretNames.includes(secret)) {
            problems.push(`envFromSecrets.${envName}: ${JSON.stringify(secret)} is not one of the app's secrets`);
        }
    }
    return problems;
}

/** The `objects` parameter of an Azure SecretProviderClass: each secret by name, latest version. */
export function secretProviderObjects(secretNames: readonly string[]): string {
    return ["array:", ...secretNames.map(n => `  - |\n    objectName: ${n}\n    objectType: secret\n    objectVersion: ""`)].join("\n") + "\n";
}

export interface AppWorkloadArgs {
    /** App name: names the Deployment and its pods' `app.kubernetes.io/name` label. */
    appName: string;
    /** Namespace to run in: an AppNamespace's name (created once, perhaps shared with other apps). */
    namespace: pulumi.Input<string>;
    /** ServiceAccount to create and run as (from the app's WorkloadIdentity). */
    serviceAccountName: pulumi.Input<string>;
    /** Managed identity client id the ServiceAccount is annotated with. */
    clientId: pulumi.Input<string>;
    /** Entra tenant of the managed identity. */
    tenantId: pulumi.Input<string>;
    /** Container image implementing the app contract: `serve` on port 8080 with /healthz/*, and `check`. */
    image: pulumi.Input<string>;
    /** Pod replicas. */
    replicas: number;
    /** Spread replicas across zones and nodes and keep one up through drains (PodDisruptionBudget). */
    highAvailability: boolean;
    /** PostgreSQL server FQDN (PGHOST). */
    pgHost: pulumi.Input<string>;
    /** PostgreSQL port (PGPORT). */
    pgPort: pulumi.Input<number>;
    /** The app's PostgreSQL role (PGUSER). */
    pgUser: pulumi.Input<string>;
    /** The app's database (PGDATABASE). */
    pgDatabase: pulumi.Input<string>;
    /** Key Vault secrets to mount read-only (the identity needs Key Vault Secrets User on each); undefined = none. */
    secrets?: AppSecretsMount;
}

/**
 * The app in the cluster, in a namespace AppNamespace made: a ServiceAccount bound to the managed
 * identity, a Deployment whose pods get a projected token and only the libpq `PG*` settings — no password,
 * no Secret — and a Job that runs the image's `check` to prove the chain. Pass the cluster's provider in
 * `opts.providers`.
 */
export class AppWorkload extends pulumi.ComponentResource {
    /** Namespace name. */
    public readonly namespace: pulumi.Output<string>;
    /** ServiceAccount name. */
    public readonly serviceAccountName: pulumi.Output<string>;
    /** Deployment name. */
    public readonly deploymentName: pulumi.Output<string>;
    /** Name of the Job that proved this app reaches PostgreSQL with its identity. */
    public readonly checkJobName: pulumi.Output<string>;
    /** Name of the SecretProviderClass mounting the app's Key Vault secrets; undefined without secrets. */
    public readonly secretProviderClassName?: pulumi.Output<string>;

    constructor(name: string, args: AppWorkloadArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aks-pg-passwordless:kubernetes:AppWorkload", name, {}, opts);

        const appLabels = { "app.kubernetes.io/name": args.appName, "app.kubernetes.io/part-of": "aks-pg-passwordless" };

        // The namespace exists already (AppNamespace: created once, however many apps share it).
        const namespace = pulumi.output(args.namespace);

        const serviceAccount = new k8s.core.v1.ServiceAccount(`${name}-serviceaccount`, {
            metadata: {
                name: args.serviceAccountName,
                namespace,
                labels: { ...appLabels, [USE_LABEL]: "true" },
                annotations: {
                    [CLIENT_ID_ANNOTATION]: args.clientId,
                    [TENANT_ID_ANNOTATION]: args.tenantId,
                },
            },
            // The app never calls the Kubernetes API; the webhook projects the Azure token separately.
            automountServiceAccountToken: false,
        }, { parent: this });

        // The app's Key Vault secrets: fetched by the CSI driver with a token for this app's own ServiceAccount,
        // exchanged for its own identity (clientID; workload identity, never pod identity or the add-on's identity).
        const secrets = args.secrets && args.secrets.secretNames.length > 0 ? args.secrets : undefined;
        const secretProblems = secrets ? appSecretsProblems(secrets) : [];
        if (secretProblems.length > 0) {
            throw new Error(`AppWorkload ${name}: ${secretProblems.join("; ")}`);
        }
        const envFromSecrets = Object.entries(secrets?.envFromSecrets ?? {});
        const syncedSecretName = `${args.appName}-keyvault`;
        const secretProviderClass = secrets ? new k8s.apiextensions.CustomResource(`${name}-secret-provider`, {
            apiVersion: "secrets-store.csi.x-k8s.io/v1",
            kind: "SecretProviderClass",
            metadata: { name: `${args.appName}-keyvault`, namespace, labels: appLabels },
            spec: {
                provider: "azure",
                parameters: {
                    usePodIdentity: "false",
                    useVMManagedIdentity: "false",
                    clientID: args.clientId,
                    tenantId: args.tenantId,
                    keyvaultName: secrets.keyVaultName,
                    objects: secretProviderObjects(secrets.secretNames),
                },
                ...(envFromSecrets.length > 0 ? {
                    secretObjects: [{
                        secretName: syncedSecretName,
                        type: "Opaque",
                        data: [...new Set(envFromSecrets.map(([, secret]) => secret))].map(secret => ({ objectName: secret, key: secret })),
                    }],
                } : {}),
            },
        }, { parent: this }) : undefined;
        const secretsVolume: k8s.types.input.core.v1.Volume[] = secretProviderClass ? [{
            name: "keyvault-secrets",
            csi: {
                driver: SECRETS_STORE_CSI_DRIVER,
                readOnly: true,
                volumeAttributes: { secretProviderClass: secretProviderClass.metadata.name },
            },
        }] : [];
        const secretsMount: k8s.types.input.core.v1.VolumeMount[] = secretProviderClass
            ? [{ name: "keyvault-secrets", mountPath: SECRETS_MOUNT_PATH, readOnly: true }] : [];
        const secretsEnv: k8s.types.input.core.v1.EnvVar[] = secrets ? [
            { name: KEYVAULT_DIR_ENV, value: SECRETS_MOUNT_PATH },
            { name: KEYVAULT_OBJECTS_ENV, value: secrets.secretNames.join(",") },
            ...envFromSecrets.map(([envName, secret]) => ({
                name: envName,
                valueFrom: { secretKeyRef: { name: syncedSecretName, key: secret } },
            })),
        ] : [];

        // One hardened pod shape for the service and its check: same identity, same PG* settings, same limits.
        const podLabels = { ...appLabels, [USE_LABEL]: "true" };
        const pod = (command: "serve" | "check", extra: Partial<k8s.types.input.core.v1.Container>): k8s.types.input.core.v1.PodSpec => ({
            serviceAccountName: serviceAccount.metadata.name,
            automountServiceAccountToken: false,
            securityContext: {
                runAsNonRoot: true,
                runAsUser: RUN_AS_ID,
                runAsGroup: RUN_AS_ID,
                fsGroup: RUN_AS_ID,
                seccompProfile: { type: "RuntimeDefault" },
            },
            containers: [{
                name: command === "serve" ? args.appName : "check",
                image: args.image,
                args: [command],
                env: [
                    { name: "PGHOST", value: args.pgHost },
                    { name: "PGPORT", value: pulumi.output(args.pgPort).apply(String) },
                    { name: "PGUSER", value: args.pgUser },
                    { name: "PGDATABASE", value: args.pgDatabase },
                    { name: "PGSSLMODE", value: "require" },
                    ...secretsEnv,
                ],
                resources: SMALL_CONTAINER_RESOURCES,
                securityContext: RESTRICTED_CONTAINER_SECURITY,
                volumeMounts: [{ name: "tmp", mountPath: "/tmp" }, ...secretsMount],
                ...extra,
            }],
            volumes: [{ name: "tmp", emptyDir: { sizeLimit: "64Mi" } }, ...secretsVolume],
        });

        const selector = { "app.kubernetes.io/name": args.appName };
        const spread: Partial<k8s.types.input.core.v1.PodSpec> = args.highAvailability ? {
            topologySpreadConstraints: [
                { maxSkew: 1, topologyKey: "topology.kubernetes.io/zone", whenUnsatisfiable: "ScheduleAnyway", labelSelector: { matchLabels: selector } },
            ],
            affinity: {
                podAntiAffinity: {
                    preferredDuringSchedulingIgnoredDuringExecution: [{
                        weight: 100,
                        podAffinityTerm: { topologyKey: "kubernetes.io/hostname", labelSelector: { matchLabels: selector } },
                    }],
                },
            },
        } : {};

        const deployment = new k8s.apps.v1.Deployment(`${name}-deployment`, {
            metadata: { name: args.appName, namespace, labels: appLabels },
            spec: {
                replicas: args.replicas,
                selector: { matchLabels: selector },
                strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
                template: {
                    metadata: { labels: podLabels },
                    spec: {
                        ...pod("serve", {
                            ports: [{ name: "http", containerPort: APP_PORT, protocol: "TCP" }],
                            livenessProbe: { httpGet: { path: "/healthz/live", port: "http" }, ...LIVENESS_PROBE },
                            readinessProbe: { httpGet: { path: "/healthz/ready", port: "http" }, ...READINESS_PROBE },
                            startupProbe: { httpGet: { path: "/healthz/live", port: "http" }, periodSeconds: 2, timeoutSeconds: 2, failureThreshold: 30 },
                            lifecycle: { preStop: { sleep: { seconds: PRE_STOP_SLEEP_SECONDS } } },
                        }),
                        terminationGracePeriodSeconds: TERMINATION_GRACE_PERIOD_SECONDS,
                        ...spread,
                    },
                },
            },
        }, { parent: this });

        if (args.highAvailability) {
            new k8s.policy.v1.PodDisruptionBudget(`${name}-pdb`, {
                metadata: { name: args.appName, namespace, labels: appLabels },
                spec: { minAvailable: 1, selector: { matchLabels: selector } },
            }, { parent: this });
        }

        // The proof: a Job that runs `check` as the same ServiceAccount once the Deployment is up. The Kubernetes
        // provider waits for it, so a broken trust chain fails `pulumi up` with the check's own last words.
        // Every input it depends on is in its pod template (the client id as an annotation), so any change
        // replaces it and it runs again.
        const check = new k8s.batch.v1.Job(`${name}-check`, {
            metadata: { namespace, labels: { ...appLabels, "app.kubernetes.io/component": "check" } },
            spec: {
                backoffLimit: 2,
                activeDeadlineSeconds: 600,
                template: {
                    metadata: {
                        labels: { ...podLabels, "app.kubernetes.io/component": "check" },
                        annotations: { [CLIENT_ID_ANNOTATION]: args.clientId },
                    },
                    spec: {
                        ...pod("check", { terminationMessagePolicy: "FallbackToLogsOnError" }),
                        restartPolicy: "Never",
                    },
                },
            },
        }, { parent: this, dependsOn: [deployment] });

        this.namespace = namespace;
        this.serviceAccountName = serviceAccount.metadata.name;
        this.deploymentName = deployment.metadata.name;
        this.checkJobName = check.metadata.name;
        this.secretProviderClassName = secretProviderClass?.metadata.name;

        this.registerOutputs({
            namespace: this.namespace,
            serviceAccountName: this.serviceAccountName,
            deploymentName: this.deploymentName,
            checkJobName: this.checkJobName,
            secretProviderClassName: this.secretProviderClassName,
        });
    }
}
