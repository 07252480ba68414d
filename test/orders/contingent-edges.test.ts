// Contingent orders at their edges, as a new user found them (2026-11-30): exits grow when their entry fills
// again while they are on their way to the venue; an entry whose exits closed what it bought does not go on
// buying unprotected shares; amends keep each price on its side; closing a position leaves HELD exits alone;
// a replayed submit lists the legs; orders that cannot work as asked are refused up front.
import { describe, expect, it } from "vitest";
import { auditOf, call, eventually, getOrder, json, newInstrument, newTrader, setFaults, setInstrument, submit, untilStatus, type Trader } from "../helpers/api";
import type { Order } from "../../worker/shared/orders";

type WithLegs = Order & { legs: Order[] };
interface ErrorBody { error: string; message: string; details: Record<string, unknown> & { fields?: Record<string, string> } }

const move = async (symbol: string, price: number) => expect((await setInstrument(symbol, { price })).status).toBe(200);
const positions = async (t: Trader) => (await json<{ data: { symbol: string; quantity: number; available_quantity: number }[] }>(await call("/api/v1/positions", { token: t.token }))).data;
const amend = (t: Trader, id: string, body: Record<string, unknown>) => call(`/api/v1/orders/${id}`, { method: "PATCH", token: t.token, body });

async function place(trader: Trader, body: Record<string, unknown>, headers?: Record<string, string>): Promise<WithLegs> {
  const res = await submit(trader, { time_in_force: "GTC", ...body }, headers);
  expect(res.status, await res.clone().text()).toBe(201);
  return json<WithLegs>(res);
}

/** A bracket BUY LIMIT 100 @ 150.00 on a book of 50 shares a level: it fills 50 at once and rests the rest. */
async function partialBracket(trader: Trader, symbol: string): Promise<[WithLegs, Order, Order]> {
  const parent = await place(trader, { symbol, quantity: 100, order_type: "LIMIT", price: 150, order_class: "bracket", take_profit: { limit_price: 155 }, stop_loss: { stop_price: 145 } });
  return [parent, parent.legs[0]!, parent.legs[1]!];
}

describe("a bracket's entry filling in parts", () => {
  it("grows its exits to the whole entry when it fills again while they are on their way to the venue", async () => {
    const symbol = await newInstrument(150, { depth: 50, tick_size: 0.05 });
    await setFaults(symbol, { latency_ms: 200 }); // every send takes 200 ms (inside the desk's 300 ms timeout)
    const trader = await newTrader(100_000);
    const [parent, tp, sl] = await partialBracket(trader, symbol);
    await eventually(() => getOrder(trader, parent.id), (o) => o.filled_quantity === 50, 8000);
    await move(symbol, 149.95); // the rest of the entry fills while its exits' sends are in flight
    await untilStatus(trader, parent.id, "FILLED");
    for (const leg of [tp, sl]) await eventually(() => getOrder(trader, leg.id), (o) => o.status === "PENDING" && o.quantity === 100, 8000);
    expect(await positions(trader)).toMatchObject([{ symbol, quantity: 100, available_quantity: 0 }]);
    await setFaults(symbol, {});
    await setInstrument(symbol, { price: 155, depth: 100_000 });
    expect(await untilStatus(trader, tp.id, "FILLED")).toMatchObject({ filled_quantity: 100 });
    await untilStatus(trader, sl.id, "CANCELLED");
    expect(await positions(trader)).toEqual([]);
  });

  it("cancels the rest of the entry once its exits have closed what it bought", async () => {
    const symbol = await newInstrument(150, { depth: 50, tick_size: 0.05 });
    const trader = await newTrader(100_000);
    const [parent, tp, sl] = await partialBracket(trader, symbol);
    for (const leg of [tp, sl]) await eventually(() => getOrder(trader, leg.id), (o) => o.status === "PENDING" && o.quantity === 50);
    for (const leg of [tp, sl]) await eventually(() => auditOf(trader, leg.id), (rows) => rows.some((r) => r.action === "EXECUTED"));
    await move(symbol, 155); // the take-profit sells the 50; the stop-loss goes; the entry's other 50 must not be bought
    await untilStatus(trader, tp.id, "FILLED");
    await untilStatus(trader, sl.id, "CANCELLED");
    expect(await untilStatus(trader, parent.id, "CANCELLED")).toMatchObject({ filled_quantity: 50, reason: expect.stringContaining("no shares are left without exits") });
    await move(symbol, 149); // through the entry's old limit: nothing is bought
    await new Promise((r) => setTimeout(r, 200));
    expect(await positions(trader)).toEqual([]);
  });
});

describe("amending a contingent order keeps its prices on their sides", () => {
  it("refuses an entry price past its HELD exits, naming price and the exit", async () => {
    const symbol = await newInstrument(100);
    const trader = await newTrader(10_000);
    const parent = await place(trader, { symbol, quantity: 5, order_type: "LIMIT", price: 97, order_class: "bracket", take_profit: { limit_price: 103 }, stop_loss: { stop_price: 95 } });
    for (const [price, leg] of [[94, `${parent.id}-sl`], [104, `${parent.id}-tp`]] as const) {
      const res = await amend(trader, parent.id, { price });
      expect(res.status).toBe(400);
      expect(await json<ErrorBody>(res)).toMatchObject({ error: "VALIDATION_ERROR", details: { fields: { price: expect.stringContaining(leg) }, leg_id: leg } });
    }
    expect((await amend(trader, parent.id, { price: 98 })).status).toBe(200); // between its exits: fine
  });

  it("refuses a live take-profit amended through its entry, and an oco's through the price", async () => {
    const symbol = await newInstrument(100);
    const trader = await newTrader(10_000, [{ symbol, quantity: 10, avg_price: 90 }]);
    const bracket = await place(trader, { symbol, quantity: 5, order_type: "MARKET", order_class: "bracket", take_profit: { limit_price: 105 }, stop_loss: { stop_price: 96 }, time_in_force: "DAY" });
    const tp = bracket.legs[0]!;
    await eventually(() => auditOf(trader, tp.id), (rows) => rows.some((r) => r.action === "EXECUTED"));
    const below = await amend(trader, tp.id, { price: 95 });
    expect(below.status).toBe(400);
    expect(Object.keys((await json<ErrorBody>(below)).details.fields ?? {})).toEqual(["price"]);
    const oco = await place(trader, { symbol, side: "SELL", quantity: 5, order_type: "LIMIT", order_class: "oco", take_profit: { limit_price: 104 }, stop_loss: { stop_price: 97 } });
    await eventually(() => auditOf(trader, oco.id), (rows) => rows.some((r) => r.action === "EXECUTED"));
    const through = await amend(trader, oco.id, { price: 99 });
    expect(through.status).toBe(400);
    expect((await json<ErrorBody>(through)).message).toContain("must be above");
    expect(await getOrder(trader, oco.id)).toMatchObject({ price: 104, status: "PENDING" });
  });
});

describe("around contingent orders", () => {
  it("closing a position leaves the HELD exits of a working entry alone (they hold no shares)", async () => {
    const symbol = await newInstrument(100);
    const trader = await newTrader(10_000, [{ symbol, quantity: 20, avg_price: 90 }]);
    const parent = await place(trader, { symbol, quantity: 5, order_type: "LIMIT", price: 97, order_class: "bracket", take_profit: { limit_price: 103 }, stop_loss: { stop_price: 95 } });
    const res = await call(`/api/v1/positions/${symbol}?quantity=20`, { method: "DELETE", token: trader.token });
    expect(res.status, await res.clone().text()).toBe(201);
    for (const leg of parent.legs) expect(await getOrder(trader, leg.id)).toMatchObject({ status: "HELD" });
    expect(await getOrder(trader, parent.id)).toMatchObject({ status: "PENDING" });
  });

  it("answers a replayed bracket submit with its legs, as the first answer", async () => {
    const symbol = await newInstrument(100);
    const trader = await newTrader(10_000);
    const body = { symbol, quantity: 5, order_type: "LIMIT", price: 97, order_class: "bracket", take_profit: { limit_price: 103 }, stop_loss: { stop_price: 95 } };
    const first = await place(trader, body, { "Idempotency-Key": "bracket-once" });
    const again = await submit(trader, { time_in_force: "GTC", ...body }, { "Idempotency-Key": "bracket-once" });
    expect(again.status).toBe(201);
    expect(again.headers.get("Idempotent-Replayed")).toBe("true");
    expect((await json<WithLegs>(again)).legs.map((l) => l.id)).toEqual(first.legs.map((l) => l.id));
  });

  it("refuses up front what cannot work as asked: a stop with IOC or FOK, a SELL trail of the whole price", async () => {
    const symbol = await newInstrument(100);
    const trader = await newTrader(10_000, [{ symbol, quantity: 10, avg_price: 90 }]);
    for (const [body, field] of [
      [{ order_type: "TRAILING_STOP", trail_price: 2, time_in_force: "IOC" }, "time_in_force"],
      [{ order_type: "STOP", stop_price: 95, time_in_force: "FOK" }, "time_in_force"],
      [{ order_type: "STOP_LIMIT", stop_price: 95, price: 94, time_in_force: "IOC" }, "time_in_force"],
      [{ order_type: "TRAILING_STOP", trail_price: 100 }, "trail_price"],
    ] as const) {
      const res = await submit(trader, { symbol, side: "SELL", quantity: 1, ...body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(Object.keys((await json<ErrorBody>(res)).details.fields ?? {}), JSON.stringify(body)).toContain(field);
    }
  });
});
