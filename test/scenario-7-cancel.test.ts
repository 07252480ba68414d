import { env } from "cloudflare:workers";
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { auditOf, call, eventually, getOrder, json, newInstrument, newTrader, setFaults, submit, untilStatus, type Trader } from "./helpers/api";

/** Submits and waits until the venue has accepted the order (it rests there, PENDING). */
async function restingOrder(trader: Trader, order: Record<string, unknown>): Promise<string> {
  const res = await submit(trader, order);
  expect(res.status).toBe(201);
  const { id } = await json<{ id: string }>(res);
  await eventually(() => auditOf(trader, id), (trail) => trail.some((a) => a.action === "EXECUTED"));
  return id;
}

const cancel = (trader: Trader, id: string) => call(`/api/v1/orders/${id}/cancel`, { method: "POST", token: trader.token });

describe("seed scenario 7: a trader cancels a working order", () => {
  it("cancels a resting LIMIT BUY 100 AAPL @ 140.00, audits it and gives the reserved cash back", async () => {
    const trader = await newTrader(20_000);
    const id = await restingOrder(trader, { symbol: "AAPL", quantity: 100, order_type: "LIMIT", price: 140 });
    expect(await getOrder(trader, id)).toMatchObject({ status: "PENDING", filled_quantity: 0, price: 140 });
    expect(await json(await call("/api/v1/account", { token: trader.token }))).toMatchObject({ cash: 20_000, reserved: 14_000, buying_power: 6_000 });

    const res = await cancel(trader, id);
    expect(res.status).toBe(200);
    expect(await json(res)).toMatchObject({ id, status: "CANCELLED", filled_quantity: 0 });

    expect(await getOrder(trader, id)).toMatchObject({ status: "CANCELLED", fills: [] });
    const trail = await auditOf(trader, id);
    expect(trail.map((a) => a.action)).toEqual(["SUBMITTED", "APPROVED", "EXECUTED", "CANCELLED"]);
    expect(trail.at(-1)).toMatchObject({ action: "CANCELLED", status: "CANCELLED", reason: "User requested cancellation" });
    expect(await json(await call("/api/v1/account", { token: trader.token }))).toMatchObject({ cash: 20_000, reserved: 0, buying_power: 20_000, positions: [] });

    // The system of record agrees once the outbox has flushed.
    const d1 = await eventually(
      () => env.DB.prepare("SELECT status FROM orders WHERE id = ?").bind(id).first<{ status: string }>(),
      (row) => row?.status === "CANCELLED",
    );
    expect(d1).toEqual({ status: "CANCELLED" });
    const log = await eventually(
      () => env.DB.prepare("SELECT reason FROM execution_logs WHERE order_id = ? AND action = 'CANCELLED'").bind(id).all<{ reason: string }>(),
      (r) => r.results.length > 0,
    );
    expect(log.results).toEqual([{ reason: "User requested cancellation" }]);
  });

  it("answers a second cancel of the same order with 409 ORDER_NOT_CANCELLABLE and changes nothing", async () => {
    const trader = await newTrader(20_000);
    const id = await restingOrder(trader, { symbol: "AAPL", quantity: 100, order_type: "LIMIT", price: 140 });
    expect((await cancel(trader, id)).status).toBe(200);

    const again = await cancel(trader, id);
    expect(again.status).toBe(409);
    expect(await json(again)).toMatchObject({ error: "ORDER_NOT_CANCELLABLE", message: expect.stringContaining("CANCELLED") });
    expect((await auditOf(trader, id)).filter((a) => a.action === "CANCELLED")).toHaveLength(1);
  });

  it("refuses to cancel a FILLED order with 409, keeping the fill", async () => {
    const trader = await newTrader(20_000);
    const { id } = await json<{ id: string }>(await submit(trader, { symbol: "AAPL", quantity: 10, order_type: "MARKET" }));
    await untilStatus(trader, id, "FILLED");

    const res = await cancel(trader, id);
    expect(res.status).toBe(409);
    expect(await json(res)).toMatchObject({ error: "ORDER_NOT_CANCELLABLE", details: { order_id: id, status: "FILLED" } });
    expect(await getOrder(trader, id)).toMatchObject({ status: "FILLED", filled_quantity: 10, fills: [expect.objectContaining({ quantity_filled: 10 })] });
    expect((await auditOf(trader, id)).map((a) => a.action)).not.toContain("CANCELLED");
  });

  it("answers 404 when another trader tries to cancel the order, and the order keeps working", async () => {
    const owner = await newTrader(20_000);
    const id = await restingOrder(owner, { symbol: "AAPL", quantity: 100, order_type: "LIMIT", price: 140 });
    const stranger = await newTrader(1_000);

    const res = await cancel(stranger, id);
    expect(res.status).toBe(404);
    expect(await json(res)).toMatchObject({ error: "ORDER_NOT_FOUND" });
    expect(await getOrder(owner, id)).toMatchObject({ status: "PENDING" });
  });

  it("stops the retries of an order the venue keeps timing out on: CANCELLED by the user, never REJECTED, nothing traded", async () => {
    const symbol = await newInstrument(100);
    expect((await setFaults(symbol, { timeout_first_attempts: 10 })).status).toBe(200);
    const trader = await newTrader(20_000);
    const { id } = await json<{ id: string }>(await submit(trader, { symbol, quantity: 100, order_type: "MARKET" }));
    await eventually(() => auditOf(trader, id), (t) => t.some((a) => a.error_code === "TIMEOUT"));

    const res = await cancel(trader, id);
    expect(res.status).toBe(200);
    expect(await json(res)).toMatchObject({ id, status: "CANCELLED" });

    // No retry is left scheduled: running the desk's alarm now changes nothing.
    const desk = env.TRADER.get(env.TRADER.idFromName(trader.id));
    const pending = await runInDurableObject(desk, (_i, state) =>
      state.storage.sql.exec<{ next_attempt_at: number | null }>("SELECT next_attempt_at FROM orders WHERE id = ?", id).one().next_attempt_at,
    );
    expect(pending).toBeNull();
    await runDurableObjectAlarm(desk);

    const order = await getOrder(trader, id);
    expect(order).toMatchObject({ status: "CANCELLED", filled_quantity: 0, fills: [] });
    const trail = await auditOf(trader, id);
    expect(trail.at(-1)).toMatchObject({ action: "CANCELLED", reason: "User requested cancellation" });
    expect(trail.map((a) => a.action)).not.toContain("REJECTED");
    // The venue never accepted this order, so the trail must not claim it did.
    expect(trail.map((a) => a.action).filter((a) => a === "RECOVERED" || a === "APPROVED")).toEqual([]);
    expect(await json(await call("/api/v1/account", { token: trader.token }))).toMatchObject({ cash: 20_000, reserved: 0, positions: [] });
    const book = await runInDurableObject(env.VENUE.get(env.VENUE.idFromName(symbol)), (_i, state) =>
      state.storage.sql.exec<{ state: string; filled: number }>("SELECT state, filled FROM orders WHERE key = ?", id).toArray(),
    );
    expect(book).toEqual([{ state: "CANCELLED", filled: 0 }]);
  });
});
