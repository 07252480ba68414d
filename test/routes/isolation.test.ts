// A trader sees and touches only its own orders: another trader's order id answers exactly as an unknown
// id does, lists never mix traders, and a trader's WebSocket never carries another trader's events.
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { asTrader, auditOf, call, eventually, getOrder, json, newTrader, submit, untilStatus, type Trader } from "../helpers/api";
import { sign } from "../helpers/auth";
import { connectEvents, isEvent, isStreamEvent, listen, streamEvents, upgrade, type EventSocket } from "../helpers/ws";
import type { Order } from "../../worker/shared/orders";

const sockets: EventSocket[] = [];
afterEach(() => {
  for (const s of sockets.splice(0)) s.close();
});

async function open(token: string, since?: number): Promise<EventSocket> {
  const socket = await connectEvents(token, since);
  sockets.push(socket);
  return socket;
}

async function place(trader: Trader, body: Record<string, unknown>): Promise<Order> {
  const res = await submit(trader, body);
  expect(res.status, await res.clone().text()).toBe(201);
  return json<Order>(res);
}

/** A filled market order for `trader`, 1 share of AAPL. */
async function filledOrder(trader: Trader): Promise<Order> {
  const order = await place(trader, { symbol: "AAPL", quantity: 1, order_type: "MARKET" });
  await untilStatus(trader, order.id, "FILLED");
  return order;
}

/** Status, code and body of a 404 with the order id masked, to compare with an unknown id's answer. */
async function notFound(res: Response, id: string): Promise<{ status: number; body: string; type: string | null }> {
  const text = await res.text();
  return { status: res.status, type: res.headers.get("Content-Type"), body: text.split(id).join("<id>") };
}

/** An id of the same form as a real one that no trader has. */
const unknownId = (real: string) => `${real.slice(0, -6)}ZZZZZZ`;

describe("another trader's order answers like an unknown id", () => {
  it("bob reading alice's order gets 404 ORDER_NOT_FOUND, exactly as for an unknown id", async () => {
    const alice = await newTrader(10_000, [], "alice");
    const bob = await newTrader(10_000, [], "bob");
    const order = await filledOrder(alice);
    const missing = unknownId(order.id);

    const stranger = await notFound(await call(`/api/v1/orders/${order.id}`, { token: bob.token }), order.id);
    const unknown = await notFound(await call(`/api/v1/orders/${missing}`, { token: bob.token }), missing);
    expect(stranger).toEqual(unknown);
    expect(stranger.status).toBe(404);
    expect(JSON.parse(stranger.body)).toMatchObject({ error: "ORDER_NOT_FOUND" });
    // Alice still reads it.
    expect((await getOrder(alice, order.id)).status).toBe("FILLED");
  });

  it("bob cancelling alice's working order gets 404, and the order keeps working", async () => {
    const alice = await newTrader(10_000, [], "alice");
    const bob = await newTrader(10_000, [], "bob");
    const order = await place(alice, { symbol: "AAPL", quantity: 10, order_type: "LIMIT", price: 140, time_in_force: "GTC" });
    const missing = unknownId(order.id);

    const stranger = await notFound(await call(`/api/v1/orders/${order.id}/cancel`, { method: "POST", token: bob.token }), order.id);
    const unknown = await notFound(await call(`/api/v1/orders/${missing}/cancel`, { method: "POST", token: bob.token }), missing);
    expect(stranger).toEqual(unknown);
    expect(JSON.parse(stranger.body)).toMatchObject({ error: "ORDER_NOT_FOUND" });

    expect((await getOrder(alice, order.id)).status).toBe("PENDING");
    expect((await auditOf(alice, order.id)).map((a) => a.action)).not.toContain("CANCELLED");
    expect(await json(await call("/api/v1/account", { token: alice.token }))).toMatchObject({ reserved: 1400 });

    // Alice herself can cancel it: the order was cancellable all along.
    const own = await call(`/api/v1/orders/${order.id}/cancel`, { method: "POST", token: alice.token });
    expect(own.status).toBe(200);
    expect(await own.json()).toMatchObject({ id: order.id, status: "CANCELLED" });
  });

  it("bob reading alice's audit trail gets 404, exactly as for an unknown id", async () => {
    const alice = await newTrader(10_000, [], "alice");
    const bob = await newTrader(10_000, [], "bob");
    const order = await filledOrder(alice);
    const missing = unknownId(order.id);

    const stranger = await notFound(await call(`/api/v1/orders/${order.id}/audit`, { token: bob.token }), order.id);
    const unknown = await notFound(await call(`/api/v1/orders/${missing}/audit`, { token: bob.token }), missing);
    expect(stranger).toEqual(unknown);
    expect(JSON.parse(stranger.body)).toMatchObject({ error: "ORDER_NOT_FOUND" });
    expect((await auditOf(alice, order.id)).length).toBe(4);
  });

  it("bob's list holds only bob's orders, whatever the filters", async () => {
    const alice = await newTrader(10_000, [], "alice");
    const bob = await newTrader(10_000, [], "bob");
    const hers = await filledOrder(alice);
    const his = await filledOrder(bob);

    for (const query of ["", "?status=FILLED", "?symbol=AAPL", "?status=FILLED&symbol=AAPL&limit=500"]) {
      const list = await json<{ data: Order[]; next_cursor: string | null }>(await call(`/api/v1/orders${query}`, { token: bob.token }));
      expect(list.data.map((o) => o.id), query).toEqual([his.id]);
      expect(list.data.every((o) => o.trader_id === bob.id)).toBe(true);
    }
    const aliceList = await json<{ data: Order[] }>(await call("/api/v1/orders", { token: alice.token }));
    expect(aliceList.data.map((o) => o.id)).toEqual([hers.id]);
  });

  it("keeps the seeded alice's order away from the seeded bob", async () => {
    const alice = await asTrader("alice");
    const bob = await asTrader("bob");
    const order = await filledOrder(alice);
    expect((await call(`/api/v1/orders/${order.id}`, { token: bob.token })).status).toBe(404);
    expect((await call(`/api/v1/orders/${order.id}/audit`, { token: bob.token })).status).toBe(404);
    expect((await call(`/api/v1/orders/${order.id}/cancel`, { method: "POST", token: bob.token })).status).toBe(404);
    const bobList = await json<{ data: Order[] }>(await call("/api/v1/orders", { token: bob.token }));
    expect(bobList.data.map((o) => o.id)).not.toContain(order.id);
    // The system of record files the order under alice alone.
    // (D1 is written by the desk's outbox a moment after the change: wait for the flush.)
    const rows = await eventually(
      async () => (await env.DB.prepare("SELECT DISTINCT trader_id FROM execution_logs WHERE order_id = ?").bind(order.id).all<{ trader_id: string }>()).results,
      (r) => r.length > 0,
    );
    expect(rows.map((r) => r.trader_id)).toEqual(["alice"]);
  });
});

describe("order events reach only their own trader", () => {
  it("alice's socket receives her order's events and bob's socket none of them", async () => {
    const alice = await newTrader(10_000, [], "alice");
    const bob = await newTrader(10_000, [], "bob");
    const aliceWs = await open(alice.token);
    const bobWs = await open(bob.token);
    expect(await aliceWs.waitFor((m) => "type" in m && m.type === "connection_acknowledged")).toMatchObject({ trader_id: alice.id });
    expect(await bobWs.waitFor((m) => "type" in m && m.type === "connection_acknowledged")).toMatchObject({ trader_id: bob.id });

    const hers = await place(alice, { symbol: "AAPL", quantity: 1, order_type: "MARKET" });
    await aliceWs.waitFor((m) => isEvent(m) && m.order_id === hers.id && m.event === "order.filled");
    expect(aliceWs.events().filter((e) => e.order_id === hers.id).map((e) => e.event)).toEqual(["order.submitted", "order.accepted", "order.filled"]);

    // Bob's own order afterwards: once its fill reaches bob, anything of alice's would have too.
    const his = await place(bob, { symbol: "AAPL", quantity: 2, order_type: "MARKET" });
    await bobWs.waitFor((m) => isEvent(m) && m.order_id === his.id && m.event === "order.filled");
    // ...and the account.updated of that fill (the fifth event of a market buy).
    await bobWs.waitFor((m) => isStreamEvent(m) && m.seq === 5);
    await aliceWs.waitFor((m) => isStreamEvent(m) && m.seq === 5);

    expect(bobWs.events().every((e) => e.order_id === his.id)).toBe(true);
    expect(JSON.stringify(bobWs.messages)).not.toContain(hers.id);
    expect(JSON.stringify(bobWs.messages)).not.toContain(alice.id);
    // Bob's stream, account events included, is his own seq from 1 without gaps.
    const bobStream = streamEvents(bobWs.messages);
    expect(bobStream.map((e) => e.seq)).toEqual(bobStream.map((_, i) => i + 1));
    expect(bobStream.map((e) => e.event)).toEqual(["order.submitted", "account.updated", "order.accepted", "order.filled", "account.updated"]);
    expect(bobStream.filter((e) => e.event === "account.updated").map((e) => "trader_id" in e && e.trader_id)).toEqual([bob.id, bob.id]);
    expect(JSON.stringify(aliceWs.messages)).not.toContain(his.id);
    expect(JSON.stringify(aliceWs.messages)).not.toContain(bob.id);
    expect([...aliceWs.invalid, ...bobWs.invalid]).toEqual([]);
  });

  it("replays to bob with since=0 only bob's own events", async () => {
    const alice = await newTrader(10_000, [], "alice");
    const bob = await newTrader(10_000, [], "bob");
    const hers = await filledOrder(alice);
    const his = await filledOrder(bob);

    const bobWs = await open(bob.token, 0);
    const done = await bobWs.waitFor((m) => "type" in m && m.type === "replay_complete");
    // Bob's market buy: its three order events and the two account.updated (reservation, fill).
    expect(done).toMatchObject({ seq: 5, replayed: 5 });
    expect(bobWs.events().map((e) => [e.order_id, e.event])).toEqual([
      [his.id, "order.submitted"], [his.id, "order.accepted"], [his.id, "order.filled"],
    ]);
    expect(streamEvents(bobWs.messages).map((e) => [e.seq, e.event, "trader_id" in e ? e.trader_id : e.order_id])).toEqual([
      [1, "order.submitted", his.id], [2, "account.updated", bob.id], [3, "order.accepted", his.id], [4, "order.filled", his.id], [5, "account.updated", bob.id],
    ]);
    expect(JSON.stringify(bobWs.messages)).not.toContain(hers.id);
    expect(JSON.stringify(bobWs.messages)).not.toContain(alice.id);
  });

  it("lets the verified token, not the URL, pick whose events a socket carries", async () => {
    const alice = await newTrader(10_000, [], "alice");
    const bob = await newTrader(10_000, [], "bob");
    const query = new URLSearchParams({ token: bob.token, trader_id: alice.id, sub: alice.id, since: "0" });
    const bobWs = await listen(await upgrade(query.toString(), { "X-Fillwire-Trader": alice.id }));
    sockets.push(bobWs);
    expect(await bobWs.waitFor((m) => "type" in m && m.type === "connection_acknowledged")).toMatchObject({ trader_id: bob.id });

    const hers = await filledOrder(alice);
    const his = await filledOrder(bob);
    await bobWs.waitFor((m) => isEvent(m) && m.order_id === his.id && m.event === "order.filled");
    expect(JSON.stringify(bobWs.messages)).not.toContain(hers.id);
  });

  it("keeps alice's events off a socket that bob authenticated with a first auth message", async () => {
    const alice = await newTrader(10_000, [], "alice");
    const bob = await newTrader(10_000, [], "bob");
    const bobWs = await listen(await upgrade(""));
    sockets.push(bobWs);
    bobWs.send(JSON.stringify({ type: "auth", token: bob.token }));
    expect(await bobWs.waitFor((m) => "type" in m && m.type === "connection_acknowledged")).toMatchObject({ trader_id: bob.id });

    const hers = await filledOrder(alice);
    const his = await filledOrder(bob);
    await bobWs.waitFor((m) => isEvent(m) && m.order_id === his.id && m.event === "order.filled");
    expect(JSON.stringify(bobWs.messages)).not.toContain(hers.id);
    expect(bobWs.events().every((e) => e.order_id === his.id)).toBe(true);
  });

  it("refuses a socket whose first auth message carries a compliance token", async () => {
    const ws = await listen(await upgrade(""));
    sockets.push(ws);
    ws.send(JSON.stringify({ type: "auth", token: await sign("alice", "compliance") }));
    expect(await ws.waitFor((m) => "type" in m && m.type === "error")).toMatchObject({ error: "UNAUTHORIZED" });
    expect(ws.events()).toEqual([]);
  });
});
