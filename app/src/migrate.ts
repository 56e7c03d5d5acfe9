import type { Pool } from "pg";

/** Serialises migrations across replicas that start together. */
const MIGRATION_LOCK = 727_001;

/** Creates the schema if it is not there; safe to run any number of times, from any number of pods at once. */
export async function migrate(pool: Pool): Promise<void> {
    const client = await pool.connect();
    try {
        await client.query("BEGIN");
        await client.query("SELECT pg_advisory_xact_lock($1)", [MIGRATION_LOCK]);
        await client.query(`
            CREATE TABLE IF NOT EXISTS items (
                id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                name        text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
                created_by  text        NOT NULL DEFAULT current_user,
                created_at  timestamptz NOT NULL DEFAULT now()
            )`);
        await client.query("COMMIT");
    } catch (error) {
        await client.query("ROLLBACK").catch(() => undefined);
        throw error;
    } finally {
        client.release();
    }
}
