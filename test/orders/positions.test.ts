// Positions valued at the venue's price (market value, unrealized and realized P&L), the account's equity,
// closing a position (all, part by quantity or percentage, all positions), and the activity ledger that
// sums back to the cash balance.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { auditOf, call, eventually, getOrder, json, newInstrument, newTrader, setInstrument, submit, untilStatus, type Trader } from "../helpers/api";
import type { Account, Activity, PositionValue } from "../../worker/shared/account";
import type { Order } from "../../worker/shared/orders";

const account = async (t: Trader) => json<Account>(await call("/api/v1/account", { token: t.token }));
const positions = async (t: Trader) => (await json<{ data: PositionValue[] }>(await call("/api/v1/positions", { token: t.token }))).data;
const close = (t: Trader, symbol: string, query = "") => call(`/api/v1/positions/${symbol}${query}`, { method: "DELETE", token: t.token });

async function fill(trader: Trader, order: Record<string, unknown>): Promise<Order> {
  const res = await submit(trader, order);
  expect(res.status, await res.clone().text()).toBe(201);
  const { id } = await json<{ id: string }>(res);
  return untilStatus(trader, id, "FILLED", "CANCELLED", "REJECTED");
}

describe("positions and P&L", () => {
  it("values a position at the venue's price and moves with it; realized P&L stays with the symbol", async () => {
    const symbol = await newInstrument(100);
    const trader = await newTrader(10_000);
    await fill(trader, { symbol, quantity: 30, order_type: "MARKET" }); // 30 @ 100.00
    expect(await positions(trader)).toEqual([{
      symbol, quantity: 30, available_quantity: 30, avg_price: 100, cost_basis: 3_000, market_price: 100, market_value: 3_000,
      unrealized_pl: 0, unrealized_plpc: 0, realized_pl: 0,
    }]);
    expect((await setInstrument(symbol, { price: 110 })).status).toBe(200);
    expect(await positions(trader)).toMatchObject([{ market_price: 110, market_value: 3_300, unrealized_pl: 300, unrealized_plpc: 0.1 }]);
    await fill(trader, { symbol, side: "SELL", quantity: 10, order_type: "MARKET" }); // 10 @ 110.00: +100.00 realized
    expect(await positions(trader)).toMatchObject([{ quantity: 20, avg_price: 100, cost_basis: 2_000, market_value: 2_200, unrealized_pl: 200, realized_pl: 100 }]);
    expect(await account(trader)).toMatchObject({
      cash: 8_100, equity: 10_300, realized_pl: 100, unrealized_pl: 200, trading_state: "ACTIVE",
      positions: [{ symbol, quantity: 20, avg_price: 100, realized_pl: 100 }],
    });
  });
});

describe("closing positions", () => {
  it("closes part by quantity, part by percentage (rounded down), then the rest, each a MARKET SELL", async () => {
    const symbol = await newInstrument(50);
    const trader = await newTrader(0, [{ symbol, quantity: 100, avg_price: 40 }]);
    const byQuantity = await close(trader, symbol, "?quantity=10");
    expect(byQuantity.status).toBe(201);
    const first = await json<Order>(byQuantity);
    expect(first).toMatchObject({ symbol, side: "SELL", quantity: 10, order_type: "MARKET" });
    await untilStatus(trader, first.id, "FILLED");
    const byPct = await json<Order>(await close(trader, symbol, "?percentage=33.5"));
    expect(byPct.quantity).toBe(30); // floor(90 x 33.5%)
    await untilStatus(trader, byPct.id, "FILLED");
    const rest = await json<Order>(await close(trader, symbol));
    expect(rest.quantity).toBe(60);
    await untilStatus(trader, rest.id, "FILLED");
    expect(await positions(trader)).toEqual([]);
    expect(await account(trader)).toMatchObject({ cash: 5_000, realized_pl: 1_000, positions: [] });
    const none = await close(trader, symbol);
    expect(none.status).toBe(404);
    expect(await json(none)).toMatchObject({ error: "POSITION_NOT_FOUND" });
  });

  it("cancels the symbol's working SELLs that hold the shares, then sells them", async () => {
    const symbol = await newInstrument(50);
    const trader = await newTrader(0, [{ symbol, quantity: 40, avg_price: 40 }]);
    const { id: resting } = await json<{ id: string }>(await submit(trader, { symbol, side: "SELL", quantity: 40, order_type: "LIMIT", price: 55, time_in_force: "GTC" }));
    await eventually(() => auditOf(trader, resting), (t) => t.some((a) => a.action === "EXECUTED"));
    expect(await positions(trader)).toMatchObject([{ quantity: 40, available_quantity: 0 }]);
    const res = await close(trader, symbol);
    expect(res.status, await res.clone().text()).toBe(201);
    const order = await json<Order>(res);
    expect(await getOrder(trader, resting)).toMatchObject({ status: "CANCELLED" });
    expect(await untilStatus(trader, order.id, "FILLED")).toMatchObject({ filled_quantity: 40, avg_fill_price: 50 });
  });

  it("refuses a part outside the position with VALIDATION_ERROR naming the field", async () => {
    const symbol = await newInstrument(50);
    const trader = await newTrader(0, [{ symbol, quantity: 10, avg_price: 40 }]);
    for (const [q, field] of [["?quantity=11", "quantity"], ["?quantity=0", "quantity"], ["?percentage=0", "percentage"], ["?percentage=101", "percentage"], ["?percentage=5", "percentage"], ["?quantity=1&percentage=5", "percentage"]] as const) {
      const res = await close(trader, symbol, q);
      expect(res.status, q).toBe(400);
      expect(Object.keys((await json<{ details: { fields: Record<string, string> } }>(res)).details.fields), q).toContain(field);
    }
  });

  it("closes every position at once", async () => {
    const [a, b] = [await newInstrument(10), await newInstrument(20)];
    const trader = await newTrader(0, [{ symbol: a, quantity: 5, avg_price: 10 }, { symbol: b, quantity: 7, avg_price: 20 }]);
    const res = await call("/api/v1/positions", { method: "DELETE", token: trader.token });
    expect(res.status).toBe(200);
    const body = await json<{ data: Order[]; errors: unknown[] }>(res);
    expect(body.errors).toEqual([]);
    expect(body.data.map((o) => [o.symbol, o.quantity]).sort()).toEqual([[a, 5], [b, 7]].sort());
    for (const o of body.data) await untilStatus(trader, o.id, "FILLED");
    expect(await account(trader)).toMatchObject({ cash: 190, positions: [] });
  });
});

describe("the activity ledger", () => {
  it("lists fills and cash newest first, filters and pages, and sums back to the cash balance", async () => {
    const symbol = await newInstrument(100);
    const trader = await newTrader(5_000);
    await fill(trader, { symbol, quantity: 10, order_type: "MARKET" });
    await fill(trader, { symbol: "TEST_PARTIAL", quantity: 20, order_type: "MARKET" });
    await fill(trader, { symbol, side: "SELL", quantity: 4, order_type: "MARKET" });

    const all: Activity[] = [];
    let cursor: string | null = null;
    do {
      const page: { data: Activity[]; next_cursor: string | null } = await json(await call(`/api/v1/account/activities?limit=2${cursor ? `&cursor=${cursor}` : ""}`, { token: trader.token }));
      all.push(...page.data);
      cursor = page.next_cursor;
    } while (cursor);
    expect(all.map((a) => a.activity_type)).toEqual(["FILL", "FILL", "FILL", "CASH"]);
    expect(all.at(-1)).toMatchObject({ activity_type: "CASH", net_amount: 5_000, reason: "Opening balance" });
    expect(all[0]).toMatchObject({ activity_type: "FILL", symbol, side: "SELL", quantity: 4, price: 100, net_amount: 400, realized_pl: 0 });
    const timestamps = all.map((a) => a.timestamp);
    expect([...timestamps].sort().reverse()).toEqual(timestamps);
    const sumCents = all.reduce((n, a) => n + Math.round(a.net_amount * 100), 0);
    expect(sumCents / 100).toBe((await account(trader)).cash);

    const fills = await json<{ data: Activity[] }>(await call(`/api/v1/account/activities?activity_type=FILL&symbol=${symbol}`, { token: trader.token }));
    expect(fills.data.map((a) => [a.side, a.quantity])).toEqual([["SELL", 4], ["BUY", 10]]);
    const bad = await call("/api/v1/account/activities?activity_type=DIVIDEND", { token: trader.token });
    expect(bad.status).toBe(400);
  });
});

describe("the trading state", () => {
  const setState = async (traderId: string, body: unknown) =>
    call(`/api/v1/admin/accounts/${traderId}/trading`, { method: "PUT", token: await (await import("../helpers/auth")).sign("ops-1", "admin"), body });

  it("HALTED refuses orders and amends (403) but lets cancels work; cancel_orders cancels everything; audited with who and why", async () => {
    const symbol = await newInstrument(100);
    const trader = await newTrader(10_000, [{ symbol, quantity: 10, avg_price: 100 }]);
    const { id } = await json<{ id: string }>(await submit(trader, { symbol, quantity: 5, order_type: "LIMIT", price: 95, time_in_force: "GTC" }));
    await eventually(() => auditOf(trader, id), (t) => t.some((a) => a.action === "EXECUTED"));

    const res = await setState(trader.id, { state: "HALTED", reason: "Suspicious activity review", cancel_orders: true });
    expect(res.status, await res.clone().text()).toBe(200);
    const body = await json<{ trading_state: string; account: Account; cancelled: { id: string; status: number }[] }>(res);
    expect(body).toMatchObject({ trading_state: "HALTED", account: { trading_state: "HALTED", reserved: 0 }, cancelled: [{ id, status: 200 }] });

    for (const order of [{ symbol, quantity: 1, order_type: "MARKET" }, { symbol, side: "SELL", quantity: 1, order_type: "MARKET" }]) {
      const refused = await submit(trader, order);
      expect(refused.status).toBe(403);
      expect(await json(refused)).toMatchObject({ error: "TRADING_HALTED" });
    }
    expect(await account(trader)).toMatchObject({ trading_state: "HALTED" });
    const rows = await eventually(
      () => env.DB.prepare("SELECT action, status, reason, order_id FROM execution_logs WHERE trader_id = ? AND action = 'TRADING_STATE'").bind(trader.id).all(),
      (r) => r.results.length === 1,
    );
    expect(rows.results[0]).toMatchObject({ status: "HALTED", reason: "HALTED by ops-1: Suspicious activity review", order_id: "" });
    expect(await eventually(() => env.DB.prepare("SELECT trading_state FROM accounts WHERE trader_id = ?").bind(trader.id).first(), (r) => r?.trading_state === "HALTED")).toBeTruthy();

    expect((await setState(trader.id, { state: "ACTIVE", reason: "Review done" })).status).toBe(200);
    expect((await submit(trader, { symbol, quantity: 1, order_type: "MARKET" })).status).toBe(201);
  });

  it("REDUCE_ONLY refuses BUYs and growing amends with 400, and takes SELLs and smaller BUYs", async () => {
    const symbol = await newInstrument(100);
    const trader = await newTrader(10_000, [{ symbol, quantity: 10, avg_price: 100 }]);
    const { id } = await json<{ id: string }>(await submit(trader, { symbol, quantity: 5, order_type: "LIMIT", price: 95, time_in_force: "GTC" }));
    await eventually(() => auditOf(trader, id), (t) => t.some((a) => a.action === "EXECUTED"));
    expect((await setState(trader.id, { state: "REDUCE_ONLY", reason: "Deleveraging" })).status).toBe(200);

    const buy = await submit(trader, { symbol, quantity: 1, order_type: "MARKET" });
    expect(buy.status).toBe(400);
    expect(await json(buy)).toMatchObject({ error: "REDUCE_ONLY" });
    const grow = await call(`/api/v1/orders/${id}`, { method: "PATCH", token: trader.token, body: { quantity: 6 } });
    expect(await json(grow)).toMatchObject({ error: "REDUCE_ONLY" });
    const reprice = await call(`/api/v1/orders/${id}`, { method: "PATCH", token: trader.token, body: { price: 96 } });
    expect(await json(reprice)).toMatchObject({ error: "REDUCE_ONLY" });
    expect((await call(`/api/v1/orders/${id}`, { method: "PATCH", token: trader.token, body: { quantity: 3 } })).status).toBe(200);
    expect((await submit(trader, { symbol, side: "SELL", quantity: 2, order_type: "MARKET" })).status).toBe(201);
  });

  it("refuses a state change without a reason, and 404 for an unknown account", async () => {
    const trader = await newTrader(100);
    const res = await setState(trader.id, { state: "HALTED" });
    expect(res.status).toBe(400);
    expect(await json(res)).toMatchObject({ error: "VALIDATION_ERROR", details: { fields: { reason: expect.any(String) } } });
    expect((await setState("nobody-here", { state: "HALTED", reason: "x" })).status).toBe(404);
  });
});
