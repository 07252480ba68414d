// D1, the system of record for reporting and compliance. Written only through the traders' outboxes
// (and the venue's instrument settings); timestamps are ISO-8601 text so plain SQL BETWEEN works on them.
import { sql } from "drizzle-orm";
import { index, integer, primaryKey, real, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

export const accounts = sqliteTable("accounts", {
  traderId: text("trader_id").primaryKey(),
  cashCents: integer("cash_cents").notNull(),
  reservedCents: integer("reserved_cents").notNull().default(0),
  /** ACTIVE, REDUCE_ONLY or HALTED: set by an admin, audited as TRADING_STATE. */
  tradingState: text("trading_state").notNull().default("ACTIVE"),
  /** Monotonic per account; an outbox re-flush never moves a row backwards. */
  version: integer("version").notNull().default(0),
  createdAt: text("created_at").notNull().default(sql`(strftime('%Y-%m-%dT%H:%M:%fZ','now'))`),
  updatedAt: text("updated_at").notNull().default(sql`(strftime('%Y-%m-%dT%H:%M:%fZ','now'))`),
});

export const positions = sqliteTable(
  "positions",
  {
    traderId: text("trader_id").notNull(),
    symbol: text("symbol").notNull(),
    quantity: integer("quantity").notNull(),
    /** Cost basis of the shares held, in cents: avg_price_micros x quantity, rounded to the cent. */
    costCents: integer("cost_cents").notNull(),
    /** Average cost per share in micro-dollars (1e-6 $): a sale leaves it unchanged (SPEC, "Average cost"). */
    avgPriceMicros: integer("avg_price_micros").notNull().default(0),
    /** Realized P&L of this symbol's sales so far, in micro-dollars: sum of (fill price - avg cost) x shares. */
    realizedPlMicros: integer("realized_pl_micros").notNull().default(0),
    version: integer("version").notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.traderId, t.symbol] })],
);

export const instruments = sqliteTable("instruments", {
  symbol: text("symbol").primaryKey(),
  name: text("name").notNull(),
  priceCents: integer("price_cents").notNull(),
  tickCents: integer("tick_cents").notNull().default(1),
  /** Shares available at each price level of the simulated book. */
  depth: integer("depth").notNull().default(10000),
  tradable: integer("tradable", { mode: "boolean" }).notNull().default(true),
  /** Fault injection of the simulated venue: {timeout_first_attempts, error_rate, reject_rate, latency_ms}. */
  faults: text("faults").notNull().default("{}"),
  updatedAt: text("updated_at").notNull().default(sql`(strftime('%Y-%m-%dT%H:%M:%fZ','now'))`),
});

export const orders = sqliteTable(
  "orders",
  {
    id: text("id").primaryKey(),
    traderId: text("trader_id").notNull(),
    clientOrderId: text("client_order_id"),
    symbol: text("symbol").notNull(),
    side: text("side").notNull(),
    quantity: integer("quantity").notNull(),
    orderType: text("order_type").notNull(),
    limitPriceCents: integer("limit_price_cents"),
    stopPriceCents: integer("stop_price_cents"),
    timeInForce: text("time_in_force").notNull(),
    status: text("status").notNull(),
    filledQuantity: integer("filled_quantity").notNull().default(0),
    filledNotionalCents: integer("filled_notional_cents").notNull().default(0),
    avgFillPrice: real("avg_fill_price"),
    reason: text("reason"),
    createdAt: text("created_at").notNull(),
    updatedAt: text("updated_at").notNull(),
    /** When the last amend (cancel/replace in place) was confirmed by the venue. */
    amendedAt: text("amended_at"),
    /** TRAILING_STOP: the trail (cents, or basis points of the mark) and the high-water mark last reported. */
    trailPriceCents: integer("trail_price_cents"),
    trailPercentBp: integer("trail_percent_bp"),
    hwmCents: integer("hwm_cents"),
    /** simple, bracket, oco or oto; a leg names its parent. */
    orderClass: text("order_class").notNull().default("simple"),
    parentOrderId: text("parent_order_id"),
    version: integer("version").notNull().default(0),
  },
  (t) => [
    index("orders_trader_created").on(t.traderId, t.createdAt),
    index("orders_status").on(t.status),
  ],
);

export const fills = sqliteTable(
  "fills",
  {
    id: text("id").primaryKey(),
    orderId: text("order_id").notNull(),
    traderId: text("trader_id").notNull(),
    symbol: text("symbol").notNull(),
    side: text("side").notNull(),
    quantityFilled: integer("quantity_filled").notNull(),
    priceAtFill: real("price_at_fill").notNull(),
    priceCents: integer("price_cents").notNull(),
    /** A sale's realized P&L in micro-dollars, (price - avg cost) x shares; null for a buy. */
    realizedPlMicros: integer("realized_pl_micros"),
    timestamp: text("timestamp").notNull(),
  },
  (t) => [index("fills_order").on(t.orderId)],
);

export const executionLogs = sqliteTable(
  "execution_logs",
  {
    id: text("id").primaryKey(),
    orderId: text("order_id").notNull(),
    traderId: text("trader_id").notNull(),
    /** Position in the trader's audit chain (1, 2, 3 ...). */
    chainSeq: integer("chain_seq").notNull(),
    symbol: text("symbol").notNull(),
    side: text("side").notNull(),
    action: text("action").notNull(),
    status: text("status").notNull(),
    timestamp: text("timestamp").notNull(),
    reason: text("reason"),
    errorCode: text("error_code"),
    retryAttempt: integer("retry_attempt"),
    /** A leg's parent (bracket, oco, oto); null for other orders. Outside the hash chain (see docs/compliance.md). */
    parentOrderId: text("parent_order_id"),
    prevHash: text("prev_hash").notNull(),
    hash: text("hash").notNull(),
  },
  (t) => [
    index("execution_logs_timestamp").on(t.timestamp, t.chainSeq, t.id),
    index("execution_logs_trader_timestamp").on(t.traderId, t.timestamp),
    index("execution_logs_order").on(t.orderId),
    index("execution_logs_parent").on(t.parentOrderId),
    uniqueIndex("execution_logs_trader_chain").on(t.traderId, t.chainSeq),
  ],
);
