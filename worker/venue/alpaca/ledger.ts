// The stream link's ledger, over its SQLite storage: every fillwire order sent to this Alpaca account (and
// whose desk it belongs to), the chain of Alpaca orders behind it (an amend at Alpaca is a new order), every
// execution applied (once: by fill id, by Alpaca's execution uuid, and by (Alpaca order, cumulative qty),
// whichever source saw it first), and the reports still owed to desks (owed.ts).
import type { OrderType } from "../../shared/orders";
import type { VenueFill, VenueReport, VenueState, VenueTerms } from "../adapter";
import { decimalToShares, parseClientOrderId } from "./mapping";
import { migrateLedger } from "./ledger-schema";
import { OwedReports } from "./owed";
import { ParkedUpdates } from "./parked";
import { standing, type AskedEnd, type ChainLink } from "./standing";
import type { AlpacaOrder } from "./wire";

export interface LinkOrder {
  orderId: string;
  traderId: string;
  symbol: string;
  orderType: OrderType;
  /** A stop-loss sent as the leg of an oco order: the fillwire order (its take-profit) that order is. */
  ridesOn?: string | null;
}

export interface OrderRow extends Record<string, SqlStorageValue> {
  order_id: string;
  trader_id: string;
  symbol: string;
  order_type: string;
  /** open | closed (final, with every fill in). */
  stage: string;
  /** The take-profit whose oco order carries this stop-loss to Alpaca as its leg (LinkOrder.ridesOn). */
  rides_on: string | null;
  /** Set while the submit has not answered: stream reports of the order wait until then. */
  hold_until: number | null;
  alpaca_id: string | null;
  amend_seq: number;
  state: string;
  reason: string | null;
  terms: string | null;
  /** A cancel fillwire asked for: Alpaca's "canceled" is reported as this state, with this reason. */
  end_as: string | null;
  end_reason: string | null;
  /** Fills in the last report owed (a new fill changes the report even when the state does not). */
  fills_seen: number;
  /** 1: fillwire had given the order up when Alpaca got it (markLate); it is cancelled there until it ends. */
  late: number;
  created_at: number;
}

interface ChainRow extends Record<string, SqlStorageValue> {
  alpaca_id: string;
  seq: number;
  status: string;
  qty: number;
  filled_qty: number;
  replaces: string | null;
  body: string;
}

/** The Alpaca order a fillwire order works as now, and every share filled before it in the chain. */
export interface CurrentOrder {
  alpacaId: string;
  amendSeq: number;
  filledBefore: number;
  orderType: OrderType;
  /** Final at Alpaca, with every fill in. */
  closed: boolean;
}

export interface NewFill {
  orderId: string;
  alpacaId: string;
  cumQty: number;
  quantity: number;
  priceCents: number;
  at: string;
  fillId: string;
  /** Alpaca's execution uuid (the stream's execution_id; the part of an activity id after "::"). */
  execution: string | null;
}

export class LinkLedger {
  /** The reports owed to desks (owed.ts): a change that refresh() finds is owed to the order's desk. */
  readonly owed: OwedReports;
  /** Trade updates of oco legs not known yet (parked.ts). */
  readonly parked: ParkedUpdates;

  constructor(private readonly sql: SqlStorage) {
    this.owed = new OwedReports(sql);
    this.parked = new ParkedUpdates(sql);
  }

  /** Creates (or brings up to date) the link's tables: ledger-schema.ts. */
  migrate(): void {
    migrateLedger(this.sql);
  }

  // ------------------------------------------------------------------ orders

  /** A fillwire order about to be sent: known from now on, its stream reports held until `holdUntil`. */
  register(o: LinkOrder, holdUntil: number | null, nowMs: number): void {
    this.sql.exec(
      `INSERT INTO orders (order_id, trader_id, symbol, order_type, stage, hold_until, created_at, rides_on) VALUES (?, ?, ?, ?, 'open', ?, ?, ?)
       ON CONFLICT(order_id) DO UPDATE SET hold_until = CASE WHEN hold_until IS NOT NULL THEN excluded.hold_until ELSE NULL END,
         rides_on = COALESCE(rides_on, excluded.rides_on)`,
      o.orderId, o.traderId, o.symbol, o.orderType, holdUntil, nowMs, o.ridesOn ?? null,
    );
  }

  order(orderId: string): OrderRow | undefined {
    return this.sql.exec<OrderRow>("SELECT * FROM orders WHERE order_id = ?", orderId).toArray()[0];
  }

  /** The submit answered (or a lookup found the order): its reports flow freely from now on. */
  release(orderId: string): void {
    this.sql.exec("UPDATE orders SET hold_until = NULL WHERE order_id = ?", orderId);
  }

  /** Ends an order without an Alpaca order behind it (refused, or given up before Alpaca ever had it). */
  close(orderId: string, state: VenueState, reason: string): void {
    this.sql.exec("UPDATE orders SET stage = 'closed', hold_until = NULL, state = ?, reason = ? WHERE order_id = ? AND stage != 'closed'", state, reason, orderId);
  }

  /** fillwire asked to end the order: Alpaca's "canceled" for it is reported as `endAs`, with `reason`. */
  ending(orderId: string, endAs: "CANCELLED" | "EXPIRED", reason: string): void {
    this.sql.exec("UPDATE orders SET end_as = ?, end_reason = ? WHERE order_id = ?", endAs, reason, orderId);
  }

  /**
   * An order fillwire ended before Alpaca had it (cancelled or given up while its POST was lost): closed with
   * no Alpaca order. Should Alpaca have it after all (a request that was on its way), it is a late order.
   */
  givenUp(orderId: string): boolean {
    const row = this.order(orderId);
    return row !== undefined && row.stage === "closed" && row.alpaca_id === null;
  }

  /**
   * Marks an order fillwire gave up as one Alpaca has after all (a late order); true the first time, so it is
   * counted once however many paths find it.
   */
  markLate(orderId: string): boolean {
    const cursor = this.sql.exec("UPDATE orders SET late = 1 WHERE order_id = ? AND late = 0", orderId);
    cursor.toArray();
    return cursor.rowsWritten > 0;
  }

  /** Late orders still working at Alpaca, by their current Alpaca id: each is to be cancelled there (again). */
  lateWorking(): { orderId: string; alpacaId: string }[] {
    return this.sql
      .exec<{ order_id: string; alpaca_id: string }>("SELECT order_id, alpaca_id FROM orders WHERE late = 1 AND stage = 'open' AND alpaca_id IS NOT NULL")
      .toArray()
      .map((r) => ({ orderId: r.order_id, alpacaId: r.alpaca_id }));
  }

  /** Executions a desk kept unbooked (an order that had ended there), by fill id: each counted once. */
  keepUnbooked(orderId: string, fillIds: readonly string[]): void {
    for (const id of fillIds) this.sql.exec("INSERT OR IGNORE INTO unbooked (fill_id, order_id) VALUES (?, ?)", id, orderId);
  }

  /** Orders that Alpaca may still change (for reconciliation), held ones included. */
  openOrders(): OrderRow[] {
    return this.sql.exec<OrderRow>("SELECT * FROM orders WHERE stage != 'closed'").toArray();
  }

  // ------------------------------------------------------------------ Alpaca orders and fills

  /**
   * Records what Alpaca says of one of its orders. Returns the fillwire order it belongs to, or null when it
   * is none of fillwire's (an order placed by hand on the account, or by another fillwire deployment).
   */
  observe(order: AlpacaOrder, hint?: { orderId: string; seq: number }): string | null {
    let { orderId, seq } = parseClientOrderId(order.client_order_id);
    if (!this.order(orderId)) {
      // Not named by its client_order_id (a replacement whose id Alpaca generated): known by its Alpaca id,
      // or from the caller, who knows which order it replaced.
      const known = this.sql.exec<{ order_id: string; seq: number }>("SELECT order_id, seq FROM alpaca_orders WHERE alpaca_id = ?", order.id).toArray()[0];
      const owner = known ? { orderId: known.order_id, seq: known.seq } : hint;
      if (!owner || !this.order(owner.orderId)) return null;
      ({ orderId, seq } = owner);
    }
    this.sql.exec(
      `INSERT INTO alpaca_orders (alpaca_id, order_id, seq, status, qty, filled_qty, replaces, body, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT(alpaca_id) DO UPDATE SET filled_qty = MAX(filled_qty, excluded.filled_qty),
         status = CASE WHEN ${KEEP} THEN status ELSE excluded.status END,
         qty = CASE WHEN ${KEEP} THEN qty ELSE excluded.qty END,
         body = CASE WHEN ${KEEP} THEN body ELSE excluded.body END,
         updated_at = CASE WHEN ${KEEP} THEN updated_at ELSE excluded.updated_at END`,
      order.id, orderId, seq, order.status, decimalToShares(order.qty ?? "0"), decimalToShares(order.filled_qty), order.replaces, JSON.stringify(order), order.updated_at,
    );
    return orderId;
  }

  /** The fillwire order behind an Alpaca order id, if the ledger has seen it. */
  orderOfAlpaca(alpacaId: string): string | null {
    return this.sql.exec<{ order_id: string }>("SELECT order_id FROM alpaca_orders WHERE alpaca_id = ?", alpacaId).toArray()[0]?.order_id ?? null;
  }

  /** Applies an execution once; false when it was already in (seen by the stream and by reconciliation). */
  addFill(f: NewFill): boolean {
    const cursor = this.sql.exec(
      "INSERT OR IGNORE INTO fills (fill_id, execution, order_id, alpaca_id, cum_qty, quantity, price_cents, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
      f.fillId, f.execution, f.orderId, f.alpacaId, f.cumQty, f.quantity, f.priceCents, f.at,
    );
    cursor.toArray();
    return cursor.rowsWritten > 0;
  }

  /**
   * Alpaca orders whose last snapshot is behind the ledger's fills (executions read from the activities since,
   * the order not closed then), with the fillwire order of each: the order as Alpaca has it now is to be read,
   * for its status and its terms (a trailing stop's mark and stop when it triggered).
   */
  behindFills(): { alpacaId: string; orderId: string }[] {
    return this.sql
      .exec<{ alpaca_id: string; order_id: string }>(
        `SELECT a.alpaca_id, a.order_id FROM alpaca_orders a
         WHERE a.status NOT IN ${CLOSED} AND (SELECT COALESCE(SUM(f.quantity), 0) FROM fills f WHERE f.alpaca_id = a.alpaca_id) > a.filled_qty`,
      )
      .toArray()
      .map((r) => ({ alpacaId: r.alpaca_id, orderId: r.order_id }));
  }

  /** Shares of `alpacaId` the ledger holds fills for. */
  filledOf(alpacaId: string): number {
    return this.sql.exec<{ n: number }>("SELECT COALESCE(SUM(quantity), 0) AS n FROM fills WHERE alpaca_id = ?", alpacaId).one().n;
  }

  /**
   * Works out where the fillwire order stands from its Alpaca chain and its fills, and owes its desk a
   * report when that changed. A final state is only reported once every share Alpaca says filled has its
   * fill in the ledger (else it stays WORKING and `incomplete` asks for a catch-up).
   */
  refresh(orderId: string): { changed: boolean; incomplete: boolean } {
    const row = this.order(orderId);
    const chain = this.chain(orderId);
    if (!row || chain.length === 0) return { changed: false, incomplete: false };
    const fills = this.sql.exec<{ n: number; shares: number }>("SELECT COUNT(*) AS n, COALESCE(SUM(quantity), 0) AS shares FROM fills WHERE order_id = ?", orderId).one();
    const asked = row.end_as ? { endAs: row.end_as as AskedEnd["endAs"], reason: row.end_reason } : null;
    const { effective, state, reason, terms: venueTerms, incomplete } = standing(chain, fills.shares, asked);
    const terms = JSON.stringify(venueTerms);
    const changed = row.state !== state || row.terms !== terms || row.alpaca_id !== effective.alpacaId || row.fills_seen !== fills.n;
    this.sql.exec(
      "UPDATE orders SET state = ?, reason = ?, terms = ?, alpaca_id = ?, amend_seq = ?, stage = ?, fills_seen = ? WHERE order_id = ?",
      state, reason, terms, effective.alpacaId, effective.seq, state === "WORKING" ? "open" : "closed", fills.n, orderId,
    );
    if (changed) this.owed.owe(orderId);
    return { changed, incomplete };
  }

  /** The chain of Alpaca orders behind a fillwire order, first to last. */
  private chain(orderId: string): ChainLink[] {
    return this.sql
      .exec<ChainRow>("SELECT * FROM alpaca_orders WHERE order_id = ? ORDER BY seq", orderId)
      .toArray()
      .map((c) => ({ alpacaId: c.alpaca_id, seq: c.seq, status: c.status, qty: c.qty, filledQty: c.filled_qty, replaces: c.replaces, body: c.body }));
  }

  current(orderId: string): CurrentOrder | null {
    const row = this.order(orderId);
    if (!row?.alpaca_id) return null;
    const chain = this.chain(orderId);
    const current = chain.find((c) => c.alpacaId === row.alpaca_id)!;
    const filledBefore = chain.filter((c) => c !== current).reduce((n, c) => n + c.filledQty, 0);
    return { alpacaId: current.alpacaId, amendSeq: current.seq, filledBefore, orderType: row.order_type as OrderType, closed: row.stage === "closed" };
  }

  // ------------------------------------------------------------------ reports

  /** The whole view of one fillwire order: every fill so far, its state, and its terms at Alpaca. */
  report(orderId: string): VenueReport | null {
    const row = this.order(orderId);
    if (!row) return null;
    const fills = this.sql
      .exec<{ fill_id: string; quantity: number; price_cents: number; at: string }>(
        "SELECT f.fill_id, f.quantity, f.price_cents, f.at FROM fills f LEFT JOIN alpaca_orders a ON a.alpaca_id = f.alpaca_id WHERE f.order_id = ? ORDER BY f.at, a.seq, f.cum_qty",
        orderId,
      )
      .toArray()
      .map((f): VenueFill => ({ id: f.fill_id, quantity: f.quantity, priceCents: f.price_cents, timestamp: f.at }));
    const isStop = row.order_type === "STOP" || row.order_type === "STOP_LIMIT" || row.order_type === "TRAILING_STOP";
    const report: VenueReport = { key: orderId, orderId, state: row.state as VenueState, fills, reason: row.reason, triggered: isStop && fills.length > 0 };
    if (row.terms) report.terms = JSON.parse(row.terms) as VenueTerms;
    return report;
  }

  // ------------------------------------------------------------------ meta and counts

  meta(key: string): string | null {
    return this.sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = ?", key).toArray()[0]?.value ?? null;
  }

  setMeta(key: string, value: string): void {
    this.sql.exec("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value", key, value);
  }

  bump(key: string): number {
    const next = Number(this.meta(key) ?? "0") + 1;
    this.setMeta(key, String(next));
    return next;
  }

  counts(): { working: number; held: number; owed: number; fills: number; unbooked: number; late: number } {
    const one = (q: string) => this.sql.exec<{ n: number }>(q).one().n;
    return {
      working: one("SELECT COUNT(*) AS n FROM orders WHERE stage = 'open'"),
      held: one("SELECT COUNT(*) AS n FROM orders WHERE hold_until IS NOT NULL"),
      owed: this.owed.count(),
      fills: one("SELECT COUNT(*) AS n FROM fills"),
      unbooked: one("SELECT COUNT(*) AS n FROM unbooked"),
      late: one("SELECT COUNT(*) AS n FROM orders WHERE late = 1"),
    };
  }
}

/** Alpaca statuses an order never leaves: an older snapshot (a slow GET) must not reopen it. */
const CLOSED = "('filled', 'canceled', 'expired', 'rejected', 'replaced')";

/**
 * When a snapshot of an Alpaca order is older than the one the ledger holds, it is kept out: the order is
 * closed, or the snapshot's updated_at is before the held one's (a POST's answer that arrives after the
 * order filled, say, would take a trailing stop's mark and stop back to those it was accepted with).
 */
const KEEP = `(status IN ${CLOSED} OR excluded.updated_at < updated_at)`;
