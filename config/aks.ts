// The cluster's settings: AksClusterSettings, read and validated.
import { AKS_TIERS, KUBELOGIN_MODES, type AksClusterSettings } from "../components/aksCluster";
import { ConfigError, Problems } from "./errors";
import { Reader, stringList } from "./reader";
import { checkCidr, checkZone, GUID, kubernetesVersionProblem } from "./rules";

export function readAks(r: Reader, problems: Problems): AksClusterSettings {
    const v = <T>(rule: () => T): T => problems.check(rule) as T;
    return {
        tier: v(() => r.oneOf("aksTier", AKS_TIERS)),
        kubernetesVersion: v(() => {
            const version = r.optionalString("aksKubernetesVersion", /^\d+\.\d+(\.\d+)?$/, "must be empty (AKS default) or a version such as 1.33 or 1.33.2");
            const problem = version === undefined ? undefined : kubernetesVersionProblem(version);
            if (problem) {
                throw new ConfigError("aksKubernetesVersion", version, problem);
            }
            return version;
        }),
        nodeCount: v(() => r.integer("aksNodeCount", 1, 100)),
        nodeVmSize: v(() => r.string("aksNodeVmSize", /^Standard_[A-Za-z0-9_]+$/, "must be an Azure VM size such as Standard_D2s_v5")),
        availabilityZones: v(() => stringList(r, problems, "aksAvailabilityZones", checkZone)),
        apiServerAuthorizedCidrs: v(() => stringList(r, problems, "aksApiServerAuthorizedCidrs", checkCidr)),
        adminGroupObjectIds: v(() => stringList(r, problems, "aksAdminGroupObjectIds", (id, key) => {
            if (!GUID.test(id)) {
                throw new ConfigError(key, id, "must be an Entra group object id (a GUID)");
            }
        })),
        kubeloginMode: v(() => r.oneOf("kubeloginMode", KUBELOGIN_MODES)),
        azurePolicy: v(() => r.boolean("aksAzurePolicy")),
    };
}
