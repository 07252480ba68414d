import { describe, expect, it } from "vitest";
import { asTrader, auditOf, call, json, submit, untilStatus } from "./helpers/api";

describe("seed scenario 2: a market order fills at once", () => {
  it("buys 100 AAPL for alice at 150.00 and records order, fill and four audit rows", async () => {
    const alice = await asTrader("alice");
    const res = await submit(alice, { symbol: "AAPL", quantity: 100, order_type: "MARKET" });
    expect(res.status).toBe(201);
    const order = await json<{ id: string; status: string; side: string; time_in_force: string }>(res);
    expect(order).toMatchObject({ status: "PENDING", side: "BUY", time_in_force: "DAY" });

    const filled = await untilStatus(alice, order.id, "FILLED");
    expect(filled).toMatchObject({ filled_quantity: 100, avg_fill_price: 150 });
    expect(filled.fills).toEqual([expect.objectContaining({ quantity_filled: 100, price_at_fill: 150 })]);

    const account = await json(await call("/api/v1/account", { token: alice.token }));
    expect(account).toMatchObject({ cash: 0, reserved: 0, buying_power: 0, positions: [{ symbol: "AAPL", quantity: 100, avg_price: 150 }] });

    expect((await auditOf(alice, order.id)).map((a) => [a.action, a.status])).toEqual([
      ["SUBMITTED", "PENDING"], ["APPROVED", "PENDING"], ["EXECUTED", "PENDING"], ["FILLED", "FILLED"],
    ]);
  });
});
