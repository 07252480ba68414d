// Trailing stops: the high-water mark (low for a BUY) follows the price, the stop trails it by an amount or
// a percent on the tick, and a move through the stop (or a gap) triggers a market order. Each test walks a
// price path and checks the mark, the stop and the fill at every step, for both sides and both trail kinds.
import { afterEach, describe, expect, it } from "vitest";
import { auditOf, call, eventually, getOrder, json, newInstrument, newTrader, setInstrument, submit, untilStatus, type Trader } from "../helpers/api";
import { closeAll, connect } from "../helpers/socket";
import { trailingStop } from "../../worker/venue/trailing";
import type { Order } from "../../worker/shared/orders";

afterEach(closeAll);

const move = async (symbol: string, price: number) => expect((await setInstrument(symbol, { price })).status).toBe(200);

/** Places a trailing stop; `answer` checks the 201's body (its mark and stop are set before the venue has it). */
async function place(trader: Trader, order: Record<string, unknown>, answer?: Record<string, unknown>): Promise<string> {
  const res = await submit(trader, { time_in_force: "GTC", ...order });
  expect(res.status, await res.clone().text()).toBe(201);
  const body = await json<{ id: string }>(res);
  if (answer) expect(body).toMatchObject(answer);
  const { id } = body;
  await eventually(() => auditOf(trader, id), (t) => t.some((a) => a.action === "EXECUTED"));
  return id;
}

/** After a move, the order shows this mark and stop (the venue reports them as they change). */
const shows = (trader: Trader, id: string, hwm: number, stop: number) =>
  eventually(() => getOrder(trader, id), (o) => o.hwm === hwm && o.stop_price === stop);

describe("the trailing arithmetic", () => {
  it("trails by an amount or a percent rounded to the tick, on the right side", () => {
    expect(trailingStop("SELL", 15_000, { cents: 500, bp: null }, 1)).toBe(14_500);
    expect(trailingStop("BUY", 15_000, { cents: 500, bp: null }, 1)).toBe(15_500);
    expect(trailingStop("SELL", 15_000, { cents: null, bp: 250 }, 5)).toBe(14_625); // 2.5% of 150.00 = 3.75
    expect(trailingStop("SELL", 15_015, { cents: null, bp: 333 }, 5)).toBe(14_515); // 3.33% of 150.15 = 5.00
    expect(trailingStop("BUY", 10_000, { cents: null, bp: 5_000 }, 1)).toBe(15_000);
    expect(trailingStop("SELL", 100, { cents: 500, bp: null }, 1)).toBe(1); // never below one tick
  });
});

describe("a SELL trailing stop", () => {
  it("by trail_price: follows up, holds flat and down, triggers through the trail and sells at the book", async () => {
    const symbol = await newInstrument(150);
    const trader = await newTrader(0, [{ symbol, quantity: 10, avg_price: 100 }]);
    const socket = await connect({ token: trader.token });
    const id = await place(trader, { symbol, side: "SELL", quantity: 10, order_type: "TRAILING_STOP", trail_price: 5 }, { hwm: 150, stop_price: 145 });
    expect(await getOrder(trader, id)).toMatchObject({ trail_price: 5, trail_percent: null, hwm: 150, stop_price: 145, status: "PENDING" });

    await move(symbol, 152);
    await shows(trader, id, 152, 147); // up: the mark and the stop follow
    await move(symbol, 152);
    await move(symbol, 148);
    await shows(trader, id, 152, 147); // flat, then down above the stop: nothing moves
    expect((await getOrder(trader, id)).status).toBe("PENDING");
    await move(symbol, 155.5);
    await shows(trader, id, 155.5, 150.5);
    await move(symbol, 150.5); // down to the stop: triggered, sold at the book's price
    const filled = await untilStatus(trader, id, "FILLED");
    expect(filled).toMatchObject({ filled_quantity: 10, avg_fill_price: 150.5, stop_price: 150.5, hwm: 155.5 });
    expect((await auditOf(trader, id)).map((a) => a.action)).toEqual(["SUBMITTED", "APPROVED", "EXECUTED", "TRIGGERED", "FILLED"]);
    const events = await socket.untilEvent(id, "order.filled");
    expect(events.find((e) => e.event === "order.triggered")).toMatchObject({ stop_price: 150.5 });
  });

  it("by trail_percent: a gap far through the stop still sells everything, at the gapped price", async () => {
    const symbol = await newInstrument(100, { tick_size: 0.05 });
    const trader = await newTrader(0, [{ symbol, quantity: 20, avg_price: 90 }]);
    const id = await place(trader, { symbol, side: "SELL", quantity: 20, order_type: "TRAILING_STOP", trail_percent: 2.5 }, { hwm: 100, stop_price: 97.5 });
    expect(await getOrder(trader, id)).toMatchObject({ trail_percent: 2.5, hwm: 100, stop_price: 97.5 });
    await move(symbol, 104);
    await shows(trader, id, 104, 101.4); // 2.5% of 104.00 = 2.60
    await move(symbol, 80); // a gap: the stop triggers into a market order without a band
    expect(await untilStatus(trader, id, "FILLED")).toMatchObject({ filled_quantity: 20, avg_fill_price: 80 });
  });

  it("can be amended: a new trail applies from the mark reached, and is audited", async () => {
    const symbol = await newInstrument(150);
    const trader = await newTrader(0, [{ symbol, quantity: 10, avg_price: 100 }]);
    const id = await place(trader, { symbol, side: "SELL", quantity: 10, order_type: "TRAILING_STOP", trail_price: 5 });
    await move(symbol, 160);
    await shows(trader, id, 160, 155);
    const res = await call(`/api/v1/orders/${id}`, { method: "PATCH", token: trader.token, body: { trail_price: 2 } });
    expect(res.status, await res.clone().text()).toBe(200);
    await shows(trader, id, 160, 158);
    expect(await getOrder(trader, id)).toMatchObject({ trail_price: 2 });
    expect((await auditOf(trader, id)).at(-1)).toMatchObject({ action: "REPLACED", reason: "Amended: trail $5.00 → $2.00" });
    const stopAmend = await call(`/api/v1/orders/${id}`, { method: "PATCH", token: trader.token, body: { stop_price: 150 } });
    expect(await json(stopAmend)).toMatchObject({ error: "VALIDATION_ERROR", details: { fields: { stop_price: expect.any(String) } } });
    await move(symbol, 157.99);
    expect(await untilStatus(trader, id, "FILLED")).toMatchObject({ avg_fill_price: 157.99 });
  });
});

describe("a BUY trailing stop", () => {
  it("follows the low down and buys when the price rises through the trail, within its reserved cash", async () => {
    const symbol = await newInstrument(100);
    const trader = await newTrader(10_000);
    const id = await place(trader, { symbol, quantity: 10, order_type: "TRAILING_STOP", trail_price: 3 }, { hwm: 100, stop_price: 103 });
    expect(await getOrder(trader, id)).toMatchObject({ hwm: 100, stop_price: 103 });
    // Funded at its stop, 103.00, reserved up to the band above it: 10 x 113.30.
    expect(await json(await call("/api/v1/account", { token: trader.token }))).toMatchObject({ reserved: 1_133 });
    await move(symbol, 95);
    await shows(trader, id, 95, 98);
    await move(symbol, 97);
    await shows(trader, id, 95, 98);
    await move(symbol, 98);
    const order: Order = await untilStatus(trader, id, "FILLED");
    expect(order).toMatchObject({ filled_quantity: 10, avg_fill_price: 98 });
    expect(await json(await call("/api/v1/account", { token: trader.token }))).toMatchObject({ cash: 9_020, reserved: 0 });
  });

  it("refuses a trail off the tick, both trails, none, or a trail on another order type", async () => {
    const trader = await newTrader(100_000, [{ symbol: "TEST_PARTIAL", quantity: 10, avg_price: 150 }]);
    const cases: [Record<string, unknown>, string][] = [
      [{ order_type: "TRAILING_STOP", trail_price: 1.02 }, "trail_price"],
      [{ order_type: "TRAILING_STOP", trail_price: 1, trail_percent: 1 }, "trail_percent"],
      [{ order_type: "TRAILING_STOP" }, "trail_price"],
      [{ order_type: "TRAILING_STOP", trail_percent: 0 }, "trail_percent"],
      [{ order_type: "TRAILING_STOP", trail_percent: 50.5 }, "trail_percent"],
      [{ order_type: "LIMIT", price: 150, trail_price: 1 }, "trail_price"],
      [{ order_type: "TRAILING_STOP", trail_price: 1, stop_price: 140 }, "stop_price"],
    ];
    for (const [fields, named] of cases) {
      const res = await submit(trader, { symbol: "TEST_PARTIAL", side: "SELL", quantity: 1, ...fields });
      const body = await json<{ error: string; details: { fields: Record<string, string> } }>(res);
      expect(body.error, JSON.stringify(fields)).toBe("VALIDATION_ERROR");
      expect(Object.keys(body.details.fields), JSON.stringify(fields)).toContain(named);
    }
  });
});
