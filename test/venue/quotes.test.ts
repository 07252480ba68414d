// A desk reuses the quote it holds for a symbol; the venue pushes every change to the desks that hold one
// before the admin's PUT answers, so the next order is checked against the price in force (a desk that
// misses a push keeps its old quote at most for its cache time, 10 s).
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, json, newInstrument, newTrader, setInstrument, submit } from "../helpers/api";
import { errorOf } from "../helpers/errors";
import type { Order } from "../../worker/shared/orders";

const limitBuy = (symbol: string, price: number) => ({ symbol, quantity: 1, order_type: "LIMIT", price, time_in_force: "GTC" });

describe("quotes held by a desk", () => {
  it("follow a price change at once: the next order is checked against the new price", async () => {
    const symbol = await newInstrument(100);
    const trader = await newTrader(1_000_000);
    expect((await submit(trader, limitBuy(symbol, 95))).status).toBe(201); // the desk now holds the 100.00 quote

    expect((await setInstrument(symbol, { price: 200 })).status).toBe(200);
    // 95 was inside the 10% band around 100; around 200 it is far out.
    const refused = await errorOf(await submit(trader, limitBuy(symbol, 95)), "limit at the old price");
    expect(refused.error).toBe("PRICE_OUT_OF_BAND");
    expect((await submit(trader, limitBuy(symbol, 195))).status).toBe(201);
  });

  it("follow a halt at once, and the resumption", async () => {
    const symbol = await newInstrument(50);
    const trader = await newTrader(1_000_000);
    expect((await submit(trader, limitBuy(symbol, 49))).status).toBe(201);

    expect((await setInstrument(symbol, { tradable: false })).status).toBe(200);
    expect((await errorOf(await submit(trader, limitBuy(symbol, 49)), "halted")).error).toBe("SYMBOL_NOT_TRADABLE");
    expect((await setInstrument(symbol, { tradable: true })).status).toBe(200);
    expect((await submit(trader, limitBuy(symbol, 49))).status).toBe(201);
  });

  it("reach every desk holding the quote, not only the last one to ask", async () => {
    const symbol = await newInstrument(100);
    const traders = await Promise.all([newTrader(1_000_000), newTrader(1_000_000), newTrader(1_000_000)]);
    for (const t of traders) expect((await submit(t, limitBuy(symbol, 99))).status).toBe(201);
    expect((await setInstrument(symbol, { price: 300 })).status).toBe(200);
    for (const t of traders) expect((await errorOf(await submit(t, limitBuy(symbol, 99)), t.id)).error).toBe("PRICE_OUT_OF_BAND");
  });

  it("follow concurrent changes in the order the venue applied them, and lose neither", async () => {
    const symbol = await newInstrument(100);
    const trader = await newTrader(1_000_000);
    expect((await submit(trader, limitBuy(symbol, 100))).status).toBe(201);
    // Two admins at once: one moves the price, the other the tick. Both land; the desk ends on the last price.
    const [a, b] = await Promise.all([setInstrument(symbol, { price: 200 }), setInstrument(symbol, { tick_size: 0.05 })]);
    expect([a.status, b.status]).toEqual([200, 200]);
    const [c, d] = await Promise.all([setInstrument(symbol, { price: 300 }), setInstrument(symbol, { price: 400 })]);
    expect([c.status, d.status]).toEqual([200, 200]);
    const listed = await json<{ data: { symbol: string; price: number; tick_size: number }[] }>(await call("/api/v1/instruments", { token: trader.token }));
    const now = listed.data.find((i) => i.symbol === symbol)!;
    expect(now.tick_size).toBe(0.05);
    expect([300, 400]).toContain(now.price);
    const other = now.price === 300 ? 400 : 300;
    expect((await submit(trader, limitBuy(symbol, now.price))).status).toBe(201);
    expect((await errorOf(await submit(trader, limitBuy(symbol, other)), `checked against ${now.price}`)).error).toBe("PRICE_OUT_OF_BAND");
  });

  it("never go back to an older version when pushes arrive out of order", async () => {
    const symbol = await newInstrument(100);
    const trader = await newTrader(1_000_000);
    expect((await submit(trader, limitBuy(symbol, 100))).status).toBe(201);
    const desk = env.TRADER.get(env.TRADER.idFromName(trader.id));
    const now = Date.now();
    await desk.onQuote({ symbol, priceCents: 40_000, tickCents: 1, tradable: true, version: now + 2 });
    await desk.onQuote({ symbol, priceCents: 10_000, tickCents: 1, tradable: true, version: now + 1 }); // late, older
    expect((await errorOf(await submit(trader, limitBuy(symbol, 100)), "checked against 400.00")).error).toBe("PRICE_OUT_OF_BAND");
    const order = await json<Order>(await submit(trader, limitBuy(symbol, 399)));
    expect(order.status).toBe("PENDING");
  });
});
