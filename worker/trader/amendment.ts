// Amending a working order in place (FIX cancel/replace; SPEC, "Order management"): which orders can be
// amended, the amended order checked as if new, the extra reservation held while the venue is asked, and,
// once the venue answers, the new terms recorded (REPLACED, order.replaced) with the difference released.
// Plain functions over the store; the caller runs the writing ones inside atomically().
import type { DeskConfig } from "../config";
import { fail, type Failure } from "../shared/errors";
import { formatUsd, toDollars } from "../shared/money";
import { isFinalStatus, needsLimitPrice, needsStopPrice, type AmendRequest, type OrderRequest, type TimeInForce } from "../shared/orders";
import type { Quote, VenueAmend, VenueReport } from "../venue/adapter";
import { dayOrderExpiry } from "../venue/calendar";
import { audit } from "./lifecycle";
import { checkRisk, type Balances } from "./risk";
import type { OrderRow } from "./schema";
import type { DeskStore } from "./store";

/** An amend on its way to the venue: its terms, and what the desk holds for it meanwhile. */
export interface AmendPlan extends VenueAmend {
  /** Cash (cents) and shares the amended order reserves for its remaining quantity at the time of the plan. */
  reservedCents: number;
  reservedQuantity: number;
  /** What was added to the order's reservation while the venue is asked (given back if it refuses). */
  heldCents: number;
  heldQuantity: number;
  /** Shares left to fill when planned (the reservation scales with what is left when it is confirmed). */
  remaining: number;
}

/** null when the order can be amended now, else 409 ORDER_NOT_AMENDABLE with details.status. */
export function amendRefusal(order: OrderRow): Failure | null {
  const refuse = (why: string) =>
    fail("ORDER_NOT_AMENDABLE", `Order ${order.id} ${why}`, { order_id: order.id, status: order.status });
  if (isFinalStatus(order.status)) return refuse(`is ${order.status} and can no longer be amended`);
  if (order.order_type === "MARKET") return refuse("is a MARKET order: it works at once and cannot be amended");
  if (order.order_type === "STOP" && order.triggered_at !== null) return refuse("is a triggered stop, working as a market order: it cannot be amended");
  if (order.pending_amend !== null) return refuse("has an amend the venue has not confirmed yet; retry in a moment");
  if (order.status === "HELD") return null; // a leg not yet at the venue: amended on the desk alone (contingent.ts)
  if (order.venue_stage !== "ACKED") return refuse("is still on its way to the venue; retry in a moment");
  return null;
}

/**
 * The amended order checked as if new (tick, side of a stop, band, funds for the difference, shares),
 * with the order's own reservation counted as available: for an exit in a one-cancels-other pair, what its
 * pair reserves once between them (`pair`: shares and cents, the order's own included). Such an exit holds
 * no more shares, and cash only for what its new terms need beyond the pair's. Prices the amend does not
 * change are not judged again. Returns the plan, or the failure the route answers.
 */
export function planAmend(
  order: OrderRow, changes: AmendRequest, quote: Quote | null, balances: Balances, config: Pick<DeskConfig, "priceBandPct" | "maxOrderQuantity" | "maxOrderNotionalCents">,
  pair: { quantity: number; cents: number } = { quantity: order.reserved_qty, cents: order.reserved_cents },
): AmendPlan | Failure {
  const fields: Record<string, string> = {};
  if (changes.price !== undefined && !needsLimitPrice(order.order_type)) fields.price = `price is only amendable on LIMIT and STOP_LIMIT orders, not ${order.order_type}`;
  if (changes.stop_price !== undefined && !needsStopPrice(order.order_type)) fields.stop_price = `stop_price is only amendable on STOP and STOP_LIMIT orders, not ${order.order_type}`;
  if (changes.stop_price !== undefined && order.triggered_at !== null) fields.stop_price = "the stop has already triggered; its stop_price can no longer change";
  const trailChange = changes.trail_price !== undefined || changes.trail_percent !== undefined;
  if (trailChange && order.order_type !== "TRAILING_STOP") fields[changes.trail_price !== undefined ? "trail_price" : "trail_percent"] = `a trail is only amendable on TRAILING_STOP orders, not ${order.order_type}`;
  if (changes.stop_price !== undefined && order.order_type === "TRAILING_STOP") fields.stop_price = "a TRAILING_STOP's stop follows its trail: amend trail_price or trail_percent instead";
  if (changes.quantity !== undefined && (order.parent_order_id !== null || order.oco_group !== null)) {
    fields.quantity = "an exit's quantity follows its entry's fills and its pair's (one-cancels-other); amend its prices, or cancel it";
  }
  const quantity = changes.quantity ?? order.quantity;
  if (quantity <= order.filled_quantity) fields.quantity = `quantity is the new total and must be more than the ${order.filled_quantity} shares already filled`;
  if (Object.keys(fields).length > 0) return validation(fields);

  const amended: OrderRequest = {
    symbol: order.symbol, side: order.side, order_type: order.order_type, order_class: "simple", quantity: quantity - order.filled_quantity,
    time_in_force: changes.time_in_force ?? order.tif,
    ...(order.limit_cents !== null || changes.price !== undefined ? { price: changes.price ?? toDollars(order.limit_cents!) } : {}),
    ...(order.order_type !== "TRAILING_STOP" && (order.stop_cents !== null || changes.stop_price !== undefined) ? { stop_price: changes.stop_price ?? toDollars(order.stop_cents!) } : {}),
    ...(order.order_type === "TRAILING_STOP" ? trailOf(order, changes) : {}),
  };
  const kept = new Set<"price" | "stop_price">();
  if (changes.price === undefined) kept.add("price");
  if ((changes.stop_price === undefined && !trailChange) || order.triggered_at !== null) kept.add("stop_price");
  const own: Balances = {
    ...balances, reservedCents: balances.reservedCents - pair.cents, reservedQuantity: balances.reservedQuantity - pair.quantity,
  };
  const checked = checkRisk(amended, quote, own, config, kept);
  if ("ok" in checked) return checked;
  // An exit of a pair keeps its share of the pair's one reservation (its quantity cannot change).
  const approval = order.oco_group === null ? checked : {
    ...checked, reservedQuantity: order.reserved_qty, reservedCents: order.reserved_cents + Math.max(0, checked.reservedCents - pair.cents),
  };
  return {
    seq: order.amend_seq + 1, quantity, limitCents: approval.limitCents, stopCents: order.order_type === "TRAILING_STOP" ? order.stop_cents : approval.stopCents,
    trailCents: approval.trailCents, trailBp: approval.trailBp,
    timeInForce: amended.time_in_force, protectCents: approval.protectCents, maxCostCents: approval.maxCostCents,
    reservedCents: approval.reservedCents, reservedQuantity: approval.reservedQuantity,
    heldCents: Math.max(0, approval.reservedCents - order.reserved_cents), heldQuantity: Math.max(0, approval.reservedQuantity - order.reserved_qty),
    remaining: quantity - order.filled_quantity,
  };
}

/**
 * Holds the plan's extra cash or shares on the order and marks the amend pending (inside atomically()).
 * `backstopAt`: when the alarm asks the venue about it, should this instance not see the answer.
 */
export function holdForAmend(store: DeskStore, order: OrderRow, plan: AmendPlan, nowMs: number, backstopAt: number): void {
  const at = new Date(nowMs).toISOString();
  if (plan.heldCents > 0) store.adjustAccount(0, plan.heldCents, at);
  if (plan.heldQuantity > 0) store.reserveShares(order.symbol, plan.heldQuantity);
  store.updateOrder(order.id, {
    reserved_cents: order.reserved_cents + plan.heldCents, reserved_qty: order.reserved_qty + plan.heldQuantity, pending_amend: JSON.stringify(plan),
    next_attempt_at: backstopAt,
  });
}

/**
 * What a venue report says of the order's pending amend (inside atomically(), before the report's fills
 * are applied): applied (new terms recorded, the reservation brought to what is left), refused (the hold
 * given back: only on the venue's `definitive` answer to the amend, or once the order has ended), or still
 * pending. Returns the order as it now stands.
 */
export function settleAmend(store: DeskStore, order: OrderRow, report: VenueReport, nowMs: number, definitive: boolean): OrderRow {
  if (order.pending_amend === null) return order;
  const plan = JSON.parse(order.pending_amend) as AmendPlan;
  const applied = report.terms !== undefined && report.terms.amendSeq >= plan.seq;
  const ended = report.state !== "WORKING";
  // Only the venue's answer to the amend itself can say it was refused: any other report (a lookup, a fill,
  // a trigger) may predate the amend, which then stays pending until the venue says.
  if (!applied && !ended && !definitive) return order;
  const at = new Date(nowMs).toISOString();
  if (!applied) {
    // Refused, or the order ended first: give the hold back (a final report releases the rest).
    if (plan.heldCents > 0) store.adjustAccount(0, -Math.min(plan.heldCents, order.reserved_cents), at);
    if (plan.heldQuantity > 0) store.reserveShares(order.symbol, -Math.min(plan.heldQuantity, order.reserved_qty));
    return store.updateOrder(order.id, {
      pending_amend: null, next_attempt_at: null, reserved_cents: Math.max(0, order.reserved_cents - plan.heldCents), reserved_qty: Math.max(0, order.reserved_qty - plan.heldQuantity),
    });
  }
  // The reservation follows what is left to fill under the new terms (fills may have come in meanwhile).
  const left = plan.quantity - order.filled_quantity;
  // A BUY exit's cash is its pair's, for buying the entry's shares back: kept whole until the exit ends.
  const cents = order.side !== "BUY" ? 0 : order.oco_group !== null ? order.reserved_cents : Math.min(order.reserved_cents, Math.ceil((plan.reservedCents * left) / plan.remaining));
  const shares = order.side === "SELL" ? Math.min(order.reserved_qty, left) : 0;
  if (order.reserved_cents > cents) store.adjustAccount(0, cents - order.reserved_cents, at);
  if (order.reserved_qty > shares) store.reserveShares(order.symbol, shares - order.reserved_qty);
  const updated = store.updateOrder(order.id, {
    quantity: plan.quantity, limit_cents: plan.limitCents, stop_cents: plan.stopCents, tif: plan.timeInForce,
    trail_cents: plan.trailCents ?? null, trail_bp: plan.trailBp ?? null,
    protect_cents: plan.protectCents, max_cost_cents: plan.maxCostCents, reserved_cents: cents, reserved_qty: shares,
    expires_at: expiryAfterAmend(order, plan.timeInForce, nowMs), amend_seq: plan.seq, amended_at: at, pending_amend: null, next_attempt_at: null, updated_at: at,
  });
  store.record(updated, audit("REPLACED", updated.status, describeAmend(order, plan)), "order.replaced", nowMs);
  return updated;
}

/** A DAY order keeps its session's close; one that becomes DAY expires at the current session's close. */
function expiryAfterAmend(order: OrderRow, tif: TimeInForce, nowMs: number): number | null {
  if (tif !== "DAY") return null;
  return order.tif === "DAY" ? order.expires_at : dayOrderExpiry(nowMs);
}

/** True when the plan asks for the terms the order already has. */
export function sameTerms(order: OrderRow, plan: AmendPlan): boolean {
  return plan.quantity === order.quantity && plan.limitCents === order.limit_cents && plan.timeInForce === order.tif &&
    (order.order_type === "TRAILING_STOP"
      ? (plan.trailCents ?? null) === order.trail_cents && (plan.trailBp ?? null) === order.trail_bp
      : plan.stopCents === order.stop_cents);
}

/** "quantity 100 → 80; price $140.00 → $141.00": the audit reason of a REPLACED row. */
export function describeAmend(order: OrderRow, plan: AmendPlan): string {
  const parts: string[] = [];
  if (plan.quantity !== order.quantity) parts.push(`quantity ${order.quantity} → ${plan.quantity}`);
  const money = (c: number | null) => (c === null ? "none" : formatUsd(c));
  if (plan.limitCents !== order.limit_cents) parts.push(`price ${money(order.limit_cents)} → ${money(plan.limitCents)}`);
  if (plan.stopCents !== order.stop_cents) parts.push(`stop_price ${money(order.stop_cents)} → ${money(plan.stopCents)}`);
  if (plan.timeInForce !== order.tif) parts.push(`time_in_force ${order.tif} → ${plan.timeInForce}`);
  const trail = (cents: number | null | undefined, bp: number | null | undefined) => (cents != null ? formatUsd(cents) : bp != null ? `${bp / 100}%` : "none");
  if ((plan.trailCents ?? null) !== order.trail_cents || (plan.trailBp ?? null) !== order.trail_bp) {
    parts.push(`trail ${trail(order.trail_cents, order.trail_bp)} → ${trail(plan.trailCents, plan.trailBp)}`);
  }
  return parts.length > 0 ? `Amended: ${parts.join("; ")}` : "Amended: no change";
}

/** The amended trail of a TRAILING_STOP as request fields: the change, or the order's own. */
function trailOf(order: OrderRow, changes: AmendRequest): { trail_price?: number; trail_percent?: number } {
  if (changes.trail_price !== undefined) return { trail_price: changes.trail_price };
  if (changes.trail_percent !== undefined) return { trail_percent: changes.trail_percent };
  return order.trail_cents !== null ? { trail_price: toDollars(order.trail_cents) } : { trail_percent: (order.trail_bp ?? 0) / 100 };
}

function validation(fields: Record<string, string>): Failure {
  const summary = Object.values(fields).join("; ");
  return fail("VALIDATION_ERROR", `Invalid request: ${summary}`, { fields });
}
