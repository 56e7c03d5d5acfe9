// The policy pack: `pulumi preview --policy-pack policy` (run `npm ci --prefix policy` first).
import { PolicyPack } from "@pulumi/policy";
import { resourcePolicies, stackPolicies } from "./policies";

new PolicyPack("aks-pg-passwordless", {
    policies: [...resourcePolicies, ...stackPolicies],
});
