// Pre-trade risk: pure checks over the request, the venue's quote and the trader's balances. It decides
// what the order reserves (cash for a BUY, shares for a SELL) and the market protection it carries.
import type { DeskConfig } from "../config";
import { fail, type Failure } from "../shared/errors";
import { formatUsd, toCents, toDollars } from "../shared/money";
import type { TradingState } from "../shared/account";
import type { OrderRequest, Side } from "../shared/orders";
import { checkStopSide, checkTick } from "../shared/price-rules";
import { isOpen, nextOpen } from "../venue/calendar";
import { trailingStop, type Trail } from "../venue/trailing";
import type { Quote } from "../venue/adapter";

export interface Balances {
  cashCents: number;
  reservedCents: number;
  /** Shares held in this symbol, and those already promised to working SELL orders. */
  heldQuantity: number;
  reservedQuantity: number;
}

export interface Approval {
  limitCents: number | null;
  stopCents: number | null;
  protectCents: number | null;
  maxCostCents: number | null;
  reservedCents: number;
  reservedQuantity: number;
  /** TRAILING_STOP: its trail (cents, or basis points of the mark); null otherwise. */
  trailCents: number | null;
  trailBp: number | null;
  /** TRAILING_STOP: the mark its stop was set from (the reference price, cents); null otherwise. */
  hwmCents: number | null;
}

type RiskConfig = Pick<DeskConfig, "priceBandPct" | "maxOrderQuantity" | "maxOrderNotionalCents">;

/**
 * The account's trading state (set by an admin): HALTED refuses new orders and amends with 403
 * TRADING_HALTED; REDUCE_ONLY refuses with 400 REDUCE_ONLY whatever could grow a position (with no short
 * selling, that is every BUY, and an amend of a BUY other than a smaller quantity). SPEC, "Order management".
 */
export function checkTradingState(state: TradingState, side: Side, what: "order" | "amend", grows = side === "BUY"): Failure | null {
  if (state === "HALTED") {
    return fail("TRADING_HALTED", `Trading is halted on this account: new orders and amends are refused (cancels still work)`, { trading_state: state });
  }
  if (state === "REDUCE_ONLY" && grows) {
    return fail("REDUCE_ONLY", `This account is reduce-only: ${what === "order" ? "a BUY order" : "this amend"} could grow a position; only orders that reduce one are accepted`, {
      trading_state: state, side,
    });
  }
  return null;
}

/**
 * With MARKET_HOURS=regular, an order that must trade now (MARKET, IOC, FOK) is refused outside the venue's
 * session with 400 MARKET_CLOSED and details.next_open; LIMIT and STOP orders are accepted and work from the
 * open (SPEC, "DAY follows the exchange's calendar").
 */
export function checkMarketHours(order: OrderRequest, nowMs: number, config: Pick<DeskConfig, "marketHours">): Failure | null {
  if (config.marketHours !== "regular") return null;
  const mustTradeNow = order.order_type === "MARKET" || order.time_in_force === "IOC" || order.time_in_force === "FOK";
  if (!mustTradeNow || isOpen(nowMs)) return null;
  const nextOpenAt = new Date(nextOpen(nowMs)).toISOString();
  return fail(
    "MARKET_CLOSED",
    `The market is closed: ${order.order_type === "MARKET" ? "a MARKET order" : `a ${order.time_in_force} order`} can only be placed during the session; it next opens at ${nextOpenAt} (a LIMIT or STOP order placed now works from the open)`,
    { next_open: nextOpenAt },
  );
}

/**
 * A price to judge an order by: 400 UNKNOWN_SYMBOL (null quote), 503 VENUE_UNAVAILABLE when the venue's
 * market data gave none just now (retry), 400 SYMBOL_NOT_TRADABLE when the instrument is halted; else null.
 */
export function checkQuote(symbol: string, quote: Quote | null): Failure | null {
  if (!quote) return fail("UNKNOWN_SYMBOL", `Unknown symbol ${symbol}: GET /api/v1/instruments lists the symbols you can trade`, { symbol });
  if (quote.unavailable) {
    return fail("VENUE_UNAVAILABLE", `No reference price for ${symbol} to check the order against: ${quote.unavailable}; nothing was placed, retry in a moment`, { symbol });
  }
  if (!quote.tradable) return fail("SYMBOL_NOT_TRADABLE", `${symbol} is not tradable right now`, { symbol });
  return null;
}

const NONE_KEPT: ReadonlySet<"price" | "stop_price"> = new Set();
const bandOf = (cents: number, pct: number) => Math.floor((cents * pct) / 100);

/**
 * The pre-trade checks of a new order (or of an amended one: `kept` names the prices an amend leaves as they
 * were, which the price rules do not judge again). Returns what the order reserves, or the failure.
 */
export function checkRisk(order: OrderRequest, quote: Quote | null, balances: Balances, config: RiskConfig, kept: ReadonlySet<"price" | "stop_price"> = NONE_KEPT): Approval | Failure {
  const unpriced = checkQuote(order.symbol, quote);
  if (unpriced || !quote) return unpriced!;
  if (order.quantity > config.maxOrderQuantity) {
    return fail("ORDER_TOO_LARGE", `Order of ${order.quantity} shares exceeds the maximum of ${config.maxOrderQuantity} shares per order`, {
      quantity: order.quantity, max_quantity: config.maxOrderQuantity,
    });
  }

  const ref = quote.priceCents;
  const band = bandOf(ref, config.priceBandPct);
  const limitCents = order.price === undefined ? null : toCents(order.price)!;
  // A TRAILING_STOP's trail sits on the tick too; its stop is derived from the price, so on the right side.
  const trail: Trail = { cents: order.trail_price === undefined ? null : toCents(order.trail_price)!, bp: order.trail_percent === undefined ? null : Math.round(order.trail_percent * 100) };
  const trailing = order.order_type === "TRAILING_STOP";
  if (trail.cents !== null && !kept.has("stop_price")) {
    const offTick = checkTick("trail_price", trail.cents, quote.tickCents, order.symbol);
    if (offTick) return offTick;
    // A SELL's stop is the mark less the trail: a trail of the whole price (or more) would stop at nothing.
    if (order.side === "SELL" && trail.cents >= ref) {
      const message = `trail_price ${formatUsd(trail.cents)} must be less than the ${order.symbol} price ${formatUsd(ref)}, or the stop would sit at $0.01`;
      return fail("VALIDATION_ERROR", `Invalid request: ${message}`, { fields: { trail_price: message }, reference_price: toDollars(ref) });
    }
  }
  const stopCents = trailing ? trailingStop(order.side, ref, trail, quote.tickCents) : order.stop_price === undefined ? null : toCents(order.stop_price)!;
  const judged = trailing ? new Set<"price" | "stop_price">([...kept, "stop_price"]) : kept;
  for (const [field, cents] of [["price", limitCents], ["stop_price", stopCents]] as const) {
    const offTick = cents === null || judged.has(field) ? null : checkTick(field, cents, quote.tickCents, order.symbol);
    if (offTick) return offTick;
  }
  if (stopCents !== null && !judged.has("stop_price")) {
    const wrongSide = checkStopSide(order.side, order.order_type, stopCents, ref, order.symbol);
    if (wrongSide) return wrongSide;
  }
  for (const [field, cents] of [["price", limitCents], ["stop_price", stopCents]] as const) {
    if (cents !== null && !judged.has(field) && Math.abs(cents - ref) > band) {
      return fail(
        "PRICE_OUT_OF_BAND",
        `${field} ${formatUsd(cents)} is more than ${config.priceBandPct}% away from the ${order.symbol} reference price ${formatUsd(ref)}; allowed ${formatUsd(ref - band)} to ${formatUsd(ref + band)}`,
        { field, price: toDollars(cents), reference_price: toDollars(ref), min_price: toDollars(ref - band), max_price: toDollars(ref + band) },
      );
    }
  }

  // The seed's rule: the limit price, else for a BUY stop the larger of its stop and the reference price
  // (SPEC, "Stops trigger on the right side"), else the reference price.
  const stopBase = stopCents === null ? null : order.side === "BUY" ? Math.max(stopCents, ref) : stopCents;
  const unitCents = limitCents ?? stopBase ?? ref;
  const estimateCents = order.quantity * unitCents;
  if (estimateCents > config.maxOrderNotionalCents) {
    return fail("ORDER_TOO_LARGE", `Order value ${formatUsd(estimateCents)} exceeds the maximum of ${formatUsd(config.maxOrderNotionalCents)} per order`, {
      order_value: toDollars(estimateCents), max_order_value: toDollars(config.maxOrderNotionalCents),
    });
  }

  // A MARKET order never trades more than the band away from the reference price (market protection). A
  // triggered STOP is a market order without that bound: a SELL takes the prices the book offers however far
  // it gapped, a BUY fills as far as its reserved cash goes (SPEC, "A triggered stop is a market order").
  const isMarket = order.order_type === "MARKET";
  const spendsReserve = isMarket || order.order_type === "STOP" || trailing;
  const protectCents = isMarket ? (order.side === "BUY" ? ref + band : Math.max(1, ref - band)) : null;
  const reserveUnit = (stopBase ?? ref) + bandOf(stopBase ?? ref, config.priceBandPct);

  if (order.side === "BUY") {
    const available = balances.cashCents - balances.reservedCents;
    if (estimateCents > available) {
      return fail("INSUFFICIENT_FUNDS", `Insufficient funds for ${formatUsd(estimateCents)} order; available: ${formatUsd(available)}`, {
        required_balance: toDollars(estimateCents), available_balance: toDollars(available),
      });
    }
    // A MARKET or STOP BUY reserves up to the band above its price when the cash is there, never less than
    // the estimate, and never spends more than it reserved.
    const reservedCents = spendsReserve ? Math.max(estimateCents, Math.min(available, order.quantity * reserveUnit)) : estimateCents;
    return { limitCents, stopCents, protectCents, maxCostCents: spendsReserve ? reservedCents : null, reservedCents, reservedQuantity: 0, trailCents: trail.cents, trailBp: trail.bp, hwmCents: trailing ? ref : null };
  }

  const availableShares = balances.heldQuantity - balances.reservedQuantity;
  if (order.quantity > availableShares) {
    return fail(
      "INSUFFICIENT_POSITION",
      `Insufficient position: selling ${order.quantity} ${order.symbol} but only ${availableShares} available (held ${balances.heldQuantity}, ${balances.reservedQuantity} promised to working orders)`,
      { requested_quantity: order.quantity, available_quantity: availableShares, held_quantity: balances.heldQuantity },
    );
  }
  return { limitCents, stopCents, protectCents, maxCostCents: null, reservedCents: 0, reservedQuantity: order.quantity, trailCents: trail.cents, trailBp: trail.bp, hwmCents: trailing ? ref : null };
}

