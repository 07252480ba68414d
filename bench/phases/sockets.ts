// sockets: many concurrent event sockets (default 1,000, dealt over the traders) held open while orders
// flow: every one connected, every event delivered to every one, and the workerd memory it costs.
import { openTraders } from "../clients.ts";
import { runOrderFlow, type FlowFigures } from "../flow.ts";
import { inBatches } from "../http.ts";
import { memoryOf } from "../server.ts";
import { BENCH_SYMBOLS, type BenchContext } from "../setup.ts";
import { round, summarize, tally, type Summary } from "../stats.ts";

export interface MemoryReading {
  processes: number;
  rssKb: number;
}

export interface SocketsFigures {
  traders: number;
  sockets: number;
  connected: number;
  connectFailures: Record<string, number>;
  /** Upgrade request → connection_acknowledged, per socket, with CONNECT_PARALLEL in flight. */
  connectTime: Summary;
  memory: { before: MemoryReading; connected: MemoryReading; afterFlow: MemoryReading; afterClose: MemoryReading; perSocketKb: number };
  flow: FlowFigures;
}

const CONNECT_PARALLEL = 32;

function workerdMemory(ctx: BenchContext): MemoryReading {
  const readings = ctx.server.workerdPids().flatMap((pid) => memoryOf(pid) ?? []);
  return { processes: readings.length, rssKb: readings.reduce((s, r) => s + r.rssKb, 0) };
}

export async function runSockets(ctx: BenchContext): Promise<SocketsFigures> {
  const total = ctx.options.sockets;
  const n = Math.min(ctx.options.traders, total);
  const { rate, durationS } = ctx.options;
  ctx.log(`sockets: ${total} sockets over ${n} traders, ${rate} market order/s per trader for ${durationS} s`);
  const traders = await openTraders(ctx.http, ctx.adminToken, `${ctx.runId}-sock`, n, BENCH_SYMBOLS);
  const before = workerdMemory(ctx);

  const times: number[] = [];
  const failures: string[] = [];
  const connectOne = async (i: number) => {
    const t0 = performance.now();
    try {
      await traders[i % n]!.addSocket(ctx.server.url);
      times.push(performance.now() - t0);
    } catch (err) {
      failures.push(err instanceof Error ? err.message : String(err));
    }
  };
  // Primaries first (they time the orders), then the rest, dealt round robin.
  const order = Array.from({ length: total }, (_, i) => i);
  await inBatches(order.slice(0, n), CONNECT_PARALLEL, connectOne);
  await inBatches(order.slice(n), CONNECT_PARALLEL, connectOne);
  const connected = times.length;
  await new Promise((ok) => setTimeout(ok, 1_000));
  const held = workerdMemory(ctx);
  ctx.log(`sockets: ${connected}/${total} connected; workerd RSS ${Math.round(before.rssKb / 1024)} → ${Math.round(held.rssKb / 1024)} MiB`);

  const ready = traders.filter((t) => t.sockets.length > 0);
  const { figures: flow } = await runOrderFlow({
    http: ctx.http, url: ctx.server.url, traders: ready, rate, durationS, workerdPids: ctx.server.workerdPids,
    plan: (t) => ({ kind: "market", body: { symbol: t.symbol, side: "BUY", quantity: 1, order_type: "MARKET" } }),
  });
  const afterFlow = workerdMemory(ctx);
  for (const t of traders) t.closeSockets();
  await new Promise((ok) => setTimeout(ok, 2_000));
  const afterClose = workerdMemory(ctx);
  return {
    traders: n,
    sockets: total,
    connected,
    connectFailures: tally(failures),
    connectTime: summarize(times),
    memory: { before, connected: held, afterFlow, afterClose, perSocketKb: connected > 0 ? round((held.rssKb - before.rssKb) / connected) : 0 },
    flow,
  };
}
