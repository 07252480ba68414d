// A SELL entry's bracket and oto (SPEC, "Trailing and contingent orders": the checks "mirrored for a SELL
// entry"): the entry sells shares held, its exits BUY them back, the take-profit below the entry and the
// stop-loss above. The cash to buy back is reserved once for the pair as the order is placed (the larger of
// the two exits' needs), moves with whichever exit fills, and comes back when the pair is done or cancelled.
import { afterEach, describe, expect, it } from "vitest";
import { auditOf, call, eventually, getOrder, json, newInstrument, newTrader, setInstrument, submit, untilStatus, type Trader } from "../helpers/api";
import { closeAll, connect } from "../helpers/socket";
import type { Order } from "../../worker/shared/orders";

afterEach(closeAll);

type WithLegs = Order & { legs: Order[] };
interface Account { cash: number; reserved: number; positions: { symbol: string; quantity: number }[] }
interface ErrorBody { error: string; message: string; details: Record<string, unknown> & { fields?: Record<string, string> } }

const move = async (symbol: string, price: number) => expect((await setInstrument(symbol, { price })).status).toBe(200);
const account = async (t: Trader) => json<Account>(await call("/api/v1/account", { token: t.token }));
const bracketBody = (symbol: string, over: Record<string, unknown> = {}) => ({
  symbol, side: "SELL", quantity: 10, order_type: "LIMIT", price: 101, time_in_force: "GTC",
  order_class: "bracket", take_profit: { limit_price: 95 }, stop_loss: { stop_price: 106 }, ...over,
});

async function place(trader: Trader, body: Record<string, unknown>): Promise<WithLegs> {
  const res = await submit(trader, body);
  expect(res.status, await res.clone().text()).toBe(201);
  return json<WithLegs>(res);
}

/** A trader holding 10 shares of a new instrument at $100 (bought at $90), with $2,000 cash. */
async function holder(): Promise<{ symbol: string; trader: Trader }> {
  const symbol = await newInstrument(100);
  const trader = await newTrader(2_000, [{ symbol, quantity: 10, avg_price: 90 }]);
  return { symbol, trader };
}

describe("a SELL bracket", () => {
  it("buys back at the take-profit below the entry, cancels the stop-loss, and gives the pair's cash back", async () => {
    const { symbol, trader } = await holder();
    const socket = await connect({ token: trader.token });
    const parent = await place(trader, bracketBody(symbol));
    expect(parent.legs.map((l) => [l.side, l.order_type, l.status, l.price ?? l.stop_price])).toEqual([["BUY", "LIMIT", "HELD", 95], ["BUY", "STOP", "HELD", 106]]);
    const [tp, sl] = parent.legs as [Order, Order];
    // The cash to buy the 10 back through the stop-loss (at $106, up to the band above) is held once, now.
    const placed = await account(trader);
    expect(placed.cash).toBe(2_000);
    expect(placed.reserved).toBeGreaterThanOrEqual(1_060);
    expect(placed.reserved).toBeLessThanOrEqual(2_000);

    await move(symbol, 101); // the entry sells the 10; its exits go live to buy them back
    expect(await untilStatus(trader, parent.id, "FILLED")).toMatchObject({ filled_quantity: 10, avg_fill_price: 101 });
    for (const leg of [tp, sl]) await eventually(() => getOrder(trader, leg.id), (o) => o.status === "PENDING" && o.quantity === 10);
    for (const leg of [tp, sl]) await eventually(() => auditOf(trader, leg.id), (rows) => rows.some((r) => r.action === "EXECUTED"));
    expect(await account(trader)).toMatchObject({ cash: 3_010, reserved: placed.reserved, positions: [] });

    await move(symbol, 95); // the take-profit buys back below the entry; the stop-loss goes
    expect(await untilStatus(trader, tp.id, "FILLED")).toMatchObject({ filled_quantity: 10, avg_fill_price: 95 });
    expect(await untilStatus(trader, sl.id, "CANCELLED")).toMatchObject({ filled_quantity: 0 });
    await move(symbol, 110); // far through the old stop: nothing more is bought
    await new Promise((r) => setTimeout(r, 200));
    expect(await account(trader)).toMatchObject({ cash: 3_010 - 950, reserved: 0, positions: [{ symbol, quantity: 10 }] });
    const events = await socket.untilEvent(sl.id, "order.cancelled");
    expect(events.every((e) => e.parent_order_id === parent.id)).toBe(true);
  });

  it("buys back through the stop-loss above the entry on a gap, cancels the take-profit, never buys twice", async () => {
    const { symbol, trader } = await holder();
    const parent = await place(trader, bracketBody(symbol, { order_type: "MARKET", price: undefined, take_profit: { limit_price: 96 }, stop_loss: { stop_price: 104 } }));
    const [tp, sl] = parent.legs as [Order, Order];
    expect(await untilStatus(trader, parent.id, "FILLED")).toMatchObject({ filled_quantity: 10, avg_fill_price: 100 });
    await eventually(() => auditOf(trader, sl.id), (rows) => rows.some((r) => r.action === "EXECUTED"));
    await move(symbol, 108); // a gap through the stop: a market buy at the gapped price
    expect(await untilStatus(trader, sl.id, "FILLED")).toMatchObject({ filled_quantity: 10, avg_fill_price: 108 });
    expect(await untilStatus(trader, tp.id, "CANCELLED")).toMatchObject({ filled_quantity: 0 });
    await move(symbol, 90); // through the old take-profit: nothing more is bought
    await new Promise((r) => setTimeout(r, 200));
    expect(await account(trader)).toMatchObject({ cash: 2_000 + 1_000 - 1_080, reserved: 0, positions: [{ symbol, quantity: 10 }] });
  });

  it("gives the pair's cash back when the entry is cancelled before it fills", async () => {
    const { symbol, trader } = await holder();
    const parent = await place(trader, bracketBody(symbol));
    expect((await account(trader)).reserved).toBeGreaterThan(0);
    await eventually(() => auditOf(trader, parent.id), (rows) => rows.some((r) => r.action === "EXECUTED"));
    expect((await call(`/api/v1/orders/${parent.id}/cancel`, { method: "POST", token: trader.token })).status).toBe(200);
    for (const leg of parent.legs) expect(await getOrder(trader, leg.id)).toMatchObject({ status: "CANCELLED" });
    expect(await account(trader)).toMatchObject({ cash: 2_000, reserved: 0, positions: [{ symbol, quantity: 10 }] });
  });

  it("amends a HELD stop-loss higher, holding the extra cash it needs, and gives it all back on cancel", async () => {
    const { symbol, trader } = await holder();
    const parent = await place(trader, bracketBody(symbol));
    const before = (await account(trader)).reserved;
    const [, sl] = parent.legs as [Order, Order];
    const wrong = await call(`/api/v1/orders/${sl.id}`, { method: "PATCH", token: trader.token, body: { stop_price: 100 } }); // below the entry
    expect(wrong.status).toBe(400);
    expect(Object.keys((await json<ErrorBody>(wrong)).details.fields ?? {})).toEqual(["stop_price"]);
    const res = await call(`/api/v1/orders/${sl.id}`, { method: "PATCH", token: trader.token, body: { stop_price: 108 } });
    expect(res.status, await res.clone().text()).toBe(200);
    expect(await json<Order>(res)).toMatchObject({ status: "HELD", stop_price: 108 });
    expect((await account(trader)).reserved).toBeGreaterThan(before);
    expect((await call(`/api/v1/orders/${parent.id}/cancel`, { method: "POST", token: trader.token })).status).toBe(200);
    expect(await account(trader)).toMatchObject({ cash: 2_000, reserved: 0 });
  });
});

describe("a SELL oto", () => {
  it("with a take-profit only: reserves its buy-back cash, buys back below the entry", async () => {
    const { symbol, trader } = await holder();
    const parent = await place(trader, bracketBody(symbol, { order_class: "oto", stop_loss: undefined, order_type: "MARKET", price: undefined }));
    expect(parent.legs.map((l) => [l.side, l.order_type, l.status])).toEqual([["BUY", "LIMIT", "HELD"]]);
    expect((await account(trader)).reserved).toBe(950); // 10 x $95.00
    await untilStatus(trader, parent.id, "FILLED");
    await eventually(() => auditOf(trader, parent.legs[0]!.id), (rows) => rows.some((r) => r.action === "EXECUTED"));
    await move(symbol, 94);
    expect(await untilStatus(trader, parent.legs[0]!.id, "FILLED")).toMatchObject({ filled_quantity: 10, avg_fill_price: 94 });
    expect(await account(trader)).toMatchObject({ cash: 2_000 + 1_000 - 940, reserved: 0, positions: [{ symbol, quantity: 10 }] });
  });
});

describe("SELL brackets refused", () => {
  const cases: [what: string, over: Record<string, unknown>, error: string, field: string | null][] = [
    ["a take-profit above a SELL entry", { take_profit: { limit_price: 103 } }, "VALIDATION_ERROR", "take_profit.limit_price"],
    ["a stop-loss below a SELL entry", { stop_loss: { stop_price: 99 } }, "VALIDATION_ERROR", "stop_loss.stop_price"],
    ["more shares than held", { quantity: 11 }, "INSUFFICIENT_POSITION", null],
  ];
  for (const [what, over, error, field] of cases) {
    it(`refuses ${what}: nothing placed, nothing reserved`, async () => {
      const { symbol, trader } = await holder();
      const res = await submit(trader, bracketBody(symbol, over));
      expect(res.status).toBe(400);
      const body = await json<ErrorBody>(res);
      expect(body.error, body.message).toBe(error);
      if (field) expect(Object.keys(body.details.fields ?? {})).toContain(field);
      expect((await json<{ data: unknown[] }>(await call("/api/v1/orders", { token: trader.token }))).data).toEqual([]);
      expect(await account(trader)).toMatchObject({ cash: 2_000, reserved: 0 });
    });
  }

  it("refuses when the cash to buy back through the exits is not there, naming the exit", async () => {
    const symbol = await newInstrument(100);
    const trader = await newTrader(500, [{ symbol, quantity: 10, avg_price: 90 }]);
    const res = await submit(trader, bracketBody(symbol));
    expect(res.status).toBe(400);
    const body = await json<ErrorBody>(res);
    expect(body).toMatchObject({ error: "INSUFFICIENT_FUNDS", details: { leg: expect.stringMatching(/take_profit|stop_loss/), available_balance: 500 } });
    expect(body.message).toContain("buys the 10 shares back");
    expect(await account(trader)).toMatchObject({ cash: 500, reserved: 0 });
  });
});
