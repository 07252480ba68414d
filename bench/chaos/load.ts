// The drill's order flow: every trader sends its planned orders one after another, paced so that the whole
// run keeps a steady global rate; it cancels some resting orders a moment after their 201 and amends others
// (price or quantity, up or down, sometimes twice in a row), cancels all its orders or closes positions at
// planned points, and an admin moves prices now and then so that resting limit and stop orders fill. A move
// is raced by amends of resting orders of its instrument that take them out of its reach. Every third move
// is a gap: 8-20% in one move, down through the resting SELL stops of an instrument or up through its BUY
// stops. A client that gets no answer (a network error, a 5xx while a desk restarts) retries with the same
// client_order_id (an amend with the same Idempotency-Key), as a real one would; one told its price is on
// the wrong side of, or too far from, the desk's reference price (a quote that moved under it) prices the
// order again from that reference and sends it again. A close is never sent twice: it has no key.
import { FINAL_EVENTS } from "../clients.ts";
import { errorCode, type HttpResult } from "../http.ts";
import { CancelAllAnswer, CloseAllAnswer, Order, type Api, type CancelOutcome } from "./api.ts";
import {
  AMENDABLE_KINDS, amendBody, gapPrice, nextPrice, orderBody, racingAmendBody, random, STOP_KINDS, type AmendBody, type InstrumentSpec, type KnownTerms,
  type OrderBody, type OrderKind, type PlannedAmend, type PlannedOrder, type TraderAction,
} from "./scenario.ts";
import type { EventStream } from "./streams.ts";

const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms));

export interface DrillTrader {
  id: string;
  token: string;
  streams: EventStream[];
}

export interface SubmitRecord {
  trader: string;
  /** The planned kind, or "close" for the MARKET SELL a position close placed. */
  kind: OrderKind | "close";
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

export interface AmendRecord {
  trader: string;
  orderId: string;
  symbol: string;
  /** planned: the order's own amend; second: sent as soon as that one was answered; racing: sent with an admin move. */
  how: "planned" | "second" | "racing";
  /** What it changed (the plan's change, or for a racing amend "price away" or a quantity change). */
  change: string;
  body: AmendBody;
  /** The terms the drill knew the order to have when it sent the amend. */
  before: KnownTerms;
  /** Date.now() when it was first sent, and when its last answer came. */
  sentAt: number;
  doneAt: number;
  status: number;
  code: string | null;
  /** A 409's details.status (the order's status when the amend lost); the error's message; a 503's details.pending. */
  detailStatus: string | null;
  message: string | null;
  pending: boolean;
  /** The order as a 200 answered it. */
  order: Order | null;
  tries: number;
  /** Every try's status (0: no answer), first to last. */
  answers: number[];
  /** The admin move a racing amend was sent with (dollars). */
  move: { from: number; to: number; kind: MoveKind } | null;
}

export interface CancelAllRecord {
  trader: string;
  symbol: string | null;
  side: "BUY" | "SELL" | null;
  /** Date.now() when the first try was sent, when the answered one was sent, and when its answer came. */
  sentAt: number;
  lastSentAt: number;
  doneAt: number;
  status: number;
  code: string | null;
  results: CancelOutcome[] | null;
  tries: number;
}

export interface CloseRecord {
  trader: string;
  /** null: every position (DELETE /api/v1/positions). */
  symbol: string | null;
  quantity: number | null;
  percentage: number | null;
  sentAt: number;
  doneAt: number;
  status: number;
  code: string | null;
  /** The closing MARKET SELLs it placed, and the positions it could not close. */
  orders: Order[];
  errors: { symbol: string; error: string; message: string }[];
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
  /** Each trader's cancel-alls and closes. */
  actions: readonly TraderAction[][];
}

const ACCEPTED: ReadonlySet<string> = new Set(["order.accepted"]);

/** Amends sent with each admin move, at most, among the resting orders of its instrument (accepted at the venue). */
const RACERS_PER_MOVE = 2;

export class Load {
  readonly submits: SubmitRecord[] = [];
  readonly cancels: CancelRecord[] = [];
  readonly amends: AmendRecord[] = [];
  readonly cancelAlls: CancelAllRecord[] = [];
  readonly closes: CloseRecord[] = [];
  /** Per order, Date.now() when the drill first asked for its cancel: its own, a cancel-all's, or a close's. */
  readonly cancelSentAt = new Map<string, number>();
  /** Each order's terms as the drill last knew them (its 201, then every amend answered 200). */
  private readonly known = new Map<string, KnownTerms>();
  private readonly raced = new Set<string>();
  private readonly races: Promise<unknown>[] = [];
  private amendKeys = 0;
  readonly moves: PriceMove[] = [];
  readonly moveErrors: string[] = [];
  readonly prices: Map<string, number>;
  private done = 0;
  private moving: Promise<void> = Promise.resolve();
  private moveCount = 0;
  /** Per symbol, the admin move on its way: orders of that symbol are priced once it is done. */
  private readonly moveInFlight = new Map<string, Promise<void>>();
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
      (s) => s.orderId !== null && STOP_KINDS.has(s.kind as OrderKind) && s.body.symbol === symbol && s.body.side === side && !this.cancelSentAt.has(s.orderId) && !streamOf.get(s.trader)!.has(s.orderId, gone),
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
    await Promise.all(this.races);
  }

  private async runTrader(trader: DrillTrader, index: number, start: number): Promise<void> {
    // A trader's cancels and amends, due some ms after an order's 201, run between its submits, in due order.
    const timed: { due: number; run: () => Promise<void> }[] = [];
    const dueTasks = async (all: boolean) => {
      timed.sort((a, b) => a.due - b.due);
      while (timed.length > 0 && (all || timed[0]!.due <= performance.now())) {
        const task = timed.shift()!;
        const wait = task.due - performance.now();
        if (wait > 0) await sleep(wait);
        await task.run();
      }
    };
    const orders = this.plan[index]!;
    const actions = this.options.actions[index] ?? [];
    for (let n = 0; n < orders.length; n++) {
      const planned = orders[n]!;
      const at = start + ((n * this.traders.length + index) / this.options.rate) * 1000;
      await dueTasks(false);
      const wait = at - performance.now();
      if (wait > 0) await sleep(wait);
      const record = await this.submit(trader, planned, `${this.options.runId}-${index}-${n}`);
      this.submits.push(record);
      const orderId = record.orderId;
      if (orderId) {
        this.known.set(orderId, termsOf(record.body));
        if (planned.amend) {
          const amend = planned.amend;
          timed.push({ due: performance.now() + amend.afterMs, run: () => this.amendPlanned(trader, orderId, planned.symbol, amend) });
        }
        if (planned.cancelAfterMs !== null) {
          timed.push({ due: performance.now() + planned.cancelAfterMs, run: async () => void this.cancels.push(await this.cancel(trader, orderId)) });
        }
      }
      this.done++;
      this.options.onProgress(this.done, this.total);
      if (this.done % this.moveEvery === 0) {
        this.moving = this.moving.then(() => this.movePrice()).catch((err: unknown) => void this.moveErrors.push(String(err)));
      }
      for (const a of actions) if (a.afterOrder === n + 1 && n + 1 < orders.length) await this.act(trader, a);
    }
    await dueTasks(true);
    for (const a of actions) if (a.afterOrder >= orders.length) await this.act(trader, a);
  }

  private act(trader: DrillTrader, a: TraderAction): Promise<void> {
    return a.kind === "cancel-all" ? this.cancelAll(trader, a.symbol, a.side) : this.close(trader, a.symbol, a.quantity, a.percentage);
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

  private markCancelSent(orderId: string, at: number): void {
    if (!this.cancelSentAt.has(orderId)) this.cancelSentAt.set(orderId, at);
  }

  private async cancel(trader: DrillTrader, orderId: string): Promise<CancelRecord> {
    const sentAt = Date.now();
    this.markCancelSent(orderId, sentAt);
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

  /** The order's planned amend (priced from the instrument's price once the drill's own move of it is done), and its second one. */
  private async amendPlanned(trader: DrillTrader, orderId: string, symbol: string, planned: PlannedAmend): Promise<void> {
    const spec = this.options.instruments.find((i) => i.symbol === symbol)!;
    await this.moveInFlight.get(symbol);
    const first = await this.amend(trader, orderId, "planned", planned.change, null, (t) => amendBody(t, planned.change, planned.size, this.prices.get(symbol)!, spec.tickCents));
    if (planned.then && first && (first.status === 200 || first.status === 503)) {
      const then = planned.then;
      await this.amend(trader, orderId, "second", then, null, (t) => amendBody(t, then, 1 - planned.size / 2, this.prices.get(symbol)!, spec.tickCents));
    }
  }

  /**
   * PATCH /api/v1/orders/:id with its own Idempotency-Key, sent again with the same key after no answer, a
   * 5xx other than the venue's 503 (which is an answer: the amend is pending), a 429 or a key in use.
   */
  private async amend(
    trader: DrillTrader, orderId: string, how: AmendRecord["how"], change: string, move: AmendRecord["move"], make: (t: KnownTerms) => AmendBody,
  ): Promise<AmendRecord | null> {
    const before = this.known.get(orderId);
    if (!before) return null;
    const body = make(before);
    const key = `${this.options.runId}-amend-${this.amendKeys++}`;
    const sentAt = Date.now();
    let last: HttpResult | null = null;
    let tries = 0;
    const answers: number[] = [];
    const again = (r: HttpResult | null) =>
      r === null || r.status === 429 || (r.status >= 500 && !errorCode(r).endsWith("VENUE_UNAVAILABLE")) || (r.status === 409 && errorCode(r).endsWith("IDEMPOTENCY_KEY_IN_USE"));
    for (; tries < 5; tries++) {
      if (tries > 0) await sleep(150 * 2 ** (tries - 1));
      try {
        last = await this.api.sendWithHeaders("PATCH", `/api/v1/orders/${orderId}`, { token: trader.token, body, headers: { "idempotency-key": key }, timeoutMs: 15_000 });
      } catch {
        last = null;
      }
      answers.push(last?.status ?? 0);
      if (!again(last)) break;
    }
    let order: Order | null = null;
    if (last?.status === 200) {
      order = Order.parse(JSON.parse(last.text));
      this.known.set(orderId, { ...before, quantity: order.quantity, limitCents: centsOrNull(order.price), stopCents: centsOrNull(order.stop_price) });
    }
    const details = last ? detailsOf(last) : {};
    const record: AmendRecord = {
      trader: trader.id, orderId, symbol: this.submits.find((s) => s.orderId === orderId)?.body.symbol ?? "", how, change, body, before, sentAt, doneAt: Date.now(),
      status: last?.status ?? 0, code: last && last.status !== 200 ? errorCode(last) : last ? null : "network",
      detailStatus: typeof details.status === "string" ? details.status : null, pending: details.pending === true, message: last && last.status !== 200 ? messageOf(last) : null,
      order, tries: Math.min(tries + 1, 5), answers, move,
    };
    this.amends.push(record);
    return record;
  }

  /** DELETE /api/v1/orders[?symbol&side]: marks the trader's matching orders as asked to cancel, then asks. */
  private async cancelAll(trader: DrillTrader, symbol: string | null, side: "BUY" | "SELL" | null): Promise<void> {
    const sentAt = Date.now();
    for (const s of this.submits) {
      if (s.trader === trader.id && s.orderId && (symbol === null || s.body.symbol === symbol) && (side === null || s.body.side === side)) this.markCancelSent(s.orderId, sentAt);
    }
    const query = [symbol ? `symbol=${symbol}` : "", side ? `side=${side}` : ""].filter(Boolean).join("&");
    let last: HttpResult | null = null;
    let lastSentAt = sentAt;
    let tries = 0;
    for (; tries < 4; tries++) {
      if (tries > 0) await sleep(200 * 2 ** (tries - 1));
      lastSentAt = Date.now();
      try {
        last = await this.api.http.send("DELETE", `/api/v1/orders${query ? `?${query}` : ""}`, { token: trader.token, timeoutMs: 20_000 });
      } catch {
        last = null;
      }
      if (last && last.status < 500 && last.status !== 429) break;
    }
    this.cancelAlls.push({
      trader: trader.id, symbol, side, sentAt, lastSentAt, doneAt: Date.now(), status: last?.status ?? 0, code: last && last.status !== 200 ? errorCode(last) : last ? null : "network",
      results: last?.status === 200 ? CancelAllAnswer.parse(JSON.parse(last.text)).data : null, tries: Math.min(tries + 1, 4),
    });
  }

  /**
   * DELETE /api/v1/positions/:symbol[?quantity|percentage], or DELETE /api/v1/positions (every position):
   * the symbol's SELL orders are marked as asked to cancel (the close cancels them first). Sent once.
   */
  private async close(trader: DrillTrader, symbol: string | null, quantity: number | null, percentage: number | null): Promise<void> {
    const sentAt = Date.now();
    for (const s of this.submits) {
      if (s.trader === trader.id && s.orderId && s.body.side === "SELL" && (symbol === null || s.body.symbol === symbol)) this.markCancelSent(s.orderId, sentAt);
    }
    const path = symbol === null ? "/api/v1/positions" : `/api/v1/positions/${symbol}${quantity !== null ? `?quantity=${quantity}` : percentage !== null ? `?percentage=${percentage}` : ""}`;
    let last: HttpResult | null = null;
    try {
      last = await this.api.http.send("DELETE", path, { token: trader.token, timeoutMs: 30_000 });
    } catch {
      last = null;
    }
    const doneAt = Date.now();
    let orders: Order[] = [];
    let errors: CloseRecord["errors"] = [];
    if (last?.status === 201) orders = [Order.parse(JSON.parse(last.text))];
    if (last?.status === 200) ({ data: orders, errors } = CloseAllAnswer.parse(JSON.parse(last.text)));
    for (const o of orders) {
      this.submits.push({
        trader: trader.id, kind: "close", body: { symbol: o.symbol, side: "SELL", quantity: o.quantity, order_type: "MARKET", time_in_force: "DAY" }, clientOrderId: "",
        status: last!.status, code: null, tries: 1, orderId: o.id, ackedAt: doneAt, ms: doneAt - sentAt, repriced: 0, repricedAfter: null,
      });
    }
    this.closes.push({
      trader: trader.id, symbol, quantity, percentage, sentAt, doneAt, status: last?.status ?? 0,
      code: last && last.status !== 200 && last.status !== 201 ? errorCode(last) : last ? null : "network", orders, errors,
    });
  }

  /**
   * Amends racing an admin move of `symbol`: up to RACERS_PER_MOVE resting orders of it (accepted at the venue
   * and not ended as far as the streams know, no cancel asked, not raced before) get an amend that takes them out of
   * the move's reach, sent together with the move.
   */
  private raceMove(symbol: string, fromCents: number, toCents: number, kind: MoveKind): void {
    const spec = this.options.instruments.find((i) => i.symbol === symbol)!;
    const traderOf = new Map(this.traders.map((t) => [t.id, t]));
    const candidates = this.submits.filter(
      (s) => s.orderId !== null && AMENDABLE_KINDS.has(s.kind as OrderKind) && s.body.symbol === symbol && !this.cancelSentAt.has(s.orderId) && !this.raced.has(s.orderId) &&
        !traderOf.get(s.trader)!.streams[0]!.has(s.orderId, FINAL_EVENTS) && traderOf.get(s.trader)!.streams[0]!.has(s.orderId, ACCEPTED),
    );
    for (let k = 0; k < RACERS_PER_MOVE && candidates.length > 0; k++) {
      const s = candidates.splice(Math.floor(this.moveRandom() * candidates.length), 1)[0]!;
      this.raced.add(s.orderId!);
      const size = this.moveRandom();
      const up = this.moveRandom() < 0.5;
      const quantityOnly = Math.abs(toCents / fromCents - 1) > 0.06;
      this.races.push(
        this.amend(traderOf.get(s.trader)!, s.orderId!, "racing", quantityOnly ? (up ? "quantity-up" : "quantity-down") : "price away from the move", { from: fromCents / 100, to: toCents / 100, kind },
          (t) => racingAmendBody(t, fromCents, toCents, size, up, spec.tickCents)),
      );
    }
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
    this.raceMove(spec.symbol, fromCents, priceCents, kind);
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

/** An order's terms from the body the drill sent (prices to cents). */
function termsOf(body: OrderBody): KnownTerms {
  return { side: body.side, orderType: body.order_type, quantity: body.quantity, limitCents: centsOrNull(body.price ?? null), stopCents: centsOrNull(body.stop_price ?? null) };
}

const centsOrNull = (dollars: number | null | undefined) => (dollars === null || dollars === undefined ? null : Math.round(dollars * 100));

/** An error body's message, or null. */
function messageOf(r: HttpResult): string | null {
  try {
    const body = JSON.parse(r.text) as { message?: unknown };
    return typeof body.message === "string" ? body.message : null;
  } catch {
    return null;
  }
}

/** An error body's details, or {}. */
function detailsOf(r: HttpResult): Record<string, unknown> {
  try {
    const body = JSON.parse(r.text) as { details?: unknown };
    return body.details && typeof body.details === "object" ? (body.details as Record<string, unknown>) : {};
  } catch {
    return {};
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
