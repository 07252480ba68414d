// Before anything is measured: a few seconds of orders and health checks, so the first phase does not
// pay for compiling the Worker's code paths and opening the venue books.
import { FINAL_EVENTS, openTraders } from "../clients.ts";
import { orderIdOf } from "../flow.ts";
import { inBatches } from "../http.ts";
import { closedLoop } from "../loops.ts";
import { BENCH_SYMBOLS, type BenchContext } from "../setup.ts";
import { health } from "./floor.ts";

const WORKERS = 4;
const SECONDS = 3;

export async function warmUp(ctx: BenchContext): Promise<void> {
  ctx.log(`warm-up: ${WORKERS} traders and health checks for ${SECONDS} s (not measured)`);
  const traders = await openTraders(ctx.http, ctx.adminToken, `${ctx.runId}-warm`, WORKERS, BENCH_SYMBOLS);
  await inBatches(traders, WORKERS, (t) => t.addSocket(ctx.server.url));
  await closedLoop(WORKERS * 2, SECONDS * 1000, async (w) => {
    if (w >= WORKERS) return health(ctx);
    const t = traders[w]!;
    const res = await ctx.http.send("POST", "/api/v1/orders", { token: t.token, body: { symbol: t.symbol, side: "BUY", quantity: 1, order_type: "MARKET" } });
    const id = res.status === 201 ? orderIdOf(res.text) : null;
    if (id) await t.primary.waitFor(id, FINAL_EVENTS, 5_000);
    return 0;
  });
  for (const t of traders) t.closeSockets();
}
