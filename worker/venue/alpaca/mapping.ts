// What maps to what between fillwire and Alpaca, as pure functions: order types and times in force (and what
// Alpaca cannot take, refused before it goes), prices as exact cents, Alpaca's order statuses as venue
// states, and the client_order_id that names a fillwire order and its amends at Alpaca.
import type { OrderType, TimeInForce } from "../../shared/orders";
import type { VenueAmend, VenueOrder, VenueState, VenueTerms } from "../adapter";
import type { AlpacaOrder } from "./wire";

/** Alpaca's limit on client_order_id ("<= 48 characters", docs.alpaca.markets/reference/orders). */
export const MAX_CLIENT_ORDER_ID = 48;

const TYPE: Record<OrderType, string> = {
  MARKET: "market", LIMIT: "limit", STOP: "stop", STOP_LIMIT: "stop_limit", TRAILING_STOP: "trailing_stop",
};
const TIF: Record<TimeInForce, string> = { DAY: "day", GTC: "gtc", IOC: "ioc", FOK: "fok" };
const TIF_BACK: Record<string, TimeInForce> = { day: "DAY", gtc: "GTC", ioc: "IOC", fok: "FOK" };

/** A request body for Alpaca: decimals as strings, an oco's exits as nested objects. */
export type AlpacaBody = Record<string, string | Record<string, string>>;

/** The body of POST /v2/orders for a fillwire order, or why Alpaca would not take it. */
export type AlpacaRequest = { body: AlpacaBody } | { refusal: string };

export function toAlpacaRequest(order: VenueOrder): AlpacaRequest {
  const refusal = refusalOf(order.orderType, order.timeInForce, order.key);
  if (refusal) return { refusal };
  const body: AlpacaBody = {
    symbol: order.symbol, qty: String(order.quantity), side: order.side === "BUY" ? "buy" : "sell",
    type: TYPE[order.orderType], time_in_force: TIF[order.timeInForce], client_order_id: order.key,
  };
  if (order.limitCents !== null && (order.orderType === "LIMIT" || order.orderType === "STOP_LIMIT")) body.limit_price = centsToDecimal(order.limitCents);
  if (order.stopCents !== null && (order.orderType === "STOP" || order.orderType === "STOP_LIMIT")) body.stop_price = centsToDecimal(order.stopCents);
  if (order.orderType === "TRAILING_STOP") Object.assign(body, trailFields(order.trailCents ?? null, order.trailBp ?? null));
  return { body };
}

// ------------------------------------------------------------------------- one-cancels-other pairs

/**
 * What an exit is in the Alpaca `oco` order that carries its pair (Alpaca blog "OCO & OTO Orders Are Now
 * Available", https://alpaca.markets/blog/oco-oto/): "carrier" for the LIMIT take-profit (the oco's own order,
 * under its client_order_id), "rider" for the STOP or STOP_LIMIT stop-loss (Alpaca's leg of it, with an id
 * Alpaca makes; also when its take-profit has ended since, which may have carried it already), null when the
 * pair cannot be one oco (no peer, a take-profit whose stop-loss has ended, a trailing stop, sides, quantities
 * or times in force that differ, or a time in force other than day and gtc): then each goes as a simple order.
 */
export function ocoRole(order: VenueOrder): "carrier" | "rider" | null {
  const peer = order.ocoPeer;
  if (!peer || peer.side !== order.side || peer.quantity !== order.quantity || peer.timeInForce !== order.timeInForce) return null;
  if (order.timeInForce !== "DAY" && order.timeInForce !== "GTC") return null;
  const isStop = (t: OrderType) => t === "STOP" || t === "STOP_LIMIT";
  if (order.orderType === "LIMIT" && isStop(peer.orderType)) return peer.live ? "carrier" : null;
  if (isStop(order.orderType) && peer.orderType === "LIMIT") return "rider";
  return null;
}

/**
 * POST /v2/orders for a take-profit that carries its stop-loss peer: one order of class `oco` (type limit,
 * take_profit.limit_price; stop_loss.stop_price and, for a STOP_LIMIT, stop_loss.limit_price). Alpaca holds
 * the pair: the stop-loss stays "held" until its stop is reached, which cancels the take-profit, and a trade
 * of the take-profit cancels the stop-loss; so the two never both trade.
 */
export function toOcoRequest(carrier: VenueOrder): AlpacaRequest {
  const peer = carrier.ocoPeer;
  if (!peer || carrier.limitCents === null || peer.stopCents === null) return { refusal: "Not an oco pair: a take-profit limit and a stop-loss stop are needed" };
  const refusal = refusalOf(carrier.orderType, carrier.timeInForce, carrier.key);
  if (refusal) return { refusal };
  const stopLoss: Record<string, string> = { stop_price: centsToDecimal(peer.stopCents) };
  if (peer.orderType === "STOP_LIMIT" && peer.limitCents !== null) stopLoss.limit_price = centsToDecimal(peer.limitCents);
  return {
    body: {
      symbol: carrier.symbol, qty: String(carrier.quantity), side: carrier.side === "BUY" ? "buy" : "sell", type: "limit",
      time_in_force: TIF[carrier.timeInForce], client_order_id: carrier.key, order_class: "oco",
      take_profit: { limit_price: centsToDecimal(carrier.limitCents) }, stop_loss: stopLoss,
    },
  };
}

/**
 * Alpaca's documented limits (https://alpaca.markets/docs/trading/orders/): a trailing stop takes only
 * day or gtc; a client_order_id is at most 48 characters.
 */
function refusalOf(type: OrderType, tif: TimeInForce, key: string): string | null {
  if (type === "TRAILING_STOP" && tif !== "DAY" && tif !== "GTC") return `Alpaca takes a TRAILING_STOP only with time_in_force DAY or GTC, not ${tif}; not sent`;
  if (key.length > MAX_CLIENT_ORDER_ID) return `Order id ${key} is longer than Alpaca's ${MAX_CLIENT_ORDER_ID}-character client_order_id; not sent`;
  return null;
}

function trailFields(cents: number | null, bp: number | null): Record<string, string> {
  if (cents !== null) return { trail_price: centsToDecimal(cents) };
  return { trail_percent: bpToPercent(bp ?? 0) };
}

/**
 * The body of PATCH /v2/orders/{id} for an amend. Alpaca's replacement is a new order for `qty` shares on
 * top of what the old one filled (alpacahq/Alpaca-API#165), so qty is what is left: the amended total less
 * everything filled so far. Its client_order_id carries the amend's seq, so a lookup tells whether it applied.
 */
export function toReplaceRequest(orderId: string, type: OrderType, amend: VenueAmend, filled: number, current: Pick<AlpacaOrder, "trail_price">): AlpacaRequest {
  const remaining = amend.quantity - filled;
  if (remaining < 1) return { refusal: `Amend to ${amend.quantity} shares: ${filled} are already filled at Alpaca` };
  if (type === "TRAILING_STOP" && amend.timeInForce !== "DAY" && amend.timeInForce !== "GTC") return { refusal: "Alpaca takes a TRAILING_STOP only with DAY or GTC" };
  const body: AlpacaBody = { qty: String(remaining), time_in_force: TIF[amend.timeInForce], client_order_id: clientOrderId(orderId, amend.seq) };
  if (amend.limitCents !== null && (type === "LIMIT" || type === "STOP_LIMIT")) body.limit_price = centsToDecimal(amend.limitCents);
  if (amend.stopCents !== null && (type === "STOP" || type === "STOP_LIMIT")) body.stop_price = centsToDecimal(amend.stopCents);
  if (type === "TRAILING_STOP") {
    // PATCH takes `trail`, the new value of whichever of trail_price/trail_percent the order has; it cannot switch.
    const byPrice = current.trail_price !== null;
    if (byPrice && amend.trailCents != null) body.trail = centsToDecimal(amend.trailCents);
    else if (!byPrice && amend.trailBp != null) body.trail = bpToPercent(amend.trailBp);
    else return { refusal: "Alpaca cannot switch a trailing stop between trail_price and trail_percent" };
  }
  return { body };
}

/** Alpaca's order `type` as fillwire's order type. */
export function orderTypeOf(type: string | undefined): OrderType {
  const found = (Object.entries(TYPE) as [OrderType, string][]).find(([, alpaca]) => alpaca === type);
  return found ? found[0] : "MARKET";
}

// ------------------------------------------------------------------------- client_order_id

/** The fillwire order id for the original order; `<id>-a<seq>` for the replacement made by amend `seq`. */
export function clientOrderId(orderId: string, seq: number): string {
  return seq > 0 ? `${orderId}-a${seq}` : orderId;
}

export function parseClientOrderId(value: string): { orderId: string; seq: number } {
  const m = /^(.+)-a(\d+)$/.exec(value);
  return m ? { orderId: m[1]!, seq: Number(m[2]) } : { orderId: value, seq: 0 };
}

// ------------------------------------------------------------------------- statuses and terms

/**
 * Alpaca's order statuses (https://alpaca.markets/docs/trading/orders/#order-lifecycle) as venue states.
 * `replaced` is not an end for fillwire: the order goes on as its replacement.
 */
export function venueStateOf(status: string): VenueState {
  switch (status) {
    case "filled":
      return "FILLED";
    case "canceled":
      return "CANCELLED";
    case "expired":
      return "EXPIRED";
    case "rejected":
      return "REJECTED";
    default:
      return "WORKING"; // new, accepted, pending_new, partially_filled, done_for_day, pending_cancel, replaced...
  }
}

/** Statuses after which Alpaca changes the order no more (a replaced order's fills are final too). */
export function isClosedStatus(status: string): boolean {
  return ["filled", "canceled", "expired", "rejected", "replaced"].includes(status);
}

/** The terms an Alpaca order works on, as fillwire's (quantity is the fillwire total, given by the caller). */
export function termsOf(order: AlpacaOrder, quantity: number, amendSeq: number): VenueTerms {
  const terms: VenueTerms = {
    amendSeq, quantity, limitCents: decimalToCentsOrNull(order.limit_price), stopCents: decimalToCentsOrNull(order.stop_price),
    timeInForce: TIF_BACK[order.time_in_force] ?? "DAY",
  };
  if ((order.type ?? order.order_type) === "trailing_stop") {
    terms.trailCents = decimalToCentsOrNull(order.trail_price);
    terms.trailBp = order.trail_percent === null ? null : Math.round(Number(order.trail_percent) * 100);
    terms.hwmCents = decimalToCentsOrNull(order.hwm);
  }
  return terms;
}

// ------------------------------------------------------------------------- numbers

/** "150.05" → 15005, exactly (no float arithmetic); sub-cent prices round half up to the cent. */
export function decimalToCents(value: string): number {
  const m = /^(-?)(\d*)(?:\.(\d*))?$/.exec(value.trim());
  if (!m) throw new Error(`not a decimal: ${JSON.stringify(value)}`);
  const [, sign, whole = "", fraction = ""] = m;
  const digits = (fraction + "000").slice(0, 3);
  const thousandths = Number(whole || "0") * 1000 + Number(digits);
  const cents = Math.floor((thousandths + 5) / 10);
  return sign === "-" ? -cents : cents;
}

export function decimalToCentsOrNull(value: string | null): number | null {
  return value === null ? null : decimalToCents(value);
}

/** 15005 → "150.05" */
export function centsToDecimal(cents: number): string {
  const abs = Math.abs(cents);
  return `${cents < 0 ? "-" : ""}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, "0")}`;
}

/** A whole number of shares from Alpaca's decimal string ("100" or "100.0"); fractions are refused. */
export function decimalToShares(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || Math.abs(n - Math.round(n)) > 1e-9) throw new Error(`not a whole number of shares: ${JSON.stringify(value)}`);
  return Math.round(n);
}

/** 250 basis points → "2.5" (trail_percent). */
export function bpToPercent(bp: number): string {
  return String(bp / 100);
}
