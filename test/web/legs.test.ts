// Contingent legs and trailing stops in the blotter: legs listed under their parent, HELD before live,
// a leg's quantity and a trailing stop's mark and stop taken from the newer news; and when the page reads
// its trailing stops again (their marks move with the price without an event).
import { describe, expect, it } from "vitest";
import type { OrderEvent } from "../../worker/shared/events";
import type { Order } from "../../worker/shared/orders";
import { acknowledge, applyEvent, blotterRows, emptyBlotter, isWorking, legRole, mergeOrders, statusLabel, trailLabel, type BlotterState } from "../../web/src/blotter";
import { planTrailingRead, TRAIL_READS_AFTER_MOVE, trailingStops } from "../../web/src/trailing";

const T0 = Date.parse("2026-11-30T15:00:00.000Z");
const at = (ms: number) => new Date(T0 + ms).toISOString();

function order(over: Partial<Order> = {}): Order {
  return {
    id: "ord_P", trader_id: "carol", client_order_id: null, symbol: "TBRK", side: "BUY", quantity: 10, order_type: "LIMIT",
    price: 49, stop_price: null, time_in_force: "GTC", status: "PENDING", filled_quantity: 0, avg_fill_price: null, reason: null,
    created_at: at(0), updated_at: at(0), amended_at: null, triggered_at: null, trail_price: null, trail_percent: null, hwm: null,
    order_class: "simple", parent_order_id: null, ...over,
  };
}

/** A bracket as POST answers it: the parent with its two HELD legs. */
const bracket = (id = "ord_P", created = 0) => ({
  ...order({ id, order_class: "bracket", created_at: at(created), updated_at: at(created) }),
  legs: [
    order({ id: `${id}-tp`, side: "SELL", order_type: "LIMIT", price: 52, status: "HELD", order_class: "bracket", parent_order_id: id, reason: "Held until the entry fills", created_at: at(created), updated_at: at(created) }),
    order({ id: `${id}-sl`, side: "SELL", order_type: "STOP", price: null, stop_price: 47, status: "HELD", order_class: "bracket", parent_order_id: id, reason: "Held until the entry fills", created_at: at(created), updated_at: at(created) }),
  ],
});

function event(seq: number, over: Partial<OrderEvent>): OrderEvent {
  return {
    event: "order.submitted", seq, order_id: "ord_P", status: "PENDING", symbol: "TBRK", side: "BUY", order_type: "LIMIT", quantity: 10,
    filled_quantity: 0, avg_fill_price: null, quantity_filled: null, price_at_fill: null, price: 49, stop_price: null, parent_order_id: null,
    fill_id: null, reason: null, timestamp: at(seq * 10), ...over,
  };
}

const lines = (state: BlotterState, show?: Parameters<typeof blotterRows>[1]) =>
  blotterRows(state, show).map((r) => `${"  ".repeat(r.depth)}${r.order.id} ${statusLabel(r.order)}`);

describe("legs under their parent", () => {
  it("lists a bracket's legs under it, take-profit first, each with its own status, from the POST answer or a nested list", () => {
    const state = mergeOrders(emptyBlotter, [order({ id: "ord_A", created_at: at(-5), updated_at: at(-5) }), bracket()]);
    expect(lines(state)).toEqual(["ord_P PENDING (0/10)", "  ord_P-tp HELD (0/10)", "  ord_P-sl HELD (0/10)", "ord_A PENDING (0/10)"]);
    expect(state.orders["ord_P-sl"]).toMatchObject({ parent_order_id: "ord_P", order_class: "bracket", status: "HELD" });
    expect(legRole(state.orders["ord_P-tp"]!)).toBe("Take profit");
    expect(legRole(state.orders["ord_P-sl"]!)).toBe("Stop loss");
    // an oco: the parent is the take-profit, its one leg the stop-loss
    const oco = mergeOrders(emptyBlotter, [
      { ...order({ id: "ord_O", side: "SELL", order_class: "oco", price: 55 }), legs: [order({ id: "ord_O-sl", side: "SELL", order_type: "STOP", price: null, stop_price: 45, order_class: "oco", parent_order_id: "ord_O" })] },
    ]);
    expect(lines(oco)).toEqual(["ord_O PENDING (0/10)", "  ord_O-sl PENDING (0/10)"]);
  });

  it("places legs met first in events (the socket's ack carries no legs) under their parent, by parent_order_id", () => {
    let state = acknowledge(emptyBlotter, 0).state;
    for (const e of [
      event(1, {}),
      event(2, { order_id: "ord_P-tp", status: "HELD", side: "SELL", price: 52, parent_order_id: "ord_P", reason: "Held until the entry fills" }),
      event(3, { order_id: "ord_P-sl", status: "HELD", side: "SELL", order_type: "STOP", price: null, stop_price: 47, parent_order_id: "ord_P" }),
    ]) state = applyEvent(state, e).state;
    expect(lines(state)).toEqual(["ord_P PENDING (0/10)", "  ord_P-tp HELD (0/10)", "  ord_P-sl HELD (0/10)"]);
  });

  it("shows a leg whose parent is not loaded on its own line (an older page), and under it once the parent arrives", () => {
    const orphan = mergeOrders(emptyBlotter, [bracket().legs[0]!]);
    expect(blotterRows(orphan).map((r) => [r.order.id, r.depth])).toEqual([["ord_P-tp", 0]]);
    expect(blotterRows(mergeOrders(orphan, [order({ order_class: "bracket" })])).map((r) => [r.order.id, r.depth])).toEqual([["ord_P", 0], ["ord_P-tp", 1]]);
  });

  it("filters by group: a filled entry stays shown above its working exits, and a done group leaves the working view", () => {
    const state = mergeOrders(emptyBlotter, [
      { ...bracket(), status: "FILLED", filled_quantity: 10, updated_at: at(50), legs: bracket().legs.map((l) => ({ ...l, status: "PENDING" as const, updated_at: at(50) })) },
      { ...order({ id: "ord_B", order_class: "bracket", status: "CANCELLED", created_at: at(-5), updated_at: at(-5) }), legs: [] },
    ]);
    expect(lines(state, isWorking)).toEqual(["ord_P FILLED (10/10)", "  ord_P-tp PENDING (0/10)", "  ord_P-sl PENDING (0/10)"]);
    expect(lines(state, (o) => !isWorking(o))).toEqual(["ord_P FILLED (10/10)", "  ord_P-tp PENDING (0/10)", "  ord_P-sl PENDING (0/10)", "ord_B CANCELLED (0/10)"]);
  });
});

describe("a leg's life", () => {
  it("goes HELD → PENDING on order.activated, for the quantity the entry filled, then grows as the entry fills on", () => {
    let state = acknowledge(mergeOrders(emptyBlotter, [bracket()]), 0).state;
    state = applyEvent(state, event(1, { event: "order.partial", status: "PARTIAL", filled_quantity: 4, avg_fill_price: 49, quantity_filled: 4, price_at_fill: 49, price: 49, fill_id: "ord_P:1" })).state;
    state = applyEvent(state, event(2, { event: "order.activated", order_id: "ord_P-tp", status: "PENDING", side: "SELL", quantity: 4, price: 52, parent_order_id: "ord_P" })).state;
    state = applyEvent(state, event(3, { event: "order.activated", order_id: "ord_P-sl", status: "PENDING", side: "SELL", order_type: "STOP", quantity: 4, price: null, stop_price: 47, parent_order_id: "ord_P" })).state;
    expect(lines(state)).toEqual(["ord_P PARTIAL (4/10)", "  ord_P-tp PENDING (0/4)", "  ord_P-sl PENDING (0/4)"]);
    // a read from before the activation does not put HELD or the old quantity back
    state = mergeOrders(state, bracket().legs);
    expect(lines(state)).toEqual(["ord_P PARTIAL (4/10)", "  ord_P-tp PENDING (0/4)", "  ord_P-sl PENDING (0/4)"]);
    // the entry fills on: the exits grow with it (read over HTTP)
    state = mergeOrders(state, bracket().legs.map((l) => ({ ...l, status: "PENDING" as const, quantity: 10, updated_at: at(100) })));
    expect(lines(state)).toEqual(["ord_P PARTIAL (4/10)", "  ord_P-tp PENDING (0/10)", "  ord_P-sl PENDING (0/10)"]);
  });

  it("shows the other exit CANCELLED (one cancels other) when the take-profit fills", () => {
    let state = acknowledge(mergeOrders(emptyBlotter, [{ ...bracket(), status: "FILLED", filled_quantity: 10, legs: bracket().legs.map((l) => ({ ...l, status: "PENDING" as const })) }]), 0).state;
    state = applyEvent(state, event(1, { event: "order.filled", order_id: "ord_P-tp", status: "FILLED", side: "SELL", filled_quantity: 10, avg_fill_price: 52, quantity_filled: 10, price_at_fill: 52, price: 52, fill_id: "ord_P-tp:1", parent_order_id: "ord_P" })).state;
    state = applyEvent(state, event(2, { event: "order.cancelled", order_id: "ord_P-sl", status: "CANCELLED", side: "SELL", order_type: "STOP", price: null, stop_price: 47, parent_order_id: "ord_P", reason: "One-cancels-other: ord_P-tp sold the shares" })).state;
    expect(lines(state)).toEqual(["ord_P FILLED (10/10)", "  ord_P-tp FILLED (10/10)", "  ord_P-sl CANCELLED (0/10)"]);
    expect(state.orders["ord_P-sl"]!.reason).toBe("One-cancels-other: ord_P-tp sold the shares");
  });
});

describe("a trailing stop's mark and stop", () => {
  const trailing = (over: Partial<Order> = {}) =>
    order({ id: "ord_T", side: "SELL", order_type: "TRAILING_STOP", price: null, stop_price: 97.5, trail_percent: 2.5, hwm: 100, ...over });

  it("follows the newer read as the price moves up, and never goes back to an older one", () => {
    let state = mergeOrders(emptyBlotter, [trailing()]);
    state = mergeOrders(state, [trailing({ hwm: 104, stop_price: 101.4, updated_at: at(1000) })]);
    expect(state.orders.ord_T).toMatchObject({ hwm: 104, stop_price: 101.4, trail_percent: 2.5 });
    state = mergeOrders(state, [trailing({ updated_at: at(500) })]); // a read that left before the move
    expect(state.orders.ord_T).toMatchObject({ hwm: 104, stop_price: 101.4 });
    expect(trailLabel(state.orders.ord_T!)).toBe("2.5%");
    expect(trailLabel({ trail_price: 1.5, trail_percent: null })).toBe("$1.50");
  });

  it("keeps the mark (events do not carry it) and takes an amended trail from the amend's answer", () => {
    let state = acknowledge(mergeOrders(emptyBlotter, [trailing({ hwm: 104, stop_price: 101.4, updated_at: at(5) })]), 0).state;
    state = applyEvent(state, event(1, { event: "order.accepted", order_id: "ord_T", side: "SELL", order_type: "TRAILING_STOP", price: null, stop_price: 101.4 })).state;
    expect(state.orders.ord_T).toMatchObject({ hwm: 104, stop_price: 101.4, trail_percent: 2.5 });
    state = mergeOrders(state, [trailing({ trail_percent: null, trail_price: 3, hwm: 104, stop_price: 101, amended_at: at(20), updated_at: at(20) })]);
    expect(state.orders.ord_T).toMatchObject({ trail_price: 3, trail_percent: null, stop_price: 101 });
  });
});

describe("reading trailing stops again after a price move", () => {
  const withTrailing = mergeOrders(emptyBlotter, [
    order({ id: "ord_T", symbol: "TTRL", side: "SELL", order_type: "TRAILING_STOP", price: null, stop_price: 97.5, trail_price: 2.5, hwm: 100 }),
    order({ id: "ord_L", symbol: "TOTH" }),
  ]);

  it("reads on the refresh that saw the trailing stop's price move and on the next one, then stops", () => {
    let plan = planTrailingRead(null, [{ symbol: "TTRL", price: 100 }, { symbol: "TOTH", price: 10 }], withTrailing);
    expect(plan.read).toBe(false); // first sight: nothing moved, the mark is known
    const reads: boolean[] = [];
    for (const price of [104, 104, 104, 104]) {
      plan = planTrailingRead(plan.watch, [{ symbol: "TTRL", price }, { symbol: "TOTH", price: 10 }], withTrailing);
      reads.push(plan.read);
    }
    expect(reads).toEqual([true, true, false, false]);
    expect(TRAIL_READS_AFTER_MOVE).toBe(2);
  });

  it("ignores moves of symbols without a trailing stop, and stops that no longer trail", () => {
    const first = planTrailingRead(null, [{ symbol: "TTRL", price: 100 }, { symbol: "TOTH", price: 10 }], withTrailing);
    expect(planTrailingRead(first.watch, [{ symbol: "TTRL", price: 100 }, { symbol: "TOTH", price: 11 }], withTrailing).read).toBe(false);
    const triggered = mergeOrders(withTrailing, [order({ id: "ord_T", symbol: "TTRL", side: "SELL", order_type: "TRAILING_STOP", price: null, stop_price: 97.5, trail_price: 2.5, hwm: 100, triggered_at: at(9), updated_at: at(9) })]);
    expect(trailingStops(triggered)).toEqual([]);
    expect(planTrailingRead(first.watch, [{ symbol: "TTRL", price: 90 }], triggered).read).toBe(false);
  });

  it("reads a trailing stop that has no mark yet (just placed) on every refresh until it has one", () => {
    const fresh = mergeOrders(emptyBlotter, [order({ id: "ord_T", symbol: "TTRL", side: "SELL", order_type: "TRAILING_STOP", price: null, stop_price: 97.5, trail_price: 2.5, hwm: null })]);
    expect(planTrailingRead(null, [{ symbol: "TTRL", price: 100 }], fresh).read).toBe(true);
  });
});
