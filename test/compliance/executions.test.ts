// GET /api/v1/compliance/executions: who may read it, the inclusive range, the filters, newest-first order
// with same-millisecond ties in audit-chain order, keyset pagination, and validation. Rows with exact
// timestamps are written straight into the local D1; one test reads rows the desk wrote for real.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, eventually, json, newTrader, submit, untilStatus } from "../helpers/api";
import { sign } from "../helpers/auth";
import { at, insertChained, uniqueTrader, type ChainHead, type LogRow, type LogSpec } from "../helpers/d1";
import type { ExecutionRow } from "../../worker/shared/compliance";

interface Page {
  data: ExecutionRow[];
  next_cursor: string | null;
}

interface ErrorBody {
  error: string;
  message: string;
  details?: { fields?: Record<string, string> };
}

const officer = () => sign(`officer-${crypto.randomUUID().slice(0, 8)}`, "compliance");

async function executions(query: Record<string, string | number>, token?: string): Promise<Response> {
  const qs = new URLSearchParams(Object.entries(query).map(([k, v]) => [k, String(v)]));
  return call(`/api/v1/compliance/executions?${qs}`, { token: token ?? (await officer()) });
}

async function page(query: Record<string, string | number>): Promise<Page> {
  const res = await executions(query);
  const text = await res.text();
  expect(res.status, text).toBe(200);
  return JSON.parse(text) as Page;
}

/** What the route must answer for a D1 row: the report's fields and the row's chain position and hash. */
const reported = (r: LogRow): ExecutionRow => ({
  id: r.id, trader_id: r.trader_id, order_id: r.order_id, symbol: r.symbol, side: r.side as ExecutionRow["side"],
  action: r.action as ExecutionRow["action"], status: r.status as ExecutionRow["status"], timestamp: r.timestamp,
  reason: r.reason, error_code: r.error_code, retry_attempt: r.retry_attempt, parent_order_id: r.parent_order_id, chain_seq: r.chain_seq, hash: r.hash,
});

/** Newest first; in one millisecond the later chain position first (then id, as the route's tie-break). */
const newestFirst = (a: LogRow, b: LogRow) =>
  b.timestamp.localeCompare(a.timestamp) || b.chain_seq - a.chain_seq || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);

async function expectValidationError(query: Record<string, string | number>, field: string): Promise<void> {
  const res = await executions(query);
  const text = await res.text();
  expect(res.status, text).toBe(400);
  const body = JSON.parse(text) as ErrorBody;
  expect(body.error, text).toBe("VALIDATION_ERROR");
  expect(body.details?.fields?.[field], text).toEqual(expect.any(String));
}

describe("compliance executions: who may read them", () => {
  it("answers 403 FORBIDDEN to a trader and to an admin on both compliance routes, 401 without a token", async () => {
    const trader = await newTrader(1_000);
    const admin = await sign("root", "admin");
    for (const path of ["/api/v1/compliance/executions", "/api/v1/compliance/executions?format=csv", "/api/v1/compliance/audit/verify"]) {
      for (const token of [trader.token, admin]) {
        const res = await call(path, { token });
        expect(res.status, path).toBe(403);
        expect(await json(res)).toMatchObject({ error: "FORBIDDEN" });
      }
      expect((await call(path, { token: null })).status, path).toBe(401);
    }
    expect((await call("/api/v1/compliance/executions", { token: await officer() })).status).toBe(200);
  });
});

describe("compliance executions: the range is inclusive at both edges", () => {
  it("includes rows exactly at from and exactly at to and excludes one millisecond outside either edge", async () => {
    const trader = uniqueTrader();
    const from = "2025-01-10T09:00:00.000Z";
    const to = "2025-01-10T17:30:00.250Z";
    const rows = await insertChained(env.DB, [
      { trader_id: trader, timestamp: at(from, -1), reason: "before" },
      { trader_id: trader, timestamp: from, reason: "at from" },
      { trader_id: trader, timestamp: "2025-01-10T12:00:00.000Z", reason: "inside" },
      { trader_id: trader, timestamp: to, reason: "at to" },
      { trader_id: trader, timestamp: at(to, 1), reason: "after" },
    ]);
    const body = await page({ from, to });
    expect(body.data.map((r) => r.reason)).toEqual(["at to", "inside", "at from"]);
    expect(body.data).toEqual([3, 2, 1].map((i) => reported(rows[i]!)));
    expect(body.next_cursor).toBeNull();

    // The same instants written without milliseconds, or with a UTC offset, name the same edges.
    const sameEdges = await page({ from: "2025-01-10T11:00:00+02:00", to: "2025-01-10T17:30:00.250Z" });
    expect(sameEdges.data.map((r) => r.reason)).toEqual(["at to", "inside", "at from"]);
    const secondsOnly = await page({ from: "2025-01-10T09:00:00Z", to: "2025-01-10T17:30:00Z" });
    expect(secondsOnly.data.map((r) => r.reason)).toEqual(["inside", "at from"]);
  });

  it("reads a date-only to as the whole UTC day and a date-only from as its midnight", async () => {
    const trader = uniqueTrader();
    await insertChained(env.DB, [
      { trader_id: trader, timestamp: "2025-01-13T23:59:59.999Z", reason: "day before" },
      { trader_id: trader, timestamp: "2025-01-14T00:00:00.000Z", reason: "first instant" },
      { trader_id: trader, timestamp: "2025-01-14T13:00:00.000Z", reason: "midday" },
      { trader_id: trader, timestamp: "2025-01-14T23:59:59.999Z", reason: "last instant" },
      { trader_id: trader, timestamp: "2025-01-15T00:00:00.000Z", reason: "day after" },
    ]);
    expect((await page({ from: "2025-01-14", to: "2025-01-14" })).data.map((r) => r.reason)).toEqual(["last instant", "midday", "first instant"]);
    expect((await page({ from: "2025-01-14T12:00:00Z", to: "2025-01-14" })).data.map((r) => r.reason)).toEqual(["last instant", "midday"]);
    expect((await page({ from: "2025-01-13", to: "2025-01-13" })).data.map((r) => r.reason)).toEqual(["day before"]);
    expect((await page({ from: "2025-01-15", to: "2025-01-15" })).data.map((r) => r.reason)).toEqual(["day after"]);
  });
});

describe("compliance executions: filters", () => {
  it("narrows by trader_id, order_id, symbol and action, each alone and combined", async () => {
    const alice = uniqueTrader("fa");
    const bob = uniqueTrader("fb");
    const [o1, o2, o3] = [crypto.randomUUID(), crypto.randomUUID(), crypto.randomUUID()];
    const base = "2025-01-20T10:00:00.000Z";
    const specs: LogSpec[] = [];
    const trail = (trader_id: string, order_id: string, symbol: string, side: string, actions: [string, string][], start: number) =>
      actions.forEach(([action, status], i) => specs.push({ trader_id, order_id, symbol, side, action, status, timestamp: at(base, start + i * 10) }));
    trail(alice, o1, "AAPL", "BUY", [["SUBMITTED", "PENDING"], ["APPROVED", "PENDING"], ["EXECUTED", "PENDING"], ["FILLED", "FILLED"]], 0);
    trail(alice, o2, "MSFT", "SELL", [["SUBMITTED", "PENDING"], ["APPROVED", "PENDING"], ["CANCELLED", "CANCELLED"]], 1_000);
    trail(bob, o3, "MSFT", "BUY", [["SUBMITTED", "PENDING"], ["APPROVED", "PENDING"], ["EXECUTED", "PENDING"], ["PARTIAL", "PARTIAL"], ["FILLED", "FILLED"]], 2_000);
    const heads = new Map<string, ChainHead>();
    const rows = await insertChained(env.DB, specs, heads);
    const day = { from: "2025-01-20", to: "2025-01-20" };

    const cases: [Record<string, string>, (r: LogRow) => boolean][] = [
      [{}, () => true],
      [{ trader_id: alice }, (r) => r.trader_id === alice],
      [{ trader_id: bob }, (r) => r.trader_id === bob],
      [{ order_id: o2 }, (r) => r.order_id === o2],
      [{ symbol: "MSFT" }, (r) => r.symbol === "MSFT"],
      [{ action: "FILLED" }, (r) => r.action === "FILLED"],
      [{ trader_id: alice, symbol: "MSFT" }, (r) => r.trader_id === alice && r.symbol === "MSFT"],
      [{ symbol: "MSFT", action: "SUBMITTED" }, (r) => r.symbol === "MSFT" && r.action === "SUBMITTED"],
      [{ trader_id: bob, order_id: o3, symbol: "MSFT", action: "PARTIAL" }, (r) => r.order_id === o3 && r.action === "PARTIAL"],
      [{ trader_id: alice, order_id: o3 }, () => false],
      [{ trader_id: alice, action: "PARTIAL" }, () => false],
      [{ order_id: o1, symbol: "MSFT" }, () => false],
    ];
    for (const [filter, keep] of cases) {
      const body = await page({ ...day, ...filter });
      const expected = rows.filter(keep).sort(newestFirst).map(reported);
      expect(body.data, JSON.stringify(filter)).toEqual(expected);
      expect(body.next_cursor).toBeNull();
    }
    // Every filter is its own narrowing: the same trader on another day is not in this one.
    await insertChained(env.DB, [{ trader_id: alice, order_id: o1, timestamp: "2025-01-21T10:00:00.000Z" }], heads);
    expect((await page({ ...day, trader_id: alice })).data).toHaveLength(7);
  });
});

describe("compliance executions: order", () => {
  it("lists newest first and keeps rows of one millisecond in audit-chain order, whatever their ids", async () => {
    const trader = uniqueTrader();
    const tick = "2025-01-22T08:00:00.123Z";
    // Ids sort against the chain inside the shared millisecond, so only chain_seq can order them right.
    const rows = await insertChained(env.DB, [
      { trader_id: trader, id: `m-${crypto.randomUUID()}`, timestamp: "2025-01-22T08:00:00.122Z", action: "SUBMITTED" },
      { trader_id: trader, id: `e-${crypto.randomUUID()}`, timestamp: tick, action: "APPROVED" },
      { trader_id: trader, id: `d-${crypto.randomUUID()}`, timestamp: tick, action: "EXECUTED" },
      { trader_id: trader, id: `c-${crypto.randomUUID()}`, timestamp: tick, action: "PARTIAL", status: "PARTIAL" },
      { trader_id: trader, id: `b-${crypto.randomUUID()}`, timestamp: tick, action: "FILLED", status: "FILLED" },
      { trader_id: trader, id: `a-${crypto.randomUUID()}`, timestamp: "2025-01-22T08:00:00.124Z", action: "SUBMITTED" },
    ]);
    const body = await page({ from: "2025-01-22", to: "2025-01-22", trader_id: trader });
    expect(body.data.map((r) => r.id)).toEqual([5, 4, 3, 2, 1, 0].map((i) => rows[i]!.id));

    // Another trader writing in the same millisecond does not disturb either chain's order.
    const other = uniqueTrader();
    const theirs = await insertChained(env.DB, [
      { trader_id: other, id: `z-${crypto.randomUUID()}`, timestamp: tick },
      { trader_id: other, id: `y-${crypto.randomUUID()}`, timestamp: tick },
    ]);
    const all = await page({ from: "2025-01-22", to: "2025-01-22" });
    expect(all.data.filter((r) => r.trader_id === trader).map((r) => r.id)).toEqual(body.data.map((r) => r.id));
    expect(all.data.filter((r) => r.trader_id === other).map((r) => r.id)).toEqual([theirs[1]!.id, theirs[0]!.id]);
    const times = all.data.map((r) => r.timestamp);
    expect(times).toEqual([...times].sort().reverse());
  });
});

describe("compliance executions: keyset pagination", () => {
  it("walks every row exactly once with limit and next_cursor, across ties and a row written mid-walk", async () => {
    const traders = [uniqueTrader("pa"), uniqueTrader("pb")];
    const specs: LogSpec[] = [];
    // 23 rows: bursts of three in one millisecond, alternating traders, so pages split inside ties.
    for (let i = 0; i < 23; i++) specs.push({ trader_id: traders[i % 2]!, timestamp: at("2025-01-23T10:00:00.000Z", Math.floor(i / 3)) });
    const rows = await insertChained(env.DB, specs);
    const range = { from: "2025-01-23", to: "2025-01-23" };
    const expected = [...rows].sort(newestFirst).map((r) => r.id);

    const whole = await page({ ...range, limit: 1000 });
    expect(whole.data.map((r) => r.id)).toEqual(expected);
    expect(whole.next_cursor).toBeNull();

    for (const limit of [1, 23, 5]) {
      const seen: string[] = [];
      const sizes: number[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const body: Page = await page({ ...range, limit, ...(cursor ? { cursor } : {}) });
        seen.push(...body.data.map((r) => r.id));
        sizes.push(body.data.length);
        cursor = body.next_cursor;
        if (++pages === 1 && limit === 5) {
          // A newer row written after the first page must neither reappear in nor shift later pages.
          await insertChained(env.DB, [{ trader_id: uniqueTrader("late"), timestamp: "2025-01-23T23:00:00.000Z" }]);
        }
      } while (cursor && pages < 100);
      expect(seen, `limit ${limit}`).toEqual(expected);
      expect(sizes, `limit ${limit}`).toEqual(Array.from({ length: Math.ceil(23 / limit) }, (_, i) => Math.min(limit, 23 - i * limit)));
    }
  });

  it("answers 100 rows by default with a cursor to the rest, and accepts limit 1000", async () => {
    const trader = uniqueTrader();
    await insertChained(env.DB, Array.from({ length: 101 }, (_, i) => ({ trader_id: trader, timestamp: at("2025-01-24T00:00:00.000Z", i * 1000) })));
    const first = await page({ trader_id: trader });
    expect(first.data).toHaveLength(100);
    expect(first.next_cursor).toEqual(expect.any(String));
    const rest = await page({ trader_id: trader, cursor: first.next_cursor ?? "" });
    expect(rest.data.map((r) => r.timestamp)).toEqual(["2025-01-24T00:00:00.000Z"]);
    expect(rest.next_cursor).toBeNull();
    expect((await page({ trader_id: trader, limit: 1000 })).data).toHaveLength(101);
  });
});

describe("compliance executions: validation", () => {
  it("refuses limit 1001, 0 or not a number with 400 VALIDATION_ERROR naming limit", async () => {
    for (const limit of ["1001", "0", "ten", "2.5"]) await expectValidationError({ limit }, "limit");
  });

  it("refuses from after to, a bad date, and a timezone-less date that does not exist, naming the field", async () => {
    await expectValidationError({ from: "2025-01-02", to: "2025-01-01" }, "to");
    await expectValidationError({ from: "2025-01-01T12:00:00.001Z", to: "2025-01-01T12:00:00.000Z" }, "to");
    await expectValidationError({ from: "yesterday" }, "from");
    await expectValidationError({ to: "2025-02-30" }, "to");
    await expectValidationError({ from: "2025-13-01" }, "from");
    await expectValidationError({ to: "31/01/2025" }, "to");
  });

  it("refuses an unknown action and an unknown format", async () => {
    await expectValidationError({ action: "DELETED" }, "action");
    await expectValidationError({ action: "filled" }, "action");
    await expectValidationError({ format: "xml" }, "format");
  });

  it("refuses a cursor it did not issue", async () => {
    await expectValidationError({ cursor: "not a cursor!" }, "cursor");
    await expectValidationError({ cursor: btoa(JSON.stringify({ timestamp: "2025-01-01" })) }, "cursor");
    await expectValidationError({ cursor: btoa(JSON.stringify(["2025-01-01T00:00:00.000Z", "one", "id"])) }, "cursor");
  });
});

describe("compliance executions: rows the desk wrote", () => {
  it("reports a real market order's trail from D1 once the desk's outbox has flushed, newest first", async () => {
    const started = new Date(Date.now() - 1000).toISOString();
    const trader = await newTrader(5_000);
    const res = await submit(trader, { symbol: "AAPL", side: "BUY", quantity: 10, order_type: "MARKET" });
    expect(res.status).toBe(201);
    const { id } = await json<{ id: string }>(res);
    await untilStatus(trader, id, "FILLED");
    const d1Rows = await eventually(
      async () => (await env.DB.prepare("SELECT * FROM execution_logs WHERE trader_id = ?").bind(trader.id).all<LogRow>()).results,
      (r) => r.some((row) => row.action === "FILLED"),
    );
    expect(d1Rows.map((r) => r.action).sort()).toEqual(["APPROVED", "EXECUTED", "FILLED", "SUBMITTED"]);
    const ended = new Date(Date.now() + 1000).toISOString();

    const body = await page({ from: started, to: ended, trader_id: trader.id });
    expect(body.data).toEqual([...d1Rows].sort(newestFirst).map(reported));
    expect(body.data.map((r) => r.action)).toEqual(["FILLED", "EXECUTED", "APPROVED", "SUBMITTED"]);
    for (const r of body.data) expect(r).toMatchObject({ order_id: id, symbol: "AAPL", side: "BUY", trader_id: trader.id });

    const filled = await page({ from: started, to: ended, order_id: id, action: "FILLED" });
    expect(filled.data).toEqual([expect.objectContaining({ order_id: id, action: "FILLED", status: "FILLED" })]);
  });
});
