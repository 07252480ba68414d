// Seed scenario 5 against Alpaca (the fake): fills come from Alpaca's trade_updates stream, through the
// account's stream link, to the trader's socket. Alpaca reports each execution on its own, so the account
// update may follow each fill (the simulated venue reports both in one answer): the order events, the fills
// and the final account are the seed's; every event is numbered without a gap.
import { afterEach, describe, expect, it } from "vitest";
import { getOrder, json, newTrader, submit } from "../helpers/api";
import { closeAll, connect } from "../helpers/socket";
import { expectFillsAgree } from "./fake";

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

afterEach(closeAll);

describe("seed scenario 5 on Alpaca: fills arrive live on the WebSocket", () => {
  it("streams submitted, accepted, a partial fill 50 @ 150.00 and the final fill 50 @ 150.05, seq without gaps", async () => {
    const trader = await newTrader(20_000);
    const socket = await connect({ token: trader.token });
    expect(await socket.next((m) => m.type === "connection_acknowledged")).toMatchObject({ seq: 0 });

    const res = await submit(trader, { symbol: "TEST_PARTIAL", quantity: 100, order_type: "MARKET" });
    expect(res.status).toBe(201);
    const { id } = await json<{ id: string }>(res);

    const events = await socket.untilEvent(id, "order.filled");
    expect(events.map((e) => e.event)).toEqual(["order.submitted", "order.accepted", "order.partial", "order.filled"]);
    expect(events[2]).toMatchObject({ status: "PARTIAL", quantity_filled: 50, price_at_fill: 150, filled_quantity: 50 });
    expect(events[3]).toMatchObject({ status: "FILLED", quantity_filled: 50, price_at_fill: 150.05, filled_quantity: 100 });
    await socket.until(() => socket.accountEvents().some((a) => a.cash === 4_997.5));
    const seqs = socket.streamSeqs();
    expect(seqs).toEqual(range(1, seqs.length));
    expect(socket.accountEvents().at(-1)).toMatchObject({
      cash: 4_997.5, reserved: 0, buying_power: 4_997.5, positions: [{ symbol: "TEST_PARTIAL", quantity: 100, avg_price: 150.025 }],
    });
    expect(socket.closed).toBeNull();

    const order = await getOrder(trader, id);
    expect(order).toMatchObject({ status: "FILLED", filled_quantity: 100, avg_fill_price: 150.025 });
    expect(order.fills.map((f) => [f.quantity_filled, f.price_at_fill])).toEqual([[50, 150], [50, 150.05]]);
    await expectFillsAgree(trader, id);
  });
});
