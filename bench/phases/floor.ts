// floor: GET /api/v1/health, the platform's own cost (Worker routing, Hono, JSON) with no desk behind it,
// at the open loop's load and at the closed loop's concurrency.
import { errorCode } from "../http.ts";
import { closedLoop, cpuMeter, openLoop, type CpuUse } from "../loops.ts";
import type { BenchContext } from "../setup.ts";
import { round, summarize, tally, type Summary } from "../stats.ts";

export interface FloorFigures {
  open: { clients: number; ratePerClient: number; durationS: number; requests: number; errors: Record<string, number>; latency: Summary; scheduleLag: Summary; cpu: CpuUse };
  closed: HealthLoopFigures;
}

export interface HealthLoopFigures {
  concurrency: number;
  seconds: number;
  requestsPerSecond: number;
  failed: number;
  latency: Summary;
  cpu: CpuUse;
}

/** One health request; resolves with its latency, or null unless it answered 200. */
export async function health(ctx: BenchContext): Promise<number | null> {
  const t0 = performance.now();
  const res = await ctx.http.send("GET", "/api/v1/health");
  return res.status === 200 ? res.at - t0 : null;
}

export async function healthClosedLoop(ctx: BenchContext, concurrency: number, seconds: number): Promise<HealthLoopFigures> {
  const stop = cpuMeter(ctx.server.workerdPids);
  const out = await closedLoop(concurrency, seconds * 1000, () => health(ctx));
  return { concurrency, seconds, requestsPerSecond: out.perSecond, failed: out.failed, latency: summarize(out.latencies), cpu: stop() };
}

export async function runFloor(ctx: BenchContext): Promise<{ figures: FloorFigures; samples: number[] }> {
  const { traders, rate } = ctx.options;
  const durationS = Math.min(ctx.options.durationS, 10);
  ctx.log(`floor: health, open loop ${traders} clients x ${rate}/s for ${durationS} s`);
  const latencies: number[] = [];
  const errors: string[] = [];
  const stop = cpuMeter(ctx.server.workerdPids);
  const lags = await openLoop(traders, rate, durationS * 1000, async () => {
    const t0 = performance.now();
    try {
      const res = await ctx.http.send("GET", "/api/v1/health");
      if (res.status === 200) latencies.push(res.at - t0);
      else errors.push(errorCode(res));
    } catch (err) {
      errors.push(`network: ${err instanceof Error ? err.message : String(err)}`);
    }
  });
  const cpu = stop();
  const seconds = Math.min(ctx.options.stepS, durationS);
  ctx.log(`floor: health, closed loop at concurrency ${traders} for ${seconds} s`);
  const closed = await healthClosedLoop(ctx, traders, seconds);
  return {
    figures: {
      open: {
        clients: traders, ratePerClient: rate, durationS, requests: latencies.length + errors.length, errors: tally(errors),
        latency: summarize(latencies), scheduleLag: summarize(lags), cpu,
      },
      closed,
    },
    samples: latencies.map(round),
  };
}
