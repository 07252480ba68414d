// What a chaos run prints (a summary of the load and the faults, then the invariants as a table) and the
// JSON it leaves in bench/results/chaos-<timestamp>.json.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "../server.ts";
import type { ChaosResult } from "./drill.ts";

const fmt = (counts: Record<string, number>) =>
  Object.entries(counts)
    .map(([k, v]) => `${k} ${v.toLocaleString("en-US")}`)
    .join(", ");

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const part of text.split(", ")) {
    const next = line ? `${line}, ${part}` : part;
    if (next.length > width && line) {
      lines.push(`${line},`);
      line = part;
    } else line = next;
  }
  if (line) lines.push(line);
  return lines;
}

export function renderReport(r: ChaosResult): string {
  const out: string[] = [];
  const s = r.settings;
  out.push(`fillwire chaos drill  ${r.startedAt} -> ${r.finishedAt}`);
  // Numbers as numbers (1,000,000); the alpaca-fake venue's URLs and names as they are.
  const vars = Object.entries(s.vars).map(([k, v]) => `${k} ${Number.isFinite(Number(v)) ? Number(v).toLocaleString("en-US") : v}`).join(", ");
  out.push(`server ${s.url} (${s.ownServer ? "own wrangler dev" : "existing"}); vars ${vars}`);
  for (const n of r.notes) out.push(`note: ${n}`);
  out.push(`load: ${s.traders} traders, ${r.load.submitted} orders (${r.load.acknowledged} acknowledged) in ${r.load.durationS} s = ${r.load.ordersPerSecond}/s, ${s.sockets} sockets, seed ${s.seed}`);
  for (const [kind, counts] of Object.entries(r.load.byKind)) out.push(`  ${kind.padEnd(17)} ${fmt(counts)}; ended ${fmt(r.load.outcomes[kind] ?? {})}`);
  out.push(`  submit round trip ms: p50 ${r.load.submitMs.p50}, p99 ${r.load.submitMs.p99}, max ${r.load.submitMs.max}`);
  // The contingent instrument (no shares at the start) moves along its own path, not through resting stops.
  const onPath = new Set(s.instruments.filter((i) => i.startShares === 0).map((i) => i.symbol));
  const pathMoves = r.load.priceMoves.filter((m) => onPath.has(m.symbol)).length;
  out.push(`  cancels during the flow: ${fmt(r.load.cancels) || "none"}; admin price moves: ${r.load.priceMoves.length} (${pathMoves} along the contingent instrument's path)${r.load.priceMoveErrors.length ? ` (${r.load.priceMoveErrors.length} failed)` : ""}`);
  out.push(`  amends: ${fmt(r.load.amends) || "none"}`);
  out.push(`  cancel-alls: ${fmt(r.load.cancelAlls) || "none"}; closes: ${fmt(r.load.closes) || "none"}`);
  const gaps = r.load.priceMoves.filter((m) => m.kind !== "drift");
  out.push(
    `  gaps: ${gaps.length} (${gaps.map((m) => `${m.symbol.split("_").pop()} ${m.from}->${m.price} ${((m.price / m.from - 1) * 100).toFixed(1)}% ${onPath.has(m.symbol) ? "on its path" : `through ${m.restingStops} stop(s)`}`).join("; ") || "none"})`,
  );
  for (const [i, line] of wrap(fmt(r.load.contingent), 110).entries()) out.push(`${i === 0 ? "  contingent: " : "              "}${line}`);
  if (Object.keys(r.load.repriced).length > 0) out.push(`  re-priced after a 400 naming the reference price: ${fmt(r.load.repriced)}`);
  out.push("faults:");
  for (const [symbol, f] of Object.entries(r.faults.venue)) out.push(`  venue ${symbol}: ${JSON.stringify(f)}`);
  if (r.venue && r.venue.name !== "simulated") {
    out.push(`  at the ${r.venue.name} venue, each drill fault became:`);
    for (const m of r.venue.mapping) out.push(`    [${m.applicable === "yes" ? "maps" : m.applicable === "partly" ? "partly" : "n/a"}] ${m.drill} -> ${m.venue}`);
    for (const [i, line] of wrap(fmt(r.venue.counts), 110).entries()) out.push(`${i === 0 ? "  venue figures: " : "                 "}${line}`);
    for (const n of r.venue.notes) out.push(`  ${n}`);
  }
  const v = r.venueSends;
  out.push(`  sends to the faulty instruments: ${v.sends}, timed out ${v.timedOut} (${(v.timeoutRate * 100).toFixed(1)}%), errored ${v.errored} (${(v.errorRate * 100).toFixed(1)}%)`);
  const o = r.faults.d1Outage;
  out.push(
    o
      ? `  D1 outage ${o.seconds} s from ${o.armed}: ${o.acknowledgedDuring} orders acknowledged meanwhile; D1 rows stamped in the window, read ${o.sampledInWindow ? "inside" : "AFTER"} it (${o.sampleStartedAt.slice(11, 23)}): ${o.d1RowsStampedDuring}`
      : "  D1 outage: did not run",
  );
  out.push(`  desk restarts: ${r.faults.restarts.length} (${r.faults.restarts.map((x) => `${x.trader}${x.msAfterAck !== null ? ` ${x.msAfterAck} ms after a 201` : ""}`).join("; ")})`);
  out.push(`  socket drops forced: ${r.faults.socketDrops.reduce((n, d) => n + d.traders.length, 0)}`);
  const st = r.settle;
  out.push(`settle: quiet ${(st.quietAfterLoadMs / 1000).toFixed(1)} s after the flow; ${st.workingAtEnd} working orders cancelled (${fmt(st.cancelAnswers) || "none"}); D1 caught up in ${(st.d1CatchUpMs / 1000).toFixed(1)} s${st.d1CaughtUp ? "" : " (NOT caught up)"}`);
  out.push(`D1 read directly: ${r.d1.read ? `${r.d1.orders} orders, ${r.d1.fills} fills, ${r.d1.auditRows} audit rows` : `no (${r.d1.error})`}`);
  out.push("");
  const width = 100;
  out.push(`${"invariant".padEnd(22)} ${"result".padEnd(6)} counts`);
  out.push("-".repeat(22 + 1 + 6 + 1 + width));
  for (const inv of r.invariants) {
    const lines = wrap(fmt(inv.counts), width);
    out.push(`${inv.id.padEnd(22)} ${(inv.ok ? "PASS" : "FAIL").padEnd(6)} ${lines[0] ?? ""}`);
    for (const l of lines.slice(1)) out.push(`${" ".repeat(30)}${l}`);
    out.push(`${" ".repeat(30)}(${inv.title})`);
    for (const f of inv.failures) out.push(`${" ".repeat(30)}! ${f}`);
    if (inv.failureCount > inv.failures.length) out.push(`${" ".repeat(30)}! ... ${inv.failureCount - inv.failures.length} more`);
  }
  out.push("");
  const failed = r.invariants.filter((i) => !i.ok);
  out.push(failed.length === 0 ? `ALL ${r.invariants.length} INVARIANTS HOLD` : `${failed.length} OF ${r.invariants.length} INVARIANTS FAILED: ${failed.map((i) => i.id).join(", ")}`);
  return out.join("\n");
}

/** Writes the result to bench/results/chaos-<timestamp>.json and returns the path. */
export function writeResult(r: ChaosResult): string {
  const dir = join(ROOT, "bench", "results");
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `chaos-${r.startedAt.replace(/[:.]/g, "-")}.json`);
  writeFileSync(path, `${JSON.stringify(r, null, 2)}\n`);
  return path;
}
