// What a person reads: a Markdown summary table (printed at the end of a run) and an SVG chart of the
// submit → order.filled distribution, both built from the result JSON alone.
import type { FlowFigures, KindFigures } from "./flow.ts";
import type { BenchResult } from "./result.ts";
import { cdf, histogram, percentile, type Summary } from "./stats.ts";

// ---------------------------------------------------------------- Markdown

const ms = (v: number) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
const row = (cells: (string | number)[]) => `| ${cells.join(" | ")} |`;
const latencyRow = (phase: string, figure: string, s: Summary, beside = "") =>
  row([phase, figure, s.n, ms(s.p50), ms(s.p90), ms(s.p99), ms(s.max), beside]);
const countRow = (phase: string, figure: string, beside: string) => row([phase, figure, "", "", "", "", "", beside]);
const tallyText = (t: Record<string, number>) => {
  const entries = Object.entries(t);
  return entries.length === 0 ? "0" : entries.map(([k, v]) => `${v} × ${k}`).join(", ");
};
const mib = (kb: number) => `${(kb / 1024).toFixed(0)} MiB`;
/** workerd cores, or "?" when a workerd process was restarted during the measurement. */
const cores = (v: number | null) => (v === null ? "?" : String(v));

/** "submit → 201" over HTTP, "submit → ack" on the socket. */
const answerName = (f: FlowFigures) => (f.door === "socket" ? "ack" : "201");

function flowRows(phase: string, f: FlowFigures, floorP50: number | null): string[] {
  const vsFloor = floorP50 === null ? "" : `floor p50 ${ms(floorP50)}`;
  const d = f.delivery;
  const cpu = f.workerdCpuMsPerOrder === undefined || f.workerdCpuMsPerOrder === null ? "" : `; workerd ${ms(f.workerdCpuMsPerOrder)} ms CPU per order`;
  return [
    latencyRow(phase, `submit → ${answerName(f)}`, f.submitTo201, vsFloor),
    latencyRow(phase, "submit → order.filled (socket)", f.submitToFilled, vsFloor),
    latencyRow(phase, "event timestamp → arrival", f.eventGap),
    countRow(
      phase,
      "errors · events",
      `${f.accepted}/${f.submitted} accepted (${f.acceptedPerSecond}/s), errors ${tallyText(f.errors)}; ` +
        `events ${d.received}/${d.expected} on ${d.sockets} sockets, lost ${d.lost}, out of order ${d.outOfOrder}, dup ${d.duplicates}, dropped ${d.dropped}; ` +
        `unfinished ${f.unfinished}; unexpected ${tallyText(f.unexpected)}${cpu}`,
    ),
  ];
}

function kindRows(k: KindFigures, name: string, event: string): string[] {
  const rows = [latencyRow("mix", `${name}: submit → 201`, k.submitTo201), latencyRow("mix", `${name}: submit → ${event}`, k.submitToEvent)];
  if (k.submitToPartial) rows.push(latencyRow("mix", `${name}: submit → order.partial`, k.submitToPartial));
  if (k.amendTo200) rows.push(latencyRow("mix", `${name}: amend → 200`, k.amendTo200));
  if (k.amendToEvent) rows.push(latencyRow("mix", `${name}: amend → order.replaced`, k.amendToEvent));
  if (k.cancelTo200) rows.push(latencyRow("mix", `${name}: cancel → 200`, k.cancelTo200));
  if (k.cancelToEvent) rows.push(latencyRow("mix", `${name}: cancel → order.cancelled`, k.cancelToEvent));
  return rows;
}

export function markdown(r: BenchResult): string {
  const m = r.machine;
  const s = r.settings;
  const vars = Object.entries(s.vars).map(([k, v]) => `${k}=${v}`).join(", ");
  const out: string[] = [
    `## fillwire bench, ${r.startedAt.slice(0, 16).replace("T", " ")} UTC`,
    "",
    `${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB; ${m.os}; Node ${m.node}; wrangler ${m.wrangler} (workerd ${m.workerd}); load average ${m.loadAverageAtStart} at start.`,
    `Server: ${s.ownServer ? `own \`wrangler dev\` (fresh local state${vars ? `; --var ${vars}` : ""}; local observability ${s.localObservability ? "on" : "off"})` : `${s.url} (not started by the bench)`}. ` +
      `Load: ${s.traders} traders × ${s.rate} order/s × ${s.durationS} s; ${s.sockets} sockets; saturation steps ${s.levels.join(",")} × ${s.stepS} s.`,
    "",
  ];
  for (const note of r.notes) out.push(`> ${note}`, "");
  if (r.saturation) {
    const sat = r.saturation;
    out.push(
      `**Headline: ${sat.knee.ordersPerSecond} orders/s (full path, closed loop, knee at concurrency ${sat.knee.concurrency}) = ` +
        `${Math.round(sat.headlineRatio * 100)}% of the floor's ${sat.floorPeak} requests/s** ` +
        `(${Math.round(sat.knee.ratio * 100)}% of ${sat.knee.floorPerSecond} at the same concurrency).`,
      "",
    );
  }
  out.push(row(["phase", "figure", "n", "p50 ms", "p90 ms", "p99 ms", "max ms", "beside it"]), row(["---", "---", "--:", "--:", "--:", "--:", "--:", "---"]));
  const floorP50 = r.floor ? r.floor.open.latency.p50 : null;
  if (r.floor) {
    const f = r.floor;
    out.push(
      latencyRow("floor", `GET health, open loop ${f.open.clients} × ${f.open.ratePerClient}/s`, f.open.latency, `errors ${tallyText(f.open.errors)}`),
      latencyRow("floor", `GET health, closed loop c=${f.closed.concurrency}`, f.closed.latency, `**${f.closed.requestsPerSecond} req/s**, workerd ${cores(f.closed.cpu.workerd)} cores`),
    );
  }
  if (r.open) out.push(...flowRows("open", r.open, floorP50));
  if (r.saturation) {
    const k = r.saturation.steps.find((st) => st.concurrency === r.saturation!.knee.concurrency)!;
    out.push(
      latencyRow("saturation", `knee c=${k.concurrency}: submit → order.filled`, k.submitToFilled,
        `**${k.ordersPerSecond} orders/s** vs floor ${k.floor.requestsPerSecond} req/s (×${k.ratio}); workerd ${cores(k.cpu.workerd)} cores, bench ${k.cpu.bench}`),
    );
  }
  if (r.sockets) {
    const so = r.sockets;
    const mem = so.memory;
    out.push(
      latencyRow("sockets", "connect → acknowledged", so.connectTime,
        `**${so.connected}/${so.sockets} connected** over ${so.traders} traders; failures ${tallyText(so.connectFailures)}; ` +
          `workerd RSS ${mib(mem.before.rssKb)} → ${mib(mem.connected.rssKb)} held (${mem.perSocketKb} kB/socket) → ${mib(mem.afterFlow.rssKb)} after orders → ${mib(mem.afterClose.rssKb)} closed`),
      ...flowRows("sockets", so.flow, floorP50),
    );
  }
  if (r.mix) {
    const k = r.mix.byKind;
    if (k.market) out.push(...kindRows(k.market, "MARKET", "order.filled"));
    if (k.limit) out.push(...kindRows(k.limit, "LIMIT", "order.accepted (resting)"));
    if (k.amended) out.push(...kindRows(k.amended, "LIMIT amended", "order.accepted (resting)"));
    if (k.partial) out.push(...kindRows(k.partial, "TEST_PARTIAL", "order.filled"));
    out.push(flowRows("mix", r.mix, floorP50).at(-1)!, countRow("mix", "cancel errors", tallyText(r.mix.cancelErrors)));
    const a = r.mix.amends;
    if (a) {
      out.push(countRow("mix", "amends",
        `${a.ok}/${a.sent} amended; 409 on an order already final (filled meanwhile, not an error): ${tallyText(a.finalMeanwhile)}; errors ${tallyText(a.errors)}`));
    }
  }
  if (r.wsorders) {
    const w = r.wsorders;
    const halves = w.first === "socket" ? [w.socket, w.http] : [w.http, w.socket];
    for (const f of halves) out.push(...flowRows(`wsorders (${f.door === "socket" ? "socket" : "HTTP"})`, f, floorP50));
    const x = (v: number | null) => (v === null ? "?" : `×${v}`);
    out.push(countRow("wsorders", "socket ÷ HTTP",
      `**submit → answer p50 ${x(w.ratio.answerP50)}, p99 ${x(w.ratio.answerP99)}; submit → order.filled p50 ${x(w.ratio.filledP50)}, p99 ${x(w.ratio.filledP99)}**; ` +
        `workerd CPU per order ${x(w.ratio.cpuPerOrder)} (${w.first} half first)`));
  }
  if (r.saturation) {
    out.push(
      "",
      `Saturation (closed loop, each worker its own trader and socket, next order after order.filled; ${r.saturation.stepS} s per step; stopped: ${r.saturation.stoppedBecause}):`,
      "",
      row(["concurrency", "floor req/s", "orders/s", "ratio", "201 p50 ms", "filled p50 ms", "filled p99 ms", "workerd cores", "bench cores", "failures"]),
      row(["--:", "--:", "--:", "--:", "--:", "--:", "--:", "--:", "--:", "---"]),
      ...r.saturation.steps.map((st) =>
        row([st.concurrency, st.floor.requestsPerSecond, st.ordersPerSecond, st.ratio, ms(st.submitTo201.p50), ms(st.submitToFilled.p50), ms(st.submitToFilled.p99),
          cores(st.cpu.workerd), st.cpu.bench, tallyText(st.failures)]),
      ),
    );
  }
  return out.join("\n");
}

// ---------------------------------------------------------------- SVG

const W = 800;
const H = 470;
const PLOT = { left: 70, right: 730, top: 70, bottom: 370 };
const COLORS = { bars: "#9ec5e8", filled: "#1f5f99", accepted: "#d9822b", floor: "#7a7a7a", marker: "#444" };

const esc = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
const fixed = (v: number) => v.toFixed(1);

/** A round tick step giving about `count` ticks over `range`. */
function tickStep(range: number, count: number): number {
  const raw = range / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((f) => f * power).find((s) => s >= raw);
  return step ?? 10 * power;
}

export function svgChart(r: BenchResult): string | null {
  const filled = r.samples.submitToFilled;
  if (filled.length === 0) return null;
  const sorted = [...filled].sort((a, b) => a - b);
  // The axis ends past the 99.5th percentile so a few outliers do not squash the body; they fall in the last bin.
  const step = tickStep(percentile(sorted, 99.5) * 1.1, 8);
  const xMax = Math.ceil((percentile(sorted, 99.5) * 1.1) / step) * step;
  const bins = histogram(filled, 60, xMax);
  const peak = Math.max(...bins.map((b) => b.count));
  const yStep = tickStep(peak, 5);
  const yMax = Math.ceil(peak / yStep) * yStep;
  const x = (v: number) => PLOT.left + (Math.min(v, xMax) / xMax) * (PLOT.right - PLOT.left);
  const yCount = (c: number) => PLOT.bottom - (c / yMax) * (PLOT.bottom - PLOT.top);
  const yFrac = (f: number) => PLOT.bottom - f * (PLOT.bottom - PLOT.top);
  const parts: string[] = [];

  const source = r.samples.source ?? "open";
  const load = source === "open" ? r.open : source === "sockets" ? r.sockets?.flow : source === "mix" ? r.mix : undefined;
  const title = `submit → order.filled on the trader's socket: ${filled.length} orders, ${source} phase` +
    (load ? ` (${load.traders} traders × ${load.ratePerTrader}/s × ${load.durationS} s)` : "");
  const m = r.machine;
  parts.push(
    `<text x="${W / 2}" y="24" text-anchor="middle" font-size="15" font-weight="bold">${esc(title)}</text>`,
    `<text x="${W / 2}" y="44" text-anchor="middle" font-size="11" fill="#555">${esc(`fillwire under wrangler dev, ${r.startedAt.slice(0, 16).replace("T", " ")} UTC; ${m.cpu}, ${m.cores} cores; Node ${m.node}, wrangler ${m.wrangler}`)}</text>`,
  );

  // Grid and axes.
  for (let v = 0; v <= xMax + 1e-9; v += step) {
    parts.push(`<line x1="${fixed(x(v))}" y1="${PLOT.top}" x2="${fixed(x(v))}" y2="${PLOT.bottom}" stroke="#eee"/>`);
    parts.push(`<text x="${fixed(x(v))}" y="${PLOT.bottom + 16}" text-anchor="middle" font-size="11">${+v.toFixed(3)}</text>`);
  }
  for (let c = 0; c <= yMax; c += yStep) {
    parts.push(`<text x="${PLOT.left - 6}" y="${fixed(yCount(c) + 4)}" text-anchor="end" font-size="11">${c}</text>`);
  }
  for (let p = 0; p <= 100; p += 25) {
    parts.push(`<text x="${PLOT.right + 6}" y="${fixed(yFrac(p / 100) + 4)}" font-size="11">${p}%</text>`);
  }
  parts.push(
    `<line x1="${PLOT.left}" y1="${PLOT.bottom}" x2="${PLOT.right}" y2="${PLOT.bottom}" stroke="#333"/>`,
    `<line x1="${PLOT.left}" y1="${PLOT.top}" x2="${PLOT.left}" y2="${PLOT.bottom}" stroke="#333"/>`,
    `<line x1="${PLOT.right}" y1="${PLOT.top}" x2="${PLOT.right}" y2="${PLOT.bottom}" stroke="#333"/>`,
    `<text x="${(PLOT.left + PLOT.right) / 2}" y="${PLOT.bottom + 36}" text-anchor="middle" font-size="12">latency (ms)${sorted[sorted.length - 1]! > xMax ? `; the last bar holds everything above ${xMax} ms (max ${sorted[sorted.length - 1]!.toFixed(0)} ms)` : ""}</text>`,
    `<text transform="translate(18 ${(PLOT.top + PLOT.bottom) / 2}) rotate(-90)" text-anchor="middle" font-size="12">orders per bin (bars)</text>`,
    `<text transform="translate(${W - 12} ${(PLOT.top + PLOT.bottom) / 2}) rotate(90)" text-anchor="middle" font-size="12">cumulative share (lines)</text>`,
  );

  // Histogram bars.
  const barW = (PLOT.right - PLOT.left) / bins.length;
  bins.forEach((b, i) => {
    if (b.count === 0) return;
    const top = yCount(b.count);
    parts.push(`<rect x="${fixed(PLOT.left + i * barW + 0.5)}" y="${fixed(top)}" width="${fixed(barW - 1)}" height="${fixed(PLOT.bottom - top)}" fill="${COLORS.bars}"><title>${b.from.toFixed(1)}–${b.to.toFixed(1)} ms: ${b.count}</title></rect>`);
  });

  // CDF lines: this figure, submit → 201 and the floor.
  const line = (values: number[], color: string, dash: string) => {
    const pts = cdf(values).map((p) => `${fixed(x(p.value))},${fixed(yFrac(p.fraction))}`);
    return pts.length === 0 ? "" : `<polyline points="${pts.join(" ")}" fill="none" stroke="${color}" stroke-width="2"${dash ? ` stroke-dasharray="${dash}"` : ""}/>`;
  };
  parts.push(line(filled, COLORS.filled, ""), line(r.samples.submitTo201, COLORS.accepted, "6 3"), line(r.samples.floor, COLORS.floor, "2 3"));

  // Percentile markers.
  for (const [label, p] of [["p50", 50], ["p90", 90], ["p99", 99]] as const) {
    const v = percentile(sorted, p);
    parts.push(
      `<line x1="${fixed(x(v))}" y1="${PLOT.top}" x2="${fixed(x(v))}" y2="${PLOT.bottom}" stroke="${COLORS.marker}" stroke-dasharray="4 4"/>`,
      `<text x="${fixed(x(v) + 3)}" y="${PLOT.top + 12 + (p === 90 ? 14 : p === 99 ? 28 : 0)}" font-size="11" fill="${COLORS.marker}">${label} ${v.toFixed(1)} ms</text>`,
    );
  }

  // Legend.
  const legend: [string, string, string][] = [
    ["submit → order.filled (histogram and CDF)", COLORS.filled, ""],
    ["submit → HTTP 201 (CDF)", COLORS.accepted, "6 3"],
    ["floor: GET /api/v1/health (CDF)", COLORS.floor, "2 3"],
  ];
  legend.forEach(([text, color, dash], i) => {
    const ly = H - 34 + Math.floor(i / 2) * 18;
    const lx = PLOT.left + (i % 2) * 330;
    parts.push(
      `<line x1="${lx}" y1="${ly - 4}" x2="${lx + 26}" y2="${ly - 4}" stroke="${color}" stroke-width="2"${dash ? ` stroke-dasharray="${dash}"` : ""}/>`,
      `<text x="${lx + 32}" y="${ly}" font-size="11">${esc(text)}</text>`,
    );
  });

  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="system-ui, -apple-system, Segoe UI, sans-serif">`,
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
    ...parts.filter(Boolean),
    "</svg>",
    "",
  ].join("\n");
}
