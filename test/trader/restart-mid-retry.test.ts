// A trader's desk restarted while an order is between venue attempts (or while the venue is still working
// on it) finishes the order exactly once: the retry schedule lives in storage, and a send whose answer was
// lost is looked up at the venue by key before anything is sent again.
import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { auditOf, call, eventually, json, newInstrument, newTrader, setFaults, submit, untilStatus } from "../helpers/api";

const venueOrders = (symbol: string, key: string) =>
  runInDurableObject(env.VENUE.get(env.VENUE.idFromName(symbol)), (_i, state) =>
    state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM orders WHERE key = ?", key).one().n,
  );

describe("a desk restarted mid-order", () => {
  it("resumes the retry after a timeout and fills the order once", async () => {
    const symbol = await newInstrument(100);
    await setFaults(symbol, { timeout_first_attempts: 1 });
    const trader = await newTrader(50_000);
    const order = await json<{ id: string }>(await submit(trader, { symbol, quantity: 10, order_type: "MARKET" }));
    await eventually(() => auditOf(trader, order.id), (rows) => rows.some((r) => r.error_code === "TIMEOUT"));

    await evictDurableObject(env.TRADER.get(env.TRADER.idFromName(trader.id)));

    const filled = await untilStatus(trader, order.id, "FILLED");
    expect(filled.fills).toHaveLength(1);
    expect(filled.filled_quantity).toBe(10);
    expect(await venueOrders(symbol, order.id)).toBe(1);
    expect((await auditOf(trader, order.id)).map((r) => [r.action, r.error_code, r.retry_attempt])).toEqual([
      ["SUBMITTED", null, null], ["EXECUTED", "TIMEOUT", 0], ["RECOVERED", null, 1], ["FILLED", null, 1],
    ]);
  });

  it("finds an order the venue executed while the desk was gone, and does not send it again", async () => {
    const symbol = await newInstrument(100);
    await setFaults(symbol, { latency_ms: 150 }); // answers inside the 300 ms timeout, but the desk is evicted first
    const trader = await newTrader(50_000);
    const order = await json<{ id: string }>(await submit(trader, { symbol, quantity: 5, order_type: "MARKET" }));
    // Kill the desk while its send is in flight: the venue still executes the order, the answer is lost.
    const desk = env.TRADER.get(env.TRADER.idFromName(trader.id));
    await runInDurableObject(desk, (_i, state) => state.abort("restart")).catch(() => undefined);

    const filled = await untilStatus(trader, order.id, "FILLED");
    expect(filled.fills).toHaveLength(1);
    expect(await venueOrders(symbol, order.id)).toBe(1);
    const actions = (await auditOf(trader, order.id)).map((r) => r.action);
    expect(actions.filter((a) => a === "FILLED")).toHaveLength(1);
    expect(actions).toContain("RECOVERED");
    const account = await json<{ cash: number; reserved: number }>(await call("/api/v1/account", { token: trader.token }));
    expect(account).toMatchObject({ cash: 49_500, reserved: 0 });
  });
});
