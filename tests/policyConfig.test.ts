// The policy pack allows only the PostgreSQL administrators its per-stack config lists (policy/config/<stack>.json,
// passed by .github/actions/pulumi). A stack whose administrator is not listed would fail every CI preview and deploy.
import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";
import { ROOT, stackValues } from "./harness";
import { resourceNames } from "../config";

describe("policy config: each shared stack's pack config matches its stack file", () => {
    for (const stack of ["dev", "prod"]) {
        it(`${stack}: policy/config/${stack}.json allows exactly the PostgreSQL administrator Pulumi.${stack}.yaml names`, () => {
            const config = JSON.parse(fs.readFileSync(path.join(ROOT, "policy", "config", `${stack}.json`), "utf8"));
            expect(config["postgres-entra-admins"].postgresAdmins).to.deep.equal([stackValues(stack).pgAdminObjectId]);
        });
    }

    it("prod's pack config allows by name exactly prod's provisioning identity, in both policies that read the list", () => {
        const config = JSON.parse(fs.readFileSync(path.join(ROOT, "policy", "config", "prod.json"), "utf8"));
        const expected = [resourceNames(String(stackValues("prod").namePrefix), "prod").provisionerIdentity];
        expect(config["postgres-entra-admins"].provisioningAdmins).to.deep.equal(expected);
        expect(config["postgres-provisioning-admin-is-own-identity"].provisioningAdmins).to.deep.equal(expected);
    });

    it("the CI action hands the pack the config of the stack it runs", () => {
        const action = yaml.load(fs.readFileSync(path.join(ROOT, ".github", "actions", "pulumi", "action.yml"), "utf8")) as {
            runs: { steps: { uses?: string; with?: Record<string, string> }[] };
        };
        const pulumiStep = action.runs.steps.find(s => s.uses?.startsWith("pulumi/actions@"))!;
        expect(pulumiStep.with).to.include({ policyPacks: "policy", policyPackConfigs: "policy/config/${{ inputs.stack }}.json" });
    });
});
