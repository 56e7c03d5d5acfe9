// D5: one list of the roles the program may assign. The policy pack (policy/rules.ts, a package of its own that
// imports nothing) keeps its copy; this test is what keeps the two from drifting, so that a role config accepts is
// never refused by the pack in CI, and the pack never allows a role the program would not assign.
import { expect } from "chai";
import { BUILTIN_ROLES } from "../lib/azureRoles";
import { ALLOWED_APP_ROLES, PROGRAM_ROLES } from "../lib/programRoles";
import { PROGRAM_ROLES as PACK_ROLES } from "../policy/rules";

describe("roles: the program and the policy pack allow the same roles (D5)", () => {
    it("the pack allows exactly the program's roles, the apps' allowed roles and the deployers' cluster-admin and AcrPush", () => {
        const program = [
            ...PROGRAM_ROLES.map(r => r.roleId), ...ALLOWED_APP_ROLES.map(r => r.roleId),
            BUILTIN_ROLES.aksRbacClusterAdmin, BUILTIN_ROLES.acrPush,
        ];
        expect(PACK_ROLES.map(r => r.id)).to.have.members([...new Set(program)]);
    });
});
