// execution_logs in D1, read for compliance: the report (keyset pages, newest first) and the hash chain.
import { and, asc, desc, eq, gt, gte, lt, lte, or, sql, type SQL } from "drizzle-orm";
import { database } from "./client";
import { executionLogs } from "./schema";
import type { ExecutionRow } from "../shared/compliance";
import type { AuditEntry } from "../shared/orders";

export interface ExecutionFilter {
  from?: string;
  to?: string;
  traderId?: string;
  orderId?: string;
  /** Rows of the legs of this parent order. */
  parentOrderId?: string;
  symbol?: string;
  action?: string;
}

/**
 * Position after the last row of a page. Rows are ordered newest first by (timestamp, chain_seq, id):
 * rows of one trader written in the same millisecond keep their audit-chain order.
 */
export interface ExecutionCursor {
  timestamp: string;
  chainSeq: number;
  id: string;
}

type LogRow = typeof executionLogs.$inferSelect;

const toExecution = (r: LogRow): ExecutionRow => ({
  id: r.id,
  trader_id: r.traderId,
  order_id: r.orderId,
  symbol: r.symbol,
  side: r.side as ExecutionRow["side"],
  action: r.action as ExecutionRow["action"],
  status: r.status as ExecutionRow["status"],
  timestamp: r.timestamp,
  reason: r.reason,
  error_code: r.errorCode,
  retry_attempt: r.retryAttempt,
  parent_order_id: r.parentOrderId,
  chain_seq: r.chainSeq,
  hash: r.hash,
});

function conditions(f: ExecutionFilter): SQL[] {
  const where: SQL[] = [];
  if (f.from) where.push(gte(executionLogs.timestamp, f.from));
  if (f.to) where.push(lte(executionLogs.timestamp, f.to));
  if (f.traderId) where.push(eq(executionLogs.traderId, f.traderId));
  if (f.orderId) where.push(eq(executionLogs.orderId, f.orderId));
  if (f.parentOrderId) where.push(eq(executionLogs.parentOrderId, f.parentOrderId));
  if (f.symbol) where.push(eq(executionLogs.symbol, f.symbol));
  if (f.action) where.push(eq(executionLogs.action, f.action));
  return where;
}

export async function executionsPage(d1: D1Database, filter: ExecutionFilter, after: ExecutionCursor | null, limit: number) {
  const where = conditions(filter);
  if (after) {
    where.push(
      or(
        lt(executionLogs.timestamp, after.timestamp),
        and(eq(executionLogs.timestamp, after.timestamp), lt(executionLogs.chainSeq, after.chainSeq)),
        and(eq(executionLogs.timestamp, after.timestamp), eq(executionLogs.chainSeq, after.chainSeq), lt(executionLogs.id, after.id)),
      )!,
    );
  }
  const rows = await database(d1)
    .select()
    .from(executionLogs)
    .where(and(...where))
    .orderBy(desc(executionLogs.timestamp), desc(executionLogs.chainSeq), desc(executionLogs.id))
    .limit(limit + 1)
    .all();
  const last = rows[limit - 1];
  return {
    rows: rows.slice(0, limit).map(toExecution),
    next: rows.length > limit && last ? { timestamp: last.timestamp, chainSeq: last.chainSeq, id: last.id } : null,
  };
}

export function encodeExecutionCursor(c: ExecutionCursor): string {
  return btoa(JSON.stringify([c.timestamp, c.chainSeq, c.id])).replace(/=+$/, "");
}

export function decodeExecutionCursor(text: string): ExecutionCursor | null {
  try {
    const value: unknown = JSON.parse(atob(text));
    if (Array.isArray(value) && typeof value[0] === "string" && Number.isSafeInteger(value[1]) && typeof value[2] === "string") {
      return { timestamp: value[0], chainSeq: value[1] as number, id: value[2] };
    }
  } catch {
    // not a cursor we made
  }
  return null;
}

// ---- the hash chain

export type ChainRow = LogRow;

/** One trader's chain rows in order, from `afterSeq` (exclusive). */
export async function chainPage(d1: D1Database, traderId: string, afterSeq: number, limit: number): Promise<ChainRow[]> {
  return database(d1)
    .select()
    .from(executionLogs)
    .where(and(eq(executionLogs.traderId, traderId), gt(executionLogs.chainSeq, afterSeq)))
    .orderBy(asc(executionLogs.chainSeq))
    .limit(limit)
    .all();
}

/** The chain positions a time range covers for one trader (null when it holds no rows). */
export async function chainSpan(d1: D1Database, traderId: string, from?: string, to?: string): Promise<{ first: number; last: number } | null> {
  const row = await database(d1)
    .select({ first: sql<number | null>`MIN(${executionLogs.chainSeq})`, last: sql<number | null>`MAX(${executionLogs.chainSeq})` })
    .from(executionLogs)
    .where(and(...conditions({ traderId, from, to })))
    .get();
  return row && row.first !== null && row.last !== null ? { first: row.first, last: row.last } : null;
}

export async function tradersWithLogs(d1: D1Database, from?: string, to?: string): Promise<string[]> {
  const rows = await database(d1)
    .selectDistinct({ traderId: executionLogs.traderId })
    .from(executionLogs)
    .where(and(...conditions({ from, to })))
    .orderBy(asc(executionLogs.traderId))
    .all();
  return rows.map((r) => r.traderId);
}

/** A trader's last chain position and hash within a time range (what a daily manifest pins). */
export async function lastChainLink(d1: D1Database, traderId: string, from: string, to: string) {
  const row = await database(d1)
    .select({ seq: executionLogs.chainSeq, hash: executionLogs.hash })
    .from(executionLogs)
    .where(and(...conditions({ traderId, from, to })))
    .orderBy(desc(executionLogs.chainSeq))
    .limit(1)
    .get();
  return { last_chain_seq: row?.seq ?? 0, last_hash: row?.hash ?? "" };
}

/** One order's trail as the system of record holds it, oldest first (compliance reads any trader's). */
export async function auditForOrder(d1: D1Database, orderId: string): Promise<AuditEntry[]> {
  const rows = await database(d1).select().from(executionLogs).where(eq(executionLogs.orderId, orderId)).orderBy(asc(executionLogs.chainSeq)).all();
  return rows.map((r) => {
    const { symbol: _symbol, side: _side, chain_seq: _seq, hash: _hash, ...entry } = toExecution(r);
    return entry;
  });
}
