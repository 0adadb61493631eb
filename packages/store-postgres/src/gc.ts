import type pg from "pg";
import { withClient } from "./pool.js";
import type { OperationSql } from "./sql.js";

/** What one prune needs to know. */
export interface PruneContext {
  readonly pool: pg.Pool;
  readonly sql: OperationSql;
  /** `schema.table`, the advisory lock's key. */
  readonly lockKey: string;
  /** Prefix of this table's named prepared statements. */
  readonly statementPrefix: string;
  readonly queryTimeoutMs: number;
  /** Server-side timeout of each batch under transaction pooling, in ms. */
  readonly statementTimeoutMs: number;
  readonly batchSize: number;
  readonly now: () => number;
  /**
   * Whether to start another batch: false once the store is closing or the
   * call's time budget is spent, so a prune always answers within the
   * store's operation timeout and leaves the rest to the next call.
   */
  readonly more: () => boolean;
}

/**
 * Prunes under a session-level advisory lock (not a transaction one), so each
 * batch commits on its own and holds its row locks only briefly. Another
 * instance holding the lock: resolves to 0 at once.
 */
export function pruneWithSessionLock(ctx: PruneContext): Promise<number> {
  return withClient(ctx.pool, async (client) => {
    const lock = await client.query<{ locked: boolean }>({
      text: ctx.sql.gcLock,
      values: [ctx.lockKey],
      query_timeout: ctx.queryTimeoutMs,
    } as pg.QueryConfig);
    if (lock.rows[0]?.locked !== true) return 0;
    let removed = 0;
    for (;;) {
      const result = await client.query({
        name: `${ctx.statementPrefix}_gcBatch`,
        text: ctx.sql.gcBatch,
        values: [ctx.now(), ctx.batchSize],
        query_timeout: ctx.queryTimeoutMs,
      } as pg.QueryConfig);
      const count = result.rowCount ?? 0;
      removed += count;
      if (count < ctx.batchSize || !ctx.more()) break;
    }
    // After a failure the connection is destroyed instead, which frees the lock too.
    await client.query(ctx.sql.gcUnlock, [ctx.lockKey]);
    return removed;
  });
}

/**
 * Prunes under transaction pooling: a session-level lock would stay with
 * whichever server connection ran it (and leak to the next client of that
 * connection), so each batch is a transaction of its own that takes the lock
 * first. Another instance can take the lock between two batches: this one
 * then stops and the other carries on; SKIP LOCKED plus the repeated expiry
 * check delete (and count) every row exactly once. After a failure the
 * connection is destroyed, which rolls the open transaction back.
 */
export function pruneWithBatchLocks(ctx: PruneContext): Promise<number> {
  return withClient(ctx.pool, async (client) => {
    const exec = <R extends pg.QueryResultRow>(text: string, values: unknown[] = []) =>
      client.query<R>({ text, values, query_timeout: ctx.queryTimeoutMs } as pg.QueryConfig);
    let removed = 0;
    for (;;) {
      await exec("BEGIN");
      const lock = await exec<{ locked: boolean }>(ctx.sql.gcBatchLock, [
        String(ctx.statementTimeoutMs),
        ctx.lockKey,
      ]);
      if (lock.rows[0]?.locked !== true) {
        await exec("ROLLBACK");
        break;
      }
      const result = await exec(ctx.sql.gcBatch, [ctx.now(), ctx.batchSize]);
      await exec("COMMIT");
      const count = result.rowCount ?? 0;
      removed += count;
      if (count < ctx.batchSize || !ctx.more()) break;
    }
    return removed;
  });
}
