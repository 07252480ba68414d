// One chaos drill, start to finish: a desk under `wrangler dev` (its own fresh local state, unless --url),
// with the simulated venue or, for `alpaca-fake`, with EXCHANGE=alpaca against the fake Alpaca started beside
// it (venue.ts, alpaca-venue.ts); accounts and private instruments, sockets open for every trader, the order
// flow with faults injected along it, then settle, collect and check. `npm run chaos` and
// test/e2e/chaos.test.ts both call runChaos.
import { writeFileSync } from "node:fs";
import { startAlpacaPair } from "../alpaca-server.ts";
import { inBatches, HttpClient } from "../http.ts";
import { existingServer, startServer, type DeskServer } from "../server.ts";
import { summarize, tally, type Summary } from "../stats.ts";
import { sign } from "../tokens.ts";
import { AlpacaFakeVenue, ALPACA_CHAOS_VARS } from "./alpaca-venue.ts";
import { Api } from "./api.ts";
import { collect } from "./collect.ts";
import { ContingentFlow, withContingent } from "./contingent.ts";
import { readD1, type D1Snapshot } from "./d1.ts";
import { faultPlan, FaultSchedule, type FaultFigures } from "./faults.ts";
import { checkAll, type DrillEvidence, type Invariant } from "./invariants.ts";
import { contingentFigures } from "./legs.ts";
import { Load, type DrillTrader, type PriceMove } from "./load.ts";
import { answerOf } from "./management.ts";
import { DEPTH, drillInstruments, planActions, planOrders, PRICE_BAND_PCT, START_CASH_CENTS, START_SHARES } from "./scenario.ts";
import { settle, type SettleFigures } from "./settle.ts";
import { EventStream } from "./streams.ts";
import { SimulatedVenue, type DrillVenue, type VenueFigures, type VenueName } from "./venue.ts";

/**
 * Short venue timings so that a timeout, its retries and a lookup by key fit in a second or two, and the
 * per-trader order limit lifted (50/s would otherwise turn bursts into 429s): passed as `wrangler dev --var`.
 */
export const CHAOS_VARS: Readonly<Record<string, string>> = {
  EXCHANGE_TIMEOUT_MS: "400",
  RETRY_BASE_MS: "100",
  RETRY_MAX_ATTEMPTS: "5",
  RATE_LIMIT_PER_SECOND: "1000000",
  RATE_LIMIT_BURST: "1000000",
};

export interface ChaosOptions {
  traders: number;
  orders: number;
  seed: number;
  /** Orders per second over all traders. */
  rate: number;
  d1OutageS: number;
  /** The venue fillwire executes at: its simulated venue (default), or Alpaca's API served by the fake (EXCHANGE=alpaca). */
  venue?: VenueName;
  /** A running server (127.0.0.1) instead of a fresh one; `persistTo` is then its --persist-to, for the D1 check. */
  url?: string;
  persistTo?: string;
  /** With `url` and the alpaca-fake venue: the fake Alpaca that server talks to (http://127.0.0.1:PORT). */
  fakeUrl?: string;
  log(line: string): void;
  /** Hears how to stop the server this run started (for a SIGINT handler). */
  onServer?(stop: () => Promise<void>): void;
}

export interface LoadFigures {
  submitted: number;
  acknowledged: number;
  /** Submits priced again from the reference price a 400 named, by that first refusal. */
  repriced: Record<string, number>;
  /** Per kind of order: the answers to its submits, and the statuses its orders ended in. */
  byKind: Record<string, Record<string, number>>;
  outcomes: Record<string, Record<string, number>>;
  submitMs: Summary;
  cancels: Record<string, number>;
  /** Amends by how they were sent and their answer; cancel-alls and closes by their answer. */
  amends: Record<string, number>;
  cancelAlls: Record<string, number>;
  closes: Record<string, number>;
  priceMoves: PriceMove[];
  priceMoveErrors: string[];
  /** The contingent instrument's orders: parents by class, legs activated, exits filled, trailing stops triggered. */
  contingent: Record<string, number>;
  durationS: number;
  ordersPerSecond: number;
}

export interface ChaosResult {
  version: 1;
  startedAt: string;
  finishedAt: string;
  ok: boolean;
  settings: {
    venue: VenueName;
    url: string;
    ownServer: boolean;
    vars: Record<string, string>;
    traders: number;
    orders: number;
    seed: number;
    rate: number;
    sockets: number;
    instruments: { symbol: string; price: number; tick: number; depth: number; startShares: number }[];
    startingCash: number;
    startingShares: number;
  };
  notes: string[];
  /** The venue drilled, what each drill fault became there (and what could not be injected), and its own figures. */
  venue: VenueFigures;
  load: LoadFigures;
  faults: FaultFigures;
  /** Sends to the instruments with injected faults, as the desks' audit trails tell them. */
  venueSends: { sends: number; timedOut: number; errored: number; timeoutRate: number; errorRate: number };
  settle: SettleFigures & { d1CatchUpMs: number; d1CaughtUp: boolean };
  d1: { read: boolean; error: string | null; orders: number; fills: number; auditRows: number };
  invariants: Invariant[];
}

export async function runChaos(o: ChaosOptions): Promise<ChaosResult> {
  const startedAt = new Date();
  const notes: string[] = [];
  const venueName = o.venue ?? "simulated";
  const server = await startDesk(o, venueName, notes);
  const http = new HttpClient(server.url);
  const api = new Api(http, server.url);
  const traders: DrillTrader[] = [];
  try {
    const tokens = { admin: await sign("chaos-admin", "admin"), compliance: await sign("chaos-officer", "compliance") };
    const runId = `chaos${startedAt.getTime().toString(36)}`;
    const instruments = drillInstruments(`CX${runId.slice(-5).toUpperCase()}`);
    const exchangeTimeoutMs = Number(server.vars.EXCHANGE_TIMEOUT_MS ?? CHAOS_VARS.EXCHANGE_TIMEOUT_MS);
    const venue: DrillVenue = server.fakeUrl ? new AlpacaFakeVenue(server.fakeUrl, api, tokens.admin, exchangeTimeoutMs, o.seed) : new SimulatedVenue(api, tokens.admin);
    const setPrice = (symbol: string, priceCents: number) => venue.setPrice(symbol, priceCents);
    o.log(`run ${runId}: ${o.traders} traders, ${o.orders} orders, seed ${o.seed}, ${o.rate} orders/s on ${server.url} (venue ${venue.name})`);

    for (const i of instruments) await venue.addInstrument(i, DEPTH);
    const positions = instruments.filter((i) => i.startShares > 0).map((i) => ({ symbol: i.symbol, quantity: i.startShares, avg_price: i.priceCents / 100 }));
    const ids = Array.from({ length: o.traders }, (_, i) => `${runId}-${i}`);
    traders.push(
      ...(await inBatches(ids, 8, async (id) => {
        await api.adminWrite("PUT", `/api/v1/admin/accounts/${id}`, tokens.admin, { cash: START_CASH_CENTS / 100, positions }, 201);
        return { id, token: await sign(id, "trader"), streams: [] as EventStream[] };
      })),
    );
    // One stream per trader, and a second one for every fourth trader: each socket must get every event.
    await inBatches(traders, 8, async (t, i) => {
      for (let k = 0; k < (i % 4 === 0 ? 2 : 1); k++) {
        const stream = new EventStream(server.url, t.token, t.id);
        await stream.open();
        t.streams.push(stream);
      }
    });
    const sockets = traders.reduce((n, t) => n + t.streams.length, 0);
    o.log(`${traders.length} accounts opened, ${sockets} sockets open`);

    const plan = withContingent(planOrders(instruments, o.traders, o.orders, o.seed), instruments, o.seed);
    const flow = new ContingentFlow(api, setPrice, instruments.find((i) => i.contingent)!, o.seed, o.orders);
    const actions = planActions(instruments, plan, o.seed);
    let faults: FaultSchedule | null = null;
    let reported = 0;
    const load = new Load(api, traders, plan, {
      instruments, rate: o.rate, seed: o.seed, runId, actions, setPrice,
      sendContingent: (trader, planned, clientOrderId) => flow.send(trader, planned, clientOrderId),
      onProgress: (done, total) => {
        faults?.onProgress(done, total);
        flow.onProgress(done);
        if (Math.floor((done / total) * 10) > reported) {
          reported = Math.floor((done / total) * 10);
          o.log(`${done}/${total} orders sent`);
        }
      },
    });
    faults = new FaultSchedule(api, tokens, traders, load, faultPlan(o.traders, o.seed, exchangeTimeoutMs, o.d1OutageS), venue, o.log);
    await faults.arm(instruments);
    const loadStart = performance.now();
    await load.run();
    await flow.finish();
    const durationS = (performance.now() - loadStart) / 1000;
    const moves = [...load.moves, ...flow.moves].sort((a, b) => a.sentMs - b.sentMs);
    await faults.finish();
    o.log(`order flow done in ${durationS.toFixed(1)} s; waiting for the desks to go quiet`);

    const settled = await settle(api, traders, o.log);
    o.log("collecting the final state");
    let mark = performance.now();
    const state = await collect(api, server.url, tokens, traders, settled.orders, () => venue.ledger(instruments.map((i) => i.symbol)));
    o.log(`collected in ${((performance.now() - mark) / 1000).toFixed(1)} s (D1 caught up after ${(state.d1CatchUpMs / 1000).toFixed(1)} s); reading D1`);
    mark = performance.now();
    for (const t of traders) for (const s of t.streams) s.close();

    let d1: D1Snapshot | null = null;
    let d1Error: string | null = null;
    const persistDir = server.persistDir ?? o.persistTo ?? null;
    if (persistDir) {
      try {
        d1 = await readD1(persistDir, server.appDir, `${runId}-`);
      } catch (err) {
        d1Error = err instanceof Error ? err.message.slice(0, 2000) : String(err);
      }
    } else {
      d1Error = "no --persist-to for this --url server: D1 cannot be read directly";
    }
    o.log(`D1 read in ${((performance.now() - mark) / 1000).toFixed(1)} s; checking`);

    const cancelSentAt = new Map(settled.cancelSent);
    for (const [id, at] of load.cancelSentAt) cancelSentAt.set(id, Math.min(at, cancelSentAt.get(id) ?? Infinity));
    const bandPct = Number(server.vars.PRICE_BAND_PCT ?? PRICE_BAND_PCT);
    const evidence: DrillEvidence = {
      venue: venue.name, instruments, state, d1, d1Error, submits: load.submits, settle: settled.figures, ordersAtQuiet: settled.atQuiet, faults: faults.figures, moves, cancelSentAt, bandPct,
      amends: load.amends, cancelAlls: load.cancelAlls, closes: load.closes,
    };
    const invariants = checkAll(evidence);
    if (process.env.CHAOS_DUMP) {
      // Everything the checks read, for looking into a failure: CHAOS_DUMP=<file>.
      const traders = state.traders.map((t) => ({ ...t, audit: Object.fromEntries(t.audit), streams: t.streams.map((s) => s.figures) }));
      writeFileSync(process.env.CHAOS_DUMP, JSON.stringify({ traders, venue: state.venue, submits: load.submits, cancels: load.cancels, amends: load.amends, cancelAlls: load.cancelAlls, closes: load.closes, moves, cancelSentAt: Object.fromEntries(cancelSentAt) }));
      writeFileSync(`${process.env.CHAOS_DUMP}.log`, server.log());
      o.log(`wrote the evidence to ${process.env.CHAOS_DUMP} (and what the server printed last to ${process.env.CHAOS_DUMP}.log)`);
    }
    const acked = load.submits.filter((s) => s.orderId !== null);
    const byKind: Record<string, Record<string, number>> = {};
    for (const s of load.submits) {
      const k = (byKind[s.kind] ??= {});
      const label = s.orderId ? "201" : (s.code ?? String(s.status));
      k[label] = (k[label] ?? 0) + 1;
    }
    const kindOf = new Map(acked.map((s) => [s.orderId!, s.kind]));
    const outcomes: Record<string, Record<string, number>> = {};
    for (const t of state.traders) {
      for (const order of t.orders) {
        const k = (outcomes[kindOf.get(order.id) ?? "unacknowledged"] ??= {});
        const label = order.status === "CANCELLED" && order.filled_quantity > 0 ? "CANCELLED after fills" : order.status;
        k[label] = (k[label] ?? 0) + 1;
      }
    }
    const exercised = invariants.find((i) => i.id === "faults-exercised")!.counts;
    const sends = exercised["sends to the faulty instruments"] ?? 0;
    const venueSends = {
      sends, timedOut: exercised["of which timed out"] ?? 0, errored: exercised["of which errored"] ?? 0,
      timeoutRate: sends ? Math.round(((exercised["of which timed out"] ?? 0) / sends) * 1000) / 1000 : 0,
      errorRate: sends ? Math.round(((exercised["of which errored"] ?? 0) / sends) * 1000) / 1000 : 0,
    };
    const injected = faults.figures.plan.venue.timeout_rate ?? 0;
    if (venueSends.timeoutRate > injected + 0.1) {
      notes.push(
        `${Math.round(venueSends.timeoutRate * 100)}% of sends to the faulty instruments timed out against ${Math.round(injected * 100)}% injected: ` +
          "the desk was overloaded (answers slower than EXCHANGE_TIMEOUT_MS), so more orders than planned ran out of retries. Lower --rate.",
      );
    }
    const venueFigures = await venue.figures();
    return {
      version: 1,
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      ok: invariants.every((i) => i.ok),
      settings: {
        venue: venueName, url: server.url, ownServer: server.owned, vars: withoutSecrets(server.vars), traders: o.traders, orders: o.orders, seed: o.seed, rate: o.rate, sockets,
        instruments: instruments.map((i) => ({ symbol: i.symbol, price: i.priceCents / 100, tick: i.tickCents / 100, depth: DEPTH, startShares: i.startShares })),
        startingCash: START_CASH_CENTS / 100, startingShares: START_SHARES,
      },
      notes,
      venue: venueFigures,
      load: {
        submitted: load.submits.length, acknowledged: acked.length, repriced: tally(load.submits.filter((s) => s.repricedAfter).map((s) => s.repricedAfter!)), byKind, outcomes, submitMs: summarize(load.submits.map((s) => s.ms)),
        cancels: tally(load.cancels.map((c) => (c.status === 200 ? "200" : (c.code ?? String(c.status))))),
        amends: tally(load.amends.map((a) => `${a.how} ${answerOf(a)}`)),
        cancelAlls: tally(load.cancelAlls.map((r) => `${r.symbol ? (r.side ? "symbol+side" : "symbol") : "all"} ${r.status === 200 ? `200: ${(r.results ?? []).map((x) => x.status).join("/") || "none working"}` : (r.code ?? r.status)}`)),
        closes: tally(load.closes.map((r) => `${r.symbol === null ? "all" : r.quantity !== null ? "shares" : r.percentage !== null ? "percent" : "position"} ${r.status === 200 || r.status === 201 ? `${r.status} (${r.orders.length} order${r.orders.length === 1 ? "" : "s"}${r.errors.length ? `, ${r.errors.length} not closed` : ""})` : (r.code ?? r.status)}`)),
        priceMoves: moves, priceMoveErrors: [...load.moveErrors, ...flow.figures().pathErrors],
        contingent: { ...contingentFigures(evidence), "ocos and SELL trailing stops not placed (their shares' MARKET BUY filled nothing)": flow.figures().notPlaced },
        durationS: Math.round(durationS * 10) / 10, ordersPerSecond: Math.round((load.submits.length / durationS) * 10) / 10,
      },
      faults: faults.figures,
      venueSends,
      settle: { ...settled.figures, d1CatchUpMs: state.d1CatchUpMs, d1CaughtUp: state.d1CaughtUp },
      d1: { read: d1 !== null, error: d1Error, orders: d1?.orders.length ?? 0, fills: d1?.fills.length ?? 0, auditRows: d1?.logs.length ?? 0 },
      invariants,
    };
  } catch (err) {
    // A run that could not finish: say what wrangler dev said last, which is gone once it is stopped.
    const said = server.log().trim().split("\n").slice(-40).join("\n");
    if (err instanceof Error && said) err.message += `\n--- wrangler dev said last:\n${said}`;
    throw err;
  } finally {
    for (const t of traders) for (const s of t.streams) s.close();
    http.close();
    await server.stop();
  }
}

/** A desk to drill, and the fake Alpaca's URL when it executes there: started fresh, or the running ones of --url (and --fake-url). */
async function startDesk(o: ChaosOptions, venue: VenueName, notes: string[]): Promise<DeskServer & { fakeUrl: string | null }> {
  if (o.url) {
    if (venue === "alpaca-fake" && !o.fakeUrl) throw new Error("--venue alpaca-fake with --url needs --fake-url: the fake Alpaca that server talks to");
    notes.push(`Ran against ${o.url}: its own vars apply (the drill expects EXCHANGE_TIMEOUT_MS 400, RETRY_BASE_MS 100, CHAOS_DRILLS=true${venue === "alpaca-fake" ? `, EXCHANGE=alpaca at ${o.fakeUrl}` : ""}).`);
    return { ...(await existingServer(o.url)), fakeUrl: venue === "alpaca-fake" ? o.fakeUrl!.replace(/\/$/, "") : null };
  }
  if (venue === "simulated") {
    o.log(`starting wrangler dev with --var ${Object.entries(CHAOS_VARS).map(([k, v]) => `${k}:${v}`).join(" ")} (rate limit lifted)`);
    const server = await startServer({ ...CHAOS_VARS }, false);
    o.onServer?.(() => server.stop());
    notes.push(`Own wrangler dev with ${Object.entries(CHAOS_VARS).map(([k, v]) => `${k}=${v}`).join(", ")} (--var): short venue timings, per-trader rate limit lifted.`);
    return { ...server, fakeUrl: null };
  }
  const vars = { ...CHAOS_VARS, ...ALPACA_CHAOS_VARS };
  o.log(`starting the fake Alpaca, then wrangler dev with EXCHANGE=alpaca pointed at it and --var ${Object.entries(vars).map(([k, v]) => `${k}:${v}`).join(" ")}`);
  const pair = await startAlpacaPair(vars);
  o.onServer?.(() => pair.stop());
  notes.push(
    `Own fake Alpaca (${pair.fake.url}) and wrangler dev with EXCHANGE=alpaca pointed at it, ${Object.entries(vars).map(([k, v]) => `${k}=${v}`).join(", ")} (--var): ` +
      "short venue timings, per-trader rate limit lifted, reference prices cached 250 ms, the stream link reconnecting from 200 ms.",
  );
  return { ...pair.desk, vars: pair.vars, log: () => `${pair.desk.log()}\n--- the fake Alpaca said last:\n${pair.fake.log().split("\n").slice(-20).join("\n")}`, stop: pair.stop, fakeUrl: pair.fake.url };
}

/** The vars as the result keeps them: without API keys (the fake's own, but keys all the same). */
function withoutSecrets(vars: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(vars).filter(([k]) => !/KEY/.test(k)));
}
