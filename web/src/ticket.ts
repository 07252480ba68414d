// The order ticket as plain data: what the trader typed, the request it becomes (checked with the very
// zod schema the Worker validates with), the cost estimate and the Idempotency-Key of the ticket.
// It places simple orders (a TRAILING_STOP trails by dollars or by percent) and contingent ones: a
// bracket or oto entry with its exits, or an oco (two exits for shares held); SPEC, "Trailing and
// contingent orders". Only the fields the chosen type and class use are sent.
import { toCents, toDollars } from "../../worker/shared/money";
import { needsLimitPrice, needsStopPrice, OrderRequest, ORDER_TYPES, TIME_IN_FORCE } from "../../worker/shared/orders";
import { checkStopSide, checkTick, exitRules } from "../../worker/shared/price-rules";
import { trailingStop } from "../../worker/venue/trailing";
import type { OrderClass, OrderRequestInput, OrderType, Side, TimeInForce } from "../../worker/shared/orders";

export type TrailMode = "price" | "percent";
/** The one exit of an oto. */
export type OtoExit = "take_profit" | "stop_loss";

export interface TicketDraft {
  symbol: string;
  side: Side;
  quantity: string;
  order_type: OrderType;
  price: string;
  stop_price: string;
  time_in_force: TimeInForce;
  /** TRAILING_STOP: which trail is sent, and each one as typed (switching keeps the other). */
  trail_mode: TrailMode;
  trail_price: string;
  trail_percent: string;
  order_class: OrderClass;
  oto_exit: OtoExit;
  /** take_profit.limit_price, stop_loss.stop_price and the optional stop_loss.limit_price. */
  take_profit: string;
  stop_loss: string;
  stop_loss_limit: string;
}

export type TicketField =
  | "symbol" | "side" | "quantity" | "order_type" | "price" | "stop_price" | "trail_price" | "trail_percent" | "time_in_force"
  | "order_class" | "take_profit.limit_price" | "stop_loss.stop_price" | "stop_loss.limit_price";
export type FieldErrors = Partial<Record<TicketField | "body", string>>;

/** The ticket's fields in the order they are shown (the first bad one takes the focus). */
export const FIELD_ORDER: TicketField[] = [
  "symbol", "side", "quantity", "order_type", "stop_price", "trail_price", "trail_percent", "price", "time_in_force",
  "order_class", "take_profit.limit_price", "stop_loss.stop_price", "stop_loss.limit_price",
];

export const initialDraft = (symbol = "AAPL"): TicketDraft => ({
  symbol,
  side: "BUY",
  quantity: "100",
  order_type: "MARKET",
  price: "",
  stop_price: "",
  time_in_force: "DAY",
  trail_mode: "price",
  trail_price: "",
  trail_percent: "",
  order_class: "simple",
  oto_exit: "take_profit",
  take_profit: "",
  stop_loss: "",
  stop_loss_limit: "",
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

// ------------------------------------------------------------ what each class allows

/**
 * The sides a class allows: a bracket or oto entry buys (its exits sell) or sells shares held (its exits buy
 * them back); an oco sells shares held (fillwire has no short selling).
 */
export function classSides(orderClass: OrderClass): readonly Side[] {
  return orderClass === "oco" ? ["SELL"] : ["BUY", "SELL"];
}

/** The order types a class allows: a bracket or oto entry is MARKET or LIMIT; an oco is its take-profit LIMIT. */
export function classTypes(orderClass: OrderClass): readonly OrderType[] {
  return orderClass === "simple" ? ORDER_TYPES : orderClass === "oco" ? ["LIMIT"] : ["MARKET", "LIMIT"];
}

/** A contingent order works until its exits are done: DAY or GTC. */
export function classTimeInForce(orderClass: OrderClass): readonly TimeInForce[] {
  return orderClass === "simple" ? TIME_IN_FORCE : ["DAY", "GTC"];
}

export const usesTakeProfit = (d: Pick<TicketDraft, "order_class" | "oto_exit">) =>
  d.order_class === "bracket" || d.order_class === "oco" || (d.order_class === "oto" && d.oto_exit === "take_profit");
export const usesStopLoss = (d: Pick<TicketDraft, "order_class" | "oto_exit">) =>
  d.order_class === "bracket" || d.order_class === "oco" || (d.order_class === "oto" && d.oto_exit === "stop_loss");
/** The limit price field is the entry's (an oco's parent is its take-profit: no separate limit). */
export const usesLimitPrice = (d: Pick<TicketDraft, "order_type" | "order_class">) => needsLimitPrice(d.order_type) && d.order_class !== "oco";

/** `ref` moved by `pct` percent, rounded to whole ticks, at least one tick away (dollars, as typed). */
function offset(ref: number, tick: number, pct: number): string {
  const tickCents = toCents(tick) ?? 1;
  const refCents = Math.round(ref * 100);
  const ticks = Math.max(1, Math.round((Math.abs(pct) * refCents) / 100 / tickCents));
  return toDollars(Math.max(tickCents, refCents + Math.sign(pct) * ticks * tickCents)).toFixed(2);
}

/**
 * The draft for another order class: side, type and time in force moved to what the class allows, and
 * empty exits started 2% either side of the entry (the limit typed, else the price), on the tick: the
 * take-profit above a BUY entry and the stop-loss below, mirrored for a SELL entry.
 */
export function withOrderClass(draft: TicketDraft, orderClass: OrderClass, instrument?: TicketInstrument): TicketDraft {
  const next: TicketDraft = { ...draft, order_class: orderClass };
  const sides = classSides(orderClass);
  if (!sides.includes(next.side)) next.side = sides[0]!;
  const types = classTypes(orderClass);
  if (!types.includes(next.order_type)) next.order_type = types[0]!;
  if (!classTimeInForce(orderClass).includes(next.time_in_force)) next.time_in_force = "DAY";
  if (instrument && orderClass !== "simple") {
    const entry = usesLimitPrice(next) ? number(next.price) : undefined;
    const basis = entry !== undefined && Number.isFinite(entry) && entry > 0 ? entry : instrument.price;
    const rules = exitRules(orderClass === "oco" ? "BUY" : next.side);
    if (next.take_profit === "") next.take_profit = offset(basis, instrument.tick_size, rules.takeProfit === "above" ? 2 : -2);
    if (next.stop_loss === "") next.stop_loss = offset(basis, instrument.tick_size, rules.stopLoss === "above" ? 2 : -2);
  }
  return next;
}

/**
 * The draft for the other side. A bracket's or oto's exits change sides of the entry with it (a BUY's
 * take-profit above and stop-loss below; a SELL's mirrored), so the two prices trade places; a stop-loss
 * limit, which belongs to the old stop, is cleared.
 */
export function withSide(draft: TicketDraft, side: Side): TicketDraft {
  if (side === draft.side || (draft.order_class !== "bracket" && draft.order_class !== "oto")) return { ...draft, side };
  return { ...draft, side, take_profit: draft.stop_loss, stop_loss: draft.take_profit, stop_loss_limit: "" };
}

/** A trail to start from: about 1% of the price, on the tick (dollars), or 1 (percent). */
export function defaultTrail(mode: TrailMode, instrument: TicketInstrument): string {
  if (mode === "percent") return "1";
  const tickCents = toCents(instrument.tick_size) ?? 1;
  const ticks = Math.max(1, Math.round(instrument.price / tickCents)); // 1% of the price, in cents, is the price in dollars
  return toDollars(ticks * tickCents).toFixed(2);
}

// ------------------------------------------------------------ the request

/** A field as the server names it (`stop_loss.stop_price`); a missing exit (`stop_loss`) is shown at its price. */
export function fieldOf(path: string): TicketField | "body" {
  if (path === "take_profit") return "take_profit.limit_price";
  if (path === "stop_loss") return "stop_loss.stop_price";
  return (FIELD_ORDER as string[]).includes(path) ? (path as TicketField) : "body";
}

/** The messages of a refusal, at the fields it names: details.fields of a VALIDATION_ERROR, details.field of another. */
export function refusalErrors(code: string, message: string, details: Record<string, unknown> | undefined): FieldErrors {
  const errors: FieldErrors = {};
  const fields = details?.fields;
  if (code === "VALIDATION_ERROR" && fields && typeof fields === "object") {
    for (const [path, text] of Object.entries(fields as Record<string, unknown>)) errors[fieldOf(path)] ??= String(text);
  } else if (typeof details?.field === "string" && fieldOf(details.field) !== "body") {
    errors[fieldOf(details.field)] = message;
  }
  return errors;
}

/**
 * The request body for the draft, or the messages of each bad field (the server's own wording). With the
 * instrument, the price rules the desk applies (tick, side of a stop, exits either side of the entry)
 * are checked too.
 */
export function toOrderRequest(draft: TicketDraft, instrument?: TicketInstrument): { ok: true; body: OrderRequestInput } | { ok: false; errors: FieldErrors } {
  const candidate: Record<string, unknown> = {
    symbol: draft.symbol,
    side: draft.side,
    quantity: number(draft.quantity),
    order_type: draft.order_type,
    time_in_force: draft.time_in_force,
  };
  // Only the prices the order type and class use are sent; a hidden field never reaches the server.
  if (usesLimitPrice(draft)) candidate.price = number(draft.price);
  if (needsStopPrice(draft.order_type)) candidate.stop_price = number(draft.stop_price);
  if (draft.order_type === "TRAILING_STOP") {
    if (draft.trail_mode === "price") candidate.trail_price = number(draft.trail_price);
    else candidate.trail_percent = number(draft.trail_percent);
  }
  if (draft.order_class !== "simple") {
    candidate.order_class = draft.order_class;
    if (usesTakeProfit(draft)) candidate.take_profit = { limit_price: number(draft.take_profit) };
    if (usesStopLoss(draft)) {
      const limit = number(draft.stop_loss_limit);
      candidate.stop_loss = { stop_price: number(draft.stop_loss), ...(limit === undefined ? {} : { limit_price: limit }) };
    }
  }
  const parsed = OrderRequest.safeParse(candidate);
  if (parsed.success) {
    const errors = instrument ? priceRuleErrors(parsed.data, instrument) : {};
    return Object.keys(errors).length > 0 ? { ok: false, errors } : { ok: true, body: stripUndefined(candidate) };
  }
  const errors: FieldErrors = {};
  for (const issue of parsed.error.issues) errors[fieldOf(issue.path.map(String).join("."))] ??= issue.message;
  return { ok: false, errors };
}

function priceRuleErrors(order: OrderRequest, instrument: TicketInstrument): FieldErrors {
  const errors: FieldErrors = {};
  const tickCents = toCents(instrument.tick_size) ?? 1;
  const refCents = toCents(instrument.price);
  const onTick = (field: TicketField, value: number | undefined) => {
    const cents = value === undefined ? undefined : toCents(value);
    const failure = cents === undefined ? null : checkTick(field, cents, tickCents, order.symbol);
    if (failure) errors[field] = String((failure.details?.fields as Record<string, string>)[field]);
  };
  onTick("price", order.price);
  onTick("stop_price", order.stop_price);
  onTick("trail_price", order.trail_price);
  onTick("take_profit.limit_price", order.take_profit?.limit_price);
  onTick("stop_loss.stop_price", order.stop_loss?.stop_price);
  onTick("stop_loss.limit_price", order.stop_loss?.limit_price);
  const stopCents = order.stop_price === undefined ? undefined : toCents(order.stop_price);
  if (!errors.stop_price && stopCents !== undefined && refCents !== undefined) {
    const failure = checkStopSide(order.side, order.order_type, stopCents, refCents, order.symbol);
    if (failure) errors.stop_price = String((failure.details?.fields as Record<string, string>).stop_price);
  }
  // The exits sit either side of the entry: its limit, or the reference price for a MARKET entry and an oco.
  const entryCents = order.order_class === "oco" || order.price === undefined ? refCents : toCents(order.price);
  if (entryCents !== undefined && order.order_class !== "simple") {
    const rules = exitRules(order.order_class === "oco" ? "BUY" : order.side);
    const exits: [TicketField, number | undefined, "above" | "below"][] = [
      ["take_profit.limit_price", order.take_profit?.limit_price, rules.takeProfit],
      ["stop_loss.stop_price", order.stop_loss?.stop_price, rules.stopLoss],
    ];
    for (const [field, value, mustBe] of exits) {
      const cents = value === undefined ? undefined : toCents(value);
      if (cents === undefined || errors[field] || (mustBe === "above" ? cents > entryCents : cents < entryCents)) continue;
      errors[field] = `${field} ${toDollars(cents).toFixed(2)} must be ${mustBe} the entry price ${toDollars(entryCents).toFixed(2)}`;
    }
  }
  return errors;
}

function stripUndefined(candidate: Record<string, unknown>): OrderRequestInput {
  const body = Object.fromEntries(Object.entries(candidate).filter(([, v]) => v !== undefined));
  return body as OrderRequestInput;
}

// ------------------------------------------------------------ estimate, key, label

/** Where a trailing stop's stop starts: the price less the trail for a SELL, plus it for a BUY (dollars), or null. */
export function trailingStart(draft: TicketDraft, instrument: TicketInstrument | undefined): number | null {
  if (draft.order_type !== "TRAILING_STOP" || !instrument) return null;
  const refCents = toCents(instrument.price);
  const tickCents = toCents(instrument.tick_size) ?? 1;
  const value = number(draft.trail_mode === "price" ? draft.trail_price : draft.trail_percent);
  if (refCents === undefined || value === undefined || !Number.isFinite(value) || value <= 0) return null;
  const trail = draft.trail_mode === "price" ? { cents: toCents(value) ?? Math.round(value * 100), bp: null } : { cents: null, bp: Math.round(value * 100) };
  return toDollars(trailingStop(draft.side, refCents, trail, tickCents));
}

/**
 * What the funds check will price the order at: the limit; a BUY stop at the larger of its stop and the
 * reference (a trailing BUY at the price plus its trail), a SELL stop at its stop; an oco at its
 * take-profit; else the reference price. A bracket or oto is funded for its entry.
 */
export function estimatedCost(draft: TicketDraft, referencePrice: number | undefined, tickSize = 0.01): number | null {
  const quantity = number(draft.quantity);
  if (quantity === undefined || !Number.isFinite(quantity) || quantity <= 0) return null;
  let unit: number | undefined;
  if (draft.order_class === "oco") unit = number(draft.take_profit);
  else if (draft.order_type === "TRAILING_STOP") {
    const stop = referencePrice === undefined ? null : trailingStart(draft, { price: referencePrice, tick_size: tickSize });
    unit = stop === null ? undefined : draft.side === "BUY" ? Math.max(stop, referencePrice!) : stop;
  } else if (needsLimitPrice(draft.order_type)) unit = number(draft.price);
  else if (needsStopPrice(draft.order_type)) {
    unit = draft.side === "BUY" && referencePrice !== undefined ? Math.max(number(draft.stop_price) ?? NaN, referencePrice) : number(draft.stop_price);
  } else unit = referencePrice;
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

const CLASS_SUFFIX: Record<OrderClass, string> = { simple: "", bracket: "bracket", oto: "with exit", oco: "OCO" };

export function submitLabel(draft: TicketDraft): string {
  const quantity = number(draft.quantity);
  const shown = quantity !== undefined && Number.isFinite(quantity) ? new Intl.NumberFormat("en-US").format(quantity) : "";
  return [draft.side === "BUY" ? "Buy" : "Sell", shown, draft.symbol, CLASS_SUFFIX[draft.order_class]].filter(Boolean).join(" ");
}
