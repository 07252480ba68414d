// TraderDesk: one Durable Object per trader. It serializes everything that trader does (submit, cancel,
// venue reports, retries), keeps the live state in its own SQLite storage, and is the only writer of that
// trader's rows in D1 (through the outbox). Its public methods are the RPC API the Worker calls; the rules
// live in risk.ts, lifecycle.ts, outbox.ts and store.ts.
import { DurableObject } from "cloudflare:workers";
import { deskConfig, type DeskConfig } from "../config";
import { newId } from "../ids";
import { loadAccount } from "../db/accounts";
import { fail, ok, type Failure, type Result } from "../shared/errors";
import { ClientMessage, WS_PROTOCOL, type OrderEvent, type OrderEventName, type ServerMessage } from "../shared/events";
import { isFinalStatus, type Account, type AuditEntry, type ListOrdersQuery, type Order, type OrderRequest, type OrderWithFills } from "../shared/orders";
import type { ExchangeAdapter, OrderRef, Quote, VenueOrder, VenueReport } from "../venue/adapter";
import { exchangeFor } from "../venue/simulated";
import { audit, reconcile, type Acceptance, type AuditDraft, type Step } from "./lifecycle";
import { flushOutbox } from "./outbox";
import { canRetry, retryDelayMs } from "./retry";
import { checkRisk } from "./risk";
import { nextSessionClose } from "./session";
import { DeskStore, type OrderRow } from "./store";
import { d1Account, d1Fill, d1Log, d1Order, d1Position, toAccount, toAuditEntry, toOrder, toOrderWithFills } from "./views";
import { decodeCursor, encodeCursor } from "./cursor";

/** How long past the venue timeout the alarm waits before it takes over a send that never concluded. */
const SEND_GRACE_MS = 1000;
const OUTBOX_RETRY_MAX_MS = 30_000;
const OUTBOX_BACKSTOP_MS = 5_000;
/**
 * How long a quote is reused without asking the venue. The venue pushes every price change to the desks
 * that hold its quote (onQuote), so this only bounds how stale a quote can get if such a push is lost.
 */
const QUOTE_TTL_MS = 10_000;
const REPLAY_LIMIT = 10_000;
/** Messages a socket may send per 10 s before it is closed as a flood. */
const SOCKET_MESSAGE_BUDGET = 100;

class VenueTimeout extends Error {}

export interface Submitted {
  order: Order;
  replayed: boolean;
}

export interface SocketAttachment {
  traderId: string;
  windowStart: number;
  messages: number;
}

export class TraderDesk extends DurableObject<Env> {
  private readonly store: DeskStore;
  private readonly config: DeskConfig;
  private readonly exchange: ExchangeAdapter;
  private traderId = "";
  /** Orders whose venue send is running in this instance; the alarm leaves them alone. */
  private readonly sending = new Set<string>();
  /** Idempotency keys of submits still being handled (a second request with one answers 409). */
  private readonly keysInFlight = new Set<string>();
  private hydrating: Promise<unknown> | null = null;
  private flushing: Promise<void> | null = null;
  private flushTimer: ReturnType<typeof setTimeout> | null = null;
  /** The alarm time this instance last armed (null: unknown, e.g. after a restart). */
  private alarmAt: number | null = null;
  private flushAgain = false;
  private outboxFailures = 0;
  /** The stored outbox retry time is known to be clear (set after this instance's first good flush). */
  private outboxRetryCleared = false;
  private bucket = { tokens: 0, at: 0 };
  /** Quotes by symbol, kept while fresh and replaced by the venue's pushes. */
  private readonly quotes = new Map<string, { quote: Quote; at: number }>();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.config = deskConfig(env);
    this.exchange = exchangeFor(env);
    this.store = new DeskStore(ctx.storage.sql, "", (work) => ctx.storage.transactionSync(work));
    this.bucket.tokens = this.config.rateLimitBurst;
    ctx.blockConcurrencyWhile(async () => {
      this.store.migrate();
      this.traderId = this.store.meta("trader_id") ?? "";
      this.store.traderId = this.traderId;
    });
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair('{"type":"ping"}', '{"type":"pong"}'));
  }

  /** One storage transaction (outbox records included); on failure the store's caches are dropped with it. */
  private atomically<T>(work: () => T): T {
    return this.store.atomically(work);
  }

  /** The Worker names the trader on every call; the first call pins this desk to it. */
  private bind(traderId: string): void {
    if (this.traderId === traderId) return;
    if (this.traderId) throw new Error(`desk of ${this.traderId} called for ${traderId}`);
    this.traderId = traderId;
    this.store.traderId = traderId;
    this.store.setMeta("trader_id", traderId);
  }

  private now(): number {
    return Date.now();
  }

  // ---------------------------------------------------------------- RPC: orders

  async submitOrder(traderId: string, request: OrderRequest, idempotencyKey: string | null): Promise<Result<Submitted>> {
    this.bind(traderId);
    const key = idempotencyKey ?? (request.client_order_id ? `client_order_id:${request.client_order_id}` : null);
    const fingerprint = fingerprintOf(request);
    const previous = key ? this.store.orderByKey(key, request.client_order_id ?? null) : undefined;
    if (previous) {
      if (previous.fingerprint === fingerprint) return ok({ order: toOrder(previous, traderId), replayed: true });
      return fail("IDEMPOTENCY_KEY_REUSED", "This idempotency key was already used for a different order; use a new key for a new order", {
        order_id: previous.id,
      });
    }
    // Both the header key and the client_order_id identify the order while it is being created.
    const claims = [key, request.client_order_id ? `client_order_id:${request.client_order_id}` : null].filter((k): k is string => k !== null);
    if (claims.some((k) => this.keysInFlight.has(k))) {
      return fail("IDEMPOTENCY_KEY_IN_USE", "A request with this idempotency key is still being handled; retry in a moment");
    }
    const limited = this.takeToken();
    if (limited) return limited;

    for (const k of claims) this.keysInFlight.add(k);
    try {
      if (!(await this.ensureAccount())) return noAccount(traderId);
      const quote = await this.quoteFor(request.symbol);
      // Balances are read after the await: another order may have reserved cash meanwhile.
      const account = this.store.account()!;
      const held = request.side === "SELL" ? this.store.position(request.symbol) : undefined; // only a SELL needs it
      const approval = checkRisk(request, quote, {
        cashCents: account.cash_cents, reservedCents: account.reserved_cents,
        heldQuantity: held?.quantity ?? 0, reservedQuantity: held?.reserved_qty ?? 0,
      }, this.config);
      if ("ok" in approval) return approval;

      const nowMs = this.now();
      const at = new Date(nowMs).toISOString();
      const events = this.atomically(() => {
        const row = this.store.insertOrder({
          id: newId("ord", nowMs), idem_key: key, fingerprint, client_order_id: request.client_order_id ?? null,
          symbol: request.symbol, side: request.side, quantity: request.quantity, order_type: request.order_type,
          limit_cents: approval.limitCents, stop_cents: approval.stopCents, protect_cents: approval.protectCents,
          max_cost_cents: approval.maxCostCents, tif: request.time_in_force, reserved_cents: approval.reservedCents,
          reserved_qty: approval.reservedQuantity, created_at: at,
          // The alarm's backstop: if this first send has not concluded by then, the alarm takes it over.
          next_attempt_at: nowMs + this.config.exchangeTimeoutMs + SEND_GRACE_MS,
          expires_at: request.time_in_force === "DAY" ? nextSessionClose(nowMs, this.config.sessionCloseUtc) : null,
        });
        const acct = this.store.adjustAccount(0, approval.reservedCents);
        this.store.enqueue("account", d1Account(acct, at));
        if (approval.reservedQuantity > 0) {
          const pos = this.store.adjustPosition(request.symbol, 0, 0, approval.reservedQuantity);
          this.store.enqueue("position", d1Position(pos, traderId));
        }
        const events: string[] = [];
        this.record(row, audit("SUBMITTED", "PENDING"), "order.submitted", nowMs, events);
        this.store.enqueue("order", d1Order(row, traderId));
        return { row, events };
      });
      // The alarm is armed before the client hears 201: if this instance dies mid-send, the alarm resumes.
      this.scheduleWake();
      this.afterChange(events.events);
      this.ctx.waitUntil(this.sendToVenue(events.row.id, events.row));
      return ok({ order: toOrder(events.row, traderId), replayed: false });
    } finally {
      for (const k of claims) this.keysInFlight.delete(k);
    }
  }

  async cancelOrder(traderId: string, orderId: string): Promise<Result<Order>> {
    this.bind(traderId);
    const order = this.store.order(orderId);
    if (!order) return orderNotFound(orderId);
    if (isFinalStatus(order.status)) return notCancellable(order);
    const limited = this.takeToken();
    if (limited) return limited;
    let report: VenueReport;
    try {
      report = await this.withTimeout(this.exchange.cancel(orderRef(order, traderId), "CANCELLED", "User requested cancellation"));
    } catch (err) {
      return fail("VENUE_UNAVAILABLE", `The venue did not confirm the cancel (${errorText(err)}); the order is unchanged, try again`);
    }
    this.applyReport(orderId, report, { kind: "none" });
    const after = this.store.order(orderId)!;
    return after.status === "CANCELLED" ? ok(toOrder(after, traderId)) : notCancellable(after);
  }

  async getOrder(traderId: string, orderId: string): Promise<Result<OrderWithFills>> {
    this.bind(traderId);
    const order = this.store.order(orderId);
    return order ? ok(toOrderWithFills(order, this.store.fills(orderId), traderId)) : orderNotFound(orderId);
  }

  async listOrders(traderId: string, query: ListOrdersQuery): Promise<Result<{ data: Order[]; next_cursor: string | null }>> {
    this.bind(traderId);
    const beforeSeq = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
    if (beforeSeq === null) return fail("VALIDATION_ERROR", "cursor is not one this API returned; start again without it", { fields: { cursor: "invalid cursor" } });
    const rows = this.store.listOrders({ status: query.status, symbol: query.symbol, beforeSeq, limit: query.limit + 1 });
    const page = rows.slice(0, query.limit);
    const more = rows.length > query.limit;
    return ok({ data: page.map((r) => toOrder(r, traderId)), next_cursor: more ? encodeCursor(page[page.length - 1]!.seq) : null });
  }

  async auditTrail(traderId: string, orderId: string): Promise<Result<{ data: AuditEntry[]; total: number }>> {
    this.bind(traderId);
    if (!this.store.order(orderId)) return orderNotFound(orderId);
    const data = this.store.auditFor(orderId).map((r) => toAuditEntry(r, traderId));
    return ok({ data, total: data.length });
  }

  async getAccount(traderId: string): Promise<Result<Account>> {
    this.bind(traderId);
    const account = await this.ensureAccount();
    return account ? ok(toAccount(this.store.account()!, this.store.positions())) : noAccount(traderId);
  }

  async openAccount(traderId: string, cashCents: number, positions: { symbol: string; quantity: number; costCents: number }[]): Promise<Result<Account>> {
    this.bind(traderId);
    if (this.store.account() || (await loadAccount(this.env.DB, traderId))) {
      return fail("ACCOUNT_EXISTS", `An account for ${traderId} already exists`, { trader_id: traderId });
    }
    if (this.store.account()) return fail("ACCOUNT_EXISTS", `An account for ${traderId} already exists`, { trader_id: traderId });
    const at = new Date(this.now()).toISOString();
    this.atomically(() => {
      this.store.createAccount(cashCents, at);
      this.store.enqueue("account", d1Account(this.store.account()!, at));
      for (const p of positions) {
        const row = this.store.adjustPosition(p.symbol, p.quantity, p.costCents, 0);
        this.store.enqueue("position", d1Position(row, traderId));
      }
    });
    await this.flush();
    return ok(toAccount(this.store.account()!, this.store.positions()));
  }

  /** The venue reports a change it made on its own (a resting order filled by a price move). */
  async onExecutionReport(report: VenueReport): Promise<void> {
    if (!this.traderId) throw new Error("execution report for a desk that never took an order");
    this.applyReport(report.orderId, report, { kind: "none" });
  }

  /** The venue pushes a changed quote here (to every desk that holds one for the symbol). */
  async onQuote(quote: Quote): Promise<void> {
    this.keepQuote(quote);
  }

  /** Fault drills: reset this object now, as a crash or a redeploy would (in-flight work is lost). */
  async restartForDrill(): Promise<void> {
    this.ctx.abort("restarted by a fault drill");
  }

  /** How many outbox records still wait for D1 (tests and operators read this). */
  async pendingOutbox(): Promise<number> {
    return this.store.outboxSize();
  }

  // ---------------------------------------------------------------- venue work

  /**
   * Send an order to the venue (or, after a failed attempt, first look for it there by key). `inserted` is
   * the row submitOrder just wrote (stage SENT, backstop armed): its first send needs no lookup.
   */
  private async sendToVenue(orderId: string, inserted?: OrderRow): Promise<void> {
    if (this.sending.has(orderId)) return;
    this.sending.add(orderId);
    try {
      const order = inserted ?? this.store.order(orderId);
      if (!order || isFinalStatus(order.status) || order.venue_stage === "ACKED") return;
      const attempt = order.attempt;
      if (attempt > this.config.retryMaxAttempts) return await this.giveUp(order);
      if (!inserted) {
        if (order.venue_stage === "SENT") {
          // A previous attempt may have reached the venue even though no answer came back.
          const found = await this.withTimeout(this.exchange.lookup(orderRef(order, this.traderId))).catch((err: unknown) => err);
          if (found instanceof Error) return this.attemptFailed(orderId, attempt, found);
          if (found) return this.applyReport(orderId, found as VenueReport, { kind: "found", attempt });
        }
        this.store.updateOrder(orderId, { venue_stage: "SENT", next_attempt_at: this.now() + this.config.exchangeTimeoutMs + SEND_GRACE_MS });
      }
      try {
        const report = await this.withTimeout(this.exchange.submit(venueOrder(order, this.traderId), attempt));
        this.applyReport(orderId, report, attempt === 0 ? { kind: "first" } : { kind: "retry", attempt });
      } catch (err) {
        this.attemptFailed(orderId, attempt, err);
      }
    } finally {
      this.sending.delete(orderId);
      this.scheduleWake();
    }
  }

  private attemptFailed(orderId: string, attempt: number, err: unknown): void {
    const nowMs = this.now();
    const timedOut = err instanceof VenueTimeout;
    const events = this.atomically(() => {
      const order = this.store.order(orderId);
      if (!order || isFinalStatus(order.status) || order.venue_stage === "ACKED") return [];
      const what = timedOut ? `Venue did not answer within ${this.config.exchangeTimeoutMs} ms` : `Venue error: ${errorText(err)}`;
      const next = attempt + 1;
      const delay = retryDelayMs(this.config.retryBaseMs, next);
      const reason = canRetry(attempt, this.config.retryMaxAttempts)
        ? `${what}; retry ${next} of ${this.config.retryMaxAttempts} in ${delay} ms`
        : `${what}; no retries left`;
      const events: string[] = [];
      this.record(order, audit("EXECUTED", order.status, reason, timedOut ? "TIMEOUT" : "VENUE_ERROR", attempt), null, nowMs, events);
      const row = this.store.updateOrder(orderId, { attempt: next, next_attempt_at: nowMs + (canRetry(attempt, this.config.retryMaxAttempts) ? delay : 0), updated_at: iso(nowMs) });
      this.store.enqueue("order", d1Order(row, this.traderId));
      return events;
    });
    this.afterChange(events);
  }

  /** Retries are spent: make sure the venue can never execute the order, then close it. */
  private async giveUp(order: OrderRow): Promise<void> {
    const reason = `Venue unavailable after ${this.config.retryMaxAttempts} retries; order rejected`;
    let report: VenueReport;
    try {
      report = await this.withTimeout(this.exchange.cancel(orderRef(order, this.traderId), "CANCELLED", reason));
    } catch {
      // Not even the cancel got through: try again later; the order cannot be closed until the venue confirms.
      this.store.updateOrder(order.id, { next_attempt_at: this.now() + retryDelayMs(this.config.retryBaseMs, order.attempt) });
      return;
    }
    const neverTraded = report.fills.length === 0 && report.state === "CANCELLED";
    this.applyReport(order.id, neverTraded ? { ...report, state: "REJECTED", reason } : report, { kind: "none" });
  }

  private async expire(orderId: string): Promise<void> {
    const order = this.store.order(orderId);
    if (!order || isFinalStatus(order.status)) return;
    const reason = `Day order expired at the session close (${this.config.sessionCloseUtc} UTC)`;
    const report = await this.withTimeout(this.exchange.cancel(orderRef(order, this.traderId), "EXPIRED", reason));
    this.applyReport(orderId, report, { kind: "none" });
  }

  /**
   * Apply a venue report: new fills move cash and positions, each step is audited and sent to sockets.
   * The order row changes in memory step by step and is written once, with one UPDATE, at the end.
   */
  private applyReport(orderId: string, report: VenueReport, how: Acceptance): void {
    const nowMs = this.now();
    const events = this.atomically(() => {
      const stored = this.store.order(orderId);
      if (!stored) return [];
      const steps = reconcile(
        {
          quantity: stored.quantity, status: stored.status, filledQuantity: stored.filled_quantity, attempt: stored.attempt,
          knownFillIds: stored.filled_quantity > 0 ? this.store.fillIds(orderId) : new Set<string>(),
        },
        report,
        how,
      );
      const events: string[] = [];
      const draft: OrderDraft = { row: stored, patch: {} };
      for (const step of steps) this.applyStep(draft, step, nowMs, events);
      const settled = isFinalStatus(draft.row.status);
      const acked = how.kind !== "none" && report.state !== "REJECTED";
      if (settled || acked) {
        change(draft, { venue_stage: "ACKED", next_attempt_at: null, expires_at: settled ? null : draft.row.expires_at, updated_at: iso(nowMs) });
      }
      if (Object.keys(draft.patch).length === 0) return events;
      const order = this.store.updateOrder(orderId, draft.patch);
      this.store.enqueue("order", d1Order(order, this.traderId));
      return events;
    });
    this.afterChange(events);
  }

  private applyStep(draft: OrderDraft, step: Step, nowMs: number, events: string[]): void {
    const at = iso(nowMs);
    if (step.kind === "log") {
      this.record(draft.row, step.audit, step.event, nowMs, events);
      return;
    }
    if (step.kind === "fill") {
      const { fill } = step;
      const order = draft.row;
      const value = fill.quantity * fill.priceCents;
      const last = step.status === "FILLED"; // the last fill also gives back whatever is still reserved
      this.store.insertFill({ id: fill.id, order_id: order.id, quantity: fill.quantity, price_cents: fill.priceCents, timestamp: fill.timestamp });
      if (order.side === "BUY") {
        const released = last ? order.reserved_cents : Math.min(value, order.reserved_cents);
        this.enqueueAccount(this.store.adjustAccount(-value, -released), at);
        this.enqueuePosition(this.store.adjustPosition(order.symbol, fill.quantity, value, 0));
        change(draft, { reserved_cents: order.reserved_cents - released });
      } else {
        const held = this.store.position(order.symbol);
        const costOut = held && held.quantity > 0 ? Math.round((held.cost_cents * fill.quantity) / held.quantity) : 0;
        const stillReserved = Math.max(0, order.reserved_qty - fill.quantity);
        this.enqueueAccount(this.store.adjustAccount(value, 0), at);
        this.enqueuePosition(this.store.adjustPosition(order.symbol, -fill.quantity, -costOut, -fill.quantity - (last ? stillReserved : 0)));
        change(draft, { reserved_qty: last ? 0 : stillReserved });
      }
      change(draft, {
        status: step.status, filled_quantity: order.filled_quantity + fill.quantity,
        filled_notional_cents: order.filled_notional_cents + value, updated_at: at,
      });
      this.store.enqueue("fill", d1Fill({ id: fill.id, order_id: order.id, quantity: fill.quantity, price_cents: fill.priceCents, timestamp: fill.timestamp }, draft.row, this.traderId));
      this.record(draft.row, step.audit, step.event, nowMs, events, { fill: fill.quantity, price: fill.priceCents, id: fill.id });
      return;
    }
    change(draft, { status: step.status, reason: step.reason, updated_at: at });
    this.release(draft, at);
    this.record(draft.row, step.audit, step.event, nowMs, events);
  }

  /** A finished order gives back what it still holds in reserve. */
  private release(draft: OrderDraft, at: string): void {
    const order = draft.row;
    if (order.reserved_cents > 0) this.enqueueAccount(this.store.adjustAccount(0, -order.reserved_cents), at);
    if (order.reserved_qty > 0) this.enqueuePosition(this.store.adjustPosition(order.symbol, 0, 0, -order.reserved_qty));
    if (order.reserved_cents > 0 || order.reserved_qty > 0) change(draft, { reserved_cents: 0, reserved_qty: 0 });
  }

  private enqueueAccount(row: ReturnType<DeskStore["adjustAccount"]>, at: string): void {
    this.store.enqueue("account", d1Account(row, at));
  }

  private enqueuePosition(row: ReturnType<DeskStore["adjustPosition"]>): void {
    this.store.enqueue("position", d1Position(row, this.traderId));
  }

  /** One audit row (outbox included) and, when the step has one, its event. */
  private record(order: OrderRow, draft: AuditDraft, event: OrderEventName | null, nowMs: number, events: string[], fill?: { fill: number; price: number; id: string }): void {
    const at = iso(nowMs);
    const row = this.store.appendAudit(order, draft, at, () => newId("log", nowMs));
    this.store.enqueue("log", d1Log(row, this.traderId));
    if (!event) return;
    events.push(
      this.store.appendEvent(
        (seq) => ({
          event, seq, order_id: order.id, status: order.status, symbol: order.symbol, side: order.side, order_type: order.order_type,
          quantity: order.quantity, filled_quantity: order.filled_quantity,
          avg_fill_price: order.filled_quantity > 0 ? Math.round((order.filled_notional_cents / order.filled_quantity) * 100) / 10_000 : null,
          quantity_filled: fill?.fill ?? null, price_at_fill: fill ? fill.price / 100 : null, fill_id: fill?.id ?? null,
          price: fill ? fill.price / 100 : order.limit_cents === null ? null : order.limit_cents / 100,
          reason: draft.reason, timestamp: at,
        }),
        nowMs,
      ),
    );
  }

  // ---------------------------------------------------------------- alarm: retries, expiries, outbox

  override async alarm(): Promise<void> {
    this.alarmAt = null;
    if (!this.traderId) return;
    const nowMs = this.now();
    const work: Promise<void>[] = [];
    for (const order of this.store.dueAttempts(nowMs)) {
      if (!this.sending.has(order.id)) work.push(this.sendToVenue(order.id));
    }
    for (const order of this.store.dueExpiries(nowMs)) work.push(this.expire(order.id));
    const results = await Promise.allSettled(work);
    for (const r of results) if (r.status === "rejected") console.error("desk alarm work failed", String(r.reason));
    if (this.store.outboxSize() > 0) await this.flush();
    this.scheduleWake();
  }

  /**
   * Arm the alarm for the earliest pending work; the schedule itself lives in storage. Records waiting
   * in the outbox count as work (a backstop in case this instance goes away before its flush runs).
   * An alarm already armed at or before that time is left alone: when it fires, it re-arms.
   */
  private scheduleWake(): void {
    const at = this.store.nextWakeAt(this.now() + OUTBOX_BACKSTOP_MS);
    if (at === null) return;
    if (this.alarmAt !== null && this.alarmAt <= at && this.alarmAt > this.now()) return;
    this.alarmAt = at;
    void this.ctx.storage.setAlarm(at);
  }

  /**
   * Send the events now; flush the outbox a moment later, so that a burst of changes is one D1 batch. The
   * alarm backs the flush up (it is armed unless one already is): a change the venue reported, or a cancel,
   * must reach D1 even if this instance goes away before its flush.
   */
  private afterChange(events: string[]): void {
    this.broadcast(events);
    if (this.alarmAt === null || this.alarmAt <= this.now()) this.scheduleWake();
    if (this.flushTimer !== null) return;
    this.ctx.waitUntil(
      new Promise<void>((resolve) => {
        this.flushTimer = setTimeout(() => {
          this.flushTimer = null;
          void this.flush().finally(resolve);
        }, this.config.outboxFlushMs);
      }),
    );
  }

  /** Flush the outbox to D1; concurrent callers share one run, and a failure schedules a retry by alarm. */
  private flush(): Promise<void> {
    if (this.flushing) {
      this.flushAgain = true;
      return this.flushing;
    }
    this.flushing = (async () => {
      try {
        do {
          this.flushAgain = false;
          await flushOutbox(this.store, this.env.DB);
        } while (this.flushAgain);
        // Only after a failure is there a retry time to clear (this.outboxFailures is 0 after a restart,
        // so the first success of a new instance clears a time its predecessor may have left).
        if (this.outboxFailures > 0 || !this.outboxRetryCleared) {
          this.store.setMeta("outbox_retry_at", "");
          this.outboxRetryCleared = true;
        }
        this.outboxFailures = 0;
      } catch (err) {
        this.outboxFailures++;
        const retryAt = this.now() + Math.min(OUTBOX_RETRY_MAX_MS, 250 * 2 ** this.outboxFailures);
        console.warn(`desk ${this.traderId}: D1 flush failed (${errorText(err)}); ${this.store.outboxSize()} records kept, retry at ${iso(retryAt)}`);
        this.store.setMeta("outbox_retry_at", String(retryAt));
        this.outboxRetryCleared = false;
        this.scheduleWake();
      } finally {
        this.flushing = null;
      }
    })();
    return this.flushing;
  }

  // ---------------------------------------------------------------- accounts

  /** The trader's account, loaded from D1 (where `npm run seed` or an admin put it) on first use. */
  private async ensureAccount(): Promise<boolean> {
    if (this.store.account()) return true;
    this.hydrating ??= loadAccount(this.env.DB, this.traderId)
      .then((remote) => {
        if (!remote || this.store.account()) return;
        this.atomically(() => {
          this.store.createAccount(remote.cashCents, remote.createdAt, remote.version);
          for (const p of remote.positions) this.store.adjustPosition(p.symbol, p.quantity, p.costCents, 0);
        });
      })
      .finally(() => {
        this.hydrating = null;
      });
    await this.hydrating;
    return this.store.account() !== undefined;
  }

  private async quoteFor(symbol: string): Promise<Quote | null> {
    const held = this.quotes.get(symbol);
    if (held && this.now() - held.at < QUOTE_TTL_MS) return held.quote;
    const quote = await this.exchange.quote(symbol, this.traderId);
    if (!quote) {
      this.quotes.delete(symbol); // the venue no longer knows it
      return null;
    }
    this.keepQuote(quote);
    // A push that arrived while this call was on its way is newer than its answer.
    return this.quotes.get(symbol)?.quote ?? quote;
  }

  private keepQuote(quote: Quote): void {
    const held = this.quotes.get(quote.symbol);
    if (held && held.quote.version > quote.version) return;
    this.quotes.set(quote.symbol, { quote, at: this.now() });
  }

  private takeToken(): Failure | null {
    const nowMs = this.now();
    const { rateLimitPerSecond: rate, rateLimitBurst: burst } = this.config;
    this.bucket.tokens = Math.min(burst, this.bucket.tokens + ((nowMs - this.bucket.at) / 1000) * rate);
    this.bucket.at = nowMs;
    if (this.bucket.tokens >= 1) {
      this.bucket.tokens -= 1;
      return null;
    }
    const retryAfter = Math.max(1, Math.ceil((1 - this.bucket.tokens) / rate));
    return fail("RATE_LIMITED", `Too many orders: at most ${rate} per second (bursts of ${burst}); retry in ${retryAfter} s`, { retry_after_seconds: retryAfter });
  }

  private withTimeout<T>(promise: Promise<T>): Promise<T> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new VenueTimeout(`no answer within ${this.config.exchangeTimeoutMs} ms`)), this.config.exchangeTimeoutMs);
    });
    promise.catch(() => undefined); // a late failure of the losing side is expected, not an error
    return Promise.race([promise, timeout]).finally(() => timer !== undefined && clearTimeout(timer));
  }

  // ---------------------------------------------------------------- WebSockets (hibernation API)

  override async fetch(request: Request): Promise<Response> {
    const traderId = request.headers.get("X-Fillwire-Trader");
    if (!traderId || request.headers.get("Upgrade")?.toLowerCase() !== "websocket") {
      return new Response("expected a WebSocket upgrade from the Worker", { status: 400 });
    }
    this.bind(traderId);
    const { 0: client, 1: server } = new WebSocketPair();
    this.ctx.acceptWebSocket(server);
    server.serializeAttachment({ traderId, windowStart: this.now(), messages: 0 } satisfies SocketAttachment);
    const latest = this.store.latestSeq();
    send(server, { type: "connection_acknowledged", seq: latest, trader_id: traderId });
    const sinceText = request.headers.get("X-Fillwire-Since");
    if (sinceText !== null) this.replay(server, Number(sinceText), latest);
    const offered = (request.headers.get("Sec-WebSocket-Protocol") ?? "").split(",").map((p) => p.trim());
    const headers = offered.includes(WS_PROTOCOL) ? { "Sec-WebSocket-Protocol": WS_PROTOCOL } : undefined;
    return new Response(null, { status: 101, webSocket: client, headers });
  }

  /** Everything after `since`, in order; synchronous, so no live event can slip in between. */
  private replay(ws: WebSocket, since: number, latest: number): void {
    const oldest = this.store.oldestSeq();
    if (oldest > 0 && since < oldest - 1) send(ws, { type: "replay_truncated", oldest_seq: oldest });
    const payloads = this.store.eventsAfter(since, REPLAY_LIMIT);
    for (const payload of payloads) ws.send(payload);
    send(ws, { type: "replay_complete", seq: latest, replayed: payloads.length });
  }

  private broadcast(payloads: string[]): void {
    if (payloads.length === 0) return;
    for (const ws of this.ctx.getWebSockets()) {
      try {
        for (const p of payloads) ws.send(p);
      } catch {
        // a socket closing under us; its client replays with `since` when it reconnects
      }
    }
  }

  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    const state = ws.deserializeAttachment() as SocketAttachment;
    const nowMs = this.now();
    if (nowMs - state.windowStart > 10_000) Object.assign(state, { windowStart: nowMs, messages: 0 });
    state.messages++;
    ws.serializeAttachment(state);
    if (state.messages > SOCKET_MESSAGE_BUDGET) {
      ws.close(1008, "too many messages");
      return;
    }
    let parsed: ReturnType<typeof ClientMessage.safeParse> | null = null;
    try {
      parsed = typeof message === "string" ? ClientMessage.safeParse(JSON.parse(message)) : null;
    } catch {
      parsed = null;
    }
    if (!parsed?.success) {
      send(ws, { type: "error", error: "BAD_MESSAGE", message: 'Send {"type":"ping"}; order events flow from the server only' });
      return;
    }
    if (parsed.data.type === "ping") send(ws, { type: "pong" });
    // {"type":"auth"} on an authenticated socket needs no answer beyond the acknowledgement already sent.
  }

  override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    try {
      ws.close(code === 1005 || code === 1006 ? 1000 : code, reason);
    } catch {
      // already closed
    }
  }
}

// ---------------------------------------------------------------- helpers

const iso = (ms: number) => new Date(ms).toISOString();

/** An order row being changed in memory, and the changes to write (one UPDATE per venue report). */
interface OrderDraft {
  row: OrderRow;
  patch: Partial<Omit<OrderRow, "seq" | "id" | "version">>;
}

function change(draft: OrderDraft, patch: OrderDraft["patch"]): void {
  Object.assign(draft.patch, patch);
  draft.row = { ...draft.row, ...patch } as OrderRow; // a patch names only columns it sets, never undefined
}

function send(ws: WebSocket, message: ServerMessage): void {
  ws.send(JSON.stringify(message));
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The same request, however its JSON keys were ordered. */
function fingerprintOf(request: OrderRequest): string {
  const entries = Object.entries(request).filter(([, v]) => v !== undefined).sort(([a], [b]) => a.localeCompare(b));
  return JSON.stringify(entries);
}

function orderRef(order: OrderRow, traderId: string): OrderRef {
  return { key: order.id, orderId: order.id, traderId, symbol: order.symbol };
}

function venueOrder(order: OrderRow, traderId: string): VenueOrder {
  return {
    key: order.id, traderId, orderId: order.id, symbol: order.symbol, side: order.side, quantity: order.quantity,
    orderType: order.order_type, limitCents: order.limit_cents, stopCents: order.stop_cents, timeInForce: order.tif,
    protectCents: order.protect_cents, maxCostCents: order.max_cost_cents,
  };
}

const orderNotFound = (orderId: string) => fail("ORDER_NOT_FOUND", `No order ${orderId} in your account`, { order_id: orderId });
const noAccount = (traderId: string) =>
  fail("ACCOUNT_NOT_FOUND", `No account for trader ${traderId}; an admin opens one with PUT /api/v1/admin/accounts/${traderId}`, { trader_id: traderId });
const notCancellable = (order: OrderRow) =>
  fail("ORDER_NOT_CANCELLABLE", `Order ${order.id} is ${order.status} and can no longer be cancelled`, { order_id: order.id, status: order.status });
