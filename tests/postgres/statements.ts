// The SQL executor of D1 as the tests run it: lib/postgresRoleSql.ts's statements through its applyStatements loop.
import { Client } from "pg";
import { AppDatabase, AppDatabaseStatement, applyStatements, appWithDevelopersStatements, Developer, SqlSession } from "../../lib/postgresRoleSql";
import { Cluster } from "./cluster";

/** Every statement of an app (and its developers) except the labels, which need Azure's pgaadauth (checked on their own). */
export function localStatements(app: AppDatabase & { developers?: Developer[] }): AppDatabaseStatement[] {
    return appWithDevelopersStatements(app, app.developers)
        .filter(s => !s.resource.endsWith("entra-label"));
}

/** applyStatements as `user` on `cluster`, one connection per database, closed afterwards. */
export async function runStatements(cluster: Cluster, user: string, statements: AppDatabaseStatement[]): Promise<AppDatabaseStatement[]> {
    const sessions = new Map<string, Promise<Client>>();
    try {
        return await applyStatements(database => {
            if (!sessions.has(database)) {
                sessions.set(database, cluster.connect(user, database));
            }
            return sessions.get(database)! as Promise<SqlSession>;
        }, statements);
    } finally {
        await Promise.all([...sessions.values()].map(c => c.then(client => client.end(), () => undefined)));
    }
}
