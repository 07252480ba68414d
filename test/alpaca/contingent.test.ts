// A bracket's exits at Alpaca: they go as two simple orders (docs/alpaca.md: brackets stay with fillwire),
// so the desk holds them as one-cancels-other itself: when one exit fills, the other is cancelled at Alpaca;
// when one fills in part, the other is cut to what is left (a replace). The trader never sells twice.
import { describe, expect, it } from "vitest";
import { auditOf, call, eventually, getOrder, json, newTrader, submit, untilStatus, type Trader } from "../helpers/api";
import type { Order } from "../../worker/shared/orders";
import { expectFillsAgree, fakeOrders, newSymbol, setSymbol } from "./fake";

type WithLegs = Order & { legs: Order[] };
const account = async (t: Trader) => json<{ cash: number; reserved: number; positions: { symbol: string; quantity: number }[] }>(await call("/api/v1/account", { token: t.token }));

async function bracket(trader: Trader, symbol: string): Promise<[WithLegs, Order, Order]> {
  const res = await submit(trader, {
    symbol, quantity: 10, order_type: "MARKET", time_in_force: "GTC", order_class: "bracket", take_profit: { limit_price: 105 }, stop_loss: { stop_price: 95 },
  });
  expect(res.status, await res.clone().text()).toBe(201);
  const parent = await json<WithLegs>(res);
  await untilStatus(trader, parent.id, "FILLED");
  for (const leg of parent.legs) await eventually(() => auditOf(trader, leg.id), (rows) => rows.some((r) => r.action === "EXECUTED"), 15_000);
  return [parent, parent.legs[0]!, parent.legs[1]!];
}

describe("a bracket's exits at Alpaca", () => {
  it("cancels the stop-loss at Alpaca when the take-profit fills, and sells the shares once", async () => {
    const symbol = await newSymbol(100);
    const trader = await newTrader(10_000);
    const [, tp, sl] = await bracket(trader, symbol);
    expect((await fakeOrders(sl.id)).map((o) => o.order.status)).toEqual([expect.stringMatching(/^(new|accepted)$/)]);

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

  it("cuts the other exit to what is left when one fills in part, and never sells more than the entry bought", async () => {
    const symbol = await newSymbol(100);
    const trader = await newTrader(10_000);
    const [, tp, sl] = await bracket(trader, symbol);
    await setSymbol(symbol, { depth: 4 }); // 4 shares a tick from now on
    await setSymbol(symbol, { price: 105 }); // the take-profit sells 4 at 105 (the level at its limit), the rest waits
    await eventually(() => getOrder(trader, tp.id), (o) => o.filled_quantity === 4, 15_000);
    await eventually(() => getOrder(trader, sl.id), (o) => o.quantity === 6, 15_000);
    const chain = await eventually(() => fakeOrders(sl.id), (orders) => orders.some((o) => o.order.qty === "6"), 15_000);
    expect(chain.map((o) => o.order.status)).toContain("replaced");

    await setSymbol(symbol, { depth: 100_000, price: 90 }); // through the stop: it sells the 6 left, the take-profit goes
    expect(await untilStatus(trader, sl.id, "FILLED")).toMatchObject({ filled_quantity: 6 });
    expect(await untilStatus(trader, tp.id, "CANCELLED")).toMatchObject({ filled_quantity: 4 });
    await new Promise((r) => setTimeout(r, 300));
    expect(await account(trader)).toMatchObject({ reserved: 0, positions: [] });
    await expectFillsAgree(trader, sl.id);
  });
});
