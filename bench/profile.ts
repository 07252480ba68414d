// npm run bench:profile [-- --concurrency 4] [--seconds 10] [--top 30] [--cpu-only]
// Where the Worker's CPU goes on the order path: starts its own `wrangler dev` (as the bench does), runs a
// closed loop of market orders (each worker its own trader, waiting for order.filled on its socket), and
// records a V8 CPU profile of the Worker isolate (the Worker and its Durable Objects) through wrangler's
// inspector. Prints the top functions by self and by inclusive time, and the workerd CPU per order from
// /proc (which also counts what the profile cannot see: the runtime's own work, SQLite, local D1).
// --cpu-only skips the profiler, whose sampling itself costs the isolate time: use it for A/B runs.
// Writes bench/results/profile-<timestamp>.cpuprofile, which Chrome DevTools opens.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { FINAL_EVENTS, openTraders } from "./clients.ts";
import { orderIdOf } from "./flow.ts";
import { HttpClient, inBatches } from "./http.ts";
import { closedLoop, cpuMeter } from "./loops.ts";
import { inspect } from "./link-profile.ts";
import { ROOT, startServer } from "./server.ts";
import { BENCH_SYMBOLS, putInstruments } from "./setup.ts";
import { round, summarize } from "./stats.ts";
import { sign } from "./tokens.ts";

const { values } = parseArgs({
  options: {
    concurrency: { type: "string", default: "4" },
    seconds: { type: "string", default: "10" },
    top: { type: "string", default: "30" },
    /** Only the /proc CPU figures: the sampling profiler itself costs the isolate time (signals, stacks). */
    "cpu-only": { type: "boolean", default: false },
  },
});
const concurrency = Number(values.concurrency);
const seconds = Number(values.seconds);
const top = Number(values.top);

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}


function selfTimes(profile: CpuProfile) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const byFunction = new Map<string, number>();
  let total = 0;
  for (const [id, us] of self) {
    const f = byId.get(id)!.callFrame;
    const file = f.url ? f.url.replace(/^.*?\/(node_modules\/|worker\/|\.wrangler\/)/, "$1") : `(${f.functionName || "native"})`;
    const fn = `${f.functionName || "(anonymous)"}  ${file}:${f.lineNumber + 1}`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + us);
    total += us;
  }
  // Inclusive time: a function's own samples plus its callees', counted once per stack (recursion).
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const inclusive = new Map<string, number>();
  for (const [id, us] of self) {
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const f = byId.get(at)!.callFrame;
      const name = f.functionName || "(anonymous)";
      if (name === "(root)" || seen.has(name)) continue;
      seen.add(name);
      inclusive.set(name, (inclusive.get(name) ?? 0) + us);
    }
  }
  const sorted = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]);
  return { total, functions: sorted(byFunction), inclusive: sorted(inclusive) };
}

const NOT_JS = new Set(["(idle)", "(program)"]);

const server = await startServer({ RATE_LIMIT_PER_SECOND: "1000000", RATE_LIMIT_BURST: "1000000" }, false);
try {
  const http = new HttpClient(server.url);
  const admin = await sign("bench-admin", "admin");
  await putInstruments(http, admin);
  const traders = await openTraders(http, admin, `profile${Date.now().toString(36)}`, concurrency, BENCH_SYMBOLS);
  await inBatches(traders, 16, (t) => t.addSocket(server.url));
  const loop = (ms: number) =>
    closedLoop(concurrency, ms, async (w) => {
      const trader = traders[w]!;
      const t0 = performance.now();
      const res = await http.send("POST", "/api/v1/orders", { token: trader.token, body: { symbol: trader.symbol, side: "BUY", quantity: 1, order_type: "MARKET" } });
      const id = res.status === 201 ? orderIdOf(res.text) : null;
      if (!id) return null;
      const end = await trader.primary.waitFor(id, FINAL_EVENTS, 10_000);
      trader.primary.forget(id);
      return end?.event === "order.filled" ? end.at - t0 : null;
    });
  await loop(3_000); // warm up: JIT, desks and books loaded

  const inspector = values["cpu-only"] ? null : await inspect(server.inspectorPort!);
  if (inspector) {
    await inspector.call("Profiler.enable");
    await inspector.call("Profiler.setSamplingInterval", { interval: 200 });
    await inspector.call("Profiler.start");
  }
  const cpu = cpuMeter(server.workerdPids);
  const out = await loop(seconds * 1000);
  const used = cpu();
  const profile = inspector ? (await inspector.call<{ profile: CpuProfile }>("Profiler.stop")).profile : null;
  inspector?.close();
  http.close();
  for (const t of traders) t.closeSockets();

  const lat = summarize(out.latencies);
  const perOrder = (cores: number) => round((cores * seconds * 1000) / Math.max(1, out.completed));
  console.log(`${out.completed} orders in ${seconds} s at concurrency ${concurrency}: ${round(out.perSecond)} orders/s, submit→filled p50 ${lat.p50} ms p99 ${lat.p99} ms, ${out.failed} failed`);
  console.log(
    `CPU cores used: bench ${used.bench}, workerd ${used.workerd}; workerd ms per order: ` +
      Object.entries(used.workerdByPid).map(([pid, cores]) => `pid ${pid} ${perOrder(cores)}`).join(", "),
  );
  if (profile) report(profile, out.completed);
} finally {
  await server.stop();
}

function report(profile: CpuProfile, orders: number): void {
  const dir = join(ROOT, "bench", "results");
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `profile-${new Date().toISOString().replace(/[:.]/g, "-")}.cpuprofile`);
  writeFileSync(file, JSON.stringify(profile));

  const { total, functions, inclusive } = selfTimes(profile);
  const notJs = (f: string) => NOT_JS.has(f.split("  ")[0]!);
  const busy = total - functions.filter(([f]) => notJs(f)).reduce((a, [, us]) => a + us, 0);
  const pct = (us: number) => `${round((us / busy) * 100)}%`.padStart(6);
  const ms = (us: number) => `${round(us / 1000 / orders)} ms/order`;
  console.log(`Worker isolate busy (JS and the runtime calls it makes): ${ms(busy)} (${round((busy / total) * 100)}% of the profiled wall time)`);
  console.log("\nself time by function:");
  for (const [f, us] of functions.filter(([f]) => !notJs(f)).slice(0, top)) console.log(`${pct(us)}  ${f}`);
  console.log("\ntotal (inclusive) time by function name:");
  for (const [f, us] of inclusive.filter(([f]) => !NOT_JS.has(f)).slice(0, top * 2)) console.log(`${pct(us)}  ${ms(us)}  ${f}`);
  console.log(`\nprofile: ${file}`);
}
