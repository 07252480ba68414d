// Every validation and pre-trade risk refusal of the SPEC: the status, the error shape, the details a
// client acts on, and proof that a refused request wrote nothing (no order, no audit row, no D1 row, no
// change to cash, reservations or positions).
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, eventually, json, newInstrument, newTrader, setInstrument, submit, type Trader } from "../helpers/api";
import { sign } from "../helpers/auth";

interface ErrorBody {
  error: string;
  message: string;
  details?: Record<string, unknown>;
}

/** Asserts status, JSON content and error code; returns the body for the caller's own checks. */
async function expectError(res: Response, status: number, code: string): Promise<ErrorBody> {
  const text = await res.text();
  expect(res.status, text).toBe(status);
  expect(res.headers.get("Content-Type") ?? "").toMatch(/^application\/json/);
  const body = JSON.parse(text) as ErrorBody;
  expect(body.error, text).toBe(code);
  expect(typeof body.message).toBe("string");
  expect(body.message.length).toBeGreaterThan(0);
  return body;
}

function fieldsOf(body: ErrorBody): Record<string, string> {
  const fields = body.details?.fields;
  expect(fields, JSON.stringify(body)).toBeTypeOf("object");
  return fields as Record<string, string>;
}

const deskOf = (traderId: string) => env.TRADER.get(env.TRADER.idFromName(traderId));

async function d1Count(table: "orders" | "fills" | "execution_logs", traderId: string): Promise<number> {
  const row = await env.DB.prepare(`SELECT COUNT(*) AS n FROM ${table} WHERE trader_id = ?`).bind(traderId).first<{ n: number }>();
  return row?.n ?? 0;
}

interface Snapshot {
  account: unknown;
  d1Account: unknown;
  d1Positions: unknown[];
}

/** What the trader sees and what D1 holds about the trader's money and shares. */
async function snapshot(trader: Trader): Promise<Snapshot> {
  const res = await call("/api/v1/account", { token: trader.token });
  expect(res.status).toBe(200);
  return {
    account: await res.json(),
    d1Account: await env.DB.prepare("SELECT cash_cents, reserved_cents FROM accounts WHERE trader_id = ?").bind(trader.id).first(),
    d1Positions: (
      await env.DB.prepare("SELECT symbol, quantity, cost_cents FROM positions WHERE trader_id = ? ORDER BY symbol").bind(trader.id).all()
    ).results,
  };
}

/** A refused request left no trace: no order listed, no D1 rows, balances exactly as before. */
async function expectNothingWritten(trader: Trader, before: Snapshot): Promise<void> {
  // Once the desk's outbox is empty, anything it had written would be in D1 by now.
  await eventually(() => deskOf(trader.id).pendingOutbox(), (n) => n === 0);
  const list = await call("/api/v1/orders", { token: trader.token });
  expect(list.status).toBe(200);
  expect(await json<{ data: unknown[] }>(list)).toEqual({ data: [], next_cursor: null });
  expect(await d1Count("orders", trader.id)).toBe(0);
  expect(await d1Count("fills", trader.id)).toBe(0);
  expect(await d1Count("execution_logs", trader.id)).toBe(0);
  expect(await snapshot(trader)).toEqual(before);
}

const market = { symbol: "AAPL", quantity: 10, order_type: "MARKET" };

describe("VALIDATION_ERROR on order bodies", () => {
  const cases: { name: string; body: Record<string, unknown>; field: string }[] = [
    { name: "a missing symbol", body: { quantity: 10, order_type: "MARKET" }, field: "symbol" },
    { name: "a lowercase symbol", body: { ...market, symbol: "aapl" }, field: "symbol" },
    { name: "a symbol longer than 12 characters", body: { ...market, symbol: "ABCDEFGHIJKLM" }, field: "symbol" },
    { name: "a symbol with a character outside A-Z 0-9 . _", body: { ...market, symbol: "AA-PL" }, field: "symbol" },
    { name: "an empty symbol", body: { ...market, symbol: "" }, field: "symbol" },
    { name: "quantity 0", body: { ...market, quantity: 0 }, field: "quantity" },
    { name: "a negative quantity", body: { ...market, quantity: -5 }, field: "quantity" },
    { name: "a fractional quantity 1.5", body: { ...market, quantity: 1.5 }, field: "quantity" },
    { name: 'quantity as the string "100"', body: { ...market, quantity: "100" }, field: "quantity" },
    { name: "a missing quantity", body: { symbol: "AAPL", order_type: "MARKET" }, field: "quantity" },
    { name: "side HOLD", body: { ...market, side: "HOLD" }, field: "side" },
    { name: "a lowercase side", body: { ...market, side: "buy" }, field: "side" },
    { name: "order_type ICEBERG", body: { ...market, order_type: "ICEBERG" }, field: "order_type" },
    { name: "a missing order_type", body: { symbol: "AAPL", quantity: 10 }, field: "order_type" },
    { name: "time_in_force WEEK", body: { ...market, time_in_force: "WEEK" }, field: "time_in_force" },
    { name: "a LIMIT order without price", body: { symbol: "AAPL", quantity: 10, order_type: "LIMIT" }, field: "price" },
    { name: "a STOP_LIMIT order without price", body: { symbol: "AAPL", quantity: 10, order_type: "STOP_LIMIT", stop_price: 149 }, field: "price" },
    { name: "a MARKET order with a price", body: { ...market, price: 150 }, field: "price" },
    { name: "a STOP order without stop_price", body: { symbol: "AAPL", quantity: 10, order_type: "STOP" }, field: "stop_price" },
    { name: "a STOP_LIMIT order without stop_price", body: { symbol: "AAPL", quantity: 10, order_type: "STOP_LIMIT", price: 150 }, field: "stop_price" },
    { name: "a LIMIT order with a stop_price", body: { symbol: "AAPL", quantity: 10, order_type: "LIMIT", price: 150, stop_price: 149 }, field: "stop_price" },
    { name: "a price with more than two decimals", body: { symbol: "AAPL", quantity: 10, order_type: "LIMIT", price: 150.001 }, field: "price" },
    { name: "a stop_price with more than two decimals", body: { symbol: "AAPL", quantity: 10, order_type: "STOP", stop_price: 149.125 }, field: "stop_price" },
    { name: "a price of 0", body: { symbol: "AAPL", quantity: 10, order_type: "LIMIT", price: 0 }, field: "price" },
    { name: "a price sent as a string", body: { symbol: "AAPL", quantity: 10, order_type: "LIMIT", price: "150" }, field: "price" },
    { name: "a client_order_id with a space", body: { ...market, client_order_id: "my order" }, field: "client_order_id" },
  ];

  it.each(cases)("refuses $name, naming $field, and writes nothing", async ({ body, field }) => {
    const trader = await newTrader(100_000);
    const before = await snapshot(trader);
    const error = await expectError(await submit(trader, body), 400, "VALIDATION_ERROR");
    expect(Object.keys(fieldsOf(error)), JSON.stringify(error)).toContain(field);
    await expectNothingWritten(trader, before);
  });

  it("refuses an unknown extra field and names it", async () => {
    const trader = await newTrader(100_000);
    const before = await snapshot(trader);
    const error = await expectError(await submit(trader, { ...market, leverage: 10 }), 400, "VALIDATION_ERROR");
    const fields = fieldsOf(error);
    // Named either as the key or in the field's message.
    expect(Object.keys(fields).includes("leverage") || Object.values(fields).some((m) => m.includes("leverage")), JSON.stringify(error)).toBe(true);
    await expectNothingWritten(trader, before);
  });

  it("names every bad field of one request, not only the first", async () => {
    const trader = await newTrader(100_000);
    const before = await snapshot(trader);
    const body = { symbol: "aapl", quantity: 0, side: "HOLD", order_type: "ICEBERG", time_in_force: "WEEK" };
    const error = await expectError(await submit(trader, body), 400, "VALIDATION_ERROR");
    expect(Object.keys(fieldsOf(error)).sort()).toEqual(["order_type", "quantity", "side", "symbol", "time_in_force"]);
    await expectNothingWritten(trader, before);
  });

  it("refuses a JSON body that is not an object", async () => {
    const trader = await newTrader(100_000);
    const before = await snapshot(trader);
    for (const body of ["[]", "null", '"AAPL"', "42"]) {
      const res = await call("/api/v1/orders", { method: "POST", token: trader.token, body });
      await expectError(res, 400, "VALIDATION_ERROR");
    }
    await expectNothingWritten(trader, before);
  });
});

describe("VALIDATION_ERROR on the order list query", () => {
  const cases: { name: string; query: string; field: string }[] = [
    { name: "limit=0", query: "limit=0", field: "limit" },
    { name: "limit=501", query: "limit=501", field: "limit" },
    { name: "limit=abc", query: "limit=abc", field: "limit" },
    { name: "limit=1.5", query: "limit=1.5", field: "limit" },
    { name: "an unknown status", query: "status=DONE", field: "status" },
    { name: "a lowercase symbol filter", query: "symbol=aapl", field: "symbol" },
    { name: "a cursor this API never made", query: "cursor=not-a-cursor", field: "cursor" },
    { name: "a base64 cursor of the wrong form", query: `cursor=${btoa("x:12")}`, field: "cursor" },
  ];

  it.each(cases)("refuses $name, naming $field", async ({ query, field }) => {
    const trader = await newTrader(1000);
    const error = await expectError(await call(`/api/v1/orders?${query}`, { token: trader.token }), 400, "VALIDATION_ERROR");
    expect(Object.keys(fieldsOf(error)), JSON.stringify(error)).toContain(field);
  });

  it("accepts the bounds limit=1 and limit=500", async () => {
    const trader = await newTrader(1000);
    for (const limit of [1, 500]) {
      const res = await call(`/api/v1/orders?limit=${limit}`, { token: trader.token });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ data: [], next_cursor: null });
    }
  });
});

describe("bodies the API cannot read", () => {
  it("answers MALFORMED_JSON (400) for a body that is not JSON", async () => {
    const trader = await newTrader(100_000);
    const before = await snapshot(trader);
    for (const body of ['{"symbol": "AAPL", "quantity": 10,', "{symbol: AAPL}", "not json at all"]) {
      await expectError(await call("/api/v1/orders", { method: "POST", token: trader.token, body }), 400, "MALFORMED_JSON");
    }
    await expectNothingWritten(trader, before);
  });

  it("answers UNSUPPORTED_MEDIA_TYPE (415) for a JSON order sent as text/plain or a form", async () => {
    const trader = await newTrader(100_000);
    const before = await snapshot(trader);
    const asText = await call("/api/v1/orders", { token: trader.token, body: JSON.stringify(market), headers: { "Content-Type": "text/plain" } });
    await expectError(asText, 415, "UNSUPPORTED_MEDIA_TYPE");
    const asForm = await call("/api/v1/orders", {
      token: trader.token,
      body: "symbol=AAPL&quantity=10&order_type=MARKET",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
    });
    await expectError(asForm, 415, "UNSUPPORTED_MEDIA_TYPE");
    await expectNothingWritten(trader, before);
  });

  it("accepts application/json with a charset parameter (control for the 415 above)", async () => {
    const trader = await newTrader(100_000);
    const res = await call("/api/v1/orders", { token: trader.token, body: JSON.stringify(market), headers: { "Content-Type": "application/json; charset=utf-8" } });
    expect(res.status, await res.clone().text()).toBe(201);
  });

  it("answers PAYLOAD_TOO_LARGE (413) for a body over 16 KiB", async () => {
    const trader = await newTrader(100_000);
    const before = await snapshot(trader);
    const body = JSON.stringify({ ...market, client_order_id: "x".repeat(17 * 1024) });
    await expectError(await call("/api/v1/orders", { token: trader.token, body }), 413, "PAYLOAD_TOO_LARGE");
    await expectNothingWritten(trader, before);
  });

  it("answers PAYLOAD_TOO_LARGE (413) for a streamed body over 16 KiB that declares no length", async () => {
    const trader = await newTrader(100_000);
    const before = await snapshot(trader);
    const bytes = new TextEncoder().encode(JSON.stringify({ ...market, client_order_id: "x".repeat(17 * 1024) }));
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        // In 1 KiB chunks, as a client without Content-Length would send it.
        for (let i = 0; i < bytes.length; i += 1024) controller.enqueue(bytes.slice(i, i + 1024));
        controller.close();
      },
    });
    const direct = await exports.default.fetch(
      new Request("http://fillwire.test/api/v1/orders", {
        method: "POST",
        headers: { Authorization: `Bearer ${trader.token}`, "Content-Type": "application/json" },
        body: stream,
      }),
    );
    await expectError(direct, 413, "PAYLOAD_TOO_LARGE");
    await expectNothingWritten(trader, before);
  });
});

describe("pre-trade risk refusals", () => {
  it("refuses an unknown symbol with UNKNOWN_SYMBOL", async () => {
    const trader = await newTrader(100_000);
    const before = await snapshot(trader);
    const error = await expectError(await submit(trader, { ...market, symbol: "NOSUCH9" }), 400, "UNKNOWN_SYMBOL");
    expect(error.details).toMatchObject({ symbol: "NOSUCH9" });
    await expectNothingWritten(trader, before);
  });

  it("refuses an instrument switched off with SYMBOL_NOT_TRADABLE, and accepts it once switched back on", async () => {
    const symbol = await newInstrument(100);
    expect((await setInstrument(symbol, { tradable: false })).status).toBe(200);
    const trader = await newTrader(100_000);
    const before = await snapshot(trader);
    const error = await expectError(await submit(trader, { symbol, quantity: 5, order_type: "MARKET" }), 400, "SYMBOL_NOT_TRADABLE");
    expect(error.details).toMatchObject({ symbol });
    await expectNothingWritten(trader, before);

    expect((await setInstrument(symbol, { tradable: true })).status).toBe(200);
    expect((await submit(trader, { symbol, quantity: 5, order_type: "MARKET" })).status).toBe(201);
  });

  it("refuses bob's 100 AAPL market buy with the seed's exact INSUFFICIENT_FUNDS message and details", async () => {
    const trader = await newTrader(5000);
    const before = await snapshot(trader);
    const error = await expectError(await submit(trader, { symbol: "AAPL", quantity: 100, order_type: "MARKET" }), 400, "INSUFFICIENT_FUNDS");
    expect(error.message).toBe("Insufficient funds for $15,000.00 order; available: $5,000.00");
    expect(error.details).toEqual({ required_balance: 15000, available_balance: 5000 });
    await expectNothingWritten(trader, before);
  });

  it("prices a LIMIT buy's funds check at its limit price", async () => {
    const trader = await newTrader(5000);
    const before = await snapshot(trader);
    const res = await submit(trader, { symbol: "AAPL", quantity: 40, order_type: "LIMIT", price: 149 });
    const error = await expectError(res, 400, "INSUFFICIENT_FUNDS");
    expect(error.message).toBe("Insufficient funds for $5,960.00 order; available: $5,000.00");
    expect(error.details).toEqual({ required_balance: 5960, available_balance: 5000 });
    await expectNothingWritten(trader, before);
  });

  it("counts cash reserved by a working order as unavailable", async () => {
    const trader = await newTrader(5000);
    const resting = await submit(trader, { symbol: "AAPL", quantity: 20, order_type: "LIMIT", price: 140, time_in_force: "GTC" });
    expect(resting.status).toBe(201);
    const { id } = await json<{ id: string }>(resting);
    const account = await json(await call("/api/v1/account", { token: trader.token }));
    expect(account).toMatchObject({ cash: 5000, reserved: 2800, buying_power: 2200 });

    const error = await expectError(
      await submit(trader, { symbol: "AAPL", quantity: 20, order_type: "LIMIT", price: 140, time_in_force: "GTC" }),
      400,
      "INSUFFICIENT_FUNDS",
    );
    expect(error.message).toBe("Insufficient funds for $2,800.00 order; available: $2,200.00");
    expect(error.details).toEqual({ required_balance: 2800, available_balance: 2200 });

    await eventually(() => deskOf(trader.id).pendingOutbox(), (n) => n === 0);
    const list = await json<{ data: { id: string }[] }>(await call("/api/v1/orders", { token: trader.token }));
    expect(list.data.map((o) => o.id)).toEqual([id]);
    expect(await d1Count("orders", trader.id)).toBe(1);
    expect(await json(await call("/api/v1/account", { token: trader.token }))).toMatchObject({ cash: 5000, reserved: 2800 });
  });

  it("refuses to sell more shares than held with INSUFFICIENT_POSITION", async () => {
    const trader = await newTrader(1000, [{ symbol: "AAPL", quantity: 10, avg_price: 140 }]);
    const before = await snapshot(trader);
    expect(before.account).toMatchObject({ positions: [{ symbol: "AAPL", quantity: 10, avg_price: 140 }] });
    const error = await expectError(await submit(trader, { symbol: "AAPL", side: "SELL", quantity: 11, order_type: "MARKET" }), 400, "INSUFFICIENT_POSITION");
    expect(error.details).toMatchObject({ requested_quantity: 11, available_quantity: 10 });
    await expectNothingWritten(trader, before);
    // No shares were set aside by the refusal: all 10 can still be sold.
    const all = await submit(trader, { symbol: "AAPL", side: "SELL", quantity: 10, order_type: "MARKET" });
    expect(all.status, await all.clone().text()).toBe(201);
  });

  it("refuses to sell a symbol the trader does not hold with INSUFFICIENT_POSITION", async () => {
    const trader = await newTrader(1000, [{ symbol: "AAPL", quantity: 10, avg_price: 140 }]);
    const before = await snapshot(trader);
    await expectError(await submit(trader, { symbol: "MSFT", side: "SELL", quantity: 1, order_type: "MARKET" }), 400, "INSUFFICIENT_POSITION");
    await expectNothingWritten(trader, before);
  });

  it("refuses a limit price more than 10% from the reference price with PRICE_OUT_OF_BAND", async () => {
    const trader = await newTrader(100_000, [{ symbol: "AAPL", quantity: 10, avg_price: 140 }]);
    const before = await snapshot(trader);
    const above = await expectError(await submit(trader, { symbol: "AAPL", quantity: 10, order_type: "LIMIT", price: 165.01 }), 400, "PRICE_OUT_OF_BAND");
    expect(above.details).toMatchObject({ field: "price", reference_price: 150, min_price: 135, max_price: 165 });
    const below = await submit(trader, { symbol: "AAPL", side: "SELL", quantity: 10, order_type: "LIMIT", price: 134.99 });
    await expectError(below, 400, "PRICE_OUT_OF_BAND");
    await expectNothingWritten(trader, before);
  });

  it("refuses a stop price more than 10% from the reference price with PRICE_OUT_OF_BAND", async () => {
    const trader = await newTrader(100_000);
    const before = await snapshot(trader);
    const error = await expectError(await submit(trader, { symbol: "AAPL", quantity: 10, order_type: "STOP", stop_price: 170 }), 400, "PRICE_OUT_OF_BAND");
    expect(error.details).toMatchObject({ field: "stop_price" });
    await expectNothingWritten(trader, before);
  });

  it("accepts a limit price exactly at the edge of the band", async () => {
    const trader = await newTrader(100_000);
    const res = await submit(trader, { symbol: "AAPL", quantity: 10, order_type: "LIMIT", price: 135, time_in_force: "GTC" });
    expect(res.status, await res.clone().text()).toBe(201);
  });

  it("refuses more than 1,000,000 shares with ORDER_TOO_LARGE, and accepts exactly 1,000,000", async () => {
    const symbol = await newInstrument(1);
    const trader = await newTrader(1_000_000);
    const before = await snapshot(trader);
    const error = await expectError(
      await submit(trader, { symbol, quantity: 1_000_001, order_type: "LIMIT", price: 0.95, time_in_force: "GTC" }),
      400,
      "ORDER_TOO_LARGE",
    );
    expect(error.details).toMatchObject({ quantity: 1_000_001, max_quantity: 1_000_000 });
    await expectNothingWritten(trader, before);

    const atMax = await submit(trader, { symbol, quantity: 1_000_000, order_type: "LIMIT", price: 0.95, time_in_force: "GTC" });
    expect(atMax.status, await atMax.clone().text()).toBe(201);
  });

  it("refuses an order worth more than the per-order maximum with ORDER_TOO_LARGE", async () => {
    const trader = await newTrader(100_000_000);
    const before = await snapshot(trader);
    // 400,000 x $150 = $60M, over the $50M MAX_ORDER_NOTIONAL.
    await expectError(await submit(trader, { symbol: "AAPL", quantity: 400_000, order_type: "MARKET" }), 400, "ORDER_TOO_LARGE");
    await expectNothingWritten(trader, before);
  });

  it("answers ACCOUNT_NOT_FOUND (404) for a signed-in trader without an account, and writes nothing", async () => {
    const id = `noacct-${crypto.randomUUID().slice(0, 8)}`;
    const token = await sign(id);
    await expectError(await submit({ id, token }, market), 404, "ACCOUNT_NOT_FOUND");
    expect(await d1Count("orders", id)).toBe(0);
    expect(await d1Count("execution_logs", id)).toBe(0);
    expect(await env.DB.prepare("SELECT COUNT(*) AS n FROM accounts WHERE trader_id = ?").bind(id).first<{ n: number }>()).toEqual({ n: 0 });
  });
});

describe("error shape, unknown routes and no 500s", () => {
  it("answers an unknown route with 404 NOT_FOUND as JSON", async () => {
    const trader = await newTrader(1000);
    for (const [method, path] of [
      ["GET", "/api/v1/nope"],
      ["GET", "/api/v2/orders"],
      ["POST", "/api/v1/orders/abc/refund"],
      ["GET", "/api/v1/orders/abc/fills"],
    ] as const) {
      const res = await call(path, { method, token: trader.token });
      await expectError(res, 404, "NOT_FOUND");
    }
  });

  it("answers every error with the SPEC's shape {error, message, details}", async () => {
    const trader = await newTrader(5000);
    const responses: [string, Response][] = [
      ["VALIDATION_ERROR", await submit(trader, { ...market, quantity: 0 })],
      ["MALFORMED_JSON", await call("/api/v1/orders", { method: "POST", token: trader.token, body: "{" })],
      ["UNSUPPORTED_MEDIA_TYPE", await call("/api/v1/orders", { token: trader.token, body: "{}", headers: { "Content-Type": "text/plain" } })],
      ["PAYLOAD_TOO_LARGE", await call("/api/v1/orders", { token: trader.token, body: { pad: "x".repeat(17 * 1024) } })],
      ["UNKNOWN_SYMBOL", await submit(trader, { ...market, symbol: "NOSUCH9" })],
      ["INSUFFICIENT_FUNDS", await submit(trader, { ...market, quantity: 100 })],
      ["ORDER_NOT_FOUND", await call("/api/v1/orders/ord_missing", { token: trader.token })],
      ["NOT_FOUND", await call("/api/v1/nope", { token: trader.token })],
      ["UNAUTHORIZED", await call("/api/v1/orders")],
    ];
    const problems: string[] = [];
    for (const [code, res] of responses) {
      const body = (await res.json()) as Record<string, unknown>;
      const ok = body.error === code && typeof body.message === "string" && typeof body.details === "object" && body.details !== null && !Array.isArray(body.details);
      if (!ok) problems.push(`${code} (${res.status}): ${JSON.stringify(body)}`);
    }
    expect(problems).toEqual([]);
  });

  it("never answers 500 to odd requests: each is a clear 4xx JSON error", async () => {
    const trader = await newTrader(5000);
    const admin = await sign("root", "admin");
    const requests: [string, string, { body?: string; token?: string | null; headers?: Record<string, string> }][] = [
      ["POST", "/api/v1/orders", { body: "" }],
      ["POST", "/api/v1/orders", { body: "{}" }],
      ["POST", "/api/v1/orders", { body: "true" }],
      ["POST", "/api/v1/orders", { body: '{"symbol":null,"quantity":null,"order_type":null}' }],
      ["POST", "/api/v1/orders", { body: '{"symbol":"AAPL","quantity":1e400,"order_type":"MARKET"}' }],
      ["POST", "/api/v1/orders", { body: '{"symbol":"AAPL","quantity":1e20,"order_type":"MARKET"}' }],
      ["POST", "/api/v1/orders", { body: '{"symbol":"AAPL","quantity":10,"order_type":"LIMIT","price":1e308}' }],
      ["POST", "/api/v1/orders", { body: '{"symbol":"AAPL","quantity":10,"order_type":"LIMIT","price":-150}' }],
      ["POST", "/api/v1/orders", { body: '{"__proto__":{"admin":true},"symbol":"AAPL","quantity":10,"order_type":"MARKET"}' }],
      ["POST", "/api/v1/orders", { body: '{"symbol":"ÄPPL","quantity":10,"order_type":"MARKET"}' }],
      ["POST", "/api/v1/orders", { body: `${"[".repeat(4000)}${"]".repeat(4000)}` }],
      ["POST", "/api/v1/orders", { body: JSON.stringify(market), headers: { "Content-Type": "application/jsonx" } }],
      ["POST", "/api/v1/orders", { body: JSON.stringify(market), headers: { "Idempotency-Key": "k".repeat(300) } }],
      ["GET", `/api/v1/orders/${"x".repeat(200)}`, {}],
      ["GET", "/api/v1/orders/%00", {}],
      ["GET", "/api/v1/orders/'%20OR%201=1%20--", {}],
      ["POST", "/api/v1/orders/ord_missing/cancel", {}],
      ["GET", "/api/v1/orders/ord_missing/audit", {}],
      ["GET", "/api/v1/orders?limit=-1&cursor=%FF%FE", {}],
      ["GET", "/api/v1/orders?cursor=" + "A".repeat(500), {}],
      ["DELETE", "/api/v1/orders?side=SHORT&symbol=%00", {}],
      ["PATCH", "/api/v1/orders/ord_missing", { body: "{\"price\":1}" }],
      ["PATCH", "/api/v1/orders/ord_missing", { body: "{}" }],
      ["GET", "/api/v1/account", { headers: { Authorization: `Bearer ${"a".repeat(10_000)}` }, token: null }],
      ["GET", "/api/v1/account", { headers: { Authorization: "Bearer a.b.c" }, token: null }],
      ["PUT", "/api/v1/admin/accounts/bad%20id!", { body: '{"cash":1}', token: admin }],
      ["PUT", `/api/v1/admin/accounts/x-${crypto.randomUUID().slice(0, 8)}`, { body: '{"cash":-1}', token: admin }],
      ["PUT", `/api/v1/admin/accounts/x-${crypto.randomUUID().slice(0, 8)}`, { body: '{"cash":0.001}', token: admin }],
      ["PUT", "/api/v1/admin/instruments/lower", { body: '{"price":1}', token: admin }],
      ["PUT", `/api/v1/admin/instruments/NEW${crypto.randomUUID().slice(0, 6).toUpperCase()}`, { body: '{"tradable":true}', token: admin }],
      ["PUT", "/api/v1/admin/instruments/NOSUCH9/faults", { body: '{"error_rate":2}', token: admin }],
      ["PUT", "/api/v1/admin/instruments/NOSUCH8/faults", { body: "{}", token: admin }],
      ["GET", "/ws/orders/events", {}],
      ["GET", "/ws/nope", {}],
    ];
    const problems: string[] = [];
    for (const [method, path, opts] of requests) {
      const res = await call(path, { method, token: opts.token === undefined ? trader.token : opts.token, body: opts.body, headers: opts.headers });
      const text = await res.text();
      let body: Record<string, unknown> | null = null;
      try {
        body = JSON.parse(text) as Record<string, unknown>;
      } catch {
        body = null;
      }
      if (res.status < 400 || res.status >= 500 || !body || typeof body.error !== "string" || typeof body.message !== "string") {
        problems.push(`${method} ${path} ${opts.body?.slice(0, 60) ?? ""} -> ${res.status} ${text.slice(0, 200)}`);
      }
    }
    expect(problems).toEqual([]);
    // None of those reached the trader's book.
    expect(await json(await call("/api/v1/orders", { token: trader.token }))).toEqual({ data: [], next_cursor: null });
  });
});
