// When the page reads its trailing stops again. A trailing stop's mark (hwm) and stop move with the price
// at the venue, and the desk sends no event for that: the page reads its working orders again after a
// price it shows has moved, on that refresh and the next (the desk hears the venue a moment after the
// price moves), and while a trailing stop has no mark yet (just placed). No DOM here: test/web runs it.
import type { BlotterState, OrderView } from "./blotter";

/** Instrument refreshes, after a price move, on which the trailing stops of that symbol are read again. */
export const TRAIL_READS_AFTER_MOVE = 2;

export interface TrailWatch {
  /** The last price seen per symbol. */
  prices: Readonly<Record<string, number>>;
  /** Refreshes left on which that symbol's trailing stops are read again. */
  left: Readonly<Record<string, number>>;
}

/** Trailing stops that still trail: working, not triggered (PENDING). */
export function trailingStops(state: BlotterState): OrderView[] {
  return state.ids.map((id) => state.orders[id]!).filter((o) => o.order_type === "TRAILING_STOP" && o.status === "PENDING" && !o.triggered);
}

/** After an instrument refresh: the watch to keep, and whether to read the working orders again now. */
export function planTrailingRead(
  watch: TrailWatch | null,
  instruments: readonly { symbol: string; price: number }[],
  state: BlotterState,
): { watch: TrailWatch; read: boolean } {
  const prices: Record<string, number> = {};
  const left: Record<string, number> = {};
  for (const { symbol, price } of instruments) {
    prices[symbol] = price;
    const before = watch?.prices[symbol];
    const moved = before !== undefined && before !== price;
    const remaining = moved ? TRAIL_READS_AFTER_MOVE : Math.max(0, (watch?.left[symbol] ?? 0) - 1);
    if (remaining > 0) left[symbol] = remaining;
  }
  const read = trailingStops(state).some((o) => o.hwm === null || (left[o.symbol] ?? 0) > 0);
  return { watch: { prices, left }, read };
}
