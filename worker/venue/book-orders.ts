// The simulated venue's order ledger for one symbol, over the VenueBook's SQLite storage: every order it
// ever received by key (so a key never makes a second order), its fills, whether its stop has triggered,
// the attempts counted for fault injection, and the reports still owed to traders' desks.
import { z } from "zod";
import type { VenueFill, VenueOrder, VenueReport, VenueState, VenueTerms } from "./adapter";
import type { Executable, Slice } from "./matching";
import { TIME_IN_FORCE } from "../shared/orders";

export interface BookOrderRow extends Record<string, SqlStorageValue> {
  key: string;
  /** The VenueOrder as JSON. */
  body: string;
  state: string;
  filled: number;
  spent_cents: number;
  triggered: number;
  /** The VenueFill[] as JSON. */
  fills: string;
  reason: string | null;
  /** Time priority among resting orders (lower first): kept by a smaller quantity, lost by a new price or more shares. */
  priority: number;
  amend_seq: number;
}

export class BookOrders {
  constructor(private readonly sql: SqlStorage) {}

  migrate(): void {
    this.sql.exec(`
      CREATE TABLE IF NOT EXISTS orders (key TEXT PRIMARY KEY, body TEXT NOT NULL, state TEXT NOT NULL,
        filled INTEGER NOT NULL DEFAULT 0, spent_cents INTEGER NOT NULL DEFAULT 0, triggered INTEGER NOT NULL DEFAULT 0,
        fills TEXT NOT NULL DEFAULT '[]', reason TEXT);
      CREATE INDEX IF NOT EXISTS orders_working ON orders(state);
      CREATE INDEX IF NOT EXISTS orders_oco_group ON orders(json_extract(body, '$.ocoGroup'));
      CREATE TABLE IF NOT EXISTS attempts (key TEXT PRIMARY KEY, n INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS undelivered (key TEXT PRIMARY KEY, trader_id TEXT NOT NULL);
    `);
    // Amends (cancel/replace) and time priority came later: add their columns to older books.
    const columns = new Set(this.sql.exec<{ name: string }>("SELECT name FROM pragma_table_info('orders')").toArray().map((c) => c.name));
    if (!columns.has("priority")) this.sql.exec("ALTER TABLE orders ADD COLUMN priority INTEGER; UPDATE orders SET priority = rowid");
    if (!columns.has("amend_seq")) this.sql.exec("ALTER TABLE orders ADD COLUMN amend_seq INTEGER NOT NULL DEFAULT 0");
  }

  row(key: string): BookOrderRow | undefined {
    return this.sql.exec<BookOrderRow>("SELECT * FROM orders WHERE key = ?", key).toArray()[0];
  }

  /** The venue's whole view of the order under `key`, or null when it never received it. */
  report(key: string): VenueReport | null {
    const row = this.row(key);
    return row ? toReport(row) : null;
  }

  working(): BookOrderRow[] {
    return this.sql.exec<BookOrderRow>("SELECT * FROM orders WHERE state = 'WORKING' ORDER BY priority").toArray();
  }

  hasWorking(): boolean {
    return this.sql.exec("SELECT 1 FROM orders WHERE state = 'WORKING' LIMIT 1").toArray().length > 0;
  }

  /** Writes the order's state and answers with its report (built from what it wrote: no read back). */
  record(order: VenueOrder, state: VenueState, fills: VenueFill[], reason: string | null, triggered = false, amendSeq = 0): VenueReport {
    const filled = fills.reduce((n, f) => n + f.quantity, 0);
    const spent = fills.reduce((n, f) => n + f.quantity * f.priceCents, 0);
    this.sql.exec(
      `INSERT INTO orders (key, body, state, filled, spent_cents, triggered, fills, reason, priority)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, (SELECT COALESCE(MAX(priority), 0) + 1 FROM orders))
       ON CONFLICT(key) DO UPDATE SET body = excluded.body, state = excluded.state, filled = excluded.filled, spent_cents = excluded.spent_cents,
         triggered = excluded.triggered, fills = excluded.fills, reason = excluded.reason`,
      order.key, JSON.stringify(order), state, filled, spent, triggered ? 1 : 0, JSON.stringify(fills), reason,
    );
    const terms = termsOf(order, amendSeq);
    return { key: order.key, orderId: order.orderId, state, fills, reason, triggered, terms };
  }

  /** Ends a working order (cancel or expiry); returns its report. */
  end(key: string, final: "CANCELLED" | "EXPIRED", reason: string): VenueReport {
    this.sql.exec("UPDATE orders SET state = ?, reason = ? WHERE key = ?", final, reason, key);
    return toReport(this.row(key)!);
  }

  /**
   * Puts the amended order's terms in place under amend `seq`. `requeue`: it goes to the back of the queue
   * (a new price or more shares, as at an exchange); a smaller quantity keeps its place.
   */
  amend(key: string, order: VenueOrder, seq: number, requeue: boolean): void {
    this.sql.exec(
      `UPDATE orders SET body = ?, amend_seq = ?, priority = CASE WHEN ? THEN (SELECT MAX(priority) + 1 FROM orders) ELSE priority END WHERE key = ?`,
      JSON.stringify(order), seq, requeue ? 1 : 0, key,
    );
  }

  /**
   * What an exit group may still trade (shares): its capacity (the largest any member was sent with, or
   * `capacity` when larger) less what all its members have traded, ended ones included.
   */
  groupRoom(group: string, capacity = 0): number {
    const g = this.sql.exec<{ capacity: number | null; traded: number | null }>(
      `SELECT MAX(COALESCE(json_extract(body, '$.ocoCapacity'), json_extract(body, '$.quantity'))) AS capacity, SUM(filled) AS traded
       FROM orders WHERE json_extract(body, '$.ocoGroup') = ?`,
      group,
    ).one();
    return Math.max(g.capacity ?? 0, capacity) - (g.traded ?? 0);
  }

  /**
   * One cancels other: as an exit of a group trades, the group's other exits are held to what is left of the
   * group (reduced, or ended when nothing is left of them), in the same step, so that between them they never
   * trade more than the group's capacity. Their desks are owed reports, as for any change the venue makes.
   */
  shrinkGroup(order: VenueOrder, slices: { quantity: number }[]): void {
    const traded = slices.reduce((n, s) => n + s.quantity, 0);
    if (!order.ocoGroup || traded === 0) return;
    const room = this.groupRoom(order.ocoGroup);
    for (const sibling of this.working()) {
      const other = JSON.parse(sibling.body) as VenueOrder;
      if (other.ocoGroup !== order.ocoGroup || other.key === order.key) continue;
      const most = sibling.filled + room;
      if (most <= sibling.filled) this.end(other.key, "CANCELLED", `One-cancels-other: ${order.orderId} ${order.side === "SELL" ? "sold" : "bought"} the shares`);
      else if (other.quantity > most) this.record({ ...other, quantity: most }, "WORKING", JSON.parse(sibling.fills) as VenueFill[], null, sibling.triggered === 1, sibling.amend_seq);
      else continue;
      this.owe(other.key, other.traderId);
    }
  }

  /** Counts one more attempt at `key` (from 1); fault injection decides by it. */
  countAttempt(key: string): number {
    return this.sql.exec<{ n: number }>("INSERT INTO attempts (key, n) VALUES (?, 1) ON CONFLICT(key) DO UPDATE SET n = n + 1 RETURNING n", key).one().n;
  }

  /** The desk of `traderId` is owed the current report of `key` (delivered at least once, by alarm if need be). */
  owe(key: string, traderId: string): void {
    this.sql.exec("INSERT OR IGNORE INTO undelivered (key, trader_id) VALUES (?, ?)", key, traderId);
  }

  owed(): { key: string; trader_id: string }[] {
    return this.sql.exec<{ key: string; trader_id: string }>("SELECT key, trader_id FROM undelivered").toArray();
  }

  delivered(key: string): void {
    this.sql.exec("DELETE FROM undelivered WHERE key = ?", key);
  }

  /** Every order key the venue holds, with what it executed: fault drills check "never twice" with this. */
  executions(): { key: string; order_id: string; state: string; filled: number; fills: number }[] {
    return this.sql
      .exec<BookOrderRow>("SELECT * FROM orders ORDER BY key")
      .toArray()
      .map((row) => {
        const report = toReport(row);
        return { key: row.key, order_id: report.orderId, state: row.state, filled: row.filled, fills: report.fills.length };
      });
  }
}

/** New fills after `previous`, numbered on from them: a fill's id is `<key>:<n>`, stable across reports. */
export function appendFills(key: string, previous: VenueFill[], slices: Slice[]): VenueFill[] {
  const at = new Date().toISOString();
  return [
    ...previous,
    ...slices.map((s, i) => ({ id: `${key}:${previous.length + i + 1}`, quantity: s.quantity, priceCents: s.priceCents, timestamp: at })),
  ];
}

const StoredOrder = z.object({
  orderId: z.string(),
  quantity: z.number(),
  limitCents: z.number().nullable(),
  stopCents: z.number().nullable(),
  timeInForce: z.enum(TIME_IN_FORCE),
  trailCents: z.number().nullable().optional(),
  trailBp: z.number().nullable().optional(),
  hwmCents: z.number().nullable().optional(),
});

/** The terms an order works on, as its reports carry them (a trailing stop's trail and mark included). */
function termsOf(o: z.infer<typeof StoredOrder>, amendSeq: number): VenueTerms {
  const terms: VenueTerms = { amendSeq, quantity: o.quantity, limitCents: o.limitCents, stopCents: o.stopCents, timeInForce: o.timeInForce };
  if (o.trailCents != null || o.trailBp != null) Object.assign(terms, { trailCents: o.trailCents ?? null, trailBp: o.trailBp ?? null, hwmCents: o.hwmCents ?? null });
  return terms;
}

export function toReport(row: BookOrderRow): VenueReport {
  const body = StoredOrder.parse(JSON.parse(row.body));
  return {
    key: row.key,
    orderId: body.orderId,
    state: row.state as VenueState,
    fills: JSON.parse(row.fills) as VenueFill[],
    reason: row.reason,
    triggered: row.triggered === 1,
    terms: termsOf(body, row.amend_seq ?? 0),
  };
}

/** What matching needs of an order, with what it has done so far. */
export function executable(order: VenueOrder, filled: number, spentCents: number, triggered: boolean): Executable {
  return {
    side: order.side, orderType: order.orderType, quantity: order.quantity, limitCents: order.limitCents,
    stopCents: order.stopCents, protectCents: order.protectCents, maxCostCents: order.maxCostCents,
    timeInForce: order.timeInForce, filled, spentCents, triggered,
  };
}
