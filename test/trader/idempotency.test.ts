// Idempotent submission (IETF Idempotency-Key draft, scoped to the trader): the same key (or
// client_order_id) with the same body returns the same order and creates nothing, a different body is 422,
// a key still in flight is 409, and a refused request does not use up its key.
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { auditOf, call, eventually, getOrder, json, newInstrument, newTrader, setInstrument, submit, untilStatus, type Trader } from "../helpers/api";
import { connectEvents, type EventSocket } from "../helpers/ws";
import type { Order } from "../../worker/shared/orders";

const sockets: EventSocket[] = [];
afterEach(() => {
  for (const s of sockets.splice(0)) s.close();
});

const deskOf = (traderId: string) => env.TRADER.get(env.TRADER.idFromName(traderId));
const withKey = (key: string) => ({ "Idempotency-Key": key });
const newKey = () => `key-${crypto.randomUUID()}`;

/** Rows D1 holds for the trader once the desk's outbox has drained. */
async function d1Rows(traderId: string): Promise<{ orders: number; fills: number; logs: number }> {
  await eventually(() => deskOf(traderId).pendingOutbox(), (n) => n === 0);
  const count = async (table: string) =>
    (await env.DB.prepare(`SELECT COUNT(*) AS n FROM ${table} WHERE trader_id = ?`).bind(traderId).first<{ n: number }>())?.n ?? 0;
  return { orders: await count("orders"), fills: await count("fills"), logs: await count("execution_logs") };
}

async function listIds(trader: Trader): Promise<string[]> {
  return (await json<{ data: Order[] }>(await call("/api/v1/orders", { token: trader.token }))).data.map((o) => o.id);
}

async function account(trader: Trader): Promise<Record<string, unknown>> {
  return json(await call("/api/v1/account", { token: trader.token }));
}

async function expectError(res: Response, status: number, code: string): Promise<Record<string, unknown>> {
  const text = await res.text();
  expect(res.status, text).toBe(status);
  const body = JSON.parse(text) as Record<string, unknown>;
  expect(body.error, text).toBe(code);
  expect(body.message).toEqual(expect.any(String));
  return body;
}

const tenAapl = { symbol: "AAPL", quantity: 10, order_type: "MARKET" };

describe("the same Idempotency-Key with the same body", () => {
  it("returns the same order, marked Idempotent-Replayed, and fills and charges it once", async () => {
    const trader = await newTrader(5000);
    const ws = await connectEvents(trader.token);
    sockets.push(ws);
    const key = newKey();

    const first = await submit(trader, tenAapl, withKey(key));
    expect(first.status).toBe(201);
    expect(first.headers.get("Idempotent-Replayed")).toBeNull();
    const order = await json<Order>(first);

    const again = await submit(trader, tenAapl, withKey(key));
    expect(again.status).toBe(201);
    expect(again.headers.get("Idempotent-Replayed")).toBe("true");
    expect(await json<Order>(again)).toMatchObject({ id: order.id, symbol: "AAPL", quantity: 10 });

    const filled = await untilStatus(trader, order.id, "FILLED");
    expect(filled.fills).toHaveLength(1);
    expect(filled.fills[0]).toMatchObject({ quantity_filled: 10, price_at_fill: 150 });

    // Still the same order once it is done, whatever the order of the body's keys.
    const later = await submit(trader, { order_type: "MARKET", quantity: 10, symbol: "AAPL" }, withKey(key));
    expect(later.status).toBe(201);
    expect(later.headers.get("Idempotent-Replayed")).toBe("true");
    expect(await json<Order>(later)).toMatchObject({ id: order.id, status: "FILLED", filled_quantity: 10 });

    expect(await listIds(trader)).toEqual([order.id]);
    expect((await auditOf(trader, order.id)).map((a) => a.action)).toEqual(["SUBMITTED", "APPROVED", "EXECUTED", "FILLED"]);
    expect(await account(trader)).toMatchObject({ cash: 3500, reserved: 0, positions: [{ symbol: "AAPL", quantity: 10, avg_price: 150 }] });
    expect(await d1Rows(trader.id)).toEqual({ orders: 1, fills: 1, logs: 4 });
    // The replays sent no events: one order's worth on the trader's socket.
    expect(ws.events().map((e) => e.event)).toEqual(["order.submitted", "order.accepted", "order.filled"]);
  });

  it("keeps keys per trader: two traders using one key each get their own order", async () => {
    const alice = await newTrader(5000, [], "alice");
    const bob = await newTrader(5000, [], "bob");
    const key = newKey();
    const a = await submit(alice, tenAapl, withKey(key));
    const b = await submit(bob, tenAapl, withKey(key));
    expect([a.status, b.status]).toEqual([201, 201]);
    expect(b.headers.get("Idempotent-Replayed")).toBeNull();
    const [ao, bo] = [await json<Order>(a), await json<Order>(b)];
    expect(bo.id).not.toBe(ao.id);
    expect(bo.trader_id).toBe(bob.id);
    await untilStatus(alice, ao.id, "FILLED");
    await untilStatus(bob, bo.id, "FILLED");
    expect(await listIds(alice)).toEqual([ao.id]);
    expect(await listIds(bob)).toEqual([bo.id]);
  });
});

describe("the same key with a different body", () => {
  it("answers 422 IDEMPOTENCY_KEY_REUSED and creates nothing", async () => {
    const trader = await newTrader(5000);
    const key = newKey();
    const first = await submit(trader, tenAapl, withKey(key));
    expect(first.status).toBe(201);
    const order = await json<Order>(first);
    await untilStatus(trader, order.id, "FILLED");

    for (const changed of [
      { ...tenAapl, quantity: 11 },
      { ...tenAapl, symbol: "MSFT" },
      { ...tenAapl, time_in_force: "IOC" },
      { symbol: "AAPL", quantity: 10, order_type: "LIMIT", price: 150 },
    ]) {
      await expectError(await submit(trader, changed, withKey(key)), 422, "IDEMPOTENCY_KEY_REUSED");
    }

    expect(await listIds(trader)).toEqual([order.id]);
    expect(await account(trader)).toMatchObject({ cash: 3500, reserved: 0 });
    expect(await d1Rows(trader.id)).toEqual({ orders: 1, fills: 1, logs: 4 });
  });
});

describe("client_order_id without a header", () => {
  it("returns the same order for the same body and 422 for a changed one", async () => {
    const trader = await newTrader(5000);
    const body = { ...tenAapl, client_order_id: "ticket-0001" };
    const first = await submit(trader, body);
    expect(first.status).toBe(201);
    const order = await json<Order>(first);
    expect(order.client_order_id).toBe("ticket-0001");

    const again = await submit(trader, body);
    expect(again.status).toBe(201);
    expect(again.headers.get("Idempotent-Replayed")).toBe("true");
    expect((await json<Order>(again)).id).toBe(order.id);

    await expectError(await submit(trader, { ...body, quantity: 12 }), 422, "IDEMPOTENCY_KEY_REUSED");

    await untilStatus(trader, order.id, "FILLED");
    expect(await listIds(trader)).toEqual([order.id]);
    expect(await account(trader)).toMatchObject({ cash: 3500, reserved: 0 });
    expect(await d1Rows(trader.id)).toEqual({ orders: 1, fills: 1, logs: 4 });
  });
});

describe("concurrent submits with one key", () => {
  /** One 201 that created the order; every other answer is 409 IN_USE or a replay of that same order. */
  async function expectOneCreated(responses: Response[]): Promise<Order> {
    const outcomes = await Promise.all(
      responses.map(async (res) => ({ status: res.status, replayed: res.headers.get("Idempotent-Replayed") === "true", body: (await res.json()) as Record<string, unknown> })),
    );
    const created = outcomes.filter((o) => o.status === 201 && !o.replayed);
    expect(created, JSON.stringify(outcomes)).toHaveLength(1);
    const order = created[0]!.body as unknown as Order;
    for (const other of outcomes.filter((o) => o !== created[0])) {
      if (other.status === 201) {
        expect(other.replayed, JSON.stringify(other)).toBe(true);
        expect(other.body.id).toBe(order.id);
      } else {
        expect(other.status, JSON.stringify(other)).toBe(409);
        expect(other.body.error).toBe("IDEMPOTENCY_KEY_IN_USE");
      }
    }
    return order;
  }

  it("creates exactly one order from two simultaneous requests with the same Idempotency-Key", async () => {
    const trader = await newTrader(5000);
    const key = newKey();
    const order = await expectOneCreated(await Promise.all([submit(trader, tenAapl, withKey(key)), submit(trader, tenAapl, withKey(key))]));
    await untilStatus(trader, order.id, "FILLED");
    expect(await listIds(trader)).toEqual([order.id]);
    expect((await getOrder(trader, order.id)).fills).toHaveLength(1);
    expect(await account(trader)).toMatchObject({ cash: 3500, reserved: 0 });
    expect(await d1Rows(trader.id)).toEqual({ orders: 1, fills: 1, logs: 4 });
  });

  it("creates exactly one order from five simultaneous requests with the same client_order_id", async () => {
    const trader = await newTrader(5000);
    const body = { ...tenAapl, quantity: 3, client_order_id: `c-${crypto.randomUUID().slice(0, 8)}` };
    const order = await expectOneCreated(await Promise.all(Array.from({ length: 5 }, () => submit(trader, body))));
    await untilStatus(trader, order.id, "FILLED");
    expect(await listIds(trader)).toEqual([order.id]);
    expect(await account(trader)).toMatchObject({ cash: 4550, reserved: 0, positions: [{ symbol: "AAPL", quantity: 3 }] });
    expect(await d1Rows(trader.id)).toEqual({ orders: 1, fills: 1, logs: 4 });
  });

  it("creates one order when two simultaneous requests share a key but not a body", async () => {
    const trader = await newTrader(5000);
    const key = newKey();
    const responses = await Promise.all([submit(trader, tenAapl, withKey(key)), submit(trader, { ...tenAapl, quantity: 5 }, withKey(key))]);
    const outcomes = await Promise.all(responses.map(async (r) => ({ status: r.status, body: (await r.json()) as Record<string, unknown> })));
    const created = outcomes.filter((o) => o.status === 201);
    expect(created, JSON.stringify(outcomes)).toHaveLength(1);
    const loser = outcomes.find((o) => o.status !== 201)!;
    expect([409, 422], JSON.stringify(loser)).toContain(loser.status);
    expect(["IDEMPOTENCY_KEY_IN_USE", "IDEMPOTENCY_KEY_REUSED"]).toContain(loser.body.error);
    const id = created[0]!.body.id as string;
    await untilStatus(trader, id, "FILLED");
    expect(await listIds(trader)).toEqual([id]);
    expect((await d1Rows(trader.id)).orders).toBe(1);
  });
  it("creates one order when simultaneous requests carry different keys but the same client_order_id", async () => {
    const trader = await newTrader(5000);
    const body = { ...tenAapl, client_order_id: `c-${crypto.randomUUID().slice(0, 8)}` };
    // One with its own Idempotency-Key, one relying on client_order_id alone.
    const responses = await Promise.all([submit(trader, body, withKey(newKey())), submit(trader, body)]);
    const outcomes = await Promise.all(responses.map(async (r) => ({ status: r.status, body: await r.text() })));
    const created = outcomes.filter((o) => o.status === 201);
    expect(created.length, JSON.stringify(outcomes)).toBeGreaterThanOrEqual(1);
    const ids = new Set(created.map((o) => (JSON.parse(o.body) as Order).id));
    expect(ids.size, JSON.stringify(outcomes)).toBe(1);
    const [id] = [...ids];
    await untilStatus(trader, id!, "FILLED");
    expect(await listIds(trader)).toEqual([id]);
    expect(await d1Rows(trader.id)).toEqual({ orders: 1, fills: 1, logs: 4 });
    // The other request is a replay, a 409 or a 422: a client can act on it. Never a 500.
    for (const other of outcomes.filter((o) => o.status !== 201)) {
      expect([409, 422], JSON.stringify(other)).toContain(other.status);
    }
  });
});

describe("a refused request does not use up its key", () => {
  it("re-evaluates the same key and body after the price falls, instead of replaying the refusal", async () => {
    const symbol = await newInstrument(150);
    const trader = await newTrader(1000);
    const key = newKey();
    const body = { symbol, quantity: 10, order_type: "MARKET" };

    const refused = await expectError(await submit(trader, body, withKey(key)), 400, "INSUFFICIENT_FUNDS");
    expect(refused.details).toEqual({ required_balance: 1500, available_balance: 1000 });
    expect(await listIds(trader)).toEqual([]);

    expect((await setInstrument(symbol, { price: 50 })).status).toBe(200);
    const accepted = await submit(trader, body, withKey(key));
    expect(accepted.status, await accepted.clone().text()).toBe(201);
    expect(accepted.headers.get("Idempotent-Replayed")).toBeNull();
    const order = await json<Order>(accepted);
    const filled = await untilStatus(trader, order.id, "FILLED");
    expect(filled).toMatchObject({ filled_quantity: 10, avg_fill_price: 50 });

    // From now on the key belongs to that order.
    const replay = await submit(trader, body, withKey(key));
    expect(replay.headers.get("Idempotent-Replayed")).toBe("true");
    expect((await json<Order>(replay)).id).toBe(order.id);
    expect(await account(trader)).toMatchObject({ cash: 500, reserved: 0 });
    expect(await d1Rows(trader.id)).toEqual({ orders: 1, fills: 1, logs: 4 });
  });

  it("accepts a corrected body under a key whose first request failed validation", async () => {
    const trader = await newTrader(5000);
    const key = newKey();
    await expectError(await submit(trader, { ...tenAapl, quantity: 0 }, withKey(key)), 400, "VALIDATION_ERROR");
    const res = await submit(trader, tenAapl, withKey(key));
    expect(res.status, await res.clone().text()).toBe(201);
    expect(res.headers.get("Idempotent-Replayed")).toBeNull();
    await untilStatus(trader, (await json<Order>(res)).id, "FILLED");
    expect((await listIds(trader)).length).toBe(1);
  });

  it("refuses an Idempotency-Key over 255 characters as VALIDATION_ERROR and writes nothing", async () => {
    const trader = await newTrader(5000);
    const error = await expectError(await submit(trader, tenAapl, withKey("k".repeat(256))), 400, "VALIDATION_ERROR");
    expect(Object.keys((error.details as { fields: Record<string, string> }).fields)).toContain("idempotency-key");
    expect(await listIds(trader)).toEqual([]);
    expect(await d1Rows(trader.id)).toEqual({ orders: 0, fills: 0, logs: 0 });
  });
});
