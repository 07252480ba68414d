import { env } from "cloudflare:workers";
import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { SignJWT } from "jose";
import { afterEach, describe, expect, it } from "vitest";
import { eventually, json, newTrader, submit, untilStatus, type Trader } from "../helpers/api";
import { sign } from "../helpers/auth";
import { closeAll, connect, streamEventsIn, upgrade, type Message } from "../helpers/socket";

afterEach(closeAll);

/**
 * A small AAPL market buy that fills at once: five stream events under consecutive seqs (order.submitted,
 * account.updated for the reservation, order.accepted, order.filled, account.updated for the fill).
 */
async function buyAndFill(trader: Trader): Promise<string> {
  const res = await submit(trader, { symbol: "AAPL", quantity: 1, order_type: "MARKET" });
  expect(res.status).toBe(201);
  const { id } = await json<{ id: string }>(res);
  await untilStatus(trader, id, "FILLED");
  return id;
}

/** Seqs of every stream event (order events and account.updated) in `messages`. */
const seqsOf = (messages: Message[]) => streamEventsIn(messages).map((m) => m.seq);
/** What one buyAndFill streams, in order. */
const BUY_AND_FILL = ["order.submitted", "account.updated", "order.accepted", "order.filled", "account.updated"];
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe("GET /ws/orders/events", () => {
  it("answers the order-updates subprotocol and acknowledges the connection with the latest seq", async () => {
    const trader = await newTrader(1_000);
    const socket = await connect({ token: trader.token, protocols: "order-updates" });
    expect(socket.response.status).toBe(101);
    expect(socket.response.headers.get("Sec-WebSocket-Protocol")).toBe("order-updates");
    expect(await socket.next(() => true)).toEqual({ type: "connection_acknowledged", seq: 0, trader_id: trader.id });
  });

  it("refuses a bad token with 401 JSON before any upgrade", async () => {
    const wrongKey = await new SignJWT({ role: "trader" })
      .setProtectedHeader({ alg: "HS256" }).setSubject("mallory").setExpirationTime("1h")
      .sign(new TextEncoder().encode("not-the-fillwire-secret-0123456789"));
    const expired = await new SignJWT({ role: "trader" })
      .setProtectedHeader({ alg: "HS256" }).setSubject("late").setExpirationTime(Math.floor(Date.now() / 1000) - 60)
      .sign(new TextEncoder().encode(env.JWT_SECRET));
    for (const token of ["not-a-jwt", wrongKey, expired]) {
      const res = await upgrade({ token });
      expect(res.status).toBe(401);
      expect(res.webSocket).toBeNull();
      expect(res.headers.get("Content-Type")).toMatch(/application\/json/);
      expect(await json(res)).toMatchObject({ error: "UNAUTHORIZED", message: expect.any(String) });
    }
  });

  it("without a token, opens and waits for {type:auth}, then delivers the trader's events (the wscat flow)", async () => {
    const trader = await newTrader(1_000);
    const socket = await connect({});
    expect(socket.response.status).toBe(101);
    expect(socket.response.headers.get("Sec-WebSocket-Protocol")).toBe("order-updates");
    socket.send({ type: "auth", token: trader.token });
    expect(await socket.next((m) => m.type === "connection_acknowledged")).toMatchObject({ seq: 0, trader_id: trader.id });

    const id = await buyAndFill(trader);
    const events = await socket.untilEvent(id, "order.filled");
    expect(events.map((e) => e.event)).toEqual(["order.submitted", "order.accepted", "order.filled"]);
    // Every stream event, the account's included, under one contiguous seq.
    const stream = await socket.untilSeq(5);
    expect(stream.map((m) => [m.event, m.seq, m.order_id])).toEqual([
      ["order.submitted", 1, id], ["account.updated", 2, undefined], ["order.accepted", 3, id], ["order.filled", 4, id], ["account.updated", 5, undefined],
    ]);
    expect(socket.accountEvents().at(-1)).toMatchObject({ trader_id: trader.id, reserved: 0, positions: [{ symbol: "AAPL", quantity: 1 }] });

    socket.send({ type: "ping" });
    await socket.next((m) => m.type === "pong");
    expect(socket.closed).toBeNull();
  });

  it("closes an unauthenticated socket whose first message is not auth", async () => {
    const socket = await connect({});
    socket.send({ type: "ping" });
    const closed = await socket.untilClosed();
    expect(closed.code).not.toBe(1000);
    expect(socket.messages).toEqual([expect.objectContaining({ type: "error", error: "UNAUTHORIZED" })]);
  });

  it("closes an unauthenticated socket whose auth token is bad, sending no events", async () => {
    const socket = await connect({});
    socket.send({ type: "auth", token: "not-a-jwt" });
    await socket.untilClosed();
    expect(socket.messages.filter((m) => m.type !== "error")).toEqual([]);
  });

  it("replays exactly the events missed while disconnected after since=<last seq>, then replay_complete", async () => {
    const trader = await newTrader(2_000);
    const first = await connect({ token: trader.token });
    await buyAndFill(trader);
    const second = await buyAndFill(trader);
    await first.untilEvent(second, "order.filled");
    await first.untilSeq(10);
    const seen = seqsOf(first.messages);
    expect(seen).toEqual(range(1, 10));
    const last = 10;
    first.close();
    await first.untilClosed();

    const missed = await buyAndFill(trader);

    const again = await connect({ token: trader.token, since: last });
    const messages = await again.until((all) => all.some((m) => m.type === "replay_complete"));
    expect(messages[0]).toEqual({ type: "connection_acknowledged", seq: 15, trader_id: trader.id });
    const replayed = messages.slice(1, -1);
    expect(replayed.map((m) => [m.event, m.seq, m.order_id])).toEqual([
      ["order.submitted", 11, missed], ["account.updated", 12, undefined], ["order.accepted", 13, missed],
      ["order.filled", 14, missed], ["account.updated", 15, undefined],
    ]);
    // The replayed account is the one after the missed fill: three shares bought, nothing reserved.
    expect(replayed.at(-1)).toMatchObject({ trader_id: trader.id, reserved: 0, positions: [{ symbol: "AAPL", quantity: 3 }] });
    expect(messages.at(-1)).toEqual({ type: "replay_complete", seq: 15, replayed: 5 });
    expect(messages).toHaveLength(7);

    // Live events continue the same sequence after the replay.
    const next = await buyAndFill(trader);
    await again.untilEvent(next, "order.filled");
    await again.untilSeq(20);
    expect(seqsOf(again.messages)).toEqual(range(11, 20));
  });

  it("replays nothing to a client that is already up to date", async () => {
    const trader = await newTrader(1_000);
    await buyAndFill(trader);
    // The buy's five stream events end with the account after the fill, at seq 5.
    const socket = await connect({ token: trader.token, since: 5 });
    const messages = await socket.until((all) => all.some((m) => m.type === "replay_complete"));
    expect(messages).toEqual([
      { type: "connection_acknowledged", seq: 5, trader_id: trader.id },
      { type: "replay_complete", seq: 5, replayed: 0 },
    ]);
  });

  it("answers {type:ping} with {type:pong}", async () => {
    const trader = await newTrader(1_000);
    const socket = await connect({ token: trader.token });
    await socket.next((m) => m.type === "connection_acknowledged");
    socket.send('{"type":"ping"}');
    await socket.next((m) => m.type === "pong");
    socket.send('{ "type": "ping" }');
    await socket.until((all) => all.filter((m) => m.type === "pong").length === 2);
  });

  it("answers garbage with an error message and stays usable", async () => {
    const trader = await newTrader(1_000);
    const socket = await connect({ token: trader.token });
    await socket.next((m) => m.type === "connection_acknowledged");
    socket.send("this is not json {");
    expect(await socket.next((m) => m.type === "error")).toMatchObject({ type: "error", error: expect.any(String), message: expect.any(String) });
    socket.send({ type: "subscribe", channel: "everything" });
    await socket.until((all) => all.filter((m) => m.type === "error").length === 2);

    socket.send({ type: "ping" });
    await socket.next((m) => m.type === "pong");
    const id = await buyAndFill(trader);
    await socket.untilEvent(id, "order.filled");
    expect(socket.closed).toBeNull();
  });

  it("never sends one trader's events to another trader's socket", async () => {
    const alice = await newTrader(1_000);
    const bob = await newTrader(1_000);
    const bobs = await connect({ token: bob.token });
    const alices = await connect({ token: alice.token });
    const id = await buyAndFill(alice);
    await alices.untilEvent(id, "order.filled");
    const mine = await buyAndFill(bob);
    await bobs.untilEvent(mine, "order.filled");
    expect(bobs.events().map((e) => e.order_id)).toEqual([mine, mine, mine]);
    await bobs.untilSeq(5);
    expect(bobs.accountEvents().map((a) => a.trader_id)).toEqual([bob.id, bob.id]);
  });

  it("replays with since on the no-token flow too, once the auth message arrives", async () => {
    const trader = await newTrader(1_000);
    await buyAndFill(trader);
    const socket = await connect({ since: 1 });
    socket.send({ type: "auth", token: trader.token });
    const messages = await socket.until((all) => all.some((m) => m.type === "replay_complete"));
    expect(messages.map((m) => m.type ?? m.seq)).toEqual(["connection_acknowledged", 2, 3, 4, 5, "replay_complete"]);
    expect(streamEventsIn(messages).map((m) => m.event)).toEqual(BUY_AND_FILL.slice(1));
  });

  it("refuses a non-trader token with 403 and a malformed since with 400, before any upgrade", async () => {
    const officer = await upgrade({ token: await sign("officer", "compliance") });
    expect(officer.status).toBe(403);
    expect(officer.webSocket).toBeNull();
    expect(await json(officer)).toMatchObject({ error: "FORBIDDEN" });

    const trader = await newTrader(1_000);
    const bad = await upgrade({ token: trader.token, since: "yesterday" });
    expect(bad.status).toBe(400);
    expect(bad.webSocket).toBeNull();
    expect(await json(bad)).toMatchObject({ error: "VALIDATION_ERROR" });
  });

  it("keeps delivering events after the desk is evicted and its socket hibernated", async () => {
    const trader = await newTrader(1_000);
    const socket = await connect({ token: trader.token });
    const first = await buyAndFill(trader);
    await socket.untilEvent(first, "order.filled");
    await socket.untilSeq(5);

    await evictDurableObject(env.TRADER.get(env.TRADER.idFromName(trader.id)), { webSockets: "hibernate" });

    socket.send({ type: "ping" });
    await socket.next((m) => m.type === "pong");
    const second = await buyAndFill(trader);
    await socket.untilEvent(second, "order.filled");
    await socket.untilSeq(10);
    expect(seqsOf(socket.messages)).toEqual(range(1, 10));
    expect(socket.streamEvents().map((m) => m.event)).toEqual([...BUY_AND_FILL, ...BUY_AND_FILL]);
    expect(socket.closed).toBeNull();
  });

  it("closing a no-token (relayed) socket also closes its connection to the desk", async () => {
    const trader = await newTrader(1_000);
    const socket = await connect({});
    socket.send({ type: "auth", token: trader.token });
    await socket.next((m) => m.type === "connection_acknowledged");
    const desk = env.TRADER.get(env.TRADER.idFromName(trader.id));
    const open = () => runInDurableObject(desk, (_i, state) => state.getWebSockets().filter((w) => w.readyState === WebSocket.OPEN).length);
    expect(await open()).toBe(1);

    socket.close();
    await eventually(open, (n) => n === 0);
  });
});
