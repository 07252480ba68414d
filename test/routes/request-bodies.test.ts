// What the API accepts as a body: JSON (also under curl's default form type, as the seed's own scenario 7
// curl sends it), nothing else, and never more than 16 KiB.
import { describe, expect, it } from "vitest";
import { call, json, newTrader } from "../helpers/api";

describe("request bodies", () => {
  it("accepts a JSON order sent the way `curl -d` sends it (application/x-www-form-urlencoded)", async () => {
    const trader = await newTrader(20_000);
    const res = await call("/api/v1/orders", {
      token: trader.token,
      body: JSON.stringify({ symbol: "AAPL", quantity: 100, order_type: "LIMIT", price: 140.0 }),
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
    });
    expect(res.status).toBe(201);
    expect(await json(res)).toMatchObject({ status: "PENDING", order_type: "LIMIT", price: 140 });
  });

  it("refuses a form body that is not JSON, and other types, with 415 and nothing written", async () => {
    const trader = await newTrader(20_000);
    for (const [type, body] of [
      ["application/x-www-form-urlencoded", "symbol=AAPL&quantity=100"],
      ["text/plain", JSON.stringify({ symbol: "AAPL", quantity: 1, order_type: "MARKET" })],
    ] as const) {
      const res = await call("/api/v1/orders", { token: trader.token, body, headers: { "Content-Type": type } });
      expect(res.status).toBe(415);
      expect(await json(res)).toMatchObject({ error: "UNSUPPORTED_MEDIA_TYPE" });
    }
    const list = await json<{ data: unknown[] }>(await call("/api/v1/orders", { token: trader.token }));
    expect(list.data).toEqual([]);
  });
});
