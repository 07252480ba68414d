// The two ways load is offered. Open loop: every client fires on a fixed schedule whatever the server
// does (latency under a given load). Closed loop: each worker waits for its previous operation before the
// next (throughput at a given concurrency). Plus a CPU meter for the bench and the workerd processes.
import { cpuSecondsOf } from "./server.ts";
import { round } from "./stats.ts";

const sleep = (ms: number) => new Promise<void>((ok) => setTimeout(ok, Math.max(0, ms)));

/**
 * `clients` x `rate` operations per second for `durationMs`: client i fires at offset i/clients of the
 * period, then every period, so the load is spread evenly. Resolves when every operation settled; returns
 * how late each one was fired against its schedule (the load generator's own lag).
 */
export async function openLoop(clients: number, rate: number, durationMs: number, fire: (client: number, n: number) => Promise<void>): Promise<number[]> {
  const periodMs = 1000 / rate;
  const start = performance.now() + 50;
  const lags: number[] = [];
  const inFlight: Promise<void>[] = [];
  const client = async (i: number) => {
    for (let n = 0; ; n++) {
      const due = start + (i / clients) * periodMs + n * periodMs;
      if (due - start >= durationMs) return;
      await sleep(due - performance.now());
      lags.push(performance.now() - due);
      inFlight.push(fire(i, n).catch(() => undefined));
    }
  };
  await Promise.all(Array.from({ length: clients }, (_, i) => client(i)));
  await Promise.all(inFlight);
  return lags;
}

export interface ClosedLoopOutcome {
  concurrency: number;
  seconds: number;
  completed: number;
  failed: number;
  perSecond: number;
  /** Latencies of the operations that completed inside the window. */
  latencies: number[];
}

/**
 * `concurrency` workers each repeat `op` for `durationMs`; `op` resolves with its latency, or null when it
 * failed. Operations still running at the end are awaited but not counted.
 */
export async function closedLoop(concurrency: number, durationMs: number, op: (worker: number) => Promise<number | null>): Promise<ClosedLoopOutcome> {
  const start = performance.now();
  const end = start + durationMs;
  const latencies: number[] = [];
  let failed = 0;
  const worker = async (w: number) => {
    while (performance.now() < end) {
      const latency = await op(w).catch(() => null);
      if (performance.now() > end) return;
      if (latency === null) failed++;
      else latencies.push(latency);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, (_, w) => worker(w)));
  const seconds = durationMs / 1000;
  return { concurrency, seconds, completed: latencies.length, failed, perSecond: round(latencies.length / seconds), latencies };
}

export interface CpuUse {
  /** Cores used on average over the window (1 = one core fully busy). */
  bench: number;
  /** null when a workerd process went away meanwhile (wrangler restarted it). */
  workerd: number | null;
  /** Cores used by each workerd process (wrangler dev runs a proxy process in front of the Worker's). */
  workerdByPid: Record<string, number>;
}

/** Starts measuring; the returned function stops and gives the average cores used by each side. */
export function cpuMeter(workerdPids: () => number[]): () => CpuUse {
  const pids = workerdPids();
  const total = (each: (number | null)[]) => (each.every((s) => s !== null) ? each.reduce((a: number, b) => a + b, 0) : null);
  const wall0 = performance.now();
  const bench0 = process.cpuUsage();
  const each0 = pids.map(cpuSecondsOf);
  return () => {
    const wallS = (performance.now() - wall0) / 1000;
    const bench = process.cpuUsage(bench0);
    const each1 = pids.map(cpuSecondsOf);
    const workerd0 = total(each0);
    const workerd1 = total(each1);
    return {
      bench: round((bench.user + bench.system) / 1e6 / wallS),
      workerd: workerd0 === null || workerd1 === null ? null : round((workerd1 - workerd0) / wallS),
      workerdByPid: Object.fromEntries(pids.map((pid, i) => [String(pid), round(((each1[i] ?? 0) - (each0[i] ?? 0)) / wallS)])),
    };
  };
}
