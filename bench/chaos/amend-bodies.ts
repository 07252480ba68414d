// The bodies of the drill's amends (PATCH /api/v1/orders/:id): a planned one moves a resting order's price or
// quantity from the terms the drill knows it to have; one racing an admin move takes the order out of the
// move's reach. Prices in integer cents, sent as dollars on the instrument's tick.
import { onTick, type AmendChange, type OrderBody } from "./scenario.ts";

/** Cents to the request's dollars: an integer number of cents, so always on a 1-cent tick. */
const dollars = (c: number) => c / 100;

/** An order's terms as the drill last knew them (its 201, then each amend answered 200). */
export interface KnownTerms {
  side: "BUY" | "SELL";
  orderType: OrderBody["order_type"];
  quantity: number;
  /** Cents, or null. */
  limitCents: number | null;
  stopCents: number | null;
}

export interface AmendBody {
  quantity?: number;
  price?: number;
  stop_price?: number;
}

/**
 * The body of a planned amend from the order's terms and the instrument's current price (cents). A price
 * moves by `size` x 1.5%, on the tick, by at least a tick; a stop stays on the side the price has yet to
 * reach, and a STOP_LIMIT's limit stays 1% beyond its stop. A quantity moves by `size` of it (at least one
 * share; down to no fewer than one). A change that cannot be made (a stop already against the price, one
 * share less than one) becomes a quantity change.
 */
export function amendBody(t: KnownTerms, change: AmendChange, size: number, priceCents: number, tickCents: number): AmendBody {
  const quantity = (up: boolean): AmendBody => {
    const by = Math.max(1, Math.round(t.quantity * size * (up ? 1 : 0.8)));
    return up || t.quantity === 1 ? { quantity: t.quantity + by } : { quantity: Math.max(1, t.quantity - by) };
  };
  if (change === "quantity-up" || change === "quantity-down") return quantity(change === "quantity-up");
  const sign = change === "price-up" ? 1 : -1;
  const move = (cents: number) => {
    const next = onTick(cents * (1 + sign * size * 0.015), tickCents);
    return next === cents ? cents + sign * tickCents : next;
  };
  if (t.orderType === "LIMIT") return t.limitCents === null ? quantity(true) : { price: dollars(move(t.limitCents)) };
  if (t.stopCents === null) return quantity(true);
  const towards = t.side === "BUY" ? 1 : -1;
  // A stop the price has already reached has triggered (its stop can no longer change): its limit, or its quantity.
  const reached = towards > 0 ? priceCents >= t.stopCents : priceCents <= t.stopCents;
  if (reached) return t.orderType === "STOP_LIMIT" && t.limitCents !== null ? { price: dollars(move(t.limitCents)) } : quantity(change === "price-up");
  let stop = move(t.stopCents);
  stop = towards > 0 ? Math.max(stop, priceCents + tickCents) : Math.min(stop, priceCents - tickCents);
  // Kept on the side the price has yet to reach, it must still have moved the way asked.
  if (stop <= 0 || Math.sign(stop - t.stopCents) !== sign) return quantity(change === "price-up");
  if (t.orderType === "STOP") return { stop_price: dollars(stop) };
  return { stop_price: dollars(stop), price: dollars(onTick(stop * (1 + towards * 0.01), tickCents)) };
}

/**
 * An amend sent while an admin move of the order's instrument from `fromCents` to `toCents` is on its way:
 * its price goes out of that move's reach (a BUY's limit or a SELL's stop below both prices, a SELL's limit
 * or a BUY's stop above them), so which of the two the venue applies first decides whether the move fills
 * it. Through a gap (more than 6%), where that would leave the band, it changes the quantity instead.
 */
export function racingAmendBody(t: KnownTerms, fromCents: number, toCents: number, size: number, up: boolean, tickCents: number): AmendBody {
  const f = 0.002 + size * 0.008;
  if (Math.abs(toCents / fromCents - 1) > 0.06) return amendBody(t, up ? "quantity-up" : "quantity-down", size, fromCents, tickCents);
  const below = (c: number) => onTick(Math.min(c, fromCents, toCents) * (1 - f), tickCents);
  const above = (c: number) => onTick(Math.max(c, fromCents, toCents) * (1 + f), tickCents);
  const buy = t.side === "BUY";
  if (t.orderType === "LIMIT") return t.limitCents === null ? amendBody(t, "quantity-up", size, fromCents, tickCents) : { price: dollars(buy ? below(t.limitCents) : above(t.limitCents)) };
  if (t.stopCents === null) return amendBody(t, "quantity-up", size, fromCents, tickCents);
  if (buy ? fromCents >= t.stopCents : fromCents <= t.stopCents) {
    // Already triggered: a STOP_LIMIT's limit goes out of reach instead, a STOP's quantity changes.
    if (t.orderType === "STOP_LIMIT" && t.limitCents !== null) return { price: dollars(buy ? below(t.limitCents) : above(t.limitCents)) };
    return amendBody(t, up ? "quantity-up" : "quantity-down", size, fromCents, tickCents);
  }
  const stop = buy ? above(t.stopCents) : below(t.stopCents);
  if (t.orderType === "STOP") return { stop_price: dollars(stop) };
  return { stop_price: dollars(stop), price: dollars(onTick(stop * (1 + (buy ? 1 : -1) * 0.01), tickCents)) };
}
