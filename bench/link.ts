// node bench/link.ts [--traders 50] [--bursts 25,50,100,200,500,1000,2000] [--runs 1] [--warmup 20] [--timeout 120]
//                     [--state-dir /dev/shm] [--profile]
// The Alpaca stream link's throughput: every fill of every trader passes through the account's one
// AlpacaLink Durable Object (stream → ledger → desk RPC → trader's socket). Starts the fake Alpaca and
// fillwire with EXCHANGE=alpaca (each its own `wrangler dev` on a free 127.0.0.1 port with fresh state),
// opens N traders with their event sockets, then for each burst size places that many resting LIMIT
// orders over the traders and moves the fake's price once, so the fake fills them all at once on the
// stream. Per burst: fills/s from the fake's first execution to the last order.filled on the sockets,
// per-fill latency, the link's own progress (polled), workerd CPU of each side. A fresh pair per run;
// writes bench/results/link-<timestamp>.json and prints a Markdown summary (median and range over runs).
// Locally each SQLite commit of a Durable Object is an fsync on the workerd thread that runs them all, so
// the disk sets the pace; --state-dir /dev/shm (tmpfs) takes it out and leaves the CPU cost (see docs/alpaca.md).
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { startAlpacaPair, type AlpacaPair } from "./alpaca-server.ts";
import { openTraders, type Trader } from "./clients.ts";
import { HttpClient, inBatches } from "./http.ts";
import { linkCounts, runBurst, type BurstFigures, type LinkBurstContext } from "./link-burst.ts";
import { linkProfiler } from "./link-profile.ts";
import { describeMachine, type Machine } from "./result.ts";
import { ROOT } from "./server.ts";
import { round } from "./stats.ts";
import { sign } from "./tokens.ts";

/**
 * Short venue timings (a lost answer costs seconds, not tens of them) and the per-trader order limit
 * lifted (placing a burst's orders would otherwise meet 429s): passed as `wrangler dev --var`.
 */
const LINK_VARS: Readonly<Record<string, string>> = {
  EXCHANGE_TIMEOUT_MS: "2000",
  RETRY_BASE_MS: "200",
  ALPACA_RECONNECT_BASE_MS: "200",
  RATE_LIMIT_PER_SECOND: "1000000",
  RATE_LIMIT_BURST: "1000000",
};
const MAX_FILLS = 5_000;

const { values } = parseArgs({
  options: {
    traders: { type: "string", default: "50" },
    bursts: { type: "string", default: "25,50,100,200,500,1000,2000" },
    runs: { type: "string", default: "1" },
    warmup: { type: "string", default: "20" },
    timeout: { type: "string", default: "120" },
    "state-dir": { type: "string" },
    profile: { type: "boolean", default: false },
    help: { type: "boolean", default: false },
  },
});

if (values.help) {
  console.log(`node bench/link.ts [--traders 50] [--bursts 25,50,100,200,500,1000,2000] [--runs 1] [--warmup 20] [--timeout 120]
                    [--state-dir /dev/shm] [--profile]
--traders  accounts, each with one event socket; a burst's orders are dealt over them round robin
--bursts   fills per burst (one price move each), in order; at most ${MAX_FILLS} each
--runs     repeat everything on a fresh pair of servers; the summary gives the median and range
--warmup   fills of an unmeasured first burst (JIT, desks and the link's stream up)
--timeout  seconds a burst may take to reach the sockets
--state-dir  where both servers keep their copy and local state (default: the system's temp dir); /dev/shm
           (tmpfs) takes the disk's fsync per SQLite commit out of the figures
--profile  sample fillwire's isolate over each burst and charge the time to the link or the rest (the
           sampling costs the isolate time: take fills/s from runs without it)`);
  process.exit(0);
}

function whole(name: string, text: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max) {
    console.error(`--${name} takes whole numbers from ${min} to ${max} (got ${text})`);
    process.exit(2);
  }
  return n;
}

const options = {
  traders: whole("traders", values.traders, 1, 500),
  bursts: values.bursts.split(",").map((b) => whole("bursts", b.trim(), 1, MAX_FILLS)),
  runs: whole("runs", values.runs, 1, 10),
  warmup: whole("warmup", values.warmup, 0, MAX_FILLS),
  timeoutS: whole("timeout", values.timeout, 1, 1_800),
  stateDir: values["state-dir"] ?? tmpdir(),
  profile: values.profile,
};
if (!existsSync(options.stateDir)) {
  console.error(`--state-dir ${options.stateDir} does not exist`);
  process.exit(2);
}
// bench/server.ts and bench/alpaca-server.ts make their temporary copies and state under os.tmpdir().
process.env.TMPDIR = options.stateDir;

const log = (line: string) => console.error(`[link ${new Date().toISOString().slice(11, 19)}] ${line}`);

export interface LinkRun {
  startedAt: string;
  /** 1, 5 and 15-minute load averages when the run started and when it ended (other jobs skew every figure). */
  loadAtStart: number[];
  loadAtEnd: number[];
  bursts: BurstFigures[];
  notes: string[];
}

export interface LinkBenchResult {
  version: 1;
  kind: "alpaca-link";
  startedAt: string;
  finishedAt: string;
  machine: Machine;
  settings: typeof options & { vars: Record<string, string> };
  runs: LinkRun[];
}

let pair: AlpacaPair | null = null;
const stopPair = async () => {
  const p = pair;
  pair = null;
  if (p) await p.stop();
};
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    log(`${signal}: stopping`);
    void stopPair().then(() => process.exit(130));
  });
}

const load = () => loadavg().map((l) => round(l));

/** One run on a fresh pair: traders, sockets, the warm-up burst, then every burst size in turn. */
async function runOnce(n: number): Promise<LinkRun> {
  const startedAt = new Date();
  const loadAtStart = load();
  log(`run ${n}: load average ${loadAtStart.join(", ")}; starting the fake Alpaca and fillwire (EXCHANGE=alpaca)`);
  pair = await startAlpacaPair(LINK_VARS);
  const { desk, fake } = pair;
  log(`run ${n}: fillwire on ${desk.url} (workerd ${desk.workerdPids().join(", ")}), the fake on ${fake.url} (workerd ${fake.workerdPids().join(", ")})`);
  const http = new HttpClient(desk.url);
  const notes: string[] = [];
  let traders: Trader[] = [];
  let profiler: { close(): void } | null = null;
  try {
    const adminToken = await sign("bench-admin", "admin");
    const tag = `lk${startedAt.getTime().toString(36)}`;
    traders = await openTraders(http, adminToken, tag, options.traders, ["-"]);
    await inBatches(traders, 16, (t) => t.addSocket(desk.url));
    const ctx: LinkBurstContext = { http, fakeUrl: fake.url, adminToken, traders, deskPids: desk.workerdPids, fakePids: fake.workerdPids, log };
    const symbol = (i: number) => `${tag.slice(-5).toUpperCase()}B${i}`;
    if (options.warmup > 0) {
      const w = await runBurst(ctx, symbol(0), options.warmup, options.timeoutS * 1000);
      log(`run ${n}: warm-up ${w.fills} fills, ${w.fillsPerS} fills/s`);
    }
    if (options.profile) {
      if (desk.inspectorPort === null || desk.appDir === null) throw new Error("--profile needs the bench's own server");
      const opened = await linkProfiler(desk.inspectorPort, desk.appDir);
      profiler = opened;
      ctx.profiler = opened;
      notes.push("Profiled (--profile): the sampling costs fillwire's isolate time, so fills/s and latency are lower than without it.");
    }
    const bursts: BurstFigures[] = [];
    for (const [i, fills] of options.bursts.entries()) {
      const b = await runBurst(ctx, symbol(i + 1), fills, options.timeoutS * 1000);
      bursts.push(b);
      log(
        `run ${n}: burst ${fills}: ${b.fillsPerS} fills/s (delivered ${b.deliveredMs} ms after the fake released it, its loop took ${b.emitSpanMs} ms; ` +
          `the link applied the last after ${b.linkAppliedMs ?? "?"} ms); latency p50 ${b.latency.p50} p99 ${b.latency.p99} ms; ` +
          `fillwire workerd ${b.cpu.deskMsPerFill ?? "?"} ms CPU/fill; missing ${b.missing}, duplicates ${b.duplicates}` +
          (b.profile ? `; isolate ${b.profile.busyMsPerFill} ms/fill, of it the link ${b.profile.linkMsPerFill}` : ""),
      );
    }
    const end = await linkCounts(ctx);
    notes.push(`The link's ledger at the end: ${end.fillsApplied} fills applied, ${end.working} orders working, ${end.reportsOwed} reports owed.`);
    const pidsNow = desk.workerdPids().length + fake.workerdPids().length;
    if (pidsNow === 0) notes.push("No workerd process found: CPU figures are missing.");
    return { startedAt: startedAt.toISOString(), loadAtStart, loadAtEnd: load(), bursts, notes };
  } finally {
    profiler?.close();
    for (const t of traders) t.closeSockets();
    http.close();
    await stopPair();
  }
}

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length === 0 ? 0 : s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

/** `median [min–max]` of one figure over the runs, for one burst size. */
function spread(runs: readonly LinkRun[], i: number, pick: (b: BurstFigures) => number | null): string {
  const xs = runs.map((r) => r.bursts[i]).filter((b): b is BurstFigures => b !== undefined).map(pick).filter((x): x is number => x !== null);
  if (xs.length === 0) return "–";
  const m = Math.round(median(xs));
  return xs.length === 1 ? String(m) : `${m} [${Math.round(Math.min(...xs))}–${Math.round(Math.max(...xs))}]`;
}

/** As `spread`, to two decimals (figures under a few ms). */
function spreadFine(runs: readonly LinkRun[], i: number, pick: (b: BurstFigures) => number | null): string {
  const xs = runs.map((r) => r.bursts[i]).filter((b): b is BurstFigures => b !== undefined).map(pick).filter((x): x is number => x !== null);
  if (xs.length === 0) return "–";
  const m = round(median(xs));
  return xs.length === 1 ? String(m) : `${m} [${round(Math.min(...xs))}–${round(Math.max(...xs))}]`;
}

/** The Markdown summary: one row per burst size, median and range over the runs. */
export function linkMarkdown(r: LinkBenchResult): string {
  const lines = [
    `## Alpaca stream link: bursts of fills (${r.runs.length} run${r.runs.length > 1 ? "s" : ""}, ${r.settings.traders} traders)`,
    "",
    `${r.machine.cpu}, ${r.machine.cores} cores; node ${r.machine.node}, wrangler ${r.machine.wrangler}, workerd ${r.machine.workerd}.`,
    `Load average (1 min) at each run's start: ${r.runs.map((x) => x.loadAtStart[0]).join(", ")}; at its end: ${r.runs.map((x) => x.loadAtEnd[0]).join(", ")}.`,
    `State (SQLite of every Durable Object, local D1) under ${r.settings.stateDir}${r.settings.profile ? "; profiled" : ""}.`,
    "Figures: median [min–max] over the runs. The fake trades a burst in one loop and its frames leave when the loop ends",
    "(\"release\"): fills/s and latency are from the release to the order.filled frames on the traders' sockets; \"from 1st exec\"",
    "counts the fake's loop in (fills/s from its first execution, latency from each fill's own execution).",
    "",
    "| fills in the burst | fills/s | fills/s from 1st exec | fake loop ms | link applied last ms | delivered ms | latency p50 ms | latency p99 ms | p99 from exec ms | peak owed | status RPC p99 ms | fillwire CPU ms/fill | fake CPU ms/fill | missing + dup |",
    "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
  ];
  r.settings.bursts.forEach((fills, i) => {
    const s = (pick: (b: BurstFigures) => number | null) => spread(r.runs, i, pick);
    const f = (pick: (b: BurstFigures) => number | null) => spreadFine(r.runs, i, pick);
    lines.push(
      `| ${fills} | ${s((b) => b.fillsPerS)} | ${s((b) => b.fillsPerSFromFirstExecution)} | ${s((b) => b.emitSpanMs)} | ${s((b) => b.linkAppliedMs)} | ${s((b) => b.deliveredMs)} | ` +
        `${s((b) => b.latency.p50)} | ${s((b) => b.latency.p99)} | ${s((b) => b.latencyFromExecution.p99)} | ${s((b) => b.peakOwed)} | ${s((b) => b.statusRpc.p99)} | ` +
        `${f((b) => b.cpu.deskMsPerFill)} | ${f((b) => b.cpu.fakeMsPerFill)} | ${s((b) => b.missing + b.duplicates)} |`,
    );
  });
  if (r.runs.some((x) => x.bursts.some((b) => b.profile))) {
    lines.push(
      "",
      "Where fillwire's isolate spent each burst (CPU profile; ms per fill, median [min–max]): the link's own work is every sample with",
      "link.ts, ledger.ts, reconcile.ts, delivery.ts or stream.ts on its stack; the rest is the desks, routes and sockets.",
      "",
      "| fills in the burst | isolate busy | link | rest | unattributed (GC, runtime) |",
      "| ---: | ---: | ---: | ---: | ---: |",
    );
    r.settings.bursts.forEach((fills, i) => {
      const s = (pick: (b: BurstFigures) => number | null) => spreadFine(r.runs, i, pick);
      lines.push(`| ${fills} | ${s((b) => b.profile?.busyMsPerFill ?? null)} | ${s((b) => b.profile?.linkMsPerFill ?? null)} | ${s((b) => b.profile?.restMsPerFill ?? null)} | ${s((b) => b.profile?.unattributedMsPerFill ?? null)} |`);
    });
    const last = r.runs[0]?.bursts.at(-1)?.profile;
    if (last) lines.push("", `The link's time in the largest burst of run 1, by function (self time, its SQLite calls included): ${last.linkTop.map((t) => `${t.fn} ${t.pct}%`).join(", ")}.`);
  }
  for (const [i, run] of r.runs.entries()) for (const note of run.notes) lines.push("", `Run ${i + 1}: ${note}`);
  return lines.join("\n");
}

const startedAt = new Date();
const result: LinkBenchResult = {
  version: 1,
  kind: "alpaca-link",
  startedAt: startedAt.toISOString(),
  finishedAt: "",
  machine: describeMachine(),
  settings: { ...options, vars: { ...LINK_VARS } },
  runs: [],
};
try {
  for (let n = 1; n <= options.runs; n++) result.runs.push(await runOnce(n));
  result.finishedAt = new Date().toISOString();
  const dir = join(ROOT, "bench", "results");
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `link-${startedAt.toISOString().replace(/[:.]/g, "-")}.json`);
  writeFileSync(file, JSON.stringify(result, null, 2) + "\n");
  console.log(linkMarkdown(result));
  console.log(`\nResults: ${file.slice(ROOT.length + 1)}`);
} catch (err) {
  console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
  process.exitCode = 1;
} finally {
  await stopPair();
}
