// The exits of a contingent order (SPEC, "Trailing and contingent orders"): where their prices may stand
// and what they hold in reserve. A BUY entry's exits SELL what it bought: the take-profit above the entry,
// the stop-loss below, the shares reserved once for the pair when they come alive. A SELL entry's exits BUY
// the shares back, mirrored: the take-profit below the entry, the stop-loss above, and the cash to buy them
// back reserved once for the pair as the order is placed (the larger of the two exits' needs).
import type { DeskConfig } from "../config";
import { fail, type Failure } from "../shared/errors";
import { formatUsd, toCents, toDollars } from "../shared/money";
import type { OrderRequest, OrderType, Side } from "../shared/orders";

export { exitRules };
import { checkStopSide, checkTick, exitRules } from "../shared/price-rules";
import type { Quote } from "../venue/adapter";
import { checkRisk, type Balances } from "./risk";

/** One exit of a contingent order: its kind, side and terms, and what it reserves (cents) when placed. */
export interface LegPlan {
  kind: "take_profit" | "stop_loss";
  side: Side;
  orderType: Extract<OrderType, "LIMIT" | "STOP" | "STOP_LIMIT">;
  limitCents: number | null;
  stopCents: number | null;
  /** A BUY exit: the cash the pair holds for buying back (on one leg only), and its own spending bounds. */
  reservedCents: number;
  protectCents: number | null;
  maxCostCents: number | null;
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
 * The exits of a contingent request, their prices checked against the entry (its limit, or the reference
 * price for a MARKET entry and for an oco): for a BUY entry the take-profit above and the stop-loss below,
 * mirrored for a SELL entry; each on the tick and within the band. A failure names the leg's field
 * (take_profit.limit_price, stop_loss.stop_price ...). An oco is the two SELL exits of shares held.
 */
export function planLegs(request: OrderRequest, quote: Quote, entryLimitCents: number | null, bandPct: number): LegPlan[] | Failure {
  if (request.order_class === "simple") return [];
  const ref = quote.priceCents;
  const oco = request.order_class === "oco";
  const basis = oco ? ref : (entryLimitCents ?? ref);
  const rules = oco ? exitRules("BUY") : exitRules(request.side);
  const none = { reservedCents: 0, protectCents: null, maxCostCents: null };
  const legs: LegPlan[] = [];
  const checks: [field: string, cents: number, mustBe: "above" | "below" | null][] = [];
  if (request.take_profit) {
    const limit = toCents(request.take_profit.limit_price)!;
    if (!oco) legs.push({ kind: "take_profit", side: rules.side, orderType: "LIMIT", limitCents: limit, stopCents: null, ...none });
    checks.push(["take_profit.limit_price", limit, rules.takeProfit]);
  }
  if (request.stop_loss) {
    const stop = toCents(request.stop_loss.stop_price)!;
    const limit = request.stop_loss.limit_price === undefined ? null : toCents(request.stop_loss.limit_price)!;
    legs.push({ kind: "stop_loss", side: rules.side, orderType: limit === null ? "STOP" : "STOP_LIMIT", limitCents: limit, stopCents: stop, ...none });
    checks.push(["stop_loss.stop_price", stop, rules.stopLoss]);
    if (limit !== null) checks.push(["stop_loss.limit_price", limit, null]);
  }
  for (const [field, cents, mustBe] of checks) {
    const wrong = checkLegPrice(field, cents, mustBe, basis, quote, bandPct, request.symbol);
    if (wrong) return wrong;
  }
  const stop = legs.find((l) => l.kind === "stop_loss");
  if (oco && stop?.stopCents != null) {
    const wrongSide = checkStopSide("SELL", stop.orderType, stop.stopCents, ref, request.symbol);
    if (wrongSide) return wrongSide;
  }
  return legs;
}

const PRICES_JUDGED: ReadonlySet<"price" | "stop_price"> = new Set(["price", "stop_price"]);

/**
 * The cash a SELL entry's BUY exits hold to buy its `quantity` back, checked and split: each exit is funded
 * as a BUY order of its own would be (a STOP up to the band above its stop), and the pair reserves the larger
 * need once, on its take-profit (else its only exit). SELL exits reserve nothing here (their shares are
 * reserved as they come alive). 400 INSUFFICIENT_FUNDS names the exit the cash falls short for.
 */
export function fundExits(legs: LegPlan[], request: OrderRequest, quote: Quote, balances: Balances, config: Pick<DeskConfig, "priceBandPct" | "maxOrderQuantity" | "maxOrderNotionalCents">): LegPlan[] | Failure {
  if (legs.length === 0 || legs[0]!.side === "SELL") return legs;
  const funded: LegPlan[] = [];
  for (const leg of legs) {
    const asOrder: OrderRequest = {
      symbol: request.symbol, side: "BUY", order_type: leg.orderType, quantity: request.quantity, time_in_force: request.time_in_force, order_class: "simple",
      ...(leg.limitCents !== null ? { price: toDollars(leg.limitCents) } : {}), ...(leg.stopCents !== null ? { stop_price: toDollars(leg.stopCents) } : {}),
    };
    const approval = checkRisk(asOrder, quote, balances, config, PRICES_JUDGED);
    if ("ok" in approval) {
      if (approval.code !== "INSUFFICIENT_FUNDS") return approval;
      return fail("INSUFFICIENT_FUNDS", `${approval.message}: the ${leg.kind.replace("_", "-")} exit buys the ${request.quantity} shares back, and its cash is reserved as the order is placed`, { ...approval.details, leg: leg.kind });
    }
    funded.push({ ...leg, reservedCents: approval.reservedCents, protectCents: approval.protectCents, maxCostCents: approval.maxCostCents });
  }
  const pair = Math.max(...funded.map((l) => l.reservedCents));
  const keeper = funded.find((l) => l.kind === "take_profit") ?? funded[0]!;
  return funded.map((l) => ({ ...l, reservedCents: l === keeper ? pair : 0 }));
}
