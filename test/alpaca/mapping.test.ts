// What maps to what between fillwire and Alpaca (pure functions, no runtime needed beyond the test's).
import { describe, expect, it } from "vitest";
import type { OcoPeer, VenueAmend, VenueOrder } from "../../worker/venue/adapter";
import {
  centsToDecimal, clientOrderId, decimalToCents, decimalToShares, ocoRole, parseClientOrderId, termsOf, toAlpacaRequest, toOcoRequest, toReplaceRequest, venueStateOf,
} from "../../worker/venue/alpaca/mapping";
import { venueStatus } from "../../worker/venue/alpaca/status";
import { AlpacaOrder } from "../../worker/venue/alpaca/wire";

const order = (over: Partial<VenueOrder> = {}): VenueOrder => ({
  key: "ord_01ABC", traderId: "t", orderId: "ord_01ABC", symbol: "AAPL", side: "BUY", quantity: 100, orderType: "LIMIT",
  limitCents: 14000, stopCents: null, timeInForce: "DAY", protectCents: null, maxCostCents: null, ...over,
});

describe("order requests", () => {
  it("sends each type and time in force as Alpaca names them, with the fillwire order id as client_order_id", () => {
    expect(toAlpacaRequest(order())).toEqual({
      body: { symbol: "AAPL", qty: "100", side: "buy", type: "limit", time_in_force: "day", client_order_id: "ord_01ABC", limit_price: "140.00" },
    });
    expect(toAlpacaRequest(order({ orderType: "MARKET", limitCents: null, side: "SELL", timeInForce: "IOC" }))).toMatchObject({ body: { type: "market", side: "sell", time_in_force: "ioc" } });
    expect(toAlpacaRequest(order({ orderType: "STOP_LIMIT", stopCents: 14505, timeInForce: "GTC" }))).toMatchObject({ body: { type: "stop_limit", stop_price: "145.05", limit_price: "140.00", time_in_force: "gtc" } });
    expect(toAlpacaRequest(order({ orderType: "TRAILING_STOP", limitCents: null, side: "SELL", trailCents: null, trailBp: 250 }))).toMatchObject({ body: { type: "trailing_stop", trail_percent: "2.5" } });
    expect(toAlpacaRequest(order({ orderType: "TRAILING_STOP", limitCents: null, side: "SELL", trailCents: 615 }))).toMatchObject({ body: { trail_price: "6.15" } });
  });

  it("refuses before sending what Alpaca cannot take", () => {
    expect(toAlpacaRequest(order({ orderType: "TRAILING_STOP", timeInForce: "IOC", trailCents: 100 }))).toEqual({ refusal: expect.stringMatching(/DAY or GTC/) });
    expect(toAlpacaRequest(order({ key: "x".repeat(49) }))).toEqual({ refusal: expect.stringMatching(/48/) });
  });

  it("asks a replacement for what is left, under a client_order_id that names the amend", () => {
    const amend: VenueAmend = { seq: 2, quantity: 80, limitCents: 14100, stopCents: null, timeInForce: "GTC", protectCents: null, maxCostCents: null };
    expect(toReplaceRequest("ord_1", "LIMIT", amend, 50, { trail_price: null })).toEqual({
      body: { qty: "30", time_in_force: "gtc", client_order_id: "ord_1-a2", limit_price: "141.00" },
    });
    expect(toReplaceRequest("ord_1", "LIMIT", { ...amend, quantity: 50 }, 50, { trail_price: null })).toEqual({ refusal: expect.any(String) });
  });
});

describe("a take-profit and its stop-loss as one oco order", () => {
  const stopLoss: OcoPeer = { live: true, orderId: "ord_E-sl", key: "ord_E-sl", side: "SELL", quantity: 10, orderType: "STOP", limitCents: null, stopCents: 9500, timeInForce: "GTC" };
  const takeProfit = order({ key: "ord_E-tp", orderId: "ord_E-tp", side: "SELL", quantity: 10, limitCents: 10500, timeInForce: "GTC", ocoPeer: stopLoss });

  it("carries the stop-loss on the take-profit's order (Alpaca's oco: type limit, take_profit, stop_loss)", () => {
    expect(ocoRole(takeProfit)).toBe("carrier");
    expect(toOcoRequest(takeProfit)).toEqual({
      body: {
        symbol: "AAPL", qty: "10", side: "sell", type: "limit", time_in_force: "gtc", client_order_id: "ord_E-tp", order_class: "oco",
        take_profit: { limit_price: "105.00" }, stop_loss: { stop_price: "95.00" },
      },
    });
    const stopLimit = { ...takeProfit, ocoPeer: { ...stopLoss, orderType: "STOP_LIMIT" as const, limitCents: 9450 } };
    expect(toOcoRequest(stopLimit)).toMatchObject({ body: { stop_loss: { stop_price: "95.00", limit_price: "94.50" } } });
  });

  it("lets the stop-loss ride on it, and sends simple orders for pairs one oco cannot be", () => {
    const sl = order({ key: "ord_E-sl", orderId: "ord_E-sl", side: "SELL", quantity: 10, orderType: "STOP", limitCents: null, stopCents: 9500, timeInForce: "GTC",
      ocoPeer: { live: true, orderId: "ord_E-tp", key: "ord_E-tp", side: "SELL", quantity: 10, orderType: "LIMIT", limitCents: 10500, stopCents: null, timeInForce: "GTC" } });
    expect(ocoRole(sl)).toBe("rider");
    // A take-profit that ended may have carried it already: it asks Alpaca before sending itself alone.
    expect(ocoRole({ ...sl, ocoPeer: { ...sl.ocoPeer!, live: false } })).toBe("rider");
    expect(ocoRole({ ...takeProfit, ocoPeer: { ...stopLoss, live: false } })).toBeNull(); // nothing to carry
    const { ocoPeer: _none, ...alone } = takeProfit;
    expect(ocoRole(alone)).toBeNull(); // its sibling ended or is held: simple
    expect(ocoRole({ ...takeProfit, ocoPeer: { ...stopLoss, quantity: 6 } })).toBeNull(); // one oco has one qty
    expect(ocoRole({ ...takeProfit, ocoPeer: { ...stopLoss, side: "BUY" } })).toBeNull();
    expect(ocoRole({ ...takeProfit, timeInForce: "IOC", ocoPeer: { ...stopLoss, timeInForce: "IOC" } })).toBeNull(); // Alpaca's oco: day or gtc
    expect(ocoRole({ ...takeProfit, ocoPeer: { ...stopLoss, orderType: "TRAILING_STOP" } })).toBeNull(); // no trailing stop in an oco
    expect(ocoRole({ ...takeProfit, ocoPeer: { ...stopLoss, orderType: "LIMIT" } })).toBeNull();
  });
});

describe("ids, prices and states", () => {
  it("round-trips client order ids", () => {
    expect(clientOrderId("ord_1", 0)).toBe("ord_1");
    expect(parseClientOrderId(clientOrderId("ord_1", 3))).toEqual({ orderId: "ord_1", seq: 3 });
    expect(parseClientOrderId("ord_1")).toEqual({ orderId: "ord_1", seq: 0 });
  });

  it("reads Alpaca's decimal strings as exact cents", () => {
    expect(decimalToCents("150.05")).toBe(15005);
    expect(decimalToCents("150")).toBe(15000);
    expect(decimalToCents("0.1")).toBe(10);
    expect(decimalToCents("105.8988475")).toBe(10590);
    expect(decimalToCents("2.675")).toBe(268);
    expect(centsToDecimal(15005)).toBe("150.05");
    expect(centsToDecimal(5)).toBe("0.05");
    expect(decimalToShares("100")).toBe(100);
    expect(() => decimalToShares("1.5")).toThrow();
  });

  it("maps Alpaca's order statuses to venue states (replaced lives on as its replacement)", () => {
    expect(["new", "accepted", "pending_new", "partially_filled", "pending_cancel", "done_for_day", "replaced"].map(venueStateOf)).toEqual(Array(7).fill("WORKING"));
    expect(["filled", "canceled", "expired", "rejected"].map(venueStateOf)).toEqual(["FILLED", "CANCELLED", "EXPIRED", "REJECTED"]);
  });

  it("reads an order's terms, a trailing stop's mark included", () => {
    const o = AlpacaOrder.parse({
      id: "a", client_order_id: "ord_1-a1", status: "new", symbol: "SPY", side: "sell", type: "trailing_stop", time_in_force: "gtc", qty: "10", filled_qty: "0",
      trail_percent: "1.5", hwm: "412.3", stop_price: "406.11", limit_price: null,
    });
    expect(termsOf(o, 10, 1)).toEqual({ amendSeq: 1, quantity: 10, limitCents: null, stopCents: 40611, timeInForce: "GTC", trailCents: null, trailBp: 150, hwmCents: 41230 });
  });
});

describe("the venue's state for an admin", () => {
  it("reports the simulator's health when the venue is the simulator", async () => {
    expect(await venueStatus({ EXCHANGE: "simulated" } as Env)).toEqual({ exchange: "simulated", status: "ok" });
  });
});
