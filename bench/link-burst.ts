// One burst through the Alpaca stream link: `fills` resting LIMIT BUY orders, dealt over the traders, on a
// symbol of the burst's own at the fake; then one price move at the fake fills them all at once (one
// execution each, on the trade_updates stream). Every fill passes through the account's one AlpacaLink
// on its way to its desk and the trader's socket. Timed from the fake's execution times (its clock is
// this machine's) to the order.filled frames the traders' primary sockets record, and from the burst's
// release (the fake's last execution: its frames leave when its loop ends) to the same frames.
import type { Trader } from "./clients.ts";
import { orderIdOf } from "./flow.ts";
import { errorCode, inBatches, type HttpClient } from "./http.ts";
import type { CpuShare, Profiler } from "./link-profile.ts";
import { cpuMeter, type CpuUse } from "./loops.ts";
import { round, summarize, type Summary } from "./stats.ts";

const ACCEPTED: ReadonlySet<string> = new Set(["order.accepted"]);
const FILLED: ReadonlySet<string> = new Set(["order.filled"]);
/** Resting at 99.00 under a price of 100.00; the move to 98.00 fills each in one execution. */
const PRICE = { rest: 100, limit: 99, move: 98 };
const SUBMIT_PARALLEL = 16;
const sleep = (ms: number) => new Promise<void>((ok) => setTimeout(ok, Math.max(0, ms)));

export interface LinkBurstContext {
  http: HttpClient;
  fakeUrl: string;
  adminToken: string;
  traders: readonly Trader[];
  deskPids(): number[];
  fakePids(): number[];
  /** When given, fillwire's isolate is profiled over each burst (the sampling itself costs it time). */
  profiler?: Profiler;
  log(line: string): void;
}

export interface LinkStatusSample {
  /** ms since the fake released the burst (its last execution; negative: before it). */
  t: number;
  fillsApplied: number;
  reportsOwed: number;
  /** Round trip of GET /api/v1/admin/venue (an RPC to the link, queued behind its work), ms. */
  rpcMs: number;
}

export interface BurstFigures {
  fills: number;
  traders: number;
  /** Placing the resting orders: submits answered and every order.accepted seen, in s, and orders/s. */
  placeS: number;
  placedPerS: number;
  /**
   * The fake: first to last execution of the burst, ms. It trades them in one loop of one Durable Object
   * event, and its frames leave only when that event ends (the link applies none before), so the link gets
   * the burst at once, at the last execution: "release" below.
   */
  emitSpanMs: number;
  /** Release → the link applied the burst's last stream message (its last_event_at), ms. */
  linkAppliedMs: number | null;
  /** Release → the last order.filled frame on the traders' sockets, ms. */
  deliveredMs: number;
  /** fills / deliveredMs: how fast the link and the desks drain a burst; the figure this bench is for. */
  fillsPerS: number;
  /** fills / (first execution → last order.filled): the same with the fake's own loop counted in. */
  fillsPerSFromFirstExecution: number;
  /** Per fill: release → its order.filled frame on the trader's socket, ms (queueing in the link and desks). */
  latency: Summary;
  /** Per fill: its own execution time at the fake → its order.filled frame, ms (the fake's loop counted in). */
  latencyFromExecution: Summary;
  /** Peak reports the link owed the desks while the burst drained. */
  peakOwed: number;
  /** GET /api/v1/admin/venue round trip during the burst (the link's queue), ms. */
  statusRpc: Summary;
  /** Cores busy on average from the price move to the last frame, and workerd CPU ms per fill. */
  cpu: { desk: CpuUse; fake: CpuUse; deskMsPerFill: number | null; fakeMsPerFill: number | null };
  /** With --profile: fillwire's isolate time per fill, the link's share and where it goes. */
  profile: CpuShare | null;
  /** Orders whose order.filled never arrived (within the timeout), and extra order.filled frames. */
  missing: number;
  duplicates: number;
  refusedSubmits: Record<string, number>;
  timeline: LinkStatusSample[];
}

interface Placed {
  trader: Trader;
  orderId: string;
}

async function fakePost(ctx: LinkBurstContext, path: string, body: unknown): Promise<void> {
  const res = await fetch(ctx.fakeUrl + path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  if (!res.ok) throw new Error(`fake ${path}: ${res.status} ${await res.text()}`);
  await res.arrayBuffer();
}

interface LinkCounts {
  fillsApplied: number;
  reportsOwed: number;
  working: number;
  /** When the link applied its latest stream message (ms since the epoch), or null. */
  lastEventAt: number | null;
}

/** The link's counters, through GET /api/v1/admin/venue (an RPC to the AlpacaLink). */
export async function linkCounts(ctx: Pick<LinkBurstContext, "http" | "adminToken">): Promise<LinkCounts> {
  const res = await ctx.http.send("GET", "/api/v1/admin/venue", { token: ctx.adminToken, timeoutMs: 60_000 });
  if (res.status !== 200) throw new Error(`GET /api/v1/admin/venue: ${res.status} ${res.text}`);
  const body = JSON.parse(res.text) as { exchange?: string; fills_applied?: number; reports_owed?: number; orders?: { working?: number }; stream?: { last_event_at?: string | null } };
  if (body.exchange !== "alpaca") throw new Error(`the desk does not run EXCHANGE=alpaca: ${res.text.slice(0, 200)}`);
  const last = body.stream?.last_event_at;
  return { fillsApplied: body.fills_applied ?? 0, reportsOwed: body.reports_owed ?? 0, working: body.orders?.working ?? 0, lastEventAt: last ? Date.parse(last) : null };
}

/** Waits until the link owes the desks nothing (the previous burst, or the placing, has drained). */
async function linkQuiet(ctx: LinkBurstContext, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if ((await linkCounts(ctx)).reportsOwed === 0) return;
    await sleep(200);
  }
  ctx.log(`link: reports still owed after ${timeoutMs / 1000} s; measuring anyway`);
}

/** Places `fills` resting orders on `symbol` and waits for every order.accepted; returns them. */
async function place(ctx: LinkBurstContext, symbol: string, fills: number, refused: string[]): Promise<Placed[]> {
  const slots = Array.from({ length: fills }, (_, i) => ctx.traders[i % ctx.traders.length]!);
  const placed = await inBatches(slots, SUBMIT_PARALLEL, async (trader): Promise<Placed | null> => {
    const body = { symbol, side: "BUY", quantity: 1, order_type: "LIMIT", price: PRICE.limit, time_in_force: "GTC" };
    const res = await ctx.http.send("POST", "/api/v1/orders", { token: trader.token, body, timeoutMs: 60_000 }).catch(() => null);
    const orderId = res?.status === 201 ? orderIdOf(res.text) : null;
    if (!orderId) {
      refused.push(res ? errorCode(res) : "network");
      return null;
    }
    return { trader, orderId };
  });
  const ok = placed.filter((p): p is Placed => p !== null);
  const resting = await Promise.all(ok.map(async (p) => ((await p.trader.primary.waitFor(p.orderId, ACCEPTED, 120_000)) ? p : null)));
  const rest = resting.filter((p): p is Placed => p !== null);
  if (rest.length < ok.length) ctx.log(`burst ${fills}: ${ok.length - rest.length} orders never showed order.accepted; left out`);
  return rest;
}

/** Execution time at the fake (ms since the epoch) of each fillwire order id (its client_order_id). */
async function executionTimes(ctx: LinkBurstContext, ids: ReadonlySet<string>): Promise<Map<string, number>> {
  const res = await fetch(`${ctx.fakeUrl}/_fake/orders?client_order_id_prefix=`);
  if (!res.ok) throw new Error(`fake /_fake/orders: ${res.status}`);
  const orders = (await res.json()) as { order: { client_order_id: string }; executions: { at: string }[] }[];
  const out = new Map<string, number>();
  for (const o of orders) {
    const at = o.executions[0]?.at;
    if (ids.has(o.order.client_order_id) && at) out.set(o.order.client_order_id, Date.parse(at));
  }
  return out;
}

/**
 * Runs one burst of `fills` fills on `symbol` (a symbol of its own at the fake) and measures it. Waits up
 * to `timeoutMs` for the last order.filled.
 */
export async function runBurst(ctx: LinkBurstContext, symbol: string, fills: number, timeoutMs: number): Promise<BurstFigures> {
  await fakePost(ctx, `/_fake/instruments/${symbol}`, { price: PRICE.rest, tick: 0.01, depth: 1_000_000 });
  const refused: string[] = [];
  const placeStart = performance.now();
  const placed = await place(ctx, symbol, fills, refused);
  const placeS = (performance.now() - placeStart) / 1000;
  ctx.log(`burst ${fills}: ${placed.length} orders resting after ${round(placeS)} s (${round(placed.length / placeS)} orders/s); waiting for the link to settle`);
  await linkQuiet(ctx, 60_000);
  await sleep(1_000);
  const before = await linkCounts(ctx);

  // Poll the link while the burst drains: its applied fills, its owed reports, and how long it takes to answer.
  const samples: { wall: number; fillsApplied: number; reportsOwed: number; rpcMs: number }[] = [];
  let polling = true;
  const poller = (async () => {
    while (polling) {
      const t0 = performance.now();
      try {
        const c = await linkCounts(ctx);
        samples.push({ wall: Date.now(), fillsApplied: c.fillsApplied - before.fillsApplied, reportsOwed: c.reportsOwed, rpcMs: performance.now() - t0 });
      } catch {
        // a slow answer is a sample of its own; a failed one is skipped
      }
      await sleep(100 - (performance.now() - t0));
    }
  })();

  const deskCpu = cpuMeter(ctx.deskPids);
  const fakeCpu = cpuMeter(ctx.fakePids);
  const meterFrom = performance.now();
  await ctx.profiler?.begin();
  ctx.log(`burst ${fills}: moving ${symbol} to ${PRICE.move.toFixed(2)}`);
  await fakePost(ctx, `/_fake/instruments/${symbol}`, { price: PRICE.move });
  const arrived = await Promise.all(placed.map((p) => p.trader.primary.waitFor(p.orderId, FILLED, timeoutMs)));
  const cpu = { desk: deskCpu(), fake: fakeCpu() };
  const meterS = (performance.now() - meterFrom) / 1000;
  const profile = ctx.profiler ? await ctx.profiler.end(arrived.filter((a) => a !== null).length) : null;
  polling = false;
  await poller;

  const ids = new Set(placed.map((p) => p.orderId));
  const executed = await executionTimes(ctx, ids);
  const emits = [...executed.values()];
  if (emits.length === 0) throw new Error(`burst ${fills}: the fake shows no execution of the burst's orders (did the price move reach them?)`);
  const firstEmit = Math.min(...emits);
  const lastEmit = Math.max(...emits);
  const latencies: number[] = [];
  const fromExecution: number[] = [];
  let lastArrival = lastEmit;
  let missing = 0;
  let duplicates = 0;
  placed.forEach((p, i) => {
    const a = arrived[i];
    const at = executed.get(p.orderId);
    if (!a || at === undefined) return void missing++;
    const wall = performance.timeOrigin + a.at;
    latencies.push(wall - lastEmit);
    fromExecution.push(wall - at);
    lastArrival = Math.max(lastArrival, wall);
    duplicates += Math.max(0, (p.trader.primary.byOrder.get(p.orderId) ?? []).filter((e) => e.event === "order.filled").length - 1);
  });
  const delivered = latencies.length;
  const deliveredMs = lastArrival - lastEmit;
  const after = await linkCounts(ctx);
  const perFill = (c: CpuUse) => (c.workerd === null || delivered === 0 ? null : round((c.workerd * meterS * 1000) / delivered));
  for (const p of placed) p.trader.primary.forget(p.orderId);
  return {
    fills: delivered,
    traders: new Set(placed.map((p) => p.trader.id)).size,
    placeS: round(placeS),
    placedPerS: round(placed.length / placeS),
    emitSpanMs: round(lastEmit - firstEmit),
    linkAppliedMs: after.lastEventAt === null ? null : round(after.lastEventAt - lastEmit),
    deliveredMs: round(deliveredMs),
    fillsPerS: round((delivered / Math.max(1, deliveredMs)) * 1000),
    fillsPerSFromFirstExecution: round((delivered / Math.max(1, lastArrival - firstEmit)) * 1000),
    latency: summarize(latencies),
    latencyFromExecution: summarize(fromExecution),
    peakOwed: samples.reduce((m, s) => Math.max(m, s.reportsOwed), 0),
    statusRpc: summarize(samples.map((s) => s.rpcMs)),
    cpu: { ...cpu, deskMsPerFill: perFill(cpu.desk), fakeMsPerFill: perFill(cpu.fake) },
    profile,
    missing,
    duplicates,
    refusedSubmits: Object.fromEntries(refused.map((r) => [r, refused.filter((x) => x === r).length])),
    timeline: samples.map((s) => ({ t: round(s.wall - lastEmit), fillsApplied: s.fillsApplied, reportsOwed: s.reportsOwed, rpcMs: round(s.rpcMs) })),
  };
}
