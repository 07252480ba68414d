// Desk rows to the API's shapes: cents become dollars here and nowhere else.
import type { AuditEntry, Account, Fill, Order, OrderWithFills } from "../shared/orders";
import { toDollars } from "../shared/money";
import type { AccountRow, AuditRow, FillRow, OrderRow, PositionRow } from "./store";
import type { OutboxRows } from "./outbox";

const dollarsOrNull = (cents: number | null) => (cents === null ? null : toDollars(cents));
/** Average prices keep four decimals: 50 @ 150.00 and 50 @ 150.05 average 150.025. */
const avgPrice = (notionalCents: number, quantity: number) => (quantity > 0 ? Math.round((notionalCents / quantity) * 100) / 10_000 : null);

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
    time_in_force: row.tif,
    status: row.status,
    filled_quantity: row.filled_quantity,
    avg_fill_price: avgPrice(row.filled_notional_cents, row.filled_quantity),
    reason: row.reason,
    created_at: row.created_at,
    updated_at: row.updated_at,
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
  };
}

export function toAccount(row: AccountRow, held: PositionRow[]): Account {
  return {
    trader_id: row.trader_id,
    cash: toDollars(row.cash_cents),
    reserved: toDollars(row.reserved_cents),
    buying_power: toDollars(row.cash_cents - row.reserved_cents),
    positions: held
      .filter((p) => p.quantity !== 0)
      .map((p) => ({ symbol: p.symbol, quantity: p.quantity, avg_price: avgPrice(p.cost_cents, p.quantity) ?? 0 })),
  };
}

// ---- the same rows as D1 writes them (outbox records)

export function d1Order(row: OrderRow, traderId: string): OutboxRows["order"] {
  return {
    id: row.id, traderId, clientOrderId: row.client_order_id, symbol: row.symbol, side: row.side, quantity: row.quantity,
    orderType: row.order_type, limitPriceCents: row.limit_cents, stopPriceCents: row.stop_cents, timeInForce: row.tif,
    status: row.status, filledQuantity: row.filled_quantity, filledNotionalCents: row.filled_notional_cents,
    avgFillPrice: avgPrice(row.filled_notional_cents, row.filled_quantity), reason: row.reason, createdAt: row.created_at,
    updatedAt: row.updated_at, version: row.version,
  };
}

export function d1Fill(row: FillRow, order: OrderRow, traderId: string): OutboxRows["fill"] {
  return {
    id: row.id, orderId: row.order_id, traderId, symbol: order.symbol, side: order.side, quantityFilled: row.quantity,
    priceAtFill: toDollars(row.price_cents), priceCents: row.price_cents, timestamp: row.timestamp,
  };
}

export function d1Log(row: AuditRow, traderId: string): OutboxRows["log"] {
  return {
    id: row.id, orderId: row.order_id, traderId, chainSeq: row.chain_seq, symbol: row.symbol, side: row.side,
    action: row.action, status: row.status, timestamp: row.timestamp, reason: row.reason, errorCode: row.error_code,
    retryAttempt: row.retry_attempt, prevHash: row.prev_hash, hash: row.hash,
  };
}

export function d1Account(row: AccountRow, now: string): OutboxRows["account"] {
  return { traderId: row.trader_id, cashCents: row.cash_cents, reservedCents: row.reserved_cents, version: row.version, createdAt: row.created_at, updatedAt: now };
}

export function d1Position(row: PositionRow, traderId: string): OutboxRows["position"] {
  return { traderId, symbol: row.symbol, quantity: row.quantity, costCents: row.cost_cents, version: row.version };
}
