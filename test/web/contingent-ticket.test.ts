// The ticket's trailing stops and contingent orders (SPEC, "Trailing and contingent orders"): only the
// fields the type and class use are sent, checked with the Worker's OrderRequest schema and the desk's
// price rules in its own words; a refusal is shown at the field it names, a leg's field too.
import { describe, expect, it } from "vitest";
import { OrderRequest } from "../../worker/shared/orders";
import {
  defaultTrail, estimatedCost, fieldOf, initialDraft, refusalErrors, submitLabel, toOrderRequest, trailingStart, usesLimitPrice, withOrderClass, withSide,
  type TicketDraft,
} from "../../web/src/ticket";

const draft = (over: Partial<TicketDraft> = {}): TicketDraft => ({ ...initialDraft("AAPL"), ...over });
const aapl = { price: 150, tick_size: 0.01 };
const nickel = { price: 100, tick_size: 0.05 };

describe("trailing stops on the ticket", () => {
  it("sends the one trail chosen (dollars or percent), never the other or a hidden price", () => {
    const byDollars = draft({ side: "SELL", order_type: "TRAILING_STOP", trail_mode: "price", trail_price: "1.50", trail_percent: "2", price: "140", stop_price: "139" });
    expect(toOrderRequest(byDollars, aapl)).toEqual({
      ok: true, body: { symbol: "AAPL", side: "SELL", quantity: 100, order_type: "TRAILING_STOP", trail_price: 1.5, time_in_force: "DAY" },
    });
    const byPercent = { ...byDollars, trail_mode: "percent" as const };
    const result = toOrderRequest(byPercent, aapl);
    expect(result).toEqual({ ok: true, body: { symbol: "AAPL", side: "SELL", quantity: 100, order_type: "TRAILING_STOP", trail_percent: 2, time_in_force: "DAY" } });
    expect(OrderRequest.safeParse(result.ok && result.body).success).toBe(true);
  });

  it("explains a missing or bad trail in the server's words, at the trail field", () => {
    expect(toOrderRequest(draft({ order_type: "TRAILING_STOP", trail_price: "" }))).toEqual({
      ok: false, errors: { trail_price: "a TRAILING_STOP takes exactly one of trail_price or trail_percent" },
    });
    expect(toOrderRequest(draft({ order_type: "TRAILING_STOP", trail_mode: "percent", trail_percent: "51" }))).toEqual({ ok: false, errors: { trail_percent: "trail_percent must be at most 50" } });
    expect(toOrderRequest(draft({ order_type: "TRAILING_STOP", trail_mode: "percent", trail_percent: "0" }))).toEqual({ ok: false, errors: { trail_percent: "trail_percent must be more than 0" } });
    expect(toOrderRequest(draft({ order_type: "TRAILING_STOP", trail_price: "1.52" }), nickel)).toEqual({
      ok: false, errors: { trail_price: expect.stringContaining("trail_price $1.52 is not on AAPL's tick of $0.05") },
    });
  });

  it("says where the stop starts: the price less the trail for a SELL, plus it for a BUY, a percent rounded to the tick", () => {
    expect(trailingStart(draft({ side: "SELL", order_type: "TRAILING_STOP", trail_price: "2.00" }), nickel)).toBe(98);
    expect(trailingStart(draft({ side: "BUY", order_type: "TRAILING_STOP", trail_price: "2.00" }), nickel)).toBe(102);
    expect(trailingStart(draft({ side: "SELL", order_type: "TRAILING_STOP", trail_mode: "percent", trail_percent: "2.5" }), { price: 104, tick_size: 0.05 })).toBe(101.4);
    expect(trailingStart(draft({ order_type: "TRAILING_STOP", trail_price: "" }), nickel)).toBeNull();
    expect(trailingStart(draft({ order_type: "LIMIT" }), nickel)).toBeNull();
  });

  it("funds a trailing BUY at the price plus its trail, and estimates a trailing SELL at its stop", () => {
    expect(estimatedCost(draft({ quantity: "10", order_type: "TRAILING_STOP", trail_price: "2.00" }), 100, 0.05)).toBe(1020);
    expect(estimatedCost(draft({ quantity: "10", order_type: "TRAILING_STOP", trail_mode: "percent", trail_percent: "2.5" }), 100, 0.05)).toBe(1025);
    expect(estimatedCost(draft({ quantity: "10", side: "SELL", order_type: "TRAILING_STOP", trail_price: "2.00" }), 100, 0.05)).toBe(980);
    expect(estimatedCost(draft({ quantity: "10", order_type: "TRAILING_STOP", trail_price: "" }), 100, 0.05)).toBeNull();
  });

  it("starts a trail near 1% of the price, on the tick", () => {
    expect(defaultTrail("price", aapl)).toBe("1.50");
    expect(defaultTrail("price", { price: 2, tick_size: 0.05 })).toBe("0.05");
    expect(defaultTrail("percent", aapl)).toBe("1");
  });
});

describe("brackets, oto and oco on the ticket", () => {
  it("sends a bracket's entry with both exits, and an optional stop-loss limit only when typed", () => {
    const bracket = draft({ quantity: "10", order_type: "LIMIT", price: "149.00", time_in_force: "GTC", order_class: "bracket", take_profit: "155.00", stop_loss: "145.00" });
    const result = toOrderRequest(bracket, aapl);
    expect(result).toEqual({
      ok: true,
      body: {
        symbol: "AAPL", side: "BUY", quantity: 10, order_type: "LIMIT", price: 149, time_in_force: "GTC",
        order_class: "bracket", take_profit: { limit_price: 155 }, stop_loss: { stop_price: 145 },
      },
    });
    expect(OrderRequest.safeParse(result.ok && result.body).success).toBe(true);
    expect(toOrderRequest({ ...bracket, stop_loss_limit: "144.50" }, aapl)).toMatchObject({ ok: true, body: { stop_loss: { stop_price: 145, limit_price: 144.5 } } });
  });

  it("sends an oto's one exit, whichever is chosen", () => {
    const oto = draft({ order_class: "oto", take_profit: "155.00", stop_loss: "145.00" });
    expect(toOrderRequest(oto, aapl)).toMatchObject({ ok: true, body: { order_class: "oto", take_profit: { limit_price: 155 } } });
    expect(toOrderRequest(oto, aapl)).not.toHaveProperty("body.stop_loss");
    const stopOnly = toOrderRequest({ ...oto, oto_exit: "stop_loss" }, aapl);
    expect(stopOnly).toMatchObject({ ok: true, body: { stop_loss: { stop_price: 145 } } });
    expect(stopOnly).not.toHaveProperty("body.take_profit");
  });

  it("sends an oco as the SELL LIMIT take-profit with its stop-loss, without a separate limit price", () => {
    const oco = withOrderClass(draft({ quantity: "10", price: "151.00" }), "oco", aapl);
    expect(usesLimitPrice(oco)).toBe(false);
    const result = toOrderRequest({ ...oco, take_profit: "160.00", stop_loss: "140.00" }, aapl);
    expect(result).toEqual({
      ok: true,
      body: {
        symbol: "AAPL", side: "SELL", quantity: 10, order_type: "LIMIT", time_in_force: "DAY",
        order_class: "oco", take_profit: { limit_price: 160 }, stop_loss: { stop_price: 140 },
      },
    });
    expect(OrderRequest.safeParse(result.ok && result.body).success).toBe(true);
  });

  it("moves side, type and time in force to what the class allows, and starts the exits 2% either side of the entry", () => {
    const bracket = withOrderClass(draft({ side: "BUY", order_type: "STOP", time_in_force: "IOC" }), "bracket", aapl);
    expect(bracket).toMatchObject({ side: "BUY", order_type: "MARKET", time_in_force: "DAY", take_profit: "153.00", stop_loss: "147.00" });
    // a SELL entry's exits buy back: the take-profit below, the stop-loss above
    const sell = withOrderClass(draft({ side: "SELL", order_type: "STOP", time_in_force: "IOC" }), "bracket", aapl);
    expect(sell).toMatchObject({ side: "SELL", order_type: "MARKET", time_in_force: "DAY", take_profit: "147.00", stop_loss: "153.00" });
    const limitEntry = withOrderClass(draft({ order_type: "LIMIT", price: "100.00" }), "oto", { price: 101, tick_size: 0.05 });
    expect(limitEntry).toMatchObject({ order_type: "LIMIT", take_profit: "102.00", stop_loss: "98.00" });
    // what the trader typed stays
    expect(withOrderClass(draft({ take_profit: "160.00" }), "bracket", aapl).take_profit).toBe("160.00");
    expect(withOrderClass(draft(), "oco", aapl)).toMatchObject({ side: "SELL", order_type: "LIMIT" });
    expect(withOrderClass(bracket, "simple", aapl)).toMatchObject({ order_class: "simple", side: "BUY", order_type: "MARKET" });
  });

  it("moves a bracket's exits to the other side of the entry with the side: the two prices trade places", () => {
    const buy = withOrderClass(draft({ side: "BUY" }), "bracket", aapl);
    const sell = withSide({ ...buy, stop_loss_limit: "146.50" }, "SELL");
    expect(sell).toMatchObject({ side: "SELL", take_profit: "147.00", stop_loss: "153.00", stop_loss_limit: "" });
    expect(withSide(sell, "BUY")).toMatchObject({ side: "BUY", take_profit: "153.00", stop_loss: "147.00" });
    expect(toOrderRequest(sell, aapl)).toMatchObject({ ok: true, body: { side: "SELL", take_profit: { limit_price: 147 }, stop_loss: { stop_price: 153 } } });
    // a simple order keeps what was typed
    expect(withSide(draft({ side: "BUY", take_profit: "1" }), "SELL")).toMatchObject({ side: "SELL", take_profit: "1" });
  });

  it("refuses exits on the wrong side of the entry in the desk's words, at the leg's field", () => {
    // the very message the desk answered: take_profit.limit_price 49.00 must be above the entry price 50.00
    const market = draft({ symbol: "TBRK", order_class: "bracket", take_profit: "49.00", stop_loss: "45.00" });
    expect(toOrderRequest(market, { price: 50, tick_size: 0.01 })).toEqual({
      ok: false, errors: { "take_profit.limit_price": "take_profit.limit_price 49.00 must be above the entry price 50.00" },
    });
    const limit = draft({ order_type: "LIMIT", price: "49.00", order_class: "bracket", take_profit: "52.00", stop_loss: "49.50" });
    expect(toOrderRequest(limit, { price: 50, tick_size: 0.01 })).toEqual({
      ok: false, errors: { "stop_loss.stop_price": "stop_loss.stop_price 49.50 must be below the entry price 49.00" },
    });
    const oco = withOrderClass(draft(), "oco", { price: 50, tick_size: 0.01 });
    expect(toOrderRequest({ ...oco, take_profit: "50.00", stop_loss: "51.00" }, { price: 50, tick_size: 0.01 })).toEqual({
      ok: false,
      errors: {
        "take_profit.limit_price": "take_profit.limit_price 50.00 must be above the entry price 50.00",
        "stop_loss.stop_price": "stop_loss.stop_price 51.00 must be below the entry price 50.00",
      },
    });
    expect(toOrderRequest({ ...limit, stop_loss: "45.02" }, { price: 50, tick_size: 0.05 })).toEqual({
      ok: false, errors: { "stop_loss.stop_price": expect.stringContaining("stop_loss.stop_price $45.02 is not on AAPL's tick of $0.05") },
    });
  });

  it("names a leg's bad or missing field as the schema does", () => {
    expect(toOrderRequest(draft({ order_class: "bracket", take_profit: "155.005", stop_loss: "145" }))).toEqual({
      ok: false, errors: { "take_profit.limit_price": "take_profit.limit_price must have at most two decimals (whole cents)" },
    });
    expect(toOrderRequest(draft({ order_class: "bracket", take_profit: "155", stop_loss: "" }))).toEqual({
      ok: false, errors: { "stop_loss.stop_price": "stop_loss.stop_price must be a number of dollars, such as 150.05" },
    });
    // a class the entry does not fit: the schema's own words, at the field
    expect(toOrderRequest(draft({ order_class: "oco", side: "BUY", order_type: "LIMIT", take_profit: "155", stop_loss: "145" }))).toEqual({
      ok: false, errors: { side: "an oco order closes shares you hold: side SELL (fillwire has no short selling)" },
    });
    // a SELL entry's exits mirrored, in the desk's words
    expect(toOrderRequest(draft({ symbol: "TBRK", order_class: "bracket", side: "SELL", take_profit: "51.00", stop_loss: "52.00" }), { price: 50, tick_size: 0.01 })).toEqual({
      ok: false, errors: { "take_profit.limit_price": "take_profit.limit_price 51.00 must be below the entry price 50.00" },
    });
  });

  it("shows the server's refusal at the field it names: a leg's, a missing leg's, an out-of-band price's", () => {
    expect(refusalErrors("VALIDATION_ERROR", "Invalid request: ...", { fields: { "stop_loss.stop_price": "stop_loss.stop_price 49.50 must be below the entry price 49.00" } })).toEqual({
      "stop_loss.stop_price": "stop_loss.stop_price 49.50 must be below the entry price 49.00",
    });
    expect(refusalErrors("VALIDATION_ERROR", "Invalid request: ...", { fields: { stop_loss: "a bracket order needs take_profit and stop_loss" } })).toEqual({
      "stop_loss.stop_price": "a bracket order needs take_profit and stop_loss",
    });
    const band = "take_profit.limit_price 60.00 is more than 10% away from the reference price 50.00";
    expect(refusalErrors("PRICE_OUT_OF_BAND", band, { field: "take_profit.limit_price", price: 60 })).toEqual({ "take_profit.limit_price": band });
    expect(refusalErrors("INSUFFICIENT_POSITION", "Insufficient position", { requested_quantity: 10 })).toEqual({});
    expect(refusalErrors("VALIDATION_ERROR", "Invalid request", { fields: { nonsense: "unknown field(s): nonsense" } })).toEqual({ body: "unknown field(s): nonsense" });
    expect(fieldOf("take_profit")).toBe("take_profit.limit_price");
  });

  it("estimates a bracket at its entry and an oco's proceeds at its take-profit", () => {
    expect(estimatedCost(draft({ quantity: "10", order_class: "bracket", take_profit: "155", stop_loss: "145" }), 150)).toBe(1500);
    expect(estimatedCost(draft({ quantity: "10", order_type: "LIMIT", price: "149", order_class: "bracket" }), 150)).toBe(1490);
    expect(estimatedCost(withOrderClass(draft({ quantity: "10", take_profit: "160" }), "oco", aapl), 150)).toBe(1600);
  });

  it("names the class on the button", () => {
    expect(submitLabel(draft({ order_class: "bracket" }))).toBe("Buy 100 AAPL bracket");
    expect(submitLabel(draft({ order_class: "oco", side: "SELL" }))).toBe("Sell 100 AAPL OCO");
  });
});
