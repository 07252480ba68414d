// Amending a contingent order's exits (issue 12: "Amending a leg works"): a HELD leg is amended on the desk
// alone (it is not at the venue yet) and comes alive with its new prices; a live exit amends at the venue like
// any order. Either way the price is checked as at placement (its side of the entry, the tick, the band) with
// the field named, and an exit's quantity and time in force follow its entry.
import { afterEach, describe, expect, it } from "vitest";
import { auditOf, call, eventually, getOrder, json, newInstrument, newTrader, setInstrument, untilStatus, type Trader } from "../helpers/api";
import { placeBracket } from "../helpers/contingent";
import { closeAll, connect } from "../helpers/socket";
import type { Order } from "../../worker/shared/orders";

afterEach(closeAll);

interface ErrorBody { error: string; message: string; details: { fields?: Record<string, string>; status?: string } }

const amend = (t: Trader, id: string, body: Record<string, unknown>, headers?: Record<string, string>) =>
  call(`/api/v1/orders/${id}`, { method: "PATCH", token: t.token, body, headers });
const move = async (symbol: string, price: number) => expect((await setInstrument(symbol, { price })).status).toBe(200);

const bracket = (trader: Trader, symbol: string) => placeBracket(trader, symbol);

describe("amending a HELD leg", () => {
  it("changes its price on the desk, audits REPLACED with the parent named, and the leg comes alive with it", async () => {
    const symbol = await newInstrument(100);
    const trader = await newTrader(10_000);
    const socket = await connect({ token: trader.token });
    const [parent, tp, sl] = await bracket(trader, symbol);

    const res = await amend(trader, tp.id, { price: 107 }, { "Idempotency-Key": "tp-107" });
    expect(res.status, await res.clone().text()).toBe(200);
    expect(await json<Order>(res)).toMatchObject({ id: tp.id, status: "HELD", price: 107, amended_at: expect.any(String), parent_order_id: parent.id });
    expect(await json<Order>(await amend(trader, sl.id, { stop_price: 96.5 }))).toMatchObject({ status: "HELD", stop_price: 96.5 });
    const replaced = (await auditOf(trader, tp.id)).find((r) => r.action === "REPLACED");
    expect(replaced).toMatchObject({ status: "HELD", reason: "Amended: price $105.00 → $107.00", parent_order_id: parent.id });
    const [event] = await socket.untilEvent(tp.id, "order.replaced");
    expect(event).toMatchObject({ status: "HELD", parent_order_id: parent.id });
    // The same amend again, by its key: its outcome, not a second amend.
    const again = await amend(trader, tp.id, { price: 107 }, { "Idempotency-Key": "tp-107" });
    expect(again.status).toBe(200);
    expect((await auditOf(trader, tp.id)).filter((r) => r.action === "REPLACED")).toHaveLength(1);

    await move(symbol, 99); // the entry fills: both exits go live at their amended prices
    await untilStatus(trader, parent.id, "FILLED");
    for (const leg of [tp, sl]) await eventually(() => auditOf(trader, leg.id), (rows) => rows.some((r) => r.action === "EXECUTED"));
    await move(symbol, 105); // the old take-profit price: nothing sells
    await new Promise((r) => setTimeout(r, 150));
    expect(await getOrder(trader, tp.id)).toMatchObject({ status: "PENDING", filled_quantity: 0, price: 107 });
    await move(symbol, 107);
    expect(await untilStatus(trader, tp.id, "FILLED")).toMatchObject({ avg_fill_price: 107, filled_quantity: 10 });
    await untilStatus(trader, sl.id, "CANCELLED");
  });

  // Each refused amend names its field, answers 400, and leaves the leg as it was.
  const refusals: [what: string, leg: "tp" | "sl", body: Record<string, unknown>, error: string, field: string][] = [
    ["a take-profit at or below the entry", "tp", { price: 99 }, "VALIDATION_ERROR", "price"],
    ["a stop-loss at or above the entry", "sl", { stop_price: 99 }, "VALIDATION_ERROR", "stop_price"],
    ["a price off the tick", "tp", { price: 106.005 }, "VALIDATION_ERROR", "price"],
    ["a stop_price on a LIMIT leg", "tp", { stop_price: 96 }, "VALIDATION_ERROR", "stop_price"],
    ["a price on a STOP leg", "sl", { price: 96 }, "VALIDATION_ERROR", "price"],
    ["a quantity (it follows the entry's fills)", "tp", { quantity: 5 }, "VALIDATION_ERROR", "quantity"],
    ["a time in force (it follows the entry)", "sl", { time_in_force: "DAY" }, "VALIDATION_ERROR", "time_in_force"],
  ];
  for (const [what, which, body, error, field] of refusals) {
    it(`refuses ${what}: 400 naming ${field}`, async () => {
      const symbol = await newInstrument(100);
      const trader = await newTrader(10_000);
      const [, tp, sl] = await bracket(trader, symbol);
      const leg = which === "tp" ? tp : sl;
      const res = await amend(trader, leg.id, body);
      expect(res.status).toBe(400);
      const answer = await json<ErrorBody>(res);
      expect(answer.error).toBe(error);
      expect(Object.keys(answer.details.fields ?? {}), answer.message).toContain(field);
      expect(await getOrder(trader, leg.id)).toMatchObject({ status: "HELD", price: leg.price, stop_price: leg.stop_price, quantity: 10, amended_at: null });
    });
  }

  it("refuses a price outside the band with PRICE_OUT_OF_BAND and the allowed range", async () => {
    const symbol = await newInstrument(100);
    const trader = await newTrader(10_000);
    const [, tp] = await bracket(trader, symbol);
    const res = await amend(trader, tp.id, { price: 150 });
    expect(res.status).toBe(400);
    expect(await json<ErrorBody>(res)).toMatchObject({ error: "PRICE_OUT_OF_BAND", details: { field: "price", max_price: 110 } });
  });
});

describe("amending a live exit", () => {
  it("moves the stop-loss at the venue, and refuses a new quantity (the pair follows the entry's fills)", async () => {
    const symbol = await newInstrument(100);
    const trader = await newTrader(10_000);
    const [parent, tp, sl] = await bracket(trader, symbol);
    await move(symbol, 99);
    await untilStatus(trader, parent.id, "FILLED");
    for (const leg of [tp, sl]) await eventually(() => auditOf(trader, leg.id), (rows) => rows.some((r) => r.action === "EXECUTED"));

    const quantity = await amend(trader, sl.id, { quantity: 20 });
    expect(quantity.status).toBe(400);
    expect(Object.keys((await json<ErrorBody>(quantity)).details.fields ?? {})).toEqual(["quantity"]);

    const res = await amend(trader, sl.id, { stop_price: 97 });
    expect(res.status, await res.clone().text()).toBe(200);
    expect(await json<Order>(res)).toMatchObject({ status: "PENDING", stop_price: 97, quantity: 10 });
    await move(symbol, 97); // through the amended stop: the stop-loss sells, the take-profit goes
    expect(await untilStatus(trader, sl.id, "FILLED")).toMatchObject({ filled_quantity: 10 });
    await untilStatus(trader, tp.id, "CANCELLED");
  });
});
