// Bracket, oto and oco orders: exits HELD until the entry fills, then live for what it filled; the two exits
// cancel each other and never sell more than the position between them; cancelling the parent cancels
// its held legs; leg prices checked against the entry, each field named.
import { afterEach, describe, expect, it } from "vitest";
import { auditOf, call, eventually, getOrder, json, newInstrument, newTrader, setFaults, setInstrument, submit, untilStatus, type Trader } from "../helpers/api";
import { closeAll, connect } from "../helpers/socket";
import type { Order } from "../../worker/shared/orders";

afterEach(closeAll);

type WithLegs = Order & { legs: Order[] };
const move = async (symbol: string, price: number) => expect((await setInstrument(symbol, { price })).status).toBe(200);
const account = async (t: Trader) => json<{ cash: number; reserved: number; positions: { symbol: string; quantity: number }[] }>(await call("/api/v1/account", { token: t.token }));
const positions = async (t: Trader) => (await json<{ data: { available_quantity: number; quantity: number }[] }>(await call("/api/v1/positions", { token: t.token }))).data;

async function place(trader: Trader, order: Record<string, unknown>): Promise<WithLegs> {
  const res = await submit(trader, { time_in_force: "GTC", ...order });
  expect(res.status, await res.clone().text()).toBe(201);
  return json<WithLegs>(res);
}

describe("a bracket", () => {
  it("holds its exits until the entry fills, then the take-profit fills and the stop-loss is cancelled", async () => {
    const symbol = await newInstrument(100);
    const trader = await newTrader(10_000);
    const socket = await connect({ token: trader.token });
    const parent = await place(trader, { symbol, quantity: 10, order_type: "LIMIT", price: 99, order_class: "bracket", take_profit: { limit_price: 105 }, stop_loss: { stop_price: 95 } });
    expect(parent.legs.map((l) => [l.order_type, l.side, l.status, l.parent_order_id])).toEqual([["LIMIT", "SELL", "HELD", parent.id], ["STOP", "SELL", "HELD", parent.id]]);
    const [tp, sl] = parent.legs as [Order, Order];

    await move(symbol, 99); // the entry fills: the exits come alive for 10
    await untilStatus(trader, parent.id, "FILLED");
    for (const leg of [tp, sl]) await eventually(() => getOrder(trader, leg.id), (o) => o.status === "PENDING" && o.quantity === 10);
    expect((await auditOf(trader, tp.id)).map((a) => a.action)).toContain("ACTIVATED");
    expect(await positions(trader)).toMatchObject([{ quantity: 10, available_quantity: 0 }]); // the pair holds the shares once

    await move(symbol, 105); // the take-profit fills; its sibling goes
    expect(await untilStatus(trader, tp.id, "FILLED")).toMatchObject({ filled_quantity: 10, avg_fill_price: 105 });
    expect(await untilStatus(trader, sl.id, "CANCELLED")).toMatchObject({ filled_quantity: 0 });
    await move(symbol, 90); // far through the old stop: nothing more is sold
    await new Promise((r) => setTimeout(r, 200));
    expect(await account(trader)).toMatchObject({ cash: 10_000 - 990 + 1_050, reserved: 0, positions: [] });
    const events = await socket.untilEvent(sl.id, "order.cancelled");
    expect(events.every((e) => e.parent_order_id === parent.id)).toBe(true);
    // nested=true lists the legs under their parent.
    const nested = await json<{ data: WithLegs[] }>(await call("/api/v1/orders?nested=true", { token: trader.token }));
    expect(nested.data.map((o) => [o.id, o.legs?.map((l) => l.status)])).toEqual([[parent.id, ["FILLED", "CANCELLED"]]]);
  });

  it("sells through the stop-loss on a gap and cancels the take-profit; the position is never oversold", async () => {
    const symbol = await newInstrument(100);
    const trader = await newTrader(10_000);
    const parent = await place(trader, { symbol, quantity: 10, order_type: "MARKET", order_class: "bracket", take_profit: { limit_price: 108 }, stop_loss: { stop_price: 94 }, time_in_force: "DAY" });
    const [tp, sl] = parent.legs as [Order, Order];
    await untilStatus(trader, parent.id, "FILLED");
    await eventually(() => getOrder(trader, sl.id), (o) => o.status === "PENDING");
    await move(symbol, 80); // a gap through the stop
    expect(await untilStatus(trader, sl.id, "FILLED")).toMatchObject({ filled_quantity: 10, avg_fill_price: 80 });
    expect(await untilStatus(trader, tp.id, "CANCELLED")).toMatchObject({ filled_quantity: 0 });
    await move(symbol, 120); // through the old take-profit: nothing to sell
    await new Promise((r) => setTimeout(r, 200));
    expect((await account(trader)).positions).toEqual([]);
    expect(await account(trader)).toMatchObject({ reserved: 0 });
  });

  it("arms its exits for a partial entry fill, and grows them as the entry fills on", async () => {
    const trader = await newTrader(100_000);
    // TEST_PARTIAL: 50 shares a level, tick 0.05. A LIMIT BUY 100 @ 150.00 fills 50 and rests the rest.
    const parent = await place(trader, { symbol: "TEST_PARTIAL", quantity: 100, order_type: "LIMIT", price: 150, order_class: "oto", take_profit: { limit_price: 160 } });
    const [tp] = parent.legs as [Order];
    await eventually(() => getOrder(trader, parent.id), (o) => o.filled_quantity === 50);
    await eventually(() => getOrder(trader, tp.id), (o) => o.status === "PENDING" && o.quantity === 50);
    expect(await positions(trader)).toMatchObject([{ quantity: 50, available_quantity: 0 }]);
    // Cancelling the parent now keeps the live exit: it protects the 50 bought.
    expect((await call(`/api/v1/orders/${parent.id}/cancel`, { method: "POST", token: trader.token })).status).toBe(200);
    expect(await getOrder(trader, tp.id)).toMatchObject({ status: "PENDING", quantity: 50 });
  });

  it("cancelling the parent before it fills cancels its held legs; cancelling a live exit cancels the other", async () => {
    const symbol = await newInstrument(100);
    const trader = await newTrader(10_000);
    const parent = await place(trader, { symbol, quantity: 5, order_type: "LIMIT", price: 95, order_class: "bracket", take_profit: { limit_price: 104 }, stop_loss: { stop_price: 92 } });
    await eventually(() => auditOf(trader, parent.id), (t) => t.some((a) => a.action === "EXECUTED"));
    expect((await call(`/api/v1/orders/${parent.id}/cancel`, { method: "POST", token: trader.token })).status).toBe(200);
    for (const leg of parent.legs) expect(await getOrder(trader, leg.id)).toMatchObject({ status: "CANCELLED", reason: `Parent order ${parent.id} cancelled before it filled` });
    expect(await account(trader)).toMatchObject({ reserved: 0 });

    const second = await place(trader, { symbol, quantity: 5, order_type: "MARKET", order_class: "bracket", take_profit: { limit_price: 104 }, stop_loss: { stop_price: 92 } });
    await untilStatus(trader, second.id, "FILLED");
    const [tp, sl] = second.legs as [Order, Order];
    await eventually(() => getOrder(trader, tp.id), (o) => o.status === "PENDING");
    await eventually(() => auditOf(trader, sl.id), (t) => t.some((a) => a.action === "EXECUTED"));
    expect((await call(`/api/v1/orders/${tp.id}/cancel`, { method: "POST", token: trader.token })).status).toBe(200);
    expect(await untilStatus(trader, sl.id, "CANCELLED")).toBeTruthy();
    expect(await positions(trader)).toMatchObject([{ quantity: 5, available_quantity: 5 }]);
  });

  // However the entry ends before it fills, its HELD exits end with it, in the same change: none is left waiting.
  const endings: [how: string, faults: Record<string, unknown>, status: Order["status"]][] = [
    ["the venue rejects the entry", { reject_rate: 1 }, "REJECTED"],
    ["the desk gives the entry up after its retries time out", { timeout_rate: 1 }, "REJECTED"],
  ];
  for (const [how, faults, status] of endings) {
    it(`ends the held legs when ${how}`, async () => {
      const symbol = await newInstrument(100);
      await setFaults(symbol, faults);
      const trader = await newTrader(10_000);
      const parent = await place(trader, { symbol, quantity: 5, order_type: "LIMIT", price: 99, order_class: "bracket", take_profit: { limit_price: 104 }, stop_loss: { stop_price: 92 } });
      await untilStatus(trader, parent.id, status);
      for (const leg of parent.legs) {
        const ended = await getOrder(trader, leg.id);
        expect(ended).toMatchObject({ status: "CANCELLED", reason: `Parent order ${parent.id} ${status.toLowerCase()} before it filled` });
        expect((await auditOf(trader, leg.id)).map((a) => a.action)).toEqual(["SUBMITTED", "CANCELLED"]);
      }
      expect(await account(trader)).toMatchObject({ cash: 10_000, reserved: 0 });
    });
  }
});

describe("an oco on shares held", () => {
  it("places both exits live at once, and the one that fills reduces the other", async () => {
    const symbol = await newInstrument(100);
    const trader = await newTrader(0, [{ symbol, quantity: 20, avg_price: 90 }]);
    const parent = await place(trader, { symbol, side: "SELL", quantity: 20, order_type: "LIMIT", order_class: "oco", take_profit: { limit_price: 110 }, stop_loss: { stop_price: 90 } });
    expect(parent).toMatchObject({ order_type: "LIMIT", price: 110, status: "PENDING" });
    const [sl] = parent.legs as [Order];
    expect(sl).toMatchObject({ order_type: "STOP", stop_price: 90, status: "PENDING", parent_order_id: parent.id });
    expect(await positions(trader)).toMatchObject([{ quantity: 20, available_quantity: 0 }]);
    await eventually(() => auditOf(trader, sl.id), (t) => t.some((a) => a.action === "EXECUTED"));
    await move(symbol, 110);
    expect(await untilStatus(trader, parent.id, "FILLED")).toMatchObject({ filled_quantity: 20 });
    expect(await untilStatus(trader, sl.id, "CANCELLED")).toBeTruthy();
    expect(await account(trader)).toMatchObject({ cash: 2_200, reserved: 0, positions: [] });
  });
});

describe("contingent orders refused", () => {
  const cases: [Record<string, unknown>, string, string][] = [
    [{ order_type: "MARKET", order_class: "bracket", take_profit: { limit_price: 95 }, stop_loss: { stop_price: 90 } }, "VALIDATION_ERROR", "take_profit.limit_price"],
    [{ order_type: "MARKET", order_class: "bracket", take_profit: { limit_price: 105 }, stop_loss: { stop_price: 101 } }, "VALIDATION_ERROR", "stop_loss.stop_price"],
    [{ order_type: "MARKET", order_class: "bracket", take_profit: { limit_price: 105.001 }, stop_loss: { stop_price: 95 } }, "VALIDATION_ERROR", "take_profit.limit_price"],
    [{ order_type: "MARKET", order_class: "bracket", take_profit: { limit_price: 105 } }, "VALIDATION_ERROR", "stop_loss"],
    [{ order_type: "MARKET", order_class: "oto", take_profit: { limit_price: 105 }, stop_loss: { stop_price: 95 } }, "VALIDATION_ERROR", "stop_loss"],
    [{ order_type: "STOP", stop_price: 101, order_class: "bracket", take_profit: { limit_price: 105 }, stop_loss: { stop_price: 95 } }, "VALIDATION_ERROR", "order_type"],
    [{ order_type: "MARKET", take_profit: { limit_price: 105 } }, "VALIDATION_ERROR", "take_profit"],
    [{ order_type: "MARKET", order_class: "bracket", take_profit: { limit_price: 150 }, stop_loss: { stop_price: 95 } }, "PRICE_OUT_OF_BAND", ""],
  ];
  for (const [fields, code, named] of cases) {
    it(`refuses ${JSON.stringify(fields)} with ${code} ${named}`, async () => {
      const symbol = await newInstrument(100);
      const trader = await newTrader(10_000);
      const res = await submit(trader, { symbol, quantity: 1, ...fields });
      const body = await json<{ error: string; details: { fields?: Record<string, string> } }>(res);
      expect(body.error).toBe(code);
      if (named) expect(Object.keys(body.details.fields ?? {})).toContain(named);
      expect((await json<{ data: unknown[] }>(await call("/api/v1/orders", { token: trader.token }))).data).toEqual([]);
    });
  }
});
