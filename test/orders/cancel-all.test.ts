// Cancel all (DELETE /api/v1/orders[?symbol&side]) answers one result per working order, each exactly as
// a single cancel; a venue that does not confirm one does not stop the others. And the lookup by the
// client's own order id.
import { afterEach, describe, expect, it } from "vitest";
import { auditOf, call, eventually, getOrder, json, newInstrument, newTrader, setFaults, submit, untilStatus, type Trader } from "../helpers/api";
import { closeAll, connect } from "../helpers/socket";
import type { Order } from "../../worker/shared/orders";

afterEach(closeAll);

interface Outcome {
  id: string;
  status: number;
  order: Order | null;
  error: { error: string; message: string } | null;
}
const cancelAll = async (t: Trader, query = "") => call(`/api/v1/orders${query}`, { method: "DELETE", token: t.token });
const account = async (t: Trader) => json<{ cash: number; reserved: number; positions: { quantity: number }[] }>(await call("/api/v1/account", { token: t.token }));

async function resting(trader: Trader, order: Record<string, unknown>): Promise<string> {
  const res = await submit(trader, { time_in_force: "GTC", ...order });
  expect(res.status, await res.clone().text()).toBe(201);
  const { id } = await json<{ id: string }>(res);
  await eventually(() => auditOf(trader, id), (t) => t.some((a) => a.action === "EXECUTED"));
  return id;
}

describe("cancel all", () => {
  it("cancels only the symbol and side asked for, then everything, one result each", async () => {
    const [a, b] = [await newInstrument(100), await newInstrument(200)];
    const trader = await newTrader(100_000, [{ symbol: a, quantity: 10, avg_price: 100 }]);
    const buyA = await resting(trader, { symbol: a, quantity: 10, order_type: "LIMIT", price: 95 });
    const sellA = await resting(trader, { symbol: a, side: "SELL", quantity: 10, order_type: "LIMIT", price: 105 });
    const buyB = await resting(trader, { symbol: b, quantity: 10, order_type: "LIMIT", price: 190 });
    const { id: filled } = await json<{ id: string }>(await submit(trader, { symbol: a, quantity: 1, order_type: "MARKET" }));
    await untilStatus(trader, filled, "FILLED");

    const first = await cancelAll(trader, `?symbol=${a}&side=BUY`);
    expect(first.status).toBe(200);
    const one = (await json<{ data: Outcome[] }>(first)).data;
    expect(one.map((o) => [o.id, o.status, o.order?.status])).toEqual([[buyA, 200, "CANCELLED"]]);

    const rest = (await json<{ data: Outcome[] }>(await cancelAll(trader))).data;
    expect(rest.map((o) => [o.id, o.status, o.order?.status]).sort()).toEqual([[buyB, 200, "CANCELLED"], [sellA, 200, "CANCELLED"]].sort());
    expect((await json<{ data: Outcome[] }>(await cancelAll(trader))).data).toEqual([]);
    expect(await account(trader)).toMatchObject({ reserved: 0 });
    expect(await getOrder(trader, filled)).toMatchObject({ status: "FILLED" });
  });

  it("reports 503 for the order whose venue does not confirm, cancels the others, and tells the stream", async () => {
    const [fast, slow] = [await newInstrument(100), await newInstrument(100)];
    const trader = await newTrader(100_000);
    const socket = await connect({ token: trader.token });
    const onFast = await resting(trader, { symbol: fast, quantity: 10, order_type: "LIMIT", price: 95 });
    const onSlow = await resting(trader, { symbol: slow, quantity: 10, order_type: "LIMIT", price: 95 });
    expect((await setFaults(slow, { latency_ms: 1_000 })).status).toBe(200); // beyond the desk's venue timeout (300 ms in tests)

    const data = (await json<{ data: Outcome[] }>(await cancelAll(trader))).data;
    const byId = new Map(data.map((o) => [o.id, o]));
    expect(byId.get(onFast)).toMatchObject({ status: 200, order: { status: "CANCELLED" }, error: null });
    expect(byId.get(onSlow)).toMatchObject({ status: 503, order: null, error: { error: "VENUE_UNAVAILABLE" } });
    const rejected = await socket.untilEvent(onSlow, "order.cancel_rejected");
    expect(rejected.at(-1)!.reason).toMatch(/did not confirm/);
    // The venue cancels it late and says so: the desk ends it, and its reservation comes back.
    await untilStatus(trader, onSlow, "CANCELLED");
    expect(await account(trader)).toMatchObject({ reserved: 0 });
    await setFaults(slow, {});
  });

  it("refuses a bad filter with VALIDATION_ERROR", async () => {
    const trader = await newTrader(1_000);
    for (const q of ["?side=SHORT", "?symbol=aapl"]) {
      const res = await cancelAll(trader, q);
      expect(res.status).toBe(400);
      expect(await json(res)).toMatchObject({ error: "VALIDATION_ERROR" });
    }
  });
});

describe("an order by its client_order_id", () => {
  it("finds one's own order with its fills, and answers 404 for an unknown id or another trader's", async () => {
    const trader = await newTrader(20_000);
    const other = await newTrader(20_000);
    const { id } = await json<{ id: string }>(await submit(trader, { symbol: "AAPL", quantity: 2, order_type: "MARKET", client_order_id: "my-order-7" }));
    await untilStatus(trader, id, "FILLED");
    const res = await call("/api/v1/orders/by-client-id/my-order-7", { token: trader.token });
    expect(res.status).toBe(200);
    expect(await json(res)).toMatchObject({ id, client_order_id: "my-order-7", status: "FILLED", fills: [{ quantity_filled: 2 }] });
    for (const [t, coid] of [[trader, "nope"], [other, "my-order-7"]] as const) {
      const missing = await call(`/api/v1/orders/by-client-id/${coid}`, { token: t.token });
      expect(missing.status).toBe(404);
      expect(await json(missing)).toMatchObject({ error: "ORDER_NOT_FOUND" });
    }
  });
});
