// The promises the drill checks, as pure functions over what it collected: each returns pass/fail, the
// counts behind it, and the first few violations with enough detail to find them. This file holds the
// order-level ones and the list; ledgers.ts (money and D1), portfolio.ts (account.updated, the activity
// ledger), stops.ts (stops and gaps), management.ts (amends, cancel-all, closes), trail.ts (events, audit,
// faults), legs.ts (contingent orders, positions never negative) and trailing.ts (trailing stops) the rest.
import { cents, FINAL } from "./api.ts";
import { allOrders, Check, sum, type DrillEvidence, type Invariant } from "./check.ts";
import { accountsReconcile, d1ExactlyOnce } from "./ledgers.ts";
import { exitsWithinEntry, legsFinalWhenFlat, positionsNeverNegative } from "./legs.ts";
import { amends, cancelAllAndClose } from "./management.ts";
import { accountStream, activitiesLedger } from "./portfolio.ts";
import { stopsTriggered } from "./stops.ts";
import { auditChain, eventsDelivered, eventsMatchAudit, faultsExercised } from "./trail.ts";
import { trailingStops } from "./trailing.ts";

export type { DrillEvidence, Invariant } from "./check.ts";

export function acknowledged(e: DrillEvidence): Invariant {
  const c = new Check("acknowledged", "Every acknowledged order reached a final or working state");
  const desk = new Map(allOrders(e.state).map(({ order }) => [order.id, order]));
  const acked = e.submits.filter((s) => s.orderId !== null);
  c.add("submitted", e.submits.length);
  c.add("acknowledged (201)", acked.length);
  c.add("refused at submit (4xx)", e.submits.filter((s) => s.orderId === null && s.status >= 400 && s.status < 500).length);
  c.add("no answer after retries", e.submits.filter((s) => s.orderId === null && (s.status === 0 || s.status >= 500)).length);
  c.add("submits retried", e.submits.filter((s) => s.tries > 1).length);
  c.add("re-priced from the reference price a 400 named", e.submits.filter((s) => s.repriced > 0).length);
  for (const s of acked) {
    const o = desk.get(s.orderId!);
    if (!o) c.fail(`${s.trader}: order ${s.orderId} was acknowledged (201) but the desk does not have it`);
    else c.add(o.status);
  }
  const ackedIds = new Set(acked.map((s) => s.orderId));
  c.add("created without a 201 reaching the client", [...desk.keys()].filter((id) => !ackedIds.has(id)).length);
  const byClientId = new Map<string, number>();
  for (const o of desk.values()) if (o.client_order_id) byClientId.set(o.client_order_id, (byClientId.get(o.client_order_id) ?? 0) + 1);
  for (const [id, n] of byClientId) c.expect(n === 1, () => `client_order_id ${id} made ${n} orders (a retried submit duplicated)`);
  c.add("still working after the final cancels", e.settle.workingLeft);
  c.expect(e.settle.quiet, () => "orders were still changing when the drill stopped waiting for quiet (an order retrying without end?)");
  c.expect(e.settle.workingLeft === 0, () => `${e.settle.workingLeft} order(s) still working after ${e.settle.cancelRounds} round(s) of cancels`);
  return c.done();
}

export function noDoubleExecution(e: DrillEvidence): Invariant {
  const c = new Check("no-double-execution", "No order has two venue executions (venue ledger per key vs the desk's order)");
  const all = allOrders(e.state);
  const byId = new Map(all.map((x) => [x.order.id, x]));
  const desk = new Map(all.map(({ order }) => [order.id, order]));
  // A leg cancelled while HELD never went to the venue (it is sent when it is ACTIVATED).
  const neverSent = new Set(all.filter(({ trader, order: o }) => o.parent_order_id && o.status === "CANCELLED" && !(trader.audit.get(o.id) ?? []).some((a) => a.action === "ACTIVATED")).map(({ order }) => order.id));
  const venueByOrder = new Map<string, typeof e.state.venue>();
  for (const row of e.state.venue) venueByOrder.set(row.order_id, [...(venueByOrder.get(row.order_id) ?? []), row]);
  c.add("venue orders", e.state.venue.length);
  c.add("venue executions with fills", e.state.venue.filter((r) => r.fills > 0).length);
  // Alpaca: a pair of exits sent as one oco order, its stop-loss the order's leg (alpaca-ledger.ts reads it as the stop-loss's chain).
  if (e.venue === "alpaca-fake") c.add("stop-losses sent as the leg of an Alpaca oco order", e.state.venue.filter((r) => (r.ocoLegOf ?? null) !== null).length);
  for (const [orderId, rows] of venueByOrder) {
    c.expect(rows.length === 1, () => `order ${orderId} is ${rows.length} orders at the venue (keys ${rows.map((r) => r.key).join(", ")})`);
    for (const r of rows) for (const p of r.problems ?? []) c.fail(`order ${orderId}: ${p}`);
    if (!desk.has(orderId)) {
      for (const r of rows) c.expect(r.filled === 0, () => `the venue executed ${r.filled} shares for key ${r.key}, an order no desk knows`);
    }
  }
  for (const [id, { order: o }] of byId) {
    const v = venueByOrder.get(o.id)?.[0];
    const ids = o.fills.map((f) => f.id);
    c.expect(new Set(ids).size === ids.length, () => `order ${o.id} holds the same fill twice: ${ids.join(", ")}`);
    if (!v) {
      c.expect(o.filled_quantity === 0, () => `order ${o.id} has ${o.filled_quantity} shares filled but the venue never had it`);
      if (neverSent.has(o.id)) c.add("legs cancelled while HELD (never sent)");
      // A venue that keeps no record of a cancel for an order it never had (Alpaca): fillwire ended it alone, which
      // is right only when a cancel of it was asked (by the drill, or by the desk for a contingent exit).
      const asked = e.cancelSentAt.has(id) || o.parent_order_id != null || (o.order_class ?? "simple") !== "simple";
      const cancelledFirst = !e.state.venueRecordsUnknownCancels && o.status === "CANCELLED" && o.filled_quantity === 0 && !neverSent.has(o.id) && asked;
      if (cancelledFirst) c.add("cancelled before the venue had it (no record there)");
      c.expect(o.status === "REJECTED" || !FINAL.has(o.status) || neverSent.has(o.id) || cancelledFirst, () =>
        `order ${o.id} is ${o.status} but the venue never had it${o.status === "CANCELLED" && !e.state.venueRecordsUnknownCancels ? " (and no cancel of it was asked)" : ""}`);
      continue;
    }
    const at = v.detail ? ` (venue: ${v.detail})` : "";
    c.expect(v.filled === o.filled_quantity, () => `order ${o.id}: the venue filled ${v.filled}, the desk ${o.filled_quantity}${at}`);
    c.expect(v.fills === o.fills.length, () => `order ${o.id}: ${v.fills} fills at the venue, ${o.fills.length} at the desk`);
    if (v.executions) {
      // The venue names its executions (Alpaca's execution ids): the desk's fills are exactly those, share for share, at their prices.
      const theirs = new Map(v.executions.map((x) => [x.id, x]));
      for (const f of o.fills) {
        const x = theirs.get(f.id);
        c.expect(x !== undefined && x.quantity === f.quantity_filled && x.priceCents === cents(f.price_at_fill), () =>
          `order ${o.id}: fill ${f.id} (${f.quantity_filled} @ ${f.price_at_fill}) is ${x ? `${x.quantity} @ ${x.priceCents / 100}` : "no execution"} at the venue (${v.key})`);
      }
    } else {
      for (const f of o.fills) c.expect(/:(\d+)$/.test(f.id) && f.id.startsWith(`${v.key}:`), () => `order ${o.id}: fill ${f.id} is not one of venue key ${v.key}`);
    }
    const compatible = v.state === o.status || (o.status === "REJECTED" && v.state === "CANCELLED" && v.filled === 0) || (!FINAL.has(o.status) && v.state === "WORKING");
    c.expect(compatible, () => `order ${o.id}: the desk says ${o.status}, the venue ${v.state}${at}`);
  }
  return c.done();
}

export function fillsSum(e: DrillEvidence): Invariant {
  const c = new Check("fills-sum", "Fills sum to filled_quantity (and FILLED means all of it)");
  for (const { order: o } of allOrders(e.state)) {
    c.add("orders");
    c.add("fills", o.fills.length);
    c.add("shares filled", o.filled_quantity);
    if (o.status === "PARTIAL" || (o.status === "CANCELLED" && o.filled_quantity > 0)) c.add("partly filled");
    const shares = sum(o.fills.map((f) => f.quantity_filled));
    c.expect(shares === o.filled_quantity, () => `order ${o.id}: fills sum to ${shares}, filled_quantity is ${o.filled_quantity}`);
    c.expect((o.status === "FILLED") === (o.filled_quantity === o.quantity), () => `order ${o.id} is ${o.status} with ${o.filled_quantity} of ${o.quantity}`);
    if (o.filled_quantity > 0) {
      const notional = sum(o.fills.map((f) => f.quantity_filled * cents(f.price_at_fill)));
      const avg = Math.round((notional / o.filled_quantity) * 100) / 10_000;
      c.expect(o.avg_fill_price === avg, () => `order ${o.id}: avg_fill_price ${o.avg_fill_price}, fills say ${avg}`);
    }
  }
  return c.done();
}

const CHECKS = [
  acknowledged, noDoubleExecution, fillsSum, accountsReconcile, accountStream, activitiesLedger, stopsTriggered, amends, cancelAllAndClose, d1ExactlyOnce,
  eventsDelivered, eventsMatchAudit, auditChain, faultsExercised, positionsNeverNegative, exitsWithinEntry, legsFinalWhenFlat, trailingStops,
];

/** The ids of the invariants, in the order checkAll returns them. */
export const INVARIANT_IDS = [
  "acknowledged", "no-double-execution", "fills-sum", "accounts-reconcile", "account-stream", "activities-ledger", "stops-triggered", "amends",
  "cancel-all-and-close", "d1-exactly-once", "events-delivered", "events-match-audit", "audit-chain", "faults-exercised",
  "positions-never-negative", "exits-within-entry", "legs-final-when-flat", "trailing-stops",
] as const;

export function checkAll(e: DrillEvidence): Invariant[] {
  return CHECKS.map((f) => f(e));
}
