// Contingent orders for tests: a bracket placed the way most tests want it, answered 201 with its legs.
import { expect } from "vitest";
import type { Order } from "../../worker/shared/orders";
import { json, submit, type Trader } from "./api";

export type WithLegs = Order & { legs: Order[] };

/**
 * A bracket BUY LIMIT 10 @ 99.00, take-profit 105.00, stop-loss 95.00 (GTC; `over` changes any field):
 * the parent and its two legs (take-profit first), its 201 checked.
 */
export async function placeBracket(trader: Trader, symbol: string, over: Record<string, unknown> = {}): Promise<[WithLegs, Order, Order]> {
  const res = await submit(trader, {
    symbol, quantity: 10, order_type: "LIMIT", price: 99, time_in_force: "GTC",
    order_class: "bracket", take_profit: { limit_price: 105 }, stop_loss: { stop_price: 95 }, ...over,
  });
  expect(res.status, await res.clone().text()).toBe(201);
  const parent = await json<WithLegs>(res);
  return [parent, parent.legs[0]!, parent.legs[1]!];
}
