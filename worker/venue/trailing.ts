// Trailing stops (SPEC, "Trailing and contingent orders"): a SELL tracks the highest reference price since
// it was accepted (its high-water mark) and its stop trails that mark by a fixed amount or a percent,
// rounded to the tick; a BUY mirrors it with the lowest price. Pure functions over integer cents.
import type { Side } from "../shared/orders";
import type { VenueOrder } from "./adapter";

/** A trail: `cents` (a fixed amount) or `bp` (basis points of the mark: 2.5% is 250); exactly one is set. */
export interface Trail {
  cents: number | null;
  bp: number | null;
}

/** The mark after a price: the higher of the two for a SELL, the lower for a BUY. */
export function nextMark(side: Side, markCents: number, priceCents: number): number {
  return side === "SELL" ? Math.max(markCents, priceCents) : Math.min(markCents, priceCents);
}

/**
 * Where the stop stands for a mark: mark - trail for a SELL, mark + trail for a BUY; a percent trail is
 * rounded to the nearest tick, and a SELL stop never below one tick.
 */
export function trailingStop(side: Side, markCents: number, trail: Trail, tickCents: number): number {
  const distance = trail.cents ?? Math.round((markCents * (trail.bp ?? 0)) / 10_000 / tickCents) * tickCents;
  return side === "SELL" ? Math.max(tickCents, markCents - distance) : markCents + distance;
}

/** A trailing stop after the price `priceCents`: its mark moves only in its favour, its stop trails the mark. */
export function withMark(order: VenueOrder, priceCents: number, tickCents: number): VenueOrder {
  const mark = order.hwmCents == null ? priceCents : nextMark(order.side, order.hwmCents, priceCents);
  const stopCents = trailingStop(order.side, mark, { cents: order.trailCents ?? null, bp: order.trailBp ?? null }, tickCents);
  return { ...order, hwmCents: mark, stopCents };
}

