import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { auditOf, call, eventually, getOrder, json, newTrader, submit, untilStatus } from "../helpers/api";
import { closeAll, connect } from "../helpers/socket";

afterEach(closeAll);

describe("a partly filled order, then cancelled", () => {
  it("cancels the unfilled 50 of a LIMIT BUY 100 TEST_PARTIAL @ 150.00, keeping the 50 filled and charging exactly 7,500.00", async () => {
    const trader = await newTrader(20_000);
    const socket = await connect({ token: trader.token });
    const res = await submit(trader, { symbol: "TEST_PARTIAL", quantity: 100, order_type: "LIMIT", price: 150 });
    expect(res.status).toBe(201);
    const { id } = await json<{ id: string }>(res);

    const partial = await untilStatus(trader, id, "PARTIAL");
    expect(partial).toMatchObject({ filled_quantity: 50, avg_fill_price: 150 });
    expect(partial.fills.map((f) => [f.quantity_filled, f.price_at_fill])).toEqual([[50, 150]]);
    // 50 paid, the other 50 x 150.00 still reserved for the resting rest.
    expect(await json(await call("/api/v1/account", { token: trader.token }))).toMatchObject({ cash: 12_500, reserved: 7_500, buying_power: 5_000 });

    const cancelled = await call(`/api/v1/orders/${id}/cancel`, { method: "POST", token: trader.token });
    expect(cancelled.status).toBe(200);
    expect(await json(cancelled)).toMatchObject({ id, status: "CANCELLED", filled_quantity: 50, avg_fill_price: 150 });

    const order = await getOrder(trader, id);
    expect(order).toMatchObject({ status: "CANCELLED", filled_quantity: 50 });
    expect(order.fills.map((f) => [f.quantity_filled, f.price_at_fill])).toEqual([[50, 150]]);
    const account = await json(await call("/api/v1/account", { token: trader.token }));
    expect(account).toEqual({
      trader_id: trader.id, cash: 12_500, reserved: 0, buying_power: 12_500, equity: 20_000, realized_pl: 0, unrealized_pl: 0, trading_state: "ACTIVE",
      positions: [{ symbol: "TEST_PARTIAL", quantity: 50, avg_price: 150, realized_pl: 0 }],
    });
    const trail = await auditOf(trader, id);
    expect(trail.map((a) => [a.action, a.status])).toEqual([
      ["SUBMITTED", "PENDING"], ["APPROVED", "PENDING"], ["EXECUTED", "PENDING"], ["PARTIAL", "PARTIAL"], ["CANCELLED", "CANCELLED"],
    ]);
    expect(trail.at(-1)?.reason).toBe("User requested cancellation");

    const events = await socket.untilEvent(id, "order.cancelled");
    expect(events.map((e) => [e.event, e.status, e.filled_quantity])).toEqual([
      ["order.submitted", "PENDING", 0], ["order.accepted", "PENDING", 0], ["order.partial", "PARTIAL", 50], ["order.cancelled", "CANCELLED", 50],
    ]);
    // The whole stream under one seq: the account after the reservation, the fill and the release.
    const stream = await socket.untilSeq(7);
    expect(stream.map((m) => [m.event, m.seq])).toEqual([
      ["order.submitted", 1], ["account.updated", 2], ["order.accepted", 3], ["order.partial", 4], ["account.updated", 5],
      ["order.cancelled", 6], ["account.updated", 7],
    ]);
    expect(socket.accountEvents().map((a) => [a.cash, a.reserved, a.buying_power])).toEqual([
      [20_000, 15_000, 5_000], [12_500, 7_500, 5_000], [12_500, 0, 12_500],
    ]);
    // The release's account.updated is the account as the API reads it after the cancel.
    const { event: _event, seq: _seq, timestamp: _timestamp, ...released } = socket.accountEvents().at(-1)!;
    expect(released).toEqual(account);

    // D1: the order CANCELLED with its 50, one fill row.
    const row = await eventually(
      () => env.DB.prepare("SELECT status, filled_quantity FROM orders WHERE id = ?").bind(id).first<{ status: string; filled_quantity: number }>(),
      (r) => r?.status === "CANCELLED",
    );
    expect(row).toEqual({ status: "CANCELLED", filled_quantity: 50 });
    const fills = await env.DB.prepare("SELECT quantity_filled, price_cents FROM fills WHERE order_id = ?").bind(id).all();
    expect(fills.results).toEqual([{ quantity_filled: 50, price_cents: 15000 }]);
  });
});
