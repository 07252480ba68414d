import { afterEach, describe, expect, it } from "vitest";
import { getOrder, json, newTrader, submit, untilStatus } from "./helpers/api";
import { closeAll, connect } from "./helpers/socket";

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

afterEach(closeAll);

describe("seed scenario 5: fills arrive live on the WebSocket", () => {
  it("streams submitted, accepted, a partial fill 50 @ 150.00 and the final fill 50 @ 150.05 with contiguous seq", async () => {
    const trader = await newTrader(20_000);
    const socket = await connect({ token: trader.token });
    const ack = await socket.next((m) => m.type === "connection_acknowledged");
    expect(ack).toMatchObject({ type: "connection_acknowledged", seq: 0 });

    const res = await submit(trader, { symbol: "TEST_PARTIAL", quantity: 100, order_type: "MARKET" });
    expect(res.status).toBe(201);
    const { id } = await json<{ id: string }>(res);

    const events = await socket.untilEvent(id, "order.filled");
    expect(events.map((e) => e.event)).toEqual(["order.submitted", "order.accepted", "order.partial", "order.filled"]);
    // Contiguous over the whole stream: the reservation's and the fills' account.updated take their seqs.
    const stream = await socket.untilSeq(6);
    expect(stream.map((m) => [m.event, m.seq])).toEqual([
      ["order.submitted", 1], ["account.updated", 2], ["order.accepted", 3], ["order.partial", 4], ["order.filled", 5], ["account.updated", 6],
    ]);
    // The account after both fills arrives with them: 50 @ 150.00 + 50 @ 150.05 = 15,002.50 paid.
    expect(socket.accountEvents().at(-1)).toMatchObject({
      trader_id: trader.id, cash: 4_997.5, reserved: 0, buying_power: 4_997.5, positions: [{ symbol: "TEST_PARTIAL", quantity: 100, avg_price: 150.025 }],
    });
    expect(events[0]).toMatchObject({ order_id: id, status: "PENDING", symbol: "TEST_PARTIAL", side: "BUY", quantity: 100, filled_quantity: 0 });
    expect(events[2]).toMatchObject({ status: "PARTIAL", quantity_filled: 50, price_at_fill: 150, price: 150, filled_quantity: 50 });
    expect(events[3]).toMatchObject({ status: "FILLED", quantity_filled: 50, price_at_fill: 150.05, price: 150.05, filled_quantity: 100 });
    for (const e of events) expect(new Date(e.timestamp).toISOString()).toBe(e.timestamp);
    // The socket stayed connected through the fills.
    expect(socket.closed).toBeNull();

    const order = await getOrder(trader, id);
    expect(order).toMatchObject({ status: "FILLED", filled_quantity: 100, avg_fill_price: 150.025 });
    expect(order.fills.map((f) => [f.quantity_filled, f.price_at_fill])).toEqual([[50, 150], [50, 150.05]]);
  });

  it("numbers a second order's events on from the first, without gaps", async () => {
    const trader = await newTrader(40_000);
    const socket = await connect({ token: trader.token });
    const first = await json<{ id: string }>(await submit(trader, { symbol: "TEST_PARTIAL", quantity: 100, order_type: "MARKET" }));
    await untilStatus(trader, first.id, "FILLED");
    await socket.untilEvent(first.id, "order.filled");
    const second = await json<{ id: string }>(await submit(trader, { symbol: "TEST_PARTIAL", quantity: 100, order_type: "MARKET" }));
    await socket.untilEvent(second.id, "order.filled");
    await socket.untilSeq(12);

    // Six stream events per order (four order events, two account.updated), numbered on without gaps.
    expect(socket.streamSeqs()).toEqual(range(1, 12));
    expect(socket.events(first.id).map((e) => e.seq)).toEqual([1, 3, 4, 5]);
    expect(socket.events(second.id).map((e) => e.seq)).toEqual([7, 9, 10, 11]);
    expect(socket.accountEvents().map((a) => a.seq)).toEqual([2, 6, 8, 12]);
  });
});
