// The page's toasts for live order events (web/src/announce.ts) and the door its order commands take
// (web/src/command-door.ts): a command answered on the socket settles with its order's event, or after a
// short bound when that event does not come.
import { afterEach, describe, expect, it, vi } from "vitest";
import type { OrderEvent } from "../../worker/shared/events";
import type { Order } from "../../worker/shared/orders";
import type { Ack } from "../../worker/shared/socket-orders";
import { announcement } from "../../web/src/announce";
import { CommandDoor } from "../../web/src/command-door";
import type { SocketAnswer } from "../../web/src/commands";

const event = (over: Partial<OrderEvent>): OrderEvent => ({
  event: "order.submitted", seq: 1, order_id: "ord_A", status: "PENDING", symbol: "AAPL", side: "BUY", order_type: "MARKET",
  quantity: 100, filled_quantity: 0, avg_fill_price: null, quantity_filled: null, price_at_fill: null, price: null, fill_id: null, reason: null,
  timestamp: "2026-11-30T10:00:00.000Z", ...over,
});

afterEach(() => vi.useRealTimers());

describe("the toast of a live order event", () => {
  it("says the seed's words for a fill, and each step the trader did not just ask for", () => {
    expect(announcement(event({ event: "order.filled", status: "FILLED", filled_quantity: 100, avg_fill_price: 150.025 }), false)).toEqual({ tone: "info", text: "Order filled at $150.025 - BUY 100 AAPL" /* the average, exactly */ });
    expect(announcement(event({ event: "order.rejected", status: "REJECTED", reason: "Venue rejected the order" }), false)).toEqual({ tone: "error", text: "Order rejected - BUY 100 AAPL: Venue rejected the order" });
    expect(announcement(event({ event: "order.expired", status: "EXPIRED", reason: null }), false)).toEqual({ tone: "info", text: "Order expired - BUY 100 AAPL" });
    expect(announcement(event({ event: "order.cancel_rejected", reason: "Order already filled" }), false)).toMatchObject({ tone: "error", text: "Cancel refused - BUY 100 AAPL: Order already filled" });
    expect(announcement(event({ event: "order.activated", side: "SELL", order_type: "STOP", price: null, stop_price: 140 }), false)?.text).toBe("Exit live - SELL 100 AAPL, stop $140.00");
    expect(announcement(event({ event: "order.activated", side: "SELL", order_type: "LIMIT", price: 160 }), false)?.text).toBe("Exit live - SELL 100 AAPL at $160.00");
  });

  it("leaves a cancel this page asked for to the cancel's own toast, and is silent on routine steps", () => {
    const cancelled = event({ event: "order.cancelled", status: "CANCELLED", reason: "User requested cancellation" });
    expect(announcement(cancelled, true)).toBeNull();
    expect(announcement(cancelled, false)).toEqual({ tone: "info", text: "Order cancelled - BUY 100 AAPL: User requested cancellation" });
    for (const name of ["order.submitted", "order.accepted", "order.partial"] as const) expect(announcement(event({ event: name }), false), name).toBeNull();
  });
});

describe("the command door", () => {
  const order = { id: "ord_A", symbol: "AAPL", status: "PENDING" } as Order;
  const ack: Ack = { type: "ack", request_id: "r", order };
  const door = (answer: SocketAnswer, connected = true) =>
    new CommandDoor({ feed: { connected, command: () => Promise.resolve(answer) }, unauthorized: () => undefined, stopped: () => false });
  const submit = (d: CommandDoor, http: () => Promise<Order>) =>
    d.send("submit", { type: "submit", order: { symbol: "AAPL", quantity: 1, order_type: "MARKET" } }, http, (a) => a.order!);

  it("settles a socket answer once its order's event is applied, not before", async () => {
    const d = door({ kind: "ack", ack });
    let settled = false;
    const sent = submit(d, () => Promise.reject(new Error("no HTTP"))).then((s) => ((settled = true), s));
    await new Promise((r) => setTimeout(r, 20));
    expect(settled).toBe(false);
    d.eventApplied("ord_B"); // another order's event: still waiting
    await new Promise((r) => setTimeout(r, 20));
    expect(settled).toBe(false);
    d.eventApplied("ord_A");
    await expect(sent).resolves.toMatchObject({ value: order, fellBack: false });
    expect(d.routes).toEqual({ socket: 1, http: 0, fallbacks: 0 });
  });

  it("settles after its bound when the event never comes, and takes HTTP when the socket is down", async () => {
    vi.useFakeTimers();
    const d = door({ kind: "ack", ack });
    const sent = submit(d, () => Promise.reject(new Error("no HTTP")));
    await vi.advanceTimersByTimeAsync(249);
    let settled = false;
    void sent.then(() => (settled = true));
    await vi.advanceTimersByTimeAsync(0);
    expect(settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await expect(sent).resolves.toMatchObject({ value: order });
    vi.useRealTimers();

    const offline = door({ kind: "lost", why: "unsent" }, false);
    await expect(submit(offline, () => Promise.resolve(order))).resolves.toMatchObject({ value: order });
    expect(offline.routes).toEqual({ socket: 0, http: 1, fallbacks: 0 });
  });
});
