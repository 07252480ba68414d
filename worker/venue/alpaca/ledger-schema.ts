// The stream link's storage schema (its Durable Object's SQLite): the ledger's orders, Alpaca orders and
// fills (ledger.ts), the reports owed to desks (owed.ts), parked trade updates of oco legs not yet known,
// the executions desks kept unbooked (their fill ids), and a key-value meta table (stream cursors, counters). Idempotent: run at every start of the object.

/** Creates the tables and indexes that are missing, and adds the columns added since a link's storage was made. */
export function migrateLedger(sql: SqlStorage): void {
  sql.exec(`
    CREATE TABLE IF NOT EXISTS orders (order_id TEXT PRIMARY KEY, trader_id TEXT NOT NULL, symbol TEXT NOT NULL, order_type TEXT NOT NULL,
      stage TEXT NOT NULL, hold_until INTEGER, alpaca_id TEXT, amend_seq INTEGER NOT NULL DEFAULT 0, state TEXT NOT NULL DEFAULT 'WORKING',
      reason TEXT, terms TEXT, end_as TEXT, end_reason TEXT, fills_seen INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL);
    CREATE INDEX IF NOT EXISTS orders_stage ON orders(stage);
    CREATE INDEX IF NOT EXISTS orders_held ON orders(hold_until) WHERE hold_until IS NOT NULL;
    CREATE TABLE IF NOT EXISTS alpaca_orders (alpaca_id TEXT PRIMARY KEY, order_id TEXT NOT NULL, seq INTEGER NOT NULL, status TEXT NOT NULL,
      qty INTEGER NOT NULL, filled_qty INTEGER NOT NULL, replaces TEXT, body TEXT NOT NULL);
    CREATE INDEX IF NOT EXISTS alpaca_orders_order ON alpaca_orders(order_id);
    CREATE TABLE IF NOT EXISTS fills (fill_id TEXT PRIMARY KEY, execution TEXT UNIQUE, order_id TEXT NOT NULL, alpaca_id TEXT NOT NULL,
      cum_qty INTEGER NOT NULL, quantity INTEGER NOT NULL, price_cents INTEGER NOT NULL, at TEXT NOT NULL, UNIQUE (alpaca_id, cum_qty));
    CREATE INDEX IF NOT EXISTS fills_order ON fills(order_id);
    CREATE TABLE IF NOT EXISTS owed (order_id TEXT PRIMARY KEY, version INTEGER NOT NULL);
    CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS parked (alpaca_id TEXT NOT NULL, at INTEGER NOT NULL, update_json TEXT NOT NULL);
    CREATE INDEX IF NOT EXISTS parked_order ON parked(alpaca_id);
    CREATE TABLE IF NOT EXISTS unbooked (fill_id TEXT PRIMARY KEY, order_id TEXT NOT NULL);
  `);
  // Added after the table: a link's storage from before gets the column.
  const hasColumn = (table: string, column: string) => sql.exec<{ name: string }>(`PRAGMA table_info(${table})`).toArray().some((c) => c.name === column);
  if (!hasColumn("orders", "rides_on")) sql.exec("ALTER TABLE orders ADD COLUMN rides_on TEXT");
  if (!hasColumn("alpaca_orders", "updated_at")) sql.exec("ALTER TABLE alpaca_orders ADD COLUMN updated_at TEXT");
  // An order that reached Alpaca after fillwire gave it up: to be cancelled there until it has ended.
  if (!hasColumn("orders", "late")) sql.exec("ALTER TABLE orders ADD COLUMN late INTEGER NOT NULL DEFAULT 0");
}
