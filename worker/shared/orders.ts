// The order contract: one schema, used by the Worker to validate and by the page to check its ticket.
// Plain zod (no cloudflare:* imports) so web/ imports this very module.
import { z } from "zod";
import { isPositiveCents, isWholeCents } from "./money";

export const SIDES = ["BUY", "SELL"] as const;
export const ORDER_TYPES = ["MARKET", "LIMIT", "STOP", "STOP_LIMIT", "TRAILING_STOP"] as const;
export const TIME_IN_FORCE = ["DAY", "GTC", "IOC", "FOK"] as const;
export const ORDER_STATUSES = ["HELD", "PENDING", "PARTIAL", "FILLED", "CANCELLED", "REJECTED", "EXPIRED"] as const;
/** simple, or a parent with contingent legs (SPEC, "Trailing and contingent orders"). */
export const ORDER_CLASSES = ["simple", "bracket", "oco", "oto"] as const;
export type OrderClass = (typeof ORDER_CLASSES)[number];
export const FINAL_STATUSES = ["FILLED", "CANCELLED", "REJECTED", "EXPIRED"] as const;
export const AUDIT_ACTIONS = [
  "SUBMITTED", "APPROVED", "EXECUTED", "RECOVERED", "TRIGGERED", "PARTIAL", "FILLED", "CANCELLED", "REJECTED", "EXPIRED",
  "REPLACED", "ACTIVATED", "TRADING_STATE", "UNBOOKED",
] as const;

export type Side = (typeof SIDES)[number];
export type OrderType = (typeof ORDER_TYPES)[number];
export type TimeInForce = (typeof TIME_IN_FORCE)[number];
export type OrderStatus = (typeof ORDER_STATUSES)[number];
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export const SYMBOL_PATTERN = /^[A-Z0-9._]{1,12}$/;
export const MAX_PRICE = 1_000_000;

export function isFinalStatus(status: OrderStatus): boolean {
  return (FINAL_STATUSES as readonly string[]).includes(status);
}

export const needsLimitPrice = (type: OrderType) => type === "LIMIT" || type === "STOP_LIMIT";
export const needsStopPrice = (type: OrderType) => type === "STOP" || type === "STOP_LIMIT";
/** A stop that triggers (STOP, STOP_LIMIT, TRAILING_STOP): it rests until the price reaches its stop. */
export const isStopType = (type: OrderType) => type === "STOP" || type === "STOP_LIMIT" || type === "TRAILING_STOP";

/** trail_percent bounds (SPEC, "Trailing and contingent orders"): 0 < p <= 50, to a hundredth of a percent. */
export const MAX_TRAIL_PERCENT = 50;
const TrailPercent = z
  .number({ error: "trail_percent must be a number of percent, such as 2.5" })
  .gt(0, "trail_percent must be more than 0")
  .max(MAX_TRAIL_PERCENT, `trail_percent must be at most ${MAX_TRAIL_PERCENT}`)
  .refine((p) => Math.abs(Math.round(p * 100) - p * 100) < 1e-6, "trail_percent must have at most two decimals");

export const Symbol = z
  .string({ error: "symbol is required: a ticker such as AAPL" })
  .regex(SYMBOL_PATTERN, "symbol must be 1-12 characters of A-Z, 0-9, '.' or '_' (upper case), such as AAPL")
  .meta({ example: "AAPL" });

const Price = (field: string) =>
  z
    .number({ error: `${field} must be a number of dollars, such as 150.05` })
    .positive(`${field} must be at least 0.01`)
    .max(MAX_PRICE, `${field} must be at most ${MAX_PRICE}`)
    .refine(isWholeCents, `${field} must have at most two decimals (whole cents)`)
    .refine(isPositiveCents, `${field} must be at least 0.01`);

/** The shape rules of an order class (prices relative to each other are the desk's, which knows the price). */
function checkOrderClass(
  order: { order_class: OrderClass; order_type: OrderType; side: Side; take_profit?: unknown; stop_loss?: unknown; time_in_force: TimeInForce },
  ctx: z.RefinementCtx,
): void {
  const legs = [order.take_profit, order.stop_loss].filter((l) => l !== undefined).length;
  const issue = (path: string, message: string) => ctx.addIssue({ code: "custom", path: [path], message });
  if (order.order_class === "simple") {
    if (order.take_profit !== undefined) issue("take_profit", "take_profit needs order_class bracket, oto or oco");
    if (order.stop_loss !== undefined) issue("stop_loss", "stop_loss needs order_class bracket, oto or oco");
    return;
  }
  if (order.time_in_force === "IOC" || order.time_in_force === "FOK") issue("time_in_force", `a ${order.order_class} order works until its exits are done: time_in_force DAY or GTC`);
  if (order.order_class === "oco") {
    if (order.order_type !== "LIMIT") issue("order_type", "an oco order is the take-profit LIMIT with its stop_loss: order_type LIMIT");
    if (order.side !== "SELL") issue("side", "an oco order closes shares you hold: side SELL (fillwire has no short selling)");
    if (legs !== 2) issue(order.take_profit === undefined ? "take_profit" : "stop_loss", "an oco order needs take_profit and stop_loss");
    return;
  }
  if (order.order_type !== "MARKET" && order.order_type !== "LIMIT") issue("order_type", `a ${order.order_class} entry is a MARKET or LIMIT order`);
  if (order.order_class === "bracket" && legs !== 2) issue(order.take_profit === undefined ? "take_profit" : "stop_loss", "a bracket order needs take_profit and stop_loss");
  if (order.order_class === "oto" && legs !== 1) issue("stop_loss", "an oto order needs exactly one of take_profit or stop_loss");
}

export const OrderRequest = z
  .strictObject(
    {
      symbol: Symbol,
      side: z.enum(SIDES, { error: "side must be BUY or SELL" }).default("BUY"),
      quantity: z
        .number({ error: "quantity must be a whole number of shares, at least 1" })
        .int("quantity must be a whole number of shares, at least 1")
        .min(1, "quantity must be a whole number of shares, at least 1")
        .max(Number.MAX_SAFE_INTEGER, "quantity is too large"),
      order_type: z.enum(ORDER_TYPES, { error: "order_type must be one of MARKET, LIMIT, STOP, STOP_LIMIT, TRAILING_STOP" }),
      price: Price("price").optional().meta({ description: "Limit price in dollars; LIMIT and STOP_LIMIT only" }),
      stop_price: Price("stop_price").optional().meta({ description: "Trigger price in dollars; STOP and STOP_LIMIT only" }),
      trail_price: Price("trail_price").optional().meta({ description: "TRAILING_STOP: the stop trails the high-water mark (low for a BUY) by this many dollars, on the tick" }),
      trail_percent: TrailPercent.optional().meta({ description: "TRAILING_STOP: the stop trails the high-water mark by this percent (0-50], rounded to the tick" }),
      time_in_force: z
        .enum(TIME_IN_FORCE, { error: "time_in_force must be one of DAY, GTC, IOC, FOK" })
        .default("DAY"),
      client_order_id: z
        .string()
        .regex(/^[\x21-\x7e]{1,64}$/, "client_order_id must be 1-64 printable ASCII characters without spaces")
        .optional(),
      order_class: z.enum(ORDER_CLASSES, { error: "order_class must be simple, bracket, oco or oto" }).default("simple"),
      take_profit: z
        .strictObject({ limit_price: Price("take_profit.limit_price") })
        .optional()
        .meta({ description: "bracket/oto/oco: the exit that takes the profit, a LIMIT at limit_price (above a BUY entry, below a SELL entry)" }),
      stop_loss: z
        .strictObject({ stop_price: Price("stop_loss.stop_price"), limit_price: Price("stop_loss.limit_price").optional() })
        .optional()
        .meta({ description: "bracket/oto/oco: the exit that limits the loss, a STOP at stop_price (a STOP_LIMIT with limit_price): below a BUY entry, above a SELL entry" }),
    },
    { error: (issue) => (issue.code === "unrecognized_keys" ? `unknown field(s): ${issue.keys.join(", ")}` : undefined) },
  )
  .superRefine((order, ctx) => {
    if (needsLimitPrice(order.order_type) && order.price === undefined && order.order_class !== "oco")
      ctx.addIssue({ code: "custom", path: ["price"], message: `price is required for ${order.order_type} orders` });
    if (!needsLimitPrice(order.order_type) && order.price !== undefined)
      ctx.addIssue({ code: "custom", path: ["price"], message: `price is only allowed on LIMIT and STOP_LIMIT orders, not ${order.order_type}` });
    if (needsStopPrice(order.order_type) && order.stop_price === undefined)
      ctx.addIssue({ code: "custom", path: ["stop_price"], message: `stop_price is required for ${order.order_type} orders` });
    if (!needsStopPrice(order.order_type) && order.stop_price !== undefined)
      ctx.addIssue({ code: "custom", path: ["stop_price"], message: `stop_price is only allowed on STOP and STOP_LIMIT orders, not ${order.order_type}` });
    const trails = [order.trail_price, order.trail_percent].filter((t) => t !== undefined).length;
    if (order.order_type === "TRAILING_STOP" && trails !== 1)
      ctx.addIssue({ code: "custom", path: [trails === 0 ? "trail_price" : "trail_percent"], message: "a TRAILING_STOP takes exactly one of trail_price or trail_percent" });
    if (isStopType(order.order_type) && (order.time_in_force === "IOC" || order.time_in_force === "FOK"))
      ctx.addIssue({ code: "custom", path: ["time_in_force"], message: `a ${order.order_type} order rests until its stop is reached: time_in_force DAY or GTC, not ${order.time_in_force}` });
    if (order.order_type !== "TRAILING_STOP") {
      for (const field of ["trail_price", "trail_percent"] as const)
        if (order[field] !== undefined) ctx.addIssue({ code: "custom", path: [field], message: `${field} is only allowed on TRAILING_STOP orders, not ${order.order_type}` });
    }
    checkOrderClass(order, ctx);
  })
  .meta({
    id: "OrderRequest",
    example: { symbol: "AAPL", side: "BUY", quantity: 100, order_type: "MARKET", time_in_force: "DAY" },
  });
export type OrderRequest = z.output<typeof OrderRequest>;

/** The working time in force an amend may set: a resting order cannot become IOC or FOK. */
export const AMENDABLE_TIME_IN_FORCE = ["DAY", "GTC"] as const;

/**
 * PATCH /api/v1/orders/:id: the new terms of a working order (FIX cancel/replace, in place). `quantity` is
 * the new total, more than what has filled. At least one field.
 */
export const AmendRequest = z
  .strictObject(
    {
      quantity: z
        .number({ error: "quantity must be the new total number of shares, a whole number" })
        .int("quantity must be the new total number of shares, a whole number")
        .min(1, "quantity must be at least 1")
        .max(Number.MAX_SAFE_INTEGER, "quantity is too large")
        .optional()
        .meta({ description: "The new total quantity (more than filled_quantity); lower keeps the order's place in the book" }),
      price: Price("price").optional().meta({ description: "New limit price in dollars (LIMIT, STOP_LIMIT)" }),
      stop_price: Price("stop_price").optional().meta({ description: "New stop price in dollars (STOP, STOP_LIMIT, before it triggers)" }),
      trail_price: Price("trail_price").optional().meta({ description: "New trail in dollars (TRAILING_STOP, before it triggers)" }),
      trail_percent: TrailPercent.optional().meta({ description: "New trail in percent (TRAILING_STOP, before it triggers)" }),
      time_in_force: z.enum(AMENDABLE_TIME_IN_FORCE, { error: "time_in_force of a working order can be DAY or GTC" }).optional(),
    },
    { error: (issue) => (issue.code === "unrecognized_keys" ? `unknown field(s): ${issue.keys.join(", ")}` : undefined) },
  )
  .refine((a) => Object.values(a).some((v) => v !== undefined), { message: "name at least one of quantity, price, stop_price, trail_price, trail_percent, time_in_force", path: ["body"] })
  .refine((a) => a.trail_price === undefined || a.trail_percent === undefined, { message: "give trail_price or trail_percent, not both", path: ["trail_percent"] })
  .meta({ id: "AmendRequest", example: { quantity: 80, price: 149.5 } });
export type AmendRequest = z.output<typeof AmendRequest>;
export type OrderRequestInput = z.input<typeof OrderRequest>;

export const IdempotencyKey = z
  .string()
  .regex(/^[\x20-\x7e]{1,255}$/, "Idempotency-Key must be 1-255 printable ASCII characters");

export const Fill = z
  .object({
    id: z.string(),
    order_id: z.string(),
    quantity_filled: z.number().int(),
    price_at_fill: z.number(),
    timestamp: z.string(),
  })
  .meta({ id: "Fill" });
export type Fill = z.infer<typeof Fill>;

export const Order = z
  .object({
    id: z.string().meta({ example: "ord_01JDXK4M6R3F" }),
    trader_id: z.string(),
    client_order_id: z.string().nullable(),
    symbol: z.string(),
    side: z.enum(SIDES),
    quantity: z.number().int(),
    order_type: z.enum(ORDER_TYPES),
    price: z.number().nullable(),
    stop_price: z.number().nullable().meta({ description: "The stop; for a TRAILING_STOP, where it stands now (it moves with the high-water mark)" }),
    trail_price: z.number().nullable(),
    trail_percent: z.number().nullable(),
    hwm: z.number().nullable().meta({ description: "TRAILING_STOP: the highest price since it was accepted (lowest for a BUY)" }),
    time_in_force: z.enum(TIME_IN_FORCE),
    status: z.enum(ORDER_STATUSES),
    filled_quantity: z.number().int(),
    avg_fill_price: z.number().nullable(),
    reason: z.string().nullable(),
    created_at: z.string(),
    updated_at: z.string(),
    amended_at: z.string().nullable().meta({ description: "When the last amend was confirmed by the venue" }),
    triggered_at: z.string().nullable().meta({ description: "When a STOP or STOP_LIMIT reached its stop (it then works as a market or limit order)" }),
    order_class: z.enum(ORDER_CLASSES),
    parent_order_id: z.string().nullable().meta({ description: "A leg's parent (its entry, or the oco's take-profit)" }),
  })
  .meta({ id: "Order" });
export type Order = z.infer<typeof Order>;

/** A contingent parent with its legs (POST /api/v1/orders answers this for bracket, oco and oto; nested=true lists it). */
export const OrderWithLegs = Order.extend({ legs: z.array(Order).optional() }).meta({ id: "OrderWithLegs" });
export type OrderWithLegs = z.infer<typeof OrderWithLegs>;

export const OrderWithFills = Order.extend({ fills: z.array(Fill) }).meta({ id: "OrderWithFills" });
export type OrderWithFills = z.infer<typeof OrderWithFills>;

export const AuditEntry = z
  .object({
    id: z.string(),
    order_id: z.string(),
    trader_id: z.string(),
    action: z.enum(AUDIT_ACTIONS),
    /** The order's status after the step; for TRADING_STATE rows, the account's new trading state. */
    status: z.enum([...ORDER_STATUSES, "ACTIVE", "REDUCE_ONLY", "HALTED"]),
    timestamp: z.string(),
    reason: z.string().nullable(),
    error_code: z.string().nullable(),
    retry_attempt: z.number().int().nullable(),
    /** A leg's parent order (bracket, oco, oto); null for other orders and for rows written before legs had it. */
    parent_order_id: z.string().nullable(),
  })
  .meta({ id: "AuditEntry" });
export type AuditEntry = z.infer<typeof AuditEntry>;

/** A page size from a query string: a whole number from 1 to `max`. */
export const pageLimit = (max: number, fallback: number) =>
  z.coerce
    .number({ error: `limit must be a whole number from 1 to ${max}` })
    .int(`limit must be a whole number from 1 to ${max}`)
    .min(1, `limit must be a whole number from 1 to ${max}`)
    .max(max, `limit must be a whole number from 1 to ${max}`)
    .default(fallback);

export const ListOrdersQuery = z.object({
  status: z.enum(ORDER_STATUSES, { error: `status must be one of ${ORDER_STATUSES.join(", ")}` }).optional(),
  nested: z.enum(["true", "false"], { error: "nested must be true or false" }).optional().meta({ description: "true: legs are listed under their parents (legs: [...]) instead of on their own" }),
  symbol: Symbol.optional(),
  limit: pageLimit(500, 50),
  cursor: z.string().max(200).optional(),
});
export type ListOrdersQuery = z.output<typeof ListOrdersQuery>;

export const Position = z.object({
  symbol: z.string(),
  quantity: z.number().int(),
  avg_price: z.number().meta({ description: "Average cost per share in dollars, kept to the micro-dollar (150.025); a sale leaves it unchanged" }),
  realized_pl: z.number().meta({ description: "Realized P&L of this symbol's sales, dollars: the sum of (fill price - avg_price) x shares" }),
});
export const Instrument = z
  .object({ symbol: z.string(), name: z.string(), price: z.number(), tick_size: z.number(), tradable: z.boolean() })
  .meta({ id: "Instrument" });
export type Instrument = z.infer<typeof Instrument>;
