// Seed scenario 4 against Alpaca (the fake): a venue timeout, then recovery, without a second order.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { asTrader, auditOf, call, eventually, json, newTrader, submit, untilStatus } from "../helpers/api";
import { expectFillsAgree, fakeOrders, fakeRequests, newSymbol, requestMark } from "./fake";

const trail = (rows: { action: string; status: string; error_code: string | null; retry_attempt: number | null }[]) =>
  rows.map(({ action, status, error_code, retry_attempt }) => ({ action, status, error_code, retry_attempt }));

const SEED_FOUR = [
  { action: "SUBMITTED", status: "PENDING", error_code: null, retry_attempt: null },
  { action: "EXECUTED", status: "PENDING", error_code: "TIMEOUT", retry_attempt: 0 },
  { action: "RECOVERED", status: "PENDING", error_code: null, retry_attempt: 1 },
  { action: "FILLED", status: "FILLED", error_code: null, retry_attempt: 1 },
];

describe("seed scenario 4 on Alpaca: the broker times out and the desk recovers", () => {
  it("fills alice's TEST_TIMEOUT market order at 100.00 after the first POST was lost, with the seed's four audit rows and one Alpaca order", async () => {
    const alice = await asTrader("alice");
    const res = await submit(alice, { symbol: "TEST_TIMEOUT", quantity: 100, order_type: "MARKET" });
    expect(res.status).toBe(201);
    const { id } = await json<{ id: string }>(res);

    const filled = await untilStatus(alice, id, "FILLED", "REJECTED", "CANCELLED");
    expect(filled).toMatchObject({ status: "FILLED", filled_quantity: 100, avg_fill_price: 100 });
    expect(trail(await auditOf(alice, id))).toEqual(SEED_FOUR);
    const logs = await eventually(
      () => env.DB.prepare("SELECT action, status, error_code, retry_attempt FROM execution_logs WHERE order_id = ? ORDER BY chain_seq").bind(id).all(),
      (r) => r.results.length >= 4,
    );
    expect(logs.results).toEqual(SEED_FOUR);

    // Alpaca holds exactly one order for the client_order_id: the lost POST never made one, the retry one.
    const orders = await fakeOrders(id);
    expect(orders.map((o) => [o.order.client_order_id, o.order.status, o.order.filled_qty])).toEqual([[id, "filled", "100"]]);
    await expectFillsAgree(alice, id);
    expect(await json(await call("/api/v1/account", { token: alice.token }))).toMatchObject({ cash: 5000, reserved: 0, positions: [{ symbol: "TEST_TIMEOUT", quantity: 100, avg_price: 100 }] });
  });

  it("finds the order by client_order_id when Alpaca took it but answered after the timeout: not sent again, filled once", async () => {
    const symbol = await newSymbol(100, { faults: { late_first_attempts: 1, late_ms: 1200 } });
    const trader = await newTrader(20_000);
    const mark = await requestMark();
    const { id } = await json<{ id: string }>(await submit(trader, { symbol, quantity: 100, order_type: "MARKET" }));

    await untilStatus(trader, id, "FILLED");
    const rows = await auditOf(trader, id);
    expect(rows.map((r) => [r.action, r.error_code, r.retry_attempt])).toEqual([
      ["SUBMITTED", null, null], ["EXECUTED", "TIMEOUT", 0], ["RECOVERED", null, 1], ["FILLED", null, 1],
    ]);
    expect(rows[2]!.reason).toMatch(/not sent again/);
    const posts = (await fakeRequests(mark)).filter((r) => r.method === "POST" && r.path === "/v2/orders");
    expect(posts).toHaveLength(1);
    const lookups = (await fakeRequests(mark)).filter((r) => r.path.startsWith(`/v2/orders:by_client_order_id?client_order_id=${id}`));
    expect(lookups.length).toBeGreaterThanOrEqual(1);
    expect((await fakeOrders(id)).map((o) => o.order.status)).toEqual(["filled"]);
    await expectFillsAgree(trader, id);
    expect(await json(await call("/api/v1/account", { token: trader.token }))).toMatchObject({ cash: 10_000, reserved: 0 });
  });

  it("rejects the order when every attempt is lost, leaving nothing at Alpaca and the cash untouched", async () => {
    const symbol = await newSymbol(100, { faults: { timeout_first_attempts: 10, hang_ms: 500 } });
    const trader = await newTrader(20_000);
    const { id } = await json<{ id: string }>(await submit(trader, { symbol, quantity: 100, order_type: "MARKET" }));

    const rejected = await untilStatus(trader, id, "FILLED", "REJECTED", "CANCELLED");
    expect(rejected).toMatchObject({ status: "REJECTED", filled_quantity: 0, fills: [] });
    const rows = await auditOf(trader, id);
    expect(rows.filter((r) => r.error_code === "TIMEOUT")).toHaveLength(Number(env.RETRY_MAX_ATTEMPTS) + 1);
    expect(rows.at(-1)).toMatchObject({ action: "REJECTED", reason: expect.stringMatching(/retries/) });
    expect(await fakeOrders(id)).toEqual([]);
    expect(await json(await call("/api/v1/account", { token: trader.token }))).toMatchObject({ cash: 20_000, reserved: 0, positions: [] });
  });
});
