// open loop: N traders, each with a live socket, each submitting one MARKET order per period.
import { openTraders } from "../clients.ts";
import { runOrderFlow, type FlowOutcome } from "../flow.ts";
import { inBatches } from "../http.ts";
import { BENCH_SYMBOLS, type BenchContext } from "../setup.ts";

export async function runOpen(ctx: BenchContext): Promise<FlowOutcome> {
  const { traders: n, rate, durationS } = ctx.options;
  ctx.log(`open loop: ${n} traders x ${rate} market order/s for ${durationS} s`);
  const traders = await openTraders(ctx.http, ctx.adminToken, `${ctx.runId}-open`, n, BENCH_SYMBOLS);
  await inBatches(traders, 16, (t) => t.addSocket(ctx.server.url));
  try {
    return await runOrderFlow({
      http: ctx.http, url: ctx.server.url, traders, rate, durationS, workerdPids: ctx.server.workerdPids,
      plan: (t) => ({ kind: "market", body: { symbol: t.symbol, side: "BUY", quantity: 1, order_type: "MARKET" } }),
    });
  } finally {
    for (const t of traders) t.closeSockets();
  }
}
