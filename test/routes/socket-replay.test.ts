// SPEC, "Replay is complete or says it is not": `since` replays every event the desk still keeps, in order,
// however many (past one page of the desk's reads), then replay_complete with the last seq sent; a `since`
// older than the oldest kept event first gets replay_truncated. The event log is filled inside the desk
// (its `events` table) rather than by placing thousands of orders.
import { env } from "cloudflare:workers";
import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import { json, newTrader, submit, untilStatus, type Trader } from "../helpers/api";
import { closeAll, connect, type Message, type TestSocket } from "../helpers/socket";

afterEach(closeAll);

const deskOf = (trader: Trader) => env.TRADER.get(env.TRADER.idFromName(trader.id));

/**
 * Writes events `from`..`to` into the trader's desk as order.submitted events of one order, then evicts the
 * desk so that it reads its log afresh (it keeps the latest seq in memory).
 */
async function keepEvents(trader: Trader, from: number, to: number): Promise<void> {
  await runInDurableObject(deskOf(trader), (_i, state) => {
    state.storage.sql.exec(
      `WITH RECURSIVE n(seq) AS (SELECT ? UNION ALL SELECT seq + 1 FROM n WHERE seq < ?)
       INSERT INTO events (seq, at, payload)
       SELECT seq, ?, json_object(
         'event', 'order.submitted', 'seq', seq, 'order_id', 'o-seeded', 'status', 'PENDING', 'symbol', 'AAPL',
         'side', 'BUY', 'order_type', 'MARKET', 'quantity', 1, 'filled_quantity', 0, 'avg_fill_price', NULL,
         'quantity_filled', NULL, 'price_at_fill', NULL, 'price', NULL, 'fill_id', NULL, 'reason', NULL,
         'timestamp', '2026-01-05T15:00:00.000Z')
       FROM n`,
      from, to, Date.now(),
    );
  });
  await evictDurableObject(deskOf(trader));
}

async function replayOf(socket: TestSocket): Promise<Message[]> {
  return socket.until((all) => all.some((m) => m.type === "replay_complete"), 20_000);
}

const eventSeqs = (messages: Message[]) => messages.filter((m) => typeof m.event === "string").map((m) => m.seq as number);
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe("replay after since", () => {
  it("replays all of more than 10,000 kept events, in order and contiguous, then replay_complete with the last seq sent", async () => {
    const trader = await newTrader(1_000);
    await keepEvents(trader, 1, 12_345);

    const socket = await connect({ token: trader.token, since: 0 });
    const messages = await replayOf(socket);
    expect(messages[0]).toEqual({ type: "connection_acknowledged", seq: 12_345, trader_id: trader.id });
    expect(messages.some((m) => m.type === "replay_truncated")).toBe(false);
    expect(eventSeqs(messages)).toEqual(range(1, 12_345));
    expect(messages.at(-1)).toEqual({ type: "replay_complete", seq: 12_345, replayed: 12_345 });
    expect(messages).toHaveLength(12_347);
    expect(socket.events()).toHaveLength(12_345); // each one a well-formed order event

    // Live events continue the sequence.
    const res = await submit(trader, { symbol: "AAPL", quantity: 1, order_type: "MARKET" });
    const { id } = await json<{ id: string }>(res);
    await untilStatus(trader, id, "FILLED");
    await socket.untilEvent(id, "order.filled");
    expect(eventSeqs(socket.messages)).toEqual(range(1, 12_348));
  });

  it("replays from the middle of the log, on the relayed flow too", async () => {
    const trader = await newTrader(1_000);
    await keepEvents(trader, 1, 11_000);

    const socket = await connect({ since: 500 });
    socket.send({ type: "auth", token: trader.token });
    const messages = await replayOf(socket);
    expect(eventSeqs(messages)).toEqual(range(501, 11_000));
    expect(messages.at(-1)).toEqual({ type: "replay_complete", seq: 11_000, replayed: 10_500 });
  });

  it("says replay_truncated first when since is older than the oldest kept event, then replays everything kept", async () => {
    const trader = await newTrader(1_000);
    await keepEvents(trader, 3_001, 14_000); // 1..3,000 were pruned

    const old = await connect({ token: trader.token, since: 5 });
    const messages = await replayOf(old);
    expect(messages.slice(0, 2)).toEqual([
      { type: "connection_acknowledged", seq: 14_000, trader_id: trader.id },
      { type: "replay_truncated", oldest_seq: 3_001 },
    ]);
    expect(eventSeqs(messages)).toEqual(range(3_001, 14_000));
    expect(messages.at(-1)).toEqual({ type: "replay_complete", seq: 14_000, replayed: 11_000 });

    // since = oldest - 1 misses nothing: no truncation notice.
    const current = await connect({ token: trader.token, since: 3_000 });
    const complete = await replayOf(current);
    expect(complete.some((m) => m.type === "replay_truncated")).toBe(false);
    expect(eventSeqs(complete)).toHaveLength(11_000);
  });

  it("answers a client that is up to date, or ahead of the desk, with replay_complete at the desk's latest seq", async () => {
    const trader = await newTrader(1_000);
    await keepEvents(trader, 1, 20);
    for (const since of [20, 99]) {
      const socket = await connect({ token: trader.token, since });
      expect(await replayOf(socket)).toEqual([
        { type: "connection_acknowledged", seq: 20, trader_id: trader.id },
        { type: "replay_complete", seq: 20, replayed: 0 },
      ]);
    }
  });
});
