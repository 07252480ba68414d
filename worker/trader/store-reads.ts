// The desk's reads: orders, fills, positions, legs, the activity ledger, as typed queries over its SQLite
// storage. DeskStore (store.ts) extends this with the writes, each of which records its own bookkeeping.
import type { CashRow, FillRow, OrderRow, PositionRow } from "./schema";

export const POSITION_COLUMNS = "symbol, quantity, avg_price_micros, realized_pl_micros, reserved_qty, version";

/** One line of the activity ledger as stored (money in cents and micro-dollars). */
export interface ActivityRow extends Record<string, SqlStorageValue> {
  type: "FILL" | "CASH";
  id: string;
  at: string;
  order_id: string | null;
  symbol: string | null;
  side: "BUY" | "SELL" | null;
  quantity: number | null;
  price_cents: number | null;
  realized_pl_micros: number | null;
  reason: string | null;
  net_cents: number;
}

export class StoreReads {
  constructor(protected readonly sql: SqlStorage) {}

  cashLedger(): CashRow[] {
    return this.sql.exec<CashRow>("SELECT id, at, amount_cents, reason FROM cash_ledger ORDER BY seq").toArray();
  }

  /** Realized P&L of every position, open or closed (micro-dollars). */
  realizedTotal(): number {
    return this.sql.exec<{ total: number | null }>("SELECT SUM(realized_pl_micros) AS total FROM positions").one().total ?? 0;
  }

  positions(): PositionRow[] {
    return this.sql.exec<PositionRow>(`SELECT ${POSITION_COLUMNS} FROM positions WHERE quantity != 0 OR reserved_qty != 0 ORDER BY symbol`).toArray();
  }

  position(symbol: string): PositionRow | undefined {
    return this.sql.exec<PositionRow>(`SELECT ${POSITION_COLUMNS} FROM positions WHERE symbol = ?`, symbol).toArray()[0];
  }

  order(id: string): OrderRow | undefined {
    return this.sql.exec<OrderRow>("SELECT * FROM orders WHERE id = ?", id).toArray()[0];
  }

  orderByClientId(clientOrderId: string): OrderRow | undefined {
    return this.sql.exec<OrderRow>("SELECT * FROM orders WHERE client_order_id = ?", clientOrderId).toArray()[0];
  }

  /** The amend an Idempotency-Key was used for, if any. */
  amendKey(key: string): { order_id: string; fingerprint: string; seq: number } | undefined {
    return this.sql.exec<{ order_id: string; fingerprint: string; seq: number }>("SELECT order_id, fingerprint, seq FROM amend_keys WHERE key = ?", key).toArray()[0];
  }

  orderByKey(idemKey: string | null, clientOrderId: string | null): OrderRow | undefined {
    return this.sql.exec<OrderRow>("SELECT * FROM orders WHERE idem_key = ? OR client_order_id = ? LIMIT 1", idemKey, clientOrderId).toArray()[0];
  }

  /** Orders newest first; `topLevel`: parents and simple orders only (their legs are read with legsOf). */
  listOrders(filter: { status?: string; symbol?: string; beforeSeq?: number; limit: number; topLevel?: boolean }): OrderRow[] {
    return this.sql
      .exec<OrderRow>(
        `SELECT * FROM orders WHERE (?1 IS NULL OR status = ?1) AND (?2 IS NULL OR symbol = ?2) AND (?3 IS NULL OR seq < ?3)
           AND (?5 = 0 OR parent_order_id IS NULL)
         ORDER BY seq DESC LIMIT ?4`,
        filter.status ?? null, filter.symbol ?? null, filter.beforeSeq ?? null, filter.limit, filter.topLevel ? 1 : 0,
      )
      .toArray();
  }

  /** Orders whose next venue attempt is due by `now` (epoch ms). */
  dueAttempts(now: number): OrderRow[] {
    return this.sql.exec<OrderRow>("SELECT * FROM orders WHERE next_attempt_at <= ? ORDER BY next_attempt_at", now).toArray();
  }

  /** DAY orders whose session has closed by `now` (epoch ms). */
  dueExpiries(now: number): OrderRow[] {
    return this.sql.exec<OrderRow>("SELECT * FROM orders WHERE expires_at <= ? ORDER BY expires_at", now).toArray();
  }

  fills(orderId: string): FillRow[] {
    return this.sql.exec<FillRow>("SELECT id, order_id, quantity, price_cents, realized_pl_micros, timestamp FROM fills WHERE order_id = ? ORDER BY timestamp, rowid", orderId).toArray();
  }

  fillIds(orderId: string): Set<string> {
    return new Set(this.sql.exec<{ id: string }>("SELECT id FROM fills WHERE order_id = ?", orderId).toArray().map((r) => r.id));
  }

  /** Every execution id the desk has seen of an order: its fills, and the executions reported after it ended (not booked). */
  seenExecutionIds(orderId: string): Set<string> {
    const rows = this.sql.exec<{ id: string }>("SELECT id FROM fills WHERE order_id = ? UNION SELECT id FROM unbooked_fills WHERE order_id = ?", orderId, orderId);
    return new Set(rows.toArray().map((r) => r.id));
  }

  /** The executions of the order the venue reported after it ended (none booked), by fill id. */
  unbookedIds(orderId: string): string[] {
    return this.sql.exec<{ id: string }>("SELECT id FROM unbooked_fills WHERE order_id = ?", orderId).toArray().map((r) => r.id);
  }

  /** A parent's legs, oldest first. */
  legsOf(parentId: string): OrderRow[] {
    return this.sql.exec<OrderRow>("SELECT * FROM orders WHERE parent_order_id = ? ORDER BY seq", parentId).toArray();
  }

  /** The other working members of an order's one-cancels-other group. */
  ocoSiblings(order: Pick<OrderRow, "id" | "oco_group">): OrderRow[] {
    if (order.oco_group === null) return [];
    return this.sql
      .exec<OrderRow>("SELECT * FROM orders WHERE oco_group = ? AND id != ? AND status NOT IN ('FILLED', 'CANCELLED', 'REJECTED', 'EXPIRED') ORDER BY seq", order.oco_group, order.id)
      .toArray();
  }

  /** Working orders (not final), oldest first, optionally of one symbol and side. */
  workingOrders(filter: { symbol?: string; side?: string } = {}): OrderRow[] {
    return this.sql
      .exec<OrderRow>(
        `SELECT * FROM orders WHERE status NOT IN ('FILLED', 'CANCELLED', 'REJECTED', 'EXPIRED')
           AND (?1 IS NULL OR symbol = ?1) AND (?2 IS NULL OR side = ?2) ORDER BY seq`,
        filter.symbol ?? null, filter.side ?? null,
      )
      .toArray();
  }

  /** Fills and cash movements, newest first (the activity ledger), with the filters of ActivitiesQuery. */
  activities(f: { type?: "FILL" | "CASH"; symbol?: string; from?: string; to?: string; before?: { at: string; id: string }; limit: number }): ActivityRow[] {
    return this.sql
      .exec<ActivityRow>(
        `SELECT * FROM (
           SELECT 'FILL' AS type, f.id, f.timestamp AS at, o.id AS order_id, o.symbol, o.side, f.quantity, f.price_cents,
             f.realized_pl_micros, NULL AS reason,
             CASE o.side WHEN 'BUY' THEN -f.quantity * f.price_cents ELSE f.quantity * f.price_cents END AS net_cents
           FROM fills f JOIN orders o ON o.id = f.order_id
           UNION ALL
           SELECT 'CASH', id, at, NULL, NULL, NULL, NULL, NULL, NULL, reason, amount_cents FROM cash_ledger)
         WHERE (?1 IS NULL OR type = ?1) AND (?2 IS NULL OR symbol = ?2) AND (?3 IS NULL OR at >= ?3) AND (?4 IS NULL OR at <= ?4)
           AND (?5 IS NULL OR at < ?5 OR (at = ?5 AND id < ?6))
         ORDER BY at DESC, id DESC LIMIT ?7`,
        f.type ?? null, f.symbol ?? null, f.from ?? null, f.to ?? null, f.before?.at ?? null, f.before?.id ?? null, f.limit,
      )
      .toArray();
  }
}
