// Seed scenario 7 against Alpaca (the fake): a resting LIMIT order is cancelled with DELETE /v2/orders/{id}.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { auditOf, call, eventually, getOrder, json, newTrader, submit, untilStatus, type Trader } from "../helpers/api";
import { expectFillsAgree, fakeOrders, fakeRequests, newSymbol, requestMark } from "./fake";

async function restingOrder(trader: Trader, order: Record<string, unknown>): Promise<string> {
  const res = await submit(trader, order);
  expect(res.status).toBe(201);
  const { id } = await json<{ id: string }>(res);
  await eventually(() => auditOf(trader, id), (t) => t.some((a) => a.action === "EXECUTED"));
  return id;
}

const cancel = (trader: Trader, id: string) => call(`/api/v1/orders/${id}/cancel`, { method: "POST", token: trader.token });

describe("seed scenario 7 on Alpaca: a trader cancels a working order", () => {
  it("cancels a resting LIMIT BUY 100 AAPL @ 140.00 at Alpaca, audits it and gives the reserved cash back", async () => {
    const trader = await newTrader(20_000);
    const id = await restingOrder(trader, { symbol: "AAPL", quantity: 100, order_type: "LIMIT", price: 140 });
    expect(await getOrder(trader, id)).toMatchObject({ status: "PENDING", filled_quantity: 0, price: 140 });
    // Alpaca accepts the order, then routes it ("new") a moment later.
    const [atAlpaca] = await eventually(() => fakeOrders(id), (orders) => orders[0]?.order.status === "new", 15_000);
    expect(atAlpaca!.order).toMatchObject({ client_order_id: id, status: "new", limit_price: "140.00", qty: "100" });

    const mark = await requestMark();
    const res = await cancel(trader, id);
    expect(res.status).toBe(200);
    expect(await json(res)).toMatchObject({ id, status: "CANCELLED", filled_quantity: 0 });
    expect((await fakeRequests(mark)).some((r) => r.method === "DELETE" && r.path === `/v2/orders/${atAlpaca!.order.id}` && r.status === 204)).toBe(true);
    // Alpaca answers the DELETE with pending_cancel and reports canceled a moment later.
    const [ended] = await eventually(() => fakeOrders(id), (orders) => orders[0]?.order.status !== "pending_cancel", 15_000);
    expect(ended!.order.status).toBe("canceled");

    const trail = await auditOf(trader, id);
    expect(trail.map((a) => a.action)).toEqual(["SUBMITTED", "APPROVED", "EXECUTED", "CANCELLED"]);
    expect(trail.at(-1)).toMatchObject({ status: "CANCELLED", reason: "User requested cancellation" });
    expect(await json(await call("/api/v1/account", { token: trader.token }))).toMatchObject({ cash: 20_000, reserved: 0, buying_power: 20_000 });
    const log = await eventually(
      () => env.DB.prepare("SELECT reason FROM execution_logs WHERE order_id = ? AND action = 'CANCELLED'").bind(id).all<{ reason: string }>(),
      (r) => r.results.length > 0,
    );
    expect(log.results).toEqual([{ reason: "User requested cancellation" }]);
  });

  it("answers a second cancel with 409 ORDER_NOT_CANCELLABLE, sending nothing more to Alpaca", async () => {
    const trader = await newTrader(20_000);
    const id = await restingOrder(trader, { symbol: "AAPL", quantity: 100, order_type: "LIMIT", price: 140 });
    expect((await cancel(trader, id)).status).toBe(200);
    const mark = await requestMark();
    const again = await cancel(trader, id);
    expect(again.status).toBe(409);
    expect(await json(again)).toMatchObject({ error: "ORDER_NOT_CANCELLABLE" });
    expect((await fakeRequests(mark)).filter((r) => r.method === "DELETE")).toEqual([]);
  });

  it("refuses to cancel an order Alpaca filled, keeping the fill", async () => {
    const trader = await newTrader(20_000);
    const { id } = await json<{ id: string }>(await submit(trader, { symbol: "AAPL", quantity: 10, order_type: "MARKET" }));
    await untilStatus(trader, id, "FILLED");
    const res = await cancel(trader, id);
    expect(res.status).toBe(409);
    expect(await getOrder(trader, id)).toMatchObject({ status: "FILLED", filled_quantity: 10 });
  });

  it("does not call an order cancelled while its POST is still on its way: 503, then the cancel lands at Alpaca", async () => {
    const symbol = await newSymbol(100, { faults: { slow_first_attempts: 5, slow_ms: 800 } });
    const trader = await newTrader(20_000);
    const { id } = await json<{ id: string }>(await submit(trader, { symbol, quantity: 10, order_type: "LIMIT", price: 95 }));
    await eventually(() => auditOf(trader, id), (t) => t.some((a) => a.error_code === "TIMEOUT"));

    // "Alpaca does not know it" proves nothing while a POST of it may still land: the cancel waits for it.
    const res = await cancel(trader, id);
    expect(res.status).toBe(503);
    expect(await json(res)).toMatchObject({ error: "VENUE_UNAVAILABLE" });
    // The POST lands; the cancel that waited for it cancels it there, and the desk hears it.
    await eventually(() => fakeOrders(id), (o) => o[0]?.order.status === "canceled", 5000);
    await untilStatus(trader, id, "CANCELLED");
    expect(await getOrder(trader, id)).toMatchObject({ status: "CANCELLED", fills: [] });
    expect(await json(await call("/api/v1/account", { token: trader.token }))).toMatchObject({ cash: 20_000, reserved: 0 });
  });

  it("never ends a marketable order cancelled while its POST was on its way before Alpaca has answered it: what traded is booked", async () => {
    const symbol = await newSymbol(100, { faults: { slow_first_attempts: 1, slow_ms: 150 } });
    const trader = await newTrader(20_000);
    const { id } = await json<{ id: string }>(await submit(trader, { symbol, quantity: 10, order_type: "MARKET" }));
    const res = await cancel(trader, id); // while the POST is still on its way
    expect([200, 409, 503], await res.clone().text()).toContain(res.status);
    // Cancelled at Alpaca before it traded, or filled first: either way the desk and Alpaca agree.
    const ended = await untilStatus(trader, id, "FILLED", "CANCELLED");
    await new Promise((r) => setTimeout(r, 300)); // anything Alpaca still does to it has reached the desk
    await expectFillsAgree(trader, id);
    const held = ended.status === "FILLED" ? [{ symbol, quantity: 10 }] : [];
    expect(await json(await call("/api/v1/account", { token: trader.token }))).toMatchObject({ reserved: 0, positions: held });
  });

  it("cancels an order whose POSTs keep getting lost: CANCELLED, never at Alpaca, nothing traded", async () => {
    const symbol = await newSymbol(100, { faults: { timeout_first_attempts: 10, hang_ms: 500 } });
    const trader = await newTrader(20_000);
    const { id } = await json<{ id: string }>(await submit(trader, { symbol, quantity: 100, order_type: "MARKET" }));
    await eventually(() => auditOf(trader, id), (t) => t.some((a) => a.error_code === "TIMEOUT"));

    // A cancel is not answered CANCELLED while a POST of the order is on its way (they hang 500 ms, then are
    // dropped): 503 then, and the cancel goes on once it is dropped; asked again, 200 (or 409, already done).
    const res = await eventually(() => cancel(trader, id), (r) => r.status !== 503, 8000);
    expect([200, 409]).toContain(res.status);
    await untilStatus(trader, id, "CANCELLED");
    expect((await auditOf(trader, id)).map((a) => a.action)).not.toContain("RECOVERED");
    expect(await fakeOrders(id)).toEqual([]);
    expect(await json(await call("/api/v1/account", { token: trader.token }))).toMatchObject({ cash: 20_000, reserved: 0, positions: [] });
  });
});
