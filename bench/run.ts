// npm run bench [-- --url URL] [--traders 100] [--rate 1] [--duration 30] [--sockets 1000]
//                  [--only floor,open,saturation,sockets,mix,wsorders] [--levels 1,2,4,...] [--step 5] [--reference] [--observability]
//                  [--wsorders-first http|socket]
// Measures fillwire end to end against `wrangler dev` on 127.0.0.1 (started here on a free port with
// fresh local state, unless --url names a running one) and writes bench/results/<timestamp>.json and .svg,
// then prints a Markdown summary.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { HttpClient } from "./http.ts";
import { runFloor } from "./phases/floor.ts";
import { runMix } from "./phases/mix.ts";
import { runOpen } from "./phases/open.ts";
import { runSaturation } from "./phases/saturation.ts";
import { runSockets } from "./phases/sockets.ts";
import { runWsOrders } from "./phases/wsorders.ts";
import { warmUp } from "./phases/warmup.ts";
import { markdown, svgChart } from "./report.ts";
import { describeMachine, PHASES, type BenchResult, type Phase } from "./result.ts";
import { existingServer, ROOT, startServer, type DeskServer } from "./server.ts";
import { putInstruments, type BenchContext, type BenchOptions } from "./setup.ts";
import { round } from "./stats.ts";
import { sign } from "./tokens.ts";

/**
 * The per-trader order limit (50/s, bursts of 200) would cap a fast closed-loop trader and turn the
 * saturation step into a rate-limit test; the bench's own server lifts it, and says so.
 */
const SERVER_VARS = { RATE_LIMIT_PER_SECOND: "1000000", RATE_LIMIT_BURST: "1000000" };

const { values } = parseArgs({
  options: {
    url: { type: "string" },
    traders: { type: "string", default: "100" },
    rate: { type: "string", default: "1" },
    duration: { type: "string", default: "30" },
    sockets: { type: "string", default: "1000" },
    only: { type: "string", default: PHASES.join(",") },
    levels: { type: "string", default: "1,2,4,8,16,32,64,128,256" },
    step: { type: "string", default: "5" },
    reference: { type: "boolean", default: false },
    observability: { type: "boolean", default: false },
    "wsorders-first": { type: "string", default: "http" },
    help: { type: "boolean", default: false },
  },
});

if (values.help) {
  console.log(`npm run bench -- [--url http://127.0.0.1:8787] [--traders 100] [--rate 1] [--duration 30] [--sockets 1000]
                   [--only ${PHASES.join(",")}] [--levels 1,2,4,8,16,32,64,128,256] [--step 5] [--reference]
                   [--wsorders-first http|socket]
--url        measure a running server instead of starting wrangler dev (its rate limit then applies)
--rate       orders per second per trader in the open-loop phases (open, sockets, mix, wsorders)
--levels     saturation concurrency steps; it stops early when orders/s stops growing
--step       seconds per saturation step (and per floor closed loop)
--wsorders-first  which half of wsorders (orders on the socket beside the same load over HTTP) runs first
--reference  write bench/results/reference.json (and .svg), the committed reference run
--observability  keep wrangler's local trace collector on (off by default: a dev-only cost, see bench/server.ts)`);
  process.exit(0);
}

function positive(name: string, text: string, integer = true): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) {
    console.error(`--${name} must be a positive ${integer ? "whole " : ""}number (got ${text})`);
    process.exit(2);
  }
  return n;
}

const phases = values.only.split(",").map((p) => p.trim()).filter(Boolean);
const unknown = phases.filter((p) => !(PHASES as readonly string[]).includes(p));
if (unknown.length > 0 || phases.length === 0) {
  console.error(`--only takes a comma list of ${PHASES.join(", ")} (unknown: ${unknown.join(", ") || "none given"})`);
  process.exit(2);
}
const wanted = (p: Phase) => phases.includes(p);
const wsordersFirst = values["wsorders-first"];
if (wsordersFirst !== "http" && wsordersFirst !== "socket") {
  console.error(`--wsorders-first takes http or socket (got ${wsordersFirst})`);
  process.exit(2);
}
const options: BenchOptions = {
  traders: positive("traders", values.traders),
  rate: positive("rate", values.rate, false),
  durationS: positive("duration", values.duration, false),
  sockets: positive("sockets", values.sockets),
  levels: values.levels.split(",").map((l) => positive("levels", l.trim())),
  stepS: positive("step", values.step, false),
};
if (values.url && !/^http:\/\/(127\.0\.0\.1|localhost)(:\d+)?\/?$/.test(values.url)) {
  console.error("--url must be a local server, http://127.0.0.1:PORT: the bench only loads this machine");
  process.exit(2);
}

const log = (line: string) => console.error(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}`);
const startedAt = new Date();
const machine = describeMachine();

let server: DeskServer | null = null;
const stopServer = async () => {
  const s = server;
  server = null;
  if (s) await s.stop();
};
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    log(`${signal}: stopping`);
    void stopServer().then(() => process.exit(130));
  });
}

try {
  if (values.url) {
    log(`using ${values.url}; its own vars apply (the per-trader rate limit may show up as 429 RATE_LIMITED)`);
    server = await existingServer(values.url);
  } else {
    log(`starting wrangler dev (fresh local state; --var ${Object.entries(SERVER_VARS).map(([k, v]) => `${k}:${v}`).join(" --var ")}; X_LOCAL_OBSERVABILITY=${values.observability})`);
    server = await startServer(SERVER_VARS, values.observability);
    log(`wrangler dev on ${server.url}, workerd pid ${server.workerdPids().join(", ") || "not found"}`);
  }
  const http = new HttpClient(server.url);
  const adminToken = await sign("bench-admin", "admin");
  await putInstruments(http, adminToken);
  const ctx: BenchContext = {
    server, http, adminToken, options, log,
    runId: `bench${startedAt.getTime().toString(36)}${Math.floor(Math.random() * 36 ** 3).toString(36)}`,
  };

  const result: BenchResult = {
    version: 1,
    startedAt: startedAt.toISOString(),
    finishedAt: "",
    machine,
    settings: {
      url: server.url, ownServer: server.owned, vars: server.vars, localObservability: server.owned ? values.observability : null, traders: options.traders, rate: options.rate, durationS: options.durationS,
      sockets: options.sockets, levels: options.levels, stepS: options.stepS, phases: PHASES.filter(wanted),
      ...(wanted("wsorders") ? { wsordersFirst } : {}),
    },
    notes: [],
    samples: { submitToFilled: [], submitTo201: [], floor: [], source: null },
  };
  const pidsAtStart = server.workerdPids();
  if (pidsAtStart.length === 0) result.notes.push("No workerd process found for this URL: memory and workerd CPU figures are missing.");
  if (server.owned && !values.observability) {
    result.notes.push("wrangler's local observability (trace collector) is off for this run (X_LOCAL_OBSERVABILITY=false; --observability keeps it on).");
  }
  if (server.owned) {
    result.notes.push(
      `The bench's server runs with ${Object.entries(SERVER_VARS).map(([k, v]) => `${k}=${v}`).join(", ")} (--var): ` +
        "the per-trader limit of 50 orders/s would otherwise cap the saturation step.",
    );
  }
  const keepSamples = (source: Phase, filled: number[], accepted: number[]) => {
    if (result.samples.source === "open") return; // the open loop is the chart; mix only stands in for it
    result.samples = { ...result.samples, source, submitToFilled: filled.map(round), submitTo201: accepted.map(round) };
  };
  const pause = () => new Promise((ok) => setTimeout(ok, 1_000)); // let outbox flushes settle between phases

  await warmUp(ctx);
  if (wanted("floor")) {
    const floor = await runFloor(ctx);
    result.floor = floor.figures;
    result.samples.floor = floor.samples;
  }
  if (wanted("open")) {
    const open = await runOpen(ctx);
    result.open = open.figures;
    keepSamples("open", open.filledSamples, open.acceptedSamples);
    await pause();
  }
  if (wanted("saturation")) {
    result.saturation = await runSaturation(ctx);
    await pause();
  }
  if (wanted("sockets")) {
    result.sockets = await runSockets(ctx);
    await pause();
  }
  if (wanted("mix")) {
    const mix = await runMix(ctx);
    result.mix = mix.figures;
    keepSamples("mix", mix.filledSamples, mix.acceptedSamples);
    await pause();
  }
  if (wanted("wsorders")) {
    result.wsorders = await runWsOrders(ctx, wsordersFirst);
  }
  http.close();
  result.finishedAt = new Date().toISOString();
  const pidsAtEnd = server.workerdPids();
  if (pidsAtStart.join() !== pidsAtEnd.join()) {
    result.notes.push(`workerd processes changed during the run (${pidsAtStart.join(",")} → ${pidsAtEnd.join(",")}): a restart resets Durable Objects and drops sockets; do not trust this run.`);
  }

  const dir = join(ROOT, "bench", "results");
  mkdirSync(dir, { recursive: true });
  const name = values.reference ? "reference" : startedAt.toISOString().replace(/[:.]/g, "-");
  writeFileSync(join(dir, `${name}.json`), JSON.stringify(result, null, 2) + "\n");
  const svg = svgChart(result);
  if (svg) writeFileSync(join(dir, `${name}.svg`), svg);
  console.log(markdown(result));
  console.log(`\nResults: bench/results/${name}.json${svg ? `, chart: bench/results/${name}.svg` : ""}`);
} catch (err) {
  console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
  process.exitCode = 1;
} finally {
  await stopServer();
}
