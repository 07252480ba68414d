// Pre-trade risk as a plain function: the seed's funds rule, reservations and market protection.
import { describe, expect, it } from "vitest";
import { checkMarketHours, checkRisk } from "../../worker/trader/risk";
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

describe("market hours (MARKET_HOURS=regular)", () => {
  const regular = { marketHours: "regular" as const };
  // Monday 2026-11-30: 14:00Z is 09:00 New York (before the open), 15:00Z is 10:00 (open), 21:30Z after the close.
  const beforeOpen = Date.UTC(2026, 10, 30, 14, 0);
  const open = Date.UTC(2026, 10, 30, 15, 0);
  const saturday = Date.UTC(2026, 10, 28, 15, 0);

  it("refuses MARKET, IOC and FOK outside the session with MARKET_CLOSED and the next open", () => {
    for (const o of [{}, { order_type: "LIMIT", price: 150, time_in_force: "IOC" }, { order_type: "LIMIT", price: 150, time_in_force: "FOK" }]) {
      expect(checkMarketHours(req(o), beforeOpen, regular)).toMatchObject({ code: "MARKET_CLOSED", details: { next_open: "2026-11-30T14:30:00.000Z" } });
    }
    expect(checkMarketHours(req({}), saturday, regular)).toMatchObject({ code: "MARKET_CLOSED", details: { next_open: "2026-11-30T14:30:00.000Z" } });
  });

  it("accepts LIMIT and STOP orders outside the session (they work from the open), and everything in it", () => {
    expect(checkMarketHours(req({ order_type: "LIMIT", price: 150, time_in_force: "GTC" }), beforeOpen, regular)).toBeNull();
    expect(checkMarketHours(req({ order_type: "STOP", stop_price: 151 }), saturday, regular)).toBeNull();
    expect(checkMarketHours(req({}), open, regular)).toBeNull();
  });

  it("trades at any hour with MARKET_HOURS=always (the default)", () => {
    expect(checkMarketHours(req({}), saturday, { marketHours: "always" })).toBeNull();
  });
});

describe("stops and ticks in the risk check", () => {
  const partial = { ...aapl, symbol: "TEST_PARTIAL", tickCents: 5 };
  it("checks the tick before the side and the band, naming the field", () => {
    expect(checkRisk(req({ symbol: "TEST_PARTIAL", order_type: "STOP", stop_price: 140.01 }), partial, cash(100_000), config)).toMatchObject({
      code: "VALIDATION_ERROR", details: { fields: { stop_price: expect.any(String) }, tick_size: 0.05, nearest_valid: [140, 140.05] },
    });
  });

  it("takes no market protection on a STOP (a gap fills it), but keeps a BUY stop's spending cap", () => {
    const sell = checkRisk(req({ side: "SELL", quantity: 10, order_type: "STOP", stop_price: 145 }), aapl, { ...cash(0), heldQuantity: 10 }, config);
    expect(sell).toMatchObject({ protectCents: null, maxCostCents: null, reservedQuantity: 10 });
    const buy = checkRisk(req({ quantity: 10, order_type: "STOP", stop_price: 160 }), aapl, cash(100_000), config);
    expect(buy).toMatchObject({ protectCents: null, reservedCents: 176_000, maxCostCents: 176_000 }); // 10 x (160.00 + 10%)
  });
});
