// Contingent orders (SPEC, "Trailing and contingent orders"): a bracket or oto entry places its exits as
// HELD legs that come alive for what the entry has filled; an oco places its two exits live at once. The
// exits of one parent form a one-cancels-other group: between them they never sell more than the position
// (the venue reduces one as the other fills), and only one of them holds the shares in reserve.
// Plain functions over the store; the writing ones run inside the caller's atomically().
import { fail, type Failure } from "../shared/errors";
import { formatUsd, toCents, toDollars } from "../shared/money";
import type { AmendRequest, OrderRequest, OrderType } from "../shared/orders";
import { checkStopSide, checkTick } from "../shared/price-rules";
import type { Quote } from "../venue/adapter";
import { describeAmend, type AmendPlan } from "./amendment";
import { audit } from "./lifecycle";
import type { OrderRow } from "./schema";
import type { DeskStore } from "./store";

/** One exit of a contingent order: its kind, and its terms (an exit sells what the entry bought). */
export interface LegPlan {
  kind: "take_profit" | "stop_loss";
  orderType: Extract<OrderType, "LIMIT" | "STOP" | "STOP_LIMIT">;
  limitCents: number | null;
  stopCents: number | null;
}

/**
 * The exits of a contingent request, their prices checked against the entry (its limit, or the reference
 * price for a MARKET entry and for an oco): the take-profit above, the stop-loss below, each on the tick and
 * within the band. A failure names the leg's field (take_profit.limit_price, stop_loss.stop_price ...).
 */
export function planLegs(request: OrderRequest, quote: Quote, entryLimitCents: number | null, bandPct: number): LegPlan[] | Failure {
  if (request.order_class === "simple") return [];
  const ref = quote.priceCents;
  const basis = request.order_class === "oco" ? ref : (entryLimitCents ?? ref);
  const legs: LegPlan[] = [];
  const checks: [field: string, cents: number, mustBe: "above" | "below"][] = [];
  if (request.take_profit && request.order_class !== "oco") {
    const limit = toCents(request.take_profit.limit_price)!;
    legs.push({ kind: "take_profit", orderType: "LIMIT", limitCents: limit, stopCents: null });
    checks.push(["take_profit.limit_price", limit, "above"]);
  } else if (request.take_profit) {
    checks.push(["take_profit.limit_price", toCents(request.take_profit.limit_price)!, "above"]);
  }
  if (request.stop_loss) {
    const stop = toCents(request.stop_loss.stop_price)!;
    const limit = request.stop_loss.limit_price === undefined ? null : toCents(request.stop_loss.limit_price)!;
    legs.push({ kind: "stop_loss", orderType: limit === null ? "STOP" : "STOP_LIMIT", limitCents: limit, stopCents: stop });
    checks.push(["stop_loss.stop_price", stop, "below"]);
    if (limit !== null) checks.push(["stop_loss.limit_price", limit, "below"]);
  }
  for (const [field, cents, mustBe] of checks) {
    const wrong = checkLegPrice(field, cents, field === "stop_loss.limit_price" ? null : mustBe, basis, quote, bandPct, request.symbol);
    if (wrong) return wrong;
  }
  const stop = legs.find((l) => l.kind === "stop_loss");
  if (request.order_class === "oco" && stop?.stopCents != null) {
    const wrongSide = checkStopSide("SELL", stop.orderType, stop.stopCents, ref, request.symbol);
    if (wrongSide) return wrongSide;
  }
  return legs;
}

/**
 * One price of an exit (cents): on the tick, on its side of the entry price `basisCents` (`mustBe`; null
 * for a stop-loss's limit, which may sit either side of its stop), and within the band around the
 * reference price. The failure names `field`, the leg's own (take_profit.limit_price, or an amend's price).
 */
export function checkLegPrice(field: string, cents: number, mustBe: "above" | "below" | null, basisCents: number, quote: Quote, bandPct: number, symbol: string): Failure | null {
  const offTick = checkTick(field, cents, quote.tickCents, symbol);
  if (offTick) return offTick;
  if (mustBe !== null && !(mustBe === "above" ? cents > basisCents : cents < basisCents)) {
    const message = `${field} ${toDollars(cents).toFixed(2)} must be ${mustBe} the entry price ${toDollars(basisCents).toFixed(2)}`;
    return fail("VALIDATION_ERROR", `Invalid request: ${message}`, { fields: { [field]: message }, entry_price: toDollars(basisCents) });
  }
  const ref = quote.priceCents;
  const band = Math.floor((ref * bandPct) / 100);
  if (Math.abs(cents - ref) > band) {
    const message = `${field} ${formatUsd(cents)} is more than ${bandPct}% away from the ${symbol} reference price ${formatUsd(ref)}; allowed ${formatUsd(ref - band)} to ${formatUsd(ref + band)}`;
    return fail("PRICE_OUT_OF_BAND", message, {
      field, price: toDollars(cents), reference_price: toDollars(ref), min_price: toDollars(ref - band), max_price: toDollars(ref + band),
    });
  }
  return null;
}

/**
 * An amend of a HELD leg (not yet at the venue), checked as its exit was at placement: the take-profit's
 * price above the entry, the stop-loss's stop_price below it, each on the tick and within the band. A leg's
 * quantity follows its entry's fills and its time in force its entry's, so neither can be amended (400
 * naming the field). Returns the new terms as an amend plan (nothing to reserve: a HELD leg holds nothing).
 */
export function planHeldLegAmend(leg: OrderRow, parent: OrderRow, changes: AmendRequest, quote: Quote, bandPct: number): AmendPlan | Failure {
  const fields: Record<string, string> = {};
  if (changes.quantity !== undefined) fields.quantity = `a leg's quantity follows its entry's fills; amend the entry ${parent.id} instead`;
  if (changes.time_in_force !== undefined) fields.time_in_force = `a leg's time_in_force follows its entry ${parent.id}`;
  if (changes.price !== undefined && leg.limit_cents === null) fields.price = `price is only amendable on LIMIT and STOP_LIMIT legs, not ${leg.order_type}`;
  if (changes.stop_price !== undefined && leg.stop_cents === null) fields.stop_price = `stop_price is only amendable on STOP and STOP_LIMIT legs, not ${leg.order_type}`;
  if (changes.trail_price !== undefined || changes.trail_percent !== undefined) fields[changes.trail_price !== undefined ? "trail_price" : "trail_percent"] = `a trail is only amendable on TRAILING_STOP orders, not ${leg.order_type}`;
  if (Object.keys(fields).length > 0) return fail("VALIDATION_ERROR", `Invalid request: ${Object.values(fields).join("; ")}`, { fields });
  const basis = parent.limit_cents ?? quote.priceCents;
  const limitCents = changes.price === undefined ? leg.limit_cents : toCents(changes.price)!;
  const stopCents = changes.stop_price === undefined ? leg.stop_cents : toCents(changes.stop_price)!;
  const takeProfit = leg.order_type === "LIMIT";
  if (changes.price !== undefined) {
    const wrong = checkLegPrice("price", limitCents!, takeProfit ? "above" : null, basis, quote, bandPct, leg.symbol);
    if (wrong) return wrong;
  }
  if (changes.stop_price !== undefined) {
    const wrong = checkLegPrice("stop_price", stopCents!, "below", basis, quote, bandPct, leg.symbol);
    if (wrong) return wrong;
  }
  return {
    seq: leg.amend_seq + 1, quantity: leg.quantity, limitCents, stopCents, timeInForce: leg.tif, protectCents: leg.protect_cents, maxCostCents: leg.max_cost_cents,
    reservedCents: 0, reservedQuantity: 0, heldCents: 0, heldQuantity: 0, remaining: leg.quantity,
  };
}

/** Records a HELD leg's new terms in place (inside atomically()): REPLACED, order.replaced; it stays HELD. */
export function amendHeldLeg(store: DeskStore, leg: OrderRow, plan: AmendPlan, nowMs: number): OrderRow {
  const at = new Date(nowMs).toISOString();
  const updated = store.updateOrder(leg.id, { limit_cents: plan.limitCents, stop_cents: plan.stopCents, amend_seq: plan.seq, amended_at: at, updated_at: at });
  store.record(updated, audit("REPLACED", updated.status, describeAmend(leg, plan)), "order.replaced", nowMs);
  return updated;
}

/** Writes a parent's legs (inside atomically()): HELD for a bracket or oto, live (sent at once) for an oco. */
export function placeLegs(store: DeskStore, parent: OrderRow, legs: LegPlan[], nowMs: number, backstopAt: number): OrderRow[] {
  const at = new Date(nowMs).toISOString();
  const live = parent.order_class === "oco";
  const group = legs.length + (live ? 1 : 0) > 1 ? parent.id : null;
  if (group !== null && live) store.updateOrder(parent.id, { oco_group: group });
  return legs.map((leg, i) => {
    const row = store.insertOrder({
      id: `${parent.id}-${leg.kind === "take_profit" ? "tp" : "sl"}${i > 1 ? i : ""}`, idem_key: null, fingerprint: parent.fingerprint, client_order_id: null,
      symbol: parent.symbol, side: "SELL" as const, quantity: parent.quantity, order_type: leg.orderType, limit_cents: leg.limitCents, stop_cents: leg.stopCents,
      protect_cents: null, max_cost_cents: null, tif: parent.tif === "DAY" ? ("DAY" as const) : ("GTC" as const), reserved_cents: 0, reserved_qty: 0, created_at: at,
      next_attempt_at: backstopAt, expires_at: parent.expires_at, trail_cents: null, trail_bp: null,
      ...(live ? {} : { initial_status: "HELD" as const }), order_class: parent.order_class, parent_order_id: parent.id, oco_group: group,
    });
    store.record(row, audit("SUBMITTED", row.status, live ? null : "Held until the entry fills"), "order.submitted", nowMs);
    return row;
  });
}

/**
 * After a fill of a parent (inside the same atomically()): its exits come alive for what it has filled so
 * far. A HELD leg becomes PENDING for that many shares (ACTIVATED), to be sent; a live one grows by an amend
 * (settled with the venue like any amend). The take-profit (else the only exit) holds the shares in reserve.
 * Returns the legs to send now.
 */
export function activateLegs(store: DeskStore, parent: OrderRow, nowMs: number, backstopAt: number): OrderRow[] {
  const legs = store.legsOf(parent.id).filter((l) => l.status !== "CANCELLED" && l.status !== "REJECTED" && l.status !== "EXPIRED" && l.status !== "FILLED");
  if (legs.length === 0 || parent.order_class === "oco") return [];
  const target = parent.filled_quantity;
  const keeper = legs.find((l) => l.id.endsWith("-tp")) ?? legs[0]!;
  const toSend: OrderRow[] = [];
  for (const leg of legs) {
    const reserves = leg.id === keeper.id;
    if (leg.status === "HELD") {
      if (reserves) store.reserveShares(leg.symbol, target);
      const live = store.updateOrder(leg.id, {
        status: "PENDING", quantity: target, reserved_qty: reserves ? target : 0, venue_stage: "SENT", next_attempt_at: backstopAt,
        updated_at: new Date(nowMs).toISOString(),
      });
      store.record(live, audit("ACTIVATED", "PENDING", `Entry ${parent.id} filled ${target}: live for ${target} shares`), "order.activated", nowMs);
      toSend.push(live);
    } else if (leg.quantity < target && leg.pending_amend === null && leg.venue_stage === "ACKED") {
      const grow = target - leg.quantity;
      const plan: AmendPlan = {
        seq: leg.amend_seq + 1, quantity: target, limitCents: leg.limit_cents, stopCents: leg.stop_cents, timeInForce: leg.tif,
        protectCents: leg.protect_cents, maxCostCents: leg.max_cost_cents, reservedCents: 0, reservedQuantity: reserves ? target - leg.filled_quantity : 0,
        heldCents: 0, heldQuantity: reserves ? grow : 0, remaining: target - leg.filled_quantity,
      };
      if (reserves) store.reserveShares(leg.symbol, grow);
      store.updateOrder(leg.id, { reserved_qty: leg.reserved_qty + (reserves ? grow : 0), pending_amend: JSON.stringify(plan), next_attempt_at: nowMs });
    }
  }
  return toSend;
}

/**
 * A fill of an exit (inside the same atomically()): when it sold more shares than it held in reserve, the
 * rest came out of its sibling's reservation (the group reserves the position once): the sibling holds that
 * much less. The venue reduces the sibling's quantity and ends it when the group's shares are sold.
 */
export function shareGroupReservation(store: DeskStore, leg: OrderRow, soldQuantity: number, reservedBefore: number): void {
  let taken = Math.max(0, soldQuantity - reservedBefore);
  for (const sibling of store.ocoSiblings(leg)) {
    if (taken <= 0) break;
    const less = Math.min(taken, sibling.reserved_qty);
    if (less > 0) store.updateOrder(sibling.id, { reserved_qty: sibling.reserved_qty - less });
    taken -= less;
  }
}

/** Ends a HELD leg without the venue (it was never sent): CANCELLED with `reason` (inside atomically()). */
export function cancelHeld(store: DeskStore, leg: OrderRow, reason: string, nowMs: number): OrderRow {
  const at = new Date(nowMs).toISOString();
  const row = store.updateOrder(leg.id, { status: "CANCELLED", reason, venue_stage: "ACKED", next_attempt_at: null, expires_at: null, updated_at: at });
  store.record(row, audit("CANCELLED", "CANCELLED", reason), "order.cancelled", nowMs);
  return row;
}
