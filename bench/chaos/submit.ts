// Sending one order as a careful client does: a request that gets no answer (a network error, a 5xx while a
// desk restarts, a 429, the key still in use) goes again with the same client_order_id; one told its price
// is on the wrong side of, or too far from, the desk's reference price (a quote that moved under it) is priced
// again from that reference and sent again, at most twice. Also the small readers of fillwire's answers.
import { errorCode, type HttpResult } from "../http.ts";
import type { Api } from "./api.ts";
import type { OrderBody, OrderKind } from "./scenario.ts";
import type { EventStream } from "./streams.ts";

const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms));

export interface DrillTrader {
  id: string;
  token: string;
  streams: EventStream[];
}

export interface SubmitRecord {
  trader: string;
  /** The planned kind, or "close" for the MARKET SELL a position close placed. */
  kind: OrderKind | "close";
  body: OrderBody;
  clientOrderId: string;
  /** The last HTTP status (201 when acknowledged; 0 for a network failure or a timeout). */
  status: number;
  code: string | null;
  tries: number;
  orderId: string | null;
  /** A contingent parent's legs, as its 201 listed them (empty otherwise). */
  legIds: string[];
  /** Date.now() when the 201 arrived. */
  ackedAt: number | null;
  ms: number;
  /** Times the order was priced again from the reference price a 400 named (its price had moved meanwhile). */
  repriced: number;
  /** The first refusal that led to a re-pricing ("400 VALIDATION_ERROR stop_price", "400 PRICE_OUT_OF_BAND"), or null. */
  repricedAfter: string | null;
}

/** Statuses worth trying again with the same client_order_id. */
export const retryable = (r: HttpResult | null) =>
  r === null || r.status >= 500 || r.status === 429 || (r.status === 409 && errorCode(r).endsWith("IDEMPOTENCY_KEY_IN_USE"));

/**
 * POST /api/v1/orders for `bodyAt(priceCents)` (the order priced from a price in cents), with up to six tries
 * under one client_order_id, re-priced from the reference (or a contingent entry's price) a 400 names.
 */
export async function sendOrder(
  api: Api, trader: DrillTrader, kind: OrderKind, clientOrderId: string, bodyAt: (priceCents: number) => OrderBody, priceCents: number,
): Promise<SubmitRecord> {
  let body = bodyAt(priceCents);
  const t0 = performance.now();
  let last: HttpResult | null = null;
  let tries = 0;
  let repriced = 0;
  let repricedAfter: string | null = null;
  for (; tries < 6; tries++) {
    if (tries > 0 && retryable(last)) await sleep(150 * 2 ** (tries - 1));
    try {
      last = await api.http.send("POST", "/api/v1/orders", { token: trader.token, body: { ...body, client_order_id: clientOrderId }, timeoutMs: 15_000 });
    } catch {
      last = null;
    }
    const reference = repriced < 2 ? referencePriceOf(last) : null;
    if (reference !== null) {
      // A refused request uses up no key: the same client_order_id goes again, priced from the desk's reference.
      repricedAfter ??= refusal(last!);
      repriced++;
      body = bodyAt(reference);
      continue;
    }
    if (!retryable(last)) break;
  }
  const acked = last?.status === 201;
  const created = acked ? idsOf(last!.text) : null;
  return {
    trader: trader.id, kind, body, clientOrderId, status: last?.status ?? 0, code: last && !acked ? errorCode(last) : last ? null : "network",
    tries: Math.min(tries + 1, 6), orderId: created?.id ?? null, legIds: created?.legs ?? [], ackedAt: acked ? Date.now() : null,
    ms: Math.round(performance.now() - t0), repriced, repricedAfter,
  };
}

/** An error body's message, or null. */
export function messageOf(r: HttpResult): string | null {
  try {
    const body = JSON.parse(r.text) as { message?: unknown };
    return typeof body.message === "string" ? body.message : null;
  } catch {
    return null;
  }
}

/** An error body's details, or {}. */
export function detailsOf(r: HttpResult): Record<string, unknown> {
  try {
    const body = JSON.parse(r.text) as { details?: unknown };
    return body.details && typeof body.details === "object" ? (body.details as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/**
 * The price (cents) a 400 names when an order's price sits on the wrong side of the reference price or
 * outside its band (`reference_price`), or when a contingent order's exit sits on the wrong side of its
 * entry (`entry_price`: the reference price, for a MARKET entry or an oco).
 */
function referencePriceOf(r: HttpResult | null): number | null {
  if (!r || r.status !== 400) return null;
  const details = detailsOf(r);
  const ref = details.reference_price ?? details.entry_price;
  const code = errorCode(r);
  if ((!code.endsWith("VALIDATION_ERROR") && !code.endsWith("PRICE_OUT_OF_BAND")) || typeof ref !== "number") return null;
  return Math.round(ref * 100);
}

function refusal(r: HttpResult): string {
  try {
    const body = JSON.parse(r.text) as { error?: string; details?: { fields?: Record<string, unknown>; field?: string } };
    const field = body.details?.field ?? Object.keys(body.details?.fields ?? {})[0] ?? "";
    return `${r.status} ${body.error ?? ""} ${field}`.trim();
  } catch {
    return String(r.status);
  }
}

/** The order's id in a 201, with its legs' ids (a contingent parent lists them). */
function idsOf(text: string): { id: string; legs: string[] } | null {
  try {
    const value: unknown = JSON.parse(text);
    if (!value || typeof value !== "object" || !("id" in value) || typeof value.id !== "string") return null;
    const legs = "legs" in value && Array.isArray(value.legs) ? value.legs : [];
    return { id: value.id, legs: legs.flatMap((l: unknown) => (l && typeof l === "object" && "id" in l && typeof l.id === "string" ? [l.id] : [])) };
  } catch {
    return null;
  }
}
