// SPEC, "Replay is complete or says it is not": `since` replays every event the desk still keeps, in order,
// however many (past one page of the desk's reads), then replay_complete with the last seq sent; a `since`
// older than the oldest kept event first gets replay_truncated. The event log is filled inside the desk
// (its `events` table) rather than by placing thousands of orders.
import { env } from "cloudflare:workers";
import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import { json, newTrader, submit, untilStatus, type Trader } from "../helpers/api";
import { closeAll, connect, streamEventsIn, type Message, type TestSocket } from "../helpers/socket";

afterEach(closeAll);

const deskOf = (trader: Trader) => env.TRADER.get(env.TRADER.idFromName(trader.id));

/**
 * Writes `count` events into the trader's desk as order.submitted events of one order ("o-seeded"), numbered
 * on from the desk's latest seq (whatever the desk logged itself), then evicts the desk so that it reads its
 * log afresh (it keeps the latest seq in memory). With `pruned`, that many seqs are skipped first and every
 * event before the written ones is deleted, as the desk's pruning would have done. Returns the first and
 * last seq written.
 */
async function keepEvents(trader: Trader, count: number, pruned = 0): Promise<{ first: number; last: number }> {
  const written = await runInDurableObject(deskOf(trader), (_i, state) => {
    const latest = state.storage.sql.exec<{ seq: number | null }>("SELECT MAX(seq) AS seq FROM events").one().seq ?? 0;
    const from = latest + pruned + 1;
    const to = latest + pruned + count;
    if (pruned > 0) state.storage.sql.exec("DELETE FROM events WHERE seq < ?", from);
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
    return { first: from, last: to };
  });
  await evictDurableObject(deskOf(trader));
  return written;
}

async function replayOf(socket: TestSocket): Promise<Message[]> {
  return socket.until((all) => all.some((m) => m.type === "replay_complete"), 20_000);
}

/** Seqs of every stream event (order events and account.updated) among `messages`. */
const eventSeqs = (messages: Message[]) => streamEventsIn(messages).map((m) => m.seq as number);
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe("replay after since", () => {
  it("replays all of more than 10,000 kept events, in order and contiguous, then replay_complete with the last seq sent", async () => {
    const trader = await newTrader(1_000);
    const { last } = await keepEvents(trader, 12_345);

    const socket = await connect({ token: trader.token, since: 0 });
    const messages = await replayOf(socket);
    expect(messages[0]).toEqual({ type: "connection_acknowledged", seq: last, trader_id: trader.id });
    expect(messages.some((m) => m.type === "replay_truncated")).toBe(false);
    expect(eventSeqs(messages)).toEqual(range(1, last));
    expect(messages.at(-1)).toEqual({ type: "replay_complete", seq: last, replayed: last });
    expect(messages).toHaveLength(last + 2);
    expect(socket.events().filter((e) => e.order_id === "o-seeded")).toHaveLength(12_345); // each one a well-formed order event

    // Live events continue the sequence: a market buy's five (its order's three and two account.updated).
    const res = await submit(trader, { symbol: "AAPL", quantity: 1, order_type: "MARKET" });
    const { id } = await json<{ id: string }>(res);
    await untilStatus(trader, id, "FILLED");
    await socket.untilEvent(id, "order.filled");
    await socket.untilSeq(last + 5);
    expect(eventSeqs(socket.messages)).toEqual(range(1, last + 5));
    expect(socket.streamEvents().slice(-5).map((m) => [m.event, m.order_id])).toEqual([
      ["order.submitted", id], ["account.updated", undefined], ["order.accepted", id], ["order.filled", id], ["account.updated", undefined],
    ]);
  });

  it("replays from the middle of the log, on the relayed flow too", async () => {
    const trader = await newTrader(1_000);
    const { last } = await keepEvents(trader, 11_000);

    const socket = await connect({ since: 500 });
    socket.send({ type: "auth", token: trader.token });
    const messages = await replayOf(socket);
    expect(eventSeqs(messages)).toEqual(range(501, last));
    expect(messages.at(-1)).toEqual({ type: "replay_complete", seq: last, replayed: last - 500 });
  });

  it("says replay_truncated first when since is older than the oldest kept event, then replays everything kept", async () => {
    const trader = await newTrader(1_000);
    const { first, last } = await keepEvents(trader, 11_000, 3_000); // the 3,000 before were pruned

    const old = await connect({ token: trader.token, since: 5 });
    const messages = await replayOf(old);
    expect(messages.slice(0, 2)).toEqual([
      { type: "connection_acknowledged", seq: last, trader_id: trader.id },
      { type: "replay_truncated", oldest_seq: first },
    ]);
    expect(eventSeqs(messages)).toEqual(range(first, last));
    expect(messages.at(-1)).toEqual({ type: "replay_complete", seq: last, replayed: 11_000 });

    // since = oldest - 1 misses nothing: no truncation notice.
    const current = await connect({ token: trader.token, since: first - 1 });
    const complete = await replayOf(current);
    expect(complete.some((m) => m.type === "replay_truncated")).toBe(false);
    expect(eventSeqs(complete)).toHaveLength(11_000);
  });

  it("answers a client that is up to date, or ahead of the desk, with replay_complete at the desk's latest seq", async () => {
    const trader = await newTrader(1_000);
    const { last } = await keepEvents(trader, 20);
    for (const since of [last, last + 79]) {
      const socket = await connect({ token: trader.token, since });
      expect(await replayOf(socket)).toEqual([
        { type: "connection_acknowledged", seq: last, trader_id: trader.id },
        { type: "replay_complete", seq: last, replayed: 0 },
      ]);
    }
  });
});
