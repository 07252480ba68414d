// The desk's rows as D1 stores them (outbox records). Money stays in integer cents; the dollar columns
// D1 keeps for the seed's SQL are derived here.
import { toDollars } from "../shared/money";
import { costBasisCents } from "./ledger";
import type { OutboxRows } from "./outbox";
import type { AccountRow, FillRow, OrderRow, PositionRow } from "./schema";
import { avgPrice } from "./views";

export function d1Order(row: OrderRow, traderId: string): OutboxRows["order"] {
  return {
    id: row.id, traderId, clientOrderId: row.client_order_id, symbol: row.symbol, side: row.side, quantity: row.quantity,
    orderType: row.order_type, limitPriceCents: row.limit_cents, stopPriceCents: row.stop_cents, timeInForce: row.tif,
    status: row.status, filledQuantity: row.filled_quantity, filledNotionalCents: row.filled_notional_cents,
    avgFillPrice: avgPrice(row.filled_notional_cents, row.filled_quantity), reason: row.reason, createdAt: row.created_at,
    updatedAt: row.updated_at, amendedAt: row.amended_at, trailPriceCents: row.trail_cents, trailPercentBp: row.trail_bp, hwmCents: row.hwm_cents,
    orderClass: row.order_class, parentOrderId: row.parent_order_id,
    version: row.version,
  };
}

export function d1Fill(row: FillRow, order: Pick<OrderRow, "symbol" | "side">, traderId: string): OutboxRows["fill"] {
  return {
    id: row.id, orderId: row.order_id, traderId, symbol: order.symbol, side: order.side, quantityFilled: row.quantity,
    priceAtFill: toDollars(row.price_cents), priceCents: row.price_cents, realizedPlMicros: row.realized_pl_micros, timestamp: row.timestamp,
  };
}

export function d1Account(row: AccountRow, now: string): OutboxRows["account"] {
  return {
    traderId: row.trader_id, cashCents: row.cash_cents, reservedCents: row.reserved_cents, tradingState: row.trading_state,
    version: row.version, createdAt: row.created_at, updatedAt: now,
  };
}

export function d1Position(row: PositionRow, traderId: string): OutboxRows["position"] {
  return {
    traderId, symbol: row.symbol, quantity: row.quantity, costCents: costBasisCents(row), avgPriceMicros: row.avg_price_micros,
    realizedPlMicros: row.realized_pl_micros, version: row.version,
  };
}
