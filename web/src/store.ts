// The signed-in trader's desk as one external store (read with useSyncExternalStore): the blotter fed
// by the REST snapshot and the live feed, the account, the instruments and the toasts. Each live
// message updates the store on its own, so React renders every step (PARTIAL before FILLED).
import type { Account } from "../../worker/shared/account";
import type { Instrument, Order, OrderRequestInput } from "../../worker/shared/orders";
import type { OrderEvent, ServerMessage } from "../../worker/shared/events";
import { ApiFailure, type Api } from "./api";
import { acknowledge, applyEvent, emptyBlotter, mergeOrders, type BlotterState } from "./blotter";
import { OrderFeed, type FeedStatus } from "./feed";
import { price, quantity } from "./format";

export interface Toast {
  id: number;
  tone: "success" | "info" | "error";
  text: string;
}

export interface DeskState {
  blotter: BlotterState;
  feed: FeedStatus;
  orders: { status: "loading" | "ready" | "error"; error: string | null; nextCursor: string | null; loadingMore: boolean };
  account: Account | null;
  accountError: string | null;
  instruments: Instrument[] | null;
  instrumentsError: string | null;
  toasts: Toast[];
}

const ACCOUNT_REFRESH_DELAY_MS = 150;
/** The list endpoint has no fills: the newest orders with fills are read one by one to show them. */
const FILL_DETAIL_ROWS = 25;
const DETAIL_GRACE_MS = 300;
const INSTRUMENTS_REFRESH_MS = 15_000;

declare global {
  interface Window {
    /** Test and debug hook: drop and restore the live connection, read the resume point. */
    fillwireDebug?: { pauseFeed(): void; resumeFeed(): void; lastSeq(): number | null; duplicatesIgnored(): number };
  }
}

export class DeskStore {
  private state: DeskState = {
    blotter: emptyBlotter,
    feed: { phase: "connecting", attempt: 0 },
    orders: { status: "loading", error: null, nextCursor: null, loadingMore: false },
    account: null,
    accountError: null,
    instruments: null,
    instrumentsError: null,
    toasts: [],
  };
  private readonly listeners = new Set<() => void>();
  private readonly feed: OrderFeed;
  private readonly hydrating = new Set<string>();
  private readonly cancelling = new Set<string>();
  private accountTimer: ReturnType<typeof setTimeout> | undefined;
  private instrumentsTimer: ReturnType<typeof setInterval> | undefined;
  private toastId = 0;
  private duplicates = 0;
  private snapshotRun = 0;
  private stopped = false;
  private readonly onOnline = () => {
    if (this.state.feed.phase === "reconnecting") this.feed.reconnect();
  };

  constructor(
    private readonly api: Api,
    private readonly token: string,
  ) {
    this.feed = new OrderFeed({
      url: () => this.api.eventsUrl(this.token, this.state.blotter.lastSeq),
      resumes: () => this.state.blotter.lastSeq !== null,
      onMessage: (message) => this.receive(message),
      onStatus: (feed) => this.set({ feed }),
    });
  }

  subscribe = (listener: () => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  getState = () => this.state;

  start(): void {
    this.stopped = false;
    this.feed.start();
    void this.loadSnapshot();
    void this.refreshAccount();
    void this.refreshInstruments();
    this.instrumentsTimer = setInterval(() => void this.refreshInstruments(), INSTRUMENTS_REFRESH_MS);
    window.addEventListener("online", this.onOnline);
    window.fillwireDebug = {
      pauseFeed: () => this.feed.pause(),
      resumeFeed: () => this.feed.resume(),
      lastSeq: () => this.state.blotter.lastSeq,
      duplicatesIgnored: () => this.duplicates,
    };
  }

  stop(): void {
    this.stopped = true;
    this.feed.stop();
    clearTimeout(this.accountTimer);
    clearInterval(this.instrumentsTimer);
    window.removeEventListener("online", this.onOnline);
    delete window.fillwireDebug;
  }

  /** Skip the backoff wait and connect now. */
  reconnectNow(): void {
    this.feed.resume();
  }

  // ------------------------------------------------------------ actions

  /** Send the ticket; the order joins the blotter at once and the trader gets the seed's toast. */
  async submit(body: OrderRequestInput, idempotencyKey: string): Promise<Order> {
    const order = await this.api.submit(body, idempotencyKey);
    this.set({ blotter: mergeOrders(this.state.blotter, [order]) });
    this.toast("success", `Order submitted - Order ID: ${order.id}, Status: ${order.status}`);
    this.scheduleAccountRefresh();
    return order;
  }

  async cancel(orderId: string): Promise<void> {
    this.cancelling.add(orderId);
    try {
      const order = await this.api.cancel(orderId);
      this.set({ blotter: mergeOrders(this.state.blotter, [order]) });
      this.toast("success", "Order cancelled");
      this.scheduleAccountRefresh();
    } catch (err) {
      this.cancelling.delete(orderId);
      this.toast("error", err instanceof Error ? err.message : "The cancel did not go through; try again");
      void this.hydrate(orderId);
    }
  }

  audit(orderId: string) {
    return this.api.audit(orderId);
  }

  /** Read one order with its fills (the audit drawer shows them). */
  async hydrate(orderId: string): Promise<void> {
    if (this.stopped || this.hydrating.has(orderId)) return;
    this.hydrating.add(orderId);
    try {
      const order = await this.api.order(orderId);
      this.set({ blotter: mergeOrders(this.state.blotter, [order]) });
    } catch {
      // the row keeps what the events said; the next event or reload fills in the rest
    } finally {
      this.hydrating.delete(orderId);
    }
  }

  async loadMore(): Promise<void> {
    const cursor = this.state.orders.nextCursor;
    if (!cursor || this.state.orders.loadingMore) return;
    this.set({ orders: { ...this.state.orders, loadingMore: true } });
    try {
      const page = await this.api.orders(cursor);
      this.set({ blotter: mergeOrders(this.state.blotter, page.data), orders: { ...this.state.orders, nextCursor: page.next_cursor, loadingMore: false } });
    } catch (err) {
      this.set({ orders: { ...this.state.orders, loadingMore: false } });
      this.toast("error", err instanceof Error ? err.message : "Could not load older orders");
    }
  }

  dismissToast(id: number): void {
    this.set({ toasts: this.state.toasts.filter((t) => t.id !== id) });
  }

  // ------------------------------------------------------------ live feed

  private receive(message: ServerMessage): void {
    if ("event" in message) return this.applyLive(message);
    if (message.type === "connection_acknowledged") {
      const { state, fresh } = acknowledge(this.state.blotter, message.seq);
      this.set({ blotter: state });
      // A first connection asks for no replay: the snapshot read after this point covers the past.
      if (fresh) void this.loadSnapshot();
    } else if (message.type === "replay_truncated") {
      void this.loadSnapshot(); // what is older than the server keeps comes from the snapshot instead
    } else if (message.type === "error") {
      console.warn(`fillwire live feed: ${message.error}: ${message.message}`);
    }
  }

  private applyLive(event: OrderEvent): void {
    const { state, outcome } = applyEvent(this.state.blotter, event);
    if (outcome === "duplicate") {
      this.duplicates++;
      return;
    }
    if (outcome === "gap") {
      this.feed.reconnect(); // resume after the last seq we applied: the server replays the gap in order
      return;
    }
    this.set({ blotter: state });
    // An order first met in an event lacks its prices and TIF. When this page placed it, the submit's
    // answer brings them in a moment; otherwise read the order.
    if (!state.orders[event.order_id]?.detailed) {
      setTimeout(() => {
        if (!this.state.blotter.orders[event.order_id]?.detailed) void this.hydrate(event.order_id);
      }, DETAIL_GRACE_MS);
    }
    this.scheduleAccountRefresh();
    this.announce(event);
  }

  private announce(event: OrderEvent): void {
    const what = `${event.side} ${quantity(event.quantity)} ${event.symbol}`;
    if (event.event === "order.filled") this.toast("info", `Order filled at ${price(event.avg_fill_price)} - ${what}`);
    else if (event.event === "order.rejected") this.toast("error", `Order rejected - ${what}${event.reason ? `: ${event.reason}` : ""}`);
    else if (event.event === "order.triggered") this.toast("info", `Stop triggered - ${what}${event.reason ? `: ${event.reason}` : ""}`);
    else if (event.event === "order.expired") this.toast("info", `Order expired - ${what}${event.reason ? `: ${event.reason}` : ""}`);
    else if (event.event === "order.cancelled" && !this.cancelling.has(event.order_id)) {
      this.toast("info", `Order cancelled - ${what}${event.reason ? `: ${event.reason}` : ""}`);
    }
  }

  // ------------------------------------------------------------ reads

  private async loadSnapshot(): Promise<void> {
    const run = ++this.snapshotRun;
    try {
      const page = await this.api.orders();
      if (run !== this.snapshotRun) return;
      this.set({
        blotter: mergeOrders(this.state.blotter, page.data),
        orders: { ...this.state.orders, status: "ready", error: null, nextCursor: page.next_cursor },
      });
      void this.readMissingFills();
    } catch (err) {
      if (run !== this.snapshotRun) return;
      if (this.state.orders.status !== "ready") {
        this.set({ orders: { ...this.state.orders, status: "error", error: err instanceof Error ? err.message : "Could not load your orders" } });
      }
    }
  }

  private async readMissingFills(): Promise<void> {
    const { ids, orders } = this.state.blotter;
    const missing = ids.slice(0, FILL_DETAIL_ROWS).filter((id) => {
      const o = orders[id]!;
      return o.filled_quantity > o.fills.reduce((sum, f) => sum + f.quantity, 0);
    });
    for (let i = 0; i < missing.length; i += 4) await Promise.all(missing.slice(i, i + 4).map((id) => this.hydrate(id)));
  }

  retrySnapshot(): void {
    this.set({ orders: { ...this.state.orders, status: "loading", error: null } });
    void this.loadSnapshot();
  }

  private scheduleAccountRefresh(): void {
    clearTimeout(this.accountTimer);
    this.accountTimer = setTimeout(() => void this.refreshAccount(), ACCOUNT_REFRESH_DELAY_MS);
  }

  async refreshAccount(): Promise<void> {
    try {
      this.set({ account: await this.api.account(), accountError: null });
    } catch (err) {
      this.set({ accountError: err instanceof ApiFailure ? err.message : "Could not load your account" });
    }
  }

  async refreshInstruments(): Promise<void> {
    try {
      this.set({ instruments: (await this.api.instruments()).data, instrumentsError: null });
    } catch (err) {
      this.set({ instrumentsError: err instanceof ApiFailure ? err.message : "Could not load instruments" });
    }
  }

  // ------------------------------------------------------------ plumbing

  private toast(tone: Toast["tone"], text: string): void {
    const toast = { id: ++this.toastId, tone, text };
    this.set({ toasts: [...this.state.toasts.slice(-4), toast] });
  }

  private set(patch: Partial<DeskState>): void {
    this.state = { ...this.state, ...patch };
    for (const listener of this.listeners) listener();
  }
}
