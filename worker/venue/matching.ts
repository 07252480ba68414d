// Pure matching for the simulated venue. The book does not deplete: every order walks it afresh from the
// reference price, `depth` shares at each level, one tick apart.
import type { OrderType, Side, TimeInForce } from "../shared/orders";

export interface Book {
  priceCents: number;
  tickCents: number;
  depth: number;
}

export interface Slice {
  quantity: number;
  priceCents: number;
}

export interface Executable {
  side: Side;
  orderType: OrderType;
  quantity: number;
  limitCents: number | null;
  stopCents: number | null;
  protectCents: number | null;
  maxCostCents: number | null;
  timeInForce: TimeInForce;
  /** Shares already filled and cents already spent on this order. */
  filled: number;
  spentCents: number;
  triggered: boolean;
}

export type MatchOutcome =
  | { kind: "rest"; slices: Slice[]; triggered: boolean }
  | { kind: "done"; slices: Slice[]; final: "FILLED" | "CANCELLED"; reason: string | null; triggered: boolean };

/** Does the reference price trigger a stop? A BUY stop triggers at or above, a SELL stop at or below. */
export function stopTriggered(side: Side, stopCents: number, priceCents: number): boolean {
  return side === "BUY" ? priceCents >= stopCents : priceCents <= stopCents;
}

/** The worst price this order may trade at now: its limit, or its market protection. */
function priceBound(o: Executable): number | null {
  if (o.orderType === "LIMIT" || o.orderType === "STOP_LIMIT") return o.limitCents;
  return o.protectCents;
}

/** Walk the book level by level for up to `quantity` shares, within a price bound and a spending cap. */
export function walkBook(book: Book, side: Side, quantity: number, bound: number | null, budgetCents: number | null): Slice[] {
  const slices: Slice[] = [];
  let remaining = quantity;
  let budget = budgetCents;
  for (let level = 0; remaining > 0; level++) {
    const price = side === "BUY" ? book.priceCents + level * book.tickCents : book.priceCents - level * book.tickCents;
    if (price <= 0) break;
    if (bound !== null && (side === "BUY" ? price > bound : price < bound)) break;
    let take = Math.min(book.depth, remaining);
    if (budget !== null) take = Math.min(take, Math.floor(budget / price));
    if (take <= 0) break;
    slices.push({ quantity: take, priceCents: price });
    remaining -= take;
    if (budget !== null) budget -= take * price;
    if (bound === null && level > 100_000) break; // an unbounded walk on a thin book ends somewhere
  }
  return slices;
}

/** Match an order against the book now: what trades, and whether the rest rests or ends. */
export function match(book: Book, o: Executable): MatchOutcome {
  let triggered = o.triggered;
  if (!triggered && (o.orderType === "STOP" || o.orderType === "STOP_LIMIT" || o.orderType === "TRAILING_STOP")) {
    if (o.stopCents === null || !stopTriggered(o.side, o.stopCents, book.priceCents)) {
      return { kind: "rest", slices: [], triggered: false };
    }
    triggered = true;
  }
  const remaining = o.quantity - o.filled;
  const budget = o.maxCostCents === null ? null : o.maxCostCents - o.spentCents;
  const slices = walkBook(book, o.side, remaining, priceBound(o), budget);
  const got = slices.reduce((n, s) => n + s.quantity, 0);

  if (o.timeInForce === "FOK" && got < remaining) {
    return { kind: "done", slices: [], final: "CANCELLED", reason: `FOK: only ${got} of ${remaining} shares available within the price; nothing traded`, triggered };
  }
  if (got === remaining) return { kind: "done", slices, final: "FILLED", reason: null, triggered };
  if (o.timeInForce === "IOC") {
    return { kind: "done", slices, final: "CANCELLED", reason: `IOC: ${remaining - got} unfilled shares cancelled`, triggered };
  }
  const marketLike = o.orderType === "MARKET" || o.orderType === "STOP" || o.orderType === "TRAILING_STOP";
  if (marketLike) {
    // A MARKET order is bounded by its protection band and, for a BUY, its reserved cash; a triggered STOP
    // by its reserved cash only (a SELL stop has no bound: the book always takes it).
    const short = remaining - got;
    const reason = o.protectCents === null
      ? `${short} shares could not fill within the cash reserved for this order; remainder cancelled`
      : `Market protection: ${short} shares could not fill ${budget !== null ? "within the reserved funds and price band" : "within the price band"}; remainder cancelled`;
    return { kind: "done", slices, final: "CANCELLED", reason, triggered };
  }
  return { kind: "rest", slices, triggered };
}
