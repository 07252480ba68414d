// The fake's market for one symbol: a price a test sets, `depth` shares at every tick away from it (the
// book does not deplete: each order walks it afresh). An order takes what its type and limit allow, one
// execution per price level; stops trigger when the price reaches them, trailing stops track their mark.
// Independent of fillwire's own matching on purpose: a fake that shared it would prove nothing.
import type { StoredOrder } from "./shapes";

export interface Book {
  priceCents: number;
  tickCents: number;
  depth: number;
}

export interface Slice {
  qty: number;
  priceCents: number;
}

export interface Outcome {
  slices: Slice[];
  /** What is left afterwards: rest (working), canceled (IOC/FOK remainder), or nothing (filled). */
  rest: "working" | "canceled" | "filled";
  triggered: boolean;
  hwmCents: number | null;
  stopCents: number | null;
}

const MAX_LEVELS = 10_000;

/** What `order` does at the book's price now. */
export function execute(book: Book, order: StoredOrder): Outcome {
  let { stop_cents: stop, hwm_cents: hwm } = order;
  const buy = order.side === "buy";
  if (order.type === "trailing_stop" && !order.triggered) {
    hwm = hwm === null ? book.priceCents : buy ? Math.min(hwm, book.priceCents) : Math.max(hwm, book.priceCents);
    const trail = order.trail_cents ?? Math.round((hwm * Number(order.trail_percent ?? "0")) / 100);
    stop = buy ? hwm + trail : Math.max(1, hwm - trail);
  }
  const isStop = order.type === "stop" || order.type === "stop_limit" || order.type === "trailing_stop";
  const triggered = order.triggered || (isStop && stop !== null && (buy ? book.priceCents >= stop : book.priceCents <= stop));
  const base = { triggered, hwmCents: hwm, stopCents: stop };
  if (isStop && !triggered) return { slices: [], rest: "working", ...base };

  const limit = order.type === "limit" || order.type === "stop_limit" ? order.limit_cents : null;
  const wanted = order.qty - order.filled_qty;
  const slices: Slice[] = [];
  let left = wanted;
  for (let level = 0; left > 0 && level < MAX_LEVELS; level++) {
    const price = buy ? book.priceCents + level * book.tickCents : book.priceCents - level * book.tickCents;
    if (price < 1) break;
    if (limit !== null && (buy ? price > limit : price < limit)) break;
    const qty = Math.min(left, book.depth);
    slices.push({ qty, priceCents: price });
    left -= qty;
  }
  if (order.time_in_force === "fok" && left > 0) return { slices: [], rest: "canceled", ...base };
  if (left === 0) return { slices, rest: "filled", ...base };
  return { slices, rest: order.time_in_force === "ioc" || order.time_in_force === "fok" ? "canceled" : "working", ...base };
}
