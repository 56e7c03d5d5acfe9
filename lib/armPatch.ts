// A follow-up update of an existing Azure resource: one ARM PATCH, waited on until Azure reports it done.
// For settings Azure's REST API accepts only on update (`x-ms-mutability` without `create`), so the first
// `pulumi up` can still apply them. azure-native cannot: its create refuses a resource that already exists.
import * as pulumi from "@pulumi/pulumi";

/** Azure Resource Manager's endpoint in the public cloud. */
export const ARM_ENDPOINT = "https://management.azure.com";

export interface ArmPatchRequest {
    /** ARM id of the resource to update. */
    resourceId: string;
    /** Azure REST API version of the request. */
    apiVersion: string;
    /** The PATCH body, in Azure's wire shape (e.g. `{ properties: { … } }`). */
    body: Record<string, unknown>;
    /** An Entra access token for ARM. */
    armToken: string;
}

export interface PatchOptions {
    fetch?: typeof fetch;
    sleep?: (ms: number) => Promise<void>;
    /** Give up waiting on the operation after this long. */
    timeoutMs?: number;
    /** Wait between status polls when Azure sends no Retry-After. */
    pollMs?: number;
}

/**
 * Sends the PATCH and, for Azure's asynchronous answer (202 with `Azure-AsyncOperation` or `Location`), polls until
 * the operation succeeds; throws with Azure's error otherwise. Azure's long-running-operation contract:
 * https://github.com/microsoft/api-guidelines/blob/vNext/azure/Guidelines.md#long-running-operations--jobs
 */
export async function patchArmResource(request: ArmPatchRequest, options: PatchOptions = {}): Promise<void> {
    const doFetch = options.fetch ?? globalThis.fetch;
    const sleep = options.sleep ?? ((ms: number) => new Promise<void>(resolve => setTimeout(resolve, ms)));
    const deadline = Date.now() + (options.timeoutMs ?? 30 * 60_000);
    const headers = { Authorization: `Bearer ${request.armToken}`, "Content-Type": "application/json" };
    const url = `${ARM_ENDPOINT}${request.resourceId}?api-version=${encodeURIComponent(request.apiVersion)}`;

    const response = await doFetch(url, { method: "PATCH", headers, body: JSON.stringify(request.body) });
    if (response.status === 200 || response.status === 204) {
        return;
    }
    if (response.status !== 201 && response.status !== 202) {
        throw new Error(`PATCH ${request.resourceId} failed: ${response.status} ${await response.text()}`);
    }
    const monitor = response.headers.get("azure-asyncoperation") ?? response.headers.get("location");
    if (!monitor) {
        return;
    }
    let retryAfter = Number(response.headers.get("retry-after") ?? NaN);
    for (;;) {
        if (Date.now() > deadline) {
            throw new Error(`PATCH ${request.resourceId}: Azure did not finish the operation in time (${monitor})`);
        }
        await sleep(Number.isFinite(retryAfter) ? retryAfter * 1000 : options.pollMs ?? 10_000);
        const poll = await doFetch(monitor, { method: "GET", headers });
        retryAfter = Number(poll.headers.get("retry-after") ?? NaN);
        if (poll.status === 202) {
            continue;
        }
        if (poll.status !== 200) {
            throw new Error(`PATCH ${request.resourceId}: polling ${monitor} failed: ${poll.status} ${await poll.text()}`);
        }
        const text = await poll.text();
        const status = text ? (JSON.parse(text) as { status?: string; error?: unknown }) : {};
        if (status.status === undefined || status.status === "Succeeded") {
            return;
        }
        if (status.status === "Failed" || status.status === "Canceled") {
            throw new Error(`PATCH ${request.resourceId}: operation ${status.status}: ${JSON.stringify(status.error ?? status)}`);
        }
    }
}

/** The inputs of an ArmPatch as the provider sees them. */
interface ArmPatchState extends ArmPatchRequest {
    resourceType: string;
}

/** Only the target and the body matter; the token changes on every run and must not show as a change. */
function sameTarget(olds: ArmPatchState, news: ArmPatchState): boolean {
    return olds.resourceId === news.resourceId && olds.apiVersion === news.apiVersion &&
        JSON.stringify(olds.body) === JSON.stringify(news.body);
}

export const armPatchProvider: pulumi.dynamic.ResourceProvider = {
    async diff(_id: string, olds: ArmPatchState, news: ArmPatchState) {
        return {
            changes: !sameTarget(olds, news),
            replaces: olds.resourceId === news.resourceId ? [] : ["resourceId"],
            deleteBeforeReplace: false,
        };
    },
    async create(inputs: ArmPatchState) {
        await patchArmResource(inputs);
        return { id: `${inputs.resourceId}#patch`, outs: { resourceId: inputs.resourceId, apiVersion: inputs.apiVersion, body: inputs.body } };
    },
    async update(_id: string, _olds: ArmPatchState, news: ArmPatchState) {
        await patchArmResource(news);
        return { outs: { resourceId: news.resourceId, apiVersion: news.apiVersion, body: news.body } };
    },
    // Deleting forgets the setting: Azure keeps what was applied, as after any update.
    async delete() {
        return;
    },
};

export interface ArmPatchArgs {
    /** ARM id of the resource to update. */
    resourceId: pulumi.Input<string>;
    /** ARM resource type, e.g. Microsoft.DBforPostgreSQL/flexibleServers (for reading and for the spec check in tests). */
    resourceType: string;
    /** Azure REST API version of the PATCH. */
    apiVersion: string;
    /** The PATCH body in Azure's wire shape. */
    body: pulumi.Input<Record<string, unknown>>;
    /** An Entra access token for ARM, fetched by the azure-native provider's own credentials. Kept secret. */
    armToken: pulumi.Input<string>;
}

/** Applies `body` to an existing Azure resource with one PATCH after it exists; re-applied when the body changes. */
export class ArmPatch extends pulumi.dynamic.Resource {
    constructor(name: string, args: ArmPatchArgs, opts?: pulumi.CustomResourceOptions) {
        super(armPatchProvider, name, { ...args, armToken: pulumi.secret(args.armToken) }, opts);
    }
}
