// Prices sit on the instrument's tick, compared in integer cents: off-tick prices are refused with the two
// valid prices around them, on every priced field of an order and on the admin's price moves.
import { describe, expect, it } from "vitest";
import { call, json, newInstrument, newTrader, setInstrument, submit } from "../helpers/api";
import { isOnTick, nearestValid } from "../../worker/shared/price-rules";

interface ErrorBody {
  error: string;
  message: string;
  details: { fields?: Record<string, string>; tick_size?: number; nearest_valid?: number[] };
}

describe("tick arithmetic", () => {
  it("is exact in integer cents where float % is not", () => {
    expect(14_995 % 5).toBe(0);
    expect(149.95 % 0.05).not.toBe(0); // the float way gets this wrong
    expect(isOnTick(14_995, 5)).toBe(true);
    expect(isOnTick(14_997, 5)).toBe(false);
    expect(nearestValid(14_997, 5)).toEqual([14_995, 15_000]);
    expect(nearestValid(3, 5)).toEqual([5, 5]);
    expect(nearestValid(101, 25)).toEqual([100, 125]);
    expect(isOnTick(12_345, 1)).toBe(true);
  });
});

describe("an order priced off the tick", () => {
  it("refuses LIMIT 10 TEST_PARTIAL @ 149.97 (tick 0.05) naming price, with the valid prices around it", async () => {
    const trader = await newTrader(100_000);
    const res = await submit(trader, { symbol: "TEST_PARTIAL", quantity: 10, order_type: "LIMIT", price: 149.97 });
    expect(res.status).toBe(400);
    const body = await json<ErrorBody>(res);
    expect(body).toMatchObject({ error: "VALIDATION_ERROR", details: { tick_size: 0.05, nearest_valid: [149.95, 150] } });
    expect(Object.keys(body.details.fields!)).toEqual(["price"]);
    expect((await json<{ data: unknown[] }>(await call("/api/v1/orders", { token: trader.token }))).data).toEqual([]);
  });

  for (const price of [149.95, 150.15, 149.95000000000002, 150, 135.05]) {
    it(`accepts LIMIT @ ${price} on a 0.05 tick`, async () => {
      const trader = await newTrader(100_000);
      const res = await submit(trader, { symbol: "TEST_PARTIAL", quantity: 1, order_type: "LIMIT", price, time_in_force: "GTC" });
      expect(res.status, await res.clone().text()).toBe(201);
    });
  }

  for (const [price, below, above] of [[149.96, 149.95, 150], [149.99, 149.95, 150], [150.01, 150, 150.05], [150.14, 150.1, 150.15]] as const) {
    it(`refuses @ ${price} with nearest_valid [${below}, ${above}]`, async () => {
      const trader = await newTrader(100_000);
      const body = await json<ErrorBody>(await submit(trader, { symbol: "TEST_PARTIAL", quantity: 1, order_type: "LIMIT", price }));
      expect(body.details.nearest_valid).toEqual([below, above]);
    });
  }

  it("checks stop_price too, on STOP and STOP_LIMIT, both sides", async () => {
    const trader = await newTrader(100_000, [{ symbol: "TEST_PARTIAL", quantity: 100, avg_price: 150 }]);
    const cases: { side: string; order_type: string; stop_price: number; price?: number }[] = [
      { side: "BUY", order_type: "STOP", stop_price: 151.02 },
      { side: "SELL", order_type: "STOP", stop_price: 148.03 },
      { side: "BUY", order_type: "STOP_LIMIT", stop_price: 151.01, price: 152 },
      { side: "SELL", order_type: "STOP_LIMIT", stop_price: 148, price: 147.99 },
    ];
    for (const c of cases) {
      const body = await json<ErrorBody>(await submit(trader, { symbol: "TEST_PARTIAL", quantity: 1, ...c }));
      expect(body.error).toBe("VALIDATION_ERROR");
      const field = c.price !== undefined && !Number.isInteger(Math.round(c.price * 100) / 5) ? "price" : "stop_price";
      expect(Object.keys(body.details.fields!), JSON.stringify(c)).toEqual([field]);
      expect(body.details.tick_size).toBe(0.05);
    }
  });
});

describe("the admin's price moves", () => {
  it("refuses a price off the instrument's tick, and a tick the current price is not on", async () => {
    const symbol = await newInstrument(100, { tick_size: 0.25 });
    const off = await setInstrument(symbol, { price: 100.1 });
    expect(off.status).toBe(400);
    expect(await json(off)).toMatchObject({ error: "VALIDATION_ERROR", details: { tick_size: 0.25, nearest_valid: [100, 100.25] } });
    expect((await setInstrument(symbol, { price: 100.75 })).status).toBe(200);
    const badTick = await setInstrument(symbol, { tick_size: 0.5 });
    expect(badTick.status).toBe(400);
    expect(await json(badTick)).toMatchObject({ details: { fields: { tick_size: expect.any(String) } } });
    expect(await json(await setInstrument(symbol, { price: 101, tick_size: 0.5 }))).toMatchObject({ price: 101, tick_size: 0.5 });
  });
});
