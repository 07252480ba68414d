// wsorders: the open loop (N traders x rate market orders/s, as in `open`) with the orders sent as
// `submit` commands on each trader's own socket, beside the same load over HTTP, in the same run.
// The two halves run back to back, each with the whole load and its own fresh traders (one socket each,
// which hears the events in both halves), so each half is the `open` phase for its door, and workerd's CPU
// per order is measured per door (interleaving the doors would share one CPU figure between them).
// Which half goes first is a flag (--wsorders-first), so runs can alternate it against drift.
import { FINAL_EVENTS, openTraders, type Trader } from "../clients.ts";
import { httpDoor, runOrderFlow, socketDoor, type Door, type DoorName, type FlowFigures } from "../flow.ts";
import { inBatches } from "../http.ts";
import { closedLoop } from "../loops.ts";
import { BENCH_SYMBOLS, type BenchContext } from "../setup.ts";
import { round } from "../stats.ts";

export interface WsOrdersFigures {
  /** The half that ran first. */
  first: DoorName;
  http: FlowFigures;
  socket: FlowFigures;
  /** socket ÷ HTTP for each figure: below 1, the socket is faster (or cheaper). */
  ratio: {
    /** submit → ack over submit → 201. */
    answerP50: number;
    answerP99: number;
    /** submit → order.filled, socket door over HTTP door. */
    filledP50: number;
    filledP99: number;
    /** workerd CPU per order. */
    cpuPerOrder: number | null;
  };
}

const WARM_TRADERS = 4;
const WARM_SECONDS = 2;

const marketOrder = (t: Trader) => ({ kind: "market" as const, body: { symbol: t.symbol, side: "BUY", quantity: 1, order_type: "MARKET" } });

/** A few seconds of socket orders before anything is measured: the warm-up (phases/warmup.ts) runs only the HTTP path. */
async function warmSocketPath(ctx: BenchContext): Promise<void> {
  const traders = await openTraders(ctx.http, ctx.adminToken, `${ctx.runId}-wsw`, WARM_TRADERS, BENCH_SYMBOLS);
  await inBatches(traders, WARM_TRADERS, (t) => t.addSocket(ctx.server.url));
  const door = socketDoor();
  await closedLoop(WARM_TRADERS, WARM_SECONDS * 1000, async (w) => {
    const t = traders[w]!;
    const a = await door.submit(t, marketOrder(t).body);
    if (a.orderId) await t.primary.waitFor(a.orderId, FINAL_EVENTS, 5_000);
    return 0;
  });
  for (const t of traders) t.closeSockets();
}

async function half(ctx: BenchContext, door: Door): Promise<FlowFigures> {
  const { traders: n, rate, durationS } = ctx.options;
  ctx.log(`wsorders (${door.name}): ${n} traders x ${rate} market order/s for ${durationS} s, orders ${door.name === "socket" ? "as submit commands on each trader's socket" : "POSTed over HTTP"}`);
  const traders = await openTraders(ctx.http, ctx.adminToken, `${ctx.runId}-ws${door.name === "socket" ? "s" : "h"}`, n, BENCH_SYMBOLS);
  await inBatches(traders, 16, (t) => t.addSocket(ctx.server.url));
  try {
    const { figures } = await runOrderFlow({
      door, http: ctx.http, url: ctx.server.url, traders, rate, durationS, workerdPids: ctx.server.workerdPids, plan: marketOrder,
    });
    ctx.log(
      `wsorders (${door.name}): answer p50 ${figures.submitTo201.p50} p99 ${figures.submitTo201.p99} ms; ` +
        `filled p50 ${figures.submitToFilled.p50} p99 ${figures.submitToFilled.p99} ms; ${figures.accepted}/${figures.submitted} accepted; ` +
        `workerd ${figures.workerdCpuMsPerOrder ?? "?"} ms CPU/order`,
    );
    return figures;
  } finally {
    for (const t of traders) t.closeSockets();
  }
}

export async function runWsOrders(ctx: BenchContext, first: DoorName): Promise<WsOrdersFigures> {
  await warmSocketPath(ctx);
  const doors = first === "socket" ? [socketDoor(), httpDoor(ctx.http)] : [httpDoor(ctx.http), socketDoor()];
  const out: Partial<Record<DoorName, FlowFigures>> = {};
  for (const [i, door] of doors.entries()) {
    if (i > 0) await new Promise((ok) => setTimeout(ok, 1_000)); // let outbox flushes settle between halves
    out[door.name] = await half(ctx, door);
  }
  const http = out.http!;
  const socket = out.socket!;
  const ratio = (a: number, b: number) => (b > 0 ? round(a / b) : 0);
  return {
    first,
    http,
    socket,
    ratio: {
      answerP50: ratio(socket.submitTo201.p50, http.submitTo201.p50),
      answerP99: ratio(socket.submitTo201.p99, http.submitTo201.p99),
      filledP50: ratio(socket.submitToFilled.p50, http.submitToFilled.p50),
      filledP99: ratio(socket.submitToFilled.p99, http.submitToFilled.p99),
      cpuPerOrder: socket.workerdCpuMsPerOrder && http.workerdCpuMsPerOrder ? ratio(socket.workerdCpuMsPerOrder, http.workerdCpuMsPerOrder) : null,
    },
  };
}
