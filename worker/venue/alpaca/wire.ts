// Alpaca's wire shapes as fillwire reads them (Trading API v2, Market Data v2, the trade_updates stream),
// parsed with zod at the boundary. Only the fields fillwire uses are required; the rest pass through.
// References (each schema names its own):
//   orders        https://docs.alpaca.markets/reference/orders
//                 https://github.com/alpacahq/alpaca-docs/blob/master/data/webapi/entities/order-v2.yaml
//   activities    https://alpaca.markets/docs/api-references/trading-api/account-activities/
//   market data   https://alpaca.markets/docs/api-references/market-data-api/stock-pricing-data/historical/
//   stream        https://docs.alpaca.markets/docs/websocket-streaming
import { z } from "zod";

/** Alpaca sends decimals as strings ("150.05"); a number is read the same way. */
const Decimal = z.union([z.string(), z.number()]).transform(String);
const OptionalDecimal = Decimal.nullable().optional().transform((v) => v ?? null);
const OptionalString = z.string().nullable().optional().transform((v) => v ?? null);

/**
 * The Order entity (GET/POST/PATCH /v2/orders..., and `order` in every trade update).
 * https://docs.alpaca.markets/reference/orders ("Sample Order Object")
 */
const OrderFields = z.looseObject({
  id: z.string(),
  client_order_id: z.string(),
  status: z.string(),
  symbol: z.string(),
  side: z.string(),
  type: z.string().optional(),
  order_type: z.string().optional(),
  time_in_force: z.string(),
  qty: OptionalDecimal,
  filled_qty: Decimal,
  filled_avg_price: OptionalDecimal,
  limit_price: OptionalDecimal,
  stop_price: OptionalDecimal,
  trail_price: OptionalDecimal,
  trail_percent: OptionalDecimal,
  hwm: OptionalDecimal,
  replaced_by: OptionalString,
  replaces: OptionalString,
  submitted_at: OptionalString,
  created_at: OptionalString,
  /** When Alpaca last changed the order: of two snapshots of one order, the later one is current. */
  updated_at: OptionalString,
  /** "simple" (or ""), "oco", "bracket", "oto". */
  order_class: OptionalString,
});

/**
 * An order with, for an order of class oco (or bracket, oto) read "nested", its legs: each an order of its
 * own, with an id and a client_order_id Alpaca makes (Order entity, `legs`).
 */
export const AlpacaOrder = OrderFields.extend({ legs: z.array(OrderFields).nullable().optional().transform((v) => v ?? null) });
export type AlpacaOrder = z.output<typeof AlpacaOrder>;

/**
 * A FILL account activity (GET /v2/account/activities?activity_types=FILL). `id` is "<time>::<uuid>" and
 * doubles as a page_token; `cum_qty` is the order's filled quantity after this execution.
 * https://alpaca.markets/docs/api-references/trading-api/account-activities/
 */
export const FillActivity = z.looseObject({
  id: z.string(),
  activity_type: z.literal("FILL"),
  transaction_time: z.string(),
  type: z.string(),
  price: Decimal,
  qty: Decimal,
  side: z.string(),
  symbol: z.string(),
  order_id: z.string(),
  cum_qty: Decimal,
  leaves_qty: OptionalDecimal,
});
export type FillActivity = z.output<typeof FillActivity>;

/** Any activity: the list endpoint may mix types; fillwire keeps the FILLs. */
export const Activity = z.looseObject({ id: z.string(), activity_type: z.string() });

/**
 * Latest quote and latest trade (Market Data v2): GET /v2/stocks/{symbol}/quotes/latest and
 * /v2/stocks/{symbol}/trades/latest. https://alpaca.markets/docs/api-references/market-data-api/stock-pricing-data/historical/
 */
export const LatestQuote = z.looseObject({
  symbol: z.string(),
  quote: z.looseObject({ t: z.string().optional(), ap: z.number(), bp: z.number() }).nullable().optional(),
});
export const LatestTrade = z.looseObject({
  symbol: z.string(),
  trade: z.looseObject({ t: z.string().optional(), p: z.number() }).nullable().optional(),
});

/** Alpaca's error body: {"code": 40310000, "message": "insufficient buying power"}. */
export const AlpacaError = z.looseObject({ code: z.number().optional(), message: z.string() });

// ------------------------------------------------------------------------------------ the stream
// https://docs.alpaca.markets/docs/websocket-streaming (Authentication, Trade Updates, Example)

/** {"stream":"authorization","data":{"status":"authorized"|"unauthorized","action":"authenticate"|"listen"}} */
export const AuthorizationMessage = z.looseObject({
  stream: z.literal("authorization"),
  data: z.looseObject({ status: z.string(), action: z.string().optional() }),
});

/** {"stream":"listening","data":{"streams":["trade_updates"]}} */
export const ListeningMessage = z.looseObject({
  stream: z.literal("listening"),
  data: z.looseObject({ streams: z.array(z.string()) }),
});

/**
 * {"stream":"trade_updates","data":{"event":"fill","execution_id":...,"order":{...},"price":"...","qty":"...",
 * "position_qty":"...","timestamp":"..."}}. `qty` and `price` are this execution's (alpacahq/Alpaca-API#103).
 */
export const TradeUpdateMessage = z.looseObject({
  stream: z.literal("trade_updates"),
  data: z.looseObject({
    event: z.string(),
    execution_id: OptionalString,
    id: OptionalString,
    order: AlpacaOrder,
    timestamp: OptionalString,
    price: OptionalDecimal,
    qty: OptionalDecimal,
  }),
});
export type TradeUpdate = z.output<typeof TradeUpdateMessage>["data"];

export const StreamMessage = z.union([AuthorizationMessage, ListeningMessage, TradeUpdateMessage]);
export type StreamMessage = z.output<typeof StreamMessage>;

/**
 * The authentication message, in either documented form: {"action":"auth","key","secret"} (the current
 * docs) or {"action":"authenticate","data":{"key_id","secret_key"}} (the earlier docs, and the form
 * Alpaca's own SDK sends: alpacahq/alpaca-py trading/stream.py). The link tries the other when one is refused.
 */
export type AuthForm = "auth" | "authenticate";

export function authenticateMessage(form: AuthForm, keyId: string, secretKey: string): string {
  return form === "auth"
    ? JSON.stringify({ action: "auth", key: keyId, secret: secretKey })
    : JSON.stringify({ action: "authenticate", data: { key_id: keyId, secret_key: secretKey } });
}

export const LISTEN_MESSAGE = JSON.stringify({ action: "listen", data: { streams: ["trade_updates"] } });
