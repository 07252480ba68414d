// The account contract beyond orders: trading state, positions valued at the venue's price with P&L, and
// the activity ledger. Plain zod, shared with the page.
import { z } from "zod";
import { pageLimit, Position, SIDES, Symbol } from "./orders";

/** ACTIVE trades; REDUCE_ONLY refuses whatever could grow a position; HALTED refuses new orders and amends. */
export const TRADING_STATES = ["ACTIVE", "REDUCE_ONLY", "HALTED"] as const;
export type TradingState = (typeof TRADING_STATES)[number];

export const TradingStateRequest = z
  .strictObject({
    state: z.enum(TRADING_STATES, { error: "state must be ACTIVE, REDUCE_ONLY or HALTED" }),
    reason: z.string({ error: "reason is required: say why, for the audit trail" }).trim().min(1, "reason is required: say why, for the audit trail").max(500),
    cancel_orders: z.boolean().default(false).meta({ description: "Also cancel every working order now" }),
  })
  .meta({ id: "TradingStateRequest", example: { state: "HALTED", reason: "Margin call pending review", cancel_orders: true } });
export type TradingStateRequest = z.output<typeof TradingStateRequest>;

/** A position valued at the venue's current price (dollars; plpc is a fraction of the cost basis). */
export const PositionValue = z
  .object({
    symbol: z.string(),
    quantity: z.number().int(),
    available_quantity: z.number().int().meta({ description: "Shares not promised to working SELL orders" }),
    avg_price: z.number(),
    cost_basis: z.number(),
    market_price: z.number().nullable(),
    market_value: z.number().nullable(),
    unrealized_pl: z.number().nullable(),
    unrealized_plpc: z.number().nullable(),
    realized_pl: z.number(),
  })
  .meta({ id: "PositionValue" });
export type PositionValue = z.infer<typeof PositionValue>;

export const Account = z
  .object({
    trader_id: z.string(),
    cash: z.number(),
    reserved: z.number(),
    buying_power: z.number(),
    equity: z.number().meta({ description: "cash + market value of the positions" }),
    realized_pl: z.number(),
    unrealized_pl: z.number(),
    trading_state: z.enum(TRADING_STATES),
    positions: z.array(Position),
  })
  .meta({ id: "Account" });
export type Account = z.infer<typeof Account>;

export const ACTIVITY_TYPES = ["FILL", "CASH"] as const;

export const ActivitiesQuery = z.object({
  activity_type: z.enum(ACTIVITY_TYPES, { error: "activity_type must be FILL or CASH" }).optional(),
  symbol: Symbol.optional(),
  // Compared with the ledger's own ISO text, so normalised to it (2026-11-30T04:23:50Z is ...50.000Z).
  from: z.iso.datetime({ error: "from must be an ISO timestamp" }).transform((t) => new Date(t).toISOString()).optional(),
  to: z.iso.datetime({ error: "to must be an ISO timestamp" }).transform((t) => new Date(t).toISOString()).optional(),
  limit: pageLimit(500, 50),
  cursor: z.string().max(200).optional(),
});
export type ActivitiesQuery = z.output<typeof ActivitiesQuery>;

/** One line of the trader's ledger: a fill (cash out for a BUY, in for a SELL) or a cash movement. */
export const Activity = z
  .object({
    id: z.string(),
    activity_type: z.enum(ACTIVITY_TYPES),
    timestamp: z.string(),
    net_amount: z.number().meta({ description: "Dollars into (+) or out of (-) cash" }),
    order_id: z.string().nullable(),
    symbol: z.string().nullable(),
    side: z.enum(SIDES).nullable(),
    quantity: z.number().int().nullable(),
    price: z.number().nullable(),
    realized_pl: z.number().nullable(),
    reason: z.string().nullable(),
  })
  .meta({ id: "Activity" });
export type Activity = z.infer<typeof Activity>;
