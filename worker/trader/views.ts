// Desk rows to the API's shapes: cents become dollars here and nowhere else.
import type { OrderEvent, OrderEventName } from "../shared/events";
import type { AuditEntry, Fill, Order, OrderWithFills } from "../shared/orders";
import { toDollars } from "../shared/money";
import type { AuditRow, FillRow, OrderRow } from "./schema";

const dollarsOrNull = (cents: number | null) => (cents === null ? null : toDollars(cents));
/** Average prices keep four decimals: 50 @ 150.00 and 50 @ 150.05 average 150.025. */
/** Micro-dollars to dollars rounded to cents (P&L in JSON). */
export const microsToDollars = (micros: number) => (Math.sign(micros) * Math.round(Math.abs(micros) / 10_000)) / 100 || 0; // half away from zero
export const avgPrice = (notionalCents: number, quantity: number) => (quantity > 0 ? Math.round((notionalCents / quantity) * 100) / 10_000 : null);

export function toOrder(row: OrderRow, traderId: string): Order {
  return {
    id: row.id,
    trader_id: traderId,
    client_order_id: row.client_order_id,
    symbol: row.symbol,
    side: row.side,
    quantity: row.quantity,
    order_type: row.order_type,
    price: dollarsOrNull(row.limit_cents),
    stop_price: dollarsOrNull(row.stop_cents),
    trail_price: dollarsOrNull(row.trail_cents),
    trail_percent: row.trail_bp === null ? null : row.trail_bp / 100,
    hwm: dollarsOrNull(row.hwm_cents),
    time_in_force: row.tif,
    status: row.status,
    filled_quantity: row.filled_quantity,
    avg_fill_price: avgPrice(row.filled_notional_cents, row.filled_quantity),
    reason: row.reason,
    created_at: row.created_at,
    updated_at: row.updated_at,
    amended_at: row.amended_at,
    triggered_at: row.triggered_at,
    order_class: row.order_class,
    parent_order_id: row.parent_order_id,
  };
}

export function toFill(row: FillRow): Fill {
  return { id: row.id, order_id: row.order_id, quantity_filled: row.quantity, price_at_fill: toDollars(row.price_cents), timestamp: row.timestamp };
}

export function toOrderWithFills(row: OrderRow, fillRows: FillRow[], traderId: string): OrderWithFills {
  return { ...toOrder(row, traderId), fills: fillRows.map(toFill) };
}

export function toAuditEntry(row: AuditRow, traderId: string): AuditEntry {
  return {
    id: row.id,
    order_id: row.order_id,
    trader_id: traderId,
    action: row.action as AuditEntry["action"],
    status: row.status as AuditEntry["status"],
    timestamp: row.timestamp,
    reason: row.reason,
    error_code: row.error_code,
    retry_attempt: row.retry_attempt,
    parent_order_id: row.parent_order_id,
  };
}

/** A fill as an event reports it: this fill's shares, price (cents) and id. */
export interface FillNote {
  quantity: number;
  priceCents: number;
  id: string;
}

/** The wire event for a step of an order, under the trader's next `seq`. */
export function toEvent(event: OrderEventName, seq: number, order: OrderRow, reason: string | null, timestamp: string, fill?: FillNote): OrderEvent {
  return {
    event, seq, order_id: order.id, status: order.status, symbol: order.symbol, side: order.side, order_type: order.order_type,
    quantity: order.quantity, filled_quantity: order.filled_quantity, avg_fill_price: avgPrice(order.filled_notional_cents, order.filled_quantity),
    quantity_filled: fill?.quantity ?? null, price_at_fill: fill ? fill.priceCents / 100 : null, fill_id: fill?.id ?? null,
    price: fill ? fill.priceCents / 100 : order.limit_cents === null ? null : order.limit_cents / 100,
    stop_price: order.stop_cents === null ? null : order.stop_cents / 100,
    time_in_force: order.tif,
    parent_order_id: order.parent_order_id,
    reason, timestamp,
  };
}
