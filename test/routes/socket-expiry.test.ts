// SPEC, "A socket lives no longer than its token": when the token's exp passes the server closes the socket
// 4401 "token expired" and sends it nothing after, on the query-token flow and the first-message-auth
// (relayed) flow, across hibernation; the client reconnects with a fresh token and `since` and misses nothing.
import { env } from "cloudflare:workers";
import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import { eventually, json, newTrader, submit, untilStatus, type Trader } from "../helpers/api";
import { signExpiringAt } from "../helpers/auth";
import { closeAll, connect } from "../helpers/socket";

afterEach(closeAll);

const deskOf = (trader: Trader) => env.TRADER.get(env.TRADER.idFromName(trader.id));
const openSockets = (trader: Trader) =>
  runInDurableObject(deskOf(trader), (_i, state) => state.getWebSockets().filter((w) => w.readyState === WebSocket.OPEN).length);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

/** A token that expires 1 to 2 s from now (`exp` is whole seconds), and that expiry in epoch ms. */
async function shortLived(trader: Trader): Promise<{ token: string; expiresAt: number }> {
  const exp = Math.floor(Date.now() / 1000) + 2;
  return { token: await signExpiringAt(trader.id, exp), expiresAt: exp * 1000 };
}

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

const TOKEN_EXPIRED = { code: 4401, reason: "token expired" };

describe("a socket whose token expires", () => {
  it("is closed 4401 'token expired' when exp passes, hears nothing of a later fill, and a fresh token with since replays it", async () => {
    const trader = await newTrader(2_000);
    const { token, expiresAt } = await shortLived(trader);
    const socket = await connect({ token });
    const before = await buyAndFill(trader);
    await socket.untilEvent(before, "order.filled");
    await socket.untilSeq(5);

    expect(await socket.untilClosed(expiresAt - Date.now() + 5_000)).toEqual(TOKEN_EXPIRED);
    expect(Date.now()).toBeGreaterThanOrEqual(expiresAt); // not a moment early
    const missed = await buyAndFill(trader);
    await sleep(100);
    // The first buy's five stream events and nothing after: not the missed order's, nor its account updates.
    expect(socket.streamEvents().map((m) => [m.seq, m.event, m.order_id])).toEqual([
      [1, "order.submitted", before], [2, "account.updated", undefined], [3, "order.accepted", before],
      [4, "order.filled", before], [5, "account.updated", undefined],
    ]);
    expect(socket.messages.filter((m) => m.order_id === missed)).toEqual([]);
    expect(await openSockets(trader)).toBe(0);

    const again = await connect({ token: trader.token, since: 5 });
    const messages = await again.until((all) => all.some((m) => m.type === "replay_complete"));
    expect(messages.slice(1, -1).map((m) => [m.seq, m.event, m.order_id])).toEqual([
      [6, "order.submitted", missed], [7, "account.updated", undefined], [8, "order.accepted", missed],
      [9, "order.filled", missed], [10, "account.updated", undefined],
    ]);
    expect(messages.at(-1)).toEqual({ type: "replay_complete", seq: 10, replayed: 5 });
  });

  it("sends nothing after exp even when the alarm has not fired: the check is made at send time", async () => {
    const trader = await newTrader(2_000);
    const { token, expiresAt } = await shortLived(trader);
    const socket = await connect({ token });
    await socket.next((m) => m.type === "connection_acknowledged");
    // The desk armed its alarm for the expiry; take it away, so only the send-time check can stop a frame.
    const desk = deskOf(trader);
    expect(await runInDurableObject(desk, (_i, state) => state.storage.getAlarm())).toBe(expiresAt);
    await runInDurableObject(desk, (_i, state) => state.storage.deleteAlarm());
    await sleep(expiresAt - Date.now() + 50);
    expect(socket.closed).toBeNull();

    const id = await buyAndFill(trader);
    expect(await socket.untilClosed()).toEqual(TOKEN_EXPIRED);
    expect(socket.messages).toEqual([{ type: "connection_acknowledged", seq: 0, trader_id: trader.id }]);
    const again = await connect({ token: trader.token, since: 0 });
    await again.untilEvent(id, "order.filled");
  });

  it("closes a hibernated socket at exp: the expiry is kept in its attachment and the desk's alarm wakes for it", async () => {
    const trader = await newTrader(1_000);
    const { token, expiresAt } = await shortLived(trader);
    const socket = await connect({ token });
    await socket.next((m) => m.type === "connection_acknowledged");
    const desk = deskOf(trader);
    expect(await runInDurableObject(desk, (_i, state) => state.getWebSockets()[0]!.deserializeAttachment())).toMatchObject({ expiresAt });

    await evictDurableObject(desk, { webSockets: "hibernate" });
    expect(await socket.untilClosed(expiresAt - Date.now() + 5_000)).toEqual(TOKEN_EXPIRED);
    expect(Date.now()).toBeGreaterThanOrEqual(expiresAt);
    expect(socket.messages).toHaveLength(1);
  });

  it("closes a relayed (first-message auth) socket 4401 at exp: the desk closes its side and the relay passes the code on", async () => {
    const trader = await newTrader(2_000);
    const { token, expiresAt } = await shortLived(trader);
    const socket = await connect({});
    socket.send({ type: "auth", token });
    await socket.next((m) => m.type === "connection_acknowledged");
    const before = await buyAndFill(trader);
    await socket.untilEvent(before, "order.filled");
    await socket.untilSeq(5);

    expect(await socket.untilClosed(expiresAt - Date.now() + 5_000)).toEqual(TOKEN_EXPIRED);
    const missed = await buyAndFill(trader);
    await sleep(100);
    expect(socket.messages.filter((m) => m.order_id === missed)).toEqual([]);
    expect(socket.streamSeqs()).toEqual([1, 2, 3, 4, 5]);
    await eventually(() => openSockets(trader), (n) => n === 0);

    const again = await connect({ since: 5 });
    again.send({ type: "auth", token: trader.token });
    const messages = await again.until((all) => all.some((m) => m.type === "replay_complete"));
    expect(messages.slice(1, -1).map((m) => [m.seq, m.event, m.order_id])).toEqual([
      [6, "order.submitted", missed], [7, "account.updated", undefined], [8, "order.accepted", missed],
      [9, "order.filled", missed], [10, "account.updated", undefined],
    ]);
  });

  it("closes a relayed socket 4401 on its first message after exp, without waiting for the desk's alarm", async () => {
    const trader = await newTrader(1_000);
    const { token, expiresAt } = await shortLived(trader);
    const socket = await connect({});
    socket.send({ type: "auth", token });
    await socket.next((m) => m.type === "connection_acknowledged");
    await runInDurableObject(deskOf(trader), (_i, state) => state.storage.deleteAlarm());
    await sleep(expiresAt - Date.now() + 50);

    socket.send('{ "type": "ping" }');
    expect(await socket.untilClosed()).toEqual(TOKEN_EXPIRED);
    expect(socket.messages.map((m) => m.type)).toEqual(["connection_acknowledged"]);
    await eventually(() => openSockets(trader), (n) => n === 0);
  });
});
