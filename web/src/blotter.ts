// The blotter's state and the pure functions that change it. Three sources feed it: the REST snapshot
// (GET /orders), single-order reads (GET /orders/:id, with fills) and the WebSocket's events. They can
// arrive in any order and more than once, so every merge is monotonic: a status only moves forward
// (HELD < PENDING < PARTIAL < final), filled quantity only grows, a fill is kept once by its id. Events are
// also gated by the trader's contiguous `seq`: an old seq is a duplicate, a jump is a gap to replay.
// Terms that move without an amend take the newer news: a trailing stop's mark and stop (only HTTP reads
// carry the mark) and a leg's quantity (it comes alive for what its entry filled; its sibling's fills
// reduce it). The rows list each contingent parent with its legs under it (blotterRows).
// No DOM here: test/web runs these functions in plain Node.
import type { StreamEvent } from "../../worker/shared/events";
import type { Fill, Order, OrderClass, OrderStatus, OrderType, Side, TimeInForce } from "../../worker/shared/orders";
import { isFinalStatus } from "../../worker/shared/orders";

export interface FillView {
  id: string;
  quantity: number;
  price: number;
  timestamp: string;
}

export interface OrderView {
  id: string;
  symbol: string;
  side: Side;
  order_type: OrderType;
  quantity: number;
  price: number | null;
  stop_price: number | null;
  /** null until the order has been read over HTTP (events do not carry it). */
  time_in_force: TimeInForce | null;
  status: OrderStatus;
  filled_quantity: number;
  avg_fill_price: number | null;
  reason: string | null;
  created_at: string;
  updated_at: string;
  /** Fills, oldest first. */
  fills: FillView[];
  /** True once the order came from the API (prices, TIF); false when only events have been seen. */
  detailed: boolean;
  /**
   * When its terms (quantity, prices, time in force) were last amended, as the server stamped it: the
   * amend's answer and GET /orders carry amended_at, order.replaced its timestamp. null: never amended.
   */
  amended_at: string | null;
  /** A stop that reached its price (order.triggered seen): it works as a market or limit order now. */
  triggered: boolean;
  /** TRAILING_STOP: its trail (one of the two) and its mark (the best price since accepted; HTTP reads only). */
  trail_price: number | null;
  trail_percent: number | null;
  hwm: number | null;
  /** simple, bracket, oco or oto; null until the order has been read (events do not carry it). */
  order_class: OrderClass | null;
  /** A leg's parent (its entry, or the oco's take-profit), or null. */
  parent_order_id: string | null;
}

export interface BlotterState {
  orders: Readonly<Record<string, OrderView>>;
  /** Order ids, newest first. */
  ids: readonly string[];
  /** The seq of the last event applied; null until the first connection_acknowledged. */
  lastSeq: number | null;
}

export const emptyBlotter: BlotterState = { orders: {}, ids: [], lastSeq: null };

export type EventOutcome = "applied" | "duplicate" | "gap";

/** HELD 0, PENDING 1, PARTIAL 2, any final status 3: the order in which a status may change on screen. */
export function statusRank(status: OrderStatus): number {
  if (isFinalStatus(status)) return 3;
  return status === "PARTIAL" ? 2 : status === "PENDING" ? 1 : 0;
}

/** The later of two statuses; the first final status seen stays (final means final). */
export function laterStatus(current: OrderStatus, incoming: OrderStatus): OrderStatus {
  return statusRank(incoming) > statusRank(current) ? incoming : current;
}

/** What to do with the server's connection_acknowledged{seq}. */
export function acknowledge(state: BlotterState, serverSeq: number): { state: BlotterState; fresh: boolean } {
  // First connection: start from the server's latest seq; the caller loads a snapshot after this point.
  if (state.lastSeq === null) return { state: { ...state, lastSeq: serverSeq }, fresh: true };
  // The server's log is behind us (a wiped local database): our view cannot be resumed, start over.
  if (serverSeq < state.lastSeq) return { state: { ...emptyBlotter, lastSeq: serverSeq }, fresh: true };
  return { state, fresh: false };
}

/**
 * Apply one live or replayed event. Old seqs are ignored; a jump in seq is reported and not applied. An
 * account.updated only moves the seq here (the account panel takes its figures).
 */
export function applyEvent(state: BlotterState, event: StreamEvent): { state: BlotterState; outcome: EventOutcome } {
  if (state.lastSeq !== null) {
    if (event.seq <= state.lastSeq) return { state, outcome: "duplicate" };
    if (event.seq > state.lastSeq + 1) return { state, outcome: "gap" };
  }
  if (event.event === "account.updated") return { state: { ...state, lastSeq: event.seq }, outcome: "applied" };
  const current = state.orders[event.order_id];
  const fill: FillView | null =
    event.fill_id !== null && event.quantity_filled !== null && event.price_at_fill !== null
      ? { id: event.fill_id, quantity: event.quantity_filled, price: event.price_at_fill, timestamp: event.timestamp }
      : null;
  const incoming: OrderView = {
    id: event.order_id,
    symbol: event.symbol,
    side: event.side,
    order_type: event.order_type,
    quantity: event.quantity,
    // Events carry the order's limit (except fill events, whose price is the fill's) and its stop.
    price: fill ? null : event.price,
    stop_price: event.stop_price ?? null,
    time_in_force: null,
    status: event.status,
    filled_quantity: event.filled_quantity,
    avg_fill_price: event.avg_fill_price,
    reason: event.reason,
    created_at: current?.created_at ?? event.timestamp,
    updated_at: event.timestamp,
    fills: fill ? [fill] : [],
    detailed: false,
    // An amend's event stamps the new terms it carries; no other event changes them.
    amended_at: event.event === "order.replaced" ? event.timestamp : null,
    triggered: event.event === "order.triggered",
    trail_price: null,
    trail_percent: null,
    hwm: null,
    order_class: null,
    parent_order_id: event.parent_order_id ?? null,
  };
  return { state: { ...upsert(state, incoming), lastSeq: event.seq }, outcome: "applied" };
}

/** Merge orders read over HTTP (the list, nested or not, or one order with its fills); a parent's legs too. */
export function mergeOrders(state: BlotterState, orders: readonly (Order & { fills?: Fill[]; legs?: readonly Order[] })[]): BlotterState {
  let next = state;
  for (const order of orders.flatMap((o): (Order & { fills?: Fill[] })[] => [o, ...(o.legs ?? [])])) {
    next = upsert(next, {
      id: order.id,
      symbol: order.symbol,
      side: order.side,
      order_type: order.order_type,
      quantity: order.quantity,
      price: order.price,
      stop_price: order.stop_price,
      time_in_force: order.time_in_force,
      status: order.status,
      filled_quantity: order.filled_quantity,
      avg_fill_price: order.avg_fill_price,
      reason: order.reason,
      created_at: order.created_at,
      updated_at: order.updated_at,
      fills: (order.fills ?? []).map((f) => ({ id: f.id, quantity: f.quantity_filled, price: f.price_at_fill, timestamp: f.timestamp })),
      detailed: true,
      amended_at: order.amended_at,
      triggered: order.triggered_at !== null, // read over HTTP too: a reload still knows the stop has fired
      trail_price: order.trail_price,
      trail_percent: order.trail_percent,
      hwm: order.hwm,
      order_class: order.order_class,
      parent_order_id: order.parent_order_id,
    });
  }
  return next;
}

/**
 * Combine what we knew of an order with newer or older news of it, never moving backwards. The terms an
 * amend changes (quantity, prices, time in force) come from the news of the later amend; news of the same
 * amend only fills in what was not known yet.
 */
export function mergeOrder(current: OrderView | undefined, incoming: OrderView): OrderView {
  if (!current) return { ...incoming, fills: sortFills(dedupeFills(incoming.fills)) };
  const moreFilled = incoming.filled_quantity > current.filled_quantity;
  const status = laterStatus(current.status, incoming.status);
  const statusFrom = status === incoming.status && status !== current.status ? incoming : current;
  const amended = incoming.amended_at !== null && (current.amended_at === null || incoming.amended_at > current.amended_at);
  // News at least as new as what we hold (an HTTP read's updated_at, an event's timestamp).
  const newer = incoming.updated_at >= current.updated_at;
  const parentId = current.parent_order_id ?? incoming.parent_order_id;
  const orderClass = current.order_class ?? incoming.order_class;
  // A leg's (and an oco parent's) quantity moves without an amend: activated for what the entry filled, reduced by its sibling's fills.
  const contingent = parentId !== null || (orderClass !== null && orderClass !== "simple");
  const trailing = current.order_type === "TRAILING_STOP";
  // A trailing stop's stop moves with its mark; an amend's event does not carry the new trail (its read does).
  const trailFromIncoming = amended ? incoming.detailed : current.trail_price === null && current.trail_percent === null;
  return {
    ...current,
    quantity: amended || (contingent && newer) ? incoming.quantity : current.quantity,
    price: amended ? incoming.price : current.price ?? incoming.price,
    stop_price: trailing
      ? incoming.stop_price !== null && (amended || newer || current.stop_price === null) ? incoming.stop_price : current.stop_price
      : amended ? incoming.stop_price : current.stop_price ?? incoming.stop_price,
    trail_price: trailFromIncoming ? incoming.trail_price : current.trail_price,
    trail_percent: trailFromIncoming ? incoming.trail_percent : current.trail_percent,
    hwm: incoming.hwm !== null && (newer || current.hwm === null) ? incoming.hwm : current.hwm,
    order_class: orderClass,
    parent_order_id: parentId,
    // An amend's event does not carry the time in force, which it may have changed: unknown until read.
    time_in_force: amended ? incoming.time_in_force : current.time_in_force ?? incoming.time_in_force,
    amended_at: amended ? incoming.amended_at : current.amended_at,
    triggered: current.triggered || incoming.triggered,
    status,
    filled_quantity: Math.max(current.filled_quantity, incoming.filled_quantity),
    avg_fill_price: moreFilled ? incoming.avg_fill_price : (current.avg_fill_price ?? incoming.avg_fill_price),
    reason: statusFrom.reason ?? current.reason ?? incoming.reason,
    // The earliest creation time we know of; events only approximate it.
    created_at: incoming.detailed && !current.detailed ? incoming.created_at : current.created_at,
    updated_at: incoming.updated_at > current.updated_at ? incoming.updated_at : current.updated_at,
    fills: sortFills(dedupeFills([...current.fills, ...incoming.fills])),
    detailed: current.detailed || incoming.detailed,
  };
}

/** Orders newest first: by creation time, then id (ids are time-ordered too). */
export function newestFirst(a: OrderView, b: OrderView): number {
  if (a.created_at !== b.created_at) return a.created_at < b.created_at ? 1 : -1;
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}

/** The status as the blotter shows it: "PARTIAL (50/100)". */
export function statusLabel(order: Pick<OrderView, "status" | "filled_quantity" | "quantity">): string {
  return `${order.status} (${order.filled_quantity}/${order.quantity})`;
}

export const isWorking = (order: Pick<OrderView, "status">) => !isFinalStatus(order.status);

/** One line of the blotter: an order, and whether it is a leg shown under its parent. */
export interface BlotterRow {
  order: OrderView;
  /** 0: a parent or a simple order (or a leg whose parent is not loaded); 1: a leg under its parent. */
  depth: 0 | 1;
}

/** An exit's role: the take-profit is a LIMIT, the stop-loss a STOP or STOP_LIMIT. */
export const legRole = (order: Pick<OrderView, "order_type">): "Take profit" | "Stop loss" => (order.order_type === "LIMIT" ? "Take profit" : "Stop loss");

/**
 * The blotter's lines, newest first: each contingent parent followed by its legs (take-profit, then
 * stop-loss). `show` filters by group: a group is listed whole when any of its orders passes, so a working
 * exit is never shown without the entry it belongs to.
 */
export function blotterRows(state: BlotterState, show: (order: OrderView) => boolean = () => true): BlotterRow[] {
  const legs = new Map<string, OrderView[]>();
  for (const id of state.ids) {
    const order = state.orders[id]!;
    if (order.parent_order_id !== null && state.orders[order.parent_order_id]) {
      const list = legs.get(order.parent_order_id) ?? [];
      list.push(order);
      legs.set(order.parent_order_id, list);
    }
  }
  const rows: BlotterRow[] = [];
  for (const id of state.ids) {
    const order = state.orders[id]!;
    if (order.parent_order_id !== null && state.orders[order.parent_order_id]) continue; // listed under its parent
    const children = (legs.get(id) ?? []).sort(
      (a, b) => (legRole(a) === legRole(b) ? (a.id < b.id ? -1 : a.id > b.id ? 1 : 0) : legRole(a) === "Take profit" ? -1 : 1),
    );
    if (!show(order) && !children.some(show)) continue;
    rows.push({ order, depth: 0 }, ...children.map((leg) => ({ order: leg, depth: 1 as const })));
  }
  return rows;
}

/** The trail in words: "$1.50" or "2.5%". */
export function trailLabel(order: Pick<OrderView, "trail_price" | "trail_percent">): string | null {
  if (order.trail_price !== null) return `$${order.trail_price.toFixed(2)}`;
  if (order.trail_percent !== null) return `${order.trail_percent}%`;
  return null;
}

/** Orders whose price, stop or time in force only an HTTP read can tell. */
export function ordersNeedingDetail(state: BlotterState): string[] {
  return state.ids.filter((id) => !state.orders[id]?.detailed);
}

function upsert(state: BlotterState, incoming: OrderView): BlotterState {
  const current = state.orders[incoming.id];
  const merged = mergeOrder(current, incoming);
  const orders = { ...state.orders, [incoming.id]: merged };
  const ids = current && current.created_at === merged.created_at ? state.ids : insertSorted(state.ids.filter((id) => id !== incoming.id), merged, orders);
  return { ...state, orders, ids };
}

function insertSorted(ids: readonly string[], order: OrderView, orders: Record<string, OrderView>): string[] {
  const at = ids.findIndex((id) => newestFirst(order, orders[id]!) < 0);
  return at === -1 ? [...ids, order.id] : [...ids.slice(0, at), order.id, ...ids.slice(at)];
}

function dedupeFills(fills: FillView[]): FillView[] {
  const seen = new Map<string, FillView>();
  for (const fill of fills) if (!seen.has(fill.id)) seen.set(fill.id, fill);
  return [...seen.values()];
}

/** Oldest first; the venue numbers an order's fills (":1", ":2", ... ":10"), so ties compare numerically. */
function sortFills(fills: FillView[]): FillView[] {
  return fills.sort((a, b) => (a.timestamp !== b.timestamp ? (a.timestamp < b.timestamp ? -1 : 1) : a.id.localeCompare(b.id, "en", { numeric: true })));
}
