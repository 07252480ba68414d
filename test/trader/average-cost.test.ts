// Positions at average cost: a sale takes out exactly avg x shares and leaves the average of the rest
// unchanged, however many partial sales follow; each sale's realized P&L is (price - avg) x shares, and
// the account, the fills and D1 agree.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, eventually, json, newInstrument, newTrader, submit, untilStatus, type Trader } from "../helpers/api";
import { afterBuy, afterSale, costBasisCents, NO_HOLDING } from "../../worker/trader/ledger";

type Account = { cash: number; positions: { symbol: string; quantity: number; avg_price: number; realized_pl: number }[] };
const account = async (t: Trader) => json<Account>(await call("/api/v1/account", { token: t.token }));

async function fill(trader: Trader, order: Record<string, unknown>): Promise<void> {
  const res = await submit(trader, order);
  expect(res.status, await res.clone().text()).toBe(201);
  const { id } = await json<{ id: string }>(res);
  expect((await untilStatus(trader, id, "FILLED", "CANCELLED", "REJECTED")).status).toBe("FILLED");
}

describe("the ledger's average cost", () => {
  it("blends buys to the micro-dollar and never moves on sales", () => {
    let h = afterBuy(afterBuy(NO_HOLDING, 50, 15_000), 50, 15_005);
    expect(h).toEqual({ quantity: 100, avg_price_micros: 150_025_000, realized_pl_micros: 0 });
    let realized = 0;
    for (let left = 100; left > 0; left--) {
      const sale = afterSale(h, 1, 15_100);
      realized += sale.realizedMicros;
      expect(sale.realizedMicros).toBe(975_000); // (151.00 - 150.025) x 1
      h = sale.holding;
      if (h.quantity > 0) expect(h.avg_price_micros).toBe(150_025_000);
    }
    expect(h).toEqual({ quantity: 0, avg_price_micros: 0, realized_pl_micros: realized });
    expect(realized).toBe(97_500_000); // 97.50 dollars
  });

  it("keeps thirds exact enough: 1 @ 100, 1 @ 100, 1 @ 101 averages 100.333333", () => {
    const h = afterBuy(afterBuy(afterBuy(NO_HOLDING, 1, 10_000), 1, 10_000), 1, 10_100);
    expect(h.avg_price_micros).toBe(100_333_333);
    expect(costBasisCents(h)).toBe(30_100);
    expect(afterSale(h, 2, 10_000).holding.avg_price_micros).toBe(100_333_333);
  });

  it("stays exact past 2^53 micro-dollars of cost (BigInt inside)", () => {
    const h = afterBuy(afterBuy(NO_HOLDING, 9_000_000, 99_999_999), 1, 1);
    expect(h.quantity).toBe(9_000_001);
    expect(h.avg_price_micros).toBe(999_999_878_889);
  });
});

describe("selling a position bought at two prices", () => {
  it("reads avg 150.025 after every partial sale down to the last share; realized P&L exact; D1 agrees", async () => {
    const trader = await newTrader(20_000);
    await fill(trader, { symbol: "TEST_PARTIAL", quantity: 100, order_type: "MARKET" }); // 50 @ 150.00 + 50 @ 150.05
    expect((await account(trader)).positions).toEqual([{ symbol: "TEST_PARTIAL", quantity: 100, avg_price: 150.025, realized_pl: 0 }]);

    let held = 100;
    let realizedMicros = 0;
    for (const quantity of [1, 1, 3, 7, 13, 25, 49]) {
      // A SELL LIMIT at 149.95 fills at the best bid, 150.00: each share realizes 150.00 - 150.025 = -0.025.
      await fill(trader, { symbol: "TEST_PARTIAL", side: "SELL", quantity, order_type: "LIMIT", price: 149.95 });
      held -= quantity;
      realizedMicros += -25_000 * quantity;
      const positions = (await account(trader)).positions;
      expect(positions).toEqual(held > 0 ? [{ symbol: "TEST_PARTIAL", quantity: held, avg_price: 150.025, realized_pl: -Math.round(-realizedMicros / 10_000) / 100 }] : []); // half-cents away from zero
    }
    await fill(trader, { symbol: "TEST_PARTIAL", side: "SELL", quantity: 1, order_type: "MARKET" });
    expect((await account(trader)).positions).toEqual([]);

    const d1 = await eventually(
      () => env.DB.prepare("SELECT quantity, avg_price_micros, realized_pl_micros, cost_cents FROM positions WHERE trader_id = ?").bind(trader.id).first(),
      (row) => row !== null && row.quantity === 0,
      5000,
    );
    expect(d1).toEqual({ quantity: 0, avg_price_micros: 0, realized_pl_micros: -2_500_000, cost_cents: 0 });
    const sales = await eventually(
      () => env.DB.prepare("SELECT SUM(realized_pl_micros) AS total, COUNT(*) AS n FROM fills WHERE trader_id = ? AND side = 'SELL'").bind(trader.id).first<{ total: number; n: number }>(),
      (row) => row?.n === 8,
      5000,
    );
    expect(sales?.total).toBe(-2_500_000); // 100 shares x -0.025
    // Cash: 20,000 - 15,002.50 + 100 x 150.00 = 19,997.50.
    expect((await account(trader)).cash).toBe(19_997.5);
  });

  it("takes the average of an admin-opened position and keeps it through a sale", async () => {
    const symbol = await newInstrument(150);
    const trader = await newTrader(0, [{ symbol, quantity: 30, avg_price: 140.07 }]);
    await fill(trader, { symbol, side: "SELL", quantity: 7, order_type: "MARKET" });
    expect((await account(trader)).positions).toEqual([{ symbol, quantity: 23, avg_price: 140.07, realized_pl: 69.51 }]); // 7 x 9.93
  });
});
