// The blotter reducer: live events, replays and HTTP reads merged into one view that never moves
// backwards, shows each event once and keeps newest orders first.
import { describe, expect, it } from "vitest";
import type { AccountEvent, OrderEvent } from "../../worker/shared/events";
import type { Order, OrderWithFills } from "../../worker/shared/orders";
import { acknowledge, applyEvent, emptyBlotter, mergeOrders, statusLabel, type BlotterState } from "../../web/src/blotter";

const T0 = Date.parse("2025-10-17T12:00:00.000Z");
const at = (ms: number) => new Date(T0 + ms).toISOString();

function event(seq: number, over: Partial<OrderEvent> = {}): OrderEvent {
  return {
    event: "order.submitted", seq, order_id: "ord_A", status: "PENDING", symbol: "TEST_PARTIAL", side: "BUY", order_type: "MARKET",
    quantity: 100, filled_quantity: 0, avg_fill_price: null, quantity_filled: null, price_at_fill: null, price: null, fill_id: null, reason: null,
    timestamp: at(seq), ...over,
  };
}

/** The seed's scenario 5: 50 @ 150.00 then 50 @ 150.05. */
const partialThenFilled = (first = 1, id = "ord_A"): OrderEvent[] => [
  event(first, { order_id: id }),
  event(first + 1, { order_id: id, event: "order.accepted" }),
  event(first + 2, { order_id: id, event: "order.partial", status: "PARTIAL", filled_quantity: 50, avg_fill_price: 150, quantity_filled: 50, price_at_fill: 150, fill_id: `${id}:1` }),
  event(first + 3, { order_id: id, event: "order.filled", status: "FILLED", filled_quantity: 100, avg_fill_price: 150.025, quantity_filled: 50, price_at_fill: 150.05, fill_id: `${id}:2` }),
];

function order(over: Partial<OrderWithFills> = {}): Order & { fills?: OrderWithFills["fills"] } {
  return {
    id: "ord_A", trader_id: "carol", client_order_id: null, symbol: "TEST_PARTIAL", side: "BUY", quantity: 100, order_type: "MARKET",
    price: null, stop_price: null, time_in_force: "DAY", status: "PENDING", filled_quantity: 0, avg_fill_price: null, reason: null,
    created_at: at(1), updated_at: at(1), amended_at: null, triggered_at: null, trail_price: null, trail_percent: null, hwm: null, order_class: "simple", parent_order_id: null, ...over,
  };
}

function applyAll(state: BlotterState, events: OrderEvent[]) {
  const outcomes: string[] = [];
  for (const e of events) {
    const result = applyEvent(state, e);
    state = result.state;
    outcomes.push(result.outcome);
  }
  return { state, outcomes };
}

const connected = (seq = 0) => acknowledge(emptyBlotter, seq).state;

describe("applyEvent", () => {
  it("walks an order through PARTIAL (50/100) to FILLED, listing each fill once, oldest first", () => {
    const labels: string[] = [];
    let state = connected();
    for (const e of partialThenFilled()) {
      state = applyEvent(state, e).state;
      labels.push(statusLabel(state.orders.ord_A!));
    }
    expect(labels).toEqual(["PENDING (0/100)", "PENDING (0/100)", "PARTIAL (50/100)", "FILLED (100/100)"]);
    const row = state.orders.ord_A!;
    expect(row.fills.map((f) => [f.quantity, f.price])).toEqual([[50, 150], [50, 150.05]]);
    expect(row.avg_fill_price).toBe(150.025);
    expect(state.lastSeq).toBe(4);
  });

  it("ignores an event it has already applied and leaves the state untouched", () => {
    const { state } = applyAll(connected(), partialThenFilled());
    const again = applyEvent(state, partialThenFilled()[2]!);
    expect(again.outcome).toBe("duplicate");
    expect(again.state).toBe(state);
    expect(again.state.orders.ord_A!.fills).toHaveLength(2);
  });

  it("applies a replay that overlaps what it saw: old seqs are skipped, the missed ones land once", () => {
    const all = [...partialThenFilled(1, "ord_A"), ...partialThenFilled(5, "ord_B")];
    const before = applyAll(connected(), all.slice(0, 3)).state; // dropped after seq 3
    const replay = all.slice(1); // the server replays since=... and a live copy of seq 2-3 arrives too
    const { state, outcomes } = applyAll(before, replay);
    expect(outcomes).toEqual(["duplicate", "duplicate", "applied", "applied", "applied", "applied", "applied"]);
    expect(state.lastSeq).toBe(8);
    expect(state.ids).toEqual(["ord_B", "ord_A"]);
    expect(state.orders.ord_A!.fills.map((f) => f.id)).toEqual(["ord_A:1", "ord_A:2"]);
    expect(state.orders.ord_B!.fills.map((f) => f.id)).toEqual(["ord_B:1", "ord_B:2"]);
  });

  it("refuses to jump over a gap in seq, so the feed can resume from the last one applied", () => {
    const events = partialThenFilled();
    const first = applyAll(connected(), events.slice(0, 2)).state;
    const jump = applyEvent(first, events[3]!);
    expect(jump.outcome).toBe("gap");
    expect(jump.state).toBe(first);
    const { state, outcomes } = applyAll(first, events.slice(2));
    expect(outcomes).toEqual(["applied", "applied"]);
    expect(statusLabel(state.orders.ord_A!)).toBe("FILLED (100/100)");
  });

  it("resumes from the seq the server acknowledged on the first connection", () => {
    const state = connected(41);
    expect(applyEvent(state, event(41)).outcome).toBe("duplicate");
    expect(applyEvent(state, event(42)).outcome).toBe("applied");
  });
});

describe("status never goes backwards", () => {
  it("keeps FILLED when the submit's 201 (PENDING) arrives after the fill events", () => {
    const filled = applyAll(connected(), partialThenFilled()).state;
    const state = mergeOrders(filled, [order({ status: "PENDING", filled_quantity: 0 })]);
    expect(statusLabel(state.orders.ord_A!)).toBe("FILLED (100/100)");
    expect(state.orders.ord_A!.avg_fill_price).toBe(150.025);
    // ...while taking what only the HTTP read knows
    expect(state.orders.ord_A!.time_in_force).toBe("DAY");
    expect(state.orders.ord_A!.detailed).toBe(true);
  });

  it("keeps PARTIAL over a stale PENDING snapshot, and moves on to FILLED from a fresher one", () => {
    let state = applyAll(connected(), partialThenFilled().slice(0, 3)).state;
    state = mergeOrders(state, [order({ status: "PENDING" })]);
    expect(state.orders.ord_A!.status).toBe("PARTIAL");
    state = mergeOrders(state, [order({ status: "FILLED", filled_quantity: 100, avg_fill_price: 150.025 })]);
    expect(statusLabel(state.orders.ord_A!)).toBe("FILLED (100/100)");
  });

  it("keeps the first final status: a cancelled order stays cancelled with its reason", () => {
    let state = mergeOrders(emptyBlotter, [order({ status: "CANCELLED", reason: "User requested cancellation", filled_quantity: 50 })]);
    state = mergeOrders(state, [order({ status: "PARTIAL", filled_quantity: 50 })]);
    state = mergeOrders(state, [order({ status: "FILLED", filled_quantity: 50 })]);
    expect(state.orders.ord_A!.status).toBe("CANCELLED");
    expect(state.orders.ord_A!.reason).toBe("User requested cancellation");
  });
});

describe("merging HTTP reads", () => {
  it("lists a fill once when the order read (with fills) repeats what events already showed", () => {
    let state = applyAll(connected(), partialThenFilled()).state;
    state = mergeOrders(state, [
      order({
        status: "FILLED", filled_quantity: 100, avg_fill_price: 150.025,
        fills: [
          { id: "ord_A:1", order_id: "ord_A", quantity_filled: 50, price_at_fill: 150, timestamp: at(3) },
          { id: "ord_A:2", order_id: "ord_A", quantity_filled: 50, price_at_fill: 150.05, timestamp: at(4) },
        ],
      }),
    ]);
    expect(state.orders.ord_A!.fills.map((f) => f.id)).toEqual(["ord_A:1", "ord_A:2"]);
  });

  it("orders fills numerically when the venue numbered them in the same millisecond", () => {
    const fills = Array.from({ length: 11 }, (_, i) => ({ id: `ord_A:${11 - i}`, order_id: "ord_A", quantity_filled: 1, price_at_fill: 150, timestamp: at(5) }));
    const state = mergeOrders(emptyBlotter, [order({ quantity: 11, filled_quantity: 11, status: "FILLED", fills })]);
    expect(state.orders.ord_A!.fills.map((f) => f.id.split(":")[1])).toEqual(["1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11"]);
  });

  it("keeps the newest order first whatever order the news arrives in", () => {
    let state = mergeOrders(emptyBlotter, [order({ id: "ord_1", created_at: at(1000) }), order({ id: "ord_3", created_at: at(3000) })]);
    state = mergeOrders(state, [order({ id: "ord_2", created_at: at(2000) })]);
    state = applyEvent(acknowledge(state, 0).state, event(1, { order_id: "ord_4", timestamp: at(4000) })).state;
    expect(state.ids).toEqual(["ord_4", "ord_3", "ord_2", "ord_1"]);
    // an order first seen through a late event moves to where its real creation time puts it
    state = applyEvent(state, event(2, { order_id: "ord_0", event: "order.filled", status: "FILLED", timestamp: at(5000) })).state;
    expect(state.ids[0]).toBe("ord_0");
    state = mergeOrders(state, [order({ id: "ord_0", created_at: at(500), status: "FILLED" })]);
    expect(state.ids).toEqual(["ord_4", "ord_3", "ord_2", "ord_1", "ord_0"]);
  });
});

describe("amends and the account on the same seq", () => {
  /** A resting LIMIT BUY 100 AAPL at 140, read over HTTP and acknowledged at seq 2. */
  const resting = (): BlotterState =>
    mergeOrders(acknowledge(emptyBlotter, 2).state, [order({ symbol: "AAPL", order_type: "LIMIT", price: 140, time_in_force: "GTC" })]);
  const replaced = (seq: number, over: Partial<OrderEvent> = {}) =>
    event(seq, { event: "order.replaced", symbol: "AAPL", order_type: "LIMIT", quantity: 80, price: 141, stop_price: null, timestamp: at(10_000), ...over });
  const accountEvent = (seq: number): AccountEvent => ({
    event: "account.updated", seq, trader_id: "carol", cash: 10_000, reserved: 11_280, buying_power: -1_280, equity: 10_000, realized_pl: 0, unrealized_pl: 0,
    trading_state: "ACTIVE", positions: [], timestamp: at(10_000),
  });

  it("shows an amend's new quantity and price from order.replaced", () => {
    const state = applyEvent(resting(), replaced(3)).state;
    expect(state.orders.ord_A).toMatchObject({ quantity: 80, price: 141, amended_at: at(10_000) });
    expect(statusLabel(state.orders.ord_A!)).toBe("PENDING (0/80)");
  });

  it("does not let a read from before the amend put the old terms back, and takes a later amend's", () => {
    let state = applyEvent(resting(), replaced(3)).state;
    state = mergeOrders(state, [order({ symbol: "AAPL", order_type: "LIMIT", price: 140, quantity: 100, time_in_force: "GTC", amended_at: null })]);
    expect(state.orders.ord_A).toMatchObject({ quantity: 80, price: 141 });
    state = mergeOrders(state, [order({ symbol: "AAPL", order_type: "LIMIT", price: 142.5, quantity: 60, time_in_force: "DAY", amended_at: at(20_000) })]);
    expect(state.orders.ord_A).toMatchObject({ quantity: 60, price: 142.5, time_in_force: "DAY", amended_at: at(20_000) });
    // the events after an amend carry its terms; an old one replayed changes nothing
    state = applyEvent(state, event(4, { event: "order.partial", status: "PARTIAL", symbol: "AAPL", order_type: "LIMIT", quantity: 60, filled_quantity: 10, quantity_filled: 10, price_at_fill: 142.5, price: 142.5, fill_id: "ord_A:1" })).state;
    expect(state.orders.ord_A).toMatchObject({ quantity: 60, price: 142.5, status: "PARTIAL" });
  });

  it("forgets the time in force an amend seen only as an event may have changed, until the order is read", () => {
    let state = applyEvent(resting(), replaced(3)).state;
    expect(state.orders.ord_A!.time_in_force).toBeNull();
    state = mergeOrders(state, [order({ symbol: "AAPL", order_type: "LIMIT", price: 141, quantity: 80, time_in_force: "DAY", amended_at: at(10_000) })]);
    expect(state.orders.ord_A!.time_in_force).toBe("DAY");
  });

  it("takes an amend's answer (PATCH) and its later event as one amend", () => {
    let state = mergeOrders(resting(), [order({ symbol: "AAPL", order_type: "LIMIT", price: 141, quantity: 80, time_in_force: "GTC", amended_at: at(10_000) })]);
    state = applyEvent(state, replaced(3)).state;
    expect(state.orders.ord_A).toMatchObject({ quantity: 80, price: 141, time_in_force: "GTC" });
  });

  it("marks a stop that triggered", () => {
    const state = applyEvent(resting(), event(3, { event: "order.triggered", symbol: "AAPL", order_type: "STOP", stop_price: 155 })).state;
    expect(state.orders.ord_A!.triggered).toBe(true);
    expect(mergeOrders(state, [order({ symbol: "AAPL" })]).orders.ord_A!.triggered).toBe(true);
  });

  it("moves the seq on account.updated, so the order events after it are neither a gap nor a duplicate", () => {
    const before = resting();
    const account = applyEvent(before, accountEvent(3));
    expect(account).toMatchObject({ outcome: "applied", state: { lastSeq: 3 } });
    const state = account.state;
    expect(state.orders).toBe(before.orders); // the orders are untouched
    expect(applyEvent(state, accountEvent(3)).outcome).toBe("duplicate");
    expect(applyEvent(state, accountEvent(5)).outcome).toBe("gap");
    expect(applyEvent(state, replaced(4)).outcome).toBe("applied");
  });
});

describe("acknowledge", () => {
  it("marks the first connection fresh (load a snapshot) and a reconnect as a resume", () => {
    const first = acknowledge(emptyBlotter, 7);
    expect(first).toMatchObject({ fresh: true, state: { lastSeq: 7 } });
    const resumed = acknowledge({ ...first.state, lastSeq: 9 }, 12);
    expect(resumed).toMatchObject({ fresh: false, state: { lastSeq: 9 } });
  });

  it("starts over when the server's log is behind the page (a wiped local database)", () => {
    const state = applyAll(connected(), partialThenFilled()).state;
    const reset = acknowledge(state, 1);
    expect(reset.fresh).toBe(true);
    expect(reset.state).toEqual({ orders: {}, ids: [], lastSeq: 1 });
  });
});
