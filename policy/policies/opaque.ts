// What a preview can't inspect is denied unless policy config allow-lists it by resource name.
import { familyPolicy } from "./common";

interface OpaqueConfig {
    /** Logical names of Helm releases allowed (their manifests are rendered inside the provider). */
    helmReleases?: string[];
    /** Logical names of ARM deployments allowed to link a template (templateLink / parametersLink / template spec). */
    linkedTemplates?: string[];
    /** Logical names of deployment scripts and commands allowed (they run arbitrary code). */
    scripts?: string[];
}

export const opaqueResourcesAllowListed = familyPolicy(
    "opaque-resources-allow-listed",
    "Resources whose effect a preview can't inspect — Helm releases, ARM deployments of linked templates, deployment scripts and commands — are denied unless policy config allow-lists them by resource name.",
    ["helmRelease", "linkedTemplate", "script"],
    (c, report, args) => {
        const config = args.getConfig<OpaqueConfig>();
        const [list, key, what] = c.family === "helmRelease" ? [config.helmReleases, "helmReleases", "a Helm release renders its manifests inside the provider"]
            : c.family === "linkedTemplate" ? [config.linkedTemplates, "linkedTemplates", "a linked template is fetched by Azure, not seen at preview"]
                : [config.scripts, "scripts", "a script or command can do anything its identity may"];
        if (!(list ?? []).includes(args.name)) {
            report(`${what}; allow-list "${args.name}" in the policy config's ${key} if it has been reviewed`);
        }
    },
    {
        properties: {
            helmReleases: { type: "array", items: { type: "string" }, default: [], description: "Helm releases allowed, by resource name." },
            linkedTemplates: { type: "array", items: { type: "string" }, default: [], description: "ARM deployments allowed to link a template, by resource name." },
            scripts: { type: "array", items: { type: "string" }, default: [], description: "Deployment scripts and commands allowed, by resource name." },
        },
    });

