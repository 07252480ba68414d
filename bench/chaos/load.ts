// The drill's order flow: every trader sends its planned orders one after another, paced so that the whole
// run keeps a steady global rate; it cancels some resting orders a moment after their 201, and an admin
// moves prices now and then so that resting limit and stop orders fill. A client that gets no answer (a
// network error, a 5xx while a desk restarts) retries with the same client_order_id, as a real one would.
import { errorCode, type HttpResult } from "../http.ts";
import type { Api } from "./api.ts";
import { nextPrice, orderBody, random, type InstrumentSpec, type OrderBody, type OrderKind, type PlannedOrder } from "./scenario.ts";
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
}

export interface CancelRecord {
  trader: string;
  orderId: string;
  status: number;
  code: string | null;
  tries: number;
}

export interface PriceMove {
  symbol: string;
  price: number;
  at: string;
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
    const body = orderBody(planned, this.prices.get(planned.symbol)!);
    const t0 = performance.now();
    let last: HttpResult | null = null;
    let tries = 0;
    for (; tries < 6; tries++) {
      if (tries > 0) await sleep(150 * 2 ** (tries - 1));
      try {
        last = await this.api.http.send("POST", "/api/v1/orders", { token: trader.token, body: { ...body, client_order_id: clientOrderId }, timeoutMs: 15_000 });
      } catch {
        last = null;
      }
      if (!retryable(last)) break;
    }
    const acked = last?.status === 201;
    const orderId = acked ? orderIdOf(last!.text) : null;
    return {
      trader: trader.id, kind: planned.kind, body, clientOrderId, status: last?.status ?? 0, code: last && !acked ? errorCode(last) : last ? null : "network",
      tries: Math.min(tries + 1, 6), orderId, ackedAt: acked ? Date.now() : null, ms: Math.round(performance.now() - t0),
    };
  }

  private async cancel(trader: DrillTrader, orderId: string): Promise<CancelRecord> {
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
    return { trader: trader.id, orderId, status: last?.status ?? 0, code: last && last.status !== 200 ? errorCode(last) : last ? null : "network", tries: Math.min(tries + 1, 5) };
  }

  /** An admin moves one instrument's price; resting orders it crosses fill at the venue. */
  private async movePrice(): Promise<void> {
    const all = this.options.instruments;
    const spec = all[Math.floor(this.moveRandom() * all.length)]!;
    const priceCents = nextPrice(this.moveRandom, spec);
    const price = priceCents / 100;
    await this.api.adminWrite("PUT", `/api/v1/admin/instruments/${spec.symbol}`, this.adminToken, { price }, 200);
    this.prices.set(spec.symbol, priceCents);
    this.moves.push({ symbol: spec.symbol, price, at: new Date().toISOString() });
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
