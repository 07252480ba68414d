// A bracket's legs under desk restarts (issue 12, "Atomicity under faults"): the entry's fill and its legs'
// activation are one desk change, so a desk that goes away around the fill activates the legs exactly once;
// a leg whose first send timed out is retried by its key after a restart and reaches the venue once.
import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { auditOf, call, eventually, getOrder, json, newInstrument, newTrader, setFaults, setInstrument, untilStatus, type Trader } from "../helpers/api";
import type { Order } from "../../worker/shared/orders";
import { placeBracket, type WithLegs } from "../helpers/contingent";


const desk = (trader: Trader) => env.TRADER.get(env.TRADER.idFromName(trader.id));
/** Orders the simulated venue holds under a key (a fillwire order id): 1 when sent once, however many attempts. */
const venueOrders = (symbol: string, key: string) =>
  runInDurableObject(env.VENUE.get(env.VENUE.idFromName(symbol)), (_i, state) =>
    state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM orders WHERE key = ?", key).one().n,
  );
const positions = async (t: Trader) => (await json<{ data: { quantity: number; available_quantity: number }[] }>(await call("/api/v1/positions", { token: t.token }))).data;
const account = async (t: Trader) => json<{ cash: number; reserved: number; positions: unknown[] }>(await call("/api/v1/account", { token: t.token }));

async function bracket(trader: Trader, symbol: string): Promise<[WithLegs, Order, Order]> {
  const [parent, tp, sl] = await placeBracket(trader, symbol);
  await eventually(() => auditOf(trader, parent.id), (rows) => rows.some((r) => r.action === "EXECUTED")); // resting at the venue
  return [parent, tp, sl];
}

/** Each leg was activated once, reached the venue once, works for the 10 shares, and the pair reserves them once. */
async function activatedOnce(trader: Trader, symbol: string, legs: Order[]): Promise<void> {
  for (const leg of legs) {
    await eventually(() => getOrder(trader, leg.id), (o) => o.status === "PENDING" && o.quantity === 10);
    await eventually(() => auditOf(trader, leg.id), (rows) => rows.some((r) => r.action === "EXECUTED"));
    const actions = (await auditOf(trader, leg.id)).map((r) => r.action);
    expect(actions.filter((a) => a === "ACTIVATED"), `${leg.id}: ${actions.join(",")}`).toHaveLength(1);
    expect(await venueOrders(symbol, leg.id)).toBe(1);
  }
  expect(await positions(trader)).toMatchObject([{ quantity: 10, available_quantity: 0 }]);
}

describe("a bracket's legs when the desk restarts", () => {
  it("are activated once when the desk is aborted as the venue fills the entry", async () => {
    const symbol = await newInstrument(100);
    const trader = await newTrader(10_000);
    const [parent, tp, sl] = await bracket(trader, symbol);

    // The venue fills the entry and reports it while the desk goes away: the report is retried by the venue
    // until a desk takes it, and the fill with its activation commits once, whichever way the race goes.
    await Promise.all([
      setInstrument(symbol, { price: 99 }),
      runInDurableObject(desk(trader), (_i, state) => state.abort("restart")).catch(() => undefined),
    ]);
    expect(await untilStatus(trader, parent.id, "FILLED")).toMatchObject({ filled_quantity: 10, fills: [expect.anything()] });
    await activatedOnce(trader, symbol, [tp, sl]);

    // And the exits still work as a pair: the take-profit fills, the stop-loss goes, nothing is sold twice.
    await setInstrument(symbol, { price: 105 });
    await untilStatus(trader, tp.id, "FILLED");
    await untilStatus(trader, sl.id, "CANCELLED");
    expect(await account(trader)).toMatchObject({ cash: 10_000 - 990 + 1_050, reserved: 0, positions: [] });
  });

  it("are sent by key after a restart between a timed-out leg send and its retry, and reach the venue once", async () => {
    const symbol = await newInstrument(100);
    const trader = await newTrader(10_000);
    const [parent, tp, sl] = await bracket(trader, symbol);
    await setFaults(symbol, { timeout_first_attempts: 1 }); // each leg's first send is dropped by the venue

    await setInstrument(symbol, { price: 99 });
    await untilStatus(trader, parent.id, "FILLED");
    await eventually(() => auditOf(trader, tp.id), (rows) => rows.some((r) => r.error_code === "TIMEOUT"));
    await evictDurableObject(desk(trader)); // the retry lives in storage: the next instance sends it, by key
    await activatedOnce(trader, symbol, [tp, sl]);
    for (const leg of [tp, sl]) {
      const rows = await auditOf(trader, leg.id);
      expect(rows.every((r) => r.parent_order_id === parent.id)).toBe(true);
    }

    await setFaults(symbol, {});
    await setInstrument(symbol, { price: 94 }); // through the stop: the stop-loss sells, the take-profit goes
    expect(await untilStatus(trader, sl.id, "FILLED")).toMatchObject({ filled_quantity: 10 });
    await untilStatus(trader, tp.id, "CANCELLED");
    expect(await account(trader)).toMatchObject({ reserved: 0, positions: [] });
  });
});
