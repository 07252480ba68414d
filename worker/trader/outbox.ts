// The outbox: every change the desk makes is queued here in the same storage transaction as the change
// itself, then flushed to D1 in one batch. Writes are idempotent (inserts ignore rows already there,
// upserts only move a row forward by version), so a flush retried after a failure never duplicates.
import { sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import type { Database } from "../db/client";
import { accounts, executionLogs, fills, orders, positions } from "../db/schema";
import type { DeskStore } from "./store";

export type OutboxRecord =
  | { kind: "order"; row: typeof orders.$inferInsert & { version: number } }
  | { kind: "fill"; row: typeof fills.$inferInsert }
  | { kind: "log"; row: typeof executionLogs.$inferInsert }
  | { kind: "account"; row: typeof accounts.$inferInsert & { version: number } }
  | { kind: "position"; row: typeof positions.$inferInsert & { version: number } };

/** Records flushed per D1 batch. */
export const FLUSH_BATCH = 100;

/** Later snapshots of the same row supersede earlier ones within a batch. */
function latestSnapshots(records: OutboxRecord[]): OutboxRecord[] {
  const seen = new Set<string>();
  const kept: OutboxRecord[] = [];
  for (let i = records.length - 1; i >= 0; i--) {
    const r = records[i]!;
    const key =
      r.kind === "order" ? `o:${r.row.id}` : r.kind === "account" ? `a:${r.row.traderId}` : r.kind === "position" ? `p:${r.row.symbol}` : null;
    if (key !== null) {
      if (seen.has(key)) continue;
      seen.add(key);
    }
    kept.push(r);
  }
  return kept.reverse();
}

function statement(db: Database, r: OutboxRecord): BatchItem<"sqlite"> {
  switch (r.kind) {
    case "order":
      return db.insert(orders).values(r.row).onConflictDoUpdate({ target: orders.id, set: r.row, setWhere: sql`${orders.version} < excluded.version` });
    case "account":
      return db.insert(accounts).values(r.row).onConflictDoUpdate({ target: accounts.traderId, set: r.row, setWhere: sql`${accounts.version} < excluded.version` });
    case "position":
      return db
        .insert(positions)
        .values(r.row)
        .onConflictDoUpdate({ target: [positions.traderId, positions.symbol], set: r.row, setWhere: sql`${positions.version} < excluded.version` });
    case "fill":
      return db.insert(fills).values(r.row).onConflictDoNothing();
    case "log":
      return db.insert(executionLogs).values(r.row).onConflictDoNothing();
  }
}

/** Flush everything queued, batch by batch. Throws when D1 fails; what was not flushed stays queued. */
export async function flushOutbox(store: DeskStore, db: Database): Promise<number> {
  let flushed = 0;
  for (;;) {
    const batch = store.outboxBatch(FLUSH_BATCH);
    if (batch.length === 0) return flushed;
    const [first, ...rest] = latestSnapshots(batch.map((b) => b.record)).map((r) => statement(db, r));
    await db.batch([first!, ...rest]);
    store.dropOutbox(batch[batch.length - 1]!.id);
    flushed += batch.length;
  }
}
