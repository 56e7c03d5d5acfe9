// Key Vault secrets the Secrets Store CSI driver mounted: one read-only file per secret, named after it, under the
// directory the Deployment names. The app reads them from there — never from its environment.
import { readFile } from "node:fs/promises";
import * as path from "node:path";

/** The mount directory (components/appWorkload.ts sets it to the CSI volume's mountPath). */
export const KEYVAULT_DIR_ENV = "KEYVAULT_DIR";
/** Comma-separated names of the secrets mounted there. */
export const KEYVAULT_OBJECTS_ENV = "KEYVAULT_OBJECTS";

export class MountedSecretsError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "MountedSecretsError";
    }
}

/**
 * The mounted secrets by name, or undefined when the app has none configured. Throws MountedSecretsError naming the
 * first secret that is missing or empty (the driver writes every listed object before the container starts, so a
 * missing file means the SecretProviderClass and the Deployment disagree).
 */
export async function readMountedSecrets(env: NodeJS.ProcessEnv): Promise<Map<string, string> | undefined> {
    const dir = env[KEYVAULT_DIR_ENV];
    const list = env[KEYVAULT_OBJECTS_ENV];
    if (!dir && !list) {
        return undefined;
    }
    if (!dir || !list) {
        throw new MountedSecretsError(`${KEYVAULT_DIR_ENV} and ${KEYVAULT_OBJECTS_ENV} go together; only ${dir ? KEYVAULT_DIR_ENV : KEYVAULT_OBJECTS_ENV} is set`);
    }
    const names = list.split(",").map(n => n.trim()).filter(n => n !== "");
    const secrets = new Map<string, string>();
    for (const name of names) {
        // Key Vault secret names only: nothing that could leave the mount directory.
        if (!/^[a-zA-Z0-9-]{1,127}$/.test(name)) {
            throw new MountedSecretsError(`${KEYVAULT_OBJECTS_ENV} lists ${JSON.stringify(name)}, which is not a Key Vault secret name`);
        }
        const file = path.join(dir, name);
        let value: string;
        try {
            value = await readFile(file, "utf8");
        } catch (error) {
            throw new MountedSecretsError(`Key Vault secret ${name} is not mounted at ${file} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}): `
                + "is it in the app's SecretProviderClass objects, and the CSI volume mounted there?");
        }
        if (value.length === 0) {
            throw new MountedSecretsError(`Key Vault secret ${name} is mounted at ${file} but empty`);
        }
        secrets.set(name, value);
    }
    return secrets;
}
