// The outbox writes one statement per table (rows as a JSON array unpacked by json_each): a burst of
// orders lands in D1 column for column as the desk holds it, only the latest snapshot of a row counts,
// and records queued by an older desk schema still arrive after the desk migrates.
import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, eventually, json, newInstrument, newTrader, setInstrument, submit, untilStatus } from "../helpers/api";
import { sign } from "../helpers/auth";
import { connectEvents, streamEvents } from "../helpers/ws";
import { groupForFlush, type QueuedRecord } from "../../worker/trader/outbox";
import type { DeskStore } from "../../worker/trader/store";
import type { Account } from "../../worker/shared/account";
import type { Order } from "../../worker/shared/orders";

const deskOf = (traderId: string) => env.TRADER.get(env.TRADER.idFromName(traderId));
const drained = (traderId: string) => eventually(() => deskOf(traderId).pendingOutbox(), (n) => n === 0);

describe("the outbox flush", () => {
  it("writes a burst of orders to D1 exactly as the desk holds them", async () => {
    const trader = await newTrader(1_000_000);
    const sides = Array.from({ length: 30 }, (_, i) => (i % 3 === 2 ? "SELL" : "BUY"));
    // Buy first so the sells (165 shares in all) have shares to sell.
    const first = await json<Order>(await submit(trader, { symbol: "AAPL", quantity: 200, order_type: "MARKET" }));
    await untilStatus(trader, first.id, "FILLED");
    const ids = await Promise.all(
      sides.map(async (side, i) => {
        const res = await submit(trader, { symbol: "AAPL", side, quantity: i + 1, order_type: "MARKET" });
        expect(res.status).toBe(201);
        return (await json<Order>(res)).id;
      }),
    );
    for (const id of ids) await untilStatus(trader, id, "FILLED");
    await drained(trader.id);

    const desk = await json<{ data: Order[] }>(await call("/api/v1/orders?limit=100", { token: trader.token }));
    const { results: d1Orders } = await env.DB.prepare(
      "SELECT id, client_order_id, symbol, side, quantity, order_type, limit_price_cents, stop_price_cents, time_in_force, status, filled_quantity, avg_fill_price, reason, created_at, updated_at FROM orders WHERE trader_id = ? ORDER BY id",
    ).bind(trader.id).all();
    expect(d1Orders).toEqual(
      [...desk.data].sort((a, b) => a.id.localeCompare(b.id)).map((o) => ({
        id: o.id, client_order_id: o.client_order_id, symbol: o.symbol, side: o.side, quantity: o.quantity, order_type: o.order_type,
        limit_price_cents: null, stop_price_cents: null, time_in_force: o.time_in_force, status: o.status, filled_quantity: o.filled_quantity,
        avg_fill_price: o.avg_fill_price, reason: o.reason, created_at: o.created_at, updated_at: o.updated_at,
      })),
    );
    const counts = await env.DB.prepare(
      "SELECT (SELECT COUNT(*) FROM fills WHERE trader_id = ?1) AS fills, (SELECT SUM(quantity_filled) FROM fills WHERE trader_id = ?1) AS shares, (SELECT COUNT(*) FROM execution_logs WHERE trader_id = ?1) AS logs",
    ).bind(trader.id).first();
    expect(counts).toEqual({ fills: 31, shares: 200 + sides.reduce((n, _, i) => n + i + 1, 0), logs: 31 * 4 });

    const account = await json<Account>(await call("/api/v1/account", { token: trader.token }));
    const d1Account = await env.DB.prepare("SELECT cash_cents, reserved_cents FROM accounts WHERE trader_id = ?").bind(trader.id).first();
    expect(d1Account).toEqual({ cash_cents: Math.round(account.cash * 100), reserved_cents: 0 });
    const d1Position = await env.DB.prepare("SELECT quantity FROM positions WHERE trader_id = ? AND symbol = 'AAPL'").bind(trader.id).first();
    expect(d1Position).toEqual({ quantity: account.positions.find((p) => p.symbol === "AAPL")!.quantity });
  });

  it("deletes flushed records with the desk's next change, and a restart before that re-sends them harmlessly", async () => {
    const trader = await newTrader(1_000_000);
    const desk = deskOf(trader.id);
    const stored = () => runInDurableObject(desk, (_i, state) => state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM outbox").one().n);
    const d1Rows = async () =>
      env.DB.prepare(
        "SELECT (SELECT COUNT(*) FROM orders WHERE trader_id = ?1) AS orders, (SELECT COUNT(*) FROM fills WHERE trader_id = ?1) AS fills, (SELECT COUNT(*) FROM execution_logs WHERE trader_id = ?1) AS logs",
      ).bind(trader.id).first();

    const first = await json<Order>(await submit(trader, { symbol: "AAPL", quantity: 1, order_type: "MARKET" }));
    await untilStatus(trader, first.id, "FILLED");
    await drained(trader.id);
    expect(await stored()).toBeGreaterThan(0); // in D1, still stored: no commit of its own just to delete them

    // The instance goes away before deleting them: its successor flushes them again, and D1 keeps one copy.
    await evictDurableObject(desk);
    const restarted = deskOf(trader.id);
    await runInDurableObject(restarted, (_i, state) => state.storage.setAlarm(Date.now()));
    await runDurableObjectAlarm(restarted);
    await drained(trader.id);
    expect(await d1Rows()).toEqual({ orders: 1, fills: 1, logs: 4 });

    const second = await json<Order>(await submit(trader, { symbol: "AAPL", quantity: 1, order_type: "MARKET" }));
    await untilStatus(trader, second.id, "FILLED");
    await drained(trader.id);
    expect(await d1Rows()).toEqual({ orders: 2, fills: 2, logs: 8 });
    // The second order's transactions deleted everything the first one had left behind.
    const left = await runInDurableObject(desk, (_i, state) =>
      state.storage.sql.exec<{ record: string }>("SELECT record FROM outbox").toArray().map((r) => r.record),
    );
    expect(left.some((r) => r.includes(first.id))).toBe(false);
  });

  it("stores a report of forty fills at once (more rows than one statement binds) in order, in the desk and in D1", async () => {
    // One share per price level: a market order for 40 walks 40 levels, and the venue answers with all
    // 40 fills in one report, which the desk applies in one transaction: 42 audit rows and 41 events (and one
    // account.updated after the 40 fills).
    const symbol = await newInstrument(100, { depth: 1, tick_size: 0.01 });
    const trader = await newTrader(1_000_000);
    const order = await json<Order>(await submit(trader, { symbol, quantity: 40, order_type: "MARKET" }));
    const filled = await untilStatus(trader, order.id, "FILLED");
    expect(filled.fills.map((f) => f.price_at_fill)).toEqual(Array.from({ length: 40 }, (_, i) => Math.round((100 + i * 0.01) * 100) / 100));

    const trail = await json<{ data: { action: string }[] }>(await call(`/api/v1/orders/${order.id}/audit`, { token: trader.token }));
    expect(trail.data.map((r) => r.action)).toEqual(["SUBMITTED", "APPROVED", "EXECUTED", ...Array(39).fill("PARTIAL"), "FILLED"]);
    const socket = await connectEvents(trader.token, 0);
    await socket.waitFor((m) => "type" in m && m.type === "replay_complete");
    const events = socket.events();
    const stream = streamEvents(socket.messages);
    socket.close();
    // submitted, account.updated (the reservation), accepted, the 40 fills, account.updated (after them).
    expect(stream.map((e) => e.seq)).toEqual(Array.from({ length: 44 }, (_, i) => i + 1));
    expect(stream.filter((e) => e.event === "account.updated").map((e) => e.seq)).toEqual([2, 44]);
    expect(stream.at(-1)).toMatchObject({ event: "account.updated", reserved: 0, positions: [{ symbol, quantity: 40 }] });
    expect(events.map((e) => e.event)).toEqual(["order.submitted", "order.accepted", ...Array(39).fill("order.partial"), "order.filled"]);
    expect(events.filter((e) => e.event !== "order.submitted" && e.event !== "order.accepted").map((e) => e.filled_quantity)).toEqual(
      Array.from({ length: 40 }, (_, i) => i + 1),
    );

    await drained(trader.id);
    const d1 = await env.DB.prepare(
      "SELECT (SELECT COUNT(*) FROM fills WHERE order_id = ?1) AS fills, (SELECT group_concat(action) FROM (SELECT action FROM execution_logs WHERE order_id = ?1 ORDER BY chain_seq)) AS actions",
    ).bind(order.id).first<{ fills: number; actions: string }>();
    expect(d1?.fills).toBe(40);
    expect(d1?.actions.split(",")).toEqual(trail.data.map((r) => r.action));
    const verified = await json<{ ok: boolean; checked: number }>(
      await call(`/api/v1/compliance/audit/verify?trader_id=${trader.id}`, { token: await sign("officer", "compliance") }),
    );
    expect(verified).toMatchObject({ ok: true, checked: 43 });
  });

  it("arms the alarm behind a change the venue reported on its own, so a restart before the flush loses nothing", async () => {
    const symbol = await newInstrument(100);
    const trader = await newTrader(1_000_000);
    const resting = await json<Order>(await submit(trader, { symbol, quantity: 10, order_type: "LIMIT", price: 95, time_in_force: "GTC" }));
    await untilStatus(trader, resting.id, "PENDING");
    await drained(trader.id);
    const desk = deskOf(trader.id);
    // Let the submit's alarm run and find nothing left to do: the desk is idle, no alarm armed.
    await eventually(() => runDurableObjectAlarm(desk).then(() => runInDurableObject(desk, (_i, state) => state.storage.getAlarm())), (at) => at === null);

    // A price move fills the resting order: the venue reports it, the desk commits it and queues it for D1.
    expect((await setInstrument(symbol, { price: 94 })).status).toBe(200);
    await untilStatus(trader, resting.id, "FILLED");
    expect(await runInDurableObject(desk, (_i, state) => state.storage.getAlarm())).not.toBeNull();
    // The instance dies before its flush timer fires.
    await runInDurableObject(desk, (_i, state) => state.abort("restart")).catch(() => undefined);
    await eventually(() => deskOf(trader.id).pendingOutbox().then(() => true, () => false), Boolean);
    expect(await runDurableObjectAlarm(deskOf(trader.id))).toBe(true);
    await drained(trader.id);
    const d1 = await env.DB.prepare("SELECT status, filled_quantity FROM orders WHERE id = ?").bind(resting.id).first();
    expect(d1).toEqual({ status: "FILLED", filled_quantity: 10 });
  });

  it("keeps only the latest snapshot of a row, and every insert-only row, in queue order", () => {
    const q = (id: number, kind: QueuedRecord["kind"], rowKey: string | null, record: string): QueuedRecord => ({ id, kind, rowKey, record });
    const grouped = groupForFlush([
      q(1, "order", "o1", '{"v":1}'),
      q(2, "log", null, '{"l":1}'),
      q(3, "account", "a", '{"a":1}'),
      q(4, "order", "o2", '{"v":"o2"}'),
      q(5, "order", "o1", '{"v":2}'),
      q(6, "log", null, '{"l":2}'),
      q(7, "account", "a", '{"a":2}'),
    ]);
    expect([...grouped]).toEqual([
      ["account", '[{"a":2}]'],
      ["order", '[{"v":"o2"},{"v":2}]'],
      ["log", '[{"l":1},{"l":2}]'],
    ]);
  });

  it("delivers records queued under the desk's schema v1 after the desk migrates", async () => {
    const trader = await newTrader(1_000);
    await drained(trader.id);
    const desk = deskOf(trader.id);
    const now = new Date().toISOString();
    await runInDurableObject(desk, (instance, state) => {
      // Put the outbox back the way schema v1 had it, with one record in v1's format (and nothing else:
      // records already in D1 may still be stored, in v2's format).
      state.storage.sql.exec("DELETE FROM outbox");
      state.storage.sql.exec("ALTER TABLE outbox DROP COLUMN row_key");
      state.storage.sql.exec("ALTER TABLE outbox DROP COLUMN kind");
      const row = { traderId: trader.id, cashCents: 123_456, reservedCents: 0, version: 99, createdAt: now, updatedAt: now };
      state.storage.sql.exec("INSERT INTO outbox (record) VALUES (?)", JSON.stringify({ kind: "account", row }));
      state.storage.sql.exec("UPDATE meta SET value = '1' WHERE key = 'schema_version'");
      (instance as unknown as { store: DeskStore }).store.migrate();
      return state.storage.setAlarm(Date.now());
    });
    await runDurableObjectAlarm(desk);
    await drained(trader.id);
    expect(await env.DB.prepare("SELECT cash_cents, version FROM accounts WHERE trader_id = ?").bind(trader.id).first()).toEqual({ cash_cents: 123_456, version: 99 });
  });
});
