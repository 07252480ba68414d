// The ledger: what a fill or a release does to the trader's cash, reservations and position, as plain
// functions over rows. Cash in integer cents; positions at average cost in micro-dollars (1e-6 $), so a
// sale takes out exactly avg x shares and leaves the average of the rest unchanged, however many partial
// sales follow (SPEC, "Average cost does not drift"); a sale's realized P&L is (price - avg) x shares.
import type { OrderRow, PositionRow } from "./schema";

export const MICROS_PER_CENT = 10_000;

/** The part of a position the ledger moves: shares, average cost and realized P&L (micro-dollars). */
export interface Holding {
  quantity: number;
  avg_price_micros: number;
  realized_pl_micros: number;
}

export const NO_HOLDING: Holding = { quantity: 0, avg_price_micros: 0, realized_pl_micros: 0 };

/** Deltas to apply: the account (cents), the position (its new holding, reserved shares), the order's reserves. */
export interface LedgerEffect {
  cashDelta: number;
  reservedCashDelta: number;
  position: { holding: Holding | null; reservedDelta: number } | null;
  order: Pick<OrderRow, "reserved_cents" | "reserved_qty">;
  /** A sale's realized P&L in micro-dollars (null for a buy or a release). */
  realizedMicros: number | null;
}

/** a x b / c rounded half away from zero, exact for any safe integers (BigInt inside). */
function mulDivRound(a: number, b: number, c: number): number {
  const n = BigInt(a) * BigInt(b);
  const d = BigInt(c);
  const q = (2n * (n < 0n ? -n : n) + d) / (2n * d);
  return Number(n < 0n ? -q : q);
}

/** Buying `quantity` at `priceCents`: the average blends, rounded to the micro-dollar; realized P&L is untouched. */
export function afterBuy(h: Holding, quantity: number, priceCents: number): Holding {
  const held = Math.max(0, h.quantity);
  const total = held + quantity;
  const costMicros = BigInt(h.avg_price_micros) * BigInt(held) + BigInt(priceCents * MICROS_PER_CENT) * BigInt(quantity);
  const avg = Number((2n * costMicros + BigInt(total)) / (2n * BigInt(total)));
  return { quantity: total, avg_price_micros: avg, realized_pl_micros: h.realized_pl_micros };
}

/** Selling `quantity` at `priceCents`: the average stays, the realized P&L grows by (price - avg) x shares. */
export function afterSale(h: Holding, quantity: number, priceCents: number): { holding: Holding; realizedMicros: number } {
  const realizedMicros = (priceCents * MICROS_PER_CENT - h.avg_price_micros) * quantity;
  const left = h.quantity - quantity;
  return {
    holding: { quantity: left, avg_price_micros: left > 0 ? h.avg_price_micros : 0, realized_pl_micros: h.realized_pl_micros + realizedMicros },
    realizedMicros,
  };
}

/** The cost basis in cents: avg x shares, rounded to the cent (D1 keeps it for the seed's SQL). */
export function costBasisCents(h: Pick<Holding, "quantity" | "avg_price_micros">): number {
  return mulDivRound(h.avg_price_micros, h.quantity, MICROS_PER_CENT);
}

/** A holding opened by an admin at `avgPriceCents` a share. */
export function openingHolding(quantity: number, avgPriceCents: number): Holding {
  return { quantity, avg_price_micros: avgPriceCents * MICROS_PER_CENT, realized_pl_micros: 0 };
}

/**
 * One fill of `order`: a BUY pays its value and gives back as much of its reservation (all of it on the
 * last fill); a SELL receives its value, takes the shares out at their average cost, and lets go of the
 * shares it had promised.
 */
export function fillEffect(order: OrderRow, held: PositionRow | undefined, fill: { quantity: number; priceCents: number }, last: boolean): LedgerEffect {
  const value = fill.quantity * fill.priceCents;
  const holding = held ?? NO_HOLDING;
  if (order.side === "BUY") {
    const released = last ? order.reserved_cents : Math.min(value, order.reserved_cents);
    return {
      cashDelta: -value, reservedCashDelta: -released,
      position: { holding: afterBuy(holding, fill.quantity, fill.priceCents), reservedDelta: 0 },
      order: { reserved_cents: order.reserved_cents - released, reserved_qty: order.reserved_qty },
      realizedMicros: null,
    };
  }
  const sale = afterSale(holding, fill.quantity, fill.priceCents);
  const stillReserved = Math.max(0, order.reserved_qty - fill.quantity);
  return {
    cashDelta: value, reservedCashDelta: 0,
    position: { holding: sale.holding, reservedDelta: -fill.quantity - (last ? stillReserved : 0) },
    order: { reserved_cents: order.reserved_cents, reserved_qty: last ? 0 : stillReserved },
    realizedMicros: sale.realizedMicros,
  };
}

/** A finished order gives back whatever it still holds in reserve (cash for a BUY, shares for a SELL). */
export function releaseEffect(order: OrderRow): LedgerEffect | null {
  if (order.reserved_cents === 0 && order.reserved_qty === 0) return null;
  return {
    cashDelta: 0, reservedCashDelta: -order.reserved_cents,
    position: order.reserved_qty > 0 ? { holding: null, reservedDelta: -order.reserved_qty } : null,
    order: { reserved_cents: 0, reserved_qty: 0 },
    realizedMicros: null,
  };
}
