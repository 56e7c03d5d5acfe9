// The TRUE dependencies of a deploy: what Azure and Kubernetes need to exist before each resource can be created
// (or, for what `pulumi up` waits on — a Deployment's rollout, a Job's completion — before it can succeed), and
// which writes Azure serialises. Declared here from the services' documented behaviour, independently of the
// program's own graph (its inputs, outputs and dependsOn), so the bench can tell how far the program's ordering is
// from the best any program could do: the critical-path lower bound.
//
// Only *which* resources exist comes from the program (its inventory under mocks); every edge below is this file's.
// A resource no rule knows fails the bench, so the model cannot silently drift from what the program creates.
import { RecordedResource } from "../tests/mocks";

export interface Prerequisites {
    /** Logical names of the resources that must exist first. */
    needs: string[];
    /** Writes with the same key are serialised by Azure (any order, one at a time). */
    serialOn?: string;
    /** Which rule matched (for the report). */
    rule: string;
}

/**
 * Azure serialises writes to one PostgreSQL flexible server and its children (firewall rules, server parameters,
 * the Entra administrator, and updates of the server itself such as the maintenance window): a second write while
 * one runs is refused with ServerBusy / ServerIsBusy ("Server '…' is busy with another operation").
 * Azure/azure-postgresql#134 (configurations right after create), Azure/bicep-registry-modules#4451 (ServerBusy on a
 * configuration), hashicorp/terraform-provider-azurerm#28298 (ServerBusy on configurations) and #19953 (azurerm
 * locks configuration, database and firewall-rule writes per server since PR #18159; ~60 s per firewall rule).
 */
export const POSTGRES_WRITES = "postgres-server-writes";

/** The private DNS zone a private endpoint's zone group writes its records into (components/network.ts's zones). */
const PRIVATE_ZONE_OF: Record<string, string> = { "app-image-registry-dns": "network-registry-dns", "keyvault-dns": "network-keyvault-dns" };

const names = (inventory: RecordedResource[], pattern: RegExp) => inventory.filter(r => pattern.test(r.name)).map(r => r.name);

/** The app a per-app resource belongs to (`<app>-identity-…`, `<app>-postgres-…`, `<app>-workload-…`). */
const appOf = (name: string) => /^(.*)-(identity|postgres|workload)-[^]*$/.exec(name)?.[1] ?? "";

/** What a resource of `r`'s kind needs first. Throws for a resource no rule knows. */
export function prerequisitesOf(r: RecordedResource, inventory: RecordedResource[]): Prerequisites {
    const all = (pattern: RegExp) => names(inventory, pattern);
    const one = (name: string) => (inventory.some(x => x.name === name) ? [name] : []);
    const workspace = all(/^logs-workspace$/);
    const server = one("postgres-server");
    const app = appOf(r.name);
    // The role step connects as the Entra administrator from the deployer's address: the server must run, the
    // administrator must exist (pgaadauth maps the token to it), and a firewall rule must admit the deployer
    // (learn.microsoft.com/azure/postgresql/flexible-server/concepts-firewall-rules). No server parameter is needed:
    // the client enforces TLS itself (sslmode verify-full).
    const roleStep = [...server, ...one("postgres-entra-admin"), ...all(/^postgres-fw-allowed-/)];
    // A private registry (publicNetworkAccess Disabled) is reached only through its private endpoint, by a name the
    // VNet resolves once the zone group has written the endpoint's records into the linked privatelink.azurecr.io zone
    // (learn.microsoft.com/azure/container-registry/container-registry-private-link; learn.microsoft.com/azure/
    // private-link/private-endpoint-dns): pushing the image and pulling it on the nodes both need that path.
    const registryPath = [...one("app-image-registry-dns"), ...one("network-registry-dns-link")];
    // What a private endpoint connects: `app-image-registry-endpoint` the registry, `keyvault-endpoint` the vault.
    const endpointTarget = (endpoint: string) => {
        const base = endpoint.replace(/-endpoint$/, "");
        return [...one(base), ...one(`${base}-vault`)];
    };
    // An app's Key Vault secrets (pods mount them through the Secrets Store CSI driver, whose Azure provider fetches
    // each with a token for the pod's own identity: learn.microsoft.com/azure/aks/csi-secrets-store-identity-access,
    // "workload identity"): the SecretProviderClass naming them, the identity's read grants (Key Vault Secrets User on
    // each secret), the secrets the program writes, and — for a private vault — the path to it through its endpoint
    // (learn.microsoft.com/azure/key-vault/general/private-link-service, DNS records in the linked privatelink zone).
    const secretsOf = (appName: string) => {
        const providerClass = one(`${appName}-workload-secret-provider`);
        if (providerClass.length === 0) return [];
        const names = (inventory.find(x => x.name === providerClass[0])?.inputs.spec?.parameters?.objects ?? "") as string;
        const secrets = inventory.filter(x => /keyvault:Secret$/.test(x.type) && typeof x.inputs.secretName === "string" && names.includes(x.inputs.secretName));
        return [...providerClass, ...inventory.filter(x => x.name.startsWith(`${appName}-identity-role-`) && String(x.inputs.scope ?? "").includes("/secrets/")).map(x => x.name), ...secrets.map(x => x.name),
            ...one("keyvault-vault"), ...one("keyvault-dns"), ...one("network-keyvault-dns-link")];
    };
    // The in-cluster role step (pgRoleStep job, D1): the Job's pod runs the app image as the provisioning identity. It
    // needs its namespace objects (ServiceAccount with the identity's client id, the statements, the NetworkPolicy
    // that confines it — policy, not mechanics: it must not run unconfined), the image and the kubelet's right to pull
    // it, a token (the identity's federated credential; learn.microsoft.com/azure/aks/workload-identity-overview), and
    // a login: the server, reached by its name in the linked private zone, and the Entra administrator entry of the
    // provisioning identity (pgaadauth maps the token to it). Its statements grant to azure_pg_admin, which exists
    // with the server, so the configured (human) administrator is not needed.
    const provisionerJob = [
        ...all(/^pg-roles-(serviceaccount|statements|network-policy)$/), ...one("app-image-image"), ...one("app-image-kubelet-pull"),
        ...registryPath, ...one("pg-provisioner-identity-federation"), ...server, ...one("network-postgres-dns-link"),
        // The further administrators are the ones the program creates: the provisioning identity's (index.ts).
        ...all(/^postgres-entra-admin-\d+$/),
    ];
    // What an app's pods need to become Ready and its check to pass: to run (ServiceAccount in its namespace, the
    // image and the kubelet's right to pull it), to get a token (the federated credential on its identity;
    // learn.microsoft.com/azure/aks/workload-identity-overview) and to log in to its database from the cluster's
    // egress address (the firewall rule, the role bound to the identity, the database and its CONNECT grant).
    const podsOf = (appName: string) => {
        const serviceAccount = inventory.find(x => x.name === `${appName}-workload-serviceaccount`);
        const namespace = inventory.find(x => x.type === "kubernetes:core/v1:Namespace" && x.inputs.metadata?.name === serviceAccount?.inputs.metadata?.namespace);
        const deployment = inventory.find(x => x.name === `${appName}-workload-deployment`);
        const builtImage = JSON.stringify(deployment?.inputs ?? {}).includes(".azurecr.io/");
        return [
            ...one(`${appName}-workload-serviceaccount`), ...(namespace ? [namespace.name] : []),
            ...(builtImage ? [...one("app-image-image"), ...one("app-image-kubelet-pull"), ...registryPath] : []),
            ...one(`${appName}-identity-federation`), ...one("postgres-fw-aks-egress"),
            // In job mode the app's role, database and grants exist once the provisioning Job has completed.
            ...one("pg-roles-job"),
            ...secretsOf(appName),
            ...one(`${appName}-postgres-entra-label`), ...one(`${appName}-postgres-database`), ...one(`${appName}-postgres-database-grant`),
        ];
    };

    const rules: [string, RegExp, RegExp, () => Omit<Prerequisites, "rule">][] = [
        // [rule, type, name, prerequisites]
        ["random suffix", /^random:/, /./, () => ({ needs: [] })],
        ["resource group", /resources:ResourceGroup$/, /./, () => ({ needs: [] })],
        // VNet integration is fixed at creation: a private server is created with its delegated subnet (here inline in
        // the VNet's own request) and a private DNS zone that must already be linked to that VNet, or the server's
        // name resolves nowhere in it (learn.microsoft.com/azure/postgresql/flexible-server/concepts-networking-private,
        // "Using Azure private DNS zone"; the ARM request's network.delegatedSubnetResourceId and
        // privateDnsZoneArmResourceId name both).
        ["PostgreSQL server", /dbforpostgresql:Server$/, /./, () => ({ needs: [...one("network-vnet"), ...one("network-postgres-dns"), ...one("network-postgres-dns-link")] })],
        // Every write below is on the server or one of its children: after the server, one at a time.
        ["server update (maintenance window)", /^pulumi-nodejs:dynamic:Resource$/, /^postgres-maintenance-window$/, () => ({ needs: server, serialOn: POSTGRES_WRITES })],
        // A further administrator names a principal the program creates (the provisioning identity): it must exist in
        // Entra first (learn.microsoft.com/azure/postgresql/flexible-server/how-to-manage-azure-ad-users).
        ["Entra administrator (provisioning identity)", /dbforpostgresql:AdministratorsMicrosoftEntra$/, /^postgres-entra-admin-\d+$/, () => ({
            needs: [...server, ...one("pg-provisioner-identity-identity")], serialOn: POSTGRES_WRITES,
        })],
        ["Entra administrator", /dbforpostgresql:AdministratorsMicrosoftEntra$/, /./, () => ({ needs: server, serialOn: POSTGRES_WRITES })],
        ["server parameter", /dbforpostgresql:Configuration$/, /./, () => ({ needs: server, serialOn: POSTGRES_WRITES })],
        // The cluster's rule admits the egress IP's address, so that address must exist.
        ["firewall rule (cluster egress)", /dbforpostgresql:FirewallRule$/, /^postgres-fw-aks-egress$/, () => ({ needs: [...server, ...one("aks-egress")], serialOn: POSTGRES_WRITES })],
        ["firewall rule", /dbforpostgresql:FirewallRule$/, /./, () => ({ needs: server, serialOn: POSTGRES_WRITES })],
        // A lock and a diagnostic setting are writes of other providers (Microsoft.Authorization, Microsoft.Insights)
        // on the server's scope: they need it to exist, and are not server writes.
        ["management lock", /authorization:ManagementLockByScope$/, /./, () => ({ needs: server })],
        ["PostgreSQL diagnostics", /monitor:DiagnosticSetting$/, /^postgres-/, () => ({ needs: [...server, ...workspace] })],
        ["cluster diagnostics", /monitor:DiagnosticSetting$/, /^aks-/, () => ({ needs: [...one("aks-cluster"), ...workspace] })],
        ["Log Analytics workspace", /operationalinsights:Workspace$/, /./, () => ({ needs: [] })],
        ["public IP", /network:PublicIPAddress$/, /./, () => ({ needs: [] })],
        // The private network: a VNet (its subnets inline), private DNS zones (global resources, needing nothing), and
        // each zone's link to the VNet (learn.microsoft.com/azure/dns/private-dns-virtual-network-links).
        ["virtual network", /network:VirtualNetwork$/, /./, () => ({ needs: [] })],
        ["private DNS zone", /privatedns:PrivateZone$/, /./, () => ({ needs: [] })],
        ["private DNS zone link", /privatedns:VirtualNetworkLink$/, /./, () => ({ needs: [...one(r.name.replace(/-link$/, "")), ...one("network-vnet")] })],
        // A private endpoint is a NIC in a subnet connected to the resource it exposes; its zone group then writes the
        // endpoint's A records into the zone (learn.microsoft.com/azure/private-link/create-private-endpoint-portal;
        // learn.microsoft.com/azure/private-link/private-endpoint-dns-integration).
        ["private endpoint", /network:PrivateEndpoint$/, /./, () => ({ needs: [...endpointTarget(r.name), ...one("network-vnet")] })],
        ["private DNS zone group", /network:PrivateDnsZoneGroup$/, /./, () => ({
            needs: [...one(r.name.replace(/-dns$/, "-endpoint")), ...one(PRIVATE_ZONE_OF[r.name] ?? "")],
        })],
        // Nodes in a VNet of ours: the cluster's user-assigned identity needs Network Contributor (subnet join) on the
        // nodes' subnet before the cluster is created (learn.microsoft.com/azure/aks/configure-azure-cni, "prerequisites";
        // learn.microsoft.com/azure/aks/use-managed-identity, "pre-created identity").
        ["nodes subnet access", /authorization:RoleAssignment$/, /^aks-nodes-subnet-access$/, () => ({ needs: [...one("network-vnet"), ...one("aks-control-plane")] })],
        ["managed identity", /managedidentity:UserAssignedIdentity$/, /./, () => ({ needs: [] })],
        // A cluster whose control plane uses a user-assigned identity and a pre-made outbound IP needs Network
        // Contributor on that IP first (learn.microsoft.com/azure/aks/use-managed-identity, "pre-created identity";
        // learn.microsoft.com/azure/aks/load-balancer-standard, "bring your own outbound public IPs").
        ["egress IP access", /authorization:RoleAssignment$/, /^aks-egress-ip-access$/, () => ({ needs: [...one("aks-egress"), ...one("aks-control-plane")] })],
        // The monitoring add-on's config names the workspace (when there is one), so it must exist.
        ["AKS cluster", /containerservice:ManagedCluster$/, /./, () => ({
            needs: [...one("aks-control-plane"), ...one("aks-egress"), ...one("aks-egress-ip-access"), ...workspace, ...one("network-vnet"), ...one("aks-nodes-subnet-access")],
        })],
        ["cluster admin role", /authorization:RoleAssignment$/, /^aks-admin-\d+$/, () => ({ needs: one("aks-cluster") })],
        ["Container Insights rule", /monitor:DataCollectionRule$/, /./, () => ({ needs: workspace })],
        ["Container Insights association", /monitor:DataCollectionRuleAssociation$/, /./, () => ({ needs: [...all(/-dcr$/), ...one("aks-cluster")] })],
        ["Kubernetes provider", /^pulumi:providers:kubernetes$/, /./, () => ({ needs: one("aks-cluster") })],
        // A federated credential trusts the cluster's OIDC issuer, which exists once the cluster does.
        ["federated credential", /managedidentity:FederatedIdentityCredential$/, /./, () => ({ needs: [...one(`${app}-identity-identity`), ...one("aks-cluster")] })],
        // A role assignment's scope must exist: for a Key Vault secret reader grant, the secret (when the program writes it).
        ["app extra role", /authorization:RoleAssignment$/, /-identity-role-\d+$/, () => ({
            needs: [...one(`${app}-identity-identity`), ...inventory.filter(x => /keyvault:Secret$/.test(x.type) && typeof r.inputs.scope === "string"
                && r.inputs.scope.endsWith(`/secrets/${x.inputs.secretName}`)).map(x => x.name)],
        })],
        // Key Vault: the vault needs nothing of ours; a secret is an ARM write on it (Microsoft.KeyVault/vaults/secrets, a
        // management-plane PUT, so a private vault's endpoint is not on its path: learn.microsoft.com/azure/key-vault/
        // general/network-security, "ARM operations are not affected by the firewall"); its value is generated here.
        ["Key Vault", /keyvault:Vault$/, /./, () => ({ needs: [] })],
        ["Key Vault secret", /keyvault:Secret$/, /./, () => ({ needs: [...one("keyvault-vault"), ...one(`${r.name}-value`)] })],
        // The SecretProviderClass is a custom resource of the Secrets Store CSI driver, which the AKS add-on installs
        // with the cluster (learn.microsoft.com/azure/aks/csi-secrets-store-driver): it needs its namespace.
        ["SecretProviderClass", /^kubernetes:secrets-store\.csi\.x-k8s\.io\/v1:SecretProviderClass$/, /./, () => ({
            needs: [...inventory.filter(x => x.type === "kubernetes:core/v1:Namespace" && x.inputs.metadata?.name === r.inputs.metadata?.namespace).map(x => x.name),
                ...one("aks-cluster")],
        })],
        ["container registry", /containerregistry:Registry$/, /./, () => ({ needs: [] })],
        ["AcrPush for a deployer", /authorization:RoleAssignment$/, /^app-image-push-\d+$/, () => ({ needs: one("app-image-registry") })],
        ["AcrPull for the kubelet", /authorization:RoleAssignment$/, /^app-image-kubelet-pull$/, () => ({ needs: [...one("app-image-registry"), ...one("aks-cluster")] })],
        ["image build and push", /^docker-build:index:Image$/, /./, () => ({ needs: [...one("app-image-registry"), ...all(/^app-image-push-\d+$/), ...registryPath] })],
        ["namespace", /^kubernetes:core\/v1:Namespace$/, /./, () => ({ needs: one("aks-cluster") })],
        ["namespaced object", /^kubernetes:(networking\.k8s\.io\/v1:NetworkPolicy|policy\/v1:PodDisruptionBudget)$/, /./, () => ({
            needs: inventory.filter(x => x.type === "kubernetes:core/v1:Namespace" && x.inputs.metadata?.name === r.inputs.metadata?.namespace).map(x => x.name),
        })],
        // The provisioning Job's ServiceAccount carries the provisioning identity's client id.
        ["provisioner ServiceAccount", /^kubernetes:core\/v1:ServiceAccount$/, /^pg-roles-serviceaccount$/, () => ({
            needs: [...one("pg-roles-namespace"), ...one("pg-provisioner-identity-identity")],
        })],
        // The statements name every app's role and Entra object id: the apps' identities must exist to write them.
        ["provisioner statements", /^kubernetes:core\/v1:ConfigMap$/, /^pg-roles-statements$/, () => ({
            needs: [...one("pg-roles-namespace"), ...all(/-identity-identity$/).filter(n => n !== "pg-provisioner-identity-identity")],
        })],
        // The ServiceAccount carries the identity's client id.
        ["ServiceAccount", /^kubernetes:core\/v1:ServiceAccount$/, /./, () => ({
            needs: [...inventory.filter(x => x.type === "kubernetes:core/v1:Namespace" && x.inputs.metadata?.name === r.inputs.metadata?.namespace).map(x => x.name),
                ...one(`${app}-identity-identity`)],
        })],
        ["PostgreSQL provider (role step)", /^pulumi:providers:postgresql$/, /./, () => ({ needs: roleStep })],
        ["role", /^postgresql:index\/role:Role$/, /./, () => ({ needs: roleStep })],
        // pgaadauth's label names the identity's object id.
        ["Entra label", /^postgresql:index\/securityLabel:SecurityLabel$/, /./, () => ({ needs: [...one(`${app}-postgres-role`), ...one(`${app}-identity-identity`)] })],
        ["database", /^postgresql:index\/database:Database$/, /./, () => ({ needs: one(`${app}-postgres-role`) })],
        ["admin membership", /^postgresql:index\/grantRole:GrantRole$/, /./, () => ({ needs: one(`${app}-postgres-role`) })],
        // The administrator grants and revokes on the database as a member of its owner.
        ["database grant", /^postgresql:index\/grant:Grant$/, /./, () => ({ needs: [...one(`${app}-postgres-database`), ...one(`${app}-postgres-admins-member`)] })],
        ["Deployment (rollout)", /^kubernetes:apps\/v1:Deployment$/, /./, () => ({ needs: podsOf(app) })],
        ["provisioning Job", /^kubernetes:batch\/v1:Job$/, /^pg-roles-job$/, () => ({ needs: provisionerJob })],
        // The check needs what the app's pods need — not the Deployment itself.
        ["check Job", /^kubernetes:batch\/v1:Job$/, /./, () => ({ needs: podsOf(app) })],
    ];
    for (const [rule, type, name, prerequisites] of rules) {
        if (type.test(r.type) && name.test(r.name)) {
            return { ...prerequisites(), rule };
        }
    }
    throw new Error(`bench/dependencies.ts has no rule for ${r.type} ${r.name}: declare what it truly needs`);
}

export interface BoundResult {
    /** Simulated seconds: no program can deploy these resources faster under these durations. */
    seconds: number;
    /** The chain that sets the bound, first to last. */
    path: string[];
    /** The order of the serialised writes that achieves it. */
    writeOrder: string[];
}

/**
 * The critical-path lower bound: the earliest every resource can be done when each starts as soon as its true
 * prerequisites are done, and serialised writes run one at a time in the best order for the whole deploy
 * (enumerated: writes with the same duration, prerequisites and dependents are interchangeable, so only distinct
 * orders are tried).
 */
export function lowerBound(inventory: RecordedResource[], seconds: (r: RecordedResource) => number): BoundResult {
    const prereq = new Map(inventory.map(r => [r.name, prerequisitesOf(r, inventory)]));
    for (const [name, p] of prereq) {
        for (const need of p.needs) {
            if (!prereq.has(need)) {
                throw new Error(`${name} needs ${need}, which the program does not create`);
            }
        }
    }
    const duration = new Map(inventory.map(r => [r.name, seconds(r)]));
    const dependents = new Map<string, string[]>(inventory.map(r => [r.name, []]));
    for (const [name, p] of prereq) {
        p.needs.forEach(need => dependents.get(need)!.push(name));
    }
    // Topological order of the true graph.
    const order: string[] = [];
    const state = new Map<string, number>();
    const visit = (name: string, trail: string[]) => {
        if (state.get(name) === 2) return;
        if (state.get(name) === 1) throw new Error(`dependency cycle: ${[...trail, name].join(" → ")}`);
        state.set(name, 1);
        prereq.get(name)!.needs.forEach(n => visit(n, [...trail, name]));
        state.set(name, 2);
        order.push(name);
    };
    inventory.forEach(r => visit(r.name, []));

    const writes = inventory.filter(r => prereq.get(r.name)!.serialOn === POSTGRES_WRITES).map(r => r.name);
    const signature = (w: string) => JSON.stringify([duration.get(w), [...prereq.get(w)!.needs].sort(), [...dependents.get(w)!].sort()]);
    const classes = new Map<string, string[]>();
    writes.forEach(w => classes.set(signature(w), [...(classes.get(signature(w)) ?? []), w]));
    const pools = [...classes.values()];

    const evaluate = (writeOrder: string[]) => {
        const finish = new Map<string, number>();
        const from = new Map<string, string | undefined>();
        const previousWrite = new Map(writeOrder.map((w, i) => [w, writeOrder[i - 1]]));
        // Writes are placed in their given order; everything else in topological order. A write's start also waits
        // for the write before it, so iterate until the times settle (the graph plus the write chain is acyclic
        // when the order respects prerequisites; an order that does not is simply slower, never wrong).
        for (let changed = true, rounds = 0; changed && rounds < inventory.length + writeOrder.length + 2; rounds++) {
            changed = false;
            for (const name of order) {
                let start = 0;
                let via: string | undefined;
                for (const need of [...prereq.get(name)!.needs, ...(previousWrite.get(name) ? [previousWrite.get(name)!] : [])]) {
                    const f = finish.get(need) ?? 0;
                    if (via === undefined || f > start) {
                        start = f;
                        via = need;
                    }
                }
                const end = start + duration.get(name)!;
                if (finish.get(name) !== end) {
                    finish.set(name, end);
                    from.set(name, via);
                    changed = true;
                }
            }
        }
        let last = order[0];
        for (const name of order) {
            if (finish.get(name)! > finish.get(last)!) last = name;
        }
        const path: string[] = [];
        for (let at: string | undefined = last; at !== undefined; at = from.get(at)) {
            path.unshift(at);
            if (path.length > inventory.length) break;
        }
        return { seconds: finish.get(last)!, path };
    };

    let best: BoundResult | undefined;
    const counts = pools.map(p => p.length);
    const used = counts.map(() => 0);
    const sequence: number[] = [];
    const search = () => {
        if (sequence.length === writes.length) {
            const writeOrder = sequence.map((c, i) => pools[c][sequence.slice(0, i).filter(x => x === c).length]);
            const result = evaluate(writeOrder);
            if (!best || result.seconds < best.seconds) {
                best = { ...result, writeOrder };
            }
            return;
        }
        for (let c = 0; c < pools.length; c++) {
            if (used[c] < counts[c]) {
                used[c]++;
                sequence.push(c);
                search();
                sequence.pop();
                used[c]--;
            }
        }
    };
    search();
    return best ?? { ...evaluate([]), writeOrder: [] };
}
