// Extra subjects an app's identity trusts: validation as plain functions (no mocks), and the credentials the
// WorkloadIdentity component writes for them.
import { expect } from "chai";
import { githubSubject } from "../bootstrap/githubSubjects";
import { WorkloadIdentity, WorkloadIdentityArgs } from "../components/workloadIdentity";
import { BUILTIN_ROLES } from "../lib/azureRoles";
import {
    ExtraSubject, extraSubjectProblems, extraSubjectsForIdentity, extraSubjectTrust, GITHUB_ACTIONS_ISSUER, MAX_FEDERATED_CREDENTIALS_PER_IDENTITY,
} from "../lib/federatedSubjects";
import { secretReaderAssignments } from "../lib/keyVaultNames";
import { issuerUrlFor, principalIdFor, SUBSCRIPTION_ID } from "./mocks";
import { runProgram, underMocks } from "./harness";

const FIC = "azure-native:managedidentity:FederatedIdentityCredential";
const ROLE = "azure-native:authorization:RoleAssignment";
const SA_SUBJECT = "system:serviceaccount:shop:orders";
const GREEN = issuerUrlFor("aks-green");
const MIGRATE: ExtraSubject = { name: "github-migrate", kind: "github", repository: "contoso/aks-pg", workflow: "migrate.yml", ref: "refs/heads/main", environment: "prod" };
const GREEN_CLUSTER: ExtraSubject = { kind: "kubernetes", issuer: GREEN };
const OWN_ISSUER = issuerUrlFor("aks-test");

/** The identity as index.ts wires an app's: extra subjects and secrets mapped by the lib functions under test. */
function build(extras: ExtraSubject[] = [], secretIds: string[] = []) {
    const { issuers, github } = extraSubjectsForIdentity(extras);
    const args: WorkloadIdentityArgs = {
        resourceGroupName: "rg-test",
        location: "westeurope",
        identityName: "id-test-orders",
        serviceAccount: { namespace: "shop", name: "orders", issuers: [OWN_ISSUER, ...issuers] },
        github,
        subscriptionId: SUBSCRIPTION_ID,
        roleAssignments: secretReaderAssignments(secretIds),
    };
    return underMocks("test", () => new WorkloadIdentity("orders-identity", args));
}

describe("extra federated subjects (plain functions)", () => {
    it("another cluster trusts the same ServiceAccount subject under its own issuer", () => {
        expect(extraSubjectTrust(GREEN_CLUSTER, SA_SUBJECT)).to.deep.equal({ issuer: GREEN, subject: SA_SUBJECT });
    });

    it("a GitHub Actions subject is the D3 template's, under GitHub's issuer", () => {
        expect(extraSubjectTrust(MIGRATE, SA_SUBJECT)).to.deep.equal({
            issuer: GITHUB_ACTIONS_ISSUER,
            subject: githubSubject("contoso/aks-pg", { environment: "prod" }, "migrate.yml", "refs/heads/main"),
        });
        expect(extraSubjectTrust(MIGRATE, SA_SUBJECT).subject)
            .to.equal("repo:contoso/aks-pg:environment:prod:job_workflow_ref:contoso/aks-pg/.github/workflows/migrate.yml@refs/heads/main");
    });

    it("a GitHub job without an environment has the ref as its context", () => {
        expect(extraSubjectTrust({ ...MIGRATE, environment: undefined }, SA_SUBJECT).subject)
            .to.equal("repo:contoso/aks-pg:ref:refs/heads/main:job_workflow_ref:contoso/aks-pg/.github/workflows/migrate.yml@refs/heads/main");
    });

    it("sound subjects have no problems", () => {
        expect(extraSubjectProblems([GREEN_CLUSTER, MIGRATE], SA_SUBJECT)).to.deep.equal([]);
    });

    it("refuses an issuer that is not https, naming the subject", () => {
        expect(extraSubjectProblems([{ kind: "kubernetes", issuer: "http://issuer.example.com/x/" }], SA_SUBJECT))
            .to.deep.equal(['extra subject 0 (kubernetes, issuer http://issuer.example.com/x/): issuer http://issuer.example.com/x/ must be https (Entra only fetches an issuer\'s discovery document over TLS)']);
        expect(extraSubjectProblems([GREEN_CLUSTER, { kind: "kubernetes", issuer: "not a url" }], SA_SUBJECT)[0]).to.match(/^extra subject 1 \(kubernetes, issuer not a url\): issuer "not a url" is not a URL/);
        expect(extraSubjectProblems([{ kind: "kubernetes", issuer: "https://i.example.com/?x=1" }], SA_SUBJECT)[0]).to.match(/no query, fragment or credentials/);
    });

    it("refuses GitHub fields the template cannot build a subject from, naming the subject and each field", () => {
        const problems = extraSubjectProblems([{ name: "ci-job", kind: "github", repository: "contoso", workflow: ".github/workflows/m.yml", ref: "main", environment: "prod env" }], SA_SUBJECT);
        expect(problems).to.deep.equal([
            'extra subject "ci-job": repository "contoso" is not <owner>/<repo>',
            'extra subject "ci-job": workflow ".github/workflows/m.yml" is not a file name under .github/workflows ending .yml or .yaml',
            'extra subject "ci-job": ref "main" is not refs/heads/<branch> or refs/tags/<tag>',
            'extra subject "ci-job": environment "prod env" must be non-empty, without spaces or \':\'',
        ]);
    });

    it("refuses bad and reserved credential names, and a name used twice", () => {
        expect(extraSubjectProblems([{ ...MIGRATE, name: "x" }], SA_SUBJECT)[0]).to.match(/^extra subject "x": a credential name is 3-120/);
        expect(extraSubjectProblems([{ ...MIGRATE, name: "kubernetes-serviceaccount-2" }], SA_SUBJECT)[0]).to.match(/the ServiceAccount's credentials/);
        expect(extraSubjectProblems([MIGRATE, { ...MIGRATE, environment: "dev" }], SA_SUBJECT)).to.deep.equal(['extra subject "github-migrate" is listed twice']);
    });

    it("each issuer and subject appears once: the same trust under two names is refused, naming both", () => {
        expect(extraSubjectProblems([MIGRATE, { ...MIGRATE, name: "github-migrate-again" }], SA_SUBJECT)).to.deep.equal([
            `extra subject "github-migrate-again" trusts the same issuer and subject as extra subject "github-migrate" (${extraSubjectTrust(MIGRATE, SA_SUBJECT).subject}); Entra allows each pair once per identity`,
        ]);
        // A trailing slash does not make another issuer.
        expect(extraSubjectProblems([GREEN_CLUSTER, { kind: "kubernetes", issuer: GREEN.replace(/\/$/, "") }], SA_SUBJECT)).to.have.length(1);
    });

    it("at most 20 credentials per identity, counting the cluster's own", () => {
        const many = (n: number) => Array.from({ length: n }, (_, i): ExtraSubject => ({ ...MIGRATE, name: `ci-${i}`, environment: `env-${i}` }));
        expect(MAX_FEDERATED_CREDENTIALS_PER_IDENTITY).to.equal(20);
        expect(extraSubjectProblems(many(19), SA_SUBJECT)).to.deep.equal([]);
        expect(extraSubjectProblems(many(20), SA_SUBJECT)).to.deep.equal([
            "20 extra subjects + 1 of the cluster's own = 21 federated credentials; Entra allows at most 20 per identity",
        ]);
    });
});

describe("WorkloadIdentity: extra subjects and Key Vault secrets", () => {
    it("each extra subject appears exactly once, after the cluster's own, each with the exchange audience", async () => {
        const { mocks } = await build([GREEN_CLUSTER, MIGRATE]);
        const creds = mocks.ofType(FIC).map(c => ({ name: c.inputs.federatedIdentityCredentialResourceName, issuer: c.inputs.issuer, subject: c.inputs.subject }));
        expect(creds).to.deep.equal([
            { name: "kubernetes-serviceaccount", issuer: OWN_ISSUER, subject: SA_SUBJECT },
            { name: "kubernetes-serviceaccount-2", issuer: GREEN, subject: SA_SUBJECT },
            { name: "github-migrate", ...extraSubjectTrust(MIGRATE, SA_SUBJECT) },
        ]);
        expect(new Set(mocks.ofType(FIC).map(c => `${c.inputs.issuer} ${c.inputs.subject}`)).size).to.equal(3);
        for (const c of mocks.ofType(FIC)) {
            expect(c.inputs.audiences).to.deep.equal(["api://AzureADTokenExchange"]);
        }
    });

    it("extra subjects are written one after another, in the same chain as the cluster's own", async () => {
        const { mocks } = await build([GREEN_CLUSTER, MIGRATE]);
        expect(mocks.optionsOf("orders-identity-federation-2").dependsOn).to.have.length(1);
        expect(mocks.optionsOf("orders-identity-github").dependsOn).to.have.length(1);
    });

    it("Key Vault Secrets User goes on each listed secret, never on the vault", async () => {
        const vault = `/subscriptions/${SUBSCRIPTION_ID}/resourceGroups/rg-test/providers/Microsoft.KeyVault/vaults/kv-akspg-dev-x7k2q9`;
        const secrets = [`${vault}/secrets/demo-api-key`, `${vault}/secrets/payments-api-key`];
        const { mocks } = await build([], secrets);
        const assignments = mocks.ofType(ROLE);
        expect(assignments.map(a => a.inputs.scope)).to.deep.equal(secrets);
        for (const a of assignments) {
            expect(a.inputs).to.include({
                principalId: principalIdFor("id-test-orders"),
                principalType: "ServicePrincipal",
                roleDefinitionId: `/subscriptions/${SUBSCRIPTION_ID}/providers/Microsoft.Authorization/roleDefinitions/${BUILTIN_ROLES.keyVaultSecretsUser}`,
            });
            expect(a.inputs.scope).to.not.equal(vault);
        }
    });
});

describe("program: an app's extra subjects", () => {
    it("a GitHub migration job is trusted by the identity that owns the schema (the migration identity), another cluster by both", async () => {
        const { mocks } = await runProgram({ stack: "dev", overrides: { apps: [{
            name: "demo", profile: "readwrite", migrations: true, image: "contoso.azurecr.io/demo:1.0.0",
            extraSubjects: [GREEN_CLUSTER, MIGRATE],
        }] } });
        const trusts = (identityName: string) => mocks.ofType(FIC).filter(c => c.inputs.resourceName === identityName).map(c => `${c.inputs.issuer} ${c.inputs.subject}`);
        const github = `${GITHUB_ACTIONS_ISSUER} ${extraSubjectTrust(MIGRATE, "").subject}`;
        expect(trusts("id-pgwi-dev-demo-migrate")).to.include(github).and.to.include(`${GREEN} system:serviceaccount:demo:demo-migrate`);
        expect(trusts("id-pgwi-dev-demo")).to.not.include(github);
        expect(trusts("id-pgwi-dev-demo")).to.include(`${GREEN} system:serviceaccount:demo:demo`);
        expect(mocks.ofType(FIC).filter(c => `${c.inputs.issuer} ${c.inputs.subject}` === github)).to.have.length(1);
    });
});
