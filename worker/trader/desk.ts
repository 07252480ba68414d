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
import { errorText, fail, ok, type Result } from "../shared/errors";
import { isFinalStatus, type Account, type AuditEntry, type ListOrdersQuery, type Order, type OrderRequest, type OrderWithFills } from "../shared/orders";
import type { Quote, VenueReport } from "../venue/adapter";
import { dayOrderExpiry } from "../venue/calendar";
import { exchangeFor } from "../venue/simulated";
import { DeskBackground } from "./background";
import { decodeCursor, encodeCursor } from "./cursor";
import { openingHolding } from "./ledger";
import { checkMarketHours, checkRisk } from "./risk";
import { TokenBucket } from "./rate-limit";
import { QuoteCache } from "./quotes";
import { DeskSockets } from "./sockets";
import { DeskStore } from "./store";
import { answerRepeat, claimsOf, fingerprintOf, idempotencyKeyOf, placeOrder, type Submitted } from "./submission";
import { SEND_GRACE_MS, VenueSession } from "./venue-session";
import { toAccount, toAuditEntry, toOrder, toOrderWithFills } from "./views";
import type { OrderRow } from "./schema";

export type { Submitted } from "./submission";
export type { SocketAttachment } from "./sockets";

export class TraderDesk extends DurableObject<Env> {
  private readonly store: DeskStore;
  private readonly config: DeskConfig;
  private readonly venue: VenueSession;
  private readonly quotes: QuoteCache;
  private readonly sockets: DeskSockets;
  private readonly background: DeskBackground;
  private readonly rateLimit: TokenBucket;
  private traderId = "";
  /** Idempotency keys of submits still being handled (a second request with one answers 409). */
  private readonly keysInFlight = new Set<string>();
  private hydrating: Promise<unknown> | null = null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    const now = () => Date.now();
    this.config = deskConfig(env);
    const exchange = exchangeFor(env);
    this.store = new DeskStore(ctx.storage.sql, "", (work) => ctx.storage.transactionSync(work));
    this.sockets = new DeskSockets(ctx, this.store.journal, now);
    this.background = new DeskBackground(ctx, this.store, env.DB, this.config, now, () => this.sockets.nextExpiry());
    this.quotes = new QuoteCache(exchange, () => this.traderId, now);
    this.rateLimit = new TokenBucket(this.config.rateLimitPerSecond, this.config.rateLimitBurst);
    this.venue = new VenueSession({
      store: this.store, exchange, config: this.config, now,
      changed: () => this.afterChange(),
      reschedule: () => this.background.arm(),
    });
    ctx.blockConcurrencyWhile(async () => {
      this.store.migrate();
      this.traderId = this.store.meta("trader_id") ?? "";
      this.store.traderId = this.traderId;
    });
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair('{"type":"ping"}', '{"type":"pong"}'));
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
    const key = idempotencyKeyOf(request, idempotencyKey);
    const fingerprint = fingerprintOf(request);
    const previous = key ? this.store.orderByKey(key, request.client_order_id ?? null) : undefined;
    if (previous) return answerRepeat(previous, fingerprint, traderId);
    const claims = claimsOf(request, key);
    if (claims.some((k) => this.keysInFlight.has(k))) {
      return fail("IDEMPOTENCY_KEY_IN_USE", "A request with this idempotency key is still being handled; retry in a moment");
    }
    const limited = this.rateLimit.take(Date.now());
    if (limited) return limited;

    for (const k of claims) this.keysInFlight.add(k);
    try {
      const closed = checkMarketHours(request, Date.now(), this.config);
      if (closed) return closed;
      if (!(await this.ensureAccount())) return noAccount(traderId);
      const quote = await this.quotes.get(request.symbol);
      // Balances are read after the await: another order may have reserved cash meanwhile.
      const account = this.store.account()!;
      const held = request.side === "SELL" ? this.store.position(request.symbol) : undefined; // only a SELL needs it
      const approval = checkRisk(request, quote, {
        cashCents: account.cash_cents, reservedCents: account.reserved_cents,
        heldQuantity: held?.quantity ?? 0, reservedQuantity: held?.reserved_qty ?? 0,
      }, this.config);
      if ("ok" in approval) return approval;

      const nowMs = Date.now();
      const row = this.store.atomically(() =>
        placeOrder(this.store, request, approval, {
          key, fingerprint, nowMs,
          // The alarm's backstop: if this first send has not concluded by then, the alarm takes it over.
          backstopAt: nowMs + this.config.exchangeTimeoutMs + SEND_GRACE_MS,
          expiresAt: request.time_in_force === "DAY" ? dayOrderExpiry(nowMs) : null,
        }),
      );
      // The alarm is armed before the client hears 201: if this instance dies mid-send, the alarm resumes.
      this.background.arm();
      this.afterChange();
      this.ctx.waitUntil(this.venue.send(row.id, row));
      return ok({ order: toOrder(row, traderId), replayed: false });
    } finally {
      for (const k of claims) this.keysInFlight.delete(k);
    }
  }

  async cancelOrder(traderId: string, orderId: string): Promise<Result<Order>> {
    this.bind(traderId);
    const order = this.store.order(orderId);
    if (!order) return orderNotFound(orderId);
    if (isFinalStatus(order.status)) return notCancellable(order);
    const limited = this.rateLimit.take(Date.now());
    if (limited) return limited;
    let report: VenueReport;
    try {
      report = await this.venue.end(order, "CANCELLED", "User requested cancellation");
    } catch (err) {
      return fail("VENUE_UNAVAILABLE", `The venue did not confirm the cancel (${errorText(err)}); the order is unchanged, try again`);
    }
    this.venue.apply(orderId, report, { kind: "none" });
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
    const data = this.store.journal.auditFor(orderId).map((r) => toAuditEntry(r, traderId));
    return ok({ data, total: data.length });
  }

  // ---------------------------------------------------------------- RPC: accounts

  async getAccount(traderId: string): Promise<Result<Account>> {
    this.bind(traderId);
    const account = await this.ensureAccount();
    return account ? ok(toAccount(this.store.account()!, this.store.positions())) : noAccount(traderId);
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
      for (const p of positions) this.store.setHolding(p.symbol, openingHolding(p.quantity, p.avgPriceCents), 0);
    });
    await this.background.flush();
    return ok(toAccount(this.store.account()!, this.store.positions()));
  }

  /** The trader's account, loaded from D1 (where `npm run seed` or an admin put it) on first use. */
  private async ensureAccount(): Promise<boolean> {
    if (this.store.account()) return true;
    this.hydrating ??= loadAccount(this.env.DB, this.traderId)
      .then((remote) => {
        if (!remote || this.store.account()) return;
        this.store.atomically(() => {
          this.store.createAccount(remote.cashCents, remote.createdAt, remote.version, false);
          for (const p of remote.positions) this.store.setHolding(p.symbol, p, 0, false);
        });
      })
      .finally(() => {
        this.hydrating = null;
      });
    await this.hydrating;
    return this.store.account() !== undefined;
  }

  // ---------------------------------------------------------------- RPC: from the venue, drills, operators

  /** The venue reports a change it made on its own (a resting order filled by a price move). */
  async onExecutionReport(report: VenueReport): Promise<void> {
    if (!this.traderId) throw new Error("execution report for a desk that never took an order");
    this.venue.apply(report.orderId, report, { kind: "none" });
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
    this.sockets.onMessage(ws, message);
  }

  override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    this.sockets.onClose(ws, code, reason);
  }
}

const orderNotFound = (orderId: string) => fail("ORDER_NOT_FOUND", `No order ${orderId} in your account`, { order_id: orderId });
const noAccount = (traderId: string) =>
  fail("ACCOUNT_NOT_FOUND", `No account for trader ${traderId}; an admin opens one with PUT /api/v1/admin/accounts/${traderId}`, { trader_id: traderId });
const notCancellable = (order: OrderRow) =>
  fail("ORDER_NOT_CANCELLABLE", `Order ${order.id} is ${order.status} and can no longer be cancelled`, { order_id: order.id, status: order.status });
