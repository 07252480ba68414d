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
import { nextMark, trailingStop } from "./trailing";

export interface InstrumentPatch {
  name?: string;
  priceCents?: number;
  tickCents?: number;
  depth?: number;
  tradable?: boolean;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const REPORT_RETRY_MS = 1000;
/** A desk that does not take a pushed quote within this long keeps its old one until its cache expires. */
const QUOTE_PUSH_TIMEOUT_MS = 2000;

export class VenueBook extends DurableObject<Env> {
  private instrument: InstrumentSettings | null = null;
  private subscribers: Set<string> | null = null;
  private changing: Promise<unknown> = Promise.resolve();
  private readonly orders: BookOrders;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.orders = new BookOrders(ctx.storage.sql);
    ctx.blockConcurrencyWhile(async () => {
      ctx.storage.sql.exec(`
        CREATE TABLE IF NOT EXISTS instrument (id INTEGER PRIMARY KEY CHECK (id = 1), settings TEXT NOT NULL, fault_n INTEGER NOT NULL DEFAULT 0);
        CREATE TABLE IF NOT EXISTS subscribers (trader_id TEXT PRIMARY KEY);
      `);
      this.orders.migrate();
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
    const subscribers = this.subscriberSet();
    if (!subscribers.has(subscriber)) {
      subscribers.add(subscriber);
      this.ctx.storage.sql.exec("INSERT OR IGNORE INTO subscribers (trader_id) VALUES (?)", subscriber);
    }
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
    this.shrinkGroup(order, outcome.slices);
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
      this.shrinkGroup(next, outcome.slices);
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
    await this.pushQuote();
    return ok(next);
  }

  private subscriberSet(): Set<string> {
    this.subscribers ??= new Set(this.ctx.storage.sql.exec<{ trader_id: string }>("SELECT trader_id FROM subscribers").toArray().map((r) => r.trader_id));
    return this.subscribers;
  }

  /**
   * Tell every desk that asked for a quote about the change, before the admin hears it is done: an order
   * submitted after the change is checked against the new price. A desk that cannot be reached keeps its
   * old quote only until its cache expires (QUOTE_TTL_MS in the desk).
   */
  private async pushQuote(): Promise<void> {
    const quote = this.instrument && quoteOf(this.instrument);
    if (!quote) return;
    const push = (traderId: string) =>
      Promise.race([
        this.env.TRADER.get(this.env.TRADER.idFromName(traderId)).onQuote(quote),
        sleep(QUOTE_PUSH_TIMEOUT_MS).then(() => Promise.reject(new Error("no answer"))),
      ]);
    const results = await Promise.allSettled([...this.subscriberSet()].map(push));
    const failed = results.filter((r) => r.status === "rejected").length;
    if (failed > 0) console.warn(`venue ${quote.symbol}: ${failed} desks missed the new quote; they refresh within their cache time`);
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
      this.shrinkGroup(order, outcome.slices);
    }
  }

  /**
   * One cancels other: as an exit of a group sells, the group's other exits are reduced by as much (and ended
   * when nothing is left of them), in the same step, so that between them they never sell more than the
   * position. Their desks are told as for any change the venue makes on its own.
   */
  private shrinkGroup(order: VenueOrder, slices: { quantity: number }[]): void {
    const sold = slices.reduce((n, s) => n + s.quantity, 0);
    if (!order.ocoGroup || sold === 0) return;
    for (const sibling of this.orders.working()) {
      const other = JSON.parse(sibling.body) as VenueOrder;
      if (other.ocoGroup !== order.ocoGroup || other.key === order.key) continue;
      const left = other.quantity - sold;
      if (left <= sibling.filled) this.orders.end(other.key, "CANCELLED", `One-cancels-other: ${order.orderId} sold the shares`);
      else this.orders.record({ ...other, quantity: left }, "WORKING", JSON.parse(sibling.fills) as VenueFill[], null, sibling.triggered === 1, sibling.amend_seq);
      this.orders.owe(other.key, other.traderId);
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

/** A trailing stop after the price `priceCents`: its mark moves only in its favour, its stop trails the mark. */
function withMark(order: VenueOrder, priceCents: number, tickCents: number): VenueOrder {
  const mark = order.hwmCents == null ? priceCents : nextMark(order.side, order.hwmCents, priceCents);
  const stopCents = trailingStop(order.side, mark, { cents: order.trailCents ?? null, bp: order.trailBp ?? null }, tickCents);
  return { ...order, hwmCents: mark, stopCents };
}

function quoteOf(i: InstrumentSettings): Quote {
  return { symbol: i.symbol, priceCents: i.priceCents, tickCents: i.tickCents, tradable: i.tradable, version: i.version ?? 0 };
}
