// SPEC, "JSON names each key once": a body that repeats a key at any depth is 400 MALFORMED_JSON with
// details.duplicate_keys on every route that takes JSON, and nothing is written. Before this, JSON.parse
// kept the last key, so SELL-then-BUY bought.
import { env } from "cloudflare:workers";
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import worker from "../../worker/index";
import { adminToken, asTrader, call, json, newInstrument, newTrader, setInstrument, type Trader } from "../helpers/api";
import { errorOf } from "../helpers/errors";

const SELL_THEN_BUY = '{"symbol":"AAPL","side":"SELL","quantity":10,"order_type":"MARKET","side":"BUY"}';

async function expectDuplicates(res: Response, keys: string[], context: string): Promise<void> {
  expect(res.status, context).toBe(400);
  const body = await errorOf(res, context);
  expect(body.error, context).toBe("MALFORMED_JSON");
  expect(body.details, context).toEqual({ duplicate_keys: keys });
}

const rowCount = async (table: "orders" | "execution_logs" | "accounts", traderId: string) =>
  (await env.DB.prepare(`SELECT COUNT(*) AS n FROM ${table} WHERE trader_id = ?`).bind(traderId).first<{ n: number }>())?.n ?? 0;

/** What the trader sees and D1 holds: orders, audit rows, cash and positions. */
async function traderState(trader: Trader) {
  return {
    orders: (await json<{ data: unknown[] }>(await call("/api/v1/orders", { token: trader.token }))).data,
    account: await json(await call("/api/v1/account", { token: trader.token })),
    d1Orders: await rowCount("orders", trader.id),
    d1Logs: await rowCount("execution_logs", trader.id),
  };
}

const instrumentRow = (symbol: string) => env.DB.prepare("SELECT price_cents, faults FROM instruments WHERE symbol = ?").bind(symbol).first();

/** The app with dev-only vars on, as a local desk runs it. */
async function withEnv(overrides: Partial<Record<"DEV_LOGIN" | "CHAOS_DRILLS", string>>, request: Request): Promise<Response> {
  const ctx = createExecutionContext();
  const res = await worker.fetch(request, { ...env, ...overrides }, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

const raw = (method: string, path: string, body: string, token?: string) =>
  new Request(`http://fillwire.test${path}`, {
    method,
    headers: { "Content-Type": "application/json", ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    body,
  });

describe("orders whose JSON names a key twice", () => {
  it("refuses SELL-then-BUY with 400 MALFORMED_JSON naming side, and no order exists anywhere", async () => {
    // The trader could afford the BUY and holds the shares for the SELL: only the duplicate refuses it.
    const trader = await newTrader(100_000, [{ symbol: "AAPL", quantity: 10, avg_price: 100 }]);
    const before = await traderState(trader);
    for (const type of ["application/json", "application/x-www-form-urlencoded"]) {
      const res = await call("/api/v1/orders", { token: trader.token, body: SELL_THEN_BUY, headers: { "Content-Type": type } });
      await expectDuplicates(res, ["side"], type);
    }
    expect(await traderState(trader)).toEqual(before);
    expect(before.orders).toEqual([]);
    expect(before.d1Orders).toBe(0);
  });

  it("refuses a key repeated through escapes (s\\u0069de, \\u0073\\u0069\\u0064\\u0065)", async () => {
    const trader = await newTrader(100_000, [{ symbol: "AAPL", quantity: 10, avg_price: 100 }]);
    const before = await traderState(trader);
    const cases: [string, string[]][] = [
      ['{"symbol":"AAPL","side":"SELL","quantity":10,"order_type":"MARKET","s\\u0069de":"BUY"}', ["side"]],
      ['{"symbol":"AAPL","\\u0073\\u0069\\u0064\\u0065":"SELL","quantity":10,"order_type":"MARKET","side":"BUY"}', ["side"]],
      ['{"symbol":"AAPL","side":"BUY","quantity":1,"quantity":10,"order_type":"MARKET","order_type":"LIMIT","price":150}', ["quantity", "order_type"]],
    ];
    for (const [text, keys] of cases) {
      await expectDuplicates(await call("/api/v1/orders", { token: trader.token, body: text }), keys, text);
    }
    expect(await traderState(trader)).toEqual(before);
  });

  it("refuses a repeated key even on a route that reads no body (cancel), and the order stays working", async () => {
    const trader = await newTrader(100_000);
    const symbol = await newInstrument(100);
    const placed = await call("/api/v1/orders", { token: trader.token, body: { symbol, quantity: 1, order_type: "LIMIT", price: 95 } });
    expect(placed.status).toBe(201);
    const { id } = await json<{ id: string }>(placed);
    const res = await call(`/api/v1/orders/${id}/cancel`, { token: trader.token, body: '{"reason":"a","reason":"b"}' });
    await expectDuplicates(res, ["reason"], "cancel");
    expect((await json<{ status: string }>(await call(`/api/v1/orders/${id}`, { token: trader.token }))).status).toBe("PENDING");
  });

  it("still takes valid orders: spaced out, with escaped keys that name distinct fields", async () => {
    const trader = await newTrader(100_000);
    const symbol = await newInstrument(100);
    const text = `{\n  "s\\u0079mbol": "${symbol}",\n  "side": "BUY",\n  "quantity": 1,\n  "order_type": "LIMIT",\n  "price": 95\n}`;
    const res = await call("/api/v1/orders", { token: trader.token, body: text });
    expect(res.status, await res.clone().text()).toBe(201);
    expect(await json(res)).toMatchObject({ symbol, side: "BUY", quantity: 1, order_type: "LIMIT", price: 95 });
  });

  it("does not take the same key in two objects for a repeat: the body is read, and validated as usual", async () => {
    const trader = await newTrader(100_000);
    const res = await call("/api/v1/orders", { token: trader.token, body: '{"a":{"x":1},"b":{"x":2}}' });
    const body = await errorOf(res, "two objects");
    expect(body.error).toBe("VALIDATION_ERROR");
  });
});

describe("admin routes whose JSON names a key twice", () => {
  it("opens no account for a repeated key, top-level or inside a position", async () => {
    const admin = await adminToken();
    const cases: [string, string[]][] = [
      ['{"cash":1000,"positions":[],"cash":1000000000}', ["cash"]],
      ['{"cash":1000,"positions":[{"symbol":"AAPL","quantity":1,"avg_price":10},{"symbol":"MSFT","quantity":1,"avg_price":10,"quantity":500}]}', ["positions[1].quantity"]],
      ['{"cash":1000,"positions":[{"symbol":"AAPL","quantity":1,"avg_price":10,"avg_price":0.01}],"positions":[]}', ["positions[0].avg_price", "positions"]],
    ];
    for (const [text, keys] of cases) {
      const id = `dup-${crypto.randomUUID().slice(0, 8)}`;
      await expectDuplicates(await call(`/api/v1/admin/accounts/${id}`, { method: "PUT", token: admin, body: text }), keys, text);
      expect(await rowCount("accounts", id), text).toBe(0);
      const account = await call("/api/v1/account", { token: (await asTrader(id)).token });
      expect((await errorOf(account, id)).error).toBe("ACCOUNT_NOT_FOUND");
    }
  });

  it("opens an account whose positions repeat keys across objects (not a repeat)", async () => {
    const id = `dup-${crypto.randomUUID().slice(0, 8)}`;
    const text = '{"cash":1000,"positions":[{"symbol":"AAPL","quantity":1,"avg_price":10},{"symbol":"MSFT","quantity":2,"avg_price":20}]}';
    const res = await call(`/api/v1/admin/accounts/${id}`, { method: "PUT", token: await adminToken(), body: text });
    expect(res.status, await res.clone().text()).toBe(201);
    expect(await rowCount("accounts", id)).toBe(1);
  });

  it("changes no instrument price and no faults for a repeated key", async () => {
    const symbol = await newInstrument(100);
    const admin = await adminToken();
    const before = await instrumentRow(symbol);
    await expectDuplicates(await call(`/api/v1/admin/instruments/${symbol}`, { method: "PUT", token: admin, body: '{"price":100,"price":1}' }), ["price"], "price");
    await expectDuplicates(
      await call(`/api/v1/admin/instruments/${symbol}/faults`, { method: "PUT", token: admin, body: '{"error_rate":0,"error_rate":1}' }),
      ["error_rate"],
      "faults",
    );
    expect(await instrumentRow(symbol)).toEqual(before);
    const listed = await json<{ data: { symbol: string; price: number }[] }>(await call("/api/v1/instruments", { token: admin }));
    expect(listed.data.find((i) => i.symbol === symbol)?.price).toBe(100);
    // Control: the same route takes the price once.
    expect((await setInstrument(symbol, { price: 101 })).status).toBe(200);
    expect(await instrumentRow(symbol)).toMatchObject({ price_cents: 10_100 });
  });
});

describe("dev-only routes whose JSON names a key twice", () => {
  it("signs no token at /api/v1/dev/login for a repeated sub or role", async () => {
    const res = await withEnv({ DEV_LOGIN: "true" }, raw("POST", "/api/v1/dev/login", '{"sub":"alice","role":"trader","role":"admin"}'));
    await expectDuplicates(res, ["role"], "dev login");
    const control = await withEnv({ DEV_LOGIN: "true" }, raw("POST", "/api/v1/dev/login", '{"sub":"alice","role":"trader"}'));
    expect(control.status).toBe(200);
  });

  it("starts no D1 outage drill for a repeated seconds", async () => {
    const res = await withEnv({ CHAOS_DRILLS: "true" }, raw("PUT", "/api/v1/admin/drills/d1-outage", '{"seconds":0,"seconds":600}', await adminToken()));
    await expectDuplicates(res, ["seconds"], "drill");
    const table = await env.DB.prepare("SELECT name FROM sqlite_master WHERE name = '_drill_d1_outage'").first();
    expect(table).toBeNull();
  });
});
