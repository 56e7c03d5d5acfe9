// The pod's credential: workload identity, and nothing else.
//
// WorkloadIdentityCredential rather than DefaultAzureCredential: in the pod there is exactly one right way to
// get a token (exchange the projected ServiceAccount token), and we want its failure, not a chain that falls
// through to IMDS or the Azure CLI, time out, and report the wrong cause.
import { WorkloadIdentityCredential, type TokenCredential } from "@azure/identity";
import { EnvError } from "./env";

export const WORKLOAD_IDENTITY_ENV = ["AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_FEDERATED_TOKEN_FILE"] as const;

export function workloadIdentityCredential(env: NodeJS.ProcessEnv): TokenCredential {
    const missing = WORKLOAD_IDENTITY_ENV.filter(name => !env[name]);
    if (missing.length > 0) {
        throw new EnvError(`missing ${missing.join(", ")}: the workload identity webhook did not mutate this pod. `
            + `Is it labelled azure.workload.identity/use: "true" and running as a ServiceAccount annotated with azure.workload.identity/client-id?`);
    }
    return new WorkloadIdentityCredential({
        clientId: env.AZURE_CLIENT_ID,
        tenantId: env.AZURE_TENANT_ID,
        tokenFilePath: env.AZURE_FEDERATED_TOKEN_FILE,
    });
}
