// One-cancels-other at the simulated venue, whatever order the exits of a group arrive in: the venue holds
// every member to what is left of the group's capacity (VenueOrder.ocoCapacity, the shares its entry
// filled), so an exit that lands after its sibling sold the shares is cut down or cancelled on arrival, and
// a grown exit never grows past what is left. Found by the chaos drill: a take-profit whose first sends timed
// out landed after the stop-loss had sold everything, and sold the shares a second time.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { newInstrument } from "../helpers/api";
import type { VenueAmend, VenueOrder } from "../../worker/venue/adapter";

const book = (symbol: string) => env.VENUE.get(env.VENUE.idFromName(symbol));

/** A SELL exit of group `group`; the trader is made up (nothing the venue owes it matters here). */
function exit(symbol: string, group: string, over: Partial<VenueOrder>): VenueOrder {
  const key = `${group}-${crypto.randomUUID().slice(0, 6)}`;
  return {
    key, orderId: key, traderId: `oco-${group}`, symbol, side: "SELL", quantity: 10, orderType: "LIMIT", limitCents: 10_500, stopCents: null,
    timeInForce: "GTC", protectCents: null, maxCostCents: null, ocoGroup: group, ocoCapacity: 10, ...over,
  };
}
const group = () => `grp_${crypto.randomUUID().slice(0, 8)}`;

describe("an exit group at the venue", () => {
  it("cancels an exit that arrives after its sibling sold the group's shares", async () => {
    const symbol = await newInstrument(94);
    const g = group();
    const stopLoss = await book(symbol).submit(exit(symbol, g, { orderType: "STOP", limitCents: null, stopCents: 9_500 }), 0); // through its stop: sells at once
    expect(stopLoss).toMatchObject({ state: "FILLED", fills: [{ quantity: 10 }] });
    const late = await book(symbol).submit(exit(symbol, g, {}), 0);
    expect(late).toMatchObject({ state: "CANCELLED", fills: [], reason: "One-cancels-other: the group's shares were already traded" });
  });

  it("cuts a late exit down to what is left of the group", async () => {
    const symbol = await newInstrument(94);
    const g = group();
    await book(symbol).submit(exit(symbol, g, { orderType: "STOP", limitCents: null, stopCents: 9_500, quantity: 4, ocoCapacity: 10 }), 0);
    const late = await book(symbol).submit(exit(symbol, g, { quantity: 10 }), 0);
    expect(late).toMatchObject({ state: "WORKING", terms: { quantity: 6 } });
  });

  it("reduces a resting sibling as the other trades, and ends it when the group is done", async () => {
    const symbol = await newInstrument(100);
    const g = group();
    const takeProfit = exit(symbol, g, {});
    await book(symbol).submit(takeProfit, 0);
    const stopLoss = await book(symbol).submit(exit(symbol, g, { orderType: "STOP", limitCents: null, stopCents: 9_500 }), 0);
    expect(stopLoss.state).toBe("WORKING");
    await book(symbol).configure(symbol, { priceCents: 9_400 }); // the stop-loss sells the 10
    expect(await book(symbol).lookup(takeProfit.key)).toMatchObject({ state: "CANCELLED", fills: [] });
  });

  it("grows an exit with its entry's capacity, never past what is left of the group", async () => {
    const symbol = await newInstrument(94);
    const g = group();
    // The entry filled 5: the stop-loss sells them at once; the take-profit rests for 5.
    const takeProfit = exit(symbol, g, { quantity: 5, ocoCapacity: 5 });
    expect(await book(symbol).submit(takeProfit, 0)).toMatchObject({ state: "WORKING", terms: { quantity: 5 } });
    await book(symbol).submit(exit(symbol, g, { orderType: "STOP", limitCents: null, stopCents: 9_500, quantity: 5, ocoCapacity: 5 }), 0);
    expect(await book(symbol).lookup(takeProfit.key)).toMatchObject({ state: "CANCELLED" });
    // A second group: the entry fills 5 more (capacity 10) after its take-profit sold 3 of the first 5.
    const h = group();
    const tp = exit(symbol, h, { quantity: 5, ocoCapacity: 5, limitCents: 9_300 }); // marketable: sells 5 at once
    expect(await book(symbol).submit(tp, 0)).toMatchObject({ state: "FILLED" });
    const sl = exit(symbol, h, { orderType: "STOP", limitCents: null, stopCents: 9_000, quantity: 5, ocoCapacity: 5 });
    expect(await book(symbol).submit(sl, 0)).toMatchObject({ state: "CANCELLED" }); // nothing left of 5
    const third = group();
    const rest = exit(symbol, third, { orderType: "STOP", limitCents: null, stopCents: 9_000, quantity: 5, ocoCapacity: 5 });
    await book(symbol).submit(rest, 0);
    const grow: VenueAmend = { seq: 1, quantity: 12, limitCents: null, stopCents: 9_000, timeInForce: "GTC", protectCents: null, maxCostCents: null, ocoCapacity: 10 };
    expect(await book(symbol).amend(rest.key, grow)).toMatchObject({ state: "WORKING", terms: { quantity: 10, amendSeq: 1 } }); // capacity 10, not 12
  });
});
