// mix: the open loop with 20% LIMIT orders that rest at the venue and are cancelled (half of them amended
// first: price, quantity or both, cycling), and 10% TEST_PARTIAL market orders that fill in two slices
// (50 @ 150.00, 50 @ 150.05); the rest plain MARKET orders.
import { openTraders, type Trader } from "../clients.ts";
import { runOrderFlow, type FlowOutcome, type OrderPlan } from "../flow.ts";
import { inBatches } from "../http.ts";
import { BENCH_PRICE, BENCH_SYMBOLS, PARTIAL_SYMBOL, type BenchContext } from "../setup.ts";

/** How long a LIMIT order rests before its cancel (after its amend's answer, when amended). */
const REST_MS = 200;
/** An amended LIMIT order is amended this long after its 201 at the earliest, once order.accepted says it rests. */
const AMEND_AFTER_MS = 100;
const cents = (pct: number) => Math.round(BENCH_PRICE * pct) / 100;
/** 5% under the reference price: inside the 10% band, below the market, so the order rests. */
const LIMIT_PRICE = cents(95);
/** The amends, in turn: a new price (loses its place), a higher quantity (loses it too), both. All stay under the market. */
const AMENDS: readonly Record<string, number>[] = [{ price: cents(94) }, { quantity: 2 }, { price: cents(96), quantity: 3 }];

/** Every run of ten consecutive orders of a trader holds 2 LIMIT (one of them amended), 1 TEST_PARTIAL and 7 MARKET. */
export function mixPlan(trader: Trader, n: number, offset: number): OrderPlan {
  const slot = (n + offset) % 10;
  if (slot === 3 || slot === 8) {
    const body = { symbol: trader.symbol, side: "BUY", quantity: 1, order_type: "LIMIT", price: LIMIT_PRICE };
    if (slot === 3) return { kind: "limit", cancelAfterMs: REST_MS, body };
    const changes = AMENDS[Math.floor((n + offset) / 10) % AMENDS.length]!;
    return { kind: "amended", cancelAfterMs: REST_MS, amend: { afterMs: AMEND_AFTER_MS, changes }, body };
  }
  if (slot === 6) return { kind: "partial", body: { symbol: PARTIAL_SYMBOL, side: "BUY", quantity: 100, order_type: "MARKET" } };
  return { kind: "market", body: { symbol: trader.symbol, side: "BUY", quantity: 1, order_type: "MARKET" } };
}

export async function runMix(ctx: BenchContext): Promise<FlowOutcome> {
  const { traders: n, rate, durationS } = ctx.options;
  ctx.log(`mix: ${n} traders x ${rate} order/s for ${durationS} s (10% limit+cancel, 10% limit+amend+cancel, 10% ${PARTIAL_SYMBOL})`);
  const traders = await openTraders(ctx.http, ctx.adminToken, `${ctx.runId}-mix`, n, BENCH_SYMBOLS);
  await inBatches(traders, 16, (t) => t.addSocket(ctx.server.url));
  const offsets = new Map(traders.map((t, i) => [t, i % 10]));
  try {
    return await runOrderFlow({
      http: ctx.http, url: ctx.server.url, traders, rate, durationS, workerdPids: ctx.server.workerdPids,
      plan: (t, k) => mixPlan(t, k, offsets.get(t) ?? 0),
    });
  } finally {
    for (const t of traders) t.closeSockets();
  }
}
