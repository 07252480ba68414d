// The JSON the fake answers with, shape by shape, each from Alpaca's published reference (cited beside it).
// Decimals are strings, as Alpaca sends them.
import { randomId } from "./ids";

export interface StoredOrder {
  id: string;
  client_order_id: string;
  symbol: string;
  side: "buy" | "sell";
  type: "market" | "limit" | "stop" | "stop_limit" | "trailing_stop";
  time_in_force: string;
  qty: number;
  filled_qty: number;
  /** Sum of qty x price of the fills, in cents (filled_avg_price is derived from it). */
  filled_cents: number;
  limit_cents: number | null;
  stop_cents: number | null;
  trail_cents: number | null;
  trail_percent: string | null;
  hwm_cents: number | null;
  triggered: boolean;
  status: string;
  replaced_by: string | null;
  replaces: string | null;
  created_at: string;
  updated_at: string;
  filled_at: string | null;
  canceled_at: string | null;
  expired_at: string | null;
  replaced_at: string | null;
  failed_at: string | null;
  /** "" (simple) or "oco" (oco.ts). */
  order_class: OrderClass;
  /** An oco order's group: the id of the group's original parent (the take-profit as first posted); null otherwise. */
  oco_group: string | null;
}

export type OrderClass = "" | "oco";

/**
 * Open until filled, canceled, expired, rejected or replaced (https://alpaca.markets/docs/trading/orders/#order-lifecycle).
 * A "held" order (an oco's stop-loss leg waiting for its stop) is open too: Alpaca lists it among the open orders.
 */
export function isOpen(order: Pick<StoredOrder, "status">): boolean {
  return !["filled", "canceled", "expired", "rejected", "replaced"].includes(order.status);
}

export const dollars = (cents: number): string => `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, "0")}`;
const dollarsOrNull = (cents: number | null) => (cents === null ? null : dollars(cents));

/**
 * The Order entity. https://docs.alpaca.markets/reference/orders ("Sample Order Object");
 * fields: https://github.com/alpacahq/alpaca-docs/blob/master/data/webapi/entities/order-v2.yaml
 * `legs`: an advanced order's other orders, shown when asked for (`nested=true`, and in the POST answer);
 * null otherwise, as for every simple order.
 */
export function orderJson(o: StoredOrder, legs: StoredOrder[] | null = null): Record<string, unknown> {
  return {
    id: o.id,
    client_order_id: o.client_order_id,
    created_at: o.created_at,
    updated_at: o.updated_at,
    submitted_at: o.created_at,
    filled_at: o.filled_at,
    expired_at: o.expired_at,
    canceled_at: o.canceled_at,
    failed_at: o.failed_at,
    replaced_at: o.replaced_at,
    replaced_by: o.replaced_by,
    replaces: o.replaces,
    asset_id: assetId(o.symbol),
    symbol: o.symbol,
    asset_class: "us_equity",
    notional: null,
    qty: String(o.qty),
    filled_qty: String(o.filled_qty),
    filled_avg_price: o.filled_qty > 0 ? (o.filled_cents / o.filled_qty / 100).toFixed(4).replace(/0+$/, "").replace(/\.$/, "") : null,
    order_class: o.order_class,
    order_type: o.type,
    type: o.type,
    side: o.side,
    time_in_force: o.time_in_force,
    limit_price: dollarsOrNull(o.limit_cents),
    stop_price: dollarsOrNull(o.stop_cents),
    status: o.status,
    extended_hours: false,
    legs: legs === null ? null : legs.map((leg) => orderJson(leg)),
    trail_percent: o.trail_percent,
    trail_price: dollarsOrNull(o.trail_cents),
    hwm: dollarsOrNull(o.hwm_cents),
  };
}

export interface Execution {
  id: string;
  order_id: string;
  symbol: string;
  side: string;
  qty: number;
  price_cents: number;
  cum_qty: number;
  leaves_qty: number;
  at: string;
}

/**
 * A FILL activity (TradeActivity entity): id "<yyyymmddhhmmssmmm>::<uuid>", type fill|partial_fill.
 * https://alpaca.markets/docs/api-references/trading-api/account-activities/ ; example of the shape in
 * https://github.com/alpacahq/Alpaca-API/issues/170
 */
export function activityJson(e: Execution): Record<string, unknown> {
  return {
    id: activityId(e),
    activity_type: "FILL",
    transaction_time: e.at,
    type: e.leaves_qty === 0 ? "fill" : "partial_fill",
    price: dollars(e.price_cents),
    qty: String(e.qty),
    side: e.side,
    symbol: e.symbol,
    leaves_qty: String(e.leaves_qty),
    order_id: e.order_id,
    cum_qty: String(e.cum_qty),
    order_status: e.leaves_qty === 0 ? "filled" : "partially_filled",
  };
}

export function activityId(e: Execution): string {
  return `${e.at.replace(/[-:TZ.]/g, "").slice(0, 17)}::${e.id}`;
}

/**
 * A trade_updates message. https://docs.alpaca.markets/docs/websocket-streaming ("Trade Updates", "Example"):
 * every message has `event` and `order`; fill and partial_fill add timestamp, price, qty (this execution's,
 * alpacahq/Alpaca-API#103), position_qty and execution_id.
 */
export function tradeUpdateJson(event: string, order: StoredOrder, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { stream: "trade_updates", data: { event, order: orderJson(order), timestamp: new Date().toISOString(), ...extra } };
}

/** https://docs.alpaca.markets/docs/websocket-streaming ("Authentication") */
export const authorizationJson = (ok: boolean, action = "authenticate") => ({ stream: "authorization", data: { status: ok ? "authorized" : "unauthorized", action } });

/** https://docs.alpaca.markets/docs/websocket-streaming (the listen acknowledgement) */
export const listeningJson = (streams: string[]) => ({ stream: "listening", data: { streams } });

/**
 * Latest quote and trade (Market Data v2).
 * https://alpaca.markets/docs/api-references/market-data-api/stock-pricing-data/historical/ ("Latest Quote", "Latest Trade")
 */
export function latestQuoteJson(symbol: string, bidCents: number, askCents: number): Record<string, unknown> {
  return { symbol, quote: { t: new Date().toISOString(), ax: "V", ap: askCents / 100, as: 1, bx: "V", bp: bidCents / 100, bs: 1, c: ["R"], z: "C" } };
}

export function latestTradeJson(symbol: string, priceCents: number): Record<string, unknown> {
  return { symbol, trade: { t: new Date().toISOString(), x: "V", p: priceCents / 100, s: 100, c: ["@"], i: 1, z: "C" } };
}

/** Alpaca's error body: {"code": 40310000, "message": "..."} (e.g. alpacahq/alpaca-trade-api-js#123). */
export function errorJson(code: number, message: string): Record<string, unknown> {
  return { code, message };
}

const assets = new Map<string, string>();
function assetId(symbol: string): string {
  let id = assets.get(symbol);
  if (!id) assets.set(symbol, (id = randomId()));
  return id;
}
