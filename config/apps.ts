// The apps a stack runs: each gets its own identity, federated credential, PostgreSQL role, database and workload.
import { appSecretsProblems } from "../components/appWorkload";
import { type ExtraSubject, extraSubjectProblems } from "../lib/federatedSubjects";
import { allowedAppRolesText, isAllowedAppRole } from "../lib/programRoles";
import { DEVELOPER_PROFILES, Developer, developerRoleProblem, ROLE_PROFILES, RoleProfile } from "../lib/postgresRoleSql";
import { ConfigError, Problems, unknownKeyMessage } from "./errors";
import { PROJECT } from "./naming";
import { Reader } from "./reader";
import { GUID, imageRepository, isDns1123Label, isDns1123Subdomain, isPgIdentifier, isPinnedImage, RESERVED_DATABASES } from "./rules";

/** An extra Azure role the app's identity gets, on exactly one resource. */
export interface AppRoleAssignment {
    /** ARM id of the single resource the role applies to (a Key Vault, a storage account, …). */
    scope: string;
    /** Role definition GUID (e.g. Key Vault Secrets User) or its full ARM id. */
    roleDefinitionId: string;
}

/** One application: it gets its own identity, federated credential, PostgreSQL role, database and workload. */
export interface AppSettings {
    name: string;
    namespace: string;
    serviceAccount: string;
    database: string;
    /** A prebuilt image implementing the app contract; undefined = build app/ and push it to the stack's registry. */
    image?: string;
    replicas: number;
    roleAssignments: AppRoleAssignment[];
    /** What the app's PostgreSQL role may do (components/postgresRole.ts, PostgresRoleSettings): owner, readwrite or readonly. */
    profile: RoleProfile;
    /**
     * A migration identity of its own (`<identity>-migrate`, trusting the ServiceAccount `<serviceAccount>-migrate`) that
     * owns the schema and alone holds DDL; required by `readwrite`/`readonly`.
     */
    migrations: boolean;
    /** Dev only: people whose own Entra login gets a PostgreSQL role on this app's database. */
    developers: Developer[];
    /** Key Vault secrets (in the stack's vault) the app reads from its read-only CSI mount; the identity may read only these. */
    secrets: string[];
    /** Env var name → one of `secrets`, synced through a Kubernetes Secret: only where an env var is unavoidable. */
    envFromSecrets: Record<string, string>;
    /** Further subjects the app's identity trusts: another cluster's issuer, GitHub Actions jobs (D3 template). */
    extraSubjects: ExtraSubject[];
}

/** What a stack without apps is told: apps are declared per stack, in its own stack file. */
function noAppsMessage(stack: string): string {
    return `a stack runs at least one app, declared in the stack file Pulumi.${stack}.yaml (Pulumi.yaml cannot declare `
        + `a list of objects):\n      config:\n        ${PROJECT}:apps:\n          - name: demo\n`
        + `    or run \`pulumi config set --path 'apps[0].name' demo --stack ${stack}\` (README, "Config reference", lists an app's fields)`;
}

const APP_KEYS = ["name", "namespace", "serviceAccount", "database", "image", "replicas", "roleAssignments", "profile", "migrations", "developers", "secrets", "envFromSecrets", "extraSubjects"];

export function parseApps(r: Reader, problems: Problems, stack: string): AppSettings[] {
    const value = r.isSet("apps") ? r.json("apps") : undefined;
    if (value === undefined || (Array.isArray(value) && value.length === 0)) {
        throw new ConfigError("apps", value, noAppsMessage(stack));
    }
    if (!Array.isArray(value)) {
        throw new ConfigError("apps", value, "must be a list of apps, each with at least a name");
    }
    /** Each app, or undefined where its problems are recorded (parseConfig then throws). */
    const apps = value.map((item, i) => problems.check(() => parseApp(item, `apps[${i}]`)));
    // Apps may share a namespace (it is created once). What must stay unique: the name (it names the identity and
    // the PostgreSQL role), the database, and the ServiceAccount within a namespace — the federated credential
    // trusts system:serviceaccount:<namespace>:<serviceAccount>, so two apps there would share one subject and
    // each could sign in as the other.
    const claims: [string, (app: AppSettings) => string, string, string][] = [
        ["name", app => app.name, "name", "every app needs its own name"],
        ["database", app => app.database, "database", "every app needs its own database"],
        ["serviceAccount", app => `${app.namespace}/${app.serviceAccount}`, "serviceAccount",
            "apps may share a namespace but not a ServiceAccount in it: both identities would trust the one subject "
            + "system:serviceaccount:<namespace>:<serviceAccount>, so each app could sign in as the other"],
    ];
    for (const [field, claimOf, shownField, allowed] of claims) {
        const seen = new Map<string, number>();
        apps.forEach((app, i) => {
            if (!app) {
                return;
            }
            const claim = claimOf(app);
            const previous = seen.get(claim);
            if (previous !== undefined) {
                problems.add(`apps[${i}].${shownField}`, app[field as keyof AppSettings],
                    `already used by apps[${previous}]${field === "serviceAccount" ? ` in namespace ${app.namespace}` : ""}; ${allowed}`);
            } else {
                seen.set(claim, i);
            }
        });
    }
    return apps as AppSettings[]; // undefined entries only alongside recorded problems
}

function parseApp(item: unknown, key: string): AppSettings {
    if (typeof item !== "object" || item === null || Array.isArray(item)) {
        throw new ConfigError(key, item, "must be an object with at least a name");
    }
    const obj = item as Record<string, unknown>;
    const problems = new Problems();
    for (const unknownKey of Object.keys(obj).filter(k => !APP_KEYS.includes(k))) {
        problems.add(`${key}.${unknownKey}`, obj[unknownKey], `${unknownKeyMessage(unknownKey, APP_KEYS, "an app setting")}; allowed: ${APP_KEYS.join(", ")}`);
    }
    const str = (field: string, fallback?: string): string => {
        const v = obj[field] ?? fallback;
        if (typeof v !== "string") {
            throw new ConfigError(`${key}.${field}`, v, "must be a string");
        }
        return v;
    };
    const field = <T>(rule: () => T): T => problems.check(rule) as T;

    const name = field(() => {
        const n = str("name");
        // 24 keeps the identity (= PostgreSQL role) name "id-<prefix ≤10>-<stack ≤12>-<name ≤24>" within 63 bytes.
        if (!isDns1123Label(n) || n.length > 24) {
            throw new ConfigError(`${key}.name`, n, "must be a DNS-1123 label of at most 24 characters (lower-case letters, digits, '-'; starts and ends alphanumeric)");
        }
        return n;
    });
    // namespace, serviceAccount and database default from the name: with a bad name, report only the name.
    const derived = <T>(fieldName: string, rule: () => T): T => (obj[fieldName] === undefined && name === undefined ? undefined as T : field(rule));
    const namespace = derived("namespace", () => {
        const ns = str("namespace", name);
        if (!isDns1123Label(ns)) {
            throw new ConfigError(`${key}.namespace`, ns, "must be a DNS-1123 label (lower-case letters, digits, '-'; at most 63 characters; starts and ends alphanumeric)");
        }
        if (ns.startsWith("kube-") || ns === "default") {
            throw new ConfigError(`${key}.namespace`, ns, "kube-* and default are reserved: give the app a namespace of its own");
        }
        return ns;
    });
    const serviceAccount = derived("serviceAccount", () => {
        const sa = str("serviceAccount", name);
        if (!isDns1123Subdomain(sa)) {
            throw new ConfigError(`${key}.serviceAccount`, sa, "must be a DNS-1123 subdomain (lower-case letters, digits, '-', '.'; at most 253 characters)");
        }
        return sa;
    });
    const database = derived("database", () => {
        const db = str("database", name.replace(/-/g, "_"));
        if (!isPgIdentifier(db)) {
            throw new ConfigError(`${key}.database`, db, "must be a PostgreSQL identifier: lower-case letters, digits and '_', starting with a letter or '_', at most 63 characters");
        }
        if (RESERVED_DATABASES.includes(db)) {
            throw new ConfigError(`${key}.database`, db, `is reserved (${RESERVED_DATABASES.join(", ")}); give the app a database of its own`);
        }
        return db;
    });
    // Without an image of its own the app runs the image the stack builds from app/.
    const image = field(() => {
        const img = obj.image === undefined ? undefined : str("image");
        if (img !== undefined && !isPinnedImage(img)) {
            throw new ConfigError(`${key}.image`, img, "must be an image pinned by tag or digest (registry/repo:tag or repo@sha256:…), never untagged or :latest");
        }
        // Registries refuse a repository path with upper case ("repository name must be lowercase"); host and tag may have it.
        if (img !== undefined && /[A-Z]/.test(imageRepository(img))) {
            throw new ConfigError(`${key}.image`, img, `its repository path "${imageRepository(img)}" must be lower case `
                + `(only the registry host and the tag may have capitals): use "${img.replace(imageRepository(img), imageRepository(img).toLowerCase())}"`);
        }
        return img;
    });
    const replicas = field(() => {
        const n = obj.replicas ?? 1;
        if (typeof n !== "number" || !Number.isInteger(n) || n < 1 || n > 50) {
            throw new ConfigError(`${key}.replicas`, n, "must be an integer from 1 to 50");
        }
        return n;
    });
    const roleAssignments = field(() => parseRoleAssignments(obj.roleAssignments ?? [], `${key}.roleAssignments`));
    const profile = field(() => {
        const p = obj.profile ?? "owner";
        if (typeof p !== "string" || !(ROLE_PROFILES as readonly string[]).includes(p)) {
            throw new ConfigError(`${key}.profile`, p, `must be one of ${ROLE_PROFILES.join(", ")}`);
        }
        // The demo app (app/, built when `image` is unset) runs its migrations at start-up as its own role: with no
        // DDL it would exit at once. Until a migration Job runs as the migration identity, these profiles need an image
        // that leaves DDL to its migrations.
        if (p !== "owner" && obj.image === undefined) {
            throw new ConfigError(`${key}.profile`, p, "needs an image of the app's own that runs no DDL at start-up: the demo app built from app/ "
                + "creates its table at start-up as its own role, which readwrite and readonly forbid (keep owner for it)");
        }
        return p as RoleProfile;
    });
    const migrations = field(() => {
        const m = obj.migrations ?? (profile !== undefined && profile !== "owner");
        if (typeof m !== "boolean") {
            throw new ConfigError(`${key}.migrations`, m, "must be true or false");
        }
        if (profile === "owner" && m) {
            throw new ConfigError(`${key}.migrations`, m, "is only for profile readwrite or readonly: with owner the app's own role runs its migrations");
        }
        if (profile !== undefined && profile !== "owner" && !m) {
            throw new ConfigError(`${key}.migrations`, m, `profile ${profile} holds no DDL: it needs a migration identity (migrations: true)`);
        }
        return m;
    });
    const developers = field(() => parseDevelopers(obj.developers ?? [], `${key}.developers`));
    const secrets = field(() => {
        const list = obj.secrets ?? [];
        if (!Array.isArray(list) || list.some(s => typeof s !== "string")) {
            throw new ConfigError(`${key}.secrets`, list, "must be a list of Key Vault secret names");
        }
        return list as string[];
    });
    const envFromSecrets = field(() => {
        const map = obj.envFromSecrets ?? {};
        if (typeof map !== "object" || map === null || Array.isArray(map) || Object.values(map).some(s => typeof s !== "string")) {
            throw new ConfigError(`${key}.envFromSecrets`, map, "must map environment variable names to secret names");
        }
        return map as Record<string, string>;
    });
    if (secrets !== undefined && envFromSecrets !== undefined) {
        for (const problem of appSecretsProblems({ secretNames: secrets, envFromSecrets })) {
            problems.add(`${key}.${problem.startsWith("envFromSecrets") ? "envFromSecrets" : "secrets"}`, problem.startsWith("envFromSecrets") ? envFromSecrets : secrets, problem);
        }
    }
    const extraSubjects = field(() => parseExtraSubjects(obj.extraSubjects ?? [], `${key}.extraSubjects`));
    if (extraSubjects !== undefined && namespace !== undefined && serviceAccount !== undefined) {
        for (const problem of extraSubjectProblems(extraSubjects, `system:serviceaccount:${namespace}:${serviceAccount}`)) {
            problems.add(`${key}.extraSubjects`, obj.extraSubjects, problem);
        }
    }
    if (problems.errors.length > 0) {
        throw new ConfigError(problems.errors, "");
    }
    return { name, namespace, serviceAccount, database, image, replicas, roleAssignments, profile, migrations, developers, secrets, envFromSecrets, extraSubjects };
}

function parseDevelopers(value: unknown, key: string): Developer[] {
    if (!Array.isArray(value)) {
        throw new ConfigError(key, value, "must be a list of {login, objectId, profile?}");
    }
    return value.map((item, i) => {
        const obj = (typeof item === "object" && item !== null ? item : {}) as Record<string, unknown>;
        const developer = { login: obj.login, objectId: obj.objectId, ...(obj.profile === undefined ? {} : { profile: obj.profile }) } as Developer;
        // The same rules developerRoleProblem applies stack-wide, for this one entry (its index within the app).
        const problem = developerRoleProblem("dev", [developer]);
        if (problem || Object.keys(obj).some(k => !["login", "objectId", "profile"].includes(k))) {
            throw new ConfigError(`${key}[${i}]`, item, problem?.replace(/^developers\[0\]\./, "")
                ?? `must be {login, objectId, profile?} (profile: ${DEVELOPER_PROFILES.join(" or ")})`);
        }
        return developer;
    });
}

const SUBJECT_KEYS: Record<string, string[]> = {
    kubernetes: ["kind", "issuer"],
    github: ["kind", "name", "repository", "workflow", "ref", "environment"],
};

/** The shape of each extra subject; what makes one valid is lib/federatedSubjects.ts's, checked by the caller. */
function parseExtraSubjects(value: unknown, key: string): ExtraSubject[] {
    if (!Array.isArray(value)) {
        throw new ConfigError(key, value, "must be a list of {kind: kubernetes, issuer} or {kind: github, name, repository, workflow, ref, environment?}");
    }
    return value.map((item, i) => {
        const itemKey = `${key}[${i}]`;
        const obj = (typeof item === "object" && item !== null ? item : {}) as Record<string, unknown>;
        const allowed = SUBJECT_KEYS[String(obj.kind)];
        if (!allowed) {
            throw new ConfigError(`${itemKey}.kind`, obj.kind, "must be kubernetes (another cluster's issuer) or github (a GitHub Actions job)");
        }
        const unknown = Object.keys(obj).filter(k => !allowed.includes(k));
        if (unknown.length > 0) {
            throw new ConfigError(`${itemKey}.${unknown[0]}`, obj[unknown[0]], `is not a setting of a ${obj.kind} subject (allowed: ${allowed.join(", ")})`);
        }
        const notString = allowed.filter(k => k !== "environment" && typeof obj[k] !== "string");
        if (notString.length > 0 || (obj.environment !== undefined && typeof obj.environment !== "string")) {
            const k = notString[0] ?? "environment";
            throw new ConfigError(`${itemKey}.${k}`, obj[k], "must be a string");
        }
        return obj as unknown as ExtraSubject;
    });
}

function parseRoleAssignments(value: unknown, key: string): AppRoleAssignment[] {
    if (!Array.isArray(value)) {
        throw new ConfigError(key, value, "must be a list of {scope, roleDefinitionId}");
    }
    return value.map((item, i) => {
        const itemKey = `${key}[${i}]`;
        const obj = (typeof item === "object" && item !== null ? item : {}) as Record<string, unknown>;
        const { scope, roleDefinitionId } = obj;
        // Least privilege: one specific resource, never a subscription or a whole resource group.
        if (typeof scope !== "string" || !/^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/[^/]+\/[^/]+\/[^/]+/i.test(scope)) {
            throw new ConfigError(`${itemKey}.scope`, scope, "must be the ARM id of one resource (/subscriptions/…/resourceGroups/…/providers/…); subscription- or resource-group-wide grants are refused");
        }
        if (typeof roleDefinitionId !== "string"
            || !(GUID.test(roleDefinitionId) || /^\/subscriptions\/[^/]+\/providers\/Microsoft\.Authorization\/roleDefinitions\/[0-9a-f-]{36}$/i.test(roleDefinitionId))) {
            throw new ConfigError(`${itemKey}.roleDefinitionId`, roleDefinitionId, "must be a role definition GUID or /subscriptions/<id>/providers/Microsoft.Authorization/roleDefinitions/<GUID>");
        }
        // D5: the deploy identities may delegate only the roles lib/programRoles.ts lists; anything else
        // would fail halfway through a CI deploy with AuthorizationFailed.
        if (!isAllowedAppRole(roleDefinitionId)) {
            throw new ConfigError(`${itemKey}.roleDefinitionId`, roleDefinitionId, `must be one of the roles the deploy identities may assign: ${allowedAppRolesText()}`);
        }
        return { scope, roleDefinitionId };
    });
}

/**
 * Rules that join apps with stack-wide settings: with workloadHighAvailability every app runs ≥ 2 replicas; a stack
 * bootstrap/ made (createResourceGroup false) is deployed by an identity that may delegate roles only inside the
 * stack's own resource group (bootstrap/grants.ts), so an app role elsewhere would fail mid-deploy.
 */
export function checkAppsAgainstStack(apps: readonly (AppSettings | undefined)[], problems: Problems, stack: {
    workloadHighAvailability?: boolean; createResourceGroup?: boolean; resourceGroup?: string; name?: string; protectData?: boolean;
}): void {
    // Developer roles are for dev only (developerRoleProblem), and a person has one role on the server, for one app.
    const seen = new Map<string, string>();
    apps.forEach((app, i) => {
        if (app && app.developers.length > 0 && stack.name !== undefined) {
            const problem = developerRoleProblem(stack.name, app.developers, { protectData: stack.protectData });
            if (problem?.includes("dev only")) {
                problems.add(`apps[${i}].developers`, app.developers.map(d => d.login), problem);
            }
        }
        app?.developers.forEach((d, j) => {
            const first = seen.get(d.login.toLowerCase());
            if (first) {
                problems.add(`apps[${i}].developers[${j}].login`, d.login, `already listed in ${first}: a person has one PostgreSQL role on the server, for one app`);
            }
            seen.set(d.login.toLowerCase(), first ?? `apps[${i}].developers`);
        });
    });
    apps.forEach((app, i) => {
        if (app && stack.workloadHighAvailability && app.replicas < 2) {
            problems.add(`apps[${i}].replicas`, app.replicas,
                "workloadHighAvailability needs at least 2 replicas per app (a PodDisruptionBudget with one replica blocks every node drain)");
        }
        if (app && stack.createResourceGroup === false && stack.resourceGroup !== undefined) {
            const group = `/resourceGroups/${stack.resourceGroup}/`;
            app.roleAssignments.forEach((assignment, j) => {
                if (!assignment.scope.toLowerCase().includes(group.toLowerCase())) {
                    problems.add(`apps[${i}].roleAssignments[${j}].scope`, assignment.scope, `must be a resource in the stack's own resource group `
                        + `(…${group}…): the deploy identity of a CI-deployed stack may assign roles only there (bootstrap/grants.ts)`);
                }
            });
        }
    });
}
