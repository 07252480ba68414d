// Stops trigger on the right side, are funded at the worse of their stop and the price, and once
// triggered work as market orders (a STOP_LIMIT as a limit): a gap never cancels a stop-loss.
import { afterEach, describe, expect, it } from "vitest";
import { auditOf, call, eventually, getOrder, json, newInstrument, newTrader, setInstrument, submit, untilStatus, type Trader } from "../helpers/api";
import { closeAll, connect } from "../helpers/socket";

afterEach(closeAll);

const account = async (t: Trader) => json<{ cash: number; reserved: number; positions: { symbol: string; quantity: number; avg_price: number }[] }>(await call("/api/v1/account", { token: t.token }));
const move = async (symbol: string, price: number) => expect((await setInstrument(symbol, { price })).status).toBe(200);

async function resting(trader: Trader, order: Record<string, unknown>): Promise<string> {
  const res = await submit(trader, order);
  expect(res.status, await res.clone().text()).toBe(201);
  const { id } = await json<{ id: string }>(res);
  await eventually(() => auditOf(trader, id), (t) => t.some((a) => a.action === "EXECUTED"));
  return id;
}

describe("a stop on the wrong side of the price", () => {
  const cases = [
    { side: "BUY", order_type: "STOP", stop_price: 140 },
    { side: "BUY", order_type: "STOP", stop_price: 150 },
    { side: "BUY", order_type: "STOP_LIMIT", stop_price: 149.99, price: 151 },
    { side: "SELL", order_type: "STOP", stop_price: 160 },
    { side: "SELL", order_type: "STOP", stop_price: 150 },
    { side: "SELL", order_type: "STOP_LIMIT", stop_price: 150.01, price: 149 },
  ] as const;
  for (const c of cases) {
    it(`refuses ${c.side} ${c.order_type} stop_price ${c.stop_price} while the price is 150.00, and writes nothing`, async () => {
      const symbol = await newInstrument(150);
      const trader = await newTrader(5_000, [{ symbol, quantity: 100, avg_price: 150 }]);
      const res = await submit(trader, { symbol, quantity: 35, ...c });
      expect(res.status).toBe(400);
      const body = await json<{ error: string; message: string; details: { fields: Record<string, string>; reference_price: number } }>(res);
      expect(body.error).toBe("VALIDATION_ERROR");
      expect(Object.keys(body.details.fields)).toEqual(["stop_price"]);
      expect(body.details.reference_price).toBe(150);
      expect(body.message).toContain(c.side === "BUY" ? "above" : "below");
      const list = await json<{ data: unknown[] }>(await call("/api/v1/orders", { token: trader.token }));
      expect(list.data).toEqual([]);
      expect(await account(trader)).toMatchObject({ cash: 5_000, reserved: 0 });
    });
  }

  it("accepts the same stops on the right side and keeps them resting", async () => {
    const symbol = await newInstrument(150);
    const trader = await newTrader(20_000, [{ symbol, quantity: 100, avg_price: 150 }]);
    const buy = await resting(trader, { symbol, side: "BUY", quantity: 10, order_type: "STOP", stop_price: 150.01 });
    const sell = await resting(trader, { symbol, side: "SELL", quantity: 10, order_type: "STOP", stop_price: 149.99 });
    for (const id of [buy, sell]) expect(await getOrder(trader, id)).toMatchObject({ status: "PENDING", filled_quantity: 0 });
  });

  it("checks a BUY stop's funds at its stop price when that is above the reference price", async () => {
    const symbol = await newInstrument(150);
    const trader = await newTrader(5_000);
    // 33 x 155.00 = 5,115.00 > 5,000.00, although 33 x 150.00 would pass.
    const res = await submit(trader, { symbol, quantity: 33, order_type: "STOP", stop_price: 155 });
    expect(res.status).toBe(400);
    expect(await json(res)).toMatchObject({ error: "INSUFFICIENT_FUNDS", details: { required_balance: 5_115, available_balance: 5_000 } });
    expect((await submit(trader, { symbol, quantity: 32, order_type: "STOP", stop_price: 155 })).status).toBe(201);
  });
});

describe("a triggered stop", () => {
  it("sells a stop-loss through a gap at the prices the book offers (10 @ 120.00), audited TRIGGERED", async () => {
    const symbol = await newInstrument(150);
    const trader = await newTrader(0, [{ symbol, quantity: 10, avg_price: 150 }]);
    const socket = await connect({ token: trader.token });
    const id = await resting(trader, { symbol, side: "SELL", quantity: 10, order_type: "STOP", stop_price: 145, time_in_force: "GTC" });

    await move(symbol, 120);

    const order = await untilStatus(trader, id, "FILLED", "CANCELLED", "REJECTED");
    expect(order).toMatchObject({ status: "FILLED", filled_quantity: 10, avg_fill_price: 120 });
    expect(order.fills.map((f) => [f.quantity_filled, f.price_at_fill])).toEqual([[10, 120]]);
    expect((await auditOf(trader, id)).map((a) => a.action)).toEqual(["SUBMITTED", "APPROVED", "EXECUTED", "TRIGGERED", "FILLED"]);
    const events = await socket.untilEvent(id, "order.filled");
    expect(events.map((e) => e.event)).toEqual(["order.submitted", "order.accepted", "order.triggered", "order.filled"]);
    expect(await account(trader)).toMatchObject({ cash: 1_200, reserved: 0, positions: [] });
  });

  it("fills a BUY stop through an upward gap as far as its reserved cash goes, and never spends more", async () => {
    const symbol = await newInstrument(100);
    const trader = await newTrader(10_000);
    // Funded at 101.00 x 10 = 1,010.00, reserved up to the band above it: 10 x 111.10 = 1,111.00.
    const id = await resting(trader, { symbol, quantity: 10, order_type: "STOP", stop_price: 101 });
    expect(await account(trader)).toMatchObject({ reserved: 1_111 });

    await move(symbol, 130);

    const order = await untilStatus(trader, id, "FILLED", "CANCELLED");
    // 1,111.00 buys 8 shares at 130.00 (1,040.00); the other 2 are cancelled, with the reason.
    expect(order).toMatchObject({ status: "CANCELLED", filled_quantity: 8, avg_fill_price: 130 });
    expect(order.reason).toBe("2 shares could not fill within the cash reserved for this order; remainder cancelled");
    expect((await auditOf(trader, id)).map((a) => a.action)).toEqual(["SUBMITTED", "APPROVED", "EXECUTED", "TRIGGERED", "PARTIAL", "CANCELLED"]);
    expect(await account(trader)).toMatchObject({ cash: 8_960, reserved: 0, positions: [{ symbol, quantity: 8, avg_price: 130 }] });
  });

  it("turns a STOP_LIMIT into a limit at its price: triggered by the gap, it rests below its limit and fills when the price comes back", async () => {
    const symbol = await newInstrument(150);
    const trader = await newTrader(0, [{ symbol, quantity: 10, avg_price: 150 }]);
    const id = await resting(trader, { symbol, side: "SELL", quantity: 10, order_type: "STOP_LIMIT", stop_price: 145, price: 144, time_in_force: "GTC" });

    await move(symbol, 120);
    await eventually(() => auditOf(trader, id), (t) => t.some((a) => a.action === "TRIGGERED"));
    expect(await getOrder(trader, id)).toMatchObject({ status: "PENDING", filled_quantity: 0 });

    await move(symbol, 144.5);
    const order = await untilStatus(trader, id, "FILLED", "CANCELLED");
    expect(order).toMatchObject({ status: "FILLED", filled_quantity: 10, avg_fill_price: 144.5 });
    const trail = (await auditOf(trader, id)).map((a) => a.action);
    expect(trail).toEqual(["SUBMITTED", "APPROVED", "EXECUTED", "TRIGGERED", "FILLED"]);
  });

  it("keeps a market order's protection: a MARKET SELL does not sell below the band", async () => {
    const symbol = await newInstrument(150, { depth: 5 });
    const trader = await newTrader(0, [{ symbol, quantity: 10_000, avg_price: 150 }]);
    const res = await submit(trader, { symbol, side: "SELL", quantity: 10_000, order_type: "MARKET" });
    const { id } = await json<{ id: string }>(res);
    const order = await untilStatus(trader, id, "FILLED", "CANCELLED");
    expect(order.status).toBe("CANCELLED");
    expect(Math.min(...order.fills.map((f) => f.price_at_fill))).toBeGreaterThanOrEqual(135);
  });
});
