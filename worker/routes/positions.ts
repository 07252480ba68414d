// /api/v1/positions: open positions valued at the venue's current price, and closing them (all or part)
// with a MARKET SELL, as the trader's desk does it.
import { createRoute, z } from "@hono/zod-openapi";
import { requireRole } from "../auth";
import { deskOf, router } from "../context";
import { unwrap } from "../http";
import { PositionValue } from "../shared/account";
import { Order, Symbol } from "../shared/orders";
import { authErrors, bearer, errorResponse, json } from "./schemas";

const SymbolParam = z.object({ symbol: Symbol.meta({ param: { name: "symbol", in: "path" } }) });
const ClosePart = z
  .object({
    // Plain decimal digits only: Number() would also take "0x2", "1e1" and " 5 ".
    quantity: z.string().regex(/^\d{1,12}$/, "quantity must be a whole number of shares, at least 1").transform(Number).pipe(z.number().int().min(1, "quantity must be at least 1")).optional(),
    percentage: z
      .string()
      .regex(/^\d{1,3}(\.\d{1,6})?$/, "percentage must be a number from 0 to 100, such as 50 or 33.5")
      .transform(Number)
      .pipe(z.number().gt(0, "percentage must be more than 0").max(100, "percentage must be at most 100"))
      .optional(),
  })
  .refine((q) => q.quantity === undefined || q.percentage === undefined, { path: ["percentage"], message: "give quantity or percentage, not both" });

const list = createRoute({
  method: "get",
  path: "/",
  tags: ["positions"],
  summary: "Your open positions with market value and unrealized/realized P&L at the venue's current price",
  security: bearer,
  middleware: [requireRole("trader")] as const,
  responses: { 200: json("Positions", z.object({ data: z.array(PositionValue) }).meta({ id: "PositionList" })), ...authErrors, 404: errorResponse("ACCOUNT_NOT_FOUND") },
});

const closeOne = createRoute({
  method: "delete",
  path: "/{symbol}",
  tags: ["positions"],
  summary: "Close all or part of a position with a MARKET SELL",
  description: "Cancels the symbol's working SELL orders (they hold the shares), then sells all, `quantity` shares, or `percentage` of the position (rounded down).",
  security: bearer,
  middleware: [requireRole("trader")] as const,
  request: { params: SymbolParam, query: ClosePart },
  responses: {
    201: json("The closing order (PENDING; follow it on the WebSocket)", Order),
    400: errorResponse("VALIDATION_ERROR, INSUFFICIENT_POSITION, MARKET_CLOSED"),
    ...authErrors,
    404: errorResponse("POSITION_NOT_FOUND, ACCOUNT_NOT_FOUND"),
    429: errorResponse("RATE_LIMITED"),
  },
});

const CloseAll = z
  .object({ data: z.array(Order), errors: z.array(z.object({ symbol: z.string(), error: z.string(), message: z.string() })) })
  .meta({ id: "CloseAllResult" });

const closeAll = createRoute({
  method: "delete",
  path: "/",
  tags: ["positions"],
  summary: "Close every open position: one MARKET SELL each",
  security: bearer,
  middleware: [requireRole("trader")] as const,
  responses: { 200: json("The closing orders, and any position that could not be closed", CloseAll), ...authErrors, 404: errorResponse("ACCOUNT_NOT_FOUND") },
});

export const positions = router()
  .openapi(list, async (c) => c.json(unwrap(await deskOf(c.env, c.var.traderId).getPositions(c.var.traderId)), 200))
  .openapi(closeOne, async (c) =>
    c.json(unwrap(await deskOf(c.env, c.var.traderId).closePosition(c.var.traderId, c.req.valid("param").symbol, c.req.valid("query"))), 201),
  )
  .openapi(closeAll, async (c) => c.json(unwrap(await deskOf(c.env, c.var.traderId).closeAllPositions(c.var.traderId)), 200));
