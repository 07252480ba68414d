// VenueBook: the simulated exchange for one symbol (one Durable Object per symbol). It dedupes orders by
// key, fills level by level, rests limit and stop orders until the price crosses them, and reports fills
// that happen later back to the trader's desk (at least once, retried by alarm).
import { DurableObject } from "cloudflare:workers";
import type { OrderRef, Quote, VenueAmend, VenueFill, VenueOrder, VenueReport, VenueState } from "./adapter";
import { appendFills, BookOrders, executable, toReport } from "./book-orders";
import { decideFault, Faults, hasFaults } from "./faults";
import { match } from "./matching";
import { readInstrument, writeInstrument, type InstrumentSettings } from "../db/instruments";
import { intVar } from "../config";
import { fail, ok, type Result } from "../shared/errors";
import { checkTick } from "../shared/price-rules";
import { isOpen, nextOpen } from "./calendar";
import { QuoteSubscribers } from "./quote-subscribers";
import { withMark } from "./trailing";

export interface InstrumentPatch {
  name?: string;
  priceCents?: number;
  tickCents?: number;
  depth?: number;
  tradable?: boolean;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const REPORT_RETRY_MS = 1000;

export class VenueBook extends DurableObject<Env> {
  private instrument: InstrumentSettings | null = null;
  private readonly subscribers: QuoteSubscribers;
  private changing: Promise<unknown> = Promise.resolve();
  private readonly orders: BookOrders;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.orders = new BookOrders(ctx.storage.sql);
    this.subscribers = new QuoteSubscribers(ctx.storage.sql, (traderId) => env.TRADER.get(env.TRADER.idFromName(traderId)));
    ctx.blockConcurrencyWhile(async () => {
      ctx.storage.sql.exec(`
        CREATE TABLE IF NOT EXISTS instrument (id INTEGER PRIMARY KEY CHECK (id = 1), settings TEXT NOT NULL, fault_n INTEGER NOT NULL DEFAULT 0);
      `);
      this.orders.migrate();
      this.subscribers.migrate();
      const row = ctx.storage.sql.exec<{ settings: string }>("SELECT settings FROM instrument").toArray()[0];
      if (row) this.instrument = JSON.parse(row.settings) as InstrumentSettings;
    });
  }

  /** The instrument this book trades, loaded from D1 the first time the book is used. */
  private async load(symbol: string): Promise<InstrumentSettings | null> {
    if (this.instrument) return this.instrument;
    const settings = await readInstrument(this.env.DB, symbol);
    if (settings && !this.instrument) this.saveInstrument(settings);
    return this.instrument;
  }

  private saveInstrument(settings: InstrumentSettings): void {
    this.instrument = settings;
    this.ctx.storage.sql.exec(
      "INSERT INTO instrument (id, settings) VALUES (1, ?) ON CONFLICT(id) DO UPDATE SET settings = excluded.settings",
      JSON.stringify(settings),
    );
  }

  /** The current quote; the subscriber's desk is sent every later change (see pushQuote). */
  async quote(symbol: string, subscriber: string): Promise<Quote | null> {
    const i = await this.load(symbol);
    if (!i) return null; // nothing to follow: a desk asks again once the instrument exists
    this.subscribers.add(subscriber);
    return quoteOf(i);
  }

  async settings(symbol: string): Promise<InstrumentSettings | null> {
    return this.load(symbol);
  }

  async submit(submitted: VenueOrder, _attempt: number): Promise<VenueReport> {
    let order = submitted;
    const instrument = await this.load(order.symbol);
    const existing = this.orders.report(order.key);
    if (existing) return existing; // the same key never makes a second order

    const faults = instrument?.faults ?? {};
    // Attempts and the fault stream are only counted (two writes) when some fault is switched on.
    const decision = hasFaults(faults) ? decideFault(faults, this.orders.countAttempt(order.key), this.nextFaultDraw()) : "pass";
    if (faults.latency_ms) await sleep(faults.latency_ms);
    if (decision === "timeout") {
      // The order is lost on the way: the venue never records it and never answers in time.
      await sleep(intVar(this.env.EXCHANGE_TIMEOUT_MS, 5000) * 2 + 100);
      throw new Error("simulated venue timeout: the order was dropped");
    }
    if (decision === "error") throw new Error("simulated venue error: service unavailable");

    // Re-check after any await: a copy of this order may have arrived meanwhile.
    const again = this.orders.report(order.key);
    if (again) return again;
    if (!instrument) return this.orders.record(order, "REJECTED", [], `Unknown symbol ${order.symbol} at the venue`);
    if (!instrument.tradable) return this.orders.record(order, "REJECTED", [], `${order.symbol} is not tradable at the venue`);
    if (decision === "reject") return this.orders.record(order, "REJECTED", [], "Rejected by the venue");
    if (order.ocoGroup) {
      // An exit arriving after its group traded (its sibling was here first): held to what is left.
      const room = this.orders.groupRoom(order.ocoGroup, order.ocoCapacity);
      if (room <= 0) return this.orders.record(order, "CANCELLED", [], "One-cancels-other: the group's shares were already traded");
      if (order.quantity > room) order = { ...order, quantity: room };
    }

    if (!this.sessionOpen()) {
      // MARKET_HOURS=regular and the session is closed: nothing trades; a LIMIT or STOP works from the open.
      const mustTradeNow = order.orderType === "MARKET" || order.timeInForce === "IOC" || order.timeInForce === "FOK";
      if (mustTradeNow) return this.orders.record(order, "REJECTED", [], `The market is closed; it next opens at ${new Date(nextOpen(Date.now())).toISOString()}`);
      const resting = this.orders.record(order, "WORKING", [], null);
      await this.armOpenAlarm();
      return resting;
    }
    if (order.orderType === "TRAILING_STOP") order = withMark(order, instrument.priceCents, instrument.tickCents);
    const exec = executable(order, 0, 0, false);
    const outcome = match(instrument, exec);
    const fills = appendFills(order.key, [], outcome.slices);
    const report = outcome.kind === "rest"
      ? this.orders.record(order, "WORKING", fills, null, outcome.triggered)
      : this.orders.record(order, outcome.final, fills, outcome.reason, outcome.triggered);
    this.orders.shrinkGroup(order, outcome.slices);
    if (order.ocoGroup && outcome.slices.length > 0) this.ctx.waitUntil(this.deliverReports());
    return report;
  }

  async lookup(key: string): Promise<VenueReport | null> {
    return this.orders.report(key);
  }

  /**
   * Amends a working order in place (FIX cancel/replace), atomically: no fill happens at the old terms
   * after this returns, and an amended price that crosses the book trades at once. A smaller quantity
   * keeps the order's time priority; a new price or more shares lose it. An order no longer working (or an
   * amend already applied) is left as it is: the report says so (terms.amendSeq). null: no such order.
   */
  async amend(key: string, asked: VenueAmend): Promise<VenueReport | null> {
    let amend = asked;
    const late = await this.injectedLatency();
    const row = this.orders.row(key);
    if (!row) return null;
    if (row.state !== "WORKING" || row.amend_seq >= amend.seq || amend.quantity <= row.filled) return toReport(row);
    const order = JSON.parse(row.body) as VenueOrder;
    // A triggered stop works as a market order (a STOP_LIMIT as a limit): its stop is history.
    const triggered = row.triggered === 1;
    if (triggered && (order.orderType === "STOP" || order.orderType === "TRAILING_STOP")) return toReport(row);
    if (triggered) amend = { ...amend, stopCents: order.stopCents };
    let next: VenueOrder = {
      ...order, quantity: amend.quantity, limitCents: amend.limitCents, stopCents: amend.stopCents, timeInForce: amend.timeInForce,
      protectCents: amend.protectCents, maxCostCents: amend.maxCostCents,
    };
    if (order.ocoGroup) {
      // An exit grows with its entry, but never past what is left of its group.
      const capacity = Math.max(order.ocoCapacity ?? 0, amend.ocoCapacity ?? 0);
      const most = row.filled + this.orders.groupRoom(order.ocoGroup, capacity);
      if (most <= row.filled) return this.orders.end(key, "CANCELLED", "One-cancels-other: the group's shares were already traded");
      next = { ...next, quantity: Math.min(next.quantity, most), ...(capacity > 0 ? { ocoCapacity: capacity } : {}) };
    }
    if (order.orderType === "TRAILING_STOP" && row.triggered !== 1 && this.instrument) {
      // A new trail takes effect from the mark the order has reached.
      next = withMark({ ...next, trailCents: amend.trailCents ?? null, trailBp: amend.trailBp ?? null }, this.instrument.priceCents, this.instrument.tickCents);
    }
    const requeue = next.limitCents !== order.limitCents || next.stopCents !== order.stopCents || next.quantity > order.quantity;
    this.orders.amend(key, next, amend.seq, requeue);
    const book = this.instrument;
    let report = toReport(this.orders.row(key)!);
    if (book?.tradable && this.sessionOpen()) {
      const outcome = match(book, executable(next, row.filled, row.spent_cents, row.triggered === 1));
      const fills = appendFills(key, JSON.parse(row.fills) as VenueFill[], outcome.slices);
      const state: VenueState = outcome.kind === "rest" ? "WORKING" : outcome.final;
      report = this.orders.record(next, state, fills, outcome.kind === "rest" ? null : outcome.reason, outcome.triggered, amend.seq);
      this.orders.shrinkGroup(next, outcome.slices);
      if (next.ocoGroup && outcome.slices.length > 0) this.ctx.waitUntil(this.deliverReports());
    }
    if (late) this.owe(key, next.traderId); // the desk may have stopped waiting: it hears of the change anyway
    return report;
  }

  /**
   * The faults' latency_ms before the venue acts on a cancel or an amend (true when there was some): a desk
   * that stopped waiting is then sent the outcome as a report of its own, as a real venue does.
   */
  private async injectedLatency(): Promise<boolean> {
    const latency = this.instrument?.faults.latency_ms ?? 0;
    if (latency > 0) await sleep(latency);
    return latency > 0;
  }

  private owe(key: string, traderId: string): void {
    this.orders.owe(key, traderId);
    this.ctx.waitUntil(this.deliverReports());
  }

  async cancel(ref: OrderRef, final: "CANCELLED" | "EXPIRED", reason: string): Promise<VenueReport> {
    const { key } = ref;
    const late = await this.injectedLatency();
    const row = this.orders.row(key);
    if (!row) {
      // Tombstone: a copy of this order still on its way must never trade.
      const tomb: VenueOrder = {
        ...ref, side: "BUY", quantity: 0, orderType: "MARKET", limitCents: null, stopCents: null, timeInForce: "DAY",
        protectCents: null, maxCostCents: null,
      };
      return this.orders.record(tomb, final, [], reason);
    }
    if (row.state !== "WORKING") return toReport(row);
    const ended = this.orders.end(key, final, reason);
    if (late) this.owe(key, ref.traderId);
    return ended;
  }

  /**
   * Admin: create or change the instrument; a price move fills the resting orders it crosses. Fails with
   * VALIDATION_ERROR when a new instrument has no price, or when the price is off the (new) tick.
   */
  async configure(symbol: string, patch: InstrumentPatch): Promise<Result<InstrumentSettings>> {
    return this.oneChangeAtATime(() => this.applyConfigure(symbol, patch));
  }

  private async applyConfigure(symbol: string, patch: InstrumentPatch): Promise<Result<InstrumentSettings>> {
    const current = await this.load(symbol);
    if (!current && patch.priceCents === undefined) {
      return fail("VALIDATION_ERROR", `${symbol} is a new instrument: price is required to create it`, { fields: { price: "required for a new instrument" } });
    }
    const next: InstrumentSettings = {
      symbol,
      name: patch.name ?? current?.name ?? symbol,
      priceCents: patch.priceCents ?? current!.priceCents,
      tickCents: patch.tickCents ?? current?.tickCents ?? 1,
      depth: patch.depth ?? current?.depth ?? 10_000,
      tradable: patch.tradable ?? current?.tradable ?? true,
      faults: current?.faults ?? {},
    };
    // Prices sit on the tick: a move to an off-tick price, or a tick the price is not on, is refused.
    const offTick = checkTick(patch.tickCents !== undefined && patch.priceCents === undefined ? "tick_size" : "price", next.priceCents, next.tickCents, symbol);
    if (offTick) return offTick;
    await writeInstrument(this.env.DB, next);
    this.saveInstrument({ ...next, version: Math.max(Date.now(), (current?.version ?? 0) + 1) });
    if (next.tradable && this.sessionOpen()) this.matchResting(next);
    this.ctx.waitUntil(this.deliverReports());
    if (this.instrument) await this.subscribers.push(quoteOf(this.instrument));
    return ok(next);
  }

  async setFaults(symbol: string, faults: Faults): Promise<InstrumentSettings | null> {
    return this.oneChangeAtATime(() => this.applyFaults(symbol, faults));
  }

  /**
   * Admin changes run one after another: each builds on the one before (no lost update while the
   * other's D1 write is in flight) and gets a higher quote version. Orders are not held up by this.
   */
  private oneChangeAtATime<T>(work: () => Promise<T>): Promise<T> {
    const run = this.changing.then(work);
    this.changing = run.catch(() => undefined);
    return run;
  }

  private async applyFaults(symbol: string, faults: Faults): Promise<InstrumentSettings | null> {
    const current = await this.load(symbol);
    if (!current) return null;
    const next = { ...current, faults };
    await writeInstrument(this.env.DB, next);
    this.saveInstrument(next);
    return next;
  }

  /** Every order key the venue holds, with what it executed: fault drills check "never twice" with this. */
  async executions(): Promise<{ key: string; order_id: string; state: string; filled: number; fills: number }[]> {
    return this.orders.executions();
  }

  override async alarm(): Promise<void> {
    // At the open (MARKET_HOURS=regular) the orders that rested while the market was closed may trade.
    if (this.instrument?.tradable && this.sessionOpen()) this.matchResting(this.instrument);
    await this.deliverReports();
    await this.armOpenAlarm();
  }

  /** Trading is allowed now: always with MARKET_HOURS=always (the default), else within the XNYS session. */
  private sessionOpen(): boolean {
    return this.env.MARKET_HOURS !== "regular" || isOpen(Date.now());
  }

  /** While closed with orders resting, wake at the next open (unless an earlier alarm, e.g. a report retry, is set). */
  private async armOpenAlarm(): Promise<void> {
    if (this.sessionOpen()) return;
    if (!this.orders.hasWorking() || (await this.ctx.storage.getAlarm()) !== null) return;
    await this.ctx.storage.setAlarm(nextOpen(Date.now()));
  }

  private matchResting(book: InstrumentSettings): void {
    for (const listed of this.orders.working()) {
      const row = this.orders.row(listed.key); // an earlier order of this pass may have reduced or ended it (one cancels other)
      if (!row || row.state !== "WORKING") continue;
      const stored = JSON.parse(row.body) as VenueOrder;
      // A trailing stop not yet triggered follows the price first: its mark, then its stop.
      const order = stored.orderType === "TRAILING_STOP" && row.triggered !== 1 ? withMark(stored, book.priceCents, book.tickCents) : stored;
      const trailed = order.stopCents !== stored.stopCents;
      const outcome = match(book, executable(order, row.filled, row.spent_cents, row.triggered === 1));
      if (!trailed && outcome.slices.length === 0 && outcome.kind === "rest" && outcome.triggered === (row.triggered === 1)) continue;
      const fills = appendFills(order.key, JSON.parse(row.fills) as VenueFill[], outcome.slices);
      const state: VenueState = outcome.kind === "rest" ? "WORKING" : outcome.final;
      this.orders.record(order, state, fills, outcome.kind === "rest" ? null : outcome.reason, outcome.triggered, row.amend_seq);
      this.orders.owe(order.key, order.traderId);
      this.orders.shrinkGroup(order, outcome.slices);
    }
  }

  /** Push the current state of every changed order to its trader's desk; re-armed by alarm until it lands. */
  private async deliverReports(): Promise<void> {
    const pending = this.orders.owed();
    let failed = false;
    for (const { key, trader_id } of pending) {
      const report = this.orders.report(key);
      if (!report) continue;
      try {
        await this.env.TRADER.get(this.env.TRADER.idFromName(trader_id)).onExecutionReport(report);
        this.orders.delivered(key);
      } catch (err) {
        console.warn("venue: report delivery failed, will retry", key, String(err));
        failed = true;
      }
    }
    if (failed) await this.ctx.storage.setAlarm(Date.now() + REPORT_RETRY_MS);
  }

  private nextFaultDraw(): number {
    const row = this.ctx.storage.sql.exec<{ n: number }>("UPDATE instrument SET fault_n = fault_n + 1 RETURNING fault_n - 1 AS n").toArray()[0];
    return row?.n ?? 0;
  }
}

function quoteOf(i: InstrumentSettings): Quote {
  return { symbol: i.symbol, priceCents: i.priceCents, tickCents: i.tickCents, tradable: i.tradable, version: i.version ?? 0 };
}
