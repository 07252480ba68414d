// The drill's venue when fillwire runs with EXCHANGE=alpaca against the fake Alpaca (test/fake-alpaca): its
// instruments and prices are the fake's (POST /_fake/instruments/:symbol), its faults the fake's own, and its
// ledger the fake's orders and executions (GET /_fake/orders), read as Alpaca order chains per fillwire order.
// The fake decides its order faults per symbol and per attempt of a client_order_id (the first POST hangs,
// answers late, is recorded late, or fails), not per attempt at random as the simulated venue does, so the
// drill's rates become time windows: every WINDOW_MS each faulty instrument gets a seeded fault kind for the
// first attempt of the orders sent meanwhile. Account-wide one-shot failures (fail_next) and stream drops
// come at fixed points of the order flow. What the fake cannot do is said in MAPPING, and in the report.
import { z } from "zod";
import type { AccountFaults, FailNext, SymbolFaults } from "../../test/fake-alpaca/faults.ts";
import type { Api } from "./api.ts";
import type { FaultPlan, VenueFaults } from "./faults.ts";
import { random, type InstrumentSpec } from "./scenario.ts";
import { chainsOf, FakeOrder } from "./alpaca-ledger.ts";
import type { DrillVenue, FaultMapping, VenueFigures, VenueLedger } from "./venue.ts";

const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms));

/**
 * fillwire's vars for the drill against the fake, on top of its short venue timings: reference prices
 * cached 250 ms (the desk keeps its own for up to 10 s on top: the drill re-prices what a stale reference
 * refuses), and the stream link reconnecting from 200 ms after a drop.
 */
export const ALPACA_CHAOS_VARS: Readonly<Record<string, string>> = { ALPACA_QUOTE_TTL_MS: "250", ALPACA_RECONNECT_BASE_MS: "200" };

/** How long one fault window lasts on each instrument (ms). */
const WINDOW_MS = 1000;
/**
 * Each window's kind and its share of the windows: 30% timeouts and 5% errors in all, as the simulated plan.
 * No 429 windows: a 429 stops every request of fillwire's to the host until X-RateLimit-Reset (as it should),
 * so a window of them would fail every instrument's sends for a second or two; 429s come from fail_next.
 */
type WindowKind = "none" | "hang" | "late" | "slow" | "500" | "503";
const WINDOWS: readonly [WindowKind, number][] = [["hang", 0.2], ["late", 0.05], ["slow", 0.05], ["500", 0.025], ["503", 0.025]];
/** The share of windows in which an instrument also drops the stream after the first execution of a multi-level fill. */
const DROP_MID_FILL_SHARE = 0.1;
/** When (fraction of the order flow) account-wide failures are queued, and when the stream is dropped (the middle one refusing the next upgrade too). */
const FAIL_NEXT_AT = [0.1, 0.3, 0.5, 0.7, 0.9];
const STREAM_DROPS_AT = [0.2, 0.5, 0.8];

/**
 * Account-wide failures, each for the next request that matches (the fake takes them off its queue). A 429
 * (X-RateLimit-Reset the next second) joins them at 30% (on a lookup) and 70% (on a submit) only: fillwire
 * then sends nothing to the host until the reset, every desk's orders included.
 */
const RATE_LIMITED_AT: ReadonlyMap<number, FailNext> = new Map([
  [0.3, { method: "GET", path: "/v2/orders:by_client_order_id", status: 429, reset_in_ms: 0 }],
  [0.7, { method: "POST", path: "/v2/orders", status: 429, reset_in_ms: 0 }],
]);
const FAIL_NEXT: readonly FailNext[] = [
  { method: "DELETE", path: "/v2/orders/", status: 504, after_effect: true },
  { method: "PATCH", path: "/v2/orders/", status: 504, after_effect: true },
  { method: "DELETE", path: "/v2/orders/", status: 500 },
  { method: "POST", path: "/v2/orders", status: 504, after_effect: true },
  { method: "GET", path: "/v2/account/activities", status: 503 },
  { method: "GET", path: "/v2/stocks/", status: 503 },
];

/** What each drill fault becomes against the fake (the report prints it). */
export const MAPPING: readonly FaultMapping[] = [
  {
    drill: "venue timeouts, 30% of attempts (timeout_rate 0.3, drawn per attempt)",
    venue: `${WINDOW_MS} ms windows per instrument: 20% timeout_first_attempts 1 or 2 (the first POSTs /v2/orders of an order hang past the desk's timeout and are dropped), 5% late_first_attempts 1 (recorded and trading at once, answered 200 ms after the timeout), 5% slow_first_attempts 1 (recorded only 300 ms after the timeout, while the retry is on its way)`,
    applicable: "partly",
  },
  { drill: "venue errors, 5% of attempts (error_rate 0.05)", venue: "the same windows: 2.5% answer 500, 2.5% 503 (error_first_attempts 1); 429s come from fail_next (below), as fillwire stops sending to the host until X-RateLimit-Reset", applicable: "partly" },
  { drill: "25 ms latency on every venue call (latency_ms 25)", venue: "none: the fake answers at once", applicable: "no" },
  {
    drill: "the slow instrument: every answer 200 ms past the desk's timeout",
    venue: "late_first_attempts 1, late_ms timeout+200 on every order of it (recorded and trading at once, its answer lost; found by lookup). Its cancels and amends are answered at once",
    applicable: "partly",
  },
  {
    drill: "the slow instrument's cancels and amends not confirmed in time (503), the venue reporting their outcome on its own",
    venue: "account-wide fail_next at 10/30/50/70/90% of the flow: a DELETE and a PATCH /v2/orders/{id} that take effect but answer 504 (after_effect), a DELETE answered 500 without effect; not tied to an instrument",
    applicable: "partly",
  },
  {
    drill: "(Alpaca only) lookups rate limited, an order made but its answer lost, reconcile and market data failing",
    venue: "the same fail_next steps: 504 after effect on POST /v2/orders, 503 on GET /v2/account/activities and on market data; at 30% a 429 (X-RateLimit-Reset the next second) on GET /v2/orders:by_client_order_id, at 70% one on POST /v2/orders",
    applicable: "yes",
  },
  {
    drill: "(Alpaca only) the trade_updates stream dropping",
    venue: `POST /_fake/stream/drop at ${STREAM_DROPS_AT.map((p) => `${p * 100}%`).join(", ")} of the flow (at 50% with the next upgrade refused: refuse_streams 1); drop_stream_mid_fill on ${DROP_MID_FILL_SHARE * 100}% of each instrument's windows`,
    applicable: "yes",
  },
  { drill: "admin price moves (PUT /api/v1/admin/instruments/:symbol)", venue: "POST /_fake/instruments/:symbol {price}: the fake trades what the move crosses before it answers", applicable: "yes" },
  { drill: "D1 outage, desk restarts, client socket drops", venue: "fillwire's drill routes and the drill's sockets, as on the simulated venue", applicable: "yes" },
];

const NOT_APPLICABLE = [
  "the 25 ms latency of every venue call: the fake has no latency for answered requests",
  "per-attempt random draws of timeouts and errors: the fake decides per symbol and per attempt number, so only first attempts fail, in time windows",
  "the slow instrument's late cancels and amends (503, then the venue's own report): the fake answers DELETE and PATCH at once; account-wide after-effect failures stand in",
  "a cancel of an order the venue never had leaving a record (the simulated venue's tombstone): Alpaca holds nothing for it, so no-double-execution accepts an order CANCELLED with nothing filled that the fake never had when a cancel of it was asked (or it is a contingent exit the desk cancelled)",
];

const FakeInstrument = z.object({ symbol: z.string(), price_cents: z.number().int(), tick_cents: z.number().int(), depth: z.number().int() });
const FakeRequest = z.object({ seq: z.number().int(), method: z.string(), path: z.string(), status: z.number().int() });
const FakeSettings = z.object({ fail_next: z.array(z.unknown()).optional() }).loose();
const Dropped = z.object({ dropped: z.number().int() });
const LinkStatus = z.object({
  exchange: z.literal("alpaca"),
  stream: z.object({ state: z.string(), reconnects: z.number().int() }),
  reports_owed: z.number().int(), fills_applied: z.number().int(), foreign_events: z.number().int(), late_orders: z.number().int(), unbooked_fills: z.number().int(),
});

/** The fake's /_fake control API (no keys), with a few tries on network errors and 5xx. */
class FakeControl {
  readonly url: string;
  constructor(url: string) {
    this.url = url.replace(/\/$/, "");
  }

  async call<T>(method: "GET" | "POST", path: string, schema: z.ZodType<T>, body?: unknown): Promise<T> {
    let last: unknown = null;
    for (let attempt = 0; attempt < 5; attempt++) {
      if (attempt > 0) await sleep(200 * 2 ** (attempt - 1));
      try {
        const res = await fetch(`${this.url}${path}`, {
          method, headers: body === undefined ? {} : { "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(30_000),
        });
        const text = await res.text();
        if (res.ok) return schema.parse(JSON.parse(text));
        last = new Error(`fake ${method} ${path}: ${res.status} ${text.slice(0, 300)}`);
        if (res.status < 500) break;
      } catch (err) {
        if (err instanceof z.ZodError) throw new Error(`fake ${method} ${path}: unexpected answer shape: ${err.message}`);
        last = err;
      }
    }
    throw last instanceof Error ? last : new Error(`fake ${method} ${path} failed`);
  }
}

/** The fake's request log as tallies: "POST /v2/orders 504", "DELETE /v2/orders/{id} 204", ... */
function requestTally(requests: readonly z.infer<typeof FakeRequest>[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of requests) {
    const path = r.path.split("?")[0]!.replace(/^\/v2\/orders\/[^/]+$/, "/v2/orders/{id}").replace(/^\/v2\/stocks\/[^/]+\//, "/v2/stocks/{symbol}/");
    const key = `fake answered ${r.method} ${path} ${r.status}`;
    out[key] = (out[key] ?? 0) + 1;
  }
  return out;
}

export class AlpacaFakeVenue implements DrillVenue {
  readonly name = "alpaca-fake" as const;
  readonly errors: string[] = [];
  private readonly fake: FakeControl;
  private readonly api: Api;
  private readonly adminToken: string;
  private readonly exchangeTimeoutMs: number;
  private readonly r: () => number;
  /** The instruments whose first attempts fail in windows, and each one's current window. */
  private rotated: InstrumentSpec[] = [];
  private readonly current = new Map<string, string>();
  private timer: ReturnType<typeof setInterval> | null = null;
  private rotating: Promise<void> = Promise.resolve();
  private readonly pending: Promise<void>[] = [];
  private readonly fired = new Set<string>();
  private readonly counts: Record<string, number> = {};
  /** Each change of an instrument's faults (the fault windows), for finding what a failure ran into. */
  private readonly windowLog: { at: string; symbol: string; faults: SymbolFaults }[] = [];

  /** `fakeUrl`: the fake's http://127.0.0.1:PORT; `exchangeTimeoutMs`: fillwire's EXCHANGE_TIMEOUT_MS, which the fault delays are set past. */
  constructor(fakeUrl: string, api: Api, adminToken: string, exchangeTimeoutMs: number, seed: number) {
    this.fake = new FakeControl(fakeUrl);
    this.api = api;
    this.adminToken = adminToken;
    this.exchangeTimeoutMs = exchangeTimeoutMs;
    this.r = random(seed ^ 0xa1_9a_ca);
  }

  private add(key: string, n = 1): void {
    this.counts[key] = (this.counts[key] ?? 0) + n;
  }

  async addInstrument(spec: InstrumentSpec, depth: number): Promise<void> {
    const made = await this.fake.call("POST", `/_fake/instruments/${spec.symbol}`, FakeInstrument, { price: spec.priceCents / 100, tick: spec.tickCents / 100, depth, priced: true, faults: {} });
    if (made.price_cents !== spec.priceCents || made.tick_cents !== spec.tickCents || made.depth !== depth) throw new Error(`${spec.symbol}: the fake answered ${JSON.stringify(made)}`);
  }

  async setPrice(symbol: string, priceCents: number): Promise<void> {
    const moved = await this.fake.call("POST", `/_fake/instruments/${symbol}`, FakeInstrument, { price: priceCents / 100 });
    if (moved.price_cents !== priceCents) throw new Error(`${symbol}: moved to ${priceCents / 100}, the fake answered ${JSON.stringify(moved)}`);
  }

  async armFaults(instruments: readonly InstrumentSpec[], plan: FaultPlan): Promise<Record<string, VenueFaults>> {
    const armed: Record<string, VenueFaults> = {};
    this.rotated = instruments.filter((i) => !i.slow);
    for (const spec of instruments.filter((i) => i.slow)) {
      const faults: SymbolFaults = { late_first_attempts: 1, late_ms: this.exchangeTimeoutMs + 200 };
      await this.setFaults(spec.symbol, faults);
      armed[spec.symbol] = { latency_ms: this.exchangeTimeoutMs + 200 };
    }
    for (const spec of this.rotated) armed[spec.symbol] = { timeout_rate: plan.venue.timeout_rate, error_rate: plan.venue.error_rate, seed: plan.venue.seed };
    await this.rotate();
    this.timer = setInterval(() => {
      this.rotating = this.rotating.then(() => this.rotate()).catch((err: unknown) => void this.errors.push(`fault window: ${String(err)}`));
    }, WINDOW_MS);
    return armed;
  }

  onProgress(at: number): void {
    const due = (name: string, point: number) => {
      if (at < point || this.fired.has(name)) return false;
      this.fired.add(name);
      return true;
    };
    const track = (step: Promise<void>) => this.pending.push(step.catch((err: unknown) => void this.errors.push(String(err))));
    FAIL_NEXT_AT.forEach((p, i) => {
      if (due(`fail${i}`, p)) track(this.queueFailures(RATE_LIMITED_AT.get(p) ?? null));
    });
    STREAM_DROPS_AT.forEach((p, i) => {
      if (due(`drop${i}`, p)) track(this.dropStream(p === 0.5));
    });
  }

  async finishFaults(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.rotating;
    await Promise.all(this.pending);
    // The windows end with the flow (the slow instrument's late answers stay); failures still queued are counted and cleared.
    for (const spec of this.rotated) await this.setFaults(spec.symbol, {});
    const left = await this.fake.call("POST", "/_fake/faults", FakeSettings, {});
    this.add("fail_next left untaken at the end", left.fail_next?.length ?? 0);
    await this.fake.call("POST", "/_fake/faults", FakeSettings, { fail_next: [], refuse_streams: 0 } satisfies AccountFaults);
  }

  async ledger(symbols: readonly string[]): Promise<VenueLedger> {
    const mine = new Set(symbols);
    const orders = (await this.fake.call("GET", "/_fake/orders", z.array(FakeOrder))).filter((o) => mine.has(o.order.symbol));
    return { rows: chainsOf(orders), recordsUnknownCancels: false };
  }

  async figures(): Promise<VenueFigures> {
    const notes: string[] = [];
    const counts = { ...this.counts };
    try {
      Object.assign(counts, requestTally(await this.fake.call("GET", "/_fake/requests", z.array(FakeRequest))));
    } catch (err) {
      notes.push(`the fake's request log could not be read: ${String(err)}`);
    }
    try {
      const link = LinkStatus.parse(await this.api.get("/api/v1/admin/venue", this.adminToken, z.unknown()));
      Object.assign(counts, {
        "link: stream reconnects": link.stream.reconnects, "link: fills applied": link.fills_applied, "link: reports owed at the end": link.reports_owed,
        "link: foreign events": link.foreign_events, "link: orders that reached Alpaca after fillwire gave up": link.late_orders,
        "link: executions of ended orders, not booked (UNBOOKED)": link.unbooked_fills,
      });
      notes.push(`the stream link is ${link.stream.state} at the end`);
    } catch (err) {
      notes.push(`GET /api/v1/admin/venue could not be read: ${String(err)}`);
    }
    return { name: this.name, mapping: [...MAPPING], counts, notes: [...NOT_APPLICABLE.map((n) => `not applicable on alpaca-fake: ${n}`), ...notes], log: [...this.windowLog] };
  }

  private async setFaults(symbol: string, faults: SymbolFaults): Promise<void> {
    await this.fake.call("POST", `/_fake/instruments/${symbol}`, FakeInstrument, { faults });
  }

  /** A new window on every rotated instrument: a seeded kind for the first attempts sent in it (only changes are sent). */
  private async rotate(): Promise<void> {
    for (const spec of this.rotated) {
      let x = this.r();
      const kind: WindowKind = WINDOWS.find(([, share]) => (x -= share) < 0)?.[0] ?? "none";
      const dropMidFill = this.r() < DROP_MID_FILL_SHARE;
      this.add(`windows ${kind}`);
      if (dropMidFill) this.add("windows dropping the stream mid-fill");
      const faults = this.faultsOf(kind, dropMidFill);
      const text = JSON.stringify(faults);
      if (this.current.get(spec.symbol) === text) continue;
      await this.setFaults(spec.symbol, faults);
      this.current.set(spec.symbol, text);
      this.windowLog.push({ at: new Date().toISOString(), symbol: spec.symbol, faults });
    }
  }

  private faultsOf(kind: WindowKind, dropMidFill: boolean): SymbolFaults {
    const t = this.exchangeTimeoutMs;
    const base: SymbolFaults = dropMidFill ? { drop_stream_mid_fill: true } : {};
    switch (kind) {
      case "none":
        return base;
      case "hang":
        return { ...base, timeout_first_attempts: this.r() < 0.5 ? 1 : 2, hang_ms: t + 600 };
      case "late":
        return { ...base, late_first_attempts: 1, late_ms: t + 200 };
      case "slow":
        return { ...base, slow_first_attempts: 1, slow_ms: t + 300 };
      case "500":
      case "503":
        return { ...base, error_first_attempts: 1, error_status: Number(kind) };
    }
  }

  private async queueFailures(rateLimit: FailNext | null): Promise<void> {
    const queue = rateLimit ? [...FAIL_NEXT, rateLimit] : [...FAIL_NEXT];
    await this.fake.call("POST", "/_fake/faults", FakeSettings, { fail_next: queue } satisfies AccountFaults);
    this.add("fail_next queued", queue.length);
  }

  private async dropStream(refuseNext: boolean): Promise<void> {
    if (refuseNext) await this.fake.call("POST", "/_fake/faults", FakeSettings, { refuse_streams: 1 } satisfies AccountFaults);
    const { dropped } = await this.fake.call("POST", "/_fake/stream/drop", Dropped, {});
    this.add("stream drops (scheduled)");
    this.add("stream connections dropped", dropped);
    if (refuseNext) this.add("stream upgrades refused (scheduled)");
  }
}
