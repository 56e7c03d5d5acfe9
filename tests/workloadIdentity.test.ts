import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";
import { TOKEN_EXCHANGE_AUDIENCE, WorkloadIdentity, WorkloadIdentityArgs } from "../components/workloadIdentity";
import { clientIdFor, issuerUrlFor, principalIdFor, promiseOf, SUBSCRIPTION_ID, TENANT_ID } from "./mocks";
import { underMocks } from "./harness";

const FIC = "azure-native:managedidentity:FederatedIdentityCredential";
const ISSUER = issuerUrlFor("aks-test");

function build(overrides: Partial<WorkloadIdentityArgs> = {}, delays?: (type: string, name: string) => number) {
    return underMocks("test", () => new WorkloadIdentity("orders-identity", {
        resourceGroupName: "rg-test",
        location: "westeurope",
        identityName: "id-test-orders",
        serviceAccount: { namespace: "shop", name: "orders", issuers: [ISSUER] },
        subscriptionId: SUBSCRIPTION_ID,
        ...overrides,
    }), { delays });
}

describe("WorkloadIdentity", () => {
    it("the federated credential trusts exactly system:serviceaccount:<namespace>:<serviceAccount>", async () => {
        const { mocks } = await build();
        expect(mocks.named(FIC, "orders-identity-federation").inputs.subject).to.equal("system:serviceaccount:shop:orders");
    });

    it("the federated credential trusts the issuer it was given", async () => {
        const { mocks } = await build();
        expect(mocks.named(FIC, "orders-identity-federation").inputs.issuer).to.equal(ISSUER);
    });

    it("the federated credential's only audience is api://AzureADTokenExchange", async () => {
        const { mocks } = await build();
        expect(mocks.named(FIC, "orders-identity-federation").inputs.audiences).to.deep.equal([TOKEN_EXCHANGE_AUDIENCE]);
        expect(TOKEN_EXCHANGE_AUDIENCE).to.equal("api://AzureADTokenExchange");
    });

    it("the federated credential belongs to this identity", async () => {
        const { mocks } = await build();
        expect(mocks.named(FIC, "orders-identity-federation").inputs.resourceName).to.equal("id-test-orders");
    });

    it("exposes the subject, namespace and ServiceAccount it trusts", async () => {
        const { result } = await build();
        expect(await promiseOf(result.subject)).to.equal("system:serviceaccount:shop:orders");
        expect(await promiseOf(result.namespace)).to.equal("shop");
        expect(await promiseOf(result.serviceAccountName)).to.equal("orders");
    });

    it("exposes the identity's clientId, principalId and tenantId", async () => {
        const { result } = await build();
        expect(await promiseOf(result.clientId)).to.equal(clientIdFor("id-test-orders"));
        expect(await promiseOf(result.principalId)).to.equal(principalIdFor("id-test-orders"));
        expect(await promiseOf(result.tenantId)).to.equal(TENANT_ID);
    });

    it("a replaced credential is deleted before its successor is created", async () => {
        const { mocks } = await build();
        expect(mocks.optionsOf("orders-identity-federation").deleteBeforeReplace).to.equal(true);
    });

    it("credentials on one identity are written one after another, never concurrently", async () => {
        const second = issuerUrlFor("aks-green");
        const third = issuerUrlFor("aks-blue");
        const { mocks } = await build({ serviceAccount: { namespace: "shop", name: "orders", issuers: [ISSUER, second, third] } }, type => (type === FIC ? 40 : 0));
        const creds = ["orders-identity-federation", "orders-identity-federation-2", "orders-identity-federation-3"]
            .map(n => mocks.named(FIC, n));
        expect(creds.map(c => c.inputs.issuer)).to.deep.equal([ISSUER, second, third]);
        for (let i = 1; i < creds.length; i++) {
            expect(creds[i].requestedAt, `credential ${i + 1} starts after ${i} finished`).to.be.at.least(creds[i - 1].createdAt);
        }
    });

    it("no role assignment exists unless asked for", async () => {
        const { mocks } = await build();
        expect(mocks.ofType("azure-native:authorization:RoleAssignment")).to.have.length(0);
    });

    it("an extra role is granted to this identity's principal, on exactly the given resource", async () => {
        const vault = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv-orders";
        const { mocks } = await build({ roleAssignments: [{ scope: vault, roleDefinitionId: "4633458b-17de-408a-b874-0445c86b69e6" }] });
        const [assignment] = mocks.ofType("azure-native:authorization:RoleAssignment");
        expect(assignment.inputs).to.include({
            principalId: principalIdFor("id-test-orders"),
            principalType: "ServicePrincipal",
            scope: vault,
            roleDefinitionId: `/subscriptions/${SUBSCRIPTION_ID}/providers/Microsoft.Authorization/roleDefinitions/4633458b-17de-408a-b874-0445c86b69e6`,
        });
    });

    it("every child is parented to the component", async () => {
        const { mocks, result } = await build({ serviceAccount: { namespace: "shop", name: "orders", issuers: [ISSUER, issuerUrlFor("aks-green")] } });
        const urn = await promiseOf(result.urn);
        for (const child of ["orders-identity-identity", "orders-identity-federation", "orders-identity-federation-2"]) {
            const parent = mocks.optionsOf(child).parent as pulumi.Resource;
            expect(await promiseOf(parent.urn), child).to.equal(urn);
        }
    });
});

describe("WorkloadIdentity: one component for app and CI identities", () => {
    const GITHUB = "https://token.actions.githubusercontent.com";
    const subject = (n: number) => `repo:contoso/app:environment:dev:job_workflow_ref:contoso/app/.github/workflows/migrate-${n}.yml@refs/heads/main`;

    it("a CI identity trusts exactly the GitHub subjects it is given, from GitHub's issuer, and no ServiceAccount", async () => {
        const { mocks, result } = await build({ serviceAccount: undefined, github: [{ name: "github-deploy-dev", subject: subject(1) }] });
        expect(mocks.ofType(FIC).map(c => [c.inputs.federatedIdentityCredentialResourceName, c.inputs.issuer, c.inputs.subject]))
            .to.deep.equal([["github-deploy-dev", GITHUB, subject(1)]]);
        expect(await promiseOf(result.subject)).to.equal(undefined);
    });

    it("ServiceAccount and GitHub credentials on one identity are written one after another, in one chain", async () => {
        const { mocks } = await build({ github: [{ name: "github-migrate", subject: subject(1) }] }, type => (type === FIC ? 40 : 0));
        const [kubernetes, github] = ["orders-identity-federation", "orders-identity-github"].map(n => mocks.named(FIC, n));
        expect(github.requestedAt).to.be.at.least(kubernetes.createdAt);
    });

    it("more than Azure's 20 federated credentials on one identity are refused before anything is created", async () => {
        const github = Array.from({ length: 20 }, (_, i) => ({ name: `github-${i}`, subject: subject(i) }));
        let error: unknown;
        try {
            await build({ github });
        } catch (e) {
            error = e;
        }
        expect(String(error)).to.contain("21 federated credentials on one identity; Azure allows at most 20");
    });

    it("a role can carry an ABAC condition and a description (CI's delegated role assignment rights)", async () => {
        const condition = "((!(ActionMatches{'Microsoft.Authorization/roleAssignments/write'})))";
        const { mocks } = await build({ roleAssignments: [{ scope: "/subscriptions/s/resourceGroups/rg", roleDefinitionId: "f58310d9-a9f6-439a-9e8d-f62e7b41a168", condition, description: "why" }] });
        expect(mocks.ofType("azure-native:authorization:RoleAssignment")[0].inputs).to.include({ condition, conditionVersion: "2.0", description: "why" });
    });
});
