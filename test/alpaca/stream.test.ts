// The stream link: Alpaca's trade_updates (binary and text frames) reach the desks; when the stream drops,
// the link reconnects with backoff from its alarm and reconciles (open orders, fills since the last one
// applied), so a fill made while it was not listening is applied once, never lost and never twice.
import { afterEach, describe, expect, it } from "vitest";
import { auditOf, call, eventually, json, newTrader, submit, untilStatus } from "../helpers/api";
import { sign } from "../helpers/auth";
import { dropStream, expectFillsAgree, fakeOrders, fakeRequests, newSymbol, requestMark, setAccountFaults, setSymbol, venue } from "./fake";

const connected = () => eventually(venue, (v) => v.stream.state === "connected", 15_000);

afterEach(async () => {
  await setAccountFaults({ refuse_streams: 0, frames: "binary", fail_next: [], auth_form: "both" });
  await connected();
});

describe("the Alpaca stream link", () => {
  it("applies a fill made while the stream was down exactly once, after reconnecting and reconciling", async () => {
    const symbol = await newSymbol(100);
    const trader = await newTrader(10_000);
    const { id } = await json<{ id: string }>(await submit(trader, { symbol, quantity: 10, order_type: "LIMIT", price: 99 }));
    await eventually(() => auditOf(trader, id), (t) => t.some((a) => a.action === "EXECUTED"));
    await connected();
    const before = await venue();

    await setAccountFaults({ refuse_streams: 3 });
    await dropStream();
    await eventually(venue, (v) => v.stream.state !== "connected");
    await setSymbol(symbol, { price: 98 }); // the order fills now, with nobody listening

    const filled = await untilStatus(trader, id, "FILLED");
    expect(filled.fills.map((f) => [f.quantity_filled, f.price_at_fill])).toEqual([[10, 98]]);
    await expectFillsAgree(trader, id);
    const after = await connected();
    expect(after.stream.reconnects).toBeGreaterThan(before.stream.reconnects as number);
    expect(Date.parse(after.stream.last_reconcile_at as string)).toBeGreaterThan(Date.parse(before.stream.connected_since as string));
    expect(await json(await call("/api/v1/account", { token: trader.token }))).toMatchObject({ cash: 9_020, reserved: 0, positions: [{ symbol, quantity: 10, avg_price: 98 }] });
  });

  it("books a trailing stop that filled while the stream was down at the mark and stop Alpaca triggered it at", async () => {
    const symbol = await newSymbol(100);
    const trader = await newTrader(10_000);
    const buy = await json<{ id: string }>(await submit(trader, { symbol, quantity: 10, order_type: "MARKET" }));
    await untilStatus(trader, buy.id, "FILLED");
    const { id } = await json<{ id: string }>(await submit(trader, { symbol, side: "SELL", quantity: 10, order_type: "TRAILING_STOP", trail_price: 2, time_in_force: "GTC" }));
    await eventually(() => auditOf(trader, id), (t) => t.some((a) => a.action === "EXECUTED"));
    await setSymbol(symbol, { price: 110 }); // the mark rises to 110 at Alpaca, the stop to 108: Alpaca tells nobody
    await connected();
    await setAccountFaults({ refuse_streams: 3 });
    await dropStream();
    await eventually(venue, (v) => v.stream.state !== "connected");
    await setSymbol(symbol, { price: 107 }); // through the stop at 108: it triggers and sells, with nobody listening

    const filled = await untilStatus(trader, id, "FILLED");
    expect(filled).toMatchObject({ hwm: 110, stop_price: 108, fills: [expect.objectContaining({ quantity_filled: 10, price_at_fill: 107 })] });
    const triggered = (await auditOf(trader, id)).find((a) => a.action === "TRIGGERED");
    expect(triggered?.reason).toContain("$108.00");
    await expectFillsAgree(trader, id);
  });

  it("loses no fill and books none twice when the stream drops in the middle of a fill", async () => {
    const symbol = await newSymbol(150, { tick: 0.05, depth: 50, faults: { drop_stream_mid_fill: true } });
    const trader = await newTrader(20_000);
    await connected();
    const before = (await venue()).stream.reconnects as number;
    const { id } = await json<{ id: string }>(await submit(trader, { symbol, quantity: 100, order_type: "MARKET" }));

    const filled = await untilStatus(trader, id, "FILLED");
    expect(filled.fills.map((f) => [f.quantity_filled, f.price_at_fill])).toEqual([[50, 150], [50, 150.05]]);
    await expectFillsAgree(trader, id);
    expect(((await connected()).stream.reconnects as number)).toBeGreaterThan(before);
    expect(await json(await call("/api/v1/account", { token: trader.token }))).toMatchObject({ cash: 4_997.5, reserved: 0 });
  });

  it("holds a fill that streams in before the submit's answer, so the audit still reads SUBMITTED, APPROVED, EXECUTED, FILLED", async () => {
    // Alpaca answers the POST 100 ms late (within the desk's 300 ms timeout); the fill is on the stream after 10 ms.
    const symbol = await newSymbol(30, { faults: { late_first_attempts: 1, late_ms: 100 } });
    const trader = await newTrader(1_000);
    await connected();
    const { id } = await json<{ id: string }>(await submit(trader, { symbol, quantity: 10, order_type: "MARKET" }));
    await untilStatus(trader, id, "FILLED");
    expect((await auditOf(trader, id)).map((a) => a.action)).toEqual(["SUBMITTED", "APPROVED", "EXECUTED", "FILLED"]);
    await expectFillsAgree(trader, id);
  });

  it("reads text frames as well as binary ones", async () => {
    await setAccountFaults({ frames: "text" });
    await dropStream();
    await eventually(venue, (v) => v.stream.state !== "connected");
    await connected();
    const symbol = await newSymbol(20);
    const trader = await newTrader(1_000);
    const { id } = await json<{ id: string }>(await submit(trader, { symbol, quantity: 5, order_type: "LIMIT", price: 19 }));
    await eventually(() => auditOf(trader, id), (t) => t.some((a) => a.action === "EXECUTED"));
    await setSymbol(symbol, { price: 18.5 }); // a resting order fills: only the stream (or a reconcile) can tell
    await untilStatus(trader, id, "FILLED");
    await expectFillsAgree(trader, id);
  });

  it("takes Alpaca's 'client_order_id must be unique' on a resend as the order found when neither REST nor the stream showed it", async () => {
    const symbol = await newSymbol(50);
    const trader = await newTrader(10_000);
    await setAccountFaults({ refuse_streams: 1000 });
    await dropStream();
    await eventually(venue, (v) => v.stream.state !== "connected");
    await setAccountFaults({
      fail_next: [
        { method: "POST", path: "/v2/orders", status: 500, after_effect: true },
        { method: "GET", path: "/v2/orders:by_client_order_id", status: 404 },
      ],
    });
    const mark = await requestMark();
    const { id } = await json<{ id: string }>(await submit(trader, { symbol, quantity: 10, order_type: "LIMIT", price: 45 }));
    await eventually(() => auditOf(trader, id), (t) => t.some((a) => a.action === "RECOVERED"));
    expect((await fakeRequests(mark)).filter((r) => r.method === "POST" && r.path === "/v2/orders").map((r) => r.status)).toEqual([500, 422]);
    expect((await auditOf(trader, id)).map((a) => a.action)).not.toContain("REJECTED");
    expect(await fakeOrders(id)).toHaveLength(1);

    await setAccountFaults({ refuse_streams: 0 });
    await connected();
    await setSymbol(symbol, { price: 44 });
    await untilStatus(trader, id, "FILLED");
    await expectFillsAgree(trader, id);
  });

  it("authenticates with the other documented message form when Alpaca refuses the first", async () => {
    for (const form of ["authenticate", "auth"] as const) {
      await setAccountFaults({ auth_form: form });
      await dropStream();
      await eventually(venue, (v) => v.stream.state !== "connected");
      await connected();
    }
  });

  it("ignores events of orders that are not fillwire's (the account used by hand), and counts them", async () => {
    await connected();
    const before = (await venue()).foreign_events as number;
    const res = await fetch("https://paper-api.alpaca.markets/v2/orders", {
      method: "POST",
      headers: { "APCA-API-KEY-ID": "fake-key-id", "APCA-API-SECRET-KEY": "fake-secret-key", "Content-Type": "application/json" },
      body: JSON.stringify({ symbol: "AAPL", qty: "1", side: "buy", type: "market", time_in_force: "day", client_order_id: `by-hand-${crypto.randomUUID().slice(0, 8)}` }),
    });
    expect(res.status).toBe(200);
    await eventually(venue, (v) => (v.foreign_events as number) > before);
  });

  it("shows its state to an admin only", async () => {
    const state = await connected();
    expect(state).toMatchObject({ exchange: "alpaca", api_url: "https://paper-api.alpaca.markets", stream: { state: "connected", last_error: null } });
    expect(new Date(state.stream.connected_since as string).toISOString()).toBe(state.stream.connected_since);
    const trader = await sign("someone");
    expect((await call("/api/v1/admin/venue", { token: trader })).status).toBe(403);
    expect((await call("/api/v1/admin/venue")).status).toBe(401);
  });
});
