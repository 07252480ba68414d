// The rules an order's prices obey whatever their type (SPEC, "Order semantics a broker is held to"):
// prices sit on the instrument's tick, compared in integer cents (never a float `%`, after the client's
// float noise such as 149.95000000000002 was rounded to cents by toCents), and a stop sits on the side of
// the price it triggers from. Plain TypeScript: the desk's risk check and the page's ticket share it.
import { fail, type Failure } from "./errors";
import { formatUsd, toDollars } from "./money";

/** True when `cents` is a whole number of ticks of `tickCents` (both integer cents). */
export function isOnTick(cents: number, tickCents: number): boolean {
  return tickCents <= 1 || cents % tickCents === 0;
}

/** The valid prices (cents) around `cents`: the tick at or below it and the one above; below one tick, that tick twice. */
export function nearestValid(cents: number, tickCents: number): [number, number] {
  if (cents <= tickCents) return [tickCents, tickCents];
  const below = Math.floor(cents / tickCents) * tickCents;
  return [below, below === cents ? below : below + tickCents];
}

/**
 * null when `cents` (the request's `field`) is on the tick, else 400 VALIDATION_ERROR naming the field,
 * with details.tick_size and details.nearest_valid (dollars).
 */
export function checkTick(field: string, cents: number, tickCents: number, symbol: string): Failure | null {
  if (isOnTick(cents, tickCents)) return null;
  const [below, above] = nearestValid(cents, tickCents);
  const message = `${field} ${formatUsd(cents)} is not on ${symbol}'s tick of ${formatUsd(tickCents)}; the nearest valid prices are ${formatUsd(below)} and ${formatUsd(above)}`;
  return fail("VALIDATION_ERROR", `Invalid request: ${message}`, {
    fields: { [field]: message }, tick_size: toDollars(tickCents), nearest_valid: [toDollars(below), toDollars(above)],
  });
}

/**
 * null when a stop at `stopCents` is on the right side of the reference price `refCents` (a BUY stop
 * above it, a SELL stop below it), else 400 VALIDATION_ERROR naming stop_price with details.reference_price.
 */
export function checkStopSide(side: "BUY" | "SELL", orderType: string, stopCents: number, refCents: number, symbol: string): Failure | null {
  const buy = side === "BUY";
  if (buy ? stopCents > refCents : stopCents < refCents) return null;
  const message =
    `stop_price ${formatUsd(stopCents)} must be ${buy ? "above" : "below"} ${symbol}'s reference price ${formatUsd(refCents)} ` +
    `for a ${side} ${orderType} (a ${buy ? "buy" : "sell"} stop triggers when the price ${buy ? "rises" : "falls"} to it)`;
  return fail("VALIDATION_ERROR", `Invalid request: ${message}`, { fields: { stop_price: message }, reference_price: toDollars(refCents) });
}

/**
 * The side of a contingent entry's exits (they close what it opened) and where each must stand from the
 * entry price (SPEC, "Trailing and contingent orders"): a BUY entry's SELL exits take profit above it and
 * stop the loss below; a SELL entry's BUY exits mirror that.
 */
export function exitRules(entrySide: "BUY" | "SELL"): { side: "BUY" | "SELL"; takeProfit: "above" | "below"; stopLoss: "above" | "below" } {
  return entrySide === "BUY" ? { side: "SELL", takeProfit: "above", stopLoss: "below" } : { side: "BUY", takeProfit: "below", stopLoss: "above" };
}
