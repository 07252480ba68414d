// The drill's order flow: every trader sends its planned orders one after another, paced so that the whole
// run keeps a steady global rate; it cancels some resting orders a moment after their 201 and amends others
// (price or quantity, up or down, sometimes twice in a row), cancels all its orders or closes positions at
// planned points, and an admin moves prices now and then so that resting limit and stop orders fill. A move
// is raced by amends of resting orders of its instrument that take them out of its reach. Every third move
// is a gap: 8-20% in one move, down through the resting SELL stops of an instrument or up through its BUY
// stops. A client that gets no answer (a network error, a 5xx while a desk restarts) retries with the same
// client_order_id (an amend with the same Idempotency-Key), as a real one would; one told its price is on
// the wrong side of, or too far from, the desk's reference price (a quote that moved under it) prices the
// order again from that reference and sends it again (submit.ts). A close is never sent twice: it has no key
// (bulk.ts). The contingent kinds go through contingent.ts, their instrument along its own path (paths.ts).
import { FINAL_EVENTS } from "../clients.ts";
import { errorCode, type HttpResult } from "../http.ts";
import { amendBody, racingAmendBody, type AmendBody, type KnownTerms } from "./amend-bodies.ts";
import { Order, type Api } from "./api.ts";
import { cancelAll, close, type BulkContext, type CancelAllRecord, type CloseRecord } from "./bulk.ts";
import {
  AMENDABLE_KINDS, gapPrice, nextPrice, orderBody, random, STOP_KINDS, type InstrumentSpec, type OrderBody, type OrderKind, type PlannedAmend, type PlannedOrder,
  type TraderAction,
} from "./scenario.ts";
import { detailsOf, messageOf, sendOrder, type DrillTrader, type SubmitRecord } from "./submit.ts";

export type { CancelAllRecord, CloseRecord } from "./bulk.ts";
export type { DrillTrader, SubmitRecord } from "./submit.ts";

const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms));

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
  /** Moves the venue's price of an instrument (cents): an admin move. */
  setPrice(symbol: string, priceCents: number): Promise<void>;
  /** Sends the contingent kinds (contingent.ts): an order, or the MARKET BUY of its shares and then the order. */
  sendContingent(trader: DrillTrader, planned: PlannedOrder, clientOrderId: string): Promise<SubmitRecord[]>;
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
  /** A contingent parent's legs: a cancel of the parent (or of all, or a close) is asked of them too. */
  private readonly legsOf = new Map<string, string[]>();
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
  private readonly traders: readonly DrillTrader[];
  private readonly plan: readonly PlannedOrder[][];
  private readonly options: LoadOptions;

  constructor(api: Api, traders: readonly DrillTrader[], plan: readonly PlannedOrder[][], options: LoadOptions) {
    this.api = api;
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
      const clientOrderId = `${this.options.runId}-${index}-${n}`;
      const records = planned.contingent ? await this.options.sendContingent(trader, planned, clientOrderId) : [await this.submit(trader, planned, clientOrderId)];
      this.submits.push(...records);
      for (const r of records) if (r.orderId && r.legIds.length > 0) this.legsOf.set(r.orderId, r.legIds);
      const record = records[records.length - 1]!;
      const orderId = record.kind === planned.kind ? record.orderId : null; // not the MARKET BUY an oco's shares needed
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

  private async act(trader: DrillTrader, a: TraderAction): Promise<void> {
    const x: BulkContext = { api: this.api, submits: this.submits, markCancelSent: (id, at) => this.markCancelSent(id, at) };
    if (a.kind === "cancel-all") this.cancelAlls.push(await cancelAll(x, trader, a.symbol, a.side));
    else this.closes.push(await close(x, trader, a.symbol, a.quantity, a.percentage));
  }

  private async submit(trader: DrillTrader, planned: PlannedOrder, clientOrderId: string): Promise<SubmitRecord> {
    await this.moveInFlight.get(planned.symbol); // the drill's own move of this price: wait for it, then price the order
    const spec = this.options.instruments.find((i) => i.symbol === planned.symbol)!;
    return sendOrder(this.api, trader, planned.kind, clientOrderId, (cents) => orderBody(planned, cents, spec.tickCents), this.prices.get(planned.symbol)!);
  }

  private markCancelSent(orderId: string, at: number): void {
    for (const id of [orderId, ...(this.legsOf.get(orderId) ?? [])]) if (!this.cancelSentAt.has(id)) this.cancelSentAt.set(id, at);
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
    const all = this.options.instruments.filter((i) => !i.contingent); // the contingent one follows its own path
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
    const request = this.options.setPrice(spec.symbol, priceCents);
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
