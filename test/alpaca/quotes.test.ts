// Reference prices from Alpaca's market data for the risk checks: the latest quote's midpoint (else the
// latest trade), and a clear refusal when there is no price to be had.
import { afterEach, describe, expect, it } from "vitest";
import { call, json, newTrader, submit } from "../helpers/api";
import { newSymbol, setAccountFaults } from "./fake";

afterEach(() => setAccountFaults({ fail_next: [] }));

describe("reference prices from Alpaca market data", () => {
  it("checks funds against the latest quote's midpoint", async () => {
    const symbol = await newSymbol(123.45, { tick: 0.05 }); // bid 123.40, ask 123.50
    const trader = await newTrader(1_000);
    const res = await submit(trader, { symbol, quantity: 10, order_type: "MARKET" });
    expect(res.status).toBe(400);
    expect(await json(res)).toMatchObject({ error: "INSUFFICIENT_FUNDS", details: { required_balance: 1234.5, available_balance: 1000 } });
  });

  it("judges a limit price against it (the price band)", async () => {
    const symbol = await newSymbol(50);
    const trader = await newTrader(10_000);
    const res = await submit(trader, { symbol, quantity: 1, order_type: "LIMIT", price: 60 });
    expect(res.status).toBe(400);
    expect(await json(res)).toMatchObject({ error: "PRICE_OUT_OF_BAND" });
  });

  it("answers UNKNOWN_SYMBOL for a symbol Alpaca's market data does not know", async () => {
    const trader = await newTrader(1_000);
    const res = await submit(trader, { symbol: "NOSUCHSYM", quantity: 1, order_type: "MARKET" });
    expect(res.status).toBe(400);
    expect(await json(res)).toMatchObject({ error: "UNKNOWN_SYMBOL" });
  });

  it("answers SYMBOL_NOT_TRADABLE when Alpaca has neither a quote nor a trade for it", async () => {
    const symbol = await newSymbol(10, { priced: false });
    const trader = await newTrader(1_000);
    const res = await submit(trader, { symbol, quantity: 1, order_type: "MARKET" });
    expect(res.status).toBe(400);
    expect(await json(res)).toMatchObject({ error: "SYMBOL_NOT_TRADABLE", message: `${symbol} is not tradable right now` });
  });

  it("answers 503 VENUE_UNAVAILABLE saying why while market data is down, places nothing, and prices again a moment later", async () => {
    const symbol = await newSymbol(10);
    await setAccountFaults({ fail_next: [{ method: "GET", path: `/v2/stocks/${symbol}/quotes/latest`, status: 503 }] });
    const trader = await newTrader(1_000);
    const res = await submit(trader, { symbol, quantity: 1, order_type: "MARKET" });
    expect(res.status).toBe(503);
    const body = await json<{ error: string; message: string }>(res);
    expect(body).toMatchObject({ error: "VENUE_UNAVAILABLE", details: { symbol } });
    expect(body.message).toContain(`No reference price for ${symbol}`);
    expect(body.message).toContain("retry");
    expect(body.message).not.toMatch(/fake-secret-key|fake-key-id/); // the keys never leave in an error
    expect((await json<{ data: unknown[] }>(await call("/api/v1/orders", { token: trader.token }))).data).toEqual([]);
    // The failure is kept one second, not the cache's few: the retry is priced and placed.
    await new Promise((r) => setTimeout(r, 1100));
    expect((await submit(trader, { symbol, quantity: 1, order_type: "MARKET" })).status).toBe(201);
  });
});
