// Amending a working order from its blotter row, as plain data: which orders can be amended, the draft
// the trader edits (quantity, prices, a trailing stop's trail, time in force), and the PATCH body it
// becomes: only what changed, checked with the zod schema the Worker validates with and the desk's own
// price rules. An exit of a contingent order (a leg, or an oco's take-profit) amends its prices only: its
// quantity follows its entry's fills and its time in force its entry's; a HELD leg is amended on the desk.
import { toCents } from "../../worker/shared/money";
import { AmendRequest, needsLimitPrice, needsStopPrice, type TimeInForce } from "../../worker/shared/orders";
import { checkStopSide, checkTick } from "../../worker/shared/price-rules";
import type { OrderView } from "./blotter";
import { isWorking } from "./blotter";
import { price, quantity } from "./format";
import type { TicketInstrument } from "./ticket";

export interface AmendDraft {
  quantity: string;
  price: string;
  stop_price: string;
  /** A trailing stop's trail, in the order's own unit (dollars or percent). */
  trail: string;
  /** "" when the order's time in force is not known yet (or is not DAY or GTC): left as it is. */
  time_in_force: "" | "DAY" | "GTC";
}

export type AmendField = "quantity" | "price" | "stop_price" | "trail_price" | "trail_percent" | "time_in_force";
export type AmendErrors = Partial<Record<AmendField | "body", string>>;
export type AmendBody = Partial<{ quantity: number; price: number; stop_price: number; trail_price: number; trail_percent: number; time_in_force: "DAY" | "GTC" }>;

type AmendableOrder = Pick<OrderView, "order_type" | "status" | "triggered">;

/**
 * A working LIMIT, STOP, STOP_LIMIT or TRAILING_STOP order (a STOP or trailing stop that triggered works
 * as a market order: not amendable), a leg HELD until its entry fills included.
 */
export function canAmend(order: AmendableOrder): boolean {
  if (!isWorking(order) || order.order_type === "MARKET") return false;
  return !((order.order_type === "STOP" || order.order_type === "TRAILING_STOP") && order.triggered);
}

/** An exit of a contingent order (a leg, or an oco's take-profit): its prices only, not its quantity or time in force. */
export const isExit = (order: Pick<OrderView, "parent_order_id" | "order_class">) => order.parent_order_id !== null || order.order_class === "oco";

/** Whether the draft shows a stop price: the order has one and it has not triggered yet (a trailing stop's follows its trail). */
export const editsStop = (order: Pick<OrderView, "order_type" | "triggered">) => needsStopPrice(order.order_type) && !order.triggered;
export const editsPrice = (order: Pick<OrderView, "order_type">) => needsLimitPrice(order.order_type);
/** The trail field a trailing stop edits (in the unit it was placed with), or null. */
export function editsTrail(order: Pick<OrderView, "order_type" | "triggered" | "trail_price" | "trail_percent">): "trail_price" | "trail_percent" | null {
  if (order.order_type !== "TRAILING_STOP" || order.triggered) return null;
  return order.trail_percent !== null ? "trail_percent" : "trail_price";
}

const amendableTif = (tif: TimeInForce | null): AmendDraft["time_in_force"] => (tif === "DAY" || tif === "GTC" ? tif : "");

/** The draft starts from the order's current terms. */
export function amendDraft(order: Pick<OrderView, "quantity" | "price" | "stop_price" | "time_in_force"> & Partial<Pick<OrderView, "trail_price" | "trail_percent">>): AmendDraft {
  return {
    quantity: String(order.quantity),
    price: order.price === null ? "" : order.price.toFixed(2),
    stop_price: order.stop_price === null ? "" : order.stop_price.toFixed(2),
    trail: order.trail_percent != null ? String(order.trail_percent) : order.trail_price != null ? order.trail_price.toFixed(2) : "",
    time_in_force: amendableTif(order.time_in_force),
  };
}

/** "" is missing, anything else must read as a number (zod then says what is wrong with it). */
function number(text: string): number | undefined {
  const trimmed = text.trim().replace(/,/g, "");
  return trimmed === "" ? undefined : Number(trimmed);
}

const sameMoney = (a: number | undefined, b: number | null) => a !== undefined && b !== null && toCents(a) !== undefined && toCents(a) === toCents(b);

/**
 * The PATCH body for the draft: the fields that differ from the order's terms, or the messages of each bad
 * field (the server's wording). With the instrument, a changed price is checked against its tick and a
 * changed stop against the side of the reference price it triggers from, as the desk checks them.
 */
export function toAmendRequest(
  order: Pick<OrderView, "symbol" | "side" | "order_type" | "quantity" | "filled_quantity" | "price" | "stop_price" | "time_in_force" | "triggered"> &
    Partial<Pick<OrderView, "trail_price" | "trail_percent">>,
  draft: AmendDraft,
  instrument?: TicketInstrument,
): { ok: true; body: AmendBody } | { ok: false; errors: AmendErrors } {
  const errors: AmendErrors = {};
  const candidate: Record<string, unknown> = {};
  const quantity = number(draft.quantity);
  if (quantity === undefined) errors.quantity = "quantity is required: the new total number of shares";
  else if (quantity !== order.quantity) candidate.quantity = quantity;
  if (editsPrice(order)) {
    const price = number(draft.price);
    if (price === undefined) errors.price = `price is required for ${order.order_type} orders`;
    else if (!sameMoney(price, order.price)) candidate.price = price;
  }
  if (editsStop(order)) {
    const stop = number(draft.stop_price);
    if (stop === undefined) errors.stop_price = `stop_price is required for ${order.order_type} orders`;
    else if (!sameMoney(stop, order.stop_price)) candidate.stop_price = stop;
  }
  const trailField = editsTrail({ trail_price: null, trail_percent: null, ...order });
  if (trailField) {
    const trail = number(draft.trail);
    const current = order[trailField] ?? null;
    if (trail === undefined) errors[trailField] = "a TRAILING_STOP takes exactly one of trail_price or trail_percent";
    else if (trailField === "trail_price" ? !sameMoney(trail, current) : trail !== current) candidate[trailField] = trail;
  }
  if (draft.time_in_force !== "" && draft.time_in_force !== order.time_in_force) candidate.time_in_force = draft.time_in_force;

  if (Object.keys(errors).length > 0) return { ok: false, errors };
  if (Object.keys(candidate).length === 0) return { ok: false, errors: { body: `Nothing changed: edit the quantity or ${trailField ? "the trail" : "a price"} first` } };

  const parsed = AmendRequest.safeParse(candidate);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const field = (typeof issue.path[0] === "string" ? issue.path[0] : "body") as AmendField | "body";
      errors[field] ??= issue.message;
    }
    return { ok: false, errors };
  }
  const body = parsed.data;
  if (body.quantity !== undefined && body.quantity <= order.filled_quantity) {
    errors.quantity = `quantity is the new total and must be more than the ${order.filled_quantity} shares already filled`;
  }
  const priceErrors = instrument ? priceRuleErrors(order, body, instrument) : {};
  if (Object.keys(errors).length + Object.keys(priceErrors).length > 0) return { ok: false, errors: { ...priceErrors, ...errors } };
  return { ok: true, body };
}

function priceRuleErrors(order: Pick<OrderView, "symbol" | "side" | "order_type">, body: AmendBody, instrument: TicketInstrument): AmendErrors {
  const errors: AmendErrors = {};
  const tickCents = toCents(instrument.tick_size) ?? 1;
  for (const field of ["price", "stop_price", "trail_price"] as const) {
    const value = body[field];
    const cents = value === undefined ? undefined : toCents(value);
    const failure = cents === undefined ? null : checkTick(field, cents, tickCents, order.symbol);
    if (failure) errors[field] = String((failure.details?.fields as Record<string, string>)[field]);
  }
  const stopCents = body.stop_price === undefined ? undefined : toCents(body.stop_price);
  const refCents = toCents(instrument.price);
  if (!errors.stop_price && stopCents !== undefined && refCents !== undefined) {
    const failure = checkStopSide(order.side, order.order_type, stopCents, refCents, order.symbol);
    if (failure) errors.stop_price = String((failure.details?.fields as Record<string, string>).stop_price);
  }
  return errors;
}

/** The new terms in words, for the toast after an amend: "quantity 80, limit $141.00". */
export function describeAmendBody(body: AmendBody): string {
  const parts: string[] = [];
  if (body.quantity !== undefined) parts.push(`quantity ${quantity(body.quantity)}`);
  if (body.price !== undefined) parts.push(`limit ${price(body.price)}`);
  if (body.stop_price !== undefined) parts.push(`stop ${price(body.stop_price)}`);
  if (body.trail_price !== undefined) parts.push(`trail ${price(body.trail_price)}`);
  if (body.trail_percent !== undefined) parts.push(`trail ${body.trail_percent}%`);
  if (body.time_in_force !== undefined) parts.push(body.time_in_force);
  return parts.join(", ");
}
