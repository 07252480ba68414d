// Reference prices from Alpaca's market data for the risk checks: the latest quote's midpoint (else the
// latest trade), and a clear refusal when there is no price to be had.
import { afterEach, describe, expect, it } from "vitest";
import { json, newTrader, submit } from "../helpers/api";
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

  it("refuses (SYMBOL_NOT_TRADABLE, not a 500) while market data is unavailable", async () => {
    const symbol = await newSymbol(10);
    await setAccountFaults({ fail_next: [{ method: "GET", path: `/v2/stocks/${symbol}/quotes/latest`, status: 503 }] });
    const trader = await newTrader(1_000);
    const res = await submit(trader, { symbol, quantity: 1, order_type: "MARKET" });
    expect(res.status).toBe(400);
    expect(await json(res)).toMatchObject({ error: "SYMBOL_NOT_TRADABLE" });
  });
});
