// FakeAlpaca: one paper account of a fake Alpaca, as a Durable Object. It takes orders (create, replace,
// cancel), fills them from the prices a test sets (after answering, as Alpaca does: the fills come on the
// stream), keeps every execution as a FILL activity, and serves the trade_updates stream with its
// authenticate/listen handshake (binary frames, as paper-api sends; text on request). The HTTP surface is in
// routes.ts; faults in faults.ts; the oco order class's rules in oco.ts (its orders move here).
import { DurableObject } from "cloudflare:workers";
import { AccountFaults, SymbolFaults } from "./faults";
import { randomId } from "./ids";
import { execute } from "./market";
import { openOthers, type OcoExits } from "./oco";
import { buildRoutes } from "./routes";
import { authorizationJson, errorJson, isOpen, listeningJson, tradeUpdateJson, type StoredOrder } from "./shapes";
import { FakeStore, type Instrument } from "./store";

export interface FakeEnv {
  FAKE_ALPACA: DurableObjectNamespace<FakeAlpaca>;
  FAKE_KEY_ID?: string;
  FAKE_SECRET_KEY?: string;
}

/** Alpaca answers first and trades right after; the fills then come on the stream. */
const FILL_DELAY_MS = 10;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What a request decides of a new order; the rest (id, status, fills, times...) the account sets. */
export type NewOrder = Omit<StoredOrder, "id" | "status" | "filled_qty" | "filled_cents" | "hwm_cents" | "triggered" | "replaced_by" | "created_at" | "updated_at" | "filled_at" | "canceled_at" | "expired_at" | "replaced_at" | "failed_at" | "order_class" | "oco_group">;

/** An order's place in an oco group: the group (its original parent's id), and whether it waits "held". */
interface Membership {
  group: string;
  held: boolean;
}

interface SocketState {
  authed: boolean;
  listening: boolean;
}

export class FakeAlpaca extends DurableObject<FakeEnv> {
  readonly store: FakeStore;
  private readonly app: ReturnType<typeof buildRoutes>;

  constructor(ctx: DurableObjectState, env: FakeEnv) {
    super(ctx, env);
    this.store = new FakeStore(ctx.storage.sql);
    this.app = buildRoutes(this);
    ctx.blockConcurrencyWhile(async () => this.store.migrate());
  }

  get keys(): { keyId: string; secretKey: string } {
    return { keyId: this.env.FAKE_KEY_ID ?? "fake-key-id", secretKey: this.env.FAKE_SECRET_KEY ?? "fake-secret-key" };
  }

  override async fetch(request: Request): Promise<Response> {
    if (request.headers.get("Upgrade")?.toLowerCase() === "websocket") return this.openStream();
    return this.app.fetch(request);
  }

  // ---------------------------------------------------------------- orders

  /**
   * Records a new order (already validated) and trades it right after the answer. A member of an oco group
   * that is `held` is not routed: right after the answer (after its parent's routing: the timers fire in
   * order) it is only checked against the price, as at every price move, and triggers if its stop is crossed.
   */
  place(o: NewOrder, oco: Membership | null = null, id = randomId()): StoredOrder {
    const at = new Date().toISOString();
    const order: StoredOrder = {
      ...o, id, status: oco?.held ? "held" : "accepted", filled_qty: 0, filled_cents: 0, hwm_cents: null, triggered: false, replaced_by: null,
      created_at: at, updated_at: at, filled_at: null, canceled_at: null, expired_at: null, replaced_at: null, failed_at: null,
      order_class: oco ? "oco" : "", oco_group: oco?.group ?? null,
    };
    this.store.saveOrder(order);
    this.later(() => (order.status === "held" ? this.trade(order.id) : this.routeToMarket(order.id)));
    return order;
  }

  /**
   * POST with order_class oco (oco.ts): the take-profit is the parent, a limit order routed as any other; the
   * stop-loss its leg, a new order (own id, a client_order_id Alpaca generates) held until its stop is reached.
   */
  placeOco(takeProfit: Omit<NewOrder, "type" | "limit_cents" | "stop_cents">, exits: OcoExits): { parent: StoredOrder; leg: StoredOrder } {
    const group = randomId();
    const parent = this.place({ ...takeProfit, type: "limit", limit_cents: exits.takeProfitCents, stop_cents: null }, { group, held: false }, group);
    const leg = this.place({
      ...takeProfit, client_order_id: randomId(), type: exits.stopLimitCents === null ? "stop" : "stop_limit", limit_cents: exits.stopLimitCents, stop_cents: exits.stopCents,
    }, { group, held: true });
    return { parent, leg };
  }

  /** PATCH: a new order replaces the old one (new id); the old one ends as `replaced`. */
  replace(old: StoredOrder, changes: Partial<Pick<StoredOrder, "qty" | "time_in_force" | "limit_cents" | "stop_cents" | "trail_cents" | "trail_percent">>, clientOrderId: string): StoredOrder {
    // An oco member's replacement takes its place in the group; a held leg's replacement is held too.
    const next = this.place({
      client_order_id: clientOrderId, symbol: old.symbol, side: old.side, type: old.type, time_in_force: changes.time_in_force ?? old.time_in_force,
      qty: changes.qty ?? old.qty, limit_cents: changes.limit_cents ?? old.limit_cents, stop_cents: changes.stop_cents ?? old.stop_cents,
      trail_cents: changes.trail_cents ?? old.trail_cents, trail_percent: changes.trail_percent ?? old.trail_percent, replaces: old.id,
    }, old.oco_group === null ? null : { group: old.oco_group, held: old.status === "held" });
    const at = new Date().toISOString();
    const ended: StoredOrder = { ...old, status: "replaced", replaced_by: next.id, replaced_at: at, updated_at: at };
    this.store.saveOrder(ended);
    this.emit(tradeUpdateJson("replaced", ended));
    return next;
  }

  /**
   * DELETE: accepted at once (pending_cancel), done right after (canceled, on the stream). Canceling one
   * order of an oco group cancels every open one (https://forum.alpaca.markets/t/bracket-order-closing-positions/11938).
   */
  requestCancel(order: StoredOrder): void {
    for (const o of [order, ...openOthers(this.store, order).filter((m) => m.status !== "pending_cancel")]) {
      this.store.saveOrder({ ...o, status: "pending_cancel", updated_at: new Date().toISOString() });
      this.later(() => this.end(o.id, "canceled"));
    }
  }

  /** Expires a working order (its day is over); an oco group's open orders expire together. */
  expire(id: string): StoredOrder | null {
    const order = this.store.order(id);
    if (order && isOpen(order)) for (const other of openOthers(this.store, order)) this.end(other.id, "expired");
    return this.end(id, "expired");
  }

  /**
   * Not Alpaca's documented behaviour (canceled is final): an order that ended canceled or expired executes
   * its remaining shares at the price now, and says so on the stream (fill) and in the activities.
   */
  lateFill(id: string): StoredOrder | null {
    const order = this.store.order(id);
    const book = order && this.store.instrument(order.symbol);
    if (!order || !book || (order.status !== "canceled" && order.status !== "expired") || order.filled_qty >= order.qty) return null;
    const at = new Date().toISOString();
    const qty = order.qty - order.filled_qty;
    const filled: StoredOrder = { ...order, status: "filled", filled_qty: order.qty, filled_cents: order.filled_cents + qty * book.price_cents, updated_at: at, filled_at: at };
    const execution = { id: randomId(), order_id: id, symbol: order.symbol, side: order.side, qty, price_cents: book.price_cents, cum_qty: order.qty, leaves_qty: 0, at };
    const position = this.store.addExecution(execution);
    this.store.saveOrder(filled);
    this.emit(tradeUpdateJson("fill", filled, { execution_id: execution.id, timestamp: at, price: (book.price_cents / 100).toFixed(2), qty: String(qty), position_qty: String(position) }));
    return filled;
  }

  /** Ends a working order (canceled or expired) and tells the stream. */
  end(id: string, status: "canceled" | "expired"): StoredOrder | null {
    const order = this.store.order(id);
    if (!order || !isOpen(order)) return order;
    const at = new Date().toISOString();
    const ended: StoredOrder = { ...order, status, updated_at: at, ...(status === "canceled" ? { canceled_at: at } : { expired_at: at }) };
    this.store.saveOrder(ended);
    this.emit(tradeUpdateJson(status, ended));
    return ended;
  }

  /** A test moved the price (or changed the book): every working order of the symbol may trade. */
  setInstrument(symbol: string, patch: Partial<Omit<Instrument, "symbol" | "faults">> & { faults?: SymbolFaults }): Instrument {
    const current = this.store.instrument(symbol);
    const next: Instrument = {
      symbol, price_cents: patch.price_cents ?? current?.price_cents ?? 10000, tick_cents: patch.tick_cents ?? current?.tick_cents ?? 1,
      depth: patch.depth ?? current?.depth ?? 100000, priced: patch.priced ?? current?.priced ?? true, faults: patch.faults ?? current?.faults ?? {},
    };
    this.store.saveInstrument(next);
    for (const order of this.store.orders("open", symbol)) if (order.status !== "pending_cancel") this.trade(order.id);
    return next;
  }

  private routeToMarket(id: string): void {
    const order = this.store.order(id);
    if (!order || order.status !== "accepted") return;
    const routed: StoredOrder = { ...order, status: "new", updated_at: new Date().toISOString() };
    this.store.saveOrder(routed);
    this.emit(tradeUpdateJson("new", routed));
    this.trade(id);
  }

  /**
   * Trades a working order at the price now: one execution per price level, each on the stream. A held oco
   * leg only waits for its stop (then triggers); an oco member that trades cancels the rest of its group
   * before its first fill is told.
   */
  private trade(id: string): void {
    let order = this.store.order(id);
    const book = order && this.store.instrument(order.symbol);
    if (!order || !book || !isOpen(order) || order.status === "accepted") return;
    const outcome = execute({ priceCents: book.price_cents, tickCents: book.tick_cents, depth: book.depth }, order);
    if (order.status === "held") {
      if (outcome.triggered) this.triggerHeld(order);
      return;
    }
    if (outcome.slices.length > 0) this.cancelOthers(order);
    order = { ...order, triggered: outcome.triggered, hwm_cents: outcome.hwmCents, stop_cents: outcome.stopCents };
    outcome.slices.forEach((slice, i) => {
      const at = new Date().toISOString();
      const filled = order!.filled_qty + slice.qty;
      const done = filled >= order!.qty;
      order = { ...order!, filled_qty: filled, filled_cents: order!.filled_cents + slice.qty * slice.priceCents, status: done ? "filled" : "partially_filled", updated_at: at, filled_at: done ? at : null };
      const execution = { id: randomId(), order_id: order.id, symbol: order.symbol, side: order.side, qty: slice.qty, price_cents: slice.priceCents, cum_qty: filled, leaves_qty: order.qty - filled, at };
      const position = this.store.addExecution(execution);
      this.store.saveOrder(order);
      this.emit(tradeUpdateJson(done ? "fill" : "partial_fill", order, {
        execution_id: execution.id, timestamp: at, price: (slice.priceCents / 100).toFixed(2), qty: String(slice.qty), position_qty: String(position),
      }));
      if (i === 0 && outcome.slices.length > 1 && book.faults.drop_stream_mid_fill) this.dropStreams("dropped mid-fill by a fault");
    });
    this.store.saveOrder(order);
    if (outcome.rest === "canceled" && isOpen(order)) this.end(order.id, "canceled");
  }

  /**
   * A held oco leg's stop is reached: the rest of its group is canceled first, then the leg goes live ("new",
   * triggered) and trades as the stop (or stop_limit) it is.
   * https://forum.alpaca.markets/t/bracket-order-exit-trades-not-executing/3697
   */
  private triggerHeld(leg: StoredOrder): void {
    this.cancelOthers(leg);
    const live: StoredOrder = { ...leg, status: "new", triggered: true, updated_at: new Date().toISOString() };
    this.store.saveOrder(live);
    this.emit(tradeUpdateJson("new", live));
    this.trade(live.id);
  }

  /** One-cancels-other: the other open orders of `order`'s oco group end "canceled" (none for a simple order). */
  private cancelOthers(order: StoredOrder): void {
    for (const other of openOthers(this.store, order)) this.end(other.id, "canceled");
  }

  private later(work: () => void): void {
    this.ctx.waitUntil(sleep(FILL_DELAY_MS).then(work));
  }

  // ---------------------------------------------------------------- the trade_updates stream

  private openStream(): Response {
    const settings = this.store.settings();
    if ((settings.refuse_streams ?? 0) > 0) {
      this.store.saveSettings({ ...settings, refuse_streams: settings.refuse_streams! - 1 });
      return Response.json(errorJson(50300000, "service unavailable"), { status: 503 });
    }
    const pair = new WebSocketPair();
    this.ctx.acceptWebSocket(pair[1]);
    pair[1].serializeAttachment({ authed: false, listening: false } satisfies SocketState);
    return new Response(null, { status: 101, webSocket: pair[0] });
  }

  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    const state = ws.deserializeAttachment() as SocketState;
    let msg: { action?: string; key?: string; secret?: string; data?: { key_id?: string; secret_key?: string; streams?: string[] } };
    try {
      msg = JSON.parse(typeof message === "string" ? message : new TextDecoder().decode(message));
    } catch {
      return this.send(ws, { stream: "error", data: { error_message: "invalid json" } });
    }
    if (msg.action === "authenticate" || msg.action === "auth") {
      // Both forms in Alpaca's documentation: {"action":"authenticate","data":{"key_id","secret_key"}} and {"action":"auth","key","secret"}.
      const key = msg.data?.key_id ?? msg.key;
      const secret = msg.data?.secret_key ?? msg.secret;
      const form = this.store.settings().auth_form ?? "both";
      const ok = key === this.keys.keyId && secret === this.keys.secretKey && (form === "both" || form === msg.action);
      ws.serializeAttachment({ ...state, authed: ok } satisfies SocketState);
      this.send(ws, authorizationJson(ok));
      if (!ok) ws.close(1008, "unauthorized");
      return;
    }
    if (msg.action === "listen") {
      if (!state.authed) return this.send(ws, authorizationJson(false, "listen"));
      const streams = (msg.data?.streams ?? []).filter((s) => s === "trade_updates");
      ws.serializeAttachment({ ...state, listening: streams.length > 0 } satisfies SocketState);
      return this.send(ws, listeningJson(streams));
    }
  }

  /** Closes every stream connection now (a network failure, as the link sees it). */
  dropStreams(reason = "dropped by the fake"): number {
    const sockets = this.ctx.getWebSockets();
    for (const ws of sockets) ws.close(1011, reason);
    return sockets.length;
  }

  emit(message: Record<string, unknown>): void {
    for (const ws of this.ctx.getWebSockets()) {
      if ((ws.deserializeAttachment() as SocketState | null)?.listening) this.send(ws, message);
    }
  }

  private send(ws: WebSocket, message: Record<string, unknown>): void {
    const text = JSON.stringify(message);
    try {
      if ((this.store.settings() as AccountFaults).frames === "text") ws.send(text);
      else ws.send(new TextEncoder().encode(text));
    } catch {
      // the socket closed meanwhile
    }
  }
}
