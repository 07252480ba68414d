// Contingent orders (SPEC, "Trailing and contingent orders"): a bracket or oto entry places its exits as
// HELD legs that come alive for what the entry has filled; an oco places its two exits live at once. The
// exits of one parent form a one-cancels-other group: between them they never trade more than the position
// (the venue reduces one as the other fills), and only one of them holds the reservation (shares for SELL
// exits, cash for the BUY exits of a SELL entry: exits.ts). Plain functions over the store; the writing
// ones run inside the caller's atomically().
import type { AmendPlan } from "./amendment";
import type { LegPlan } from "./exits";
import { audit } from "./lifecycle";
import type { OrderRow } from "./schema";
import type { DeskStore } from "./store";

/**
 * Writes a parent's legs (inside atomically()): HELD for a bracket or oto, live (sent at once) for an oco.
 * A BUY exit's share of the pair's cash (LegPlan.reservedCents) is reserved now; SELL exits reserve shares
 * as they come alive.
 */
export function placeLegs(store: DeskStore, parent: OrderRow, legs: LegPlan[], nowMs: number, backstopAt: number): OrderRow[] {
  const at = new Date(nowMs).toISOString();
  const live = parent.order_class === "oco";
  const group = legs.length + (live ? 1 : 0) > 1 ? parent.id : null;
  if (group !== null && live) store.updateOrder(parent.id, { oco_group: group });
  return legs.map((leg, i) => {
    if (leg.reservedCents > 0) store.adjustAccount(0, leg.reservedCents, at);
    const row = store.insertOrder({
      id: `${parent.id}-${leg.kind === "take_profit" ? "tp" : "sl"}${i > 1 ? i : ""}`, idem_key: null, fingerprint: parent.fingerprint, client_order_id: null,
      symbol: parent.symbol, side: leg.side, quantity: parent.quantity, order_type: leg.orderType, limit_cents: leg.limitCents, stop_cents: leg.stopCents,
      protect_cents: leg.protectCents, max_cost_cents: leg.maxCostCents, tif: parent.tif === "DAY" ? ("DAY" as const) : ("GTC" as const),
      reserved_cents: leg.reservedCents, reserved_qty: 0, created_at: at,
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
 * (settled with the venue like any amend). SELL exits: the take-profit (else the only exit) holds the shares
 * in reserve. BUY exits keep the cash reserved at placement. Returns the legs to send now.
 */
export function activateLegs(store: DeskStore, parent: OrderRow, nowMs: number, backstopAt: number): OrderRow[] {
  const legs = store.legsOf(parent.id).filter((l) => l.status !== "CANCELLED" && l.status !== "REJECTED" && l.status !== "EXPIRED" && l.status !== "FILLED");
  if (legs.length === 0 || parent.order_class === "oco") return [];
  const target = parent.filled_quantity;
  // What the exits have traded between them already: each may trade only what is left of the entry's fills.
  const traded = store.legsOf(parent.id).reduce((n, l) => n + l.filled_quantity, 0);
  const keeper = legs.find((l) => l.id.endsWith("-tp")) ?? legs[0]!;
  const toSend: OrderRow[] = [];
  for (const leg of legs) {
    const reserves = leg.id === keeper.id && leg.side === "SELL"; // shares; a BUY exit's cash is held already
    const quantity = leg.filled_quantity + target - traded; // the leg's new total: its own fills and what is left
    if (leg.status === "HELD") {
      if (quantity <= 0) {
        cancelHeld(store, leg, `One-cancels-other: the entry's ${target} shares were already traded`, nowMs);
        continue;
      }
      if (reserves) store.reserveShares(leg.symbol, quantity);
      const live = store.updateOrder(leg.id, {
        status: "PENDING", quantity, reserved_qty: reserves ? quantity : 0, venue_stage: "SENT", next_attempt_at: backstopAt,
        updated_at: new Date(nowMs).toISOString(),
      });
      store.record(live, audit("ACTIVATED", "PENDING", `Entry ${parent.id} filled ${target}: live for ${quantity} shares`), "order.activated", nowMs);
      toSend.push(live);
    } else if (leg.quantity < quantity && leg.pending_amend === null && leg.venue_stage === "ACKED") {
      const grow = quantity - leg.quantity;
      const plan: AmendPlan = {
        seq: leg.amend_seq + 1, quantity, limitCents: leg.limit_cents, stopCents: leg.stop_cents, timeInForce: leg.tif,
        protectCents: leg.protect_cents, maxCostCents: leg.max_cost_cents, reservedCents: leg.reserved_cents, reservedQuantity: reserves ? quantity - leg.filled_quantity : 0,
        heldCents: 0, heldQuantity: reserves ? grow : 0, remaining: quantity - leg.filled_quantity, ocoCapacity: target,
      };
      if (reserves) store.reserveShares(leg.symbol, grow);
      store.updateOrder(leg.id, { reserved_qty: leg.reserved_qty + (reserves ? grow : 0), pending_amend: JSON.stringify(plan), next_attempt_at: nowMs });
    }
  }
  return toSend;
}

/**
 * A fill of an exit (inside the same atomically()), `leg` as it was before the fill: what it traded beyond
 * its own reservation came out of its siblings' (the group reserves once): shares a SELL exit sold (the
 * position's reservation already went with the sale), or cash a BUY exit paid (given back to the account
 * here, as the fill spends it). The venue reduces the sibling's quantity and ends it when the group is done.
 */
export function shareGroupReservation(store: DeskStore, leg: OrderRow, fill: { quantity: number; priceCents: number }, at: string): void {
  const buys = leg.side === "BUY";
  let taken = buys ? Math.max(0, fill.quantity * fill.priceCents - leg.reserved_cents) : Math.max(0, fill.quantity - leg.reserved_qty);
  for (const sibling of store.ocoSiblings(leg)) {
    if (taken <= 0) break;
    const less = Math.min(taken, buys ? sibling.reserved_cents : sibling.reserved_qty);
    if (less > 0 && buys) {
      store.updateOrder(sibling.id, { reserved_cents: sibling.reserved_cents - less });
      store.adjustAccount(0, -less, at);
    } else if (less > 0) {
      store.updateOrder(sibling.id, { reserved_qty: sibling.reserved_qty - less });
    }
    taken -= less;
  }
}

/**
 * Ends a HELD leg without the venue (it was never sent): CANCELLED with `reason`, its cash reservation (a BUY
 * exit's) given back (inside atomically()).
 */
export function cancelHeld(store: DeskStore, leg: OrderRow, reason: string, nowMs: number): OrderRow {
  const at = new Date(nowMs).toISOString();
  if (leg.reserved_cents > 0) store.adjustAccount(0, -leg.reserved_cents, at);
  const row = store.updateOrder(leg.id, {
    status: "CANCELLED", reason, reserved_cents: 0, venue_stage: "ACKED", next_attempt_at: null, expires_at: null, updated_at: at,
  });
  store.record(row, audit("CANCELLED", "CANCELLED", reason), "order.cancelled", nowMs);
  return row;
}
