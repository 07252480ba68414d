// The order ticket as plain data: what the trader typed, the request it becomes (checked with the very
// zod schema the Worker validates with), the cost estimate and the Idempotency-Key of the ticket.
import { toCents } from "../../worker/shared/money";
import { needsLimitPrice, needsStopPrice, OrderRequest } from "../../worker/shared/orders";
import { checkStopSide, checkTick } from "../../worker/shared/price-rules";
import type { OrderRequestInput, OrderType, Side, TimeInForce } from "../../worker/shared/orders";

export interface TicketDraft {
  symbol: string;
  side: Side;
  quantity: string;
  order_type: OrderType;
  price: string;
  stop_price: string;
  time_in_force: TimeInForce;
}

export type TicketField = "symbol" | "side" | "quantity" | "order_type" | "price" | "stop_price" | "time_in_force";
export type FieldErrors = Partial<Record<TicketField | "body", string>>;

export const initialDraft = (symbol = "AAPL"): TicketDraft => ({
  symbol,
  side: "BUY",
  quantity: "100",
  order_type: "MARKET",
  price: "",
  stop_price: "",
  time_in_force: "DAY",
});

/** "" is missing, anything else must read as a number (zod then says what is wrong with it). */
function number(text: string): number | undefined {
  const trimmed = text.trim().replace(/,/g, "");
  return trimmed === "" ? undefined : Number(trimmed);
}

/** The instrument as the ticket knows it: its reference price and tick, in dollars. */
export interface TicketInstrument {
  price: number;
  tick_size: number;
}

/**
 * The request body for the draft, or the messages of each bad field (the server's own wording). With the
 * instrument, the price rules the desk applies (tick, side of a stop) are checked too, by the same code.
 */
export function toOrderRequest(draft: TicketDraft, instrument?: TicketInstrument): { ok: true; body: OrderRequestInput } | { ok: false; errors: FieldErrors } {
  const candidate: Record<string, unknown> = {
    symbol: draft.symbol,
    side: draft.side,
    quantity: number(draft.quantity),
    order_type: draft.order_type,
    time_in_force: draft.time_in_force,
  };
  // Only the prices the order type uses are sent; a hidden field never reaches the server.
  if (needsLimitPrice(draft.order_type)) candidate.price = number(draft.price);
  if (needsStopPrice(draft.order_type)) candidate.stop_price = number(draft.stop_price);
  const parsed = OrderRequest.safeParse(candidate);
  if (parsed.success) {
    const errors = instrument ? priceRuleErrors(parsed.data, instrument) : {};
    return Object.keys(errors).length > 0 ? { ok: false, errors } : { ok: true, body: stripDefaults(candidate) };
  }
  const errors: FieldErrors = {};
  for (const issue of parsed.error.issues) {
    const field = (typeof issue.path[0] === "string" ? issue.path[0] : "body") as TicketField | "body";
    errors[field] ??= issue.message;
  }
  return { ok: false, errors };
}

function priceRuleErrors(order: OrderRequest, instrument: TicketInstrument): FieldErrors {
  const errors: FieldErrors = {};
  const tickCents = toCents(instrument.tick_size) ?? 1;
  const refCents = toCents(instrument.price);
  for (const field of ["price", "stop_price"] as const) {
    const value = order[field];
    const cents = value === undefined ? undefined : toCents(value);
    const failure = cents === undefined ? null : checkTick(field, cents, tickCents, order.symbol);
    if (failure) errors[field] = String((failure.details?.fields as Record<string, string>)[field]);
  }
  const stopCents = order.stop_price === undefined ? undefined : toCents(order.stop_price);
  if (!errors.stop_price && stopCents !== undefined && refCents !== undefined) {
    const failure = checkStopSide(order.side, order.order_type, stopCents, refCents, order.symbol);
    if (failure) errors.stop_price = String((failure.details?.fields as Record<string, string>).stop_price);
  }
  return errors;
}

function stripDefaults(candidate: Record<string, unknown>): OrderRequestInput {
  const body = Object.fromEntries(Object.entries(candidate).filter(([, v]) => v !== undefined));
  return body as OrderRequestInput;
}

/** What the funds check will price the order at: the limit, a BUY stop's larger of stop and reference, a SELL stop, else the reference price. */
export function estimatedCost(draft: TicketDraft, referencePrice: number | undefined): number | null {
  const quantity = number(draft.quantity);
  if (quantity === undefined || !Number.isFinite(quantity) || quantity <= 0) return null;
  const unit = needsLimitPrice(draft.order_type)
    ? number(draft.price)
    : needsStopPrice(draft.order_type)
      ? draft.side === "BUY" && referencePrice !== undefined ? Math.max(number(draft.stop_price) ?? NaN, referencePrice) : number(draft.stop_price)
      : referencePrice;
  if (unit === undefined || !Number.isFinite(unit) || unit <= 0) return null;
  return Math.round(quantity * unit * 100) / 100;
}

/** A fresh Idempotency-Key. */
export function newKey(): string {
  if (typeof crypto.randomUUID === "function") return crypto.randomUUID();
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");
}

export interface TicketKey {
  key: string;
  /** The body this key was first sent with. */
  body: string;
}

/**
 * The Idempotency-Key for sending `body`: the same ticket sent again (a double click, a retry after a
 * network error) keeps its key, so the server answers with the same order; a changed ticket is a new
 * order and gets a new key. After a success the caller drops the key: the next order is a new one.
 */
export function keyFor(previous: TicketKey | null, body: string, newKey: () => string): TicketKey {
  return previous && previous.body === body ? previous : { key: newKey(), body };
}

export function submitLabel(draft: TicketDraft): string {
  const quantity = number(draft.quantity);
  const shown = quantity !== undefined && Number.isFinite(quantity) ? new Intl.NumberFormat("en-US").format(quantity) : "";
  return [draft.side === "BUY" ? "Buy" : "Sell", shown, draft.symbol].filter(Boolean).join(" ");
}
