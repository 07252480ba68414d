// The desk's side of the venue conversation: send an order with a timeout, and after a timeout or an
// error first look for it at the venue by its key, then retry from the alarm with exponential backoff;
// when the retries are spent, make sure the venue can never execute it and close it. Every answer is
// applied to the order through applyReport, in one storage transaction.
import type { DeskConfig } from "../config";
import { errorText } from "../shared/errors";
import { isFinalStatus } from "../shared/orders";
import type { ExchangeAdapter, OcoPeer, OrderRef, VenueAmend, VenueOrder, VenueReport } from "../venue/adapter";
import { applyReport } from "./execution";
import { entryLeftBare, groupMembers, groupRoom, isBareEntry, trimGroup } from "./exit-groups";
import { audit, type Acceptance } from "./lifecycle";
import { canRetry, retryDelayMs } from "./retry";
import type { OrderRow } from "./schema";
import type { DeskStore } from "./store";

/** How long past the venue timeout the alarm waits before it takes over a send that never concluded. */
export const SEND_GRACE_MS = 1000;

export class VenueTimeout extends Error {}

/** What became of an amend sent to the venue: settled (applied or refused, with the venue's reason) or not. */
export interface AmendOutcome {
  settled: boolean;
  refusal: string | null;
}

export interface VenueSessionDeps {
  store: DeskStore;
  exchange: ExchangeAdapter;
  config: DeskConfig;
  now: () => number;
  /** Called after every committed change (events to send, outbox to flush). */
  changed: () => void;
  /** Called when the order schedule may have moved (re-arm the alarm). */
  reschedule: () => void;
}

export class VenueSession {
  /** Orders whose venue send is running in this instance; the alarm leaves them alone. */
  private readonly sending = new Set<string>();
  /** Cancels on their way to the venue, per order: no send of it starts until every one has settled. */
  private readonly ending = new Map<string, number>();

  constructor(private readonly d: VenueSessionDeps) {}

  isSending(orderId: string): boolean {
    return this.sending.has(orderId);
  }

  /**
   * Send an order to the venue (or, after a failed attempt, first look for it there by key). `inserted` is
   * the row submit just wrote (stage SENT, backstop armed): its first send needs no lookup.
   */
  async send(orderId: string, inserted?: OrderRow): Promise<void> {
    if (this.sending.has(orderId)) return;
    this.sending.add(orderId);
    const { store, exchange, config } = this.d;
    try {
      const order = inserted ?? store.order(orderId);
      if (order && !isFinalStatus(order.status) && order.pending_amend !== null) {
        await this.amend(orderId); // the alarm asks again about an amend the venue did not confirm
        return;
      }
      if (order && !isFinalStatus(order.status) && order.venue_stage === "ACKED") {
        // At the venue already: only an exit whose group is done has anything left to do (a cancel to retry).
        if (this.nothingLeft(order)) return await this.endMember(order);
        if (isBareEntry(store, order)) return await this.endWith(order, bareReason(order));
        if (order.next_attempt_at !== null) store.scheduleOrder(orderId, { next_attempt_at: null });
        return;
      }
      if (!order || isFinalStatus(order.status)) return;
      const attempt = order.attempt;
      if (attempt > config.retryMaxAttempts) return await this.giveUp(order);
      if (!inserted) {
        if (order.venue_stage === "SENT") {
          // A previous attempt may have reached the venue even though no answer came back.
          const found = await this.withTimeout(exchange.lookup(orderRef(order, store.traderId))).catch((err: unknown) => err);
          if (found instanceof Error) return this.attemptFailed(orderId, attempt, found);
          if (found) return this.apply(orderId, found as VenueReport, { kind: "found", attempt });
        }
        store.scheduleOrder(orderId, { venue_stage: "SENT", next_attempt_at: this.d.now() + config.exchangeTimeoutMs + SEND_GRACE_MS });
      }
      // Ended while the lookup was out (a cancel that found nothing at the venue): nothing to send. No await
      // between this read and the submit, so a cancel handled from here on sees the send under way.
      const now = store.order(orderId);
      if (!now || isFinalStatus(now.status)) return;
      // A cancel under way may have found nothing at the venue and be ending the order: a send now could
      // land after it and trade unbooked. The cancel concludes the order; if it fails, the alarm sends again.
      if (this.ending.has(orderId)) return;
      // An exit whose group traded everything while it was on its way is not sent (the venue never had it).
      if (this.nothingLeft(order)) return await this.endMember(order);
      try {
        const report = await this.withTimeout(exchange.submit(venueOrder(order, store.traderId, ocoCapacity(store, order), ocoPeer(store, order)), attempt));
        this.apply(orderId, report, attempt === 0 ? { kind: "first" } : { kind: "retry", attempt });
      } catch (err) {
        this.attemptFailed(orderId, attempt, err);
      }
    } finally {
      this.sending.delete(orderId);
      this.d.reschedule();
    }
  }

  /**
   * Sends the order's pending amend to the venue and applies the answer (which settles it). When the venue
   * does not answer, asks it for the order by key; when that fails too, the amend stays pending and the
   * alarm asks again (the venue applies each amend seq once). `settled` is false when the venue could not
   * be reached (the amend is still pending); `refusal` is the venue's reason when it answered and refused.
   */
  async amend(orderId: string): Promise<AmendOutcome> {
    const { store } = this.d;
    const order = store.order(orderId);
    if (!order || order.pending_amend === null) return { settled: true, refusal: null };
    const plan = JSON.parse(order.pending_amend) as VenueAmend;
    const ref = orderRef(order, store.traderId);
    const answer = await this.withTimeout(this.d.exchange.amend(ref, plan)).catch(() => undefined);
    if (answer !== undefined) {
      // null: the venue does not hold the order (it cannot be amended there): a refusal.
      const refusal: VenueReport = {
        key: order.id, orderId, state: "WORKING", fills: [], reason: null,
        terms: { amendSeq: order.amend_seq, quantity: order.quantity, limitCents: order.limit_cents, stopCents: order.stop_cents, timeInForce: order.tif },
      };
      this.apply(orderId, answer ?? refusal, { kind: "amend" });
      return { settled: true, refusal: answer?.amendRefusal ?? null };
    }
    // No answer: the venue's view of the order may still tell (an amend applied shows its seq); else later.
    const found = await this.withTimeout(this.d.exchange.lookup(ref)).catch(() => undefined);
    if (found) this.apply(orderId, found, { kind: "none" });
    if (this.d.store.order(orderId)?.pending_amend == null) return { settled: true, refusal: null };
    store.scheduleOrder(orderId, { next_attempt_at: this.d.now() + this.d.config.retryBaseMs });
    this.d.reschedule();
    return { settled: false, refusal: null };
  }

  /**
   * Ends the order at the venue (bounded by the venue timeout); throws when the venue does not confirm. No
   * send of the order starts while the cancel is on its way (a retry found waiting is left to the alarm).
   */
  end(order: OrderRow, final: "CANCELLED" | "EXPIRED", reason: string): Promise<VenueReport> {
    const id = order.id;
    this.ending.set(id, (this.ending.get(id) ?? 0) + 1);
    const cancel = this.d.exchange.cancel(orderRef(order, this.d.store.traderId), final, reason);
    // Held until the venue call itself settles, which may be after the desk stops waiting for it.
    void cancel.catch(() => undefined).finally(() => {
      const left = (this.ending.get(id) ?? 1) - 1;
      if (left > 0) this.ending.set(id, left);
      else this.ending.delete(id);
    });
    return this.withTimeout(cancel);
  }

  /** Applies a venue report in one transaction, then hands the change on (and sends any legs it brought alive). */
  apply(orderId: string, report: VenueReport, how: Acceptance): void {
    const nowMs = this.d.now();
    const backstopAt = nowMs + this.d.config.exchangeTimeoutMs + SEND_GRACE_MS;
    const activated = this.d.store.atomically(() => applyReport(this.d.store, orderId, report, how, nowMs, backstopAt));
    this.d.changed();
    for (const leg of activated) void this.send(leg.id, leg);
    if (activated.length > 0) this.d.reschedule();
    if (!this.d.exchange.holdsExitGroups) this.holdGroup(orderId);
    const order = this.d.store.order(orderId);
    const bare = order ? entryLeftBare(this.d.store, order) : null;
    if (bare) void this.endWith(bare, bareReason(bare));
  }

  /** An exit of a group the venue does not hold, with nothing left of its group to trade. */
  private nothingLeft(order: OrderRow): boolean {
    if (this.d.exchange.holdsExitGroups || order.oco_group === null) return false;
    const room = groupRoom(this.d.store, order);
    return room !== null && room <= 0;
  }

  /** One-cancels-other by the desk (exit-groups.ts): the group's working members held to what is left of it. */
  private holdGroup(orderId: string): void {
    const member = this.d.store.order(orderId);
    if (!member || member.oco_group === null) return;
    const trim = this.d.store.atomically(() => trimGroup(this.d.store, member, this.d.now()));
    for (const m of trim.end) void this.endMember(m);
    for (const m of trim.reduce) void this.amend(m.id);
    if (trim.reduce.length > 0) this.d.reschedule();
  }

  /** Cancels an exit whose group is done; when the venue does not confirm, the alarm tries again. */
  private endMember(order: OrderRow): Promise<void> {
    return this.endWith(order, "One-cancels-other: its group's shares were traded");
  }

  /** Cancels a working order at the venue for `reason` and applies the answer; a cancel not confirmed is tried again by the alarm. */
  private async endWith(order: OrderRow, reason: string): Promise<void> {
    try {
      this.apply(order.id, await this.end(order, "CANCELLED", reason), { kind: "none" });
    } catch {
      this.d.store.scheduleOrder(order.id, { next_attempt_at: this.d.now() + retryDelayMs(this.d.config.retryBaseMs, 1) });
      this.d.reschedule();
    }
  }

  private attemptFailed(orderId: string, attempt: number, err: unknown): void {
    const { store, config } = this.d;
    const nowMs = this.d.now();
    const timedOut = err instanceof VenueTimeout;
    store.atomically(() => {
      const order = store.order(orderId);
      if (!order || isFinalStatus(order.status) || order.venue_stage === "ACKED") return;
      const what = timedOut ? `Venue did not answer within ${config.exchangeTimeoutMs} ms` : `Venue error: ${errorText(err)}`;
      const next = attempt + 1;
      const delay = retryDelayMs(config.retryBaseMs, next);
      const retrying = canRetry(attempt, config.retryMaxAttempts);
      const reason = retrying ? `${what}; retry ${next} of ${config.retryMaxAttempts} in ${delay} ms` : `${what}; no retries left`;
      store.record(order, audit("EXECUTED", order.status, reason, timedOut ? "TIMEOUT" : "VENUE_ERROR", attempt), null, nowMs);
      store.updateOrder(orderId, { attempt: next, next_attempt_at: nowMs + (retrying ? delay : 0), updated_at: new Date(nowMs).toISOString() });
    });
    this.d.changed();
  }

  /** Retries are spent: make sure the venue can never execute the order, then close it. */
  private async giveUp(order: OrderRow): Promise<void> {
    const reason = `Venue unavailable after ${this.d.config.retryMaxAttempts} retries; order rejected`;
    let report: VenueReport;
    try {
      report = await this.end(order, "CANCELLED", reason);
    } catch {
      // Not even the cancel got through: try again later; the order cannot be closed until the venue confirms.
      this.d.store.scheduleOrder(order.id, { next_attempt_at: this.d.now() + retryDelayMs(this.d.config.retryBaseMs, order.attempt) });
      return;
    }
    const neverTraded = report.fills.length === 0 && report.state === "CANCELLED";
    this.apply(order.id, neverTraded ? { ...report, state: "REJECTED", reason } : report, { kind: "none" });
  }

  private withTimeout<T>(promise: Promise<T>): Promise<T> {
    const ms = this.d.config.exchangeTimeoutMs;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new VenueTimeout(`no answer within ${ms} ms`)), ms);
    });
    promise.catch(() => undefined); // a late failure of the losing side is expected, not an error
    return Promise.race([promise, timeout]).finally(() => timer !== undefined && clearTimeout(timer));
  }
}

const bareReason = (entry: OrderRow) =>
  `Its exits closed the ${entry.filled_quantity} shares it bought: the rest of the entry is cancelled, so no shares are left without exits`;

function orderRef(order: OrderRow, traderId: string): OrderRef {
  return { key: order.id, orderId: order.id, traderId, symbol: order.symbol };
}

/**
 * The shares an exit's group may trade between its members (VenueOrder.ocoCapacity): an oco's quantity, or
 * what a bracket's or oto's entry has filled so far; undefined for an order in no group.
 */
function ocoCapacity(store: DeskStore, order: OrderRow): number | undefined {
  if (order.oco_group === null) return undefined;
  const parent = order.parent_order_id === null ? order : store.order(order.parent_order_id);
  if (!parent) return undefined;
  return parent.order_class === "oco" ? parent.quantity : parent.filled_quantity;
}

/** The one other exit of the order's group, if there is exactly one and it is not HELD (VenueOrder.ocoPeer). */
function ocoPeer(store: DeskStore, order: OrderRow): OcoPeer | undefined {
  const others = groupMembers(store, order).filter((m) => m.id !== order.id);
  const peer = others.length === 1 ? others[0]! : null;
  if (!peer || peer.status === "HELD") return undefined;
  return {
    live: !isFinalStatus(peer.status), orderId: peer.id, key: peer.id, side: peer.side, quantity: peer.quantity, orderType: peer.order_type,
    limitCents: peer.limit_cents, stopCents: peer.stop_cents, timeInForce: peer.tif,
  };
}

function venueOrder(order: OrderRow, traderId: string, capacity: number | undefined, peer: OcoPeer | undefined): VenueOrder {
  return {
    key: order.id, traderId, orderId: order.id, symbol: order.symbol, side: order.side, quantity: order.quantity,
    orderType: order.order_type, limitCents: order.limit_cents, stopCents: order.stop_cents, timeInForce: order.tif,
    protectCents: order.protect_cents, maxCostCents: order.max_cost_cents,
    ...(order.order_type === "TRAILING_STOP" ? { trailCents: order.trail_cents, trailBp: order.trail_bp } : {}),
    ...(order.oco_group !== null ? { ocoGroup: order.oco_group } : {}),
    ...(capacity !== undefined ? { ocoCapacity: capacity } : {}),
    ...(peer !== undefined ? { ocoPeer: peer } : {}),
  };
}
