// The signed-in trader's desk as one external store (read with useSyncExternalStore): the blotter fed
// by the REST snapshot and the live feed, the account, the instruments and the toasts. Live messages
// reach the screen through a StepPacer: each order step renders on its own (PARTIAL before FILLED), and
// together with the account.updated of the same desk change, so cash never lags a fill.
import type { Account } from "../../worker/shared/account";
import type { AmendRequest, Instrument, Order, OrderRequestInput } from "../../worker/shared/orders";
import type { AccountEvent, OrderEvent, ServerMessage } from "../../worker/shared/events";
import { ErrorBody } from "../../worker/shared/errors";
import type { Ack } from "../../worker/shared/socket-orders";
import { ApiFailure, type Api } from "./api";
import { describeAmendBody } from "./amend";
import { announcement } from "./announce";
import { acknowledge, applyEvent, emptyBlotter, isWorking, mergeOrders, type BlotterState } from "./blotter";
import { CommandDoor, type OrderRoutes } from "./command-door";
import { alreadyCancelled, unaccounted } from "./commands";
import { OrderFeed, type FeedStatus } from "./feed";
import { quantity } from "./format";
import { browserClock, StepPacer } from "./pacer";
import { planTrailingRead, type TrailWatch } from "./trailing";
import { summarizeCancelAll, summarizeCloseAll, type CancelOutcome, type CloseQuery, type OutcomeSummary } from "./positions";

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

/** The list endpoint has no fills: the newest orders with fills are read one by one to show them. */
const FILL_DETAIL_ROWS = 25;
const DETAIL_GRACE_MS = 300;
/**
 * Prices are read this often (one D1 query); positions, P&L and equity are revalued from them on the page.
 * Fills need no wait: account.updated brings the new positions and cash at once.
 */
const INSTRUMENTS_REFRESH_MS = 5_000;
/** Order steps after which the desk sends the account in the same change (a reservation, fill or release). */
const MOVES_ACCOUNT: ReadonlySet<OrderEvent["event"]> = new Set([
  "order.submitted", "order.replaced", "order.partial", "order.filled", "order.cancelled", "order.rejected", "order.expired",
]);

declare global {
  interface Window {
    /**
     * Test and debug hook: drop and restore the live connection, read the resume point; drop the connection
     * right after the next order command is sent (before its answer); count which door order commands took.
     */
    fillwireDebug?: {
      pauseFeed(): void;
      resumeFeed(): void;
      lastSeq(): number | null;
      duplicatesIgnored(): number;
      dropSocketAfterNextCommand(): void;
      orderRoutes(): OrderRoutes;
    };
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
  private readonly amending = new Set<string>();
  private readonly pacer: StepPacer<ServerMessage>;
  private readonly clock = browserClock();
  /** The seq the account shown is valid at (null: read over HTTP, or none yet). */
  private accountSeq: number | null = null;
  /** Bumped by every account the feed brings: an HTTP read started before one is older than it. */
  private accountVersion = 0;
  private applying = false;
  private instrumentsTimer: ReturnType<typeof setInterval> | undefined;
  /** The prices last seen, and which symbols' trailing stops to read again (their marks move unannounced). */
  private trailWatch: TrailWatch | null = null;
  private readingPending = false;
  private toastId = 0;
  /** Order commands go out on the socket, or over HTTP (command-door.ts). */
  private readonly door: CommandDoor;
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
    this.pacer = new StepPacer<ServerMessage>(
      {
        apply: (message) => {
          this.applying = true; // the pacer shows it
          try {
            return this.receive(message);
          } finally {
            this.applying = false;
          }
        },
        completes: (message) => "event" in message && message.event === "account.updated",
        show: () => this.notify(),
      },
      this.clock,
    );
    this.feed = new OrderFeed({
      url: () => this.api.eventsUrl(this.token, this.state.blotter.lastSeq),
      resumes: () => this.state.blotter.lastSeq !== null,
      onMessage: (message) => this.pacer.push(message),
      onStatus: (feed) => this.set({ feed }),
    });
    this.door = new CommandDoor({ feed: this.feed, unauthorized: () => this.api.unauthorized(), stopped: () => this.stopped });
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
      dropSocketAfterNextCommand: () => this.feed.dropAfterNextCommand(),
      orderRoutes: () => ({ ...this.door.routes }),
    };
  }

  stop(): void {
    this.stopped = true;
    this.feed.stop();
    this.pacer.flush();
    clearInterval(this.instrumentsTimer);
    window.removeEventListener("online", this.onOnline);
    delete window.fillwireDebug;
  }

  /** Skip the backoff wait and connect now. */
  reconnectNow(): void {
    this.feed.resume();
  }

  // ------------------------------------------------------------ actions

  /**
   * Send the ticket; the order joins the blotter at once and the trader gets the seed's toast. The cash it
   * reserves arrives as account.updated, in the same change as its order.submitted.
   */
  async submit(body: OrderRequestInput, idempotencyKey: string): Promise<Order> {
    const { value: order } = await this.door.send(
      "submit",
      { type: "submit", order: body, idempotency_key: idempotencyKey },
      () => this.api.submit(body, idempotencyKey),
      ackedOrder,
    );
    this.set({ blotter: mergeOrders(this.state.blotter, [order]) });
    this.toast("success", `Order submitted - Order ID: ${order.id}, Status: ${order.status}`);
    return order;
  }

  /**
   * New terms for a working order. The row shows them from the answer (or from order.replaced, whichever
   * comes first); a refusal is thrown as the server's ApiFailure for the amend form to show verbatim.
   */
  async amend(orderId: string, body: AmendRequest, idempotencyKey: string): Promise<Order> {
    this.amending.add(orderId);
    try {
      const { value: order } = await this.door.send(
        "amend",
        { type: "amend", order_id: orderId, changes: body, idempotency_key: idempotencyKey },
        () => this.api.amend(orderId, body, idempotencyKey),
        ackedOrder,
      );
      this.set({ blotter: mergeOrders(this.state.blotter, [order]) });
      this.toast("success", `Order amended - ${order.side} ${quantity(order.quantity)} ${order.symbol}: ${describeAmendBody(body)}`);
      return order;
    } catch (err) {
      if (err instanceof ApiFailure && err.status === 409) void this.hydrate(orderId); // it moved on (filled, cancelled): show where it is
      throw err;
    } finally {
      this.amending.delete(orderId);
    }
  }

  /** Cancel every working order, or one symbol's: each order's outcome, summed up in one line. */
  async cancelAll(symbol?: string): Promise<OutcomeSummary> {
    const { ids, orders } = this.state.blotter;
    // Their order.cancelled events need no toast of their own: the summary says it.
    const asked = ids.filter((id) => isWorking(orders[id]!) && (!symbol || orders[id]!.symbol === symbol));
    for (const id of asked) this.cancelling.add(id);
    let data: CancelOutcome[];
    try {
      const sent = await this.door.send(
        "cancel_all",
        { type: "cancel_all", ...(symbol ? { symbol } : {}) },
        async () => (await this.api.cancelAll(symbol ? { symbol } : {})).data.map(outcomeOf),
        (ack) => (ack.results ?? []).map(outcomeOf),
      );
      data = sent.fellBack ? [...sent.value, ...(await this.cancelledMeanwhile(unaccounted(asked, sent.value)))] : sent.value;
    } catch (err) {
      for (const id of asked) this.cancelling.delete(id);
      throw err;
    }
    for (const outcome of data) if (outcome.status !== 200) this.cancelling.delete(outcome.id);
    this.set({ blotter: mergeOrders(this.state.blotter, data.flatMap((o) => (o.order ? [o.order] : []))) });
    for (const outcome of data) if (!outcome.order) void this.hydrate(outcome.id);
    const summary = summarizeCancelAll(data, (id) => this.describeOrder(id));
    this.toast(summary.failures.length > 0 ? "error" : "success", summary.text);
    return summary;
  }

  /** Sell all or part of a position at market; the closing order joins the blotter at once. */
  async closePosition(symbol: string, part: CloseQuery): Promise<Order> {
    const order = await this.api.closePosition(symbol, part);
    this.set({ blotter: mergeOrders(this.state.blotter, [order]) });
    this.toast("success", `Closing order submitted - ${order.side} ${quantity(order.quantity)} ${order.symbol}, Order ID: ${order.id}`);
    return order;
  }

  /** Close every position: one MARKET SELL each, and a line for those that could not be closed. */
  async closeAllPositions(): Promise<OutcomeSummary> {
    const result = await this.api.closeAllPositions();
    this.set({ blotter: mergeOrders(this.state.blotter, result.data) });
    const summary = summarizeCloseAll(result);
    this.toast(summary.failures.length > 0 ? "error" : "success", summary.text);
    return summary;
  }

  private describeOrder(id: string): string {
    const o = this.state.blotter.orders[id];
    return o ? `${o.side} ${quantity(o.quantity)} ${o.symbol} (${id})` : id;
  }

  async cancel(orderId: string): Promise<void> {
    this.cancelling.add(orderId);
    try {
      const { value: order } = await this.door.send(
        "cancel",
        { type: "cancel", order_id: orderId },
        async (retry) => {
          try {
            return await this.api.cancel(orderId);
          } catch (err) {
            // The socket's cancel, whose answer was lost, went through: the order is cancelled as asked.
            if (retry && alreadyCancelled(err)) return await this.api.order(orderId);
            throw err;
          }
        },
        ackedOrder,
      );
      this.set({ blotter: mergeOrders(this.state.blotter, [order]) });
      this.toast("success", "Order cancelled");
    } catch (err) {
      this.cancelling.delete(orderId);
      this.toast("error", err instanceof Error ? err.message : "The cancel did not go through; try again");
      void this.hydrate(orderId);
    }
  }

  /** Orders a lost cancel-all answer may have cancelled (the HTTP retry no longer lists them): read each. */
  private async cancelledMeanwhile(ids: readonly string[]): Promise<CancelOutcome[]> {
    const read = await Promise.all(ids.map((id) => this.api.order(id).catch(() => null)));
    return read.flatMap((order) => (order?.status === "CANCELLED" ? [{ id: order.id, status: 200, order, error: null }] : []));
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

  /** Apply one message of the feed (the pacer decides when it is shown); "hold" when its account follows. */
  private receive(message: ServerMessage): "hold" | "show" {
    if ("event" in message) return message.event === "account.updated" ? this.applyAccount(message) : this.applyLive(message);
    if (message.type === "connection_acknowledged") {
      const resumed = this.state.blotter.lastSeq !== null;
      const { state, fresh } = acknowledge(this.state.blotter, message.seq);
      this.set({ blotter: state });
      // A first connection asks for no replay: the snapshot read after this point covers the past.
      if (fresh) void this.loadSnapshot();
      if (fresh && resumed) {
        // The server's log is behind the page (a wiped local database): nor can the account be resumed.
        this.accountSeq = null;
        void this.refreshAccount();
      }
    } else if (message.type === "snapshot") {
      // The working orders and the account as they stood at the acknowledged seq.
      this.set({ blotter: mergeOrders(this.state.blotter, message.orders) });
      if (this.accountSeq === null || message.seq >= this.accountSeq) this.setAccount(message.account, message.seq);
    } else if (message.type === "replay_truncated") {
      // What is older than the server keeps comes from the snapshot instead
      void this.loadSnapshot();
      void this.refreshAccount();
    } else if (message.type === "error") {
      console.warn(`fillwire live feed: ${message.error}: ${message.message}`);
    }
    return "show";
  }

  /** The account moved in the desk change that sent this: shown in the same render as the step before it. */
  private applyAccount(event: AccountEvent): "show" {
    const { state, outcome } = applyEvent(this.state.blotter, event);
    if (outcome === "gap") this.feed.reconnect();
    if (outcome !== "applied") return "show";
    const { event: _name, seq: _seq, timestamp: _at, ...account } = event;
    this.set({ blotter: state });
    this.setAccount(account, event.seq);
    return "show";
  }

  private setAccount(account: Account, seq: number | null): void {
    this.accountVersion++;
    this.accountSeq = seq;
    this.set({ account, accountError: null });
  }

  private applyLive(event: OrderEvent): "hold" | "show" {
    const knownAmend = this.state.blotter.orders[event.order_id]?.amended_at;
    const { state, outcome } = applyEvent(this.state.blotter, event);
    if (outcome === "duplicate") {
      this.duplicates++;
      return "show";
    }
    if (outcome === "gap") {
      this.feed.reconnect(); // resume after the last seq we applied: the server replays the gap in order
      return "show";
    }
    this.set({ blotter: state });
    this.door.eventApplied(event.order_id);
    // An order first met in an event lacks its time in force, as does one amended elsewhere. When this page
    // placed or amended it, the answer brings it in a moment; otherwise read the order.
    if (!state.orders[event.order_id]?.detailed || state.orders[event.order_id]?.time_in_force === null) {
      setTimeout(() => {
        const now = this.state.blotter.orders[event.order_id];
        if (!now?.detailed || now.time_in_force === null) void this.hydrate(event.order_id);
      }, DETAIL_GRACE_MS);
    }
    // An amend this page made was announced when the PATCH answered (before or after its event).
    const ours = this.amending.has(event.order_id) || (knownAmend != null && knownAmend >= event.timestamp);
    if (!(event.event === "order.replaced" && ours)) this.announce(event);
    return MOVES_ACCOUNT.has(event.event) ? "hold" : "show";
  }

  private announce(event: OrderEvent): void {
    const toast = announcement(event, this.cancelling.has(event.order_id));
    if (toast) this.toast(toast.tone, toast.text);
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

  /**
   * Read the account over HTTP: on first load (before the feed's snapshot) and when the feed cannot tell
   * what was missed. An answer older than an account the feed brought meanwhile is dropped.
   */
  async refreshAccount(): Promise<void> {
    const version = this.accountVersion;
    try {
      const account = await this.api.account();
      if (version === this.accountVersion) this.setAccount(account, null);
    } catch (err) {
      if (version === this.accountVersion) this.set({ accountError: err instanceof ApiFailure ? err.message : "Could not load your account" });
    }
  }

  async refreshInstruments(): Promise<void> {
    try {
      const instruments = (await this.api.instruments()).data;
      this.set({ instruments, instrumentsError: null });
      // A trailing stop's mark and stop follow the price at the venue without an event: read them again.
      const plan = planTrailingRead(this.trailWatch, instruments, this.state.blotter);
      this.trailWatch = plan.watch;
      if (plan.read) void this.readPending();
    } catch (err) {
      this.set({ instrumentsError: err instanceof ApiFailure ? err.message : "Could not load instruments" });
    }
  }

  /** Read the working (PENDING) orders: trailing stops' marks and stops as they stand now. */
  private async readPending(): Promise<void> {
    if (this.stopped || this.readingPending) return;
    this.readingPending = true;
    try {
      const page = await this.api.pendingOrders();
      this.set({ blotter: mergeOrders(this.state.blotter, page.data) });
    } catch {
      // the rows keep what they showed; the next price refresh tries again
    } finally {
      this.readingPending = false;
    }
  }

  // ------------------------------------------------------------ plumbing

  private toast(tone: Toast["tone"], text: string): void {
    const toast = { id: ++this.toastId, tone, text };
    this.set({ toasts: [...this.state.toasts.slice(-4), toast] });
  }

  /** Update the state; the screen follows at once unless the pacer holds a step for its account change. */
  private set(patch: Partial<DeskState>): void {
    this.state = { ...this.state, ...patch };
    if (!this.pacer.holding && !this.applying) this.notify();
  }

  private notify(): void {
    for (const listener of this.listeners) listener();
  }
}

/** The order an ack carries (submit, cancel, amend). */
function ackedOrder(ack: Ack): Order {
  if (!ack.order) throw new ApiFailure(0, "HTTP_ERROR", "fillwire answered without the order; reload to see it");
  return ack.order;
}

/** One order's outcome within a cancel-all, from the HTTP body or the socket's ack alike. */
function outcomeOf(o: { id: string; status: number; order: Order | null; error: unknown }): CancelOutcome {
  const error = o.error === null ? null : ErrorBody.safeParse(o.error);
  return { id: o.id, status: o.status, order: o.order, error: error === null ? null : error.success ? error.data : { error: "HTTP_ERROR", message: `fillwire answered ${o.status}` } };
}
