// D1's proof for the in-cluster executor: the program's role SQL, as the PostgresProvisioner's ConfigMap carries it,
// run by the very function the image's `provision` command runs (app/src/provision.ts runStatements, after
// parseStatements) as an Azure-shaped administrator, leaves the same roles, memberships, database owners and ACLs
// as @pulumi/postgresql applying PostgresRole's resources (tests/postgres/provider.ts) — on PostgreSQL 16, 17 and
// 18; and two executors at once, then a third run, change nothing further.
import { expect } from "chai";
import type { Client } from "pg";
import { parseStatements, runStatements } from "../../app/src/provision";
import { memoryLogger } from "../../app/src/log";
import { PostgresRole } from "../../components/postgresRole";
import { statementsFile } from "../../components/postgresProvisioner";
import { appDatabaseStatements } from "../../lib/postgresRoleSql";
import { underMocks } from "../harness";
import { principalIdFor } from "../mocks";
import { Catalogs, catalogs } from "./catalogs";
import { Cluster, Major, MAJORS } from "./cluster";
import { DeclaredResource, firstApply, ProviderSession } from "./provider";

const ADMIN = "id-prod-pg-provisioner";
const APPS = [
    { app: "orders", roleName: "id-prod-orders", databaseName: "orders" },
    { app: "billing", roleName: "id-prod-billing", databaseName: "billing" },
];

/** Each app's resources as PostgresRole declares them (the provider executor's input). */
async function declared(): Promise<DeclaredResource[][]> {
    const { mocks } = await underMocks("prod", () => APPS.map(a => new PostgresRole(`${a.app}-postgres`, {
        host: "psql-prod-x7k2q9.postgres.database.azure.com", port: 5432, adminLogin: ADMIN,
        roleName: a.roleName, principalId: principalIdFor(a.roleName), databaseName: a.databaseName, protect: false,
    })));
    return APPS.map(a => mocks.resources
        .filter(r => r.type.startsWith("postgresql:") && r.provider?.includes(`::${a.app}-postgres-admin::`))
        .map(r => ({ type: r.type, name: r.name, inputs: r.inputs })));
}

/**
 * The ConfigMap's content for every app, as the executor reads it. The pgaadauth label is left out: the extension
 * exists only on Azure (isolation.pg.test.ts checks that statement's text against the provider's).
 */
function configMapContent(): string {
    const statements = APPS.flatMap(a => appDatabaseStatements({ ...a, principalId: principalIdFor(a.roleName) }))
        .filter(s => !s.resource.endsWith("entra-label"));
    return statementsFile(statements);
}

/** One executor run as the administrator (its password stands in for its Entra token). */
async function execute(cluster: Cluster, content: string) {
    const clients: Client[] = [];
    const log = memoryLogger();
    try {
        const result = await runStatements(parseStatements(content), {
            connect: async database => {
                const client = await cluster.connect(ADMIN, database);
                clients.push(client);
                return client;
            },
            adminDatabase: "postgres", log, lockPollMs: 20,
        });
        return { result, log };
    } finally {
        await Promise.all(clients.map(c => c.end()));
    }
}

interface Run {
    clusters: Cluster[];
    viaProvider: Catalogs;
    viaExecutor: Catalogs;
    afterRerun: Catalogs;
    concurrent: { ran: number; skipped: number }[];
    rerun: { ran: number; skipped: number };
}

async function runOn(major: Major, resources: DeclaredResource[][]): Promise<Run> {
    const clusters = await Cluster.start(major, ADMIN, 2);
    const [providerCluster, executorCluster] = clusters;
    const session = new ProviderSession(providerCluster, ADMIN);
    try {
        for (const appResources of resources) {
            await firstApply(session, appResources);
        }
        const viaProvider = await catalogs(providerCluster);
        const content = configMapContent();
        // Two Jobs at once (a replaced Job whose predecessor still runs): they take turns on the lock.
        const both = await Promise.all([execute(executorCluster, content), execute(executorCluster, content)]);
        const viaExecutor = await catalogs(executorCluster);
        const again = await execute(executorCluster, content);
        const afterRerun = await catalogs(executorCluster);
        return {
            clusters, viaProvider, viaExecutor, afterRerun,
            concurrent: both.map(b => ({ ran: b.result.ran, skipped: b.result.skipped })).sort((a, b) => b.ran - a.ran),
            rerun: { ran: again.result.ran, skipped: again.result.skipped },
        };
    } catch (err) {
        await Promise.all(clusters.map(c => c.stop())); // the after hook only sees runs that succeeded
        throw err;
    } finally {
        await session.close();
    }
}

describe("D1: the provisioning Job's executor and @pulumi/postgresql leave the same catalogs", function () {
    this.timeout(60_000);
    const runs = new Map<Major, Promise<Run>>();

    before(async () => {
        const resources = await declared();
        for (const major of MAJORS) {
            const run = runOn(major, resources);
            run.catch(() => undefined); // reported by the tests that await it
            runs.set(major, run);
        }
    });

    after(async () => {
        await Promise.all([...runs.values()].map(async p => {
            const run = await p.catch(() => undefined);
            await Promise.all((run?.clusters ?? []).map(c => c.stop()));
        }));
    });

    it("the executor is handed every statement the program declares except the Azure-only label", () => {
        const plans = parseStatements(configMapContent());
        const resources = APPS.flatMap(a => appDatabaseStatements({ ...a, principalId: principalIdFor(a.roleName) }).map(s => s.resource));
        expect(plans.length).to.equal(resources.filter(r => !r.endsWith("entra-label")).length);
    });

    for (const major of MAJORS) {
        describe(`PostgreSQL ${major}`, () => {
            let run: Run;
            before(async () => {
                run = await runs.get(major)!;
            });

            it("roles, memberships, database owners and ACLs equal the provider's", () => {
                expect(run.viaExecutor).to.deep.equal(run.viaProvider);
            });

            it("two executors at once: one applies everything, the other skips what the first made and re-applies the rest", () => {
                const statements = parseStatements(configMapContent()).length;
                const creates = APPS.length * 2; // each app's CREATE ROLE and CREATE DATABASE
                expect(run.concurrent).to.deep.equal([{ ran: statements, skipped: 0 }, { ran: statements - creates, skipped: creates }]);
            });

            it("a third run changes nothing", () => {
                expect(run.rerun.skipped).to.equal(APPS.length * 2);
                expect(run.afterRerun).to.deep.equal(run.viaProvider);
            });
        });
    }
});
