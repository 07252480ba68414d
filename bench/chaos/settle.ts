// The end of the drill: wait until no order changes any more (retries done, venue reports delivered),
// then cancel every order still working and wait again. The orders as they stood when the desks first went
// quiet, before those cancels, are kept: a leg still working then must have had a reason to.
import { FINAL, type Api, type Order } from "./api.ts";
import { inBatches } from "../http.ts";
import type { DrillTrader } from "./load.ts";

const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms));

export interface SettleFigures {
  /** How long the desks took to go quiet after the last order, and after the final cancels. */
  quietAfterLoadMs: number;
  quietAfterCancelMs: number;
  /** False when orders were still changing at a deadline (3 minutes after the flow, 2 after the cancels). */
  quiet: boolean;
  /** Orders still working at the end of the flow, cancelled by the drill. */
  workingAtEnd: number;
  cancelRounds: number;
  cancelAnswers: Record<string, number>;
  /** Left working after every round (must be 0). */
  workingLeft: number;
}

export type OrdersByTrader = Map<string, Order[]>;

async function allOrders(api: Api, traders: readonly DrillTrader[]): Promise<OrdersByTrader> {
  const out: OrdersByTrader = new Map();
  await inBatches(traders, 8, async (t) => void out.set(t.id, await api.orders(t.token)));
  return out;
}

/** Every order's status, fill and last change, in a fixed order (the polls answer in any order). */
const signature = (orders: OrdersByTrader) =>
  [...orders.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([id, list]) => `${id}:${list.map((o) => `${o.id}/${o.status}/${o.filled_quantity}/${o.updated_at}`).join(",")}`).join("|");

/** Polls every trader's orders until nothing changed for `stableMs` (or `deadlineMs` passed). */
export async function waitQuiet(api: Api, traders: readonly DrillTrader[], stableMs: number, deadlineMs: number): Promise<{ ms: number; orders: OrdersByTrader; quiet: boolean }> {
  const start = Date.now();
  let orders = await allOrders(api, traders);
  let last = signature(orders);
  let stableSince = Date.now();
  while (Date.now() - start < deadlineMs) {
    await sleep(1000);
    orders = await allOrders(api, traders);
    const now = signature(orders);
    if (now !== last) {
      last = now;
      stableSince = Date.now();
    } else if (Date.now() - stableSince >= stableMs) {
      return { ms: Date.now() - start - stableMs, orders, quiet: true };
    }
  }
  return { ms: Date.now() - start, orders, quiet: false };
}

const working = (orders: OrdersByTrader) => [...orders.entries()].flatMap(([trader, list]) => list.filter((o) => !FINAL.has(o.status)).map((o) => ({ trader, order: o })));

/** Cancels every working order, in rounds, until none is left; then waits for quiet again. */
export async function settle(
  api: Api,
  traders: readonly DrillTrader[],
  log: (line: string) => void,
): Promise<{ figures: SettleFigures; orders: OrdersByTrader; atQuiet: OrdersByTrader; cancelSent: Map<string, number> }> {
  const first = await waitQuiet(api, traders, 5000, 180_000);
  log(`desks quiet ${Math.round(first.ms / 1000)} s after the last order${first.quiet ? "" : " (deadline reached: still changing)"}`);
  const tokenOf = new Map(traders.map((t) => [t.id, t.token]));
  const answers: Record<string, number> = {};
  const cancelSent = new Map<string, number>(); // order id -> Date.now() of its first final cancel
  const workingAtEnd = working(first.orders).length;
  let orders = first.orders;
  let rounds = 0;
  let quietAfterCancelMs = 0;
  let quiet = first.quiet;
  while (working(orders).length > 0 && rounds < 5) {
    rounds++;
    const todo = working(orders);
    log(`cancelling ${todo.length} working order(s), round ${rounds}`);
    await inBatches(todo, 8, async ({ trader, order }) => {
      let label = "network";
      if (!cancelSent.has(order.id)) cancelSent.set(order.id, Date.now());
      try {
        const res = await api.http.send("POST", `/api/v1/orders/${order.id}/cancel`, { token: tokenOf.get(trader)!, timeoutMs: 15_000 });
        label = String(res.status);
      } catch {
        // counted as "network"; the next round tries again
      }
      answers[label] = (answers[label] ?? 0) + 1;
    });
    const after = await waitQuiet(api, traders, 3000, 120_000);
    quietAfterCancelMs += after.ms;
    quiet &&= after.quiet;
    orders = after.orders;
  }
  const figures = { quietAfterLoadMs: first.ms, quietAfterCancelMs, quiet, workingAtEnd, cancelRounds: rounds, cancelAnswers: answers, workingLeft: working(orders).length };
  return { figures, orders, atQuiet: first.orders, cancelSent };
}
