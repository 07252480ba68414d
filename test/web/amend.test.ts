// Amending from the blotter row: which orders offer it, the draft it starts from, and the PATCH body it
// becomes (only what changed), checked with the Worker's AmendRequest schema and the desk's price rules.
import { describe, expect, it } from "vitest";
import { AmendRequest } from "../../worker/shared/orders";
import { amendDraft, canAmend, describeAmendBody, editsStop, editsTrail, isExit, toAmendRequest, type AmendDraft } from "../../web/src/amend";
import type { OrderView } from "../../web/src/blotter";

function order(over: Partial<OrderView> = {}): OrderView {
  return {
    id: "ord_A", symbol: "AAPL", side: "BUY", order_type: "LIMIT", quantity: 100, price: 140, stop_price: null, time_in_force: "GTC",
    status: "PENDING", filled_quantity: 0, avg_fill_price: null, reason: null, created_at: "2026-03-02T15:00:00.000Z", updated_at: "2026-03-02T15:00:00.000Z",
    fills: [], detailed: true, amended_at: null, triggered: false, trail_price: null, trail_percent: null, hwm: null, order_class: "simple",
    parent_order_id: null, ...over,
  };
}

const aapl = { price: 150, tick_size: 0.01 };
const edit = (o: OrderView, over: Partial<AmendDraft>) => ({ ...amendDraft(o), ...over });

describe("canAmend", () => {
  it("offers Amend on working LIMIT, STOP and STOP_LIMIT orders, PARTIAL included", () => {
    expect(canAmend(order())).toBe(true);
    expect(canAmend(order({ status: "PARTIAL", filled_quantity: 40 }))).toBe(true);
    expect(canAmend(order({ order_type: "STOP", price: null, stop_price: 160 }))).toBe(true);
    expect(canAmend(order({ order_type: "STOP_LIMIT", stop_price: 160 }))).toBe(true);
  });

  it("refuses MARKET orders, final orders and a STOP that triggered (a market order now)", () => {
    expect(canAmend(order({ order_type: "MARKET", price: null }))).toBe(false);
    for (const status of ["FILLED", "CANCELLED", "REJECTED", "EXPIRED"] as const) expect(canAmend(order({ status }))).toBe(false);
    expect(canAmend(order({ order_type: "STOP", price: null, stop_price: 160, triggered: true }))).toBe(false);
  });

  it("offers a contingent order's exits, HELD legs included, for their prices only", () => {
    const heldTakeProfit = order({ side: "SELL", status: "HELD", price: 155, order_class: "bracket", parent_order_id: "ord_P" });
    expect(canAmend(heldTakeProfit)).toBe(true);
    expect(isExit(heldTakeProfit)).toBe(true);
    expect(isExit(order({ side: "SELL", order_class: "oco" }))).toBe(true); // an oco's take-profit is the parent of its pair
    expect(isExit(order({ order_class: "bracket" }))).toBe(false); // a bracket's entry amends its quantity too
    expect(toAmendRequest(heldTakeProfit, edit(heldTakeProfit, { price: "156.00" }), aapl)).toEqual({ ok: true, body: { price: 156 } });
  });

  it("keeps a triggered STOP_LIMIT's limit amendable, but no longer its stop", () => {
    const triggered = order({ order_type: "STOP_LIMIT", stop_price: 160, triggered: true });
    expect(canAmend(triggered)).toBe(true);
    expect(editsStop(triggered)).toBe(false);
    expect(toAmendRequest(triggered, edit(triggered, { price: "161.00" }), aapl)).toEqual({ ok: true, body: { price: 161 } });
  });
});

describe("amendDraft", () => {
  it("starts from the order's terms, prices to the cent", () => {
    expect(amendDraft(order({ order_type: "STOP_LIMIT", price: 141.5, stop_price: 160 }))).toEqual({ quantity: "100", price: "141.50", stop_price: "160.00", trail: "", time_in_force: "GTC" });
    // an order whose time in force is not known yet (or is IOC/FOK) leaves it alone
    expect(amendDraft(order({ time_in_force: null })).time_in_force).toBe("");
  });
});

describe("toAmendRequest", () => {
  it("sends only what changed, as the schema the Worker validates with accepts it", () => {
    const o = order();
    const result = toAmendRequest(o, edit(o, { quantity: "80", price: "141.00" }), aapl);
    expect(result).toEqual({ ok: true, body: { quantity: 80, price: 141 } });
    expect(AmendRequest.safeParse(result.ok && result.body).success).toBe(true);
    expect(toAmendRequest(o, edit(o, { time_in_force: "DAY" }), aapl)).toEqual({ ok: true, body: { time_in_force: "DAY" } });
  });

  it("reads an unchanged price however it is typed, and says so when nothing changed", () => {
    const o = order();
    expect(toAmendRequest(o, edit(o, { price: "140", quantity: "1,00" }), aapl)).toEqual({ ok: false, errors: { body: "Nothing changed: edit the quantity or a price first" } });
  });

  it("never sends a price the order type does not have, even when the draft holds one", () => {
    const limit = order();
    expect(toAmendRequest(limit, edit(limit, { stop_price: "155.00", quantity: "90" }), aapl)).toEqual({ ok: true, body: { quantity: 90 } });
    const stop = order({ order_type: "STOP", side: "SELL", price: null, stop_price: 140 });
    expect(toAmendRequest(stop, edit(stop, { price: "141.00", stop_price: "139.00" }), aapl)).toEqual({ ok: true, body: { stop_price: 139 } });
  });

  it("explains each bad field in the server's words", () => {
    const o = order();
    expect(toAmendRequest(o, edit(o, { price: "141.005" }), aapl)).toEqual({ ok: false, errors: { price: "price must have at most two decimals (whole cents)" } });
    expect(toAmendRequest(o, edit(o, { quantity: "2.5" }), aapl)).toEqual({ ok: false, errors: { quantity: "quantity must be the new total number of shares, a whole number" } });
    expect(toAmendRequest(o, edit(o, { quantity: "" }), aapl)).toEqual({ ok: false, errors: { quantity: "quantity is required: the new total number of shares" } });
    expect(toAmendRequest(o, edit(o, { price: "" }), aapl)).toEqual({ ok: false, errors: { price: "price is required for LIMIT orders" } });
  });

  it("wants the new total above what has filled, as the desk does", () => {
    const partial = order({ status: "PARTIAL", filled_quantity: 40 });
    expect(toAmendRequest(partial, edit(partial, { quantity: "40" }), aapl)).toEqual({
      ok: false, errors: { quantity: "quantity is the new total and must be more than the 40 shares already filled" },
    });
    expect(toAmendRequest(partial, edit(partial, { quantity: "41" }), aapl)).toEqual({ ok: true, body: { quantity: 41 } });
  });

  it("checks a new price against the tick with the desk's own message", () => {
    const o = order({ symbol: "TEST_PARTIAL", price: 149.95 });
    const result = toAmendRequest(o, edit(o, { price: "149.97" }), { price: 150, tick_size: 0.05 });
    expect(result).toEqual({ ok: false, errors: { price: expect.stringContaining("nearest valid prices are $149.95 and $150.00") } });
    expect(toAmendRequest(o, edit(o, { price: "150.05" }), { price: 150, tick_size: 0.05 })).toEqual({ ok: true, body: { price: 150.05 } });
  });

  it("checks a new stop against the side of the reference price, and leaves an unchanged stop alone", () => {
    const sellStop = order({ side: "SELL", order_type: "STOP", price: null, stop_price: 140 });
    expect(toAmendRequest(sellStop, edit(sellStop, { stop_price: "150.50" }), aapl)).toEqual({ ok: false, errors: { stop_price: expect.stringContaining("must be below AAPL's reference price $150.00") } });
    // the price moved below the stop since it was placed: an amend of the quantity alone is not judged on it
    expect(toAmendRequest(sellStop, edit(sellStop, { quantity: "50" }), { price: 139, tick_size: 0.01 })).toEqual({ ok: true, body: { quantity: 50 } });
  });

  it("words the new terms for the toast", () => {
    expect(describeAmendBody({ quantity: 80, price: 141 })).toBe("quantity 80, limit $141.00");
    expect(describeAmendBody({ stop_price: 139.5, time_in_force: "DAY" })).toBe("stop $139.50, DAY");
  });
});

describe("contingent legs and trailing stops", () => {
  it("offers Amend on a leg HELD until its entry fills and once it is live, and none once it is final", () => {
    const held = order({ status: "HELD", side: "SELL", parent_order_id: "ord_P", order_class: "bracket" });
    expect(canAmend(held)).toBe(true);
    expect(canAmend({ ...held, status: "PENDING" })).toBe(true);
    expect(canAmend({ ...held, status: "CANCELLED" })).toBe(false);
  });

  it("amends a trailing stop's trail in the unit it was placed with, never its stop (which follows the trail)", () => {
    const dollars = order({ side: "SELL", order_type: "TRAILING_STOP", price: null, stop_price: 148.5, trail_price: 1.5, hwm: 150 });
    expect(canAmend(dollars)).toBe(true);
    expect(editsStop(dollars)).toBe(false);
    expect(editsTrail(dollars)).toBe("trail_price");
    expect(amendDraft(dollars).trail).toBe("1.50");
    expect(toAmendRequest(dollars, edit(dollars, { trail: "2.00", stop_price: "140.00" }), aapl)).toEqual({ ok: true, body: { trail_price: 2 } });
    expect(toAmendRequest(dollars, edit(dollars, { trail: "1.5" }), aapl)).toEqual({ ok: false, errors: { body: "Nothing changed: edit the quantity or the trail first" } });
    // on the tick, in the desk's words
    expect(toAmendRequest(dollars, edit(dollars, { trail: "1.52" }), { price: 150, tick_size: 0.05 })).toEqual({
      ok: false, errors: { trail_price: expect.stringContaining("trail_price $1.52 is not on AAPL's tick of $0.05") },
    });
    const percent = order({ side: "SELL", order_type: "TRAILING_STOP", price: null, stop_price: 146.25, trail_percent: 2.5, hwm: 150 });
    expect(editsTrail(percent)).toBe("trail_percent");
    expect(amendDraft(percent).trail).toBe("2.5");
    expect(toAmendRequest(percent, edit(percent, { trail: "3" }), aapl)).toEqual({ ok: true, body: { trail_percent: 3 } });
    expect(toAmendRequest(percent, edit(percent, { trail: "60" }), aapl)).toEqual({ ok: false, errors: { trail_percent: "trail_percent must be at most 50" } });
    expect(describeAmendBody({ trail_percent: 3 })).toBe("trail 3%");
    expect(describeAmendBody({ trail_price: 2 })).toBe("trail $2.00");
  });

  it("offers no Amend on a trailing stop that triggered (a market order now)", () => {
    expect(canAmend(order({ order_type: "TRAILING_STOP", price: null, stop_price: 148, trail_price: 2, triggered: true }))).toBe(false);
  });
});
