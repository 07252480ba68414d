// Amend in place (FIX cancel/replace; SPEC "Order management"): the amended order is checked as if new,
// the reservation follows the new terms in the same change, the venue amends atomically (a lower quantity
// keeps the order's place, a new price loses it), and an amend racing a fill has exactly one outcome.
import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import { auditOf, call, eventually, getOrder, json, newInstrument, newTrader, setInstrument, submit, untilStatus, type Trader } from "../helpers/api";
import { closeAll, connect } from "../helpers/socket";
import type { Order } from "../../worker/shared/orders";

afterEach(closeAll);

const account = async (t: Trader) => json<{ cash: number; reserved: number }>(await call("/api/v1/account", { token: t.token }));
const amend = (t: Trader, id: string, body: unknown, headers?: Record<string, string>) =>
  call(`/api/v1/orders/${id}`, { method: "PATCH", token: t.token, body, headers });

async function resting(trader: Trader, order: Record<string, unknown>): Promise<string> {
  const res = await submit(trader, { time_in_force: "GTC", ...order });
  expect(res.status, await res.clone().text()).toBe(201);
  const { id } = await json<{ id: string }>(res);
  await eventually(() => auditOf(trader, id), (t) => t.some((a) => a.action === "EXECUTED"));
  return id;
}

const venueRows = (symbol: string) =>
  runInDurableObject(env.VENUE.get(env.VENUE.idFromName(symbol)), (_i, state) =>
    state.storage.sql.exec<{ key: string; priority: number; amend_seq: number; body: string }>("SELECT key, priority, amend_seq, body FROM orders ORDER BY priority").toArray(),
  );

describe("amending a resting order", () => {
  it("changes price and quantity in place, reserves the new terms, audits REPLACED and sends order.replaced", async () => {
    const symbol = await newInstrument(150);
    const trader = await newTrader(20_000);
    const socket = await connect({ token: trader.token });
    const id = await resting(trader, { symbol, quantity: 100, order_type: "LIMIT", price: 140 });
    expect(await account(trader)).toMatchObject({ reserved: 14_000 });

    const res = await amend(trader, id, { price: 141, quantity: 80 });
    expect(res.status, await res.clone().text()).toBe(200);
    const order = await json<Order>(res);
    expect(order).toMatchObject({ id, status: "PENDING", quantity: 80, price: 141 });
    expect(order.amended_at).not.toBeNull();
    expect(await account(trader)).toMatchObject({ cash: 20_000, reserved: 11_280 });
    const trail = await auditOf(trader, id);
    expect(trail.map((a) => a.action)).toEqual(["SUBMITTED", "APPROVED", "EXECUTED", "REPLACED"]);
    expect(trail.at(-1)!.reason).toBe("Amended: quantity 100 → 80; price $140.00 → $141.00");
    const events = await socket.untilEvent(id, "order.replaced");
    expect(events.at(-1)).toMatchObject({ quantity: 80, price: 141, status: "PENDING" });

    // It works on the new terms: a move to 140.50 fills it at 140.50 for 80 shares.
    expect((await setInstrument(symbol, { price: 140.5 })).status).toBe(200);
    expect(await untilStatus(trader, id, "FILLED")).toMatchObject({ filled_quantity: 80, avg_fill_price: 140.5 });
    expect(await account(trader)).toMatchObject({ cash: 20_000 - 80 * 140.5, reserved: 0 });
    // D1 holds the amended order.
    await eventually(
      () => env.DB.prepare("SELECT quantity, limit_price_cents, amended_at FROM orders WHERE id = ?").bind(id).first<{ quantity: number; limit_price_cents: number; amended_at: string | null }>(),
      (row) => row?.quantity === 80 && row.amended_at !== null,
    );
  });

  it("never fills at the old price once the amend is confirmed", async () => {
    const symbol = await newInstrument(150);
    const trader = await newTrader(0, [{ symbol, quantity: 10, avg_price: 150 }]);
    const id = await resting(trader, { symbol, side: "SELL", quantity: 10, order_type: "LIMIT", price: 155 });
    expect((await amend(trader, id, { price: 160 })).status).toBe(200);
    expect((await setInstrument(symbol, { price: 157 })).status).toBe(200);
    await new Promise((r) => setTimeout(r, 200));
    expect(await getOrder(trader, id)).toMatchObject({ status: "PENDING", filled_quantity: 0, price: 160 });
  });

  it("trades at once when the amended price crosses the book", async () => {
    const symbol = await newInstrument(150);
    const trader = await newTrader(20_000);
    const id = await resting(trader, { symbol, quantity: 10, order_type: "LIMIT", price: 140 });
    const res = await amend(trader, id, { price: 150 });
    expect(res.status).toBe(200);
    expect(await untilStatus(trader, id, "FILLED")).toMatchObject({ filled_quantity: 10, avg_fill_price: 150 });
    expect((await auditOf(trader, id)).map((a) => a.action)).toEqual(["SUBMITTED", "APPROVED", "EXECUTED", "REPLACED", "FILLED"]);
    expect(await account(trader)).toMatchObject({ cash: 18_500, reserved: 0 });
  });

  it("keeps the order's place in the book for a lower quantity, and loses it for a new price or more shares", async () => {
    const symbol = await newInstrument(150);
    const trader = await newTrader(100_000);
    const first = await resting(trader, { symbol, quantity: 100, order_type: "LIMIT", price: 140 });
    const second = await resting(trader, { symbol, quantity: 100, order_type: "LIMIT", price: 140 });
    const order = async () => (await venueRows(symbol)).map((r) => r.key);
    expect(await order()).toEqual([first, second]);
    expect((await amend(trader, first, { quantity: 60 })).status).toBe(200);
    expect(await order()).toEqual([first, second]);
    expect((await amend(trader, first, { quantity: 70 })).status).toBe(200);
    expect(await order()).toEqual([second, first]);
    expect((await amend(trader, second, { price: 139.99 })).status).toBe(200);
    expect(await order()).toEqual([first, second]);
    expect((await venueRows(symbol)).map((r) => r.amend_seq)).toEqual([2, 1]);
  });

  it("takes one amend of an order at a time: of two sent together (each with its own key), one applies and answers its own terms, the other 409", async () => {
    const symbol = await newInstrument(150);
    const trader = await newTrader(20_000);
    const id = await resting(trader, { symbol, quantity: 100, order_type: "LIMIT", price: 140 });
    const [a, b] = await Promise.all([
      amend(trader, id, { price: 141 }, { "Idempotency-Key": `${id}-up` }),
      amend(trader, id, { price: 139 }, { "Idempotency-Key": `${id}-down` }),
    ]);
    const answers = [{ asked: 141, res: a }, { asked: 139, res: b }];
    const applied = answers.filter((x) => x.res.status === 200);
    const refused = answers.filter((x) => x.res.status === 409);
    expect(applied).toHaveLength(1);
    expect(refused).toHaveLength(1);
    expect(await json(refused[0]!.res)).toMatchObject({ error: "ORDER_NOT_AMENDABLE", message: expect.stringContaining("retry in a moment") });
    expect(await json<Order>(applied[0]!.res)).toMatchObject({ price: applied[0]!.asked }); // its own terms, not another amend's
    expect((await auditOf(trader, id)).filter((r) => r.action === "REPLACED")).toHaveLength(1);
    expect(await getOrder(trader, id)).toMatchObject({ price: applied[0]!.asked });
  });

  it("answers the same amend again for the same Idempotency-Key, and 422 for another body", async () => {
    const symbol = await newInstrument(150);
    const trader = await newTrader(20_000);
    const id = await resting(trader, { symbol, quantity: 10, order_type: "LIMIT", price: 140 });
    const key = { "Idempotency-Key": "amend-1" };
    expect((await amend(trader, id, { price: 141 }, key)).status).toBe(200);
    const again = await amend(trader, id, { price: 141 }, key);
    expect(again.status).toBe(200);
    expect(again.headers.get("Idempotent-Replayed")).toBe("true");
    expect((await auditOf(trader, id)).filter((a) => a.action === "REPLACED")).toHaveLength(1);
    const other = await amend(trader, id, { price: 142 }, key);
    expect(other.status).toBe(422);
    expect(await json(other)).toMatchObject({ error: "IDEMPOTENCY_KEY_REUSED" });
  });
});

describe("an amend that cannot be", () => {
  it("refuses a filled or MARKET order with 409 ORDER_NOT_AMENDABLE and the status", async () => {
    const trader = await newTrader(20_000);
    const { id } = await json<{ id: string }>(await submit(trader, { symbol: "AAPL", quantity: 1, order_type: "MARKET" }));
    await untilStatus(trader, id, "FILLED");
    const res = await amend(trader, id, { quantity: 2 });
    expect(res.status).toBe(409);
    expect(await json(res)).toMatchObject({ error: "ORDER_NOT_AMENDABLE", details: { status: "FILLED" } });
  });

  it("checks the amended order as if new: fields of its type, quantity above filled, tick, stop side, funds, shares", async () => {
    const symbol = await newInstrument(150, { tick_size: 0.05 });
    const trader = await newTrader(15_000, [{ symbol, quantity: 10, avg_price: 150 }]);
    const limit = await resting(trader, { symbol, quantity: 50, order_type: "LIMIT", price: 140 });
    const stop = await resting(trader, { symbol, side: "SELL", quantity: 10, order_type: "STOP", stop_price: 145 });
    const cases: [string, unknown, string, string][] = [
      [stop, { price: 140 }, "VALIDATION_ERROR", "price"],
      [limit, { stop_price: 140 }, "VALIDATION_ERROR", "stop_price"],
      [limit, { price: 140.02 }, "VALIDATION_ERROR", "price"],
      [stop, { stop_price: 150.05 }, "VALIDATION_ERROR", "stop_price"],
      [limit, { quantity: 0 }, "VALIDATION_ERROR", "quantity"],
      [limit, { price: 200 }, "PRICE_OUT_OF_BAND", ""],
      [limit, { quantity: 200 }, "INSUFFICIENT_FUNDS", ""],
      [stop, { quantity: 11 }, "INSUFFICIENT_POSITION", ""],
      [limit, {}, "VALIDATION_ERROR", "body"],
      [limit, { time_in_force: "IOC" }, "VALIDATION_ERROR", "time_in_force"],
      [limit, { side: "SELL" }, "VALIDATION_ERROR", "side"],
    ];
    for (const [id, body, code, field] of cases) {
      const res = await amend(trader, id, body);
      const answer = await json<{ error: string; details: { fields?: Record<string, string> } }>(res);
      expect(answer.error, JSON.stringify(body)).toBe(code);
      if (field) expect(Object.keys(answer.details.fields ?? {}), JSON.stringify(body)).toContain(field);
    }
    // Nothing changed: the reservations and terms are the original ones.
    expect(await account(trader)).toMatchObject({ reserved: 7_000 });
    expect(await getOrder(trader, limit)).toMatchObject({ quantity: 50, price: 140, amended_at: null });
    expect((await auditOf(trader, limit)).map((a) => a.action)).not.toContain("REPLACED");
    // Exactly enough cash: 15,000 buys 107 at 140.00 (14,980.00).
    expect((await amend(trader, limit, { quantity: 107 })).status).toBe(200);
    expect(await account(trader)).toMatchObject({ reserved: 14_980 });
  });

  it("ends an amend racing a fill in exactly one outcome", async () => {
    const symbol = await newInstrument(150);
    const trader = await newTrader(100_000);
    for (let round = 0; round < 6; round++) {
      await setInstrument(symbol, { price: 150 });
      const id = await resting(trader, { symbol, quantity: 10, order_type: "LIMIT", price: 140 });
      const [answer] = await Promise.all([amend(trader, id, { price: 141 }), setInstrument(symbol, { price: 139.5 })]);
      const final = await untilStatus(trader, id, "FILLED");
      const actions = (await auditOf(trader, id)).map((a) => a.action);
      if (answer.status === 200) {
        expect(actions).toEqual(["SUBMITTED", "APPROVED", "EXECUTED", "REPLACED", "FILLED"]);
      } else {
        expect(answer.status).toBe(409);
        expect(await json(answer)).toMatchObject({ error: "ORDER_NOT_AMENDABLE", details: { status: "FILLED" } });
        expect(actions).toEqual(["SUBMITTED", "APPROVED", "EXECUTED", "FILLED"]);
      }
      expect(final.fills).toHaveLength(1);
      expect(final.fills[0]!.price_at_fill).toBe(139.5);
    }
    // One venue order per desk order, each executed once; nothing left reserved.
    const rows = await venueRows(symbol);
    expect(rows).toHaveLength(6);
    expect(await account(trader)).toMatchObject({ reserved: 0 });
  });
});
