// GET /api/v1/compliance/audit/verify over real history (a timed-out venue attempt recovered by retry, a
// partial fill then cancel), over a range, and after rows are altered or removed behind the append-only
// triggers' back (drop the trigger, write, recreate it exactly as migrations/0001 has it).
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { auditOf, call, eventually, json, newTrader, submit, untilStatus, type Trader } from "../helpers/api";
import { sign } from "../helpers/auth";
import { insertChained, LOG_COLUMNS, sqlLiteral, uniqueTrader, type LogRow } from "../helpers/d1";
import type { VerifyResult } from "../../worker/shared/compliance";
import type { OrderStatus } from "../../worker/shared/orders";

type Trigger = "execution_logs_no_update" | "execution_logs_no_delete";

/** The trigger's CREATE statement exactly as migrations/0001 holds it. */
function migrationTrigger(name: Trigger): string {
  const migration = env.TEST_MIGRATIONS.find((m) => m.name.startsWith("0001"));
  const query = migration?.queries.find((q) => q.includes(`CREATE TRIGGER \`${name}\``));
  if (!query) throw new Error(`migrations/0001 has no ${name}`);
  return query;
}

const triggerSql = async (name: Trigger) =>
  (await env.DB.prepare("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?").bind(name).first<{ sql: string }>())?.sql ?? null;

/** What someone with raw database access could do: drop the trigger, write, put the trigger back. */
async function behindTheTriggersBack(trigger: Trigger, sql: string, ...params: (string | number | null)[]): Promise<void> {
  const results = await env.DB.batch([
    env.DB.prepare(`DROP TRIGGER \`${trigger}\``),
    env.DB.prepare(sql).bind(...params),
    env.DB.prepare(migrationTrigger(trigger)),
  ]);
  expect(results[1]?.meta.changes).toBe(1);
}

async function verify(query: Record<string, string> = {}): Promise<VerifyResult> {
  const res = await call(`/api/v1/compliance/audit/verify?${new URLSearchParams(query)}`, { token: await sign("officer", "compliance") });
  const text = await res.text();
  expect(res.status, text).toBe(200);
  return JSON.parse(text) as VerifyResult;
}

const rowsOf = async (traderId: string) =>
  (await env.DB.prepare("SELECT * FROM execution_logs WHERE trader_id = ? ORDER BY chain_seq").bind(traderId).all<LogRow>()).results;

const count = async (where = "1 = 1", ...params: string[]) =>
  (await env.DB.prepare(`SELECT COUNT(*) AS n FROM execution_logs WHERE ${where}`).bind(...params).first<{ n: number }>())?.n ?? 0;

/** Places an order, waits for it to end, and waits until D1 holds every audit row the desk wrote for it. */
async function settled(trader: Trader, order: Record<string, unknown>, ...until: OrderStatus[]): Promise<string> {
  const res = await submit(trader, order);
  expect(res.status, await res.clone().text()).toBe(201);
  const { id } = await json<{ id: string }>(res);
  await untilStatus(trader, id, ...until);
  return id;
}

async function flushed(trader: Trader, ids: string[]): Promise<void> {
  for (const id of ids) {
    const trail = await auditOf(trader, id);
    await eventually(() => count("order_id = ?", id), (n) => n === trail.length);
  }
}

describe("compliance audit verify", () => {
  let alice: Trader;
  let bob: Trader;

  beforeAll(async () => {
    alice = await newTrader(50_000);
    bob = await newTrader(50_000);
    const aliceOrders = [
      await settled(alice, { symbol: "AAPL", quantity: 10, order_type: "MARKET" }, "FILLED"),
      await settled(alice, { symbol: "TEST_TIMEOUT", quantity: 10, order_type: "MARKET" }, "FILLED"),
    ];
    const partial = await settled(bob, { symbol: "TEST_PARTIAL", quantity: 100, order_type: "LIMIT", price: 150 }, "PARTIAL");
    const cancelled = await call(`/api/v1/orders/${partial}/cancel`, { method: "POST", token: bob.token });
    expect(cancelled.status).toBe(200);
    await untilStatus(bob, partial, "CANCELLED");
    const bobOrders = [partial, await settled(bob, { symbol: "AAPL", quantity: 5, order_type: "MARKET" }, "FILLED")];
    await flushed(alice, aliceOrders);
    await flushed(bob, bobOrders);
  }, 60_000);

  it("confirms each trader's real history: ok, checked equal to D1's rows, no first_bad", async () => {
    const actions = (await rowsOf(alice.id)).map((r) => r.action);
    expect(actions).toContain("RECOVERED");
    expect((await rowsOf(bob.id)).map((r) => r.action)).toEqual(expect.arrayContaining(["PARTIAL", "CANCELLED"]));

    for (const trader of [alice, bob]) {
      const n = await count("trader_id = ?", trader.id);
      expect(n).toBeGreaterThanOrEqual(8);
      expect(await verify({ trader_id: trader.id })).toEqual({ ok: true, checked: n, traders: 1, first_bad: null });
    }
  });

  it("confirms every trader's chain when none is named, checking every row D1 holds", async () => {
    const all = await count();
    const traders = (await env.DB.prepare("SELECT COUNT(DISTINCT trader_id) AS n FROM execution_logs").first<{ n: number }>())?.n;
    expect(await verify()).toEqual({ ok: true, checked: all, traders, first_bad: null });
  });

  it("checks only the rows inside a range, anchored on the row before it", async () => {
    const rows = await rowsOf(alice.id);
    const from = rows[2]!.timestamp;
    const to = rows[5]!.timestamp;
    const inRange = await count("trader_id = ? AND timestamp BETWEEN ? AND ?", alice.id, from, to);
    expect(inRange).toBeLessThan(rows.length);
    expect(await verify({ trader_id: alice.id, from, to })).toMatchObject({ ok: true, checked: inRange, first_bad: null });

    // A chain over three days; a row altered on the third day is outside a second-day check, inside a third-day one.
    const carol = uniqueTrader("carol");
    const days = ["2025-09-01", "2025-09-02", "2025-09-03"];
    const chain = await insertChained(env.DB, days.flatMap((day) => [1, 2, 3].map((h) => ({ trader_id: carol, timestamp: `${day}T0${h}:00:00.000Z`, reason: `${day} #${h}` }))));
    expect(await verify({ trader_id: carol, from: days[1]!, to: days[1]! })).toEqual({ ok: true, checked: 3, traders: 1, first_bad: null });
    expect(await verify({ from: days[1]!, to: days[2]! })).toEqual({ ok: true, checked: 6, traders: 1, first_bad: null });

    const altered = chain[7]!;
    await behindTheTriggersBack("execution_logs_no_update", "UPDATE execution_logs SET reason = ? WHERE id = ?", "rewritten", altered.id);
    expect(await verify({ trader_id: carol, from: days[1]!, to: days[1]! })).toEqual({ ok: true, checked: 3, traders: 1, first_bad: null });
    expect(await verify({ trader_id: carol, from: days[2]!, to: days[2]! })).toMatchObject({
      ok: false, first_bad: { trader_id: carol, chain_seq: 8, id: altered.id },
    });
    expect(await verify({ trader_id: carol })).toMatchObject({ ok: false, first_bad: { trader_id: carol, chain_seq: 8, id: altered.id } });

    await behindTheTriggersBack("execution_logs_no_update", "UPDATE execution_logs SET reason = ? WHERE id = ?", altered.reason, altered.id);
    expect(await verify({ trader_id: carol })).toEqual({ ok: true, checked: 9, traders: 1, first_bad: null });
  });

  it("finds a reason rewritten behind the trigger's back, naming the trader, chain_seq and id", async () => {
    const rows = await rowsOf(alice.id);
    const target = rows.find((r) => r.error_code === "TIMEOUT") ?? rows[4]!;
    const before = await triggerSql("execution_logs_no_update");

    await behindTheTriggersBack("execution_logs_no_update", "UPDATE execution_logs SET reason = ? WHERE id = ?", "venue answered in time", target.id);
    expect(await triggerSql("execution_logs_no_update")).toBe(before);

    const bad = { trader_id: alice.id, chain_seq: target.chain_seq, id: target.id };
    const mine = await verify({ trader_id: alice.id });
    expect(mine).toMatchObject({ ok: false, first_bad: bad });
    expect(mine.first_bad?.problem).toEqual(expect.any(String));
    expect(await verify()).toMatchObject({ ok: false, first_bad: bad });
    expect(await verify({ trader_id: bob.id })).toMatchObject({ ok: true, first_bad: null });

    // Put it back the same way: the chain is whole again.
    await behindTheTriggersBack("execution_logs_no_update", "UPDATE execution_logs SET reason = ? WHERE id = ?", target.reason, target.id);
    expect(await verify({ trader_id: alice.id })).toMatchObject({ ok: true, first_bad: null });
  });

  it("finds a timestamp moved by one millisecond behind the trigger's back", async () => {
    const rows = await rowsOf(bob.id);
    const target = rows.find((r) => r.action === "PARTIAL")!;
    const moved = new Date(Date.parse(target.timestamp) + 1).toISOString();
    await behindTheTriggersBack("execution_logs_no_update", "UPDATE execution_logs SET timestamp = ? WHERE id = ?", moved, target.id);

    expect(await verify({ trader_id: bob.id })).toMatchObject({ ok: false, first_bad: { trader_id: bob.id, chain_seq: target.chain_seq, id: target.id } });

    await behindTheTriggersBack("execution_logs_no_update", "UPDATE execution_logs SET timestamp = ? WHERE id = ?", target.timestamp, target.id);
    expect(await verify({ trader_id: bob.id })).toMatchObject({ ok: true, first_bad: null });
  });

  it("finds a row deleted behind the trigger's back as a missing chain position", async () => {
    const rows = await rowsOf(alice.id);
    const target = rows[2]!;
    const before = await triggerSql("execution_logs_no_delete");
    await behindTheTriggersBack("execution_logs_no_delete", "DELETE FROM execution_logs WHERE id = ?", target.id);
    expect(await triggerSql("execution_logs_no_delete")).toBe(before);

    const result = await verify({ trader_id: alice.id });
    expect(result).toMatchObject({ ok: false, first_bad: { trader_id: alice.id, chain_seq: target.chain_seq, id: null } });
    expect(result.first_bad?.problem).toMatch(/missing/);
    expect(await verify()).toMatchObject({ ok: false, first_bad: { trader_id: alice.id, chain_seq: target.chain_seq } });

    // Appending is allowed: restoring the row exactly makes the chain whole again.
    await env.DB.prepare(`INSERT INTO execution_logs (${LOG_COLUMNS.join(", ")}) VALUES (${LOG_COLUMNS.map((c) => sqlLiteral(target[c])).join(", ")})`).run();
    expect(await verify({ trader_id: alice.id })).toEqual({ ok: true, checked: rows.length, traders: 1, first_bad: null });
  });

  it("follows a chain longer than one page of its reads, and finds a tampered or missing row past the first page", async () => {
    const dana = uniqueTrader("dana");
    const chain = await insertChained(
      env.DB,
      Array.from({ length: 2_500 }, (_, i) => ({ trader_id: dana, timestamp: new Date(Date.parse("2025-08-01T00:00:00.000Z") + i * 1000).toISOString(), reason: `step ${i + 1}` })),
    );
    expect(await verify({ trader_id: dana })).toEqual({ ok: true, checked: 2_500, traders: 1, first_bad: null });

    const altered = chain[1_699]!;
    await behindTheTriggersBack("execution_logs_no_update", "UPDATE execution_logs SET reason = ? WHERE id = ?", "step 1700, edited", altered.id);
    expect(await verify({ trader_id: dana })).toMatchObject({ ok: false, first_bad: { trader_id: dana, chain_seq: 1_700, id: altered.id } });
    await behindTheTriggersBack("execution_logs_no_update", "UPDATE execution_logs SET reason = ? WHERE id = ?", altered.reason, altered.id);

    const removed = chain[1_000]!;
    await behindTheTriggersBack("execution_logs_no_delete", "DELETE FROM execution_logs WHERE id = ?", removed.id);
    expect(await verify({ trader_id: dana })).toMatchObject({ ok: false, first_bad: { trader_id: dana, chain_seq: 1_001, id: null } });
    expect(await verify({ trader_id: dana, from: "2025-08-01T00:10:00Z" })).toMatchObject({ ok: false, first_bad: { trader_id: dana, chain_seq: 1_001 } });
    await env.DB.prepare(`INSERT INTO execution_logs (${LOG_COLUMNS.join(", ")}) VALUES (${LOG_COLUMNS.map((c) => sqlLiteral(removed[c])).join(", ")})`).run();
    expect(await verify({ trader_id: dana })).toEqual({ ok: true, checked: 2_500, traders: 1, first_bad: null });
  });

  it("refuses from after to and a bad date with 400 VALIDATION_ERROR", async () => {
    const token = await sign("officer", "compliance");
    for (const qs of ["from=2025-01-02&to=2025-01-01", "from=not-a-date", "to=2025-02-30"]) {
      const res = await call(`/api/v1/compliance/audit/verify?${qs}`, { token });
      expect(res.status, qs).toBe(400);
      expect(await json(res)).toMatchObject({ error: "VALIDATION_ERROR" });
    }
  });

  it("still refuses plain UPDATE and DELETE after the triggers were dropped and recreated", async () => {
    expect(await triggerSql("execution_logs_no_update")).toContain("RAISE(ABORT");
    expect(await triggerSql("execution_logs_no_delete")).toContain("RAISE(ABORT");
    const target = (await rowsOf(bob.id))[0]!;
    await expect(env.DB.prepare("UPDATE execution_logs SET reason = 'edited' WHERE id = ?").bind(target.id).run()).rejects.toThrow(/append-only/);
    await expect(env.DB.prepare("DELETE FROM execution_logs WHERE id = ?").bind(target.id).run()).rejects.toThrow(/append-only/);
    expect((await rowsOf(bob.id))[0]).toEqual(target);
    expect(await verify()).toMatchObject({ ok: true, first_bad: null });
  });
});
