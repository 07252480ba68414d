// Alpaca's answers that are not a plain 200, each with what must hold: no order twice, no fill twice or
// lost, the trader's cash agrees with Alpaca's fills, and a refusal rejects with Alpaca's own message.
import { afterEach, describe, expect, it } from "vitest";
import { adminToken, auditOf, call, json, newTrader, submit, untilStatus } from "../helpers/api";
import { expectFillsAgree, fakeOrders, fakeRequests, newSymbol, requestMark, setAccountFaults } from "./fake";

afterEach(() => setAccountFaults({ fail_next: [] }));

const accountOf = async (token: string) => json<{ cash: number; reserved: number }>(await call("/api/v1/account", { token }));

describe("Alpaca faults on the way in", () => {
  it("honours a 429's X-RateLimit-Reset: nothing is sent before it, then the order goes once and fills", async () => {
    const symbol = await newSymbol(50, { faults: { error_first_attempts: 1, error_status: 429 } });
    const trader = await newTrader(10_000);
    const mark = await requestMark();
    const { id } = await json<{ id: string }>(await submit(trader, { symbol, quantity: 10, order_type: "MARKET" }));

    await untilStatus(trader, id, "FILLED");
    const requests = await fakeRequests(mark);
    const limited = requests.find((r) => r.status === 429)!;
    expect(limited).toMatchObject({ method: "POST", path: "/v2/orders" });
    // X-RateLimit-Reset said "not before that second": no Trading API request was sent until then (one
    // already on its way when the 429 came back may still arrive; market data has its own limit and host).
    const resetMs = Math.ceil((limited.at + 1000) / 1000) * 1000;
    const early = requests.filter((r) => r.at > limited.at + 100 && r.at < resetMs - 5 && !r.path.startsWith("/v2/stocks/"));
    expect(early).toEqual([]);
    expect(requests.filter((r) => r.method === "POST" && r.path === "/v2/orders").map((r) => r.status)).toEqual([429, 200]);
    const rows = await auditOf(trader, id);
    expect(rows.filter((r) => r.error_code === "VENUE_ERROR").map((r) => r.reason).join(" ")).toMatch(/rate limit/);
    expect((await fakeOrders(id)).map((o) => o.order.status)).toEqual(["filled"]);
    await expectFillsAgree(trader, id);
  });

  it("retries after a 5xx that made no order: one order at Alpaca, filled once", async () => {
    const symbol = await newSymbol(50, { faults: { error_first_attempts: 1, error_status: 503 } });
    const trader = await newTrader(10_000);
    const { id } = await json<{ id: string }>(await submit(trader, { symbol, quantity: 10, order_type: "MARKET" }));
    await untilStatus(trader, id, "FILLED");
    expect((await auditOf(trader, id)).map((r) => [r.action, r.error_code])).toEqual([
      ["SUBMITTED", null], ["EXECUTED", "VENUE_ERROR"], ["RECOVERED", null], ["FILLED", null],
    ]);
    expect(await fakeOrders(id)).toHaveLength(1);
    await expectFillsAgree(trader, id);
    expect(await accountOf(trader.token)).toMatchObject({ cash: 9_500, reserved: 0 });
  });

  it("finds the order after a 5xx whose order Alpaca did make (the answer was lost): never sent twice", async () => {
    const symbol = await newSymbol(50);
    const trader = await newTrader(10_000);
    await setAccountFaults({ fail_next: [{ method: "POST", path: "/v2/orders", status: 500, after_effect: true }] });
    const mark = await requestMark();
    const { id } = await json<{ id: string }>(await submit(trader, { symbol, quantity: 10, order_type: "MARKET" }));
    await untilStatus(trader, id, "FILLED");
    expect((await fakeRequests(mark)).filter((r) => r.method === "POST" && r.path === "/v2/orders")).toHaveLength(1);
    expect((await auditOf(trader, id)).find((r) => r.action === "RECOVERED")?.reason).toMatch(/not sent again/);
    expect(await fakeOrders(id)).toHaveLength(1);
    await expectFillsAgree(trader, id);
  });

  it("rejects an order Alpaca refuses (403) with Alpaca's message, and gives the cash back", async () => {
    const trader = await newTrader(10_000);
    const { id } = await json<{ id: string }>(await submit(trader, { symbol: "TEST_REJECT", quantity: 10, order_type: "MARKET" }));
    const order = await untilStatus(trader, id, "REJECTED", "FILLED");
    expect(order).toMatchObject({ status: "REJECTED", fills: [] });
    const last = (await auditOf(trader, id)).at(-1)!;
    expect(last).toMatchObject({ action: "REJECTED", error_code: "VENUE_REJECTED" });
    expect(last.reason).toContain("insufficient buying power");
    expect(last.reason).toContain("403");
    expect(await fakeOrders(id)).toEqual([]);
    expect(await accountOf(trader.token)).toMatchObject({ cash: 10_000, reserved: 0 });
  });

  it("rejects an order Alpaca cannot take (422) with Alpaca's message", async () => {
    const symbol = await newSymbol(50, { faults: { reject: { status: 422, message: "qty must be > 0 for this asset class" } } });
    const trader = await newTrader(10_000);
    const { id } = await json<{ id: string }>(await submit(trader, { symbol, quantity: 10, order_type: "MARKET" }));
    await untilStatus(trader, id, "REJECTED");
    expect((await auditOf(trader, id)).at(-1)!.reason).toMatch(/HTTP 422.*qty must be > 0/);
  });

  it("never writes the API keys into an audit row, an order, an error or the venue state", async () => {
    const trader = await newTrader(10_000);
    const rejected = await json<{ id: string }>(await submit(trader, { symbol: "TEST_REJECT", quantity: 1, order_type: "MARKET" }));
    const filled = await json<{ id: string }>(await submit(trader, { symbol: "AAPL", quantity: 1, order_type: "MARKET" }));
    await untilStatus(trader, rejected.id, "REJECTED");
    await untilStatus(trader, filled.id, "FILLED");
    const seen = JSON.stringify([
      await auditOf(trader, rejected.id), await auditOf(trader, filled.id),
      await json(await call(`/api/v1/orders`, { token: trader.token })),
      await json(await call("/api/v1/admin/venue", { token: await adminToken() })),
    ]);
    // The keys vitest.alpaca.config.ts gives fillwire (and the fake expects).
    for (const secret of ["fake-key-id", "fake-secret-key"]) expect(seen).not.toContain(secret);
  });
});
