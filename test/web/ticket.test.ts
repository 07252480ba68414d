// The order ticket's logic: the shared zod schema decides (with the server's own wording), only the
// prices the order type uses are sent, and one Idempotency-Key covers one ticket.
import { describe, expect, it } from "vitest";
import { estimatedCost, initialDraft, keyFor, submitLabel, toOrderRequest, type TicketDraft } from "../../web/src/ticket";
import { money, price, quantity } from "../../web/src/format";

const draft = (over: Partial<TicketDraft> = {}): TicketDraft => ({ ...initialDraft("AAPL"), ...over });

describe("toOrderRequest", () => {
  it("turns the default ticket into the seed's market order", () => {
    expect(toOrderRequest(draft())).toEqual({
      ok: true,
      body: { symbol: "AAPL", side: "BUY", quantity: 100, order_type: "MARKET", time_in_force: "DAY" },
    });
  });

  it("sends only the prices the order type uses, even when hidden fields still hold a value", () => {
    expect(toOrderRequest(draft({ price: "140", stop_price: "139" }))).toMatchObject({ ok: true, body: { order_type: "MARKET" } });
    expect(toOrderRequest(draft({ price: "140", stop_price: "139" }))).not.toHaveProperty("body.price");
    expect(toOrderRequest(draft({ order_type: "LIMIT", price: "140.00", stop_price: "139" }))).toEqual({
      ok: true,
      body: { symbol: "AAPL", side: "BUY", quantity: 100, order_type: "LIMIT", price: 140, time_in_force: "DAY" },
    });
    expect(toOrderRequest(draft({ order_type: "STOP_LIMIT", price: "141", stop_price: "140.5", time_in_force: "GTC" }))).toMatchObject({
      ok: true,
      body: { price: 141, stop_price: 140.5, time_in_force: "GTC" },
    });
  });

  it("explains each bad field in the server's words", () => {
    expect(toOrderRequest(draft({ order_type: "LIMIT", price: "" }))).toEqual({ ok: false, errors: { price: "price is required for LIMIT orders" } });
    expect(toOrderRequest(draft({ order_type: "STOP", stop_price: "" }))).toEqual({ ok: false, errors: { stop_price: "stop_price is required for STOP orders" } });
    expect(toOrderRequest(draft({ order_type: "LIMIT", price: "140.001" }))).toEqual({ ok: false, errors: { price: "price must have at most two decimals (whole cents)" } });
    for (const bad of ["", "0", "1.5", "ten"]) {
      expect(toOrderRequest(draft({ quantity: bad }))).toEqual({ ok: false, errors: { quantity: "quantity must be a whole number of shares, at least 1" } });
    }
    const both = toOrderRequest(draft({ symbol: "aapl", quantity: "-3" }));
    expect(both.ok).toBe(false);
    expect(!both.ok && Object.keys(both.errors).sort()).toEqual(["quantity", "symbol"]);
  });

  it("reads grouped numbers as typed", () => {
    expect(toOrderRequest(draft({ quantity: "1,000" }))).toMatchObject({ ok: true, body: { quantity: 1000 } });
  });
});

describe("estimatedCost", () => {
  it("prices a market order at the reference price and a limit order at its limit, as the funds check does", () => {
    expect(estimatedCost(draft(), 150)).toBe(15_000);
    expect(estimatedCost(draft({ order_type: "LIMIT", price: "140.00" }), 150)).toBe(14_000);
    expect(estimatedCost(draft({ order_type: "STOP", stop_price: "155" }), 150)).toBe(15_500);
    expect(estimatedCost(draft({ quantity: "3", order_type: "LIMIT", price: "0.1" }), 150)).toBe(0.3);
  });

  it("has no estimate for an incomplete ticket", () => {
    expect(estimatedCost(draft({ quantity: "" }), 150)).toBeNull();
    expect(estimatedCost(draft(), undefined)).toBeNull();
    expect(estimatedCost(draft({ order_type: "LIMIT", price: "" }), 150)).toBeNull();
  });
});

describe("keyFor (Idempotency-Key per ticket)", () => {
  let n = 0;
  const newKey = () => `key-${++n}`;

  it("reuses the key when the same ticket is sent again (double click, retry after a network error)", () => {
    const first = keyFor(null, '{"symbol":"AAPL"}', newKey);
    expect(keyFor(first, '{"symbol":"AAPL"}', newKey)).toBe(first);
  });

  it("takes a new key for a changed ticket and after a success (previous dropped)", () => {
    const first = keyFor(null, '{"quantity":100}', newKey);
    const changed = keyFor(first, '{"quantity":200}', newKey);
    expect(changed.key).not.toBe(first.key);
    expect(keyFor(null, '{"quantity":200}', newKey).key).not.toBe(changed.key);
  });
});

describe("labels and formats", () => {
  it("names the action on the button", () => {
    expect(submitLabel(draft())).toBe("Buy 100 AAPL");
    expect(submitLabel(draft({ side: "SELL", quantity: "2500", symbol: "MSFT" }))).toBe("Sell 2,500 MSFT");
    expect(submitLabel(draft({ quantity: "" }))).toBe("Buy AAPL");
  });

  it("formats money in dollars and cents, prices to four decimals, shares grouped", () => {
    expect(money(15_000)).toBe("$15,000.00");
    expect(money(-12.5)).toBe("-$12.50");
    expect(price(150.025)).toBe("$150.025");
    expect(price(150)).toBe("$150.00");
    expect(price(null)).toBe("—");
    expect(quantity(1_000_000)).toBe("1,000,000");
  });
});

describe("the desk's price rules on the ticket", () => {
  const partial = { price: 150, tick_size: 0.05 };
  it("refuses a price off the tick with the desk's own message", () => {
    const result = toOrderRequest(draft({ symbol: "TEST_PARTIAL", order_type: "LIMIT", price: "149.97" }), partial);
    expect(result).toEqual({ ok: false, errors: { price: expect.stringContaining("nearest valid prices are $149.95 and $150.00") } });
    expect(toOrderRequest(draft({ symbol: "TEST_PARTIAL", order_type: "LIMIT", price: "149.95" }), partial)).toMatchObject({ ok: true });
  });

  it("refuses a stop on the wrong side of the price, both sides", () => {
    const buy = toOrderRequest(draft({ order_type: "STOP", stop_price: "140" }), { price: 150, tick_size: 0.01 });
    expect(buy).toEqual({ ok: false, errors: { stop_price: expect.stringContaining("must be above") } });
    const sell = toOrderRequest(draft({ side: "SELL", order_type: "STOP", stop_price: "150" }), { price: 150, tick_size: 0.01 });
    expect(sell).toEqual({ ok: false, errors: { stop_price: expect.stringContaining("must be below") } });
    expect(toOrderRequest(draft({ side: "SELL", order_type: "STOP", stop_price: "149.99" }), { price: 150, tick_size: 0.01 })).toMatchObject({ ok: true });
  });

  it("estimates a BUY stop at the larger of its stop and the reference price", () => {
    expect(estimatedCost(draft({ quantity: "10", order_type: "STOP", stop_price: "155" }), 150)).toBe(1550);
    expect(estimatedCost(draft({ quantity: "10", side: "SELL", order_type: "STOP", stop_price: "145" }), 150)).toBe(1450);
  });
});
