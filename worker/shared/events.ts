// WebSocket wire messages, both directions. The page parses server messages with these schemas.
import { z } from "zod";
import { Account } from "./account";
import { Ack, Reject } from "./socket-orders";
import { Order, ORDER_STATUSES, ORDER_TYPES, SIDES, TIME_IN_FORCE } from "./orders";

export const ORDER_EVENTS = [
  "order.submitted", "order.accepted", "order.activated", "order.triggered", "order.replaced", "order.partial", "order.filled",
  "order.cancelled", "order.rejected", "order.expired", "order.cancel_rejected",
] as const;
export type OrderEventName = (typeof ORDER_EVENTS)[number];

export const OrderEvent = z.object({
  event: z.enum(ORDER_EVENTS),
  seq: z.number().int(),
  order_id: z.string(),
  status: z.enum(ORDER_STATUSES),
  symbol: z.string(),
  side: z.enum(SIDES),
  order_type: z.enum(ORDER_TYPES),
  quantity: z.number().int(),
  filled_quantity: z.number().int(),
  avg_fill_price: z.number().nullable(),
  /** This fill's shares and price (fill events only; null otherwise). */
  quantity_filled: z.number().int().nullable(),
  price_at_fill: z.number().nullable(),
  /** The seed's shorthand: this fill's price on fill events, else the order's limit price (or null). */
  price: z.number().nullable(),
  /** The order's stop price (STOP, STOP_LIMIT), or null. */
  stop_price: z.number().nullable().optional(),
  /** The order's time in force (an amend may change it). */
  time_in_force: z.enum(TIME_IN_FORCE).optional(),
  /** A leg's parent order (bracket, oco, oto), or null. */
  parent_order_id: z.string().nullable().optional(),
  fill_id: z.string().nullable(),
  reason: z.string().nullable(),
  timestamp: z.string(),
});
export type OrderEvent = z.infer<typeof OrderEvent>;

/**
 * The account after a change that moved it (a fill, a reservation or release, a trading-state change), sent
 * in the same desk change as that cause, under the same per-trader seq as the order events.
 */
export const AccountEvent = Account.extend({
  event: z.literal("account.updated"),
  seq: z.number().int(),
  timestamp: z.string(),
}).meta({ id: "AccountEvent" });
export type AccountEvent = z.infer<typeof AccountEvent>;

/** Whatever the desk logs and sends under a seq: an order's step, or the account after a change. */
export type StreamEvent = OrderEvent | AccountEvent;

/** With snapshot=1, right after connection_acknowledged: the working orders and the account at `seq`. */
export const Snapshot = z.object({ type: z.literal("snapshot"), seq: z.number().int(), orders: z.array(Order), account: Account }).meta({ id: "Snapshot" });

export const ServerMessage = z.union([
  OrderEvent,
  AccountEvent,
  Snapshot,
  Ack,
  Reject,
  z.object({ type: z.literal("connection_acknowledged"), seq: z.number().int(), trader_id: z.string() }),
  z.object({ type: z.literal("replay_complete"), seq: z.number().int(), replayed: z.number().int() }),
  z.object({ type: z.literal("replay_truncated"), oldest_seq: z.number().int() }),
  z.object({ type: z.literal("pong") }),
  /** An answer to a client message the server did not act on (MALFORMED_JSON carries details.duplicate_keys). */
  z.object({ type: z.literal("error"), error: z.string(), message: z.string(), details: z.record(z.string(), z.unknown()).optional() }),
]);
export type ServerMessage = z.infer<typeof ServerMessage>;

export const ClientMessage = z.discriminatedUnion("type", [
  z.object({ type: z.literal("auth"), token: z.string().min(1).max(8192) }),
  z.object({ type: z.literal("ping") }),
]);
export type ClientMessage = z.infer<typeof ClientMessage>;

export const WS_PROTOCOL = "order-updates";

/** True for an order's event (order.*), false for account.updated and every other message. */
export function isOrderEvent(m: unknown): m is OrderEvent {
  return typeof m === "object" && m !== null && typeof (m as { event?: unknown }).event === "string" && (m as { event: string }).event.startsWith("order.");
}
