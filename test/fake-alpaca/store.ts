// The fake account's state, over its Durable Object's SQLite: instruments (price, tick, depth, faults), orders
// (the Order entity as stored), executions (one per fill; they are also the FILL activities), attempts per
// client_order_id (for fault injection), a log of the requests it answered, and account-wide settings.
import type { AccountFaults, SymbolFaults } from "./faults";
import { isOpen, type Execution, type StoredOrder } from "./shapes";

export interface Instrument {
  symbol: string;
  price_cents: number;
  tick_cents: number;
  depth: number;
  /** false: no quote and no trade to be had (market data knows the symbol but has no price). */
  priced: boolean;
  faults: SymbolFaults;
}

/** The symbols fillwire's seed uses (scripts/seed.sql), with the same behaviour, so its scenarios run as-is. */
const SEED: Instrument[] = [
  { symbol: "AAPL", price_cents: 15000, tick_cents: 1, depth: 100000, priced: true, faults: {} },
  { symbol: "MSFT", price_cents: 42000, tick_cents: 1, depth: 100000, priced: true, faults: {} },
  { symbol: "TSLA", price_cents: 25000, tick_cents: 1, depth: 50000, priced: true, faults: {} },
  { symbol: "TEST_TIMEOUT", price_cents: 10000, tick_cents: 1, depth: 100000, priced: true, faults: { timeout_first_attempts: 1 } },
  { symbol: "TEST_PARTIAL", price_cents: 15000, tick_cents: 5, depth: 50, priced: true, faults: {} },
  { symbol: "TEST_REJECT", price_cents: 10000, tick_cents: 1, depth: 100000, priced: true, faults: { reject: { status: 403, message: "insufficient buying power" } } },
];

/** A stored order; one stored before oco orders existed is a simple one. */
function parseOrder(body: string): StoredOrder {
  return { order_class: "", oco_group: null, ...(JSON.parse(body) as Partial<StoredOrder>) } as StoredOrder;
}

export interface LoggedRequest {
  seq: number;
  method: string;
  path: string;
  status: number;
  at: number;
}

export class FakeStore {
  constructor(private readonly sql: SqlStorage) {}

  migrate(): void {
    this.sql.exec(`
      CREATE TABLE IF NOT EXISTS instruments (symbol TEXT PRIMARY KEY, body TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS orders (id TEXT PRIMARY KEY, client_order_id TEXT NOT NULL UNIQUE, symbol TEXT NOT NULL, open INTEGER NOT NULL,
        body TEXT NOT NULL, seq INTEGER NOT NULL, oco_group TEXT);
      CREATE TABLE IF NOT EXISTS executions (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, order_id TEXT NOT NULL, body TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS attempts (client_order_id TEXT PRIMARY KEY, n INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS positions (symbol TEXT PRIMARY KEY, qty INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS requests (seq INTEGER PRIMARY KEY AUTOINCREMENT, method TEXT NOT NULL, path TEXT NOT NULL, status INTEGER NOT NULL, at INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS settings (id INTEGER PRIMARY KEY CHECK (id = 1), body TEXT NOT NULL);
    `);
    // A state made before oco orders (an older .wrangler) has no oco_group column: add it. Its orders are
    // simple ones (their bodies lack order_class and oco_group; parseOrder fills them in).
    const columns = this.sql.exec<{ name: string }>("PRAGMA table_info(orders)").toArray().map((c) => c.name);
    if (!columns.includes("oco_group")) this.sql.exec("ALTER TABLE orders ADD COLUMN oco_group TEXT");
    this.sql.exec("CREATE INDEX IF NOT EXISTS orders_oco_group ON orders (oco_group) WHERE oco_group IS NOT NULL");
    for (const i of SEED) this.sql.exec("INSERT OR IGNORE INTO instruments (symbol, body) VALUES (?, ?)", i.symbol, JSON.stringify(i));
  }

  instrument(symbol: string): Instrument | null {
    const row = this.sql.exec<{ body: string }>("SELECT body FROM instruments WHERE symbol = ?", symbol).toArray()[0];
    return row ? (JSON.parse(row.body) as Instrument) : null;
  }

  saveInstrument(i: Instrument): void {
    this.sql.exec("INSERT INTO instruments (symbol, body) VALUES (?, ?) ON CONFLICT(symbol) DO UPDATE SET body = excluded.body", i.symbol, JSON.stringify(i));
  }

  order(id: string): StoredOrder | null {
    const row = this.sql.exec<{ body: string }>("SELECT body FROM orders WHERE id = ?", id).toArray()[0];
    return row ? parseOrder(row.body) : null;
  }

  orderByClientId(clientOrderId: string): StoredOrder | null {
    const row = this.sql.exec<{ body: string }>("SELECT body FROM orders WHERE client_order_id = ?", clientOrderId).toArray()[0];
    return row ? parseOrder(row.body) : null;
  }

  saveOrder(o: StoredOrder): void {
    const open = isOpen(o) ? 1 : 0;
    this.sql.exec(
      `INSERT INTO orders (id, client_order_id, symbol, open, body, seq, oco_group) VALUES (?, ?, ?, ?, ?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM orders), ?)
       ON CONFLICT(id) DO UPDATE SET open = excluded.open, body = excluded.body, oco_group = excluded.oco_group`,
      o.id, o.client_order_id, o.symbol, open, JSON.stringify(o), o.oco_group,
    );
  }

  /** Orders by status filter (open, closed, all), oldest first. */
  orders(status: "open" | "closed" | "all", symbol?: string): StoredOrder[] {
    const where = [status === "open" ? "open = 1" : status === "closed" ? "open = 0" : "1 = 1", symbol ? "symbol = ?" : "1 = 1"].join(" AND ");
    return this.sql.exec<{ body: string }>(`SELECT body FROM orders WHERE ${where} ORDER BY seq`, ...(symbol ? [symbol] : [])).toArray().map((r) => parseOrder(r.body));
  }

  /** Every order of an oco group (its parent, its legs, and their replacements), oldest first. */
  ocoGroup(group: string): StoredOrder[] {
    return this.sql.exec<{ body: string }>("SELECT body FROM orders WHERE oco_group = ? ORDER BY seq", group).toArray().map((r) => parseOrder(r.body));
  }

  /** Records an execution and moves the account's position; returns the position after it. */
  addExecution(e: Execution): number {
    this.sql.exec("INSERT INTO executions (id, order_id, body) VALUES (?, ?, ?)", e.id, e.order_id, JSON.stringify(e));
    const delta = e.side === "buy" ? e.qty : -e.qty;
    return this.sql.exec<{ qty: number }>(
      "INSERT INTO positions (symbol, qty) VALUES (?, ?) ON CONFLICT(symbol) DO UPDATE SET qty = qty + excluded.qty RETURNING qty", e.symbol, delta,
    ).one().qty;
  }

  executions(orderId?: string): Execution[] {
    const rows = orderId
      ? this.sql.exec<{ body: string }>("SELECT body FROM executions WHERE order_id = ? ORDER BY seq", orderId).toArray()
      : this.sql.exec<{ body: string }>("SELECT body FROM executions ORDER BY seq").toArray();
    return rows.map((r) => JSON.parse(r.body) as Execution);
  }

  countAttempt(clientOrderId: string): number {
    return this.sql.exec<{ n: number }>("INSERT INTO attempts (client_order_id, n) VALUES (?, 1) ON CONFLICT(client_order_id) DO UPDATE SET n = n + 1 RETURNING n", clientOrderId).one().n;
  }

  /** Logs a request as it arrives (status 0 until it is answered); returns its seq. */
  log(method: string, path: string): number {
    return this.sql.exec<{ seq: number }>("INSERT INTO requests (method, path, status, at) VALUES (?, ?, 0, ?) RETURNING seq", method, path, Date.now()).one().seq;
  }

  answered(seq: number, status: number): void {
    this.sql.exec("UPDATE requests SET status = ? WHERE seq = ?", status, seq);
  }

  requests(sinceSeq = 0): LoggedRequest[] {
    return this.sql.exec<{ seq: number; method: string; path: string; status: number; at: number }>("SELECT * FROM requests WHERE seq > ? ORDER BY seq", sinceSeq).toArray();
  }

  settings(): AccountFaults {
    const row = this.sql.exec<{ body: string }>("SELECT body FROM settings WHERE id = 1").toArray()[0];
    return row ? (JSON.parse(row.body) as AccountFaults) : {};
  }

  saveSettings(s: AccountFaults): void {
    this.sql.exec("INSERT INTO settings (id, body) VALUES (1, ?) ON CONFLICT(id) DO UPDATE SET body = excluded.body", JSON.stringify(s));
  }
}
