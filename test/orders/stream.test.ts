// The stream beyond order steps: account.updated in the same desk change as the fill or reservation that
// moved the account (so a page shows both in one frame), order.replaced, and snapshot=1 on connect,
// consistent with its seq.
import { afterEach, describe, expect, it } from "vitest";
import { auditOf, call, eventually, json, newInstrument, newTrader, submit, untilStatus } from "../helpers/api";
import { sign } from "../helpers/auth";
import { closeAll, connect } from "../helpers/socket";

afterEach(closeAll);

const seqs = (messages: { seq?: unknown; event?: unknown }[]) => messages.filter((m) => typeof m.event === "string").map((m) => m.seq as number);

describe("account.updated", () => {
  it("follows the reservation and the fill in the same change, with the new cash and position", async () => {
    const symbol = await newInstrument(100);
    const trader = await newTrader(10_000);
    const socket = await connect({ token: trader.token });
    const { id } = await json<{ id: string }>(await submit(trader, { symbol, quantity: 10, order_type: "MARKET" }));
    await untilStatus(trader, id, "FILLED");
    await socket.until((m) => m.filter((x) => x.event === "account.updated").length >= 2);

    const stream = socket.messages.filter((m) => typeof m.event === "string").map((m) => m.event);
    expect(stream).toEqual(["order.submitted", "account.updated", "order.accepted", "order.filled", "account.updated"]);
    const all = seqs(socket.messages);
    expect(all).toEqual(all.map((_, i) => all[0]! + i)); // one seq, contiguous
    const [reserved, filled] = socket.accountEvents();
    expect(reserved).toMatchObject({ cash: 10_000, reserved: 1_100, buying_power: 8_900, positions: [], trading_state: "ACTIVE" });
    expect(filled).toMatchObject({ cash: 9_000, reserved: 0, equity: 10_000, positions: [{ symbol, quantity: 10, avg_price: 100 }] });
    // The account read over HTTP agrees with the last event.
    const { event: _e, seq: _s, timestamp: _t, ...last } = filled!;
    expect(await json(await call("/api/v1/account", { token: trader.token }))).toEqual(last);
  });

  it("is sent when an amend moves the reservation and when an admin changes the trading state", async () => {
    const symbol = await newInstrument(100);
    const trader = await newTrader(10_000);
    const { id } = await json<{ id: string }>(await submit(trader, { symbol, quantity: 10, order_type: "LIMIT", price: 95, time_in_force: "GTC" }));
    await eventually(() => auditOf(trader, id), (t) => t.some((a) => a.action === "EXECUTED"));
    const socket = await connect({ token: trader.token });
    expect((await call(`/api/v1/orders/${id}`, { method: "PATCH", token: trader.token, body: { quantity: 20 } })).status).toBe(200);
    await socket.untilEvent(id, "order.replaced");
    await socket.until((m) => m.some((x) => x.event === "account.updated"));
    expect(socket.accountEvents().at(-1)).toMatchObject({ reserved: 1_900 });
    const admin = await sign("ops", "admin");
    await call(`/api/v1/admin/accounts/${trader.id}/trading`, { method: "PUT", token: admin, body: { state: "REDUCE_ONLY", reason: "test" } });
    await socket.until((m) => m.some((x) => x.event === "account.updated" && x.trading_state === "REDUCE_ONLY"));
  });
});

describe("snapshot=1", () => {
  it("sends the working orders and the account right after connection_acknowledged, at its seq; replay follows from there", async () => {
    const symbol = await newInstrument(100);
    const trader = await newTrader(10_000);
    const { id } = await json<{ id: string }>(await submit(trader, { symbol, quantity: 10, order_type: "LIMIT", price: 95, time_in_force: "GTC" }));
    await eventually(() => auditOf(trader, id), (t) => t.some((a) => a.action === "EXECUTED"));
    const { id: done } = await json<{ id: string }>(await submit(trader, { symbol, quantity: 1, order_type: "MARKET" }));
    await untilStatus(trader, done, "FILLED");

    const socket = await connect({ token: trader.token, snapshot: "1" });
    await socket.until((m) => m.some((x) => x.type === "snapshot"));
    const [ack, snapshot] = socket.messages;
    expect(ack).toMatchObject({ type: "connection_acknowledged" });
    expect(snapshot).toMatchObject({ type: "snapshot", seq: ack!.seq, account: { cash: 9_900, reserved: 950, positions: [{ symbol, quantity: 1 }] } });
    expect((snapshot!.orders as { id: string; status: string }[]).map((o) => [o.id, o.status])).toEqual([[id, "PENDING"]]);

    const plain = await connect({ token: trader.token });
    await plain.until((m) => m.length >= 1);
    expect(plain.messages.some((m) => m.type === "snapshot")).toBe(false);
    const bad = await call(`/ws/orders/events?token=${trader.token}&snapshot=yes`, { headers: { Upgrade: "websocket" } });
    expect(bad.status).toBe(400);
  });
});
