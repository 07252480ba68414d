// The trader desk's own SQLite storage: its tables, their row types, and the migrations between versions.
// Schema changes happen once, in the desk's constructor (blockConcurrencyWhile), never per request.
import type { TradingState } from "../shared/account";
import type { OrderClass, OrderStatus, OrderType, Side, TimeInForce } from "../shared/orders";

export const SCHEMA_VERSION = 9;

/** Where an order stands toward the venue: not yet sent, sent without an answer, or answered. */
export type VenueStage = "NEW" | "SENT" | "ACKED";

/** The trader's cash (integer cents) and what working BUY orders hold of it. */
export interface AccountRow extends Record<string, SqlStorageValue> {
  trader_id: string;
  cash_cents: number;
  reserved_cents: number;
  /** ACTIVE, REDUCE_ONLY or HALTED (see shared/account.ts). */
  trading_state: TradingState;
  version: number;
  created_at: string;
}

/** A movement of cash that is not a fill (the opening balance, an admin's deposit): the CASH activities. */
export interface CashRow extends Record<string, SqlStorageValue> {
  id: string;
  at: string;
  amount_cents: number;
  reason: string;
}

/**
 * Shares held in one symbol at average cost, and the shares promised to working SELL orders. Costs are kept
 * in micro-dollars (1e-6 $) so that a sale never moves the average (SPEC, "Average cost does not drift").
 */
export interface PositionRow extends Record<string, SqlStorageValue> {
  symbol: string;
  quantity: number;
  /** Average cost per share, micro-dollars. */
  avg_price_micros: number;
  /** Realized P&L of the sales so far, micro-dollars. */
  realized_pl_micros: number;
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
  /** Epoch ms of the next venue attempt (or the backstop behind a send in flight); null when none is due. */
  next_attempt_at: number | null;
  /** Epoch ms when a DAY order expires; null otherwise or once final. */
  expires_at: number | null;
  /** When the venue reported the stop reached (ISO), or null. */
  triggered_at: string | null;
  /** Amends applied so far (the venue applies each seq once). */
  amend_seq: number;
  /** When the last amend was confirmed (ISO), or null. */
  amended_at: string | null;
  /** An amend sent to the venue and not yet confirmed or refused (an AmendPlan as JSON), or null. */
  pending_amend: string | null;
  /** TRAILING_STOP: the trail (cents, or basis points of the mark) and the mark the venue reported last. */
  trail_cents: number | null;
  trail_bp: number | null;
  hwm_cents: number | null;
  /** simple, bracket, oco or oto (on the parent and on its legs). */
  order_class: OrderClass;
  /** A leg's parent (its entry; for an oco, the take-profit), or null. */
  parent_order_id: string | null;
  /** The exits that cancel each other (the parent's id), or null: at most the group's remaining shares are sold. */
  oco_group: string | null;
}

/** The columns of an order that a change may set (the rest are keys or kept by the store). */
export type OrderPatch = Partial<Omit<OrderRow, "seq" | "id" | "version">>;

export interface FillRow extends Record<string, SqlStorageValue> {
  id: string;
  order_id: string;
  quantity: number;
  price_cents: number;
  /** A sale's realized P&L, micro-dollars; null for a buy. */
  realized_pl_micros: number | null;
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
  /** A leg's parent order; null otherwise. Not one of the hash chain's fields (the chain's text is unchanged). */
  parent_order_id: string | null;
  prev_hash: string;
  hash: string;
}

export const AUDIT_COLUMNS = [
  "chain_seq", "id", "order_id", "symbol", "side", "action", "status", "timestamp", "reason", "error_code", "retry_attempt", "parent_order_id", "prev_hash",
  "hash",
] as const satisfies readonly (keyof AuditRow)[];

export function readMeta(sql: SqlStorage, key: string): string | undefined {
  return sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = ?", key).toArray()[0]?.value;
}

export function writeMeta(sql: SqlStorage, key: string, value: string): void {
  sql.exec("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value", key, value);
}

/** Brings the desk's tables to SCHEMA_VERSION; a no-op when they are there. */
export function migrateDesk(sql: SqlStorage): void {
  sql.exec(`CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)`);
  const version = Number(readMeta(sql, "schema_version") ?? 0);
  if (version >= SCHEMA_VERSION) return;
  if (version < 1) createTablesV1(sql);
  if (version < 2) {
    // v2: the outbox keeps each record's kind and row key beside the row, so a flush needs no parsing.
    sql.exec(`
      ALTER TABLE outbox ADD COLUMN kind TEXT;
      ALTER TABLE outbox ADD COLUMN row_key TEXT;
      UPDATE outbox SET kind = record ->> '$.kind', record = json_extract(record, '$.row') WHERE kind IS NULL;
    `);
  }
  if (version < 3) {
    // v3: positions at average cost in micro-dollars (no drift on partial sales), realized P&L per position
    // and per sale, and the time a stop was triggered.
    if (addColumn(sql, "positions", "avg_price_micros", "INTEGER NOT NULL DEFAULT 0")) {
      sql.exec("UPDATE positions SET avg_price_micros = CAST(ROUND(cost_cents * 10000.0 / quantity) AS INTEGER) WHERE quantity > 0");
    }
    addColumn(sql, "positions", "realized_pl_micros", "INTEGER NOT NULL DEFAULT 0");
    addColumn(sql, "fills", "realized_pl_micros", "INTEGER");
    addColumn(sql, "orders", "triggered_at", "TEXT");
  }
  if (version < 4) {
    // v4: amends (FIX cancel/replace) in place, with their own idempotency keys.
    addColumn(sql, "orders", "amend_seq", "INTEGER NOT NULL DEFAULT 0");
    addColumn(sql, "orders", "amended_at", "TEXT");
    addColumn(sql, "orders", "pending_amend", "TEXT");
    sql.exec("CREATE TABLE IF NOT EXISTS amend_keys (key TEXT PRIMARY KEY, order_id TEXT NOT NULL, fingerprint TEXT NOT NULL)");
    // ... the account's trading state, and the cash ledger beside the fills (activities).
    addColumn(sql, "account", "trading_state", "TEXT NOT NULL DEFAULT 'ACTIVE'");
    sql.exec("CREATE TABLE IF NOT EXISTS cash_ledger (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, at TEXT NOT NULL, amount_cents INTEGER NOT NULL, reason TEXT NOT NULL)");
    // An account opened before the ledger: its opening balance is what its cash was before any fill.
    sql.exec(`INSERT OR IGNORE INTO cash_ledger (id, at, amount_cents, reason)
      SELECT 'cash_opening', created_at, cash_cents + COALESCE((SELECT SUM(CASE WHEN o.side = 'BUY' THEN f.quantity * f.price_cents ELSE -f.quantity * f.price_cents END)
        FROM fills f JOIN orders o ON o.id = f.order_id), 0), 'Opening balance' FROM account`);
  }
  if (version < 5) {
    // v5: trailing stops.
    addColumn(sql, "orders", "trail_cents", "INTEGER");
    addColumn(sql, "orders", "trail_bp", "INTEGER");
    addColumn(sql, "orders", "hwm_cents", "INTEGER");
  }
  if (version < 6) {
    // v6: contingent orders (bracket, oco, oto): legs under a parent, exits in a one-cancels-other group.
    addColumn(sql, "orders", "order_class", "TEXT NOT NULL DEFAULT 'simple'");
    addColumn(sql, "orders", "parent_order_id", "TEXT");
    addColumn(sql, "orders", "oco_group", "TEXT");
    sql.exec("CREATE INDEX IF NOT EXISTS orders_parent ON orders(parent_order_id) WHERE parent_order_id IS NOT NULL");
  }
  if (version < 7) {
    // v7: an amend's Idempotency-Key names the amend (its seq), so a retry finds that amend's outcome.
    addColumn(sql, "amend_keys", "seq", "INTEGER NOT NULL DEFAULT 0");
  }
  if (version < 8) {
    // v8: audit rows name a leg's parent order (rows written before stay null).
    addColumn(sql, "audit", "parent_order_id", "TEXT");
  }
  if (version < 9) {
    // v9: executions the venue reported after their order had ended, kept apart from the booked fills
    // (lifecycle.ts, "unbooked"): each is written to the audit trail once.
    sql.exec(`CREATE TABLE IF NOT EXISTS unbooked_fills (id TEXT PRIMARY KEY, order_id TEXT NOT NULL, quantity INTEGER NOT NULL,
      price_cents INTEGER NOT NULL, timestamp TEXT NOT NULL)`);
    sql.exec("CREATE INDEX IF NOT EXISTS unbooked_fills_order ON unbooked_fills(order_id)");
  }
  writeMeta(sql, "schema_version", String(SCHEMA_VERSION));
}

/** Adds a column unless the table has it (a migration interrupted, or re-run, stays correct); true when added. */
function addColumn(sql: SqlStorage, table: string, column: string, declaration: string): boolean {
  const has = sql.exec("SELECT 1 FROM pragma_table_info(?) WHERE name = ?", table, column).toArray().length > 0;
  if (!has) sql.exec(`ALTER TABLE ${table} ADD COLUMN ${column} ${declaration}`);
  return !has;
}

function createTablesV1(sql: SqlStorage): void {
  sql.exec(`
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
