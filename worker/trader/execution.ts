// Applying what the venue reports to an order: the state machine (lifecycle.ts) says which steps are new,
// the ledger says what each fill or release moves, and the store writes it all, with its audit rows,
// events and outbox records, in the caller's transaction. The order row is written once, at the end.
import { formatUsd } from "../shared/money";
import { isFinalStatus } from "../shared/orders";
import type { VenueReport } from "../venue/adapter";
import { settleAmend } from "./amendment";
import { activateLegs, cancelHeld, shareGroupReservation } from "./contingent";
import { fillEffect, releaseEffect, type LedgerEffect } from "./ledger";
import { reconcile, type Acceptance, type Step } from "./lifecycle";
import type { OrderPatch, OrderRow } from "./schema";
import type { DeskStore } from "./store";

/** An order row being changed in memory, and the changes to write (one UPDATE per venue report). */
interface OrderDraft {
  row: OrderRow;
  patch: OrderPatch;
}

/** Applies `report` to the order inside the caller's atomically(); a report applied twice changes nothing. */
export function applyReport(store: DeskStore, orderId: string, report: VenueReport, how: Acceptance, nowMs: number, backstopAt = nowMs): OrderRow[] {
  const found = store.order(orderId);
  if (!found) return [];
  // An amend waiting for the venue is settled first: fills in this report come after it.
  let stored = found.pending_amend === null ? found : settleAmend(store, found, report, nowMs, how.kind === "amend");
  // An exit the venue reduced as its sibling filled (one cancels other): the reservation went with the
  // sibling's fill already (shareGroupReservation), so only the figures follow.
  const t = report.terms;
  if (stored.oco_group !== null && stored.pending_amend === null && report.state === "WORKING" && t !== undefined && t.quantity < stored.quantity && t.quantity > stored.filled_quantity && !isFinalStatus(stored.status)) {
    stored = store.updateOrder(stored.id, {
      quantity: t.quantity, reserved_qty: Math.min(stored.reserved_qty, Math.max(0, t.quantity - stored.filled_quantity)), updated_at: iso(nowMs),
    });
  }
  const steps = reconcile(
    {
      quantity: stored.quantity, status: stored.status, filledQuantity: stored.filled_quantity, attempt: stored.attempt,
      knownFillIds: isFinalStatus(stored.status) ? store.seenExecutionIds(orderId) : stored.filled_quantity > 0 ? store.fillIds(orderId) : new Set<string>(),
      triggered: stored.triggered_at !== null,
    },
    report,
    how,
  );
  const draft: OrderDraft = { row: stored, patch: {} };
  // A trailing stop's stop moves with its mark at the venue: the order shows where it stands.
  if (stored.order_type === "TRAILING_STOP" && t?.hwmCents != null && (t.hwmCents !== stored.hwm_cents || t.stopCents !== stored.stop_cents)) {
    change(draft, { hwm_cents: t.hwmCents, stop_cents: t.stopCents, updated_at: iso(nowMs) });
  }
  for (const step of steps) applyStep(store, draft, step, nowMs);
  const settled = isFinalStatus(draft.row.status);
  const acked = how.kind !== "none" && report.state !== "REJECTED";
  if (settled || acked) {
    change(draft, { venue_stage: "ACKED", next_attempt_at: null, expires_at: settled ? null : draft.row.expires_at, updated_at: iso(nowMs) });
  }
  const after = Object.keys(draft.patch).length > 0 ? store.updateOrder(orderId, draft.patch) : draft.row;
  if (after.parent_order_id !== null) {
    // An exit now at the venue (its send acknowledged, its amend settled) grows to what its entry filled
    // meanwhile: a growth that waited for it is made now.
    const parent = isFinalStatus(after.status) || after.venue_stage !== "ACKED" || after.pending_amend !== null ? undefined : store.order(after.parent_order_id);
    return parent && parent.order_class !== "oco" ? activateLegs(store, parent, nowMs, backstopAt) : [];
  }
  if (after.order_class === "simple") return [];
  // A bracket or oto entry that filled (even partly) brings its exits alive for what it has filled; one that
  // ended before it filled (cancelled, rejected, expired, given up) takes its HELD exits with it, whatever ended it.
  const activated = steps.some((step) => step.kind === "fill") ? activateLegs(store, after, nowMs, backstopAt) : [];
  if (isFinalStatus(after.status)) {
    for (const leg of store.legsOf(after.id)) {
      if (leg.status === "HELD") cancelHeld(store, leg, `Parent order ${after.id} ${after.status.toLowerCase()} before it filled`, nowMs);
    }
  }
  return activated;
}

function applyStep(store: DeskStore, draft: OrderDraft, step: Step, nowMs: number): void {
  const at = iso(nowMs);
  if (step.kind === "log") {
    store.record(draft.row, step.audit, step.event, nowMs);
    return;
  }
  if (step.kind === "trigger") {
    change(draft, { triggered_at: at, updated_at: at });
    store.record(draft.row, { ...step.audit, reason: triggerReason(draft.row) }, step.event, nowMs);
    return;
  }
  if (step.kind === "fill") {
    const { fill } = step;
    const order = draft.row;
    const last = step.status === "FILLED"; // the last fill also gives back whatever is still reserved
    const effect = fillEffect(order, store.position(order.symbol), fill, last);
    if (order.oco_group !== null) shareGroupReservation(store, order, fill, at);
    store.insertFill(
      { id: fill.id, order_id: order.id, quantity: fill.quantity, price_cents: fill.priceCents, realized_pl_micros: effect.realizedMicros, timestamp: fill.timestamp },
      order,
    );
    applyLedger(store, draft, effect, at);
    change(draft, {
      status: step.status, filled_quantity: order.filled_quantity + fill.quantity,
      filled_notional_cents: order.filled_notional_cents + fill.quantity * fill.priceCents, updated_at: at,
    });
    store.record(draft.row, step.audit, step.event, nowMs, { quantity: fill.quantity, priceCents: fill.priceCents, id: fill.id });
    return;
  }
  if (step.kind === "unbooked") {
    const { fill } = step;
    const order = draft.row;
    if (store.keepUnbooked({ id: fill.id, order_id: order.id, quantity: fill.quantity, price_cents: fill.priceCents, timestamp: fill.timestamp })) {
      console.error(`desk ${order.trader_id}: order ${order.id} (${order.status}) executed at the venue after it ended, not booked: ${fill.quantity} ${order.symbol} at ${fill.priceCents} cents, fill ${fill.id}`);
      store.record(order, step.audit, null, nowMs);
    }
    return;
  }
  change(draft, { status: step.status, reason: step.reason, updated_at: at });
  const release = releaseEffect(draft.row);
  if (release) applyLedger(store, draft, release, at);
  store.record(draft.row, step.audit, step.event, nowMs);
}

function applyLedger(store: DeskStore, draft: OrderDraft, effect: LedgerEffect, at: string): void {
  if (effect.cashDelta !== 0 || effect.reservedCashDelta !== 0) store.adjustAccount(effect.cashDelta, effect.reservedCashDelta, at);
  const position = effect.position;
  if (position?.holding) store.setHolding(draft.row.symbol, position.holding, position.reservedDelta);
  else if (position && position.reservedDelta !== 0) store.reserveShares(draft.row.symbol, position.reservedDelta);
  if (effect.order.reserved_cents !== draft.row.reserved_cents || effect.order.reserved_qty !== draft.row.reserved_qty) change(draft, effect.order);
}

function change(draft: OrderDraft, patch: OrderPatch): void {
  Object.assign(draft.patch, patch);
  draft.row = { ...draft.row, ...patch } as OrderRow; // a patch names only columns it sets, never undefined
}

/** What a triggered stop does next (SPEC, "A triggered stop is a market order"). */
function triggerReason(order: OrderRow): string {
  const stop = order.stop_cents === null ? "" : ` at ${formatUsd(order.stop_cents)}`;
  return order.order_type === "STOP_LIMIT" && order.limit_cents !== null
    ? `Stop${stop} reached; working as a limit order at ${formatUsd(order.limit_cents)} for the remaining shares`
    : `Stop${stop} reached; working as a market order for the remaining shares`;
}

const iso = (ms: number) => new Date(ms).toISOString();
