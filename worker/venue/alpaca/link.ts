// AlpacaLink: one Durable Object per Alpaca account. It holds the account's trade_updates stream, knows
// which desk each fillwire order belongs to (the adapter registers an order before sending it), turns
// Alpaca's events into venue reports and delivers them to the desks (at least once; desks apply them
// idempotently by fill id). It reconnects with backoff from its alarm and reconciles after every connect,
// so a fill made while it was not listening is applied once. The adapter's calls settle submits, lookups,
// amends and cancels through it, so every report of an order is built from one ledger.
import { DurableObject } from "cloudflare:workers";
import type { VenueReport } from "../adapter";
import { AlpacaClient } from "./client";
import { alpacaConfig, upgradeUrl, type AlpacaConfig } from "./config";
import { ReportDelivery } from "./delivery";
import { LinkLedger, type CurrentOrder, type LinkOrder } from "./ledger";
import { LateOrders } from "./late-orders";
import { orderTypeOf } from "./mapping";
import { applyTradeUpdate, catchUpFills, reconcile, settle, touched } from "./reconcile";
import { TradeStream } from "./stream";
import type { VenueStatus } from "./status";
import { TradeUpdateMessage, type AlpacaOrder, type AuthForm, type TradeUpdate } from "./wire";

const RECONNECT_MAX_MS = 30_000;
const HEARTBEAT_MS = 30_000;
/** With no order working for this long, the link closes the stream until the next order. */
const IDLE_MS = 5 * 60_000;

export type LinkStatus = Extract<VenueStatus, { exchange: "alpaca" }>;

export class AlpacaLink extends DurableObject<Env> {
  private readonly ledger: LinkLedger;
  private readonly config: AlpacaConfig;
  private readonly client: AlpacaClient;
  private stream: TradeStream | null = null;
  private state: LinkStatus["stream"]["state"] = "idle";
  private connectedSince: number | null = null;
  private reconnectAt: number | null = null;
  private failures = 0;
  /** The authentication form sent; switched to the other one after a refusal. */
  private authForm: AuthForm = "auth";
  private refusals = 0;
  private lastError: string | null = null;
  private idling = false;
  private reconciling: Promise<void> | null = null;
  private readonly delivery: ReportDelivery;
  /** Alpaca orders that are not fillwire's (this instance's memory). */
  private readonly foreign = new Set<string>();
  private readonly lateOrders: LateOrders;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.config = alpacaConfig(env);
    this.client = new AlpacaClient(this.config);
    this.ledger = new LinkLedger(ctx.storage.sql);
    this.delivery = new ReportDelivery(
      this.ledger, (traderId) => env.TRADER.get(env.TRADER.idFromName(traderId)), (at) => this.wakeAt(at), (work) => ctx.waitUntil(work),
    );
    this.lateOrders = new LateOrders(this.ledger, this.client, (work) => ctx.waitUntil(work), () => this.retryLater());
    ctx.blockConcurrencyWhile(async () => {
      this.ledger.migrate();
      if (!this.ledger.meta("created_at")) this.ledger.setMeta("created_at", String(Date.now()));
    });
  }

  // ---------------------------------------------------------------- RPC from the adapter (in the desks)

  /** Before an order is sent: from now on its events reach its desk (held until the submit answers). */
  async register(order: LinkOrder): Promise<void> {
    this.ledger.register(order, Date.now() + this.config.submitHoldMs, Date.now());
    this.ledger.setMeta("last_use", String(Date.now()));
    this.start();
  }

  /**
   * Alpaca has the order (the answer to a submit, or found by a lookup): `chain` is every Alpaca order behind
   * it. Releases its held reports and answers its whole report, every fill Alpaca says it has included.
   */
  async accepted(orderId: string, chain: AlpacaOrder[], owner?: Pick<LinkOrder, "traderId" | "symbol">, lastSeq?: number): Promise<VenueReport> {
    if (!this.ledger.order(orderId) && owner && chain[0]) {
      // Known at Alpaca but not here (the link's storage was reset): its desk is the one asking.
      this.ledger.register({ orderId, ...owner, orderType: orderTypeOf(chain[0].type ?? chain[0].order_type) }, null, Date.now());
    }
    const late = this.ledger.givenUp(orderId) && chain.length > 0;
    // fillwire ended it before Alpaca had it (a submit's answer arriving after a cancel): the caller is told
    // the order as fillwire ended it; the link cancels it at Alpaca, and what it traded first reaches the desk
    // as executions of an ended order (delivered, so that the desk's answer counts them: unbooked_fills).
    const ended = late ? this.ledger.report(orderId) : null;
    // The chain is the order and its replacements, oldest first: the n-th replacement is amend n (unless
    // its client_order_id, or the caller for the last one, says which).
    chain.forEach((order, i) => this.ledger.observe(order, { orderId, seq: i === chain.length - 1 && lastSeq !== undefined ? lastSeq : i }));
    if (ended) {
      if (this.ledger.refresh(orderId).incomplete) this.ctx.waitUntil(this.catchUp([orderId]));
      this.lateOrders.arrived([chain.at(-1)!]);
      this.deliver();
      return ended;
    }
    this.replayParked(chain);
    this.ledger.release(orderId);
    return this.answer(orderId);
  }

  /** Alpaca refused the order and does not hold it: it ends REJECTED with Alpaca's message. */
  async refused(orderId: string, reason: string): Promise<VenueReport> {
    this.ledger.close(orderId, "REJECTED", reason);
    return this.answer(orderId);
  }

  /**
   * fillwire ends an order Alpaca never received (cancel, or retries spent). Should it still arrive (a
   * request that was on its way), the link cancels it at Alpaca at once and counts it in late_orders.
   */
  async abandon(orderId: string, final: "CANCELLED" | "EXPIRED", reason: string, owner: Pick<LinkOrder, "traderId" | "symbol">): Promise<VenueReport> {
    if (!this.ledger.order(orderId)) this.ledger.register({ orderId, ...owner, orderType: "MARKET" }, null, Date.now());
    this.ledger.close(orderId, final, reason);
    return this.answer(orderId);
  }

  /** A cancel is being sent: Alpaca's "canceled" for this order will be reported as `final`, with `reason`. */
  async ending(orderId: string, final: "CANCELLED" | "EXPIRED", reason: string): Promise<void> {
    this.ledger.ending(orderId, final, reason);
  }

  /** The Alpaca order the fillwire order works as now (null when the link does not know it yet). */
  async current(orderId: string): Promise<CurrentOrder | null> {
    return this.ledger.current(orderId);
  }

  /** The take-profit whose oco order carried this stop-loss to Alpaca (null: it went on its own). */
  async ridesOn(orderId: string): Promise<string | null> {
    return this.ledger.order(orderId)?.rides_on ?? null;
  }

  /** The order's report as the ledger has it (null when the link never heard of the order). */
  async report(orderId: string): Promise<VenueReport | null> {
    return this.ledger.report(orderId);
  }

  /**
   * For GET /api/v1/admin/venue. Looking connects the stream and counts as a use: an admin watching the
   * link keeps it up (and reconnecting after a drop) until IDLE_MS after the last look, rather than seeing
   * it opened by each look and closed as idle by the next heartbeat.
   */
  async status(): Promise<LinkStatus> {
    this.ledger.setMeta("last_use", String(Date.now()));
    this.start();
    const counts = this.ledger.counts();
    const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
    return {
      exchange: "alpaca",
      api_url: this.config.apiUrl,
      stream: {
        state: this.state, connected_since: iso(this.connectedSince), last_event_at: this.ledger.meta("last_event_at"),
        last_reconcile_at: this.ledger.meta("last_reconcile_at"), reconnects: Number(this.ledger.meta("reconnects") ?? "0"),
        last_error: this.lastError, next_attempt_at: this.state === "connected" ? null : iso(this.reconnectAt),
      },
      orders: { working: counts.working, held: counts.held },
      reports_owed: counts.owed,
      fills_applied: counts.fills,
      foreign_events: Number(this.ledger.meta("foreign_events") ?? "0"),
      late_orders: counts.late,
      unbooked_fills: counts.unbooked,
    };
  }

  /**
   * The answer to a call from the adapter: when Alpaca says an order filled more than the ledger holds, the
   * missing fills are read from the activities first. The caller gets the whole report, so nothing of it is
   * still owed to the desk.
   */
  private async answer(orderId: string): Promise<VenueReport> {
    const into = touched();
    into.orders.add(orderId);
    settle(this.ledger, into);
    if (into.incomplete) await this.catchUp([orderId]);
    const report = this.ledger.report(orderId);
    if (!report) throw new Error(`order ${orderId} was never registered with the Alpaca link`);
    this.ledger.owed.forget(orderId);
    return report;
  }

  // ---------------------------------------------------------------- the stream

  /** Connects unless connected or already trying (or waiting for the next try, which the alarm makes). */
  private start(): void {
    if (this.state === "connected" || this.state === "connecting") return;
    if (this.reconnectAt !== null && Date.now() < this.reconnectAt) return;
    const credentials = this.config.credentials;
    if (!credentials) {
      this.state = "unauthorized";
      this.lastError = "ALPACA_KEY_ID and ALPACA_SECRET_KEY are not set (wrangler secret put ...)";
      return;
    }
    this.state = "connecting";
    const stream = new TradeStream({
      ready: () => this.onReady(),
      update: (update) => this.onUpdate(update),
      closed: (reason, unauthorized) => this.onClosed(stream, reason, unauthorized),
    });
    this.stream = stream;
    this.ctx.waitUntil(stream.open(upgradeUrl(this.config.streamUrl), credentials, this.authForm));
  }

  private onReady(): void {
    this.state = "connected";
    this.connectedSince = Date.now();
    this.failures = 0;
    this.refusals = 0;
    this.reconnectAt = null;
    this.lastError = null;
    void this.wakeAt(Date.now() + HEARTBEAT_MS);
    this.ctx.waitUntil(this.runReconcile());
  }

  private onUpdate(update: TradeUpdate): void {
    try {
      this.applyUpdate(update);
    } catch (err) {
      // One update that cannot be applied must not stop the others: a reconcile reads it again.
      console.error("alpaca link: a trade update could not be applied", String(err));
      this.retryLater();
    }
  }

  /** Trade updates of these orders that came before the link knew them (an oco's leg): applied now. */
  private replayParked(chain: AlpacaOrder[]): void {
    for (const order of chain) {
      for (const parked of this.ledger.parked.unpark(order.id)) {
        const update = TradeUpdateMessage.shape.data.safeParse(parked);
        if (update.success) applyTradeUpdate(this.ledger, update.data, new Date().toISOString());
      }
    }
  }

  private applyUpdate(update: TradeUpdate): void {
    const nowIso = new Date().toISOString();
    this.ledger.setMeta("last_event_at", nowIso);
    const outcome = applyTradeUpdate(this.ledger, update, nowIso);
    if (outcome.kind === "foreign") return void this.ledger.bump("foreign_events");
    if (outcome.kind === "parked") return;
    if (outcome.late) this.lateOrders.arrived([outcome.late]);
    if (outcome.incomplete) this.ctx.waitUntil(this.catchUp([outcome.orderId]));
    this.deliver();
  }

  private onClosed(stream: TradeStream, reason: string, unauthorized: boolean): void {
    if (this.stream !== stream) return;
    this.stream = null;
    if (this.idling) {
      this.idling = false;
      this.state = "idle";
      this.connectedSince = null;
      return;
    }
    if (this.state === "connected") this.ledger.bump("reconnects");
    this.state = unauthorized ? "unauthorized" : "disconnected";
    this.connectedSince = null;
    this.lastError = reason;
    this.failures++;
    // Refused keys: try the other documented authentication form once, then wait the longest.
    if (unauthorized) this.authForm = this.authForm === "auth" ? "authenticate" : "auth";
    this.refusals = unauthorized ? this.refusals + 1 : 0;
    const delay = this.refusals > 1 ? RECONNECT_MAX_MS : Math.min(RECONNECT_MAX_MS, this.config.reconnectBaseMs * 2 ** (this.failures - 1));
    this.reconnectAt = Date.now() + delay;
    console.warn(`alpaca link: stream closed (${reason}); next attempt in ${delay} ms`);
    void this.wakeAt(this.reconnectAt);
  }

  private async runReconcile(): Promise<void> {
    if (this.reconciling) return this.reconciling;
    this.reconciling = (async () => {
      try {
        const into = await reconcile(this.ledger, this.client, this.foreign, this.since());
        this.ledger.setMeta("last_reconcile_at", new Date().toISOString());
        this.lateOrders.arrived(into.late); // and every late order still working: a cancel that failed goes again
        if (into.incomplete) this.retryLater();
      } catch (err) {
        console.warn("alpaca link: reconcile failed, retried by alarm", String(err));
        this.retryLater();
      } finally {
        this.reconciling = null;
      }
      this.deliver();
    })();
    return this.reconciling;
  }

  /**
   * Reads the fills the ledger misses for `orders` (Alpaca says they filled more than the ledger holds).
   * Should Alpaca's activities not show them yet either, a reconcile tries again soon.
   */
  private async catchUp(orders: string[]): Promise<void> {
    const into = touched();
    for (const orderId of orders) into.orders.add(orderId);
    try {
      await catchUpFills(this.ledger, this.client, this.foreign, into, this.since());
    } catch (err) {
      console.warn("alpaca link: fill catch-up failed, retried by alarm", String(err));
    }
    settle(this.ledger, into);
    if (into.late.length > 0) this.lateOrders.arrived(into.late);
    if (into.incomplete) this.retryLater();
    this.deliver();
  }

  /** A reconcile or catch-up failed: the alarm tries again, not before a 429's reset. */
  private retryLater(): void {
    this.ledger.setMeta("reconcile_due", "1");
    void this.wakeAt(Math.max(Date.now() + this.config.reconnectBaseMs, this.client.notBefore()));
  }

  private since(): number {
    return Number(this.ledger.meta("created_at") ?? Date.now()) - 60_000;
  }

  private deliver(): void {
    this.delivery.deliver();
  }

  // ---------------------------------------------------------------- alarm: reconnect, retry, heartbeat

  override async alarm(): Promise<void> {
    const counts = this.ledger.counts();
    const busy = counts.working + counts.held + counts.owed > 0;
    if (busy) this.ledger.setMeta("last_use", String(Date.now()));
    const idleFor = Date.now() - Number(this.ledger.meta("last_use") ?? "0");
    if (!busy && idleFor > IDLE_MS) {
      // Nothing can fill: let the stream go until the next order (which reconnects and reconciles).
      if (this.stream) {
        this.idling = true;
        this.stream.close("idle: no order working");
      }
      this.state = "idle";
      this.reconnectAt = null;
      return;
    }
    if (this.state !== "connected" && this.state !== "connecting" && (this.reconnectAt === null || Date.now() >= this.reconnectAt)) {
      this.reconnectAt = null;
      this.start();
    }
    if (this.state === "connected" && this.ledger.meta("reconcile_due") === "1") {
      this.ledger.setMeta("reconcile_due", "0");
      await this.runReconcile();
    }
    this.deliver();
    await this.delivery.settled();
    await this.wakeAt(this.reconnectAt ?? Date.now() + HEARTBEAT_MS);
  }

  /** Sets the alarm to `at` unless an earlier one is set. */
  private async wakeAt(at: number): Promise<void> {
    const current = await this.ctx.storage.getAlarm();
    if (current === null || current > at || current < Date.now()) await this.ctx.storage.setAlarm(at);
  }
}
