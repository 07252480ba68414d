// Amends on Alpaca: PATCH /v2/orders/{id} makes a new Alpaca order (new id) that the fillwire order goes on
// as; its fills are the order's fills, and an amend Alpaca does not apply leaves the order as it was.
import { afterEach, describe, expect, it } from "vitest";
import { auditOf, call, eventually, getOrder, json, newTrader, submit, untilStatus, type Trader } from "../helpers/api";
import { expectFillsAgree, fakeOrders, newSymbol, setAccountFaults, setSymbol } from "./fake";

afterEach(() => setAccountFaults({ fail_next: [], replace_generates_client_order_id: false }));

const amend = (trader: Trader, id: string, body: Record<string, unknown>) => call(`/api/v1/orders/${id}`, { method: "PATCH", token: trader.token, body });

async function resting(trader: Trader, order: Record<string, unknown>): Promise<string> {
  const { id } = await json<{ id: string }>(await submit(trader, order));
  await eventually(() => auditOf(trader, id), (t) => t.some((a) => a.action === "EXECUTED"));
  return id;
}

describe("amending an order at Alpaca", () => {
  it("replaces the order at Alpaca (a new Alpaca order, linked), and the replacement's fills are the order's", async () => {
    const symbol = await newSymbol(100);
    const trader = await newTrader(20_000);
    const id = await resting(trader, { symbol, quantity: 100, order_type: "LIMIT", price: 95 });

    const res = await amend(trader, id, { price: 96 });
    expect(res.status).toBe(200);
    expect(await json(res)).toMatchObject({ id, price: 96, quantity: 100, status: "PENDING", amended_at: expect.any(String) });
    const chain = await fakeOrders(id);
    expect(chain.map((o) => [o.order.client_order_id, o.order.status, o.order.limit_price])).toEqual([
      [id, "replaced", "95.00"], [`${id}-a1`, expect.stringMatching(/^(accepted|new)$/), "96.00"],
    ]);
    expect(chain[1]!.order.replaces).toBe(chain[0]!.order.id);
    expect((await auditOf(trader, id)).at(-1)).toMatchObject({ action: "REPLACED", reason: expect.stringContaining("$95.00 → $96.00") });

    await setSymbol(symbol, { price: 96 });
    const filled = await untilStatus(trader, id, "FILLED");
    expect(filled.fills.map((f) => [f.quantity_filled, f.price_at_fill])).toEqual([[100, 96]]);
    await expectFillsAgree(trader, id);
    expect(await json(await call("/api/v1/account", { token: trader.token }))).toMatchObject({ cash: 10_400, reserved: 0 });
  });

  it("keeps the link when Alpaca gives the replacement a client_order_id of its own", async () => {
    await setAccountFaults({ replace_generates_client_order_id: true });
    const symbol = await newSymbol(100);
    const trader = await newTrader(20_000);
    const id = await resting(trader, { symbol, quantity: 10, order_type: "LIMIT", price: 95 });
    expect((await amend(trader, id, { price: 96 })).status).toBe(200);
    const chain = await fakeOrders(id);
    expect(chain).toHaveLength(1); // the replacement is not named after the order any more
    await setSymbol(symbol, { price: 96 });
    const filled = await untilStatus(trader, id, "FILLED");
    expect(filled.fills.map((f) => [f.quantity_filled, f.price_at_fill])).toEqual([[10, 96]]);
  });

  it("after a partial fill, asks Alpaca for only what is left (its replacement is a new order for that many)", async () => {
    const symbol = await newSymbol(100, { depth: 50 });
    const trader = await newTrader(20_000);
    const { id } = await json<{ id: string }>(await submit(trader, { symbol, quantity: 100, order_type: "LIMIT", price: 100 }));
    await eventually(() => getOrder(trader, id), (o) => o.filled_quantity === 50);

    const res = await amend(trader, id, { quantity: 80 });
    expect(res.status).toBe(200);
    const chain = await fakeOrders(id);
    expect(chain.map((o) => [o.order.status, o.order.qty, o.order.filled_qty])).toEqual([["replaced", "100", "50"], [expect.stringMatching(/^(accepted|new)$/), "30", "0"]]);

    await setSymbol(symbol, { price: 99.5 });
    const filled = await untilStatus(trader, id, "FILLED");
    expect(filled).toMatchObject({ quantity: 80, filled_quantity: 80 });
    await expectFillsAgree(trader, id);
  });

  it("settles an amend whose answer was lost by asking Alpaca: the replacement's client_order_id names the amend", async () => {
    const symbol = await newSymbol(100);
    const trader = await newTrader(20_000);
    const id = await resting(trader, { symbol, quantity: 10, order_type: "LIMIT", price: 95 });
    await setAccountFaults({ fail_next: [{ method: "PATCH", status: 500, after_effect: true }] });

    const res = await amend(trader, id, { price: 97 });
    expect([200, 503]).toContain(res.status);
    await eventually(() => getOrder(trader, id), (o) => o.price === 97);
    expect((await fakeOrders(id)).map((o) => o.order.client_order_id)).toEqual([id, `${id}-a1`]);
    expect((await auditOf(trader, id)).filter((a) => a.action === "REPLACED")).toHaveLength(1);
  });

  it("leaves the order as it was when Alpaca refuses the replace (409 ORDER_NOT_AMENDABLE), the extra hold given back", async () => {
    const symbol = await newSymbol(100);
    const trader = await newTrader(20_000);
    const id = await resting(trader, { symbol, quantity: 10, order_type: "LIMIT", price: 95 });
    const before = await json<{ reserved: number }>(await call("/api/v1/account", { token: trader.token }));
    await setAccountFaults({ fail_next: [{ method: "PATCH", status: 422, message: "order is not replaceable" }] });

    const res = await amend(trader, id, { quantity: 20 });
    expect(res.status).toBe(409);
    // Alpaca's reason reaches the trader, in the message and in details.venue_reason.
    const body = await json<{ error: string; message: string; details: { venue_reason?: string } }>(res);
    expect(body).toMatchObject({ error: "ORDER_NOT_AMENDABLE", details: { venue_reason: "Rejected by Alpaca (HTTP 422): order is not replaceable" } });
    expect(body.message).toContain("order is not replaceable");
    expect(await getOrder(trader, id)).toMatchObject({ quantity: 10, price: 95, status: "PENDING" });
    expect(await json(await call("/api/v1/account", { token: trader.token }))).toMatchObject({ reserved: before.reserved });
    const atAlpaca = await eventually(() => fakeOrders(id), (orders) => orders[0]?.order.status !== "accepted", 15_000);
    expect(atAlpaca.map((o) => o.order.status)).toEqual(["new"]); // routed, never replaced
  });

  it("says why when the amend is one Alpaca cannot take (a trailing stop switched from a price to a percent trail)", async () => {
    const symbol = await newSymbol(100);
    const trader = await newTrader(0, [{ symbol, quantity: 10, avg_price: 90 }]);
    const id = await resting(trader, { symbol, side: "SELL", quantity: 10, order_type: "TRAILING_STOP", trail_price: 2, time_in_force: "GTC" });
    const res = await amend(trader, id, { trail_percent: 2 });
    expect(res.status).toBe(409);
    expect(await json(res)).toMatchObject({
      error: "ORDER_NOT_AMENDABLE", details: { venue_reason: "Alpaca cannot switch a trailing stop between trail_price and trail_percent" },
    });
    expect(await getOrder(trader, id)).toMatchObject({ trail_price: 2, trail_percent: null, status: "PENDING" });
  });
});
