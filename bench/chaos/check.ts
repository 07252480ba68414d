// What every invariant of the drill is made of: the evidence it reads, a small tally that keeps counts and
// the first violations, and names shared by the checks.
import type { FinalState } from "./collect.ts";
import type { D1Snapshot } from "./d1.ts";
import type { FaultFigures } from "./faults.ts";
import type { AmendRecord, CancelAllRecord, CloseRecord, PriceMove, SubmitRecord } from "./load.ts";
import type { InstrumentSpec } from "./scenario.ts";
import type { OrdersByTrader, SettleFigures } from "./settle.ts";
import type { VenueName } from "./venue.ts";

export interface Invariant {
  id: string;
  title: string;
  ok: boolean;
  counts: Record<string, number>;
  /** The first violations (at most 20 kept), and how many there were in all. */
  failures: string[];
  failureCount: number;
}

export interface DrillEvidence {
  /**
   * The venue fillwire executed at. The invariants are the same at both; where the venue's documented
   * behaviour differs (a triggered BUY STOP at Alpaca is a market order, not bounded by its reserved cash:
   * docs/alpaca.md), a check reads it.
   */
  venue: VenueName;
  instruments: readonly InstrumentSpec[];
  state: FinalState;
  d1: D1Snapshot | null;
  d1Error: string | null;
  submits: readonly SubmitRecord[];
  settle: SettleFigures;
  /** Every trader's orders when the desks first went quiet after the flow, before the drill's final cancels. */
  ordersAtQuiet: OrdersByTrader;
  faults: FaultFigures;
  /** The admin's price moves, in the order they were made (one at a time). */
  moves: readonly PriceMove[];
  /** Per order, Date.now() when the drill first asked to cancel it (during the flow or in the final cancels). */
  cancelSentAt: ReadonlyMap<string, number>;
  /** The desk's PRICE_BAND_PCT: a BUY stop reserves its stop price plus this much. */
  bandPct: number;
  /** Every amend the drill sent, every cancel-all and every position close, with their answers. */
  amends: readonly AmendRecord[];
  cancelAlls: readonly CancelAllRecord[];
  closes: readonly CloseRecord[];
}

export class Check {
  readonly counts: Record<string, number> = {};
  readonly failures: string[] = [];
  failureCount = 0;
  readonly id: string;
  readonly title: string;
  constructor(id: string, title: string) {
    this.id = id;
    this.title = title;
  }
  add(key: string, n = 1): void {
    this.counts[key] = (this.counts[key] ?? 0) + n;
  }
  /** Keeps the largest `n` seen under `key` (a figure, not a sum). */
  most(key: string, n: number): void {
    this.counts[key] = Math.max(this.counts[key] ?? n, n);
  }
  fail(message: string): void {
    this.failureCount++;
    if (this.failures.length < 20) this.failures.push(message);
  }
  expect(ok: boolean, message: () => string): void {
    if (!ok) this.fail(message());
  }
  done(): Invariant {
    return { id: this.id, title: this.title, ok: this.failureCount === 0, counts: this.counts, failures: this.failures, failureCount: this.failureCount };
  }
}

export const FILL_EVENTS: ReadonlySet<string> = new Set(["order.partial", "order.filled"]);
/** The account after a change: under the trader's seq like the order events, but of no order and with no audit row. */
export const ACCOUNT_EVENT = "account.updated";
export const FINAL_EVENT: Record<string, string> = { FILLED: "order.filled", CANCELLED: "order.cancelled", REJECTED: "order.rejected", EXPIRED: "order.expired" };
export const TERMINAL_ACTIONS: ReadonlySet<string> = new Set(["FILLED", "CANCELLED", "REJECTED", "EXPIRED"]);
export const sum = (xs: readonly number[]) => xs.reduce((s, x) => s + x, 0);
export const allOrders = (s: FinalState) => s.traders.flatMap((t) => t.orders.map((o) => ({ trader: t, order: o })));

/**
 * fillwire's reason for an exit that Alpaca cancelled without fillwire asking: a pair of exits goes to Alpaca
 * as one `oco` order, and Alpaca ends one member when the other's stop is reached, when the other trades at
 * all, or when the other is cancelled.
 */
export const ALPACA_OCO_CANCEL = /^One-cancels-other at Alpaca:/;

/**
 * The other exits of `o`'s one-cancels-other group among `orders`: the other legs of its parent (a bracket's
 * take-profit and stop-loss), or for an oco, its take-profit (the parent) and its stop-loss (the leg).
 */
export function exitSiblings<T extends { id: string; parent_order_id?: string | null; order_class?: string }>(orders: readonly T[], o: T): T[] {
  const family = o.parent_order_id ?? o.id;
  return orders.filter((x) => x.id !== o.id && (x.parent_order_id === family || (x.id === family && x.order_class === "oco")));
}
