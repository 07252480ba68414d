// Order entry on a trader's desk: submit, cancel, cancel all and amend, each as one command that checks,
// writes in one change, talks to the venue and answers a Result (expected failures are values). Every door
// into the desk (the Worker's HTTP routes by RPC, the trader's socket) calls these same commands, so a rule
// holds on all of them by construction.
import type { DeskConfig } from "../config";
import { ERROR_STATUS, errorText, fail, ok, type ErrorBody, type Result } from "../shared/errors";
import { isFinalStatus, type AmendRequest, type Order, type OrderRequest, type Side } from "../shared/orders";
import type { Quote, VenueReport } from "../venue/adapter";
import { dayOrderExpiry } from "../venue/calendar";
import { amendRefusal, holdForAmend, planAmend, sameTerms } from "./amendment";
import type { QuoteCache } from "./quotes";
import type { TokenBucket } from "./rate-limit";
import { checkMarketHours, checkQuote, checkRisk, checkTradingState, type Balances } from "./risk";
import type { OrderRow } from "./schema";
import type { DeskStore } from "./store";
import { answerRepeat, claimsOf, fingerprintOf, idempotencyKeyOf, placeOrder, withLegs, type Submitted } from "./submission";
import { SEND_GRACE_MS, type VenueSession } from "./venue-session";
import { cancelHeld, placeLegs } from "./contingent";
import { fundExits, planLegs } from "./exits";
import { amendHeldLeg, checkContingentAmend, planHeldLegAmend } from "./leg-amend";
import { toOrder } from "./views";

/** One order's answer within a cancel-all: the HTTP status a single cancel would give, and its body. */
export interface CancelOutcome {
  id: string;
  status: number;
  order: Order | null;
  error: ErrorBody | null;
}

export interface OrderEntryDeps {
  store: DeskStore;
  config: DeskConfig;
  venue: VenueSession;
  quotes: QuoteCache;
  rateLimit: TokenBucket;
  /** The trader's account is there (loaded from D1 on first use). */
  ensureAccount: () => Promise<boolean>;
  /** After a committed change: send its events, let the outbox carry it. */
  changed: () => void;
  /** Re-arm the alarm for the schedule in storage. */
  arm: () => void;
  waitUntil: (work: Promise<unknown>) => void;
}

export class OrderEntry {
  /** Idempotency keys of commands still being handled (a second request with one answers 409). */
  private readonly keysInFlight = new Set<string>();
  /** Orders with an amend request being handled in this instance (one at a time, until its answer). */
  private readonly amending = new Set<string>();

  constructor(private readonly d: OrderEntryDeps) {}

  async submit(request: OrderRequest, idempotencyKey: string | null): Promise<Result<Submitted>> {
    const traderId = this.d.store.traderId;
    const key = idempotencyKeyOf(request, idempotencyKey);
    const fingerprint = fingerprintOf(request);
    const previous = key ? this.d.store.orderByKey(key, request.client_order_id ?? null) : undefined;
    if (previous) return withLegs(answerRepeat(previous, fingerprint, traderId), this.d.store);
    const claims = claimsOf(request, key);
    if (claims.some((k) => this.keysInFlight.has(k))) {
      return fail("IDEMPOTENCY_KEY_IN_USE", "A request with this idempotency key is still being handled; retry in a moment");
    }
    const limited = this.d.rateLimit.take(Date.now());
    if (limited) return limited;

    for (const k of claims) this.keysInFlight.add(k);
    try {
      const closed = checkMarketHours(request, Date.now(), this.d.config);
      if (closed) return closed;
      if (!(await this.d.ensureAccount())) return noAccount(traderId);
      const gate = checkTradingState(this.d.store.account()!.trading_state, request.side, "order");
      if (gate) return gate;
      const quote = await this.d.quotes.get(request.symbol);
      // Balances are read after the await: another order may have reserved cash meanwhile.
      const account = this.d.store.account()!;
      const held = request.side === "SELL" ? this.d.store.position(request.symbol) : undefined; // only a SELL needs it
      // An oco's parent is its take-profit: a SELL LIMIT at take_profit.limit_price.
      const entry = request.order_class === "oco" && request.take_profit ? { ...request, price: request.take_profit.limit_price } : request;
      const approval = checkRisk(entry, quote, {
        cashCents: account.cash_cents, reservedCents: account.reserved_cents,
        heldQuantity: held?.quantity ?? 0, reservedQuantity: held?.reserved_qty ?? 0,
      }, this.d.config);
      if ("ok" in approval) return approval;
      const exits = quote ? planLegs(request, quote, approval.limitCents, this.d.config.priceBandPct) : [];
      if ("ok" in exits) return exits;
      // A SELL entry's exits buy the shares back: their cash is checked and reserved with the entry.
      const legPlans = quote ? fundExits(exits, request, quote, { cashCents: account.cash_cents, reservedCents: account.reserved_cents, heldQuantity: 0, reservedQuantity: 0 }, this.d.config) : exits;
      if ("ok" in legPlans) return legPlans;

      const nowMs = Date.now();
      // The alarm's backstop: if a first send has not concluded by then, the alarm takes it over.
      const backstopAt = nowMs + this.d.config.exchangeTimeoutMs + SEND_GRACE_MS;
      const placed = this.d.store.atomically(() => {
        const parent = placeOrder(this.d.store, entry, approval, {
          key, fingerprint, nowMs, backstopAt, expiresAt: request.time_in_force === "DAY" ? dayOrderExpiry(nowMs) : null,
          orderClass: request.order_class,
        });
        const legs = placeLegs(this.d.store, parent, legPlans, nowMs, backstopAt);
        return { parent: this.d.store.order(parent.id)!, legs };
      });
      // The alarm is armed before the client hears 201: if this instance dies mid-send, the alarm resumes.
      this.d.arm();
      this.d.changed();
      this.d.waitUntil(this.d.venue.send(placed.parent.id, placed.parent));
      for (const leg of placed.legs) if (leg.status !== "HELD") this.d.waitUntil(this.d.venue.send(leg.id, leg));
      const order = toOrder(placed.parent, traderId);
      return ok({ order: placed.legs.length > 0 ? { ...order, legs: placed.legs.map((l) => toOrder(l, traderId)) } : order, replayed: false });
    } finally {
      for (const k of claims) this.keysInFlight.delete(k);
    }
  }

  async cancel(orderId: string): Promise<Result<Order>> {
    const order = this.d.store.order(orderId);
    if (!order) return orderNotFound(orderId);
    if (isFinalStatus(order.status)) return notCancellable(order);
    const limited = this.d.rateLimit.take(Date.now());
    if (limited) return limited;
    return this.cancelWorking(order);
  }

  /**
   * Cancels every working order (of one symbol and side, when given), all at once: one result per order,
   * each exactly as a single cancel answers it; a venue that does not confirm one does not stop the others.
   */
  async cancelAll(filter: { symbol?: string; side?: Side }): Promise<Result<{ data: CancelOutcome[] }>> {
    const limited = this.d.rateLimit.take(Date.now());
    if (limited) return limited;
    const working = this.d.store.workingOrders(filter);
    const data = await Promise.all(working.map(async (order): Promise<CancelOutcome> => {
      const result = await this.cancelWorking(order);
      return result.ok
        ? { id: order.id, status: 200, order: result.value, error: null }
        : { id: order.id, status: ERROR_STATUS[result.code], order: null, error: { error: result.code, message: result.message, details: result.details ?? {} } };
    }));
    return ok({ data });
  }

  /**
   * Cancels one working order, and what goes with it: a HELD leg ends without the venue (it was never sent);
   * a parent's HELD legs end with it (in the same change, execution.ts); an exit takes its one-cancels-other
   * siblings with it.
   */
  private async cancelWorking(order: OrderRow): Promise<Result<Order>> {
    if (order.status === "HELD") {
      const nowMs = Date.now();
      const row = this.d.store.atomically(() => cancelHeld(this.d.store, order, "User requested cancellation", nowMs));
      this.d.changed();
      return ok(toOrder(row, this.d.store.traderId));
    }
    const result = await this.cancelAtVenue(order);
    if (!result.ok) return result;
    await Promise.all(this.d.store.ocoSiblings(order).map((sibling) => this.cancelAtVenue(sibling))); // one cancels other
    return result;
  }

  /** Asks the venue to end a working order and applies its answer; a cancel that fails is told on the stream. */
  private async cancelAtVenue(order: OrderRow): Promise<Result<Order>> {
    let report: VenueReport;
    try {
      report = await this.d.venue.end(order, "CANCELLED", "User requested cancellation");
    } catch (err) {
      const message = `The venue did not confirm the cancel (${errorText(err)}): the order works on unless the venue reports it cancelled (order.cancelled); try again`;
      this.cancelRejected(order.id, message);
      return fail("VENUE_UNAVAILABLE", message, { order_id: order.id });
    }
    this.d.venue.apply(order.id, report, { kind: "none" });
    const after = this.d.store.order(order.id)!;
    if (after.status === "CANCELLED") return ok(toOrder(after, this.d.store.traderId));
    this.cancelRejected(order.id, `Order is ${after.status}: the venue had already ${after.status === "FILLED" ? "filled" : "ended"} it`);
    return notCancellable(after);
  }

  private cancelRejected(orderId: string, reason: string): void {
    const nowMs = Date.now();
    this.d.store.atomically(() => this.d.store.notify(this.d.store.order(orderId)!, "order.cancel_rejected", reason, nowMs));
    this.d.changed();
  }

  /**
   * Amends a working order in place (FIX cancel/replace): checked as if new, the extra reservation held
   * while the venue amends atomically; one outcome only: amended (200), or 409 ORDER_NOT_AMENDABLE with the
   * status that won. Idempotent with `idempotencyKey`.
   */
  async amend(orderId: string, changes: AmendRequest, idempotencyKey: string | null): Promise<Result<Submitted>> {
    const traderId = this.d.store.traderId;
    const order = this.d.store.order(orderId);
    if (!order) return orderNotFound(orderId);
    const fingerprint = fingerprintOf(changes);
    if (idempotencyKey) {
      const used = this.d.store.amendKey(idempotencyKey);
      if (used && (used.order_id !== orderId || used.fingerprint !== fingerprint)) {
        return fail("IDEMPOTENCY_KEY_REUSED", "This idempotency key was already used for a different amend; use a new key", { order_id: used.order_id });
      }
      // The same amend again (a retry, perhaps after a restart): its outcome, never a second amend.
      if (used && order.amend_seq >= used.seq) return ok({ order: toOrder(order, traderId), replayed: true });
      if (used && order.pending_amend !== null) return fail("IDEMPOTENCY_KEY_IN_USE", "This amend is still being settled with the venue; retry in a moment");
      if (used) return fail("ORDER_NOT_AMENDABLE", `Order ${orderId} is ${order.status}: the venue did not amend it`, { order_id: orderId, status: order.status });
    }
    const claim = `amend:${idempotencyKey ?? orderId}`;
    if (this.keysInFlight.has(claim)) return fail("IDEMPOTENCY_KEY_IN_USE", "An amend with this idempotency key is still being handled; retry in a moment");
    const refused = amendRefusal(order);
    if (refused) return refused;
    // One amend of an order at a time, until its own answer: a report from the venue can settle it first,
    // and a second amend applied then would make the first one's 200 show the second one's terms.
    if (this.amending.has(orderId)) {
      return fail("ORDER_NOT_AMENDABLE", `Order ${orderId} has an amend the venue has not confirmed yet; retry in a moment`, { order_id: orderId, status: order.status });
    }
    const limited = this.d.rateLimit.take(Date.now());
    if (limited) return limited;

    this.keysInFlight.add(claim);
    this.amending.add(orderId);
    try {
      const quote = await this.d.quotes.get(order.symbol);
      const current = this.d.store.order(orderId)!; // re-read: a fill or a cancel may have landed meanwhile
      const refusedNow = amendRefusal(current);
      if (refusedNow) return refusedNow;
      // A BUY amend reduces only when it lowers the quantity and changes nothing else.
      const reducesOnly = current.side === "SELL" || (changes.quantity !== undefined && changes.quantity < current.quantity && Object.keys(changes).length === 1);
      const gate = checkTradingState(this.d.store.account()!.trading_state, current.side, "amend", !reducesOnly);
      if (gate) return gate;
      if (current.status === "HELD") return this.amendHeld(current, changes, quote, idempotencyKey, fingerprint);
      const sides = quote ? checkContingentAmend(this.d.store, current, changes, quote, this.d.config.priceBandPct) : null;
      if (sides) return sides;
      const plan = planAmend(current, changes, quote, this.balances(current.symbol), this.d.config, this.pairReserved(current));
      if ("ok" in plan) return plan;
      // An amend to the terms the order already has changes nothing: nothing to send, nothing to audit.
      if (sameTerms(current, plan)) return ok({ order: toOrder(current, traderId), replayed: false });
      const nowMs = Date.now();
      this.d.store.atomically(() => {
        holdForAmend(this.d.store, current, plan, nowMs, nowMs + this.d.config.exchangeTimeoutMs + SEND_GRACE_MS);
        // The key goes with the amend it asked for, so a retry (even after a restart) finds its outcome.
        if (idempotencyKey) this.d.store.saveAmendKey(idempotencyKey, orderId, fingerprint, plan.seq);
      });
      this.d.arm();
      const outcome = await this.d.venue.amend(orderId);
      if (!outcome.settled) {
        return fail("VENUE_UNAVAILABLE", "The venue did not confirm the amend in time; it stays pending and fillwire settles it with the venue (order.replaced on the socket if it applied)", {
          order_id: orderId, pending: true,
        });
      }
      const after = this.d.store.order(orderId)!;
      if (after.amend_seq < plan.seq) {
        const why = outcome.refusal ? `: ${outcome.refusal}` : "";
        return fail("ORDER_NOT_AMENDABLE", `Order ${orderId} is ${after.status}: the venue did not amend it${why}`, {
          order_id: orderId, status: after.status, ...(outcome.refusal ? { venue_reason: outcome.refusal } : {}),
        });
      }
      return ok({ order: toOrder(after, traderId), replayed: false });
    } finally {
      this.keysInFlight.delete(claim);
      this.amending.delete(orderId);
    }
  }

  /** A HELD leg's new prices, on the desk alone (it is not at the venue yet): 200 at once, still HELD. */
  private amendHeld(leg: OrderRow, changes: AmendRequest, quote: Quote | null, idempotencyKey: string | null, fingerprint: string): Result<Submitted> {
    const unpriced = checkQuote(leg.symbol, quote);
    if (unpriced || !quote) return unpriced!;
    const funding = { balances: this.balances(leg.symbol), pairReservedCents: this.pairReserved(leg).cents, config: this.d.config };
    const plan = planHeldLegAmend(leg, this.d.store.order(leg.parent_order_id!)!, changes, quote, funding);
    if ("ok" in plan) return plan;
    if (sameTerms(leg, plan)) return ok({ order: toOrder(leg, this.d.store.traderId), replayed: false });
    const amended = this.d.store.atomically(() => {
      if (idempotencyKey) this.d.store.saveAmendKey(idempotencyKey, leg.id, fingerprint, plan.seq);
      return amendHeldLeg(this.d.store, leg, plan, Date.now());
    });
    this.d.changed();
    return ok({ order: toOrder(amended, this.d.store.traderId), replayed: false });
  }

  /** What an exit's one-cancels-other pair reserves between its legs (the order's own included). */
  private pairReserved(order: OrderRow): { quantity: number; cents: number } {
    const pair = [order, ...this.d.store.ocoSiblings(order)];
    return { quantity: pair.reduce((n, o) => n + o.reserved_qty, 0), cents: pair.reduce((n, o) => n + o.reserved_cents, 0) };
  }

  /** Cash and the symbol's shares as the risk check reads them (after any await). */
  private balances(symbol: string): Balances {
    const account = this.d.store.account()!;
    const held = this.d.store.position(symbol);
    return {
      cashCents: account.cash_cents, reservedCents: account.reserved_cents,
      heldQuantity: held?.quantity ?? 0, reservedQuantity: held?.reserved_qty ?? 0,
    };
  }
}

export const orderNotFound = (orderId: string) => fail("ORDER_NOT_FOUND", `No order ${orderId} in your account`, { order_id: orderId });
export const noAccount = (traderId: string) =>
  fail("ACCOUNT_NOT_FOUND", `No account for trader ${traderId}; an admin opens one with PUT /api/v1/admin/accounts/${traderId}`, { trader_id: traderId });
const notCancellable = (order: OrderRow) =>
  fail("ORDER_NOT_CANCELLABLE", `Order ${order.id} is ${order.status} and can no longer be cancelled`, { order_id: order.id, status: order.status });
