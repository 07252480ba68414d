// /api/v1/orders: submit, list, read, cancel and audit a trader's orders. Each handler validates,
// calls the trader's desk (Durable Object) by RPC, and answers.
import { createRoute } from "@hono/zod-openapi";
import { z } from "zod";
import { requireRole } from "../auth";
import { deskOf, router } from "../context";
import { ApiError, unwrap } from "../http";
import { auditForOrder } from "../db/executions";
import { ErrorBody, type Result } from "../shared/errors";
import { AmendRequest, AuditEntry, IdempotencyKey, ListOrdersQuery, Order, OrderRequest, OrderWithFills, OrderWithLegs, SIDES, Symbol } from "../shared/orders";
import { authErrors, bearer, errorResponse, json, jsonBody, OrderIdParam } from "./schemas";

const AuditList = z.object({ data: z.array(AuditEntry), total: z.number().int() }).meta({ id: "AuditTrail" });
const OrderList = z.object({ data: z.array(OrderWithLegs), next_cursor: z.string().nullable() }).meta({ id: "OrderList" });

const submit = createRoute({
  method: "post",
  path: "/",
  tags: ["orders"],
  summary: "Submit an order",
  security: bearer,
  middleware: [requireRole("trader")] as const,
  request: {
    headers: z.object({ "idempotency-key": IdempotencyKey.optional().meta({ description: "Same key + same body returns the same order" }) }),
    body: jsonBody(OrderRequest),
  },
  responses: {
    201: json("Accepted: the order is PENDING and working (a bracket, oco or oto parent lists its legs); follow it on the WebSocket", OrderWithLegs),
    400: errorResponse("VALIDATION_ERROR (also: stop on the wrong side of the price, price off the tick), MALFORMED_JSON, UNKNOWN_SYMBOL, SYMBOL_NOT_TRADABLE, INSUFFICIENT_FUNDS, INSUFFICIENT_POSITION, PRICE_OUT_OF_BAND, ORDER_TOO_LARGE, MARKET_CLOSED"),
    ...authErrors,
    404: errorResponse("ACCOUNT_NOT_FOUND"),
    409: errorResponse("IDEMPOTENCY_KEY_IN_USE"),
    413: errorResponse("PAYLOAD_TOO_LARGE"),
    415: errorResponse("UNSUPPORTED_MEDIA_TYPE"),
    422: errorResponse("IDEMPOTENCY_KEY_REUSED"),
    429: errorResponse("RATE_LIMITED (see Retry-After)"),
  },
});

const list = createRoute({
  method: "get",
  path: "/",
  tags: ["orders"],
  summary: "Your orders, newest first",
  security: bearer,
  middleware: [requireRole("trader")] as const,
  request: { query: ListOrdersQuery },
  responses: { 200: json("A page of orders", OrderList), 400: errorResponse("VALIDATION_ERROR"), ...authErrors },
});

const read = createRoute({
  method: "get",
  path: "/{id}",
  tags: ["orders"],
  summary: "One order with its fills",
  security: bearer,
  middleware: [requireRole("trader")] as const,
  request: { params: OrderIdParam },
  responses: { 200: json("The order", OrderWithFills), ...authErrors, 404: errorResponse("ORDER_NOT_FOUND") },
});

const cancel = createRoute({
  method: "post",
  path: "/{id}/cancel",
  tags: ["orders"],
  summary: "Cancel a working order",
  security: bearer,
  middleware: [requireRole("trader")] as const,
  request: { params: OrderIdParam },
  responses: {
    200: json("Cancelled; fills that happened before stay", Order),
    ...authErrors,
    404: errorResponse("ORDER_NOT_FOUND"),
    409: errorResponse("ORDER_NOT_CANCELLABLE: the order is already FILLED, CANCELLED, REJECTED or EXPIRED"),
    503: errorResponse("VENUE_UNAVAILABLE: the venue did not confirm; nothing changed"),
  },
});

const amend = createRoute({
  method: "patch",
  path: "/{id}",
  tags: ["orders"],
  summary: "Amend a working order in place (cancel/replace: the id stays)",
  description:
    "Any of quantity (the new total, more than filled_quantity), price, stop_price, time_in_force. The amended order is checked as if new; the venue amends it atomically. A lower quantity keeps the order's place in the book; a new price or more shares lose it. An exit of a bracket, oto or oco amends its prices only (its quantity and time in force follow its entry), checked as at placement (take-profit above the entry, stop-loss below); a leg still HELD is amended on the desk and stays HELD.",
  security: bearer,
  middleware: [requireRole("trader")] as const,
  request: {
    params: OrderIdParam,
    headers: z.object({ "idempotency-key": IdempotencyKey.optional().meta({ description: "Same key + same body answers the same amend" }) }),
    body: jsonBody(AmendRequest),
  },
  responses: {
    200: json("Amended: the order with its new terms and amended_at", Order),
    400: errorResponse("VALIDATION_ERROR (a field this order type does not have, quantity not above filled, an exit's quantity or time in force, tick, stop side, an exit's side of its entry), MALFORMED_JSON, INSUFFICIENT_FUNDS, INSUFFICIENT_POSITION, PRICE_OUT_OF_BAND, ORDER_TOO_LARGE, REDUCE_ONLY"),
    ...authErrors,
    404: errorResponse("ORDER_NOT_FOUND"),
    409: errorResponse("ORDER_NOT_AMENDABLE (details.status: the order is final, a MARKET order, or filled while the amend was on its way), IDEMPOTENCY_KEY_IN_USE"),
    422: errorResponse("IDEMPOTENCY_KEY_REUSED"),
    429: errorResponse("RATE_LIMITED (see Retry-After)"),
    503: errorResponse("VENUE_UNAVAILABLE: the venue did not confirm in time; details.pending: the amend is settled with the venue later"),
  },
});

const CancelAllQuery = z.object({
  symbol: Symbol.optional(),
  side: z.enum(SIDES, { error: "side must be BUY or SELL" }).optional(),
});
const CancelOutcome = z
  .object({ id: z.string(), status: z.number().int(), order: Order.nullable(), error: ErrorBody.nullable() })
  .meta({ id: "CancelOutcome" });

type CancelOutcomeBody = z.infer<typeof CancelOutcome>;

const cancelAll = createRoute({
  method: "delete",
  path: "/",
  tags: ["orders"],
  summary: "Cancel every working order (optionally of one symbol and side)",
  security: bearer,
  middleware: [requireRole("trader")] as const,
  request: { query: CancelAllQuery },
  responses: {
    200: json("One result per working order, each exactly as POST /orders/{id}/cancel answers it (status 200, 409 or 503)", z.object({ data: z.array(CancelOutcome) }).meta({ id: "CancelAllResult" })),
    400: errorResponse("VALIDATION_ERROR"),
    ...authErrors,
    429: errorResponse("RATE_LIMITED (see Retry-After)"),
  },
});

const ClientOrderIdParam = z.object({
  client_order_id: z.string().regex(/^[\x21-\x7e]{1,64}$/, "client_order_id is 1-64 printable ASCII characters").meta({ param: { name: "client_order_id", in: "path" } }),
});

const byClientId = createRoute({
  method: "get",
  path: "/by-client-id/{client_order_id}",
  tags: ["orders"],
  summary: "One order by the client_order_id you gave it",
  security: bearer,
  middleware: [requireRole("trader")] as const,
  request: { params: ClientOrderIdParam },
  responses: { 200: json("The order", OrderWithFills), 400: errorResponse("VALIDATION_ERROR"), ...authErrors, 404: errorResponse("ORDER_NOT_FOUND") },
});

const auditTrail = createRoute({
  method: "get",
  path: "/{id}/audit",
  tags: ["orders"],
  summary: "The order's audit trail, oldest first",
  security: bearer,
  middleware: [requireRole("trader", "compliance")] as const,
  request: { params: OrderIdParam },
  responses: { 200: json("Every action on the order", AuditList), ...authErrors, 404: errorResponse("ORDER_NOT_FOUND") },
});

export const orders = router()
  .openapi(submit, async (c) => {
    const { "idempotency-key": key } = c.req.valid("header");
    const result = unwrap(await deskOf(c.env, c.var.traderId).submitOrder(c.var.traderId, c.req.valid("json"), key ?? null));
    if (result.replayed) c.header("Idempotent-Replayed", "true");
    return c.json(result.order, 201);
  })
  .openapi(cancelAll, async (c) => {
    const result: Result<{ data: CancelOutcomeBody[] }> = await deskOf(c.env, c.var.traderId).cancelAll(c.var.traderId, c.req.valid("query"));
    const { data } = unwrap<{ data: CancelOutcomeBody[] }>(result);
    return c.json({ data }, 200);
  })
  .openapi(byClientId, async (c) =>
    c.json(unwrap(await deskOf(c.env, c.var.traderId).orderByClientId(c.var.traderId, c.req.valid("param").client_order_id)), 200),
  )
  .openapi(amend, async (c) => {
    const { "idempotency-key": key } = c.req.valid("header");
    const result = unwrap(await deskOf(c.env, c.var.traderId).amendOrder(c.var.traderId, c.req.valid("param").id, c.req.valid("json"), key ?? null));
    if (result.replayed) c.header("Idempotent-Replayed", "true");
    return c.json(result.order, 200);
  })
  .openapi(list, async (c) => c.json(unwrap(await deskOf(c.env, c.var.traderId).listOrders(c.var.traderId, c.req.valid("query"))), 200))
  .openapi(read, async (c) => c.json(unwrap(await deskOf(c.env, c.var.traderId).getOrder(c.var.traderId, c.req.valid("param").id)), 200))
  .openapi(cancel, async (c) => c.json(unwrap(await deskOf(c.env, c.var.traderId).cancelOrder(c.var.traderId, c.req.valid("param").id)), 200))
  .openapi(auditTrail, async (c) => {
    const { id } = c.req.valid("param");
    if (c.var.role === "trader") return c.json(unwrap(await deskOf(c.env, c.var.traderId).auditTrail(c.var.traderId, id)), 200);
    // Compliance reads the system of record, for any trader.
    const data = await auditForOrder(c.env.DB, id);
    if (data.length === 0) throw new ApiError("ORDER_NOT_FOUND", `No audit rows for order ${id}`, { order_id: id });
    return c.json({ data, total: data.length }, 200);
  });
