import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import { asTrader, auditOf, call, eventually, json, newInstrument, newTrader, setFaults, submit, untilStatus } from "./helpers/api";
import { closeAll, connect } from "./helpers/socket";

afterEach(closeAll);

interface LogRow {
  action: string;
  status: string;
  error_code: string | null;
  retry_attempt: number | null;
}

const d1Logs = (orderId: string) =>
  env.DB.prepare("SELECT action, status, error_code, retry_attempt FROM execution_logs WHERE order_id = ? ORDER BY chain_seq").bind(orderId).all<LogRow>();

/** What the simulated venue holds under an order's key. */
const venueOrders = (symbol: string, key: string) =>
  runInDurableObject(env.VENUE.get(env.VENUE.idFromName(symbol)), (_instance, state) =>
    state.storage.sql.exec<{ state: string; filled: number }>("SELECT state, filled FROM orders WHERE key = ?", key).toArray(),
  );

describe("seed scenario 4: the venue times out and the desk recovers", () => {
  it("fills alice's TEST_TIMEOUT market order at 100.00 after one timed-out attempt, with the four audit rows of the seed", async () => {
    const alice = await asTrader("alice");
    const res = await submit(alice, { symbol: "TEST_TIMEOUT", quantity: 100, order_type: "MARKET" });
    expect(res.status).toBe(201);
    const order = await json<{ id: string; status: string }>(res);
    expect(order.status).toBe("PENDING");

    const filled = await untilStatus(alice, order.id, "FILLED", "REJECTED", "CANCELLED");
    expect(filled).toMatchObject({ status: "FILLED", filled_quantity: 100, avg_fill_price: 100 });
    expect(filled.fills).toEqual([expect.objectContaining({ quantity_filled: 100, price_at_fill: 100 })]);

    const expected = [
      { action: "SUBMITTED", status: "PENDING", error_code: null, retry_attempt: null },
      { action: "EXECUTED", status: "PENDING", error_code: "TIMEOUT", retry_attempt: 0 },
      { action: "RECOVERED", status: "PENDING", error_code: null, retry_attempt: 1 },
      { action: "FILLED", status: "FILLED", error_code: null, retry_attempt: 1 },
    ];
    const trail = await auditOf(alice, order.id);
    expect(trail.map(({ action, status, error_code, retry_attempt }) => ({ action, status, error_code, retry_attempt }))).toEqual(expected);

    // D1, once the outbox has flushed: one order, one fill, the same four rows.
    const logs = await eventually(() => d1Logs(order.id), (r) => r.results.length >= 4);
    expect(logs.results).toEqual(expected);
    const orders = await env.DB.prepare("SELECT status, filled_quantity FROM orders WHERE id = ?").bind(order.id).all();
    expect(orders.results).toEqual([{ status: "FILLED", filled_quantity: 100 }]);
    const fills = await env.DB.prepare("SELECT quantity_filled, price_cents FROM fills WHERE order_id = ?").bind(order.id).all();
    expect(fills.results).toEqual([{ quantity_filled: 100, price_cents: 10000 }]);

    // The venue holds exactly one order for the key: the timed-out copy was never recorded, the retry once.
    expect(await venueOrders("TEST_TIMEOUT", order.id)).toEqual([{ state: "FILLED", filled: 100 }]);

    const account = await json(await call("/api/v1/account", { token: alice.token }));
    expect(account).toMatchObject({ cash: 5000, reserved: 0, buying_power: 5000, positions: [{ symbol: "TEST_TIMEOUT", quantity: 100, avg_price: 100 }] });
  });

  it("keeps the recovery invisible to the trader: submitted, accepted, filled on the socket, seq contiguous", async () => {
    const trader = await newTrader(20_000);
    const socket = await connect({ token: trader.token });
    const { id } = await json<{ id: string }>(await submit(trader, { symbol: "TEST_TIMEOUT", quantity: 100, order_type: "MARKET" }));

    const events = await socket.untilEvent(id, "order.filled");
    expect(events.map((e) => e.event)).toEqual(["order.submitted", "order.accepted", "order.filled"]);
    expect(events.at(-1)).toMatchObject({ status: "FILLED", quantity_filled: 100, price_at_fill: 100, filled_quantity: 100 });
    // The whole stream, account updates included: one contiguous seq, nothing of the timed-out attempt.
    const stream = await socket.untilSeq(5);
    expect(stream.map((m) => [m.event, m.seq])).toEqual([
      ["order.submitted", 1], ["account.updated", 2], ["order.accepted", 3], ["order.filled", 4], ["account.updated", 5],
    ]);
    const [reserved, settled] = socket.accountEvents();
    expect(reserved).toMatchObject({ cash: 20_000, positions: [] });
    expect(reserved!.reserved).toBeGreaterThanOrEqual(10_000);
    expect(settled).toMatchObject({ cash: 10_000, reserved: 0, buying_power: 10_000, positions: [{ symbol: "TEST_TIMEOUT", quantity: 100, avg_price: 100 }] });
    expect(await venueOrders("TEST_TIMEOUT", id)).toEqual([{ state: "FILLED", filled: 100 }]);
  });

  it("rejects the order with a reason after RETRY_MAX_ATTEMPTS retries all time out, releasing the cash and filling nothing", async () => {
    const symbol = await newInstrument(100);
    expect((await setFaults(symbol, { timeout_first_attempts: 10 })).status).toBe(200);
    const trader = await newTrader(20_000);
    const res = await submit(trader, { symbol, quantity: 100, order_type: "MARKET" });
    expect(res.status).toBe(201);
    const { id } = await json<{ id: string }>(res);

    const rejected = await untilStatus(trader, id, "FILLED", "REJECTED", "CANCELLED");
    expect(rejected).toMatchObject({ status: "REJECTED", filled_quantity: 0, avg_fill_price: null, fills: [] });
    expect(rejected.reason).toEqual(expect.stringMatching(/\S/));

    const trail = await auditOf(trader, id);
    expect(trail.map((a) => [a.action, a.error_code, a.retry_attempt])).toEqual([
      ["SUBMITTED", null, null],
      ["EXECUTED", "TIMEOUT", 0],
      ["EXECUTED", "TIMEOUT", 1],
      ["EXECUTED", "TIMEOUT", 2],
      ["EXECUTED", "TIMEOUT", 3],
      ["REJECTED", expect.anything(), expect.anything()],
    ]);
    expect(trail.at(-1)).toMatchObject({ status: "REJECTED", reason: rejected.reason });

    expect(await json(await call("/api/v1/account", { token: trader.token }))).toMatchObject({ cash: 20_000, reserved: 0, buying_power: 20_000, positions: [] });
    // The venue was told to close the key, so a late copy of the order can never trade.
    expect(await venueOrders(symbol, id)).toEqual([{ state: "CANCELLED", filled: 0 }]);
    const d1 = await eventually(
      () => env.DB.prepare("SELECT status FROM orders WHERE id = ?").bind(id).all<{ status: string }>(),
      (r) => r.results[0]?.status === "REJECTED",
    );
    expect(d1.results).toHaveLength(1);
    expect((await env.DB.prepare("SELECT COUNT(*) AS n FROM fills WHERE order_id = ?").bind(id).first<{ n: number }>())?.n).toBe(0);
  });
});
