// Executions Alpaca reports of an order its desk had already ended are not booked (the trader was told the
// order ended and its reservation went back), and never dropped unsaid either: each goes on the order's
// audit trail once (UNBOOKED, with quantity, price and Alpaca's execution id) and is counted in the link's
// unbooked_fills for an operator to reconcile with the account. Two ways it happens: an order fillwire gave
// up reaches Alpaca after all and trades before the link cancels it, and a fill reported after a cancel.
import { afterEach, describe, expect, it } from "vitest";
import { auditOf, call, eventually, getOrder, json, newTrader, submit, untilStatus, type Trader } from "../helpers/api";
import { dropStream, fakeOrders, fakeRequests, lateFill, newSymbol, requestMark, setAccountFaults, venue } from "./fake";

const connected = () => eventually(venue, (v) => v.stream.state === "connected", 15_000);
const counters = async () => {
  const v = await venue();
  return { unbooked: v.unbooked_fills as number, late: v.late_orders as number };
};
const accountOf = async (trader: Trader) => json<Record<string, unknown>>(await call("/api/v1/account", { token: trader.token }));

/**
 * A trader's order whose every POST is lost, so the desk gives it up (REJECTED), while the first was only
 * slow: it lands at Alpaca 9 s after it was sent, after the give-up (about 5 s).
 */
async function givenUpOrder(order: Record<string, unknown>) {
  const symbol = await newSymbol(100, { faults: { timeout_first_attempts: 10, hang_ms: 500, land_first_after_ms: 9_000 } });
  const trader = await newTrader(20_000);
  const before = await counters();
  const { id } = await json<{ id: string }>(await submit(trader, { symbol, quantity: 10, ...order }));
  const rejected = await untilStatus(trader, id, "FILLED", "REJECTED", "CANCELLED");
  expect(rejected).toMatchObject({ status: "REJECTED", filled_quantity: 0 });
  return { trader, id, before };
}

afterEach(async () => {
  await setAccountFaults({ refuse_streams: 0, fail_next: [] });
  await connected();
});

describe("executions of an order that had already ended", () => {
  it("keeps a fill Alpaca reports after its cancel on the audit trail, unbooked, once, and counts it", async () => {
    const symbol = await newSymbol(100);
    const trader = await newTrader(10_000);
    const { id } = await json<{ id: string }>(await submit(trader, { symbol, quantity: 10, order_type: "LIMIT", price: 95 }));
    await eventually(() => fakeOrders(id), (orders) => orders[0]?.order.status === "new", 15_000);
    expect((await call(`/api/v1/orders/${id}/cancel`, { method: "POST", token: trader.token })).status).toBe(200);
    await untilStatus(trader, id, "CANCELLED");
    const accountBefore = await accountOf(trader);
    const before = await counters();

    const [atAlpaca] = await fakeOrders(id);
    expect(atAlpaca!.order.status).toBe("canceled");
    await lateFill(atAlpaca!.order.id); // 10 at 100.00, on the stream and in the activities
    const trail = await eventually(() => auditOf(trader, id), (rows) => rows.some((r) => r.action === "UNBOOKED"), 15_000);
    const [unbooked] = trail.filter((r) => r.action === "UNBOOKED");
    const [execution] = (await fakeOrders(id))[0]!.executions;
    expect(unbooked).toMatchObject({ status: "CANCELLED", reason: `The venue executed 10 at $100.00 (fill ${execution!.id}) after the order was cancelled: not booked to the account; reconcile it with the venue` });
    await eventually(counters, (c) => c.unbooked === before.unbooked + 1);

    // Not booked: the order, the cash and the positions are as the cancel left them.
    expect(await getOrder(trader, id)).toMatchObject({ status: "CANCELLED", filled_quantity: 0, fills: [] });
    expect(await accountOf(trader)).toMatchObject({ cash: accountBefore.cash, reserved: 0, positions: [] });

    // Seen again (the stream drops, the link reconnects and reads the activities since): still once.
    const reconnects = (await venue()).stream.reconnects as number;
    await dropStream();
    await eventually(venue, (v) => (v.stream.reconnects as number) > reconnects && v.stream.state === "connected", 15_000);
    await eventually(venue, (v) => Date.parse(v.stream.last_reconcile_at as string) >= Date.parse(v.stream.connected_since as string), 15_000);
    await new Promise((r) => setTimeout(r, 300));
    expect((await auditOf(trader, id)).filter((r) => r.action === "UNBOOKED")).toHaveLength(1);
    expect((await counters()).unbooked).toBe(before.unbooked + 1);
  });

  it("books a fill that beat the cancel, and keeps nothing unbooked", async () => {
    const symbol = await newSymbol(100);
    const trader = await newTrader(10_000);
    const before = await counters();
    const { id } = await json<{ id: string }>(await submit(trader, { symbol, quantity: 10, order_type: "MARKET" }));
    await untilStatus(trader, id, "FILLED");
    const [atAlpaca] = await fakeOrders(id);
    await expect(lateFill(atAlpaca!.order.id)).rejects.toThrow(/404/); // filled: nothing left to execute
    expect((await auditOf(trader, id)).map((r) => r.action)).not.toContain("UNBOOKED");
    expect((await counters()).unbooked).toBe(before.unbooked);
  });

  it("cancels an order that reached Alpaca after its retries were spent, and keeps what it traded first unbooked", { timeout: 30_000 }, async () => {
    // Given up before Alpaca had it; a market order trades at once when it lands.
    const { trader, id, before } = await givenUpOrder({ order_type: "MARKET" });
    expect(await fakeOrders(id)).toEqual([]); // given up before Alpaca had it
    const accountAfterRejection = await accountOf(trader);

    const landed = await eventually(() => fakeOrders(id), (orders) => orders[0]?.order.status === "filled", 20_000);
    expect(landed).toHaveLength(1);
    const trail = await eventually(() => auditOf(trader, id), (rows) => rows.some((r) => r.action === "UNBOOKED"), 15_000);
    expect(trail.filter((r) => r.action === "UNBOOKED")).toEqual([
      expect.objectContaining({ status: "REJECTED", reason: expect.stringMatching(/^The venue executed 10 at \$100\.00 \(fill [^)]+\) after the order was rejected: not booked/) }),
    ]);
    await eventually(counters, (c) => c.unbooked === before.unbooked + 1 && c.late === before.late + 1);
    expect(await getOrder(trader, id)).toMatchObject({ status: "REJECTED", filled_quantity: 0, fills: [] });
    expect(await accountOf(trader)).toMatchObject({ cash: accountAfterRejection.cash, reserved: 0, positions: [] });
  });

  it("cancels a late order again when its first cancel fails, and counts it once", { timeout: 40_000 }, async () => {
    const { id, before } = await givenUpOrder({ order_type: "LIMIT", price: 95 });
    // The first DELETE of an order at Alpaca fails (503) once the late order lands: Alpaca is flaky, which is
    // when orders come late. The link sends the cancel again from its next reconcile (asked for at once).
    await setAccountFaults({ fail_next: [{ method: "DELETE", path: "/v2/orders/", status: 503 }] });
    const mark = await requestMark();
    const [landed] = await eventually(() => fakeOrders(id), (orders) => orders.length > 0, 20_000);
    const ended = await eventually(() => fakeOrders(id), (orders) => orders[0]?.order.status === "canceled", 20_000);
    expect(ended[0]!.executions).toEqual([]);
    const deletes = (await fakeRequests(mark)).filter((r) => r.method === "DELETE" && r.path === `/v2/orders/${landed!.order.id}`);
    expect(deletes.map((r) => r.status)).toEqual([503, 204]);
    await eventually(counters, (c) => c.late === before.late + 1);
    expect(await counters()).toEqual({ late: before.late + 1, unbooked: before.unbooked });
  });

  it("cancels a late order that has not traded yet, and keeps nothing unbooked", { timeout: 30_000 }, async () => {
    const { trader, id, before } = await givenUpOrder({ order_type: "LIMIT", price: 95 });
    const ended = await eventually(() => fakeOrders(id), (orders) => orders[0]?.order.status === "canceled", 20_000);
    expect(ended[0]!.executions).toEqual([]);
    await eventually(counters, (c) => c.late === before.late + 1);
    expect((await counters()).unbooked).toBe(before.unbooked);
    expect((await auditOf(trader, id)).map((r) => r.action)).not.toContain("UNBOOKED");
  });
});
