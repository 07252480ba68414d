// A new order's admission on the desk: its idempotency key, the answer to a repeated request, and the
// order written with its reservation and its SUBMITTED step (one transaction, inside the caller's).
import { newId } from "../ids";
import { fail, ok, type Result } from "../shared/errors";
import type { Order, OrderClass, OrderRequest } from "../shared/orders";
import { audit } from "./lifecycle";
import type { Approval } from "./risk";
import type { OrderRow } from "./schema";
import type { DeskStore } from "./store";
import { toOrder } from "./views";

export interface Submitted {
  /** The order; a contingent parent also lists its legs. */
  order: Order & { legs?: Order[] };
  replayed: boolean;
}

/** The key that makes a submit idempotent: the Idempotency-Key header, else the client_order_id. */
export function idempotencyKeyOf(request: OrderRequest, header: string | null): string | null {
  return header ?? (request.client_order_id ? `client_order_id:${request.client_order_id}` : null);
}

/** Every key under which the order is known while it is being created (header key and client_order_id). */
export function claimsOf(request: OrderRequest, key: string | null): string[] {
  return [key, request.client_order_id ? `client_order_id:${request.client_order_id}` : null].filter((k): k is string => k !== null);
}

/** The same request body (an order, or an amend), however its JSON keys were ordered. */
export function fingerprintOf(request: object): string {
  const entries = Object.entries(request).filter(([, v]) => v !== undefined).sort(([a], [b]) => a.localeCompare(b));
  return JSON.stringify(entries);
}

/** A repeated key: the same order again for the same body, 422 IDEMPOTENCY_KEY_REUSED for another. */
export function answerRepeat(previous: OrderRow, fingerprint: string, traderId: string): Result<Submitted> {
  if (previous.fingerprint === fingerprint) return ok({ order: toOrder(previous, traderId), replayed: true });
  return fail("IDEMPOTENCY_KEY_REUSED", "This idempotency key was already used for a different order; use a new key for a new order", {
    order_id: previous.id,
  });
}

/** A contingent parent's answer (a replay of its submit too) lists its legs, as its first 201 did. */
export function withLegs(result: Result<Submitted>, store: DeskStore): Result<Submitted> {
  if (!result.ok) return result;
  const { order } = result.value;
  if (order.order_class === "simple" || order.parent_order_id !== null) return result;
  return ok({ ...result.value, order: { ...order, legs: store.legsOf(order.id).map((l) => toOrder(l, order.trader_id)) } });
}

export interface Placement {
  key: string | null;
  fingerprint: string;
  nowMs: number;
  /** Epoch ms when the alarm takes over a first send that has not concluded. */
  backstopAt: number;
  /** Epoch ms when a DAY order expires (null for other times in force). */
  expiresAt: number | null;
  orderClass?: OrderClass;
}

/** Writes the approved order (stage SENT), its reservation and its SUBMITTED step; call inside atomically(). */
export function placeOrder(store: DeskStore, request: OrderRequest, approval: Approval, p: Placement): OrderRow {
  const at = new Date(p.nowMs).toISOString();
  const row = store.insertOrder({
    id: newId("ord", p.nowMs), idem_key: p.key, fingerprint: p.fingerprint, client_order_id: request.client_order_id ?? null,
    symbol: request.symbol, side: request.side, quantity: request.quantity, order_type: request.order_type,
    limit_cents: approval.limitCents, stop_cents: approval.stopCents, protect_cents: approval.protectCents,
    max_cost_cents: approval.maxCostCents, tif: request.time_in_force, reserved_cents: approval.reservedCents,
    reserved_qty: approval.reservedQuantity, created_at: at, next_attempt_at: p.backstopAt, expires_at: p.expiresAt,
    trail_cents: approval.trailCents, trail_bp: approval.trailBp, hwm_cents: approval.hwmCents, order_class: p.orderClass ?? "simple",
  });
  store.adjustAccount(0, approval.reservedCents, at);
  if (approval.reservedQuantity > 0) store.reserveShares(request.symbol, approval.reservedQuantity);
  store.record(row, audit("SUBMITTED", "PENDING"), "order.submitted", p.nowMs);
  return row;
}
