// SPEC, "Sockets are bounded": a client message over 16 KiB is refused unparsed (1009) on both flows, before
// and after auth; a trader holds at most MAX_SOCKETS_PER_TRADER sockets (one more: 429 before the upgrade, or
// 1008 on the relayed flow) and the others are unharmed; sockets waiting for first-message auth are bounded
// and closed 4401 after 10 s; frames sent while the auth message is checked are handled after it, in order.
// Also: a repeated key in any client message is answered MALFORMED_JSON and not acted on.
import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import { intVar } from "../../worker/config";
import { MAX_FRAMES_DURING_AUTH, MAX_PENDING_AUTH } from "../../worker/routes/ws";
import { MAX_CLIENT_MESSAGE_BYTES } from "../../worker/shared/socket-limits";
import { call, eventually, json, newTrader, submit, type Trader } from "../helpers/api";
import { closeAll, connect, upgrade, type TestSocket } from "../helpers/socket";

afterEach(closeAll);

const deskOf = (trader: Trader) => env.TRADER.get(env.TRADER.idFromName(trader.id));
const openSockets = (trader: Trader) =>
  runInDurableObject(deskOf(trader), (_i, state) => state.getWebSockets().filter((w) => w.readyState === WebSocket.OPEN).length);
const MAX_SOCKETS = intVar(env.MAX_SOCKETS_PER_TRADER, 20);

/** A ping the desk itself handles (not the runtime's exact-text auto-response), padded to `bytes` of UTF-8. */
const pingOf = (bytes: number, pad = " ") => {
  const head = '{ "type": "ping"';
  return head + pad.repeat((bytes - head.length - 1) / new TextEncoder().encode(pad).length) + "}";
};
const COUNTED_PING = '{ "type": "ping" }';
const TOO_BIG = { code: 1009, reason: "message too big" };

async function authed(trader: Trader): Promise<TestSocket> {
  const socket = await connect({});
  socket.send({ type: "auth", token: trader.token });
  await socket.next((m) => m.type === "connection_acknowledged");
  return socket;
}

describe("client messages over 16 KiB", () => {
  it("are refused unparsed with 1009 on a token socket, counting UTF-8 bytes, text or binary; 16 KiB exactly is read", async () => {
    const trader = await newTrader(1_000);
    const socket = await connect({ token: trader.token });
    await socket.next((m) => m.type === "connection_acknowledged");
    socket.send(pingOf(MAX_CLIENT_MESSAGE_BYTES));
    await socket.next((m) => m.type === "pong");

    const oversized: (string | ArrayBuffer)[] = [
      pingOf(MAX_CLIENT_MESSAGE_BYTES + 1),
      pingOf(MAX_CLIENT_MESSAGE_BYTES + 3, "é"), // half as many UTF-16 units as 16 KiB, 3 bytes too many
      new TextEncoder().encode(pingOf(MAX_CLIENT_MESSAGE_BYTES + 1)).buffer as ArrayBuffer,
      "x".repeat(256 * 1024),
    ];
    const calm = await connect({ token: trader.token });
    for (const frame of oversized) {
      const s = await connect({ token: trader.token });
      await s.next((m) => m.type === "connection_acknowledged");
      s.ws.send(frame);
      expect(await s.untilClosed()).toEqual(TOO_BIG);
      expect(s.messages.map((m) => m.type)).toEqual(["connection_acknowledged"]); // not parsed: no pong, no error
    }
    calm.send(COUNTED_PING);
    await calm.next((m) => m.type === "pong");
    expect(calm.closed).toBeNull();
  });

  it("are refused with 1009 on the relayed flow, as the first (auth) message and after auth", async () => {
    const trader = await newTrader(1_000);
    const padded = JSON.stringify({ type: "auth", token: trader.token }).replace("}", " ".repeat(MAX_CLIENT_MESSAGE_BYTES) + "}");
    const first = await connect({});
    first.send(padded);
    expect(await first.untilClosed()).toEqual(TOO_BIG);
    expect(first.messages).toEqual([]); // the valid token inside was never read

    const after = await authed(trader);
    expect(await openSockets(trader)).toBe(1);
    after.send(pingOf(MAX_CLIENT_MESSAGE_BYTES + 1));
    expect(await after.untilClosed()).toEqual(TOO_BIG);
    expect(after.messages.map((m) => m.type)).toEqual(["connection_acknowledged"]);
    await eventually(() => openSockets(trader), (n) => n === 0);

    const exact = await authed(trader);
    exact.send(pingOf(MAX_CLIENT_MESSAGE_BYTES));
    await exact.next((m) => m.type === "pong");
  });
});

describe("sockets per trader", () => {
  it(`refuses one more than MAX_SOCKETS_PER_TRADER with 429 TOO_MANY_SOCKETS before the upgrade (1008 when relayed); the others are unharmed`, async () => {
    const trader = await newTrader(1_000);
    const sockets: TestSocket[] = [];
    for (let i = 0; i < MAX_SOCKETS; i++) sockets.push(await connect({ token: trader.token }));

    const refused = await upgrade({ token: trader.token });
    expect(refused.status).toBe(429);
    expect(refused.webSocket).toBeNull();
    expect(refused.headers.get("Content-Type")).toMatch(/^application\/json/);
    expect(await json(refused)).toMatchObject({ error: "TOO_MANY_SOCKETS", message: expect.any(String), details: { max_sockets: MAX_SOCKETS } });

    const relayed = await connect({});
    relayed.send({ type: "auth", token: trader.token });
    expect(await relayed.untilClosed()).toEqual({ code: 1008, reason: "too many sockets" });
    expect(relayed.messages).toEqual([expect.objectContaining({ type: "error", error: "TOO_MANY_SOCKETS" })]);
    expect(await openSockets(trader)).toBe(MAX_SOCKETS);

    const res = await submit(trader, { symbol: "AAPL", quantity: 1, order_type: "MARKET" });
    const { id } = await json<{ id: string }>(res);
    for (const s of sockets) await s.untilEvent(id, "order.filled");
    expect(sockets.filter((s) => s.closed !== null)).toEqual([]);

    // A place freed is a place to take.
    sockets[0]!.close();
    await eventually(() => openSockets(trader), (n) => n === MAX_SOCKETS - 1);
    const again = await connect({ token: trader.token, since: 0 });
    await again.untilEvent(id, "order.filled");
  });

  it("keeps the health route and other traders fast while one trader is at its cap", async () => {
    const busy = await newTrader(1_000);
    for (let i = 0; i < MAX_SOCKETS; i++) await connect({ token: busy.token });
    expect((await upgrade({ token: busy.token })).status).toBe(429);

    const started = Date.now();
    const health = await call("/api/v1/health");
    expect(health.status).toBe(200);
    expect(await json(health)).toMatchObject({ status: "ok" });
    const other = await newTrader(1_000);
    const theirs = await connect({ token: other.token });
    await theirs.next((m) => m.type === "connection_acknowledged");
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});

describe("sockets waiting for first-message auth", () => {
  it(`are bounded per isolate: one more than ${MAX_PENDING_AUTH} is refused with 429 before the upgrade, and a place frees when one authenticates`, async () => {
    const trader = await newTrader(1_000);
    const waiting: TestSocket[] = [];
    for (let i = 0; i < MAX_PENDING_AUTH; i++) waiting.push(await connect({}));

    const refused = await upgrade({});
    expect(refused.status).toBe(429);
    expect(refused.webSocket).toBeNull();
    expect(refused.headers.get("Retry-After")).toBe("10");
    expect(await json(refused)).toMatchObject({ error: "TOO_MANY_SOCKETS", details: { max_pending_auth: MAX_PENDING_AUTH } });
    // The token flow does not wait for auth, so it is not held back.
    const direct = await connect({ token: trader.token });
    await direct.next((m) => m.type === "connection_acknowledged");

    waiting[0]!.send({ type: "auth", token: trader.token });
    await waiting[0]!.next((m) => m.type === "connection_acknowledged");
    const next = await connect({});
    waiting[1]!.close();
    await eventually(async () => {
      const res = await upgrade({});
      res.webSocket?.accept();
      res.webSocket?.close(1000, "probe");
      return res.status;
    }, (status) => status === 101);
    next.send({ type: "auth", token: trader.token });
    await next.next((m) => m.type === "connection_acknowledged");
  });

  it("are closed 4401 after 10 s without an auth message, which frees their place", async () => {
    const waiting: TestSocket[] = [];
    for (let i = 0; i < MAX_PENDING_AUTH; i++) waiting.push(await connect({}));
    for (const socket of waiting) {
      expect(await socket.untilClosed(12_000)).toEqual({ code: 4401, reason: "unauthorized" });
      expect(socket.messages).toEqual([expect.objectContaining({ type: "error", error: "UNAUTHORIZED" })]);
    }
    // Every place is free again.
    for (let i = 0; i < MAX_PENDING_AUTH; i++) await connect({});
  }, 15_000);

  it("handle frames that arrive while the auth message is checked after it, in order", async () => {
    const trader = await newTrader(1_000);
    const socket = await connect({});
    socket.send({ type: "auth", token: trader.token });
    socket.send(COUNTED_PING);
    socket.send("not json");
    socket.send(COUNTED_PING);
    socket.send('{"type":"ping","type":"ping"}');
    await socket.until((all) => all.length === 5);
    expect(socket.messages.map((m) => m.type)).toEqual(["connection_acknowledged", "pong", "error", "pong", "error"]);
    expect(socket.messages[2]).toMatchObject({ error: "MALFORMED_JSON" });
    expect(socket.messages[4]).toMatchObject({ error: "MALFORMED_JSON", details: { duplicate_keys: ["type"] } });
    expect(socket.closed).toBeNull();
  });

  it(`close the socket 1008 when more than ${MAX_FRAMES_DURING_AUTH} frames arrive while the auth message is checked`, async () => {
    const trader = await newTrader(1_000);
    const socket = await connect({});
    socket.send({ type: "auth", token: trader.token });
    for (let i = 0; i <= MAX_FRAMES_DURING_AUTH; i++) socket.send(COUNTED_PING);
    expect(await socket.untilClosed()).toEqual({ code: 1008, reason: "too many messages" });
    expect(socket.messages.filter((m) => m.type === "pong")).toEqual([]);
    await eventually(() => openSockets(trader), (n) => n === 0);
  });
});

describe("repeated keys in client messages", () => {
  it("answers MALFORMED_JSON with details.duplicate_keys and does not act on the message, on both flows", async () => {
    const trader = await newTrader(1_000);
    const socket = await connect({ token: trader.token });
    await socket.next((m) => m.type === "connection_acknowledged");
    socket.send('{"type":"ping","type":"ping"}');
    expect(await socket.next((m) => m.type === "error")).toMatchObject({ error: "MALFORMED_JSON", details: { duplicate_keys: ["type"] } });
    socket.send(COUNTED_PING);
    await socket.next((m) => m.type === "pong");
    expect(socket.messages.filter((m) => m.type === "pong")).toHaveLength(1);

    // A first message that names its token twice authenticates nobody: "last one wins" would pick the second.
    const relayed = await connect({});
    relayed.send(`{"type":"auth","token":"not-a-jwt","token":"${trader.token}"}`);
    expect(await relayed.untilClosed()).toMatchObject({ code: 4401 });
    expect(relayed.messages).toEqual([expect.objectContaining({ type: "error", error: "MALFORMED_JSON", details: { duplicate_keys: ["token"] } })]);
    expect(await openSockets(trader)).toBe(1);
  });
});
