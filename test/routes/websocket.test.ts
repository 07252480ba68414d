import { env } from "cloudflare:workers";
import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { SignJWT } from "jose";
import { afterEach, describe, expect, it } from "vitest";
import { eventually, json, newTrader, submit, untilStatus, type Trader } from "../helpers/api";
import { sign } from "../helpers/auth";
import { closeAll, connect, upgrade, type Message } from "../helpers/socket";

afterEach(closeAll);

/** A small AAPL market buy that fills at once: three events (submitted, accepted, filled). */
async function buyAndFill(trader: Trader): Promise<string> {
  const res = await submit(trader, { symbol: "AAPL", quantity: 1, order_type: "MARKET" });
  expect(res.status).toBe(201);
  const { id } = await json<{ id: string }>(res);
  await untilStatus(trader, id, "FILLED");
  return id;
}

const seqsOf = (messages: Message[]) => messages.filter((m) => typeof m.event === "string").map((m) => m.seq);
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
    expect(events.map((e) => [e.event, e.seq])).toEqual([["order.submitted", 1], ["order.accepted", 2], ["order.filled", 3]]);

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
    const seen = seqsOf(first.messages);
    expect(seen).toEqual(range(1, 6));
    const last = 6;
    first.close();
    await first.untilClosed();

    const missed = await buyAndFill(trader);

    const again = await connect({ token: trader.token, since: last });
    const messages = await again.until((all) => all.some((m) => m.type === "replay_complete"));
    expect(messages[0]).toEqual({ type: "connection_acknowledged", seq: 9, trader_id: trader.id });
    const replayed = messages.slice(1, -1);
    expect(replayed.map((m) => [m.event, m.seq, m.order_id])).toEqual([
      ["order.submitted", 7, missed], ["order.accepted", 8, missed], ["order.filled", 9, missed],
    ]);
    expect(messages.at(-1)).toEqual({ type: "replay_complete", seq: 9, replayed: 3 });
    expect(messages).toHaveLength(5);

    // Live events continue the same sequence after the replay.
    const next = await buyAndFill(trader);
    await again.untilEvent(next, "order.filled");
    expect(seqsOf(again.messages)).toEqual(range(7, 12));
  });

  it("replays nothing to a client that is already up to date", async () => {
    const trader = await newTrader(1_000);
    await buyAndFill(trader);
    const socket = await connect({ token: trader.token, since: 3 });
    const messages = await socket.until((all) => all.some((m) => m.type === "replay_complete"));
    expect(messages).toEqual([
      { type: "connection_acknowledged", seq: 3, trader_id: trader.id },
      { type: "replay_complete", seq: 3, replayed: 0 },
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
  });

  it("replays with since on the no-token flow too, once the auth message arrives", async () => {
    const trader = await newTrader(1_000);
    await buyAndFill(trader);
    const socket = await connect({ since: 1 });
    socket.send({ type: "auth", token: trader.token });
    const messages = await socket.until((all) => all.some((m) => m.type === "replay_complete"));
    expect(messages.map((m) => m.type ?? m.seq)).toEqual(["connection_acknowledged", 2, 3, "replay_complete"]);
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

    await evictDurableObject(env.TRADER.get(env.TRADER.idFromName(trader.id)), { webSockets: "hibernate" });

    socket.send({ type: "ping" });
    await socket.next((m) => m.type === "pong");
    const second = await buyAndFill(trader);
    await socket.untilEvent(second, "order.filled");
    expect(seqsOf(socket.messages)).toEqual(range(1, 6));
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
