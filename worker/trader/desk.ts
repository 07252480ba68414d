// TraderDesk: one Durable Object per trader. It serializes everything that trader does (submit, cancel,
// venue reports, retries), keeps the live state in its own SQLite storage, and is the only writer of that
// trader's rows in D1 (through the outbox). It is a thin shell: its public methods are the RPC API the
// Worker calls, and each reads as what happens; the rules live in the modules beside it:
//   risk.ts (pre-trade checks) → submission.ts (the order, its reservation, SUBMITTED) → venue-session.ts
//   (send, look up by key, retry) → execution.ts (a venue report: lifecycle.ts steps, ledger.ts money)
//   → store.ts (rows, with their audit, events and outbox records) → sockets.ts, background.ts (alarm, D1).
import { DurableObject } from "cloudflare:workers";
import { deskConfig, type DeskConfig } from "../config";
import { loadAccount } from "../db/accounts";
import { fail, ok, type Result } from "../shared/errors";
import type { Account, ActivitiesQuery, Activity, PositionValue, TradingStateRequest } from "../shared/account";
import { isFinalStatus, type AmendRequest, type AuditEntry, type ListOrdersQuery, type Order, type OrderRequest, type OrderWithFills, type Side } from "../shared/orders";
import type { Quote, VenueReport } from "../venue/adapter";
import { exchangeFor } from "../venue/simulated";
import { DeskBackground } from "./background";
import { decodeCursor, encodeCursor } from "./cursor";
import { openingHolding } from "./ledger";
import { noAccount, OrderEntry, orderNotFound, type CancelOutcome } from "./order-entry";
import { QuoteCache } from "./quotes";
import { TokenBucket } from "./rate-limit";
import type { OrderRow } from "./schema";
import { runOrderCommand } from "./socket-commands";
import { DeskSockets } from "./sockets";
import { DeskStore } from "./store";
import type { Submitted } from "./submission";
import { VenueSession } from "./venue-session";
import { Portfolio, type TradingStateChange } from "./portfolio";
import { valueAccount } from "./valuation";
import { toAuditEntry, toOrder, toOrderWithFills } from "./views";

export type { Submitted } from "./submission";
export type { CancelOutcome } from "./order-entry";

export class TraderDesk extends DurableObject<Env> {
  private readonly store: DeskStore;
  private readonly config: DeskConfig;
  private readonly venue: VenueSession;
  private readonly quotes: QuoteCache;
  private readonly sockets: DeskSockets;
  private readonly background: DeskBackground;
  private readonly entry: OrderEntry;
  private readonly portfolio: Portfolio;
  private traderId = "";
  private hydrating: Promise<unknown> | null = null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    const now = () => Date.now();
    this.config = deskConfig(env);
    const exchange = exchangeFor(env);
    this.store = new DeskStore(ctx.storage.sql, "", (work) => ctx.storage.transactionSync(work));
    this.sockets = new DeskSockets(
      ctx, this.store.journal, now,
      () => ({ orders: this.store.workingOrders().map((o) => toOrder(o, this.traderId)), account: this.store.account() ? this.describeAccount() : null }),
      (command) => runOrderCommand(this.entry, command),
    );
    this.background = new DeskBackground(ctx, this.store, env.DB, this.config, now, () => this.sockets.nextExpiry());
    this.quotes = new QuoteCache(exchange, () => this.traderId, now);
    this.venue = new VenueSession({
      store: this.store, exchange, config: this.config, now,
      changed: () => this.afterChange(),
      reschedule: () => this.background.arm(),
    });
    this.entry = new OrderEntry({
      store: this.store, config: this.config, venue: this.venue, quotes: this.quotes,
      rateLimit: new TokenBucket(this.config.rateLimitPerSecond, this.config.rateLimitBurst),
      ensureAccount: () => this.ensureAccount(),
      changed: () => this.afterChange(),
      arm: () => this.background.arm(),
      waitUntil: (work) => this.ctx.waitUntil(work),
    });
    this.portfolio = new Portfolio(this.store, this.quotes, this.entry, () => this.afterChange());
    this.store.describeAccount = () => this.describeAccount();
    ctx.blockConcurrencyWhile(async () => {
      this.store.migrate();
      this.traderId = this.store.meta("trader_id") ?? "";
      this.store.traderId = this.traderId;
    });
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair('{"type":"ping"}', '{"type":"pong"}'));
  }

  /** The account valued at the last prices the desk holds (account.updated, the snapshot). */
  private describeAccount(): Account {
    return valueAccount(this.store.account()!, this.store.positions(), this.quotes.lastPrices(), this.store.realizedTotal());
  }

  /** The Worker names the trader on every call; the first call pins this desk to it. */
  private bind(traderId: string): void {
    if (this.traderId === traderId) return;
    if (this.traderId) throw new Error(`desk of ${this.traderId} called for ${traderId}`);
    this.traderId = traderId;
    this.store.traderId = traderId;
    this.store.setMeta("trader_id", traderId);
  }

  // ---------------------------------------------------------------- RPC: orders

  async submitOrder(traderId: string, request: OrderRequest, idempotencyKey: string | null): Promise<Result<Submitted>> {
    this.bind(traderId);
    return this.entry.submit(request, idempotencyKey);
  }

  async cancelOrder(traderId: string, orderId: string): Promise<Result<Order>> {
    this.bind(traderId);
    return this.entry.cancel(orderId);
  }

  /** Cancels every working order (of one symbol and side, when given): one result per order. */
  async cancelAll(traderId: string, filter: { symbol?: string; side?: Side }): Promise<Result<{ data: CancelOutcome[] }>> {
    this.bind(traderId);
    return this.entry.cancelAll(filter);
  }

  /** Amends a working order in place (cancel/replace); see OrderEntry.amend. */
  async amendOrder(traderId: string, orderId: string, changes: AmendRequest, idempotencyKey: string | null): Promise<Result<Submitted>> {
    this.bind(traderId);
    return this.entry.amend(orderId, changes, idempotencyKey);
  }

  /** One order by the id the client gave it. */
  async orderByClientId(traderId: string, clientOrderId: string): Promise<Result<OrderWithFills>> {
    this.bind(traderId);
    const order = this.store.orderByClientId(clientOrderId);
    if (!order) return fail("ORDER_NOT_FOUND", `No order with client_order_id ${clientOrderId} in your account`, { client_order_id: clientOrderId });
    return ok(toOrderWithFills(order, this.store.fills(order.id), traderId));
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
    const nested = query.nested === "true";
    const rows = this.store.listOrders({ status: query.status, symbol: query.symbol, beforeSeq, limit: query.limit + 1, topLevel: nested });
    const page = rows.slice(0, query.limit);
    const more = rows.length > query.limit;
    // nested=true: legs under their parents (legs: [...]) instead of on their own.
    const data = page.map((r) => {
      const order = toOrder(r, traderId);
      return nested && r.order_class !== "simple" ? { ...order, legs: this.store.legsOf(r.id).map((l) => toOrder(l, traderId)) } : order;
    });
    return ok({ data, next_cursor: more ? encodeCursor(page[page.length - 1]!.seq) : null });
  }

  async auditTrail(traderId: string, orderId: string): Promise<Result<{ data: AuditEntry[]; total: number }>> {
    this.bind(traderId);
    if (!this.store.order(orderId)) return orderNotFound(orderId);
    const data = this.store.journal.auditFor(orderId).map((r) => toAuditEntry(r, traderId));
    return ok({ data, total: data.length });
  }

  // ---------------------------------------------------------------- RPC: accounts

  async getAccount(traderId: string): Promise<Result<Account>> {
    this.bind(traderId);
    return (await this.ensureAccount()) ? ok(await this.portfolio.account()) : noAccount(traderId);
  }

  /** Open positions valued at the venue's current prices, with unrealized and realized P&L. */
  async getPositions(traderId: string): Promise<Result<{ data: PositionValue[] }>> {
    this.bind(traderId);
    return (await this.ensureAccount()) ? ok({ data: await this.portfolio.positions() }) : noAccount(traderId);
  }

  /** Closes all or part of a position with a MARKET SELL (see Portfolio.close). */
  async closePosition(traderId: string, symbol: string, part: { quantity?: number; percentage?: number }): Promise<Result<Order>> {
    this.bind(traderId);
    return (await this.ensureAccount()) ? this.portfolio.close(symbol, part) : noAccount(traderId);
  }

  /** Closes every open position: one MARKET SELL each. */
  async closeAllPositions(traderId: string): Promise<Result<{ data: Order[]; errors: { symbol: string; error: string; message: string }[] }>> {
    this.bind(traderId);
    return (await this.ensureAccount()) ? ok(await this.portfolio.closeAll()) : noAccount(traderId);
  }

  /** The trader's ledger of fills and cash movements, newest first. */
  async activities(traderId: string, query: ActivitiesQuery): Promise<Result<{ data: Activity[]; next_cursor: string | null }>> {
    this.bind(traderId);
    return (await this.ensureAccount()) ? this.portfolio.activities(query) : noAccount(traderId);
  }

  /** Admin: ACTIVE, REDUCE_ONLY or HALTED, audited with the admin's `sub` and reason. */
  async setTradingState(traderId: string, change: TradingStateRequest, adminSub: string): Promise<Result<TradingStateChange>> {
    this.bind(traderId);
    return (await this.ensureAccount()) ? ok(await this.portfolio.setTradingState(change, adminSub)) : noAccount(traderId);
  }

  /** Opens the account with `cashCents` and positions bought at `avgPriceCents` a share. */
  async openAccount(traderId: string, cashCents: number, positions: { symbol: string; quantity: number; avgPriceCents: number }[]): Promise<Result<Account>> {
    this.bind(traderId);
    if (this.store.account() || (await loadAccount(this.env.DB, traderId)) || this.store.account()) {
      return fail("ACCOUNT_EXISTS", `An account for ${traderId} already exists`, { trader_id: traderId });
    }
    const at = new Date().toISOString();
    this.store.atomically(() => {
      this.store.createAccount(cashCents, at);
      for (const p of positions) this.store.setHolding(p.symbol, openingHolding(p.quantity, p.avgPriceCents), 0, "opening");
    });
    await this.background.flush();
    return ok(await this.portfolio.account());
  }

  /** The trader's account, loaded from D1 (where `npm run seed` or an admin put it) on first use. */
  private async ensureAccount(): Promise<boolean> {
    if (this.store.account()) return true;
    this.hydrating ??= loadAccount(this.env.DB, this.traderId)
      .then((remote) => {
        if (!remote || this.store.account()) return;
        this.store.atomically(() => {
          this.store.createAccount(remote.cashCents, remote.createdAt, { version: remote.version, tradingState: remote.tradingState });
          for (const p of remote.positions) this.store.setHolding(p.symbol, p, 0, "restored");
        });
      })
      .finally(() => {
        this.hydrating = null;
      });
    await this.hydrating;
    return this.store.account() !== undefined;
  }

  // ---------------------------------------------------------------- RPC: from the venue, drills, operators

  /**
   * The venue reports a change it made on its own (a resting order filled by a price move). Answers the ids
   * of the order's executions it could not book because the order had already ended (each on the audit trail
   * as UNBOOKED), all of them each time, so a venue link that lost an answer counts them on the next.
   */
  async onExecutionReport(report: VenueReport): Promise<{ unbooked: string[] }> {
    if (!this.traderId) throw new Error("execution report for a desk that never took an order");
    this.venue.apply(report.orderId, report, { kind: "none" });
    return { unbooked: this.store.unbookedIds(report.orderId) };
  }

  /** The venue pushes a changed quote here (to every desk that holds one for the symbol). */
  async onQuote(quote: Quote): Promise<void> {
    this.quotes.keep(quote);
  }

  /** Fault drills: reset this object now, as a crash or a redeploy would (in-flight work is lost). */
  async restartForDrill(): Promise<void> {
    this.ctx.abort("restarted by a fault drill");
  }

  /** How many outbox records still wait for D1 (tests and operators read this). */
  async pendingOutbox(): Promise<number> {
    return this.store.outboxSize();
  }

  // ---------------------------------------------------------------- alarm: retries, expiries, outbox

  override async alarm(): Promise<void> {
    this.background.alarmFired();
    if (!this.traderId) return;
    const nowMs = Date.now();
    this.sockets.closeExpired(nowMs);
    const work: Promise<void>[] = [];
    for (const order of this.store.dueAttempts(nowMs)) {
      if (!this.venue.isSending(order.id)) work.push(this.venue.send(order.id));
    }
    for (const order of this.store.dueExpiries(nowMs)) work.push(this.expire(order));
    const results = await Promise.allSettled(work);
    for (const r of results) if (r.status === "rejected") console.error("desk alarm work failed", String(r.reason));
    if (this.store.outboxSize() > 0) await this.background.flush();
    this.background.arm();
  }

  private async expire(order: OrderRow): Promise<void> {
    if (isFinalStatus(order.status)) return;
    const reason = `Day order expired at the session close (${new Date(order.expires_at ?? Date.now()).toISOString()})`;
    this.venue.apply(order.id, await this.venue.end(order, "EXPIRED", reason), { kind: "none" });
  }

  /** After every committed change: send its events now, and let the outbox carry it to D1. */
  private afterChange(): void {
    this.sockets.broadcast(this.store.takeEvents());
    this.background.changed();
  }

  // ---------------------------------------------------------------- WebSockets (hibernation API)

  override async fetch(request: Request): Promise<Response> {
    const traderId = request.headers.get("X-Fillwire-Trader");
    if (!traderId || request.headers.get("Upgrade")?.toLowerCase() !== "websocket") {
      return new Response("expected a WebSocket upgrade from the Worker", { status: 400 });
    }
    this.bind(traderId);
    const response = this.sockets.accept(request, traderId, this.env);
    if (response.status === 101) this.background.arm(); // the alarm also closes the socket when its token expires
    return response;
  }

  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    await this.sockets.onMessage(ws, message);
  }

  override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    this.sockets.onClose(ws, code, reason);
  }
}
