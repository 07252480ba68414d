// A bracket's exits at Alpaca go as one Alpaca order of class oco (docs/alpaca.md): the take-profit is the
// oco's order, the stop-loss Alpaca's leg of it, "held" until its stop is reached. Alpaca holds the pair:
// a trade of the take-profit cancels the stop-loss, a trigger of the stop-loss cancels the take-profit, so
// the two never both trade, however the price jumps. When Alpaca will not take an oco, the exits go as two
// simple orders and the desk holds one-cancels-other itself.
import { describe, expect, it } from "vitest";
import { auditOf, call, eventually, getOrder, json, newTrader, submit, untilStatus, type Trader } from "../helpers/api";
import type { Order } from "../../worker/shared/orders";
import { expectFillsAgree, fakeOrders, newSymbol, setAccountFaults, setSymbol, venue } from "./fake";

type WithLegs = Order & { legs: Order[] };
const account = async (t: Trader) => json<{ cash: number; reserved: number; positions: { symbol: string; quantity: number }[] }>(await call("/api/v1/account", { token: t.token }));
const OCO_AT_ALPACA = /^One-cancels-other at Alpaca/;

async function bracket(trader: Trader, symbol: string, stopLoss: { stop_price: number; limit_price?: number } = { stop_price: 95 }): Promise<[WithLegs, Order, Order]> {
  const res = await submit(trader, {
    symbol, quantity: 10, order_type: "MARKET", time_in_force: "GTC", order_class: "bracket", take_profit: { limit_price: 105 }, stop_loss: stopLoss,
  });
  expect(res.status, await res.clone().text()).toBe(201);
  const parent = await json<WithLegs>(res);
  await untilStatus(trader, parent.id, "FILLED");
  for (const leg of parent.legs) await eventually(() => auditOf(trader, leg.id), (rows) => rows.some((r) => r.action === "EXECUTED"), 15_000);
  const tp = parent.legs.find((l) => l.order_type === "LIMIT")!;
  const sl = parent.legs.find((l) => l.order_type !== "LIMIT")!;
  return [parent, tp, sl];
}

/** A bracket whose BUY LIMIT entry at `limit` rests at Alpaca (the price at `price`, above it): its exits at 105 and 95. */
async function restingBracket(limit: number, price = 101): Promise<{ symbol: string; trader: Trader; parent: WithLegs }> {
  const symbol = await newSymbol(price);
  const trader = await newTrader(10_000);
  const res = await submit(trader, {
    symbol, quantity: 10, order_type: "LIMIT", price: limit, time_in_force: "GTC", order_class: "bracket", take_profit: { limit_price: 105 }, stop_loss: { stop_price: 95 },
  });
  expect(res.status, await res.clone().text()).toBe(201);
  const parent = await json<WithLegs>(res);
  await eventually(() => fakeOrders(parent.id), (orders) => orders.some((o) => o.order.status === "new"), 15_000); // the entry rests at Alpaca
  return { symbol, trader, parent };
}

describe("a bracket's exits at Alpaca", () => {
  it("go as one oco order: the take-profit under its own id, the stop-loss as Alpaca's held leg of it", async () => {
    const symbol = await newSymbol(100);
    const trader = await newTrader(10_000);
    const [, tp, sl] = await bracket(trader, symbol);
    const [carrier] = await fakeOrders(tp.id);
    expect(carrier!.order).toMatchObject({ client_order_id: tp.id, order_class: "oco", type: "limit", limit_price: "105.00", qty: "10" });
    const [leg] = await fakeOrders(sl.id);
    expect(leg!.order).toMatchObject({ order_class: "oco", type: "stop", stop_price: "95.00", qty: "10", status: "held" });
    expect(leg!.leg_of).toBe(tp.id);
    expect(await getOrder(trader, sl.id)).toMatchObject({ status: "PENDING", quantity: 10 });
  });

  it("cancels the stop-loss at Alpaca when the take-profit fills, and sells the shares once", async () => {
    const symbol = await newSymbol(100);
    const trader = await newTrader(10_000);
    const [, tp, sl] = await bracket(trader, symbol);

    await setSymbol(symbol, { price: 105 }); // the take-profit sells the 10
    expect(await untilStatus(trader, tp.id, "FILLED")).toMatchObject({ filled_quantity: 10 });
    expect(await untilStatus(trader, sl.id, "CANCELLED")).toMatchObject({ filled_quantity: 0, reason: expect.stringContaining("One-cancels-other") });
    await eventually(() => fakeOrders(sl.id), (orders) => orders.every((o) => o.order.status === "canceled"));
    await setSymbol(symbol, { price: 90 }); // through the old stop: nothing more is sold
    await new Promise((r) => setTimeout(r, 500));
    expect(await account(trader)).toMatchObject({ reserved: 0, positions: [] });
    await expectFillsAgree(trader, tp.id);
    expect((await getOrder(trader, sl.id)).fills).toEqual([]);
  });

  it("never sells twice when a stop-limit triggers through a gap and the price then jumps past the take-profit", async () => {
    const symbol = await newSymbol(100);
    const trader = await newTrader(10_000);
    const [, tp, sl] = await bracket(trader, symbol, { stop_price: 95, limit_price: 94.5 });
    await setSymbol(symbol, { price: 90 }); // triggers the stop-loss, whose limit rests unfilled; Alpaca cancels the take-profit
    expect(await untilStatus(trader, tp.id, "CANCELLED")).toMatchObject({ filled_quantity: 0, reason: expect.stringMatching(OCO_AT_ALPACA) });
    await eventually(() => fakeOrders(sl.id), (orders) => orders.some((o) => o.triggered && o.order.status === "new"));

    await setSymbol(symbol, { price: 110 }); // both prices at once: only the stop-loss's limit can still sell
    expect(await untilStatus(trader, sl.id, "FILLED")).toMatchObject({ filled_quantity: 10 });
    await new Promise((r) => setTimeout(r, 300));
    expect(await getOrder(trader, tp.id)).toMatchObject({ status: "CANCELLED", filled_quantity: 0 });
    expect(await account(trader)).toMatchObject({ reserved: 0, positions: [] });
    await expectFillsAgree(trader, sl.id);
    expect((await fakeOrders(tp.id)).flatMap((o) => o.executions)).toEqual([]);
  });

  it("when the take-profit fills in part, Alpaca cancels the stop-loss and the take-profit sells the rest", async () => {
    const symbol = await newSymbol(100);
    const trader = await newTrader(10_000);
    const [, tp, sl] = await bracket(trader, symbol);
    await setSymbol(symbol, { depth: 4 }); // 4 shares a tick from now on
    await setSymbol(symbol, { price: 105 }); // the take-profit sells 4 at 105 (the level at its limit), the rest waits
    await eventually(() => getOrder(trader, tp.id), (o) => o.filled_quantity === 4, 15_000);
    expect(await untilStatus(trader, sl.id, "CANCELLED")).toMatchObject({ filled_quantity: 0, reason: expect.stringMatching(OCO_AT_ALPACA) });
    expect(await account(trader)).toMatchObject({ positions: [expect.objectContaining({ symbol, quantity: 6 })] });

    await setSymbol(symbol, { price: 90 }); // through the old stop: the stop-loss is gone, nothing is sold
    await new Promise((r) => setTimeout(r, 300));
    expect(await getOrder(trader, tp.id)).toMatchObject({ status: "PARTIAL", filled_quantity: 4 });
    await setSymbol(symbol, { depth: 100_000, price: 106 }); // the take-profit sells the 6 left
    expect(await untilStatus(trader, tp.id, "FILLED")).toMatchObject({ filled_quantity: 10 });
    await new Promise((r) => setTimeout(r, 300));
    expect(await account(trader)).toMatchObject({ reserved: 0, positions: [] });
    await expectFillsAgree(trader, tp.id);
  });

  it("moves the stop-loss by replacing Alpaca's leg, which stays in the oco", async () => {
    const symbol = await newSymbol(100);
    const trader = await newTrader(10_000);
    const [, tp, sl] = await bracket(trader, symbol);
    const res = await call(`/api/v1/orders/${sl.id}`, { method: "PATCH", token: trader.token, body: { stop_price: 97 } });
    expect(res.status, await res.clone().text()).toBe(200);
    const chain = await eventually(() => fakeOrders(sl.id), (orders) => orders.some((o) => o.order.client_order_id === `${sl.id}-a1`), 15_000);
    expect(chain.map((o) => o.order.status)).toEqual(["replaced", "held"]);
    await setSymbol(symbol, { price: 96 }); // through the new stop only
    expect(await untilStatus(trader, sl.id, "FILLED")).toMatchObject({ filled_quantity: 10 });
    expect(await untilStatus(trader, tp.id, "CANCELLED")).toMatchObject({ filled_quantity: 0 });
    await expectFillsAgree(trader, sl.id);
  });

  // 150 ms: the answer comes late but within the desk's 300 ms timeout; 450 ms: after it (found by lookup).
  it.each([150, 450])("books a stop-loss whose trade updates outrun the answer to its oco's POST (%i ms late), once", async (lateMs) => {
    const { symbol, trader, parent } = await restingBracket(100);
    const foreignBefore = (await venue()).foreign_events;
    // From now on each order's first POST is recorded (and trades) at once, but answered lateMs later.
    await setSymbol(symbol, { faults: { late_first_attempts: 1, late_ms: lateMs } });
    await setSymbol(symbol, { price: 90 }); // the entry fills at 90, under the stop: the leg triggers as it arrives
    await untilStatus(trader, parent.id, "FILLED");
    const tp = parent.legs.find((l) => l.order_type === "LIMIT")!;
    const sl = parent.legs.find((l) => l.order_type !== "LIMIT")!;
    expect(await untilStatus(trader, sl.id, "FILLED")).toMatchObject({ filled_quantity: 10 });
    expect(await untilStatus(trader, tp.id, "CANCELLED")).toMatchObject({ filled_quantity: 0, reason: expect.stringMatching(OCO_AT_ALPACA) });
    await new Promise((r) => setTimeout(r, 300));
    expect(await account(trader)).toMatchObject({ reserved: 0, positions: [] });
    await expectFillsAgree(trader, sl.id);
    expect((await venue()).foreign_events).toBe(foreignBefore); // the leg's updates were kept, not dropped as foreign
  });

  it("cancels a stop-loss whose oco's answer was lost at Alpaca, not only at the desk", async () => {
    const { symbol, trader, parent } = await restingBracket(100);
    await setSymbol(symbol, { faults: { late_first_attempts: 1, late_ms: 450 } }); // the oco's answer comes after the desk's timeout
    await setSymbol(symbol, { price: 100 });
    const sl = parent.legs.find((l) => l.order_type !== "LIMIT")!;
    const tp = parent.legs.find((l) => l.order_type === "LIMIT")!;
    await eventually(() => fakeOrders(sl.id), (orders) => orders.length === 1, 15_000); // Alpaca holds the leg
    // While the oco's POST is out, the cancel waits for it and may answer 503 "try again": a client tries again.
    const cancel = await eventually(() => call(`/api/v1/orders/${sl.id}/cancel`, { method: "POST", token: trader.token }), (r) => r.status !== 503, 15_000);
    expect(cancel.status, await cancel.clone().text()).toBe(200);
    expect(await untilStatus(trader, sl.id, "CANCELLED")).toMatchObject({ filled_quantity: 0 });
    await eventually(() => fakeOrders(sl.id), (orders) => orders.every((o) => o.order.status === "canceled"), 15_000);
    expect(await untilStatus(trader, tp.id, "CANCELLED")).toMatchObject({ filled_quantity: 0 }); // its sibling goes with it, at Alpaca too
    await setSymbol(symbol, { price: 90 }); // through the old stop: nothing sells
    await new Promise((r) => setTimeout(r, 300));
    expect(await account(trader)).toMatchObject({ reserved: 0, positions: [expect.objectContaining({ symbol, quantity: 10 })] });
    expect((await fakeOrders(sl.id)).flatMap((o) => o.executions)).toEqual([]);
  });

  it("sends a SELL entry's BUY exits as one buy oco: the stop-loss above buys back, the take-profit below goes", async () => {
    const symbol = await newSymbol(100);
    const trader = await newTrader(10_000);
    const bought = await json<Order>(await submit(trader, { symbol, quantity: 10, order_type: "MARKET" }));
    await untilStatus(trader, bought.id, "FILLED"); // shares to sell (no short selling)
    const res = await submit(trader, {
      symbol, side: "SELL", quantity: 10, order_type: "MARKET", time_in_force: "GTC", order_class: "bracket", take_profit: { limit_price: 95 }, stop_loss: { stop_price: 105 },
    });
    expect(res.status, await res.clone().text()).toBe(201);
    const parent = await json<WithLegs>(res);
    await untilStatus(trader, parent.id, "FILLED");
    const tp = parent.legs.find((l) => l.order_type === "LIMIT")!;
    const sl = parent.legs.find((l) => l.order_type !== "LIMIT")!;
    await eventually(() => fakeOrders(sl.id), (orders) => orders.length === 1, 15_000);
    expect((await fakeOrders(tp.id))[0]!.order).toMatchObject({ client_order_id: tp.id, order_class: "oco", type: "limit", limit_price: "95.00" });
    expect((await fakeOrders(sl.id))[0]!.order).toMatchObject({ order_class: "oco", type: "stop", stop_price: "105.00", status: "held" });

    await setSymbol(symbol, { price: 106 }); // through the stop-loss: it buys the 10 back, Alpaca cancels the take-profit
    expect(await untilStatus(trader, sl.id, "FILLED")).toMatchObject({ side: "BUY", filled_quantity: 10 });
    expect(await untilStatus(trader, tp.id, "CANCELLED")).toMatchObject({ filled_quantity: 0, reason: expect.stringMatching(OCO_AT_ALPACA) });
    await setSymbol(symbol, { price: 90 }); // through the old take-profit: nothing more is bought
    await new Promise((r) => setTimeout(r, 300));
    expect(await account(trader)).toMatchObject({ reserved: 0, positions: [expect.objectContaining({ symbol, quantity: 10 })] });
    await expectFillsAgree(trader, sl.id);
    expect((await fakeOrders(tp.id)).flatMap((o) => o.executions)).toEqual([]);
  });

  it("sends the exits as two simple orders when Alpaca refuses the oco, and holds one-cancels-other itself", async () => {
    const { symbol, trader, parent } = await restingBracket(99, 100);
    // The next order POST (the take-profit's oco, once the entry fills) is refused, as by an account without oco.
    await setAccountFaults({ fail_next: [{ method: "POST", path: "/v2/orders", status: 422, message: "order_class oco is not supported" }] });
    await setSymbol(symbol, { price: 99 });
    await untilStatus(trader, parent.id, "FILLED");
    const tp = parent.legs.find((l) => l.order_type === "LIMIT")!;
    const sl = parent.legs.find((l) => l.order_type !== "LIMIT")!;
    // Each is accepted first, then routed ("new") a moment later: wait for the route, not just the POST.
    for (const leg of [tp, sl]) await eventually(() => fakeOrders(leg.id), (orders) => orders.length === 1 && orders[0]!.order.status !== "accepted", 15_000);
    expect((await fakeOrders(tp.id))[0]!.order).toMatchObject({ client_order_id: tp.id, order_class: expect.not.stringMatching(/oco/), status: "new" });
    expect((await fakeOrders(sl.id))[0]!.order).toMatchObject({ client_order_id: sl.id, type: "stop", status: "new" });

    await setSymbol(symbol, { price: 105 }); // the take-profit sells the 10; the desk cancels the stop-loss at Alpaca
    expect(await untilStatus(trader, tp.id, "FILLED")).toMatchObject({ filled_quantity: 10 });
    expect(await untilStatus(trader, sl.id, "CANCELLED")).toMatchObject({ reason: expect.stringMatching(/^One-cancels-other: its group/) });
    await new Promise((r) => setTimeout(r, 300));
    expect(await account(trader)).toMatchObject({ reserved: 0, positions: [] });
    await expectFillsAgree(trader, tp.id);
  });
});
