// Orders on the trader's WebSocket (SPEC, "Orders on the socket"): the client's commands and the desk's
// answers. The commands carry the very bodies the HTTP routes take, checked with the same zod schemas, so a
// rule holds on both doors; acks and rejects are answers, not events: they carry no seq and are not replayed.
// Plain zod, shared with the page.
import { z } from "zod";
import { validationError, type ErrorBody } from "./errors";
import { AmendRequest, IdempotencyKey, Order, OrderRequest, OrderWithLegs, SIDES, Symbol } from "./orders";

/** The client's own id for a command, echoed in its answer: 1-64 printable ASCII characters. */
export const RequestId = z.string().regex(/^[\x21-\x7e]{1,64}$/, "request_id must be 1-64 printable ASCII characters without spaces");

export const ORDER_COMMANDS = ["submit", "cancel", "amend", "cancel_all"] as const;
export type OrderCommandType = (typeof ORDER_COMMANDS)[number];

export const SubmitCommand = z.strictObject({
  type: z.literal("submit"), request_id: RequestId, order: OrderRequest, idempotency_key: IdempotencyKey.optional(),
});
export const CancelCommand = z.strictObject({ type: z.literal("cancel"), request_id: RequestId, order_id: z.string().min(1).max(64) });
export const AmendCommand = z.strictObject({
  type: z.literal("amend"), request_id: RequestId, order_id: z.string().min(1).max(64), changes: AmendRequest, idempotency_key: IdempotencyKey.optional(),
});
export const CancelAllCommand = z.strictObject({
  type: z.literal("cancel_all"), request_id: RequestId, symbol: Symbol.optional(), side: z.enum(SIDES, { error: "side must be BUY or SELL" }).optional(),
});
export const OrderCommand = z.discriminatedUnion("type", [SubmitCommand, CancelCommand, AmendCommand, CancelAllCommand]).meta({ id: "OrderCommand" });
export type OrderCommand = z.output<typeof OrderCommand>;

const CancelOutcome = z.object({ id: z.string(), status: z.number().int(), order: Order.nullable(), error: z.unknown().nullable() });

export const Ack = z
  .object({ type: z.literal("ack"), request_id: z.string(), order: OrderWithLegs.optional(), results: z.array(CancelOutcome).optional(), replayed: z.boolean().optional() })
  .meta({ id: "Ack" });
export const Reject = z
  .object({ type: z.literal("reject"), request_id: z.string().nullable(), status: z.number().int(), error: z.string(), message: z.string(), details: z.record(z.string(), z.unknown()) })
  .meta({ id: "Reject" });
export type Ack = z.infer<typeof Ack>;
export type Reject = z.infer<typeof Reject>;

/** True when a parsed client message names one of the order commands (it is then judged as one). */
export function isOrderCommand(value: unknown): boolean {
  const type = typeof value === "object" && value !== null ? (value as { type?: unknown }).type : undefined;
  return typeof type === "string" && (ORDER_COMMANDS as readonly string[]).includes(type);
}

/** The request_id of a message, when it has a usable one (so even a refused command is answered by it). */
export function requestIdOf(value: unknown): string | null {
  const id = typeof value === "object" && value !== null ? (value as { request_id?: unknown }).request_id : undefined;
  return RequestId.safeParse(id).success ? (id as string) : null;
}

/** An order command checked with the HTTP routes' schemas, or the 400 VALIDATION_ERROR the route would answer. */
export function parseOrderCommand(value: unknown): { ok: true; command: OrderCommand } | { ok: false; requestId: string | null; body: ErrorBody } {
  const parsed = OrderCommand.safeParse(value);
  if (parsed.success) return { ok: true, command: parsed.data };
  return { ok: false, requestId: requestIdOf(value), body: validationError(parsed.error) };
}

/** A refusal as the socket says it: the HTTP status and error code the route would give. */
export function reject(requestId: string | null, status: number, body: ErrorBody): Reject {
  return { type: "reject", request_id: requestId, status, error: body.error, message: body.message, details: body.details };
}

/** The socket protocol for client developers (served in the OpenAPI document's description). */
export const SOCKET_ORDERS_DOC = `
### Orders on the socket
An authenticated \`/ws/orders/events\` socket (trader role) also takes orders, so a client sends and hears on one connection:
- \`{"type":"submit","request_id":"r1","order":{...the POST /api/v1/orders body...},"idempotency_key":"k1"}\`
- \`{"type":"cancel","request_id":"r2","order_id":"ord_..."}\`
- \`{"type":"amend","request_id":"r3","order_id":"ord_...","changes":{...the PATCH /api/v1/orders/{id} body...}}\`
- \`{"type":"cancel_all","request_id":"r4","symbol":"AAPL","side":"BUY"}\` (both optional)

Answers: \`{"type":"ack","request_id","order"}\` (for cancel_all \`"results"\` as DELETE /api/v1/orders answers; \`"replayed":true\` for an idempotent replay) or \`{"type":"reject","request_id","status","error","message","details"}\` with the very status and error code the HTTP route would give (400 VALIDATION_ERROR naming the field, 403 TRADING_HALTED, 409, 422, 429 RATE_LIMITED with details.retry_after_seconds, 503). An order's ack is sent before any of its events; acks and rejects carry no seq and are not replayed. Idempotency keys are shared with HTTP: a key used on one door replays on the other. Order messages count against the trader's order rate limit, not the socket's message budget. \`request_id\` is 1-64 printable characters.
`;
