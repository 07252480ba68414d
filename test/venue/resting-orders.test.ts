import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import { auditOf, call, eventually, getOrder, json, newInstrument, newTrader, setInstrument, submit, untilStatus, type Trader } from "../helpers/api";
import { closeAll, connect } from "../helpers/socket";

afterEach(closeAll);

async function place(trader: Trader, order: Record<string, unknown>): Promise<string> {
  const res = await submit(trader, order);
  expect(res.status).toBe(201);
  const { id } = await json<{ id: string }>(res);
  // Resting: the venue took it (EXECUTED in the audit) and the order is still PENDING.
  await eventually(() => auditOf(trader, id), (t) => t.some((a) => a.action === "EXECUTED"));
  return id;
}

/** The venue's own view of its book: every order with its state, and reports still owed to desks. */
const venueBook = (symbol: string) =>
  runInDurableObject(env.VENUE.get(env.VENUE.idFromName(symbol)), (_instance, state) => ({
    orders: state.storage.sql.exec<{ key: string; state: string; filled: number }>("SELECT key, state, filled FROM orders ORDER BY key").toArray(),
    undelivered: state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM undelivered").one().n,
  }));

const move = async (symbol: string, price: number) => expect((await setInstrument(symbol, { price })).status).toBe(200);

describe("resting orders at the simulated venue", () => {
  it("fills a resting LIMIT BUY @ 140.00 at 139.50 when the price moves through it, live on the socket", async () => {
    const symbol = await newInstrument(150);
    const trader = await newTrader(20_000);
    const socket = await connect({ token: trader.token });
    const id = await place(trader, { symbol, quantity: 100, order_type: "LIMIT", price: 140 });
    expect(await getOrder(trader, id)).toMatchObject({ status: "PENDING", filled_quantity: 0, fills: [] });

    await move(symbol, 139.5);

    const order = await untilStatus(trader, id, "FILLED", "CANCELLED", "REJECTED");
    expect(order).toMatchObject({ status: "FILLED", filled_quantity: 100, avg_fill_price: 139.5 });
    expect(order.fills.map((f) => [f.quantity_filled, f.price_at_fill])).toEqual([[100, 139.5]]);
    const events = await socket.untilEvent(id, "order.filled");
    expect(events.map((e) => e.event)).toEqual(["order.submitted", "order.accepted", "order.filled"]);
    expect(events.at(-1)).toMatchObject({ status: "FILLED", quantity_filled: 100, price_at_fill: 139.5, filled_quantity: 100 });
    expect((await auditOf(trader, id)).map((a) => a.action)).toEqual(["SUBMITTED", "APPROVED", "EXECUTED", "FILLED"]);
    // Paid 13,950.00; the 50.00 reserved beyond that comes back.
    expect(await json(await call("/api/v1/account", { token: trader.token }))).toMatchObject({
      cash: 6_050, reserved: 0, buying_power: 6_050, positions: [{ symbol, quantity: 100, avg_price: 139.5 }],
    });
  });

  it("keeps a SELL STOP @ 145.00 resting while the price stays above it, then sells when it drops to 144.00", async () => {
    const symbol = await newInstrument(150);
    const trader = await newTrader(0, [{ symbol, quantity: 100, avg_price: 150 }]);
    const socket = await connect({ token: trader.token });
    const id = await place(trader, { symbol, side: "SELL", quantity: 100, order_type: "STOP", stop_price: 145 });

    await move(symbol, 146);
    expect(await venueBook(symbol)).toEqual({ orders: [{ key: id, state: "WORKING", filled: 0 }], undelivered: 0 });
    expect(await getOrder(trader, id)).toMatchObject({ status: "PENDING", filled_quantity: 0, fills: [] });

    await move(symbol, 144);

    const order = await untilStatus(trader, id, "FILLED", "CANCELLED", "REJECTED");
    expect(order).toMatchObject({ status: "FILLED", side: "SELL", filled_quantity: 100, avg_fill_price: 144 });
    expect(order.fills.map((f) => [f.quantity_filled, f.price_at_fill])).toEqual([[100, 144]]);
    const events = await socket.untilEvent(id, "order.filled");
    expect(events.at(-1)).toMatchObject({ price_at_fill: 144, quantity_filled: 100, status: "FILLED" });
    expect(await json(await call("/api/v1/account", { token: trader.token }))).toMatchObject({ cash: 14_400, reserved: 0, positions: [] });
  });

  it("changes nothing when a price move crosses no resting order", async () => {
    const symbol = await newInstrument(150);
    const trader = await newTrader(20_000, [{ symbol, quantity: 100, avg_price: 150 }]);
    const socket = await connect({ token: trader.token });
    const buy = await place(trader, { symbol, quantity: 100, order_type: "LIMIT", price: 140 });
    const stop = await place(trader, { symbol, side: "SELL", quantity: 100, order_type: "STOP", stop_price: 145 });
    const before = await venueBook(symbol);
    const trails = [await auditOf(trader, buy), await auditOf(trader, stop)];
    const eventsBefore = socket.events().length;
    const accountBefore = await json<Record<string, unknown>>(await call("/api/v1/account", { token: trader.token }));

    await move(symbol, 147);
    await move(symbol, 145.01);
    await move(symbol, 155);

    // The venue matches synchronously inside the price update: nothing changed state, nothing is owed to the desk.
    expect(await venueBook(symbol)).toEqual(before);
    expect(before.undelivered).toBe(0);
    expect(before.orders.map((o) => [o.state, o.filled])).toEqual([["WORKING", 0], ["WORKING", 0]]);
    expect(await getOrder(trader, buy)).toMatchObject({ status: "PENDING", filled_quantity: 0, fills: [] });
    expect(await getOrder(trader, stop)).toMatchObject({ status: "PENDING", filled_quantity: 0, fills: [] });
    expect([await auditOf(trader, buy), await auditOf(trader, stop)]).toEqual(trails);
    expect(socket.events()).toHaveLength(eventsBefore);
    // Cash, reservations and positions are as they were; only their valuation follows the price (100 x +5.00).
    expect(await json(await call("/api/v1/account", { token: trader.token }))).toEqual({ ...accountBefore, equity: 35_500, unrealized_pl: 500 });
  });
});
