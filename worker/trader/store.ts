// The trader desk's own SQLite storage: live state (account, positions, orders, fills), the audit chain,
// the event log and the outbox to D1. Every method is synchronous, so a caller groups several in one
// transactionSync and they land together or not at all.
import { chainHash, GENESIS_HASH, type ChainFields } from "../audit/chain";
import type { AuditDraft } from "./lifecycle";
import type { OrderEventName, OrderEvent } from "../shared/events";
import type { OrderStatus, OrderType, Side, TimeInForce } from "../shared/orders";
import { snapshotKey, type OutboxKind, type OutboxRows, type QueuedRecord } from "./outbox";

const SCHEMA_VERSION = 2;
/** Events kept for replay: at least the last 10,000, or all of the last 7 days. */
const EVENTS_KEPT = 10_000;
const EVENTS_KEPT_MS = 7 * 24 * 3600 * 1000;

export type VenueStage = "NEW" | "SENT" | "ACKED";

export interface AccountRow extends Record<string, SqlStorageValue> {
  trader_id: string;
  cash_cents: number;
  reserved_cents: number;
  version: number;
  created_at: string;
}

export interface PositionRow extends Record<string, SqlStorageValue> {
  symbol: string;
  quantity: number;
  cost_cents: number;
  reserved_qty: number;
  version: number;
}

export interface OrderRow extends Record<string, SqlStorageValue> {
  seq: number;
  id: string;
  idem_key: string | null;
  fingerprint: string;
  client_order_id: string | null;
  symbol: string;
  side: Side;
  quantity: number;
  order_type: OrderType;
  limit_cents: number | null;
  stop_cents: number | null;
  protect_cents: number | null;
  max_cost_cents: number | null;
  tif: TimeInForce;
  status: OrderStatus;
  filled_quantity: number;
  filled_notional_cents: number;
  reserved_cents: number;
  reserved_qty: number;
  reason: string | null;
  created_at: string;
  updated_at: string;
  version: number;
  venue_stage: VenueStage;
  attempt: number;
  next_attempt_at: number | null;
  expires_at: number | null;
}

export interface FillRow extends Record<string, SqlStorageValue> {
  id: string;
  order_id: string;
  quantity: number;
  price_cents: number;
  timestamp: string;
}

export interface AuditRow extends Record<string, SqlStorageValue> {
  chain_seq: number;
  id: string;
  order_id: string;
  symbol: string;
  side: string;
  action: string;
  status: string;
  timestamp: string;
  reason: string | null;
  error_code: string | null;
  retry_attempt: number | null;
  prev_hash: string;
  hash: string;
}

/** Durable Object SQL binds at most 100 parameters per statement. */
const MAX_BOUND_PARAMETERS = 100;
const insertSqlCache = new Map<string, string>();

function insertSql(table: string, columns: readonly string[], rows: number): string {
  const key = `${table}:${rows}`;
  let text = insertSqlCache.get(key);
  if (!text) {
    const row = `(${columns.map(() => "?").join(", ")})`;
    text = `INSERT INTO ${table} (${columns.join(", ")}) VALUES ${Array.from({ length: rows }, () => row).join(", ")}`;
    insertSqlCache.set(key, text);
  }
  return text;
}

const AUDIT_COLUMNS = [
  "chain_seq", "id", "order_id", "symbol", "side", "action", "status", "timestamp", "reason", "error_code", "retry_attempt", "prev_hash", "hash",
] as const satisfies readonly (keyof AuditRow)[];

export type NewOrder = Omit<OrderRow, "seq" | "version" | "filled_quantity" | "filled_notional_cents" | "reason" | "updated_at" | "venue_stage" | "attempt" | "status">;

export class DeskStore {
  /** The audit chain's head and the latest event seq, read once and then kept in step with each append. */
  private head: { seq: number; hash: string } | null = null;
  private eventSeq: number | null = null;

  /** The account row (null: none yet; undefined: not read since the last rollback). */
  private accountRow: AccountRow | null | undefined = undefined;
  /**
   * Rows appended during the transaction under way (outbox records, audit rows, events), written with one
   * statement per table when it commits: SQLite statements are the desk's main cost per order.
   */
  private queued: [kind: OutboxKind, rowKey: string | null, record: string][] = [];
  private queuedAudit: AuditRow[] = [];
  private queuedEvents: [seq: number, at: number, payload: string][] = [];
  private inTransaction = false;
  /**
   * Outbox records up to this id are in D1. They are deleted by the next transaction rather than by a
   * commit of their own; if this instance goes away first, a new one flushes them again (idempotently).
   */
  private flushedThrough = 0;
  private deletedThrough = 0;

  constructor(
    private readonly sql: SqlStorage,
    public traderId: string,
    private readonly transactionSync: <T>(work: () => T) => T,
  ) {}

  /**
   * One storage transaction: everything `work` writes, its outbox records included, lands together or not
   * at all. On failure the in-memory caches are dropped with it.
   */
  atomically<T>(work: () => T): T {
    if (this.inTransaction) return work();
    this.inTransaction = true;
    try {
      return this.transactionSync(() => {
        const result = work();
        this.writePending();
        return result;
      });
    } catch (err) {
      this.forget();
      throw err;
    } finally {
      this.inTransaction = false;
    }
  }

  /** Drop what is cached in memory (after a transaction that rolled back). */
  forget(): void {
    this.head = null;
    this.eventSeq = null;
    this.accountRow = undefined;
    this.deletedThrough = 0; // the rolled-back transaction may have been the one deleting flushed records
    this.queued = [];
    this.queuedAudit = [];
    this.queuedEvents = [];
  }

  migrate(): void {
    this.sql.exec(`CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)`);
    const version = Number(this.meta("schema_version") ?? 0);
    if (version >= SCHEMA_VERSION) return;
    if (version < 1) this.createTables();
    if (version < 2) {
      // v2: the outbox keeps each record's kind and row key beside the row, so a flush needs no parsing.
      this.sql.exec(`
        ALTER TABLE outbox ADD COLUMN kind TEXT;
        ALTER TABLE outbox ADD COLUMN row_key TEXT;
        UPDATE outbox SET kind = record ->> '$.kind', record = json_extract(record, '$.row') WHERE kind IS NULL;
      `);
    }
    this.setMeta("schema_version", String(SCHEMA_VERSION));
  }

  /** Schema v1. */
  private createTables(): void {
    this.sql.exec(`
      CREATE TABLE IF NOT EXISTS account (id INTEGER PRIMARY KEY CHECK (id = 1), trader_id TEXT NOT NULL,
        cash_cents INTEGER NOT NULL, reserved_cents INTEGER NOT NULL DEFAULT 0, version INTEGER NOT NULL DEFAULT 0, created_at TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS positions (symbol TEXT PRIMARY KEY, quantity INTEGER NOT NULL, cost_cents INTEGER NOT NULL,
        reserved_qty INTEGER NOT NULL DEFAULT 0, version INTEGER NOT NULL DEFAULT 0);
      CREATE TABLE IF NOT EXISTS orders (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, idem_key TEXT UNIQUE,
        fingerprint TEXT NOT NULL, client_order_id TEXT UNIQUE, symbol TEXT NOT NULL, side TEXT NOT NULL, quantity INTEGER NOT NULL,
        order_type TEXT NOT NULL, limit_cents INTEGER, stop_cents INTEGER, protect_cents INTEGER, max_cost_cents INTEGER,
        tif TEXT NOT NULL, status TEXT NOT NULL, filled_quantity INTEGER NOT NULL DEFAULT 0,
        filled_notional_cents INTEGER NOT NULL DEFAULT 0, reserved_cents INTEGER NOT NULL DEFAULT 0,
        reserved_qty INTEGER NOT NULL DEFAULT 0, reason TEXT, created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
        version INTEGER NOT NULL DEFAULT 1, venue_stage TEXT NOT NULL DEFAULT 'NEW', attempt INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER, expires_at INTEGER);
      CREATE INDEX IF NOT EXISTS orders_status ON orders(status, seq);
      CREATE INDEX IF NOT EXISTS orders_symbol ON orders(symbol, seq);
      CREATE INDEX IF NOT EXISTS orders_next_attempt ON orders(next_attempt_at) WHERE next_attempt_at IS NOT NULL;
      CREATE INDEX IF NOT EXISTS orders_expires ON orders(expires_at) WHERE expires_at IS NOT NULL;
      CREATE TABLE IF NOT EXISTS fills (id TEXT PRIMARY KEY, order_id TEXT NOT NULL, quantity INTEGER NOT NULL,
        price_cents INTEGER NOT NULL, timestamp TEXT NOT NULL);
      CREATE INDEX IF NOT EXISTS fills_order ON fills(order_id);
      CREATE TABLE IF NOT EXISTS audit (chain_seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, order_id TEXT NOT NULL,
        symbol TEXT NOT NULL, side TEXT NOT NULL, action TEXT NOT NULL, status TEXT NOT NULL, timestamp TEXT NOT NULL,
        reason TEXT, error_code TEXT, retry_attempt INTEGER, prev_hash TEXT NOT NULL, hash TEXT NOT NULL);
      CREATE INDEX IF NOT EXISTS audit_order ON audit(order_id, chain_seq);
      CREATE TABLE IF NOT EXISTS events (seq INTEGER PRIMARY KEY, at INTEGER NOT NULL, payload TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS outbox (id INTEGER PRIMARY KEY AUTOINCREMENT, record TEXT NOT NULL);
    `);
  }

  meta(key: string): string | undefined {
    return this.sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = ?", key).toArray()[0]?.value;
  }

  setMeta(key: string, value: string): void {
    this.sql.exec("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value", key, value);
  }

  // ---- account and positions

  account(): AccountRow | undefined {
    if (this.accountRow === undefined) {
      this.accountRow = this.sql.exec<AccountRow>("SELECT trader_id, cash_cents, reserved_cents, version, created_at FROM account").toArray()[0] ?? null;
    }
    return this.accountRow ?? undefined;
  }

  createAccount(cashCents: number, createdAt: string, version = 1): void {
    this.accountRow = this.sql
      .exec<AccountRow>(
        "INSERT INTO account (id, trader_id, cash_cents, reserved_cents, version, created_at) VALUES (1, ?, ?, 0, ?, ?) RETURNING trader_id, cash_cents, reserved_cents, version, created_at",
        this.traderId, cashCents, version, createdAt,
      )
      .one();
  }

  /** Changes cash and reservation by the given deltas; returns the new row. */
  adjustAccount(cashDelta: number, reservedDelta: number): AccountRow {
    this.accountRow = this.sql
      .exec<AccountRow>(
        "UPDATE account SET cash_cents = cash_cents + ?, reserved_cents = MAX(0, reserved_cents + ?), version = version + 1 RETURNING trader_id, cash_cents, reserved_cents, version, created_at",
        cashDelta, reservedDelta,
      )
      .one();
    return this.accountRow;
  }

  positions(): PositionRow[] {
    return this.sql.exec<PositionRow>("SELECT symbol, quantity, cost_cents, reserved_qty, version FROM positions WHERE quantity != 0 OR reserved_qty != 0 ORDER BY symbol").toArray();
  }

  position(symbol: string): PositionRow | undefined {
    return this.sql.exec<PositionRow>("SELECT symbol, quantity, cost_cents, reserved_qty, version FROM positions WHERE symbol = ?", symbol).toArray()[0];
  }

  adjustPosition(symbol: string, quantityDelta: number, costDelta: number, reservedDelta: number): PositionRow {
    return this.sql
      .exec<PositionRow>(
        `INSERT INTO positions (symbol, quantity, cost_cents, reserved_qty, version) VALUES (?, ?, ?, MAX(0, ?), 1)
         ON CONFLICT(symbol) DO UPDATE SET quantity = quantity + excluded.quantity, cost_cents = cost_cents + excluded.cost_cents,
           reserved_qty = MAX(0, reserved_qty + ?), version = version + 1
         RETURNING symbol, quantity, cost_cents, reserved_qty, version`,
        symbol, quantityDelta, costDelta, reservedDelta, reservedDelta,
      )
      .one();
  }

  // ---- orders and fills

  /** A new order, already at venue stage SENT: the desk sends it right after this transaction commits. */
  insertOrder(o: NewOrder): OrderRow {
    return this.sql
      .exec<OrderRow>(
        `INSERT INTO orders (id, idem_key, fingerprint, client_order_id, symbol, side, quantity, order_type, limit_cents, stop_cents,
           protect_cents, max_cost_cents, tif, status, reserved_cents, reserved_qty, created_at, updated_at, venue_stage, next_attempt_at, expires_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'PENDING', ?, ?, ?, ?, 'SENT', ?, ?) RETURNING *`,
        o.id, o.idem_key, o.fingerprint, o.client_order_id, o.symbol, o.side, o.quantity, o.order_type, o.limit_cents, o.stop_cents,
        o.protect_cents, o.max_cost_cents, o.tif, o.reserved_cents, o.reserved_qty, o.created_at, o.created_at, o.next_attempt_at, o.expires_at,
      )
      .one();
  }

  order(id: string): OrderRow | undefined {
    return this.sql.exec<OrderRow>("SELECT * FROM orders WHERE id = ?", id).toArray()[0];
  }

  orderByKey(idemKey: string | null, clientOrderId: string | null): OrderRow | undefined {
    return this.sql
      .exec<OrderRow>("SELECT * FROM orders WHERE idem_key = ? OR client_order_id = ? LIMIT 1", idemKey, clientOrderId)
      .toArray()[0];
  }

  listOrders(filter: { status?: string; symbol?: string; beforeSeq?: number; limit: number }): OrderRow[] {
    return this.sql
      .exec<OrderRow>(
        `SELECT * FROM orders WHERE (?1 IS NULL OR status = ?1) AND (?2 IS NULL OR symbol = ?2) AND (?3 IS NULL OR seq < ?3)
         ORDER BY seq DESC LIMIT ?4`,
        filter.status ?? null, filter.symbol ?? null, filter.beforeSeq ?? null, filter.limit,
      )
      .toArray();
  }

  updateOrder(id: string, patch: Partial<Omit<OrderRow, "seq" | "id" | "version">>): OrderRow {
    const keys = Object.keys(patch);
    const sets = keys.map((k) => `${k} = ?`).join(", ");
    return this.sql
      .exec<OrderRow>(`UPDATE orders SET ${sets}, version = version + 1 WHERE id = ? RETURNING *`, ...keys.map((k) => patch[k as keyof typeof patch] ?? null), id)
      .one();
  }

  /** Orders whose next venue attempt is due by `now`. */
  dueAttempts(now: number): OrderRow[] {
    return this.sql.exec<OrderRow>("SELECT * FROM orders WHERE next_attempt_at <= ? ORDER BY next_attempt_at", now).toArray();
  }

  dueExpiries(now: number): OrderRow[] {
    return this.sql.exec<OrderRow>("SELECT * FROM orders WHERE expires_at <= ? ORDER BY expires_at", now).toArray();
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
        backstop, this.flushedThrough,
      )
      .one().at;
  }

  fills(orderId: string): FillRow[] {
    return this.sql.exec<FillRow>("SELECT id, order_id, quantity, price_cents, timestamp FROM fills WHERE order_id = ? ORDER BY timestamp, rowid", orderId).toArray();
  }

  fillIds(orderId: string): Set<string> {
    return new Set(this.sql.exec<{ id: string }>("SELECT id FROM fills WHERE order_id = ?", orderId).toArray().map((r) => r.id));
  }

  insertFill(fill: FillRow): void {
    this.sql.exec("INSERT INTO fills (id, order_id, quantity, price_cents, timestamp) VALUES (?, ?, ?, ?, ?)", fill.id, fill.order_id, fill.quantity, fill.price_cents, fill.timestamp);
  }

  // ---- audit chain

  appendAudit(order: Pick<OrderRow, "id" | "symbol" | "side">, draft: AuditDraft, timestamp: string, newId: () => string): AuditRow {
    if (this.head === null) {
      const row = this.sql.exec<{ chain_seq: number; hash: string }>("SELECT chain_seq, hash FROM audit ORDER BY chain_seq DESC LIMIT 1").toArray()[0];
      this.head = { seq: row?.chain_seq ?? 0, hash: row?.hash ?? GENESIS_HASH };
    }
    const fields: ChainFields = {
      traderId: this.traderId, chainSeq: this.head.seq + 1, id: newId(), orderId: order.id, symbol: order.symbol,
      side: order.side, action: draft.action, status: draft.status, timestamp, reason: draft.reason,
      errorCode: draft.errorCode, retryAttempt: draft.retryAttempt,
    };
    const prevHash = this.head.hash;
    const row: AuditRow = {
      chain_seq: fields.chainSeq, id: fields.id, order_id: fields.orderId, symbol: fields.symbol, side: fields.side,
      action: fields.action, status: fields.status, timestamp, reason: fields.reason, error_code: fields.errorCode,
      retry_attempt: fields.retryAttempt, prev_hash: prevHash, hash: chainHash(prevHash, fields),
    };
    this.mustBeInTransaction();
    this.queuedAudit.push(row);
    this.head = { seq: row.chain_seq, hash: row.hash };
    return row;
  }

  auditFor(orderId: string): AuditRow[] {
    return this.sql.exec<AuditRow>("SELECT * FROM audit WHERE order_id = ? ORDER BY chain_seq", orderId).toArray();
  }

  // ---- events

  latestSeq(): number {
    this.eventSeq ??= this.sql.exec<{ seq: number | null }>("SELECT MAX(seq) AS seq FROM events").one().seq ?? 0;
    return this.eventSeq;
  }

  /** Logs the event under the next seq; returns it as sent on the wire. */
  appendEvent(build: (seq: number) => OrderEvent, nowMs: number): string {
    const event = build(this.latestSeq() + 1);
    const payload = JSON.stringify(event);
    this.mustBeInTransaction();
    this.queuedEvents.push([event.seq, nowMs, payload]);
    this.eventSeq = event.seq;
    if (event.seq % 500 === 0) {
      this.sql.exec("DELETE FROM events WHERE seq <= ? AND at < ?", event.seq - EVENTS_KEPT, nowMs - EVENTS_KEPT_MS);
    }
    return payload;
  }

  eventsAfter(seq: number, limit: number): string[] {
    return this.sql.exec<{ payload: string }>("SELECT payload FROM events WHERE seq > ? ORDER BY seq LIMIT ?", seq, limit).toArray().map((r) => r.payload);
  }

  oldestSeq(): number {
    return this.sql.exec<{ seq: number | null }>("SELECT MIN(seq) AS seq FROM events").one().seq ?? 0;
  }

  // ---- outbox

  /** Queues a D1 row; it is written to the outbox with the rest of the transaction's changes. */
  enqueue<K extends OutboxKind>(kind: K, row: OutboxRows[K]): void {
    this.mustBeInTransaction();
    this.queued.push([kind, snapshotKey(kind, row), JSON.stringify(row)]);
  }

  private mustBeInTransaction(): void {
    if (!this.inTransaction) throw new Error("audit rows, events and outbox records are appended inside atomically()");
  }

  /** Writes what the transaction appended, one statement per table, and deletes outbox records D1 has. */
  private writePending(): void {
    if (this.flushedThrough > this.deletedThrough) {
      this.sql.exec("DELETE FROM outbox WHERE id <= ?", this.flushedThrough);
      this.deletedThrough = this.flushedThrough;
    }
    this.insertRows("audit", AUDIT_COLUMNS, this.queuedAudit.map((row) => AUDIT_COLUMNS.map((c) => row[c])));
    this.insertRows("events", ["seq", "at", "payload"], this.queuedEvents);
    this.insertRows("outbox", ["kind", "row_key", "record"], this.queued);
    this.queuedAudit = [];
    this.queuedEvents = [];
    this.queued = [];
  }

  /** Multi-row INSERTs, as many rows per statement as the 100 bound parameters of Durable Object SQL allow. */
  private insertRows(table: string, columns: readonly string[], rows: readonly (readonly SqlStorageValue[])[]): void {
    const perStatement = Math.floor(MAX_BOUND_PARAMETERS / columns.length);
    for (let i = 0; i < rows.length; i += perStatement) {
      const chunk = rows.slice(i, i + perStatement);
      this.sql.exec(insertSql(table, columns, chunk.length), ...chunk.flat());
    }
  }

  outboxBatch(limit: number): QueuedRecord[] {
    return this.sql
      .exec<{ id: number; kind: OutboxKind; rowKey: string | null; record: string }>(
        "SELECT id, kind, row_key AS rowKey, record FROM outbox WHERE id > ? ORDER BY id LIMIT ?", this.flushedThrough, limit,
      )
      .toArray();
  }

  /** Records not yet in D1. */
  outboxSize(): number {
    return this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM outbox WHERE id > ?", this.flushedThrough).one().n;
  }

  /** D1 holds every record up to `throughId`; the next transaction deletes them. */
  markFlushed(throughId: number): void {
    this.flushedThrough = Math.max(this.flushedThrough, throughId);
  }
}

export type EventName = OrderEventName;
