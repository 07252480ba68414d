import { env } from "cloudflare:workers";
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { auditOf, call, eventually, json, newTrader, submit, untilStatus, type Trader } from "../helpers/api";

const deskOf = (trader: Trader) => env.TRADER.get(env.TRADER.idFromName(trader.id));

const expiresAt = (trader: Trader, id: string) =>
  runInDurableObject(deskOf(trader), (_instance, state) =>
    state.storage.sql.exec<{ expires_at: number | null }>("SELECT expires_at FROM orders WHERE id = ?", id).one().expires_at,
  );

async function place(trader: Trader, order: Record<string, unknown>): Promise<string> {
  const res = await submit(trader, order);
  expect(res.status).toBe(201);
  return (await json<{ id: string }>(res)).id;
}

/** Waits until the venue has taken the order (EXECUTED in the audit): it now rests there. */
const untilAccepted = (trader: Trader, id: string) => eventually(() => auditOf(trader, id), (t) => t.some((a) => a.action === "EXECUTED"));

const account = async (trader: Trader) => json<{ cash: number; reserved: number; buying_power: number }>(await call("/api/v1/account", { token: trader.token }));

describe("time in force", () => {
  it("IOC fills what the book has within the limit and cancels the rest, naming IOC", async () => {
    const trader = await newTrader(20_000);
    const id = await place(trader, { symbol: "TEST_PARTIAL", quantity: 100, order_type: "LIMIT", price: 150, time_in_force: "IOC" });

    const order = await untilStatus(trader, id, "CANCELLED", "FILLED", "REJECTED");
    expect(order).toMatchObject({ status: "CANCELLED", filled_quantity: 50, avg_fill_price: 150, time_in_force: "IOC" });
    expect(order.reason).toMatch(/IOC/);
    expect(order.fills.map((f) => [f.quantity_filled, f.price_at_fill])).toEqual([[50, 150]]);
    const trail = await auditOf(trader, id);
    expect(trail.map((a) => a.action)).toEqual(["SUBMITTED", "APPROVED", "EXECUTED", "PARTIAL", "CANCELLED"]);
    expect(trail.at(-1)?.reason).toMatch(/IOC/);
    expect(await account(trader)).toMatchObject({ cash: 12_500, reserved: 0, buying_power: 12_500 });
  });

  it("FOK that cannot fill completely within the limit trades nothing and is cancelled", async () => {
    const trader = await newTrader(20_000);
    const id = await place(trader, { symbol: "TEST_PARTIAL", quantity: 100, order_type: "LIMIT", price: 150, time_in_force: "FOK" });

    const order = await untilStatus(trader, id, "CANCELLED", "FILLED", "REJECTED");
    expect(order).toMatchObject({ status: "CANCELLED", filled_quantity: 0, avg_fill_price: null, fills: [] });
    expect(order.reason).toMatch(/FOK/);
    expect((await auditOf(trader, id)).map((a) => a.action)).toEqual(["SUBMITTED", "APPROVED", "EXECUTED", "CANCELLED"]);
    expect(await account(trader)).toMatchObject({ cash: 20_000, reserved: 0, buying_power: 20_000 });
  });

  it("FOK that the book can fill completely fills", async () => {
    const trader = await newTrader(20_000);
    const id = await place(trader, { symbol: "TEST_PARTIAL", quantity: 50, order_type: "LIMIT", price: 150, time_in_force: "FOK" });

    const order = await untilStatus(trader, id, "CANCELLED", "FILLED", "REJECTED");
    expect(order).toMatchObject({ status: "FILLED", filled_quantity: 50, avg_fill_price: 150 });
    expect(order.fills.map((f) => [f.quantity_filled, f.price_at_fill])).toEqual([[50, 150]]);
    expect(await account(trader)).toMatchObject({ cash: 12_500, reserved: 0 });
  });

  it("expires a resting DAY order at the session close, with an EXPIRED audit row, and releases its cash", async () => {
    const trader = await newTrader(20_000);
    const id = await place(trader, { symbol: "AAPL", quantity: 100, order_type: "LIMIT", price: 140, time_in_force: "DAY" });
    await untilAccepted(trader, id);
    expect(await expiresAt(trader, id)).toEqual(expect.any(Number));
    expect(await account(trader)).toMatchObject({ reserved: 14_000 });

    // Bring the session close forward to the past, then let the desk's alarm run now.
    const desk = deskOf(trader);
    await runInDurableObject(desk, (_instance, state) => {
      state.storage.sql.exec("UPDATE orders SET expires_at = 0 WHERE id = ?", id);
    });
    expect(await runDurableObjectAlarm(desk)).toBe(true);

    const order = await untilStatus(trader, id, "EXPIRED", "CANCELLED", "FILLED", "REJECTED");
    expect(order).toMatchObject({ status: "EXPIRED", filled_quantity: 0, fills: [] });
    const trail = await auditOf(trader, id);
    expect(trail.map((a) => a.action)).toEqual(["SUBMITTED", "APPROVED", "EXECUTED", "EXPIRED"]);
    expect(trail.at(-1)).toMatchObject({ status: "EXPIRED", reason: expect.stringMatching(/\S/) });
    expect(await account(trader)).toMatchObject({ cash: 20_000, reserved: 0, buying_power: 20_000 });
    // The venue closed it too: a later price move through 140.00 cannot fill it.
    const book = await runInDurableObject(env.VENUE.get(env.VENUE.idFromName("AAPL")), (_instance, state) =>
      state.storage.sql.exec<{ state: string }>("SELECT state FROM orders WHERE key = ?", id).one().state,
    );
    expect(book).toBe("EXPIRED");
  });

  it("expires the unfilled rest of a partly filled DAY order, keeping its fill and releasing the rest of the cash", async () => {
    const trader = await newTrader(20_000);
    const id = await place(trader, { symbol: "TEST_PARTIAL", quantity: 100, order_type: "LIMIT", price: 150 });
    await untilStatus(trader, id, "PARTIAL");

    const desk = deskOf(trader);
    await runInDurableObject(desk, (_instance, state) => {
      state.storage.sql.exec("UPDATE orders SET expires_at = 0 WHERE id = ?", id);
    });
    expect(await runDurableObjectAlarm(desk)).toBe(true);

    const order = await untilStatus(trader, id, "EXPIRED", "CANCELLED", "FILLED", "REJECTED");
    expect(order).toMatchObject({ status: "EXPIRED", filled_quantity: 50, avg_fill_price: 150 });
    expect(order.fills.map((f) => [f.quantity_filled, f.price_at_fill])).toEqual([[50, 150]]);
    expect((await auditOf(trader, id)).map((a) => a.action)).toEqual(["SUBMITTED", "APPROVED", "EXECUTED", "PARTIAL", "EXPIRED"]);
    expect(await account(trader)).toMatchObject({ cash: 12_500, reserved: 0, buying_power: 12_500 });
  });

  it("gives a GTC order no expiry: it keeps resting", async () => {
    const trader = await newTrader(20_000);
    const id = await place(trader, { symbol: "AAPL", quantity: 100, order_type: "LIMIT", price: 140, time_in_force: "GTC" });
    await untilAccepted(trader, id);

    expect(await expiresAt(trader, id)).toBeNull();
    expect(await untilStatus(trader, id, "PENDING")).toMatchObject({ status: "PENDING", time_in_force: "GTC" });
  });
});
