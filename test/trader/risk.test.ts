// Pre-trade risk as a plain function: the seed's funds rule, reservations and market protection.
import { describe, expect, it } from "vitest";
import { checkRisk } from "../../worker/trader/risk";
import { OrderRequest } from "../../worker/shared/orders";

const config = { priceBandPct: 10, maxOrderQuantity: 1_000_000, maxOrderNotionalCents: 5_000_000_000 };
const aapl = { symbol: "AAPL", priceCents: 15_000, tickCents: 1, tradable: true, version: 1 };
const cash = (dollars: number) => ({ cashCents: dollars * 100, reservedCents: 0, heldQuantity: 0, reservedQuantity: 0 });
const req = (o: Record<string, unknown>) => OrderRequest.parse({ symbol: "AAPL", quantity: 100, order_type: "MARKET", ...o });

describe("pre-trade risk", () => {
  it("answers the seed's insufficient-funds message and details", () => {
    expect(checkRisk(req({}), aapl, cash(5_000), config)).toEqual({
      ok: false, code: "INSUFFICIENT_FUNDS", message: "Insufficient funds for $15,000.00 order; available: $5,000.00",
      details: { required_balance: 15_000, available_balance: 5_000 },
    });
  });

  it("lets exactly enough cash buy at market, reserving all of it and no more", () => {
    expect(checkRisk(req({}), aapl, cash(15_000), config)).toMatchObject({ reservedCents: 1_500_000, maxCostCents: 1_500_000, protectCents: 16_500 });
  });

  it("reserves up to the price band for a market BUY when the cash is there", () => {
    expect(checkRisk(req({}), aapl, cash(1_000_000), config)).toMatchObject({ reservedCents: 1_650_000 });
  });

  it("reserves quantity x limit for a limit BUY", () => {
    expect(checkRisk(req({ order_type: "LIMIT", price: 140 }), aapl, cash(20_000), config)).toMatchObject({ reservedCents: 1_400_000, maxCostCents: null });
  });

  it("refuses prices outside the band, unknown and untradable symbols, and oversized orders", () => {
    expect(checkRisk(req({ order_type: "LIMIT", price: 120 }), aapl, cash(20_000), config)).toMatchObject({ code: "PRICE_OUT_OF_BAND" });
    expect(checkRisk(req({}), null, cash(20_000), config)).toMatchObject({ code: "UNKNOWN_SYMBOL" });
    expect(checkRisk(req({}), { ...aapl, tradable: false }, cash(20_000), config)).toMatchObject({ code: "SYMBOL_NOT_TRADABLE" });
    expect(checkRisk(req({ quantity: 1_000_001 }), aapl, cash(20_000), config)).toMatchObject({ code: "ORDER_TOO_LARGE" });
  });

  it("counts shares promised to working SELL orders", () => {
    const held = { cashCents: 0, reservedCents: 0, heldQuantity: 100, reservedQuantity: 60 };
    expect(checkRisk(req({ side: "SELL", quantity: 50 }), aapl, held, config)).toMatchObject({ code: "INSUFFICIENT_POSITION" });
    expect(checkRisk(req({ side: "SELL", quantity: 40 }), aapl, held, config)).toMatchObject({ reservedQuantity: 40 });
  });
});
