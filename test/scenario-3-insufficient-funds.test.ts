import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { asTrader, call, eventually, json, submit, untilStatus } from "./helpers/api";

const d1Count = async (sql: string, ...args: string[]) =>
  (await env.DB.prepare(sql).bind(...args).first<{ n: number }>())?.n;

describe("seed scenario 3: an order beyond the trader's funds is refused", () => {
  it("answers bob's 100 AAPL market buy with 400 INSUFFICIENT_FUNDS and the seed's exact message", async () => {
    const bob = await asTrader("bob");
    const res = await submit(bob, { symbol: "AAPL", quantity: 100, order_type: "MARKET" });

    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      error: "INSUFFICIENT_FUNDS",
      message: "Insufficient funds for $15,000.00 order; available: $5,000.00",
      details: { required_balance: 15000, available_balance: 5000 },
    });
  });

  it("writes nothing anywhere for the refused order: no order, no audit row, no reservation", async () => {
    const bob = await asTrader("bob");
    expect((await submit(bob, { symbol: "AAPL", quantity: 100, order_type: "MARKET" })).status).toBe(400);

    expect(await json(await call("/api/v1/orders", { token: bob.token }))).toEqual({ data: [], next_cursor: null });
    expect(await json(await call("/api/v1/account", { token: bob.token }))).toMatchObject({ cash: 5000, reserved: 0, buying_power: 5000, positions: [] });

    // A later order bob can afford goes through the same outbox: once it is in D1, anything the refused
    // order had queued would be there too.
    const ok = await submit(bob, { symbol: "AAPL", quantity: 10, order_type: "MARKET" });
    expect(ok.status).toBe(201);
    const { id } = await json<{ id: string }>(ok);
    await untilStatus(bob, id, "FILLED");
    const flushed = async () => d1Count("SELECT COUNT(*) AS n FROM execution_logs WHERE order_id = ? AND action = 'FILLED'", id);
    await eventually(flushed, (n) => n === 1);

    expect(await d1Count("SELECT COUNT(*) AS n FROM orders WHERE trader_id = ?", "bob")).toBe(1);
    expect(await d1Count("SELECT COUNT(*) AS n FROM orders WHERE trader_id = ? AND id != ?", "bob", id)).toBe(0);
    expect(await d1Count("SELECT COUNT(*) AS n FROM execution_logs WHERE trader_id = ? AND order_id != ?", "bob", id)).toBe(0);
    expect(await d1Count("SELECT COUNT(*) AS n FROM fills WHERE trader_id = ? AND order_id != ?", "bob", id)).toBe(0);
    const list = await json<{ data: { id: string }[] }>(await call("/api/v1/orders", { token: bob.token }));
    expect(list.data.map((o) => o.id)).toEqual([id]);
  });
});
