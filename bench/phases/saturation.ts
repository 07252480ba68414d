// saturation: closed loops at rising concurrency, each worker its own trader waiting for order.filled on
// its socket before the next submit, so one completion is the whole path (submit, risk, venue, fill,
// outbox, event). Each step is preceded by the floor (health) at the same concurrency, in the same run.
import { FINAL_EVENTS, openTraders, type Trader } from "../clients.ts";
import { orderIdOf } from "../flow.ts";
import { errorCode, inBatches } from "../http.ts";
import { closedLoop, cpuMeter, type CpuUse } from "../loops.ts";
import { BENCH_SYMBOLS, type BenchContext } from "../setup.ts";
import { round, summarize, tally, type Summary } from "../stats.ts";
import { healthClosedLoop, type HealthLoopFigures } from "./floor.ts";

const FILL_WAIT_MS = 10_000;
/** A step must beat the best so far by this much to count as growth. */
const GROWTH = 1.05;

export interface SaturationStep {
  concurrency: number;
  floor: HealthLoopFigures;
  ordersPerSecond: number;
  submitTo201: Summary;
  submitToFilled: Summary;
  failures: Record<string, number>;
  cpu: CpuUse;
  /** orders/s over the floor's requests/s at this concurrency. */
  ratio: number;
}

export interface SaturationFigures {
  stepS: number;
  steps: SaturationStep[];
  stoppedBecause: string;
  knee: { concurrency: number; ordersPerSecond: number; floorPerSecond: number; ratio: number };
  /** The floor's best requests/s over all steps, and the knee's orders/s over it: the headline. */
  floorPeak: number;
  headlineRatio: number;
}

export async function runSaturation(ctx: BenchContext): Promise<SaturationFigures> {
  const { levels, stepS } = ctx.options;
  const traders: Trader[] = [];
  const steps: SaturationStep[] = [];
  let stoppedBecause = "the last level was reached";
  let flat = 0;
  for (const concurrency of levels) {
    if (traders.length < concurrency) {
      const more = await openTraders(ctx.http, ctx.adminToken, `${ctx.runId}-sat`, concurrency - traders.length, BENCH_SYMBOLS, traders.length);
      await inBatches(more, 16, (t) => t.addSocket(ctx.server.url));
      traders.push(...more);
    }
    const floor = await healthClosedLoop(ctx, concurrency, stepS);
    const step = await orderStep(ctx, traders, concurrency, stepS, floor);
    steps.push(step);
    ctx.log(`saturation: c=${concurrency} floor ${floor.requestsPerSecond} req/s, orders ${step.ordersPerSecond}/s (x${step.ratio}), filled p50 ${step.submitToFilled.p50} ms`);
    const best = Math.max(...steps.slice(0, -1).map((s) => s.ordersPerSecond), 0);
    flat = step.ordersPerSecond < best * GROWTH ? flat + 1 : 0;
    const tried = step.submitToFilled.n + Object.values(step.failures).reduce((a, b) => a + b, 0);
    if (tried > 0 && step.submitToFilled.n < tried / 2) {
      stoppedBecause = `more than half the orders failed at concurrency ${concurrency}`;
      break;
    }
    if (flat >= 2) {
      stoppedBecause = `orders/s grew less than ${Math.round((GROWTH - 1) * 100)}% over two steps`;
      break;
    }
  }
  for (const t of traders) t.closeSockets();
  const knee = steps.reduce((a, b) => (b.ordersPerSecond > a.ordersPerSecond ? b : a));
  const floorPeak = Math.max(...steps.map((s) => s.floor.requestsPerSecond));
  return {
    stepS, steps, stoppedBecause,
    knee: { concurrency: knee.concurrency, ordersPerSecond: knee.ordersPerSecond, floorPerSecond: knee.floor.requestsPerSecond, ratio: knee.ratio },
    floorPeak,
    headlineRatio: round(knee.ordersPerSecond / floorPeak),
  };
}

async function orderStep(ctx: BenchContext, traders: readonly Trader[], concurrency: number, stepS: number, floor: HealthLoopFigures): Promise<SaturationStep> {
  const to201: number[] = [];
  const failures: string[] = [];
  const stop = cpuMeter(ctx.server.workerdPids);
  const fail = (reason: string): null => {
    failures.push(reason);
    return null;
  };
  const out = await closedLoop(concurrency, stepS * 1000, async (w) => {
    const trader = traders[w]!;
    const t0 = performance.now();
    const res = await ctx.http.send("POST", "/api/v1/orders", {
      token: trader.token, body: { symbol: trader.symbol, side: "BUY", quantity: 1, order_type: "MARKET" },
    }).catch((err: unknown) => (err instanceof Error ? err : new Error(String(err))));
    if (res instanceof Error) return fail(`network: ${res.message}`);
    const id = res.status === 201 ? orderIdOf(res.text) : null;
    if (!id) return fail(errorCode(res));
    to201.push(res.at - t0);
    const end = await trader.primary.waitFor(id, FINAL_EVENTS, FILL_WAIT_MS);
    trader.primary.forget(id);
    if (end?.event !== "order.filled") return fail(end ? end.event : `no final event within ${FILL_WAIT_MS} ms`);
    return end.at - t0;
  });
  const cpu = stop();
  return {
    concurrency,
    floor,
    ordersPerSecond: out.perSecond,
    submitTo201: summarize(to201),
    submitToFilled: summarize(out.latencies),
    failures: tally(failures),
    cpu,
    ratio: floor.requestsPerSecond > 0 ? round(out.perSecond / floor.requestsPerSecond) : 0,
  };
}
