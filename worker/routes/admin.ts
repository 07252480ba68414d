// /api/v1/admin: open accounts and run the simulated venue (prices, depth, fault injection).
import { createRoute } from "@hono/zod-openapi";
import { z } from "zod";
import { requireRole } from "../auth";
import { deskOf, router, venueOf } from "../context";
import { ApiError, unwrap } from "../http";
import type { Result } from "../shared/errors";
import { isPositiveCents, isWholeCents, toCents, toDollars } from "../shared/money";
import { Account, TradingStateRequest } from "../shared/account";
import { Symbol } from "../shared/orders";
import { Faults } from "../venue/faults";
import type { InstrumentSettings } from "../db/instruments";
import { venueStatus, VenueStatus } from "../venue/alpaca/status";
import { authErrors, bearer, errorResponse, json, jsonBody } from "./schemas";

const Dollars = (field: string) =>
  z.number({ error: `${field} must be a number of dollars` }).refine(isWholeCents, `${field} must have at most two decimals`);
const PositiveDollars = (field: string, max: number) =>
  Dollars(field).pipe(z.number().max(max, `${field} must be at most ${max}`).refine(isPositiveCents, `${field} must be at least 0.01`));

const AccountBody = z
  .strictObject({
    cash: Dollars("cash").pipe(z.number().min(0, "cash must be 0 or more").max(1e12, "cash is too large")),
    positions: z
      .array(z.strictObject({ symbol: Symbol, quantity: z.number().int().min(1).max(1e9), avg_price: PositiveDollars("avg_price", 1_000_000) }))
      .max(500)
      .default([]),
  })
  .meta({ id: "NewAccount", example: { cash: 15000, positions: [{ symbol: "AAPL", quantity: 10, avg_price: 140 }] } });

const InstrumentBody = z
  .strictObject({
    name: z.string().min(1).max(100).optional(),
    price: PositiveDollars("price", 1_000_000).optional(),
    tick_size: PositiveDollars("tick_size", 1000).optional(),
    depth: z.number().int().min(1).max(1e9).optional(),
    tradable: z.boolean().optional(),
  })
  .meta({ id: "InstrumentSettings", example: { price: 139.5 } });

const InstrumentState = z
  .object({ symbol: z.string(), name: z.string(), price: z.number(), tick_size: z.number(), depth: z.number().int(), tradable: z.boolean(), faults: Faults })
  .meta({ id: "VenueInstrument" });

const TraderParam = z.object({ trader_id: z.string().regex(/^[\w.@-]{1,128}$/, "trader_id must be 1-128 letters, digits, _ . @ -").meta({ param: { name: "trader_id", in: "path" } }) });
const SymbolParam = z.object({ symbol: Symbol.meta({ param: { name: "symbol", in: "path" } }) });
const admin = requireRole("admin");

const putAccount = createRoute({
  method: "put",
  path: "/accounts/{trader_id}",
  tags: ["admin"],
  summary: "Open a trader's account",
  security: bearer,
  middleware: [admin] as const,
  request: { params: TraderParam, body: jsonBody(AccountBody) },
  responses: { 201: json("Opened", Account), 400: errorResponse("VALIDATION_ERROR"), ...authErrors, 409: errorResponse("ACCOUNT_EXISTS") },
});

const TradingStateResult = z
  .object({
    trading_state: TradingStateRequest.shape.state,
    account: Account,
    cancelled: z.array(z.object({ id: z.string(), status: z.number().int(), order: z.unknown().nullable(), error: z.unknown().nullable() })),
  })
  .meta({ id: "TradingStateResult" });

const putTrading = createRoute({
  method: "put",
  path: "/accounts/{trader_id}/trading",
  tags: ["admin"],
  summary: "Set a trader's trading state: ACTIVE, REDUCE_ONLY or HALTED",
  description:
    "HALTED refuses new orders and amends (403 TRADING_HALTED; cancels still work); REDUCE_ONLY refuses anything that could grow a position (400 REDUCE_ONLY). Audited as TRADING_STATE with your sub and the reason; cancel_orders also cancels every working order now.",
  security: bearer,
  middleware: [admin] as const,
  request: { params: TraderParam, body: jsonBody(TradingStateRequest) },
  responses: { 200: json("The new state, the account, and each cancel's result", TradingStateResult), 400: errorResponse("VALIDATION_ERROR"), ...authErrors, 404: errorResponse("ACCOUNT_NOT_FOUND") },
});

const putInstrument = createRoute({
  method: "put",
  path: "/instruments/{symbol}",
  tags: ["admin"],
  summary: "Create or change an instrument of the simulated venue (a price move fills resting orders it crosses)",
  security: bearer,
  middleware: [admin] as const,
  request: { params: SymbolParam, body: jsonBody(InstrumentBody) },
  responses: { 200: json("The instrument", InstrumentState), 400: errorResponse("VALIDATION_ERROR"), ...authErrors },
});

const putFaults = createRoute({
  method: "put",
  path: "/instruments/{symbol}/faults",
  tags: ["admin"],
  summary: "Fault injection on the simulated venue; {} clears it",
  security: bearer,
  middleware: [admin] as const,
  request: { params: SymbolParam, body: jsonBody(Faults) },
  responses: { 200: json("The instrument", InstrumentState), 400: errorResponse("VALIDATION_ERROR"), ...authErrors, 404: errorResponse("NOT_FOUND: no such instrument") },
});

const getVenue = createRoute({
  method: "get",
  path: "/venue",
  tags: ["admin"],
  summary: "The venue link's state: Alpaca's stream (connected since, last event, last reconcile, reconnects) or the simulator's health",
  security: bearer,
  middleware: [admin] as const,
  responses: { 200: json("The venue link", VenueStatus), ...authErrors },
});

const view = (i: InstrumentSettings) => ({
  symbol: i.symbol, name: i.name, price: toDollars(i.priceCents), tick_size: toDollars(i.tickCents), depth: i.depth, tradable: i.tradable, faults: i.faults,
});

export const adminRoutes = router()
  .openapi(putAccount, async (c) => {
    const { trader_id } = c.req.valid("param");
    const body = c.req.valid("json");
    const positions = body.positions.map((p) => ({ symbol: p.symbol, quantity: p.quantity, avgPriceCents: toCents(p.avg_price)! }));
    return c.json(unwrap(await deskOf(c.env, trader_id).openAccount(trader_id, toCents(body.cash)!, positions)), 201);
  })
  .openapi(putTrading, async (c) => {
    const { trader_id } = c.req.valid("param");
    const result: Result<z.infer<typeof TradingStateResult>> = await deskOf(c.env, trader_id).setTradingState(trader_id, c.req.valid("json"), c.var.traderId);
    return c.json(unwrap<z.infer<typeof TradingStateResult>>(result), 200);
  })
  .openapi(putInstrument, async (c) => {
    const { symbol } = c.req.valid("param");
    const body = c.req.valid("json");
    const settings = unwrap(await venueOf(c.env, symbol).configure(symbol, {
      name: body.name,
      priceCents: body.price === undefined ? undefined : toCents(body.price),
      tickCents: body.tick_size === undefined ? undefined : toCents(body.tick_size),
      depth: body.depth,
      tradable: body.tradable,
    }));
    return c.json(view(settings), 200);
  })
  .openapi(putFaults, async (c) => {
    const { symbol } = c.req.valid("param");
    const settings = await venueOf(c.env, symbol).setFaults(symbol, c.req.valid("json"));
    if (!settings) throw new ApiError("NOT_FOUND", `Unknown symbol ${symbol}: create it first with PUT /api/v1/admin/instruments/${symbol}`, { symbol });
    return c.json(view(settings), 200);
  })
  .openapi(getVenue, async (c) => c.json(await venueStatus(c.env), 200));
