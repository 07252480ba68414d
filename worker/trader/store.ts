// DeskStore: the trader desk's live state (account, positions, orders, fills) over its SQLite storage.
// Every write records what goes with it, in the same transaction: the row's D1 record in the outbox, and
// for an order step its audit row and event. No caller pairs a write with its bookkeeping, so none can
// forget it. Methods are synchronous: a caller groups several in atomically() and they land together.
import { newId } from "../ids";
import type { OrderEventName } from "../shared/events";
import type { OrderClass } from "../shared/orders";
import { d1Account, d1Fill, d1Order, d1Position } from "./d1-rows";
import { Journal } from "./journal";
import { POSITION_COLUMNS, StoreReads } from "./store-reads";
import { costBasisCents, type Holding } from "./ledger";
import type { AuditDraft } from "./lifecycle";
import type { Account, TradingState } from "../shared/account";
import { migrateDesk, readMeta, writeMeta, type AccountRow, type FillRow, type OrderPatch, type OrderRow, type PositionRow, type VenueStage } from "./schema";
import { toEvent, type FillNote } from "./views";

/** A committed event on its way to the sockets: its wire text, and the order it is about (null: the account). */
export interface OutgoingEvent {
  orderId: string | null;
  payload: string;
}

const ACCOUNT_COLUMNS = "trader_id, cash_cents, reserved_cents, trading_state, version, created_at";

export type NewOrder = Omit<
  OrderRow,
  "seq" | "version" | "filled_quantity" | "filled_notional_cents" | "reason" | "updated_at" | "venue_stage" | "attempt" | "status" | "triggered_at" |
  "amend_seq" | "amended_at" | "pending_amend" | "hwm_cents" | "order_class" | "parent_order_id" | "oco_group"
> & {
  /** HELD: a leg that waits for its parent's fill (not sent); every other order is sent at once (PENDING, SENT). */
  initial_status?: "HELD";
  order_class?: OrderClass;
  parent_order_id?: string | null;
  oco_group?: string | null;
  /** TRAILING_STOP: the mark its stop trails at acceptance (the reference price), cents; the venue moves it. */
  hwm_cents?: number | null;
};

export class DeskStore extends StoreReads {
  readonly journal: Journal;
  /** The account row (null: none yet; undefined: not read since the last rollback). */
  private accountRow: AccountRow | null | undefined = undefined;
  /** The account valued as account.updated carries it (set by the desk, which holds the quotes). */
  describeAccount: (() => Account) | null = null;
  /** Cash, reservations, a position or the trading state moved in the transaction under way. */
  private accountMoved = false;
  /** Events recorded by committed transactions, not yet sent to sockets (see takeEvents). */
  private outgoing: OutgoingEvent[] = [];
  private pendingEvents: OutgoingEvent[] = [];

  constructor(
    sql: SqlStorage,
    public traderId: string,
    private readonly transactionSync: <T>(work: () => T) => T,
  ) {
    super(sql);
    this.journal = new Journal(sql, () => this.traderId);
  }

  /**
   * One storage transaction: everything `work` writes, with its outbox records, audit rows and events,
   * lands together or not at all. On failure the in-memory caches are dropped with it.
   */
  atomically<T>(work: () => T): T {
    if (this.journal.open) return work();
    this.journal.open = true;
    try {
      const result = this.transactionSync(() => {
        const value = work();
        if (this.accountMoved && this.describeAccount) {
          const nowMs = Date.now();
          const account = this.describeAccount();
          const payload = this.journal.appendEvent((seq) => ({ event: "account.updated", seq, ...account, timestamp: new Date(nowMs).toISOString() }), nowMs);
          this.pendingEvents.push({ orderId: null, payload });
        }
        this.journal.commit();
        return value;
      });
      this.outgoing.push(...this.pendingEvents);
      return result;
    } catch (err) {
      this.journal.forget();
      this.accountRow = undefined;
      throw err;
    } finally {
      this.pendingEvents = [];
      this.accountMoved = false;
      this.journal.open = false;
    }
  }

  /** The events committed since the last call, in seq order, as sent on the wire. */
  takeEvents(): OutgoingEvent[] {
    const events = this.outgoing;
    this.outgoing = [];
    return events;
  }

  migrate(): void {
    migrateDesk(this.sql);
  }

  meta(key: string): string | undefined {
    return readMeta(this.sql, key);
  }

  setMeta(key: string, value: string): void {
    writeMeta(this.sql, key, value);
  }

  // ---- account and positions

  account(): AccountRow | undefined {
    if (this.accountRow === undefined) {
      this.accountRow = this.sql.exec<AccountRow>(`SELECT ${ACCOUNT_COLUMNS} FROM account`).toArray()[0] ?? null;
    }
    return this.accountRow ?? undefined;
  }

  /**
   * A new account with its opening balance as the first CASH activity; `restored` (its D1 version and
   * trading state) when it is loaded from D1, which already holds it.
   */
  createAccount(cashCents: number, createdAt: string, restored?: { version: number; tradingState: TradingState }): AccountRow {
    this.accountRow = this.sql
      .exec<AccountRow>(
        `INSERT INTO account (id, trader_id, cash_cents, reserved_cents, trading_state, version, created_at) VALUES (1, ?, ?, 0, ?, ?, ?) RETURNING ${ACCOUNT_COLUMNS}`,
        this.traderId, cashCents, restored?.tradingState ?? "ACTIVE", restored?.version ?? 1, createdAt,
      )
      .one();
    this.sql.exec("INSERT OR IGNORE INTO cash_ledger (id, at, amount_cents, reason) VALUES ('cash_opening', ?, ?, 'Opening balance')", createdAt, cashCents);
    if (!restored) this.journal.enqueue("account", d1Account(this.accountRow, createdAt));
    return this.accountRow;
  }

  /** Sets the account's trading state (the caller audits it). */
  setTradingState(state: TradingState, at: string): AccountRow {
    this.accountRow = this.sql.exec<AccountRow>(`UPDATE account SET trading_state = ?, version = version + 1 RETURNING ${ACCOUNT_COLUMNS}`, state).one();
    this.journal.enqueue("account", d1Account(this.accountRow, at));
    this.accountMoved = true;
    return this.accountRow;
  }

  /** Changes cash and reservation by the given deltas (cents); returns the new row. */
  adjustAccount(cashDelta: number, reservedDelta: number, at: string): AccountRow {
    this.accountRow = this.sql
      .exec<AccountRow>(
        `UPDATE account SET cash_cents = cash_cents + ?, reserved_cents = MAX(0, reserved_cents + ?), version = version + 1 RETURNING ${ACCOUNT_COLUMNS}`,
        cashDelta, reservedDelta,
      )
      .one();
    this.journal.enqueue("account", d1Account(this.accountRow, at));
    this.accountMoved = true;
    return this.accountRow;
  }

  /**
   * Sets a position's holding and moves its reserved shares by `reservedDelta`. `opening`: an account being
   * opened (recorded for D1, no account.updated); `restored`: loaded from D1, which already holds it.
   */
  setHolding(symbol: string, h: Holding, reservedDelta: number, how: "change" | "opening" | "restored" = "change"): PositionRow {
    const row = this.sql
      .exec<PositionRow>(
        `INSERT INTO positions (symbol, quantity, cost_cents, avg_price_micros, realized_pl_micros, reserved_qty, version)
         VALUES (?1, ?2, ?3, ?4, ?5, MAX(0, ?6), 1)
         ON CONFLICT(symbol) DO UPDATE SET quantity = ?2, cost_cents = ?3, avg_price_micros = ?4, realized_pl_micros = ?5,
           reserved_qty = MAX(0, reserved_qty + ?6), version = version + 1
         RETURNING ${POSITION_COLUMNS}`,
        symbol, h.quantity, costBasisCents(h), h.avg_price_micros, h.realized_pl_micros, reservedDelta,
      )
      .one();
    if (how !== "restored") this.journal.enqueue("position", d1Position(row, this.traderId));
    if (how === "change") this.accountMoved = true;
    return row;
  }

  /** Promises (positive) or gives back (negative) shares of a position to working SELL orders. */
  reserveShares(symbol: string, delta: number): PositionRow {
    const row = this.sql
      .exec<PositionRow>(
        `INSERT INTO positions (symbol, quantity, cost_cents, reserved_qty, version) VALUES (?1, 0, 0, MAX(0, ?2), 1)
         ON CONFLICT(symbol) DO UPDATE SET reserved_qty = MAX(0, reserved_qty + ?2), version = version + 1
         RETURNING ${POSITION_COLUMNS}`,
        symbol, delta,
      )
      .one();
    this.journal.enqueue("position", d1Position(row, this.traderId));
    this.accountMoved = true;
    return row;
  }

  // ---- orders and fills

  /** A new order, already at venue stage SENT: the desk sends it right after this transaction commits. */
  insertOrder(o: NewOrder): OrderRow {
    const row = this.sql
      .exec<OrderRow>(
        `INSERT INTO orders (id, idem_key, fingerprint, client_order_id, symbol, side, quantity, order_type, limit_cents, stop_cents,
           protect_cents, max_cost_cents, tif, status, reserved_cents, reserved_qty, created_at, updated_at, venue_stage, next_attempt_at, expires_at,
           trail_cents, trail_bp, order_class, parent_order_id, oco_group, hwm_cents)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *`,
        o.id, o.idem_key, o.fingerprint, o.client_order_id, o.symbol, o.side, o.quantity, o.order_type, o.limit_cents, o.stop_cents,
        o.protect_cents, o.max_cost_cents, o.tif, o.initial_status ?? "PENDING", o.reserved_cents, o.reserved_qty, o.created_at, o.created_at,
        o.initial_status ? "NEW" : "SENT", o.initial_status ? null : o.next_attempt_at, o.expires_at,
        o.trail_cents, o.trail_bp, o.order_class ?? "simple", o.parent_order_id ?? null, o.oco_group ?? null, o.hwm_cents ?? null,
      )
      .one();
    this.journal.enqueue("order", d1Order(row, this.traderId));
    return row;
  }

  /** Writes an order's changed columns (one UPDATE) and its D1 record; returns the new row. */
  updateOrder(id: string, patch: OrderPatch): OrderRow {
    const keys = Object.keys(patch);
    const sets = keys.map((k) => `${k} = ?`).join(", ");
    const row = this.sql
      .exec<OrderRow>(`UPDATE orders SET ${sets}, version = version + 1 WHERE id = ? RETURNING *`, ...keys.map((k) => patch[k as keyof OrderPatch] ?? null), id)
      .one();
    this.journal.enqueue("order", d1Order(row, this.traderId));
    return row;
  }

  /** The desk's own schedule for an order (not in D1): its venue stage and when the alarm next tries it. */
  scheduleOrder(id: string, plan: { venue_stage?: VenueStage; next_attempt_at: number | null }): void {
    if (plan.venue_stage === undefined) this.sql.exec("UPDATE orders SET next_attempt_at = ? WHERE id = ?", plan.next_attempt_at, id);
    else this.sql.exec("UPDATE orders SET venue_stage = ?, next_attempt_at = ? WHERE id = ?", plan.venue_stage, plan.next_attempt_at, id);
  }

  /** Remembers which amend (`seq` of the order) an Idempotency-Key asked for. */
  saveAmendKey(key: string, orderId: string, fingerprint: string, seq: number): void {
    this.sql.exec("INSERT OR IGNORE INTO amend_keys (key, order_id, fingerprint, seq) VALUES (?, ?, ?, ?)", key, orderId, fingerprint, seq);
  }

  /**
   * The earliest time the desk has work: an order's retry or DAY expiry, or the outbox (its retry time after
   * a failed flush, else `backstop` while anything waits in it). One statement: this runs after every change.
   */
  nextWakeAt(backstop: number): number | null {
    return this.sql
      .exec<{ at: number | null }>(
        `SELECT MIN(at) AS at FROM (
           SELECT MIN(next_attempt_at) AS at FROM orders
           UNION ALL SELECT MIN(expires_at) FROM orders
           UNION ALL SELECT COALESCE((SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'outbox_retry_at' AND value != ''),
                                     (SELECT ? WHERE EXISTS (SELECT 1 FROM outbox WHERE id > ?))))`,
        backstop, this.journal.flushedId,
      )
      .one().at;
  }

  insertFill(fill: FillRow, order: Pick<OrderRow, "symbol" | "side">): void {
    this.sql.exec(
      "INSERT INTO fills (id, order_id, quantity, price_cents, realized_pl_micros, timestamp) VALUES (?, ?, ?, ?, ?, ?)",
      fill.id, fill.order_id, fill.quantity, fill.price_cents, fill.realized_pl_micros, fill.timestamp,
    );
    this.journal.enqueue("fill", d1Fill(fill, order, this.traderId));
  }

  /** An execution the venue reported after the order ended: kept (once) beside the fills, not booked; false when already kept. */
  keepUnbooked(fill: Omit<FillRow, "realized_pl_micros">): boolean {
    const cursor = this.sql.exec(
      "INSERT OR IGNORE INTO unbooked_fills (id, order_id, quantity, price_cents, timestamp) VALUES (?, ?, ?, ?, ?)",
      fill.id, fill.order_id, fill.quantity, fill.price_cents, fill.timestamp,
    );
    cursor.toArray();
    return cursor.rowsWritten > 0;
  }

  // ---- the order's history

  /** One step of an order: its audit row and, when the step has one, its event (sent once this commits). */
  record(order: OrderRow, draft: AuditDraft, event: OrderEventName | null, nowMs: number, fill?: FillNote): void {
    const at = new Date(nowMs).toISOString();
    this.journal.appendAudit(order, draft, at, newId("log", nowMs));
    if (event) this.pendingEvents.push({ orderId: order.id, payload: this.journal.appendEvent((seq) => toEvent(event, seq, order, draft.reason, at, fill), nowMs) });
  }

  /** An event about an order that changes nothing in it (order.cancel_rejected): no audit row. */
  notify(order: OrderRow, event: OrderEventName, reason: string, nowMs: number): void {
    const at = new Date(nowMs).toISOString();
    this.pendingEvents.push({ orderId: order.id, payload: this.journal.appendEvent((seq) => toEvent(event, seq, order, reason, at), nowMs) });
  }

  /** Records not yet in D1. */
  outboxSize(): number {
    return this.journal.outboxSize();
  }
}
