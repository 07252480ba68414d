// Pre-trade risk: pure checks over the request, the venue's quote and the trader's balances. It decides
// what the order reserves (cash for a BUY, shares for a SELL) and the market protection it carries.
import type { DeskConfig } from "../config";
import { fail, type Failure } from "../shared/errors";
import { formatUsd, toCents, toDollars } from "../shared/money";
import type { OrderRequest } from "../shared/orders";
import type { Quote } from "../venue/adapter";

export interface Balances {
  cashCents: number;
  reservedCents: number;
  /** Shares held in this symbol, and those already promised to working SELL orders. */
  heldQuantity: number;
  reservedQuantity: number;
}

export interface Approval {
  limitCents: number | null;
  stopCents: number | null;
  protectCents: number | null;
  maxCostCents: number | null;
  reservedCents: number;
  reservedQuantity: number;
}

type RiskConfig = Pick<DeskConfig, "priceBandPct" | "maxOrderQuantity" | "maxOrderNotionalCents">;

const bandOf = (cents: number, pct: number) => Math.floor((cents * pct) / 100);

export function checkRisk(order: OrderRequest, quote: Quote | null, balances: Balances, config: RiskConfig): Approval | Failure {
  if (!quote) {
    return fail("UNKNOWN_SYMBOL", `Unknown symbol ${order.symbol}: GET /api/v1/instruments lists the symbols you can trade`, { symbol: order.symbol });
  }
  if (!quote.tradable) {
    return fail("SYMBOL_NOT_TRADABLE", `${order.symbol} is not tradable right now`, { symbol: order.symbol });
  }
  if (order.quantity > config.maxOrderQuantity) {
    return fail("ORDER_TOO_LARGE", `Order of ${order.quantity} shares exceeds the maximum of ${config.maxOrderQuantity} shares per order`, {
      quantity: order.quantity, max_quantity: config.maxOrderQuantity,
    });
  }

  const ref = quote.priceCents;
  const band = bandOf(ref, config.priceBandPct);
  const limitCents = order.price === undefined ? null : toCents(order.price)!;
  const stopCents = order.stop_price === undefined ? null : toCents(order.stop_price)!;
  for (const [field, cents] of [["price", limitCents], ["stop_price", stopCents]] as const) {
    if (cents !== null && Math.abs(cents - ref) > band) {
      return fail(
        "PRICE_OUT_OF_BAND",
        `${field} ${formatUsd(cents)} is more than ${config.priceBandPct}% away from the ${order.symbol} reference price ${formatUsd(ref)}; allowed ${formatUsd(ref - band)} to ${formatUsd(ref + band)}`,
        { field, price: toDollars(cents), reference_price: toDollars(ref), min_price: toDollars(ref - band), max_price: toDollars(ref + band) },
      );
    }
  }

  // The seed's rule: the limit price, else the stop (for a stop order), else the reference price.
  const unitCents = limitCents ?? stopCents ?? ref;
  const estimateCents = order.quantity * unitCents;
  if (estimateCents > config.maxOrderNotionalCents) {
    return fail("ORDER_TOO_LARGE", `Order value ${formatUsd(estimateCents)} exceeds the maximum of ${formatUsd(config.maxOrderNotionalCents)} per order`, {
      order_value: toDollars(estimateCents), max_order_value: toDollars(config.maxOrderNotionalCents),
    });
  }

  const marketLike = order.order_type === "MARKET" || order.order_type === "STOP";
  const protectBase = stopCents ?? ref;
  const protectCents = marketLike
    ? order.side === "BUY" ? protectBase + bandOf(protectBase, config.priceBandPct) : Math.max(1, protectBase - bandOf(protectBase, config.priceBandPct))
    : null;

  if (order.side === "BUY") {
    const available = balances.cashCents - balances.reservedCents;
    if (estimateCents > available) {
      return fail("INSUFFICIENT_FUNDS", `Insufficient funds for ${formatUsd(estimateCents)} order; available: ${formatUsd(available)}`, {
        required_balance: toDollars(estimateCents), available_balance: toDollars(available),
      });
    }
    // A market-like BUY reserves up to its protection price when the cash is there, never less than the estimate.
    const reservedCents = marketLike ? Math.max(estimateCents, Math.min(available, order.quantity * protectCents!)) : estimateCents;
    return { limitCents, stopCents, protectCents, maxCostCents: marketLike ? reservedCents : null, reservedCents, reservedQuantity: 0 };
  }

  const availableShares = balances.heldQuantity - balances.reservedQuantity;
  if (order.quantity > availableShares) {
    return fail(
      "INSUFFICIENT_POSITION",
      `Insufficient position: selling ${order.quantity} ${order.symbol} but only ${availableShares} available (held ${balances.heldQuantity}, ${balances.reservedQuantity} promised to working orders)`,
      { requested_quantity: order.quantity, available_quantity: availableShares, held_quantity: balances.heldQuantity },
    );
  }
  return { limitCents, stopCents, protectCents, maxCostCents: null, reservedCents: 0, reservedQuantity: order.quantity };
}
