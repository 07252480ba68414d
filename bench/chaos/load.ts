// The drill's order flow: every trader sends its planned orders one after another, paced so that the whole
// run keeps a steady global rate; it cancels some resting orders a moment after their 201, and an admin
// moves prices now and then so that resting limit and stop orders fill. Every third move is a gap: 8-20% in
// one move, down through the resting SELL stops of an instrument or up through its BUY stops. A client that
// gets no answer (a network error, a 5xx while a desk restarts) retries with the same client_order_id, as a
// real one would; one told its price is on the wrong side of, or too far from, the desk's reference price
// (a quote that moved under it) prices the order again from that reference and sends it again.
import { FINAL_EVENTS } from "../clients.ts";
import { errorCode, type HttpResult } from "../http.ts";
import type { Api } from "./api.ts";
import { gapPrice, nextPrice, orderBody, random, STOP_KINDS, type InstrumentSpec, type OrderBody, type OrderKind, type PlannedOrder } from "./scenario.ts";
import type { EventStream } from "./streams.ts";

const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms));

export interface DrillTrader {
  id: string;
  token: string;
  streams: EventStream[];
}

export interface SubmitRecord {
  trader: string;
  kind: OrderKind;
  body: OrderBody;
  clientOrderId: string;
  /** The last HTTP status (201 when acknowledged; 0 for a network failure or a timeout). */
  status: number;
  code: string | null;
  tries: number;
  orderId: string | null;
  /** Date.now() when the 201 arrived. */
  ackedAt: number | null;
  ms: number;
  /** Times the order was priced again from the reference price a 400 named (its price had moved meanwhile). */
  repriced: number;
  /** The first refusal that led to a re-pricing ("400 VALIDATION_ERROR stop_price", "400 PRICE_OUT_OF_BAND"), or null. */
  repricedAfter: string | null;
}

export interface CancelRecord {
  trader: string;
  orderId: string;
  /** Date.now() when the first cancel request was sent. */
  sentAt: number;
  status: number;
  code: string | null;
  tries: number;
}

export type MoveKind = "drift" | "gap-down" | "gap-up";

export interface PriceMove {
  symbol: string;
  kind: MoveKind;
  /** The price before the move, and after (dollars). */
  from: number;
  price: number;
  /** When the admin's request was sent, and when its 200 came back (ISO; ms since the epoch in sentMs/doneMs). */
  sentAt: string;
  at: string;
  sentMs: number;
  doneMs: number;
  /** For a gap: the stops the drill knew to be resting on the side it jumped through, when it was sent. */
  restingStops: number;
}

/** Statuses worth trying again with the same client_order_id. */
const retryable = (r: HttpResult | null) =>
  r === null || r.status >= 500 || r.status === 429 || (r.status === 409 && errorCode(r).endsWith("IDEMPOTENCY_KEY_IN_USE"));

export interface LoadOptions {
  instruments: readonly InstrumentSpec[];
  /** Orders per second over all traders. */
  rate: number;
  seed: number;
  /** A unique prefix for client order ids. */
  runId: string;
  /** Called after each submit finishes, with the number finished so far. */
  onProgress(done: number, total: number): void;
}

export class Load {
  readonly submits: SubmitRecord[] = [];
  readonly cancels: CancelRecord[] = [];
  readonly moves: PriceMove[] = [];
  readonly moveErrors: string[] = [];
  readonly prices: Map<string, number>;
  private done = 0;
  private moving: Promise<void> = Promise.resolve();
  private moveCount = 0;
  /** Per symbol, the admin move on its way: orders of that symbol are priced once it is done. */
  private readonly moveInFlight = new Map<string, Promise<void>>();
  private readonly cancelSent = new Set<string>();
  private readonly moveRandom: () => number;
  private readonly total: number;
  private readonly moveEvery: number;

  private readonly api: Api;
  private readonly adminToken: string;
  private readonly traders: readonly DrillTrader[];
  private readonly plan: readonly PlannedOrder[][];
  private readonly options: LoadOptions;

  constructor(api: Api, adminToken: string, traders: readonly DrillTrader[], plan: readonly PlannedOrder[][], options: LoadOptions) {
    this.api = api;
    this.adminToken = adminToken;
    this.traders = traders;
    this.plan = plan;
    this.options = options;
    this.prices = new Map(options.instruments.map((i) => [i.symbol, i.priceCents]));
    this.moveRandom = random(options.seed ^ 0x9e3779b9);
    this.total = plan.reduce((n, p) => n + p.length, 0);
    this.moveEvery = Math.max(4, Math.floor(this.total / 30));
  }

  /** Stop orders acknowledged and, as far as the drill's streams know, resting untriggered (not final, no cancel sent). */
  private restingStops(symbol: string, side: "BUY" | "SELL"): number {
    const streamOf = new Map(this.traders.map((t) => [t.id, t.streams[0]!]));
    const gone = new Set([...FINAL_EVENTS, "order.triggered"]);
    return this.submits.filter(
      (s) => s.orderId !== null && STOP_KINDS.has(s.kind) && s.body.symbol === symbol && s.body.side === side && !this.cancelSent.has(s.orderId) && !streamOf.get(s.trader)!.has(s.orderId, gone),
    ).length;
  }

  /** Orders acknowledged since `sinceMs` (of one kind), oldest first: the fault schedule picks desks to restart from them. */
  recentAcks(sinceMs: number, kind?: OrderKind): SubmitRecord[] {
    return this.submits.filter((s) => s.ackedAt !== null && s.ackedAt >= sinceMs && (kind === undefined || s.kind === kind));
  }

  async run(): Promise<void> {
    const start = performance.now();
    await Promise.all(this.traders.map((t, i) => this.runTrader(t, i, start)));
    await this.moving;
  }

  private async runTrader(trader: DrillTrader, index: number, start: number): Promise<void> {
    const cancels: { orderId: string; due: number }[] = [];
    const dueCancels = async (all: boolean) => {
      cancels.sort((a, b) => a.due - b.due);
      while (cancels.length > 0 && (all || cancels[0]!.due <= performance.now())) {
        const c = cancels.shift()!;
        const wait = c.due - performance.now();
        if (wait > 0) await sleep(wait);
        this.cancels.push(await this.cancel(trader, c.orderId));
      }
    };
    const orders = this.plan[index]!;
    for (let n = 0; n < orders.length; n++) {
      const planned = orders[n]!;
      const at = start + ((n * this.traders.length + index) / this.options.rate) * 1000;
      await dueCancels(false);
      const wait = at - performance.now();
      if (wait > 0) await sleep(wait);
      const record = await this.submit(trader, planned, `${this.options.runId}-${index}-${n}`);
      this.submits.push(record);
      if (record.orderId && planned.cancelAfterMs !== null) cancels.push({ orderId: record.orderId, due: performance.now() + planned.cancelAfterMs });
      this.done++;
      this.options.onProgress(this.done, this.total);
      if (this.done % this.moveEvery === 0) {
        this.moving = this.moving.then(() => this.movePrice()).catch((err: unknown) => void this.moveErrors.push(String(err)));
      }
    }
    await dueCancels(true);
  }

  private async submit(trader: DrillTrader, planned: PlannedOrder, clientOrderId: string): Promise<SubmitRecord> {
    await this.moveInFlight.get(planned.symbol); // the drill's own move of this price: wait for it, then price the order
    const spec = this.options.instruments.find((i) => i.symbol === planned.symbol)!;
    let body = orderBody(planned, this.prices.get(planned.symbol)!, spec.tickCents);
    const t0 = performance.now();
    let last: HttpResult | null = null;
    let tries = 0;
    let repriced = 0;
    let repricedAfter: string | null = null;
    for (; tries < 6; tries++) {
      if (tries > 0 && retryable(last)) await sleep(150 * 2 ** (tries - 1));
      try {
        last = await this.api.http.send("POST", "/api/v1/orders", { token: trader.token, body: { ...body, client_order_id: clientOrderId }, timeoutMs: 15_000 });
      } catch {
        last = null;
      }
      const reference = repriced < 2 ? referencePriceOf(last) : null;
      if (reference !== null) {
        // A refused request uses up no key: the same client_order_id goes again, priced from the desk's reference.
        repricedAfter ??= refusal(last!);
        repriced++;
        body = orderBody(planned, reference, spec.tickCents);
        continue;
      }
      if (!retryable(last)) break;
    }
    const acked = last?.status === 201;
    const orderId = acked ? orderIdOf(last!.text) : null;
    return {
      trader: trader.id, kind: planned.kind, body, clientOrderId, status: last?.status ?? 0, code: last && !acked ? errorCode(last) : last ? null : "network",
      tries: Math.min(tries + 1, 6), orderId, ackedAt: acked ? Date.now() : null, ms: Math.round(performance.now() - t0), repriced, repricedAfter,
    };
  }

  private async cancel(trader: DrillTrader, orderId: string): Promise<CancelRecord> {
    const sentAt = Date.now();
    this.cancelSent.add(orderId);
    let last: HttpResult | null = null;
    let tries = 0;
    for (; tries < 5; tries++) {
      if (tries > 0) await sleep(200 * 2 ** (tries - 1));
      try {
        last = await this.api.http.send("POST", `/api/v1/orders/${orderId}/cancel`, { token: trader.token, timeoutMs: 15_000 });
      } catch {
        last = null;
      }
      if (last && last.status < 500) break;
    }
    return { trader: trader.id, orderId, sentAt, status: last?.status ?? 0, code: last && last.status !== 200 ? errorCode(last) : last ? null : "network", tries: Math.min(tries + 1, 5) };
  }

  /**
   * An admin moves one instrument's price; resting orders it crosses fill at the venue. Every third move is
   * a gap of 8-20% through the stops resting on one side: the fast instrument and direction with the most
   * of them (down through SELL stops, up through BUY stops). The others drift within 2.5% of the starting
   * price (a drift back from a gapped price is itself a jump of that size).
   */
  private async movePrice(): Promise<void> {
    const n = this.moveCount++;
    const all = this.options.instruments;
    let spec: InstrumentSpec;
    let kind: MoveKind = "drift";
    let restingStops = 0;
    if (n % 3 === 2) {
      // Gaps alternate down and up. A gap does not go further than 25% from the starting price, so one
      // instrument cannot run away: one already far out gaps back the other way.
      const wanted: MoveKind = Math.floor(n / 3) % 2 === 0 ? "gap-down" : "gap-up";
      const candidates = all.filter((i) => !i.slow).map((i) => {
        const at = this.prices.get(i.symbol)! / i.priceCents;
        const gap: MoveKind = at < 0.9 ? "gap-up" : at > 1.1 ? "gap-down" : wanted;
        return { spec: i, kind: gap, resting: this.restingStops(i.symbol, gap === "gap-down" ? "SELL" : "BUY") };
      });
      // The wanted direction first, then the most stops resting on its side; ties (none resting, say) broken
      // by the seeded generator.
      const tie = new Map(candidates.map((c) => [c, this.moveRandom()]));
      candidates.sort((a, b) => Number(b.kind === wanted) - Number(a.kind === wanted) || b.resting - a.resting || tie.get(a)! - tie.get(b)!);
      ({ spec, kind, resting: restingStops } = candidates[0]!);
    } else {
      spec = all[Math.floor(this.moveRandom() * all.length)]!;
    }
    const fromCents = this.prices.get(spec.symbol)!;
    const priceCents = kind === "drift" ? nextPrice(this.moveRandom, spec) : gapPrice(this.moveRandom, spec, fromCents, kind === "gap-down" ? "down" : "up");
    const price = priceCents / 100;
    const sentMs = Date.now();
    const request = this.api.adminWrite("PUT", `/api/v1/admin/instruments/${spec.symbol}`, this.adminToken, { price }, 200);
    const settled = request.then(() => undefined, () => undefined);
    this.moveInFlight.set(spec.symbol, settled);
    try {
      await request;
    } finally {
      if (this.moveInFlight.get(spec.symbol) === settled) this.moveInFlight.delete(spec.symbol);
    }
    const doneMs = Date.now();
    this.prices.set(spec.symbol, priceCents);
    this.moves.push({
      symbol: spec.symbol, kind, from: fromCents / 100, price, sentAt: new Date(sentMs).toISOString(), at: new Date(doneMs).toISOString(), sentMs, doneMs, restingStops,
    });
  }
}

/** The reference price (cents) a 400 names when an order's price sits on the wrong side of it or outside its band. */
function referencePriceOf(r: HttpResult | null): number | null {
  if (!r || r.status !== 400) return null;
  try {
    const body = JSON.parse(r.text) as { error?: unknown; details?: { reference_price?: unknown } };
    const ref = body.details?.reference_price;
    if ((body.error !== "VALIDATION_ERROR" && body.error !== "PRICE_OUT_OF_BAND") || typeof ref !== "number") return null;
    return Math.round(ref * 100);
  } catch {
    return null;
  }
}

function refusal(r: HttpResult): string {
  try {
    const body = JSON.parse(r.text) as { error?: string; details?: { fields?: Record<string, unknown>; field?: string } };
    const field = body.details?.field ?? Object.keys(body.details?.fields ?? {})[0] ?? "";
    return `${r.status} ${body.error ?? ""} ${field}`.trim();
  } catch {
    return String(r.status);
  }
}

function orderIdOf(text: string): string | null {
  try {
    const value: unknown = JSON.parse(text);
    return value && typeof value === "object" && "id" in value && typeof value.id === "string" ? value.id : null;
  } catch {
    return null;
  }
}
