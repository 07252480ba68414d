// Amending an exit that is still HELD (issue 12: "Amending a leg works"): it is not at the venue yet, so
// the desk changes its prices alone, checked as at placement (exits.ts), and it stays HELD. A live exit is
// amended at the venue like any order (amendment.ts). Plain functions; the writing one runs inside
// the caller's atomically().
import type { DeskConfig } from "../config";
import { fail, type Failure } from "../shared/errors";
import { toCents, toDollars } from "../shared/money";
import { isFinalStatus, type AmendRequest, type OrderRequest } from "../shared/orders";
import type { Quote } from "../venue/adapter";
import { describeAmend, type AmendPlan } from "./amendment";
import { checkLegPrice, exitRules } from "./exits";
import { audit } from "./lifecycle";
import { checkRisk, type Balances } from "./risk";
import type { OrderRow } from "./schema";
import type { DeskStore } from "./store";

/** For a BUY exit's new terms: the balances, and the cash its pair reserves between its legs (cents). */
export interface ExitFunding {
  balances: Balances;
  pairReservedCents: number;
  config: Pick<DeskConfig, "priceBandPct" | "maxOrderQuantity" | "maxOrderNotionalCents">;
}

/**
 * The new prices of an exit's amend (HELD or live), checked as at placement: a BUY entry's take-profit above
 * the entry price and its stop-loss below (mirrored for a SELL entry; an oco's exits against the reference
 * price), on the tick and within the band; the failure names the amend's field (price, stop_price).
 * `parent` is the exit's entry (for an oco's take-profit, the order itself).
 */
export function checkExitAmend(exit: OrderRow, parent: OrderRow, changes: AmendRequest, quote: Quote, bandPct: number): Failure | null {
  const oco = parent.order_class === "oco";
  const basis = oco ? quote.priceCents : (parent.limit_cents ?? quote.priceCents);
  const rules = exitRules(oco ? "BUY" : parent.side);
  const takeProfit = exit.order_type === "LIMIT";
  if (changes.price !== undefined) {
    const wrong = checkLegPrice("price", toCents(changes.price)!, takeProfit ? rules.takeProfit : null, basis, quote, bandPct, exit.symbol);
    if (wrong) return wrong;
  }
  if (changes.stop_price !== undefined) return checkLegPrice("stop_price", toCents(changes.stop_price)!, rules.stopLoss, basis, quote, bandPct, exit.symbol);
  return null;
}

/**
 * A new price for a bracket's or oto's entry keeps its working exits on their sides of it: a BUY entry below
 * its take-profit and above its stop-loss (mirrored for a SELL). 400 naming price, with the exit it crosses.
 */
export function checkEntryAmend(entry: OrderRow, exits: OrderRow[], changes: AmendRequest): Failure | null {
  if (changes.price === undefined) return null;
  const cents = toCents(changes.price)!;
  const rules = exitRules(entry.side);
  for (const exit of exits) {
    const takeProfit = exit.order_type === "LIMIT";
    const exitCents = takeProfit ? exit.limit_cents : exit.stop_cents;
    if (exitCents === null) continue;
    const mustBe = takeProfit ? rules.takeProfit : rules.stopLoss; // where the exit sits from the entry
    if (mustBe === "above" ? exitCents > cents : exitCents < cents) continue;
    const message = `price ${toDollars(cents).toFixed(2)} would put the entry ${mustBe === "above" ? "at or above" : "at or below"} its ${takeProfit ? "take-profit" : "stop-loss"} ${exit.id} at ${toDollars(exitCents).toFixed(2)}; amend the exit first`;
    return fail("VALIDATION_ERROR", `Invalid request: ${message}`, { fields: { price: message }, leg_id: exit.id });
  }
  return null;
}

/**
 * A contingent order's amended prices stay where placement put them: an exit on its side of its entry
 * (checkExitAmend), an entry between its working exits (checkEntryAmend). null when fine, or not contingent.
 */
export function checkContingentAmend(store: DeskStore, order: OrderRow, changes: AmendRequest, quote: Quote, bandPct: number): Failure | null {
  if (order.parent_order_id !== null || order.order_class === "oco") {
    const parent = order.parent_order_id === null ? order : store.order(order.parent_order_id);
    return parent ? checkExitAmend(order, parent, changes, quote, bandPct) : null;
  }
  if (order.order_class === "simple") return null;
  return checkEntryAmend(order, store.legsOf(order.id).filter((l) => !isFinalStatus(l.status)), changes);
}

const PRICES_JUDGED: ReadonlySet<"price" | "stop_price"> = new Set(["price", "stop_price"]);

/**
 * An amend of a HELD leg, checked as its exit was at placement: a BUY entry's take-profit price above the
 * entry and its stop-loss's stop_price below it (mirrored for a SELL entry), each on the tick and within the
 * band. A leg's quantity follows its entry's fills and its time in force its entry's, so neither can be
 * amended (400 naming the field). A BUY exit whose new terms need more cash than its pair holds holds the
 * difference too (400 INSUFFICIENT_FUNDS when it is not there). Returns the new terms as an amend plan.
 */
export function planHeldLegAmend(leg: OrderRow, parent: OrderRow, changes: AmendRequest, quote: Quote, funding: ExitFunding): AmendPlan | Failure {
  const fields: Record<string, string> = {};
  if (changes.quantity !== undefined) fields.quantity = `a leg's quantity follows its entry's fills; amend the entry ${parent.id} instead`;
  if (changes.time_in_force !== undefined) fields.time_in_force = `a leg's time_in_force follows its entry ${parent.id}`;
  if (changes.price !== undefined && leg.limit_cents === null) fields.price = `price is only amendable on LIMIT and STOP_LIMIT legs, not ${leg.order_type}`;
  if (changes.stop_price !== undefined && leg.stop_cents === null) fields.stop_price = `stop_price is only amendable on STOP and STOP_LIMIT legs, not ${leg.order_type}`;
  if (changes.trail_price !== undefined || changes.trail_percent !== undefined) fields[changes.trail_price !== undefined ? "trail_price" : "trail_percent"] = `a trail is only amendable on TRAILING_STOP orders, not ${leg.order_type}`;
  if (Object.keys(fields).length > 0) return fail("VALIDATION_ERROR", `Invalid request: ${Object.values(fields).join("; ")}`, { fields });
  const limitCents = changes.price === undefined ? leg.limit_cents : toCents(changes.price)!;
  const stopCents = changes.stop_price === undefined ? leg.stop_cents : toCents(changes.stop_price)!;
  const wrong = checkExitAmend(leg, parent, changes, quote, funding.config.priceBandPct);
  if (wrong) return wrong;
  const plan: AmendPlan = {
    seq: leg.amend_seq + 1, quantity: leg.quantity, limitCents, stopCents, timeInForce: leg.tif, protectCents: leg.protect_cents, maxCostCents: leg.max_cost_cents,
    reservedCents: leg.reserved_cents, reservedQuantity: 0, heldCents: 0, heldQuantity: 0, remaining: leg.quantity,
  };
  if (leg.side === "SELL") return plan;
  // A BUY exit buys the entry's shares back: funded as a BUY of them with the new terms would be.
  const asOrder: OrderRequest = {
    symbol: leg.symbol, side: "BUY", order_type: leg.order_type, quantity: parent.quantity, time_in_force: leg.tif, order_class: "simple",
    ...(limitCents !== null ? { price: toDollars(limitCents) } : {}), ...(stopCents !== null ? { stop_price: toDollars(stopCents) } : {}),
  };
  const b = funding.balances;
  const approval = checkRisk(asOrder, quote, { ...b, reservedCents: b.reservedCents - funding.pairReservedCents }, funding.config, PRICES_JUDGED);
  if ("ok" in approval) return approval;
  const extra = Math.max(0, approval.reservedCents - funding.pairReservedCents);
  return { ...plan, protectCents: approval.protectCents, maxCostCents: approval.maxCostCents, heldCents: extra, reservedCents: leg.reserved_cents + extra };
}

/** Records a HELD leg's new terms in place (inside atomically()): REPLACED, order.replaced; it stays HELD. */
export function amendHeldLeg(store: DeskStore, leg: OrderRow, plan: AmendPlan, nowMs: number): OrderRow {
  const at = new Date(nowMs).toISOString();
  if (plan.heldCents > 0) store.adjustAccount(0, plan.heldCents, at);
  const updated = store.updateOrder(leg.id, {
    limit_cents: plan.limitCents, stop_cents: plan.stopCents, protect_cents: plan.protectCents, max_cost_cents: plan.maxCostCents,
    reserved_cents: plan.reservedCents, amend_seq: plan.seq, amended_at: at, updated_at: at,
  });
  store.record(updated, audit("REPLACED", updated.status, describeAmend(leg, plan)), "order.replaced", nowMs);
  return updated;
}
