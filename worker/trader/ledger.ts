// The ledger: what a fill or a release does to the trader's cash, reservations and position, as plain
// functions over rows. Money in integer cents; positions at average cost.
import type { OrderRow, PositionRow } from "./schema";

/** Deltas to apply: the account (cents), the position (shares, cost cents, reserved shares), the order's reserves. */
export interface LedgerEffect {
  cashDelta: number;
  reservedCashDelta: number;
  position: { quantityDelta: number; costDelta: number; reservedDelta: number } | null;
  order: Pick<OrderRow, "reserved_cents" | "reserved_qty">;
}

/**
 * One fill of `order`: a BUY pays its value and gives back as much of its reservation (all of it on the
 * last fill); a SELL receives its value, takes the shares and their average cost out of the position, and
 * lets go of the shares it had promised.
 */
export function fillEffect(order: OrderRow, held: PositionRow | undefined, fill: { quantity: number; priceCents: number }, last: boolean): LedgerEffect {
  const value = fill.quantity * fill.priceCents;
  if (order.side === "BUY") {
    const released = last ? order.reserved_cents : Math.min(value, order.reserved_cents);
    return {
      cashDelta: -value, reservedCashDelta: -released,
      position: { quantityDelta: fill.quantity, costDelta: value, reservedDelta: 0 },
      order: { reserved_cents: order.reserved_cents - released, reserved_qty: order.reserved_qty },
    };
  }
  const costOut = held && held.quantity > 0 ? Math.round((held.cost_cents * fill.quantity) / held.quantity) : 0;
  const stillReserved = Math.max(0, order.reserved_qty - fill.quantity);
  return {
    cashDelta: value, reservedCashDelta: 0,
    position: { quantityDelta: -fill.quantity, costDelta: -costOut, reservedDelta: -fill.quantity - (last ? stillReserved : 0) },
    order: { reserved_cents: order.reserved_cents, reserved_qty: last ? 0 : stillReserved },
  };
}

/** A finished order gives back whatever it still holds in reserve (cash for a BUY, shares for a SELL). */
export function releaseEffect(order: OrderRow): LedgerEffect | null {
  if (order.reserved_cents === 0 && order.reserved_qty === 0) return null;
  return {
    cashDelta: 0, reservedCashDelta: -order.reserved_cents,
    position: order.reserved_qty > 0 ? { quantityDelta: 0, costDelta: 0, reservedDelta: -order.reserved_qty } : null,
    order: { reserved_cents: 0, reserved_qty: 0 },
  };
}
