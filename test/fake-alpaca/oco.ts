// Alpaca's `oco` order class (one-cancels-other), as the fake holds it: what a request must hold, and who
// belongs to a group. The account (account.ts) moves the orders; this module only reads them.
//
// Request (https://alpaca.markets/blog/oco-oto/ "OCO & OTO Orders Are Now Available";
// https://docs.alpaca.markets/reference/postorder): POST /v2/orders with order_class "oco", type "limit",
// side, qty, symbol, time_in_force day|gtc, take_profit {limit_price} and stop_loss {stop_price, limit_price?}.
// An oco is an exit: both of its orders sell (or both buy) the same qty.
//
// The group: the take-profit is the parent (a limit order, order_class "oco", the client_order_id sent), the
// stop-loss its one leg (its own id, a client_order_id Alpaca generates, type stop, or stop_limit with
// stop_loss.limit_price). The leg is "held" until its stop is reached; then it goes live and the take-profit
// is canceled; when the take-profit trades (in part or in full), the held leg is canceled
// (Alpaca staff: https://forum.alpaca.markets/t/bracket-order-exit-trades-not-executing/3697 and
// https://forum.alpaca.markets/t/bracket-order-closing-positions/11938). Canceling one cancels the other;
// each is replaced on its own, and the replacement takes the old one's place in the group.
import { isOpen, type StoredOrder } from "./shapes";
import type { FakeStore } from "./store";

/** The oco fields of a POST /v2/orders body (decimals already strings), with the simple order's own. */
export interface OcoBody {
  side: "buy" | "sell";
  type: string;
  time_in_force: string;
  limit_price?: string | undefined;
  take_profit?: { limit_price?: string | undefined } | undefined;
  stop_loss?: { stop_price?: string | undefined; limit_price?: string | undefined } | undefined;
}

/** A valid oco request's two exits, in cents. */
export interface OcoExits {
  takeProfitCents: number;
  stopCents: number;
  /** stop_loss.limit_price: the leg is a stop_limit; null: a stop. */
  stopLimitCents: number | null;
}

const cents = (v: string): number => Math.round(Number(v) * 100);
const positive = (v: string): boolean => Number.isFinite(Number(v)) && Number(v) > 0;

/**
 * Checks an oco request and reads its exits; a string is the 422 message. Alpaca's own message style
 * ("bracket orders require take_profit.limit_price", quoted in TraderAlice/OpenAlice#342) is followed.
 */
export function parseOco(b: OcoBody): OcoExits | string {
  if (b.type !== "limit") return "oco orders must be limit orders (type limit)";
  if (b.time_in_force !== "day" && b.time_in_force !== "gtc") return "oco orders take time_in_force day or gtc";
  const tp = b.take_profit?.limit_price;
  const stop = b.stop_loss?.stop_price;
  const stopLimit = b.stop_loss?.limit_price;
  if (tp === undefined) return "oco orders require take_profit.limit_price";
  if (stop === undefined) return "oco orders require stop_loss.stop_price";
  if (!positive(tp)) return "take_profit.limit_price must be a positive number";
  if (!positive(stop)) return "stop_loss.stop_price must be a positive number";
  if (stopLimit !== undefined && !positive(stopLimit)) return "stop_loss.limit_price must be a positive number";
  // The take-profit's price is take_profit.limit_price (the blog's example sends no top-level limit_price).
  // One sent as well must agree with it: the fake's choice, so that a client sending two prices learns of it.
  if (b.limit_price !== undefined && cents(b.limit_price) !== cents(tp)) return "limit_price must equal take_profit.limit_price";
  const exits = { takeProfitCents: cents(tp), stopCents: cents(stop), stopLimitCents: stopLimit === undefined ? null : cents(stopLimit) };
  return priceOrderError(b.side, exits.takeProfitCents, exits.stopCents) ?? exits;
}

/** A sell's stop-loss is below its take-profit, a buy's above it; the 422 message otherwise. */
export function priceOrderError(side: "buy" | "sell", takeProfitCents: number, stopCents: number): string | null {
  if (side === "sell" && stopCents >= takeProfitCents) return "stop_loss.stop_price must be less than take_profit.limit_price";
  if (side === "buy" && stopCents <= takeProfitCents) return "stop_loss.stop_price must be greater than take_profit.limit_price";
  return null;
}

/** An oco's stop-loss leg (or a replacement of it): its take-profit, the parent, is the group's limit order. */
export function isOcoLeg(o: StoredOrder): boolean {
  return o.order_class === "oco" && o.type !== "limit";
}

/** The other members of `order`'s group that are still open (none for a simple order). */
export function openOthers(store: FakeStore, order: StoredOrder): StoredOrder[] {
  if (order.oco_group === null) return [];
  return store.ocoGroup(order.oco_group).filter((m) => m.id !== order.id && isOpen(m));
}

/**
 * An oco parent's `legs` as they are now: the group's stop-loss leg, or the replacement that took its place
 * (whatever its status). null for any other order (a leg has no legs; a simple order neither).
 */
export function currentLegs(store: FakeStore, order: StoredOrder): StoredOrder[] | null {
  if (order.order_class !== "oco" || isOcoLeg(order) || order.oco_group === null) return null;
  return store.ocoGroup(order.oco_group).filter((m) => isOcoLeg(m) && m.replaced_by === null);
}

/**
 * GET /v2/orders?nested=true: a leg is rolled up into its parent's `legs` when a parent of its group is in
 * the list. A leg whose parent is not (e.g. status=open once the stop triggered and the take-profit was
 * canceled) is listed on its own: the fake's choice, so that no open order drops out of the open list.
 */
export function nest(store: FakeStore, list: StoredOrder[]): { order: StoredOrder; legs: StoredOrder[] | null }[] {
  const listedGroups = new Set(list.filter((o) => o.order_class === "oco" && !isOcoLeg(o)).map((o) => o.oco_group));
  return list.filter((o) => !(isOcoLeg(o) && listedGroups.has(o.oco_group))).map((o) => ({ order: o, legs: currentLegs(store, o) }));
}

/**
 * /_fake/orders' `leg_of`: for a leg (and each replacement of it), the client_order_id of its group's
 * original parent (the take-profit as posted); null for any other order.
 */
export function legOf(store: FakeStore, o: StoredOrder): string | null {
  if (!isOcoLeg(o) || o.oco_group === null) return null;
  return store.order(o.oco_group)?.client_order_id ?? null;
}

/**
 * A PATCH of an oco member must keep the group's prices in order (a sell's stop below its take-profit): the
 * 422 message, or null. Checked against the open counterpart; a group already settled has nothing to check.
 */
export function replacePriceError(store: FakeStore, old: StoredOrder, changes: { limit_cents?: number | null; stop_cents?: number | null }): string | null {
  if (old.order_class !== "oco") return null;
  const other = openOthers(store, old)[0];
  if (!other) return null;
  const [parent, leg] = isOcoLeg(old) ? [other, { ...old, ...changes }] : [{ ...old, ...changes }, other];
  if (parent.limit_cents === null || leg.stop_cents === null) return null;
  return priceOrderError(old.side, parent.limit_cents, leg.stop_cents);
}
