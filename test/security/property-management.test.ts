// Property-based bad input for the order- and account-management routes (fast-check, fixed seeds, bounded
// runs): amending an order (PATCH /orders/:id), cancel-all (DELETE /orders?symbol&side), lookup by
// client_order_id, closing a position (DELETE /positions/:symbol?quantity|percentage), the activity ledger's
// query string, and an admin setting a trader's trading state. Invariants: never a 5xx; every 4xx has the
// SPEC's shape {error, message, details}; a VALIDATION_ERROR names the bad field in details.fields (and
// names only fields that were sent); a refusal writes nothing (the order's terms, the account, the
// position, the trading state and the audit trail stay as they were). Each property ends with a control
// showing that a valid request of the same kind does act, so the "nothing changed" checks can fail.
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { adminToken, auditOf, call, eventually, getOrder, json, newInstrument, newTrader, submit, untilStatus, type Trader } from "../helpers/api";
import { sign } from "../helpers/auth";
import { errorOf, type ErrorBody } from "../helpers/errors";
import type { Order } from "../../worker/shared/orders";

const TIMEOUT = 60_000;

// ---------------------------------------------------------------- the SPEC, written out independently

const SYMBOL = /^[A-Z0-9._]{1,12}$/;
const CLIENT_ORDER_ID = /^[\x21-\x7e]{1,64}$/;
const TRADER_ID = /^[\w.@-]{1,128}$/;
const AMEND_FIELDS = ["quantity", "price", "stop_price", "time_in_force"] as const;
const AMENDABLE_TIF = ["DAY", "GTC"];
const SIDES = ["BUY", "SELL"];
const ACTIVITY_TYPES = ["FILL", "CASH"];
const TRADING_STATES = ["ACTIVE", "REDUCE_ONLY", "HALTED"];
const TRADING_FIELDS = ["state", "reason", "cancel_orders"];
const MAX_REASON = 500;

const INJECTION = [
  "' OR '1'='1", "'; DROP TABLE orders; --", "\" OR \"\"=\"", "1; DELETE FROM accounts", "%' OR 1=1 --",
  "' UNION SELECT trader_id, cash_cents FROM accounts --", "=1+2", "=HYPERLINK(\"http://evil.example\",\"x\")", "@SUM(A1:A2)", "*", "%", "_",
];

// ---------------------------------------------------------------- helpers

function fieldsOf(body: ErrorBody): Record<string, unknown> {
  const fields = body.details.fields;
  return typeof fields === "object" && fields !== null ? (fields as Record<string, unknown>) : {};
}

const isNamed = (fields: Record<string, unknown>, field: string) => Object.keys(fields).some((k) => k === field || k.startsWith(`${field}.`));

/**
 * A 400 VALIDATION_ERROR whose details.fields names every field in `named`, at least one of `anyOf` (when
 * given), and nothing outside `allowed` (when given).
 */
async function expectValidation(res: Response, context: string, named: readonly string[], opts: { anyOf?: readonly string[]; allowed?: readonly string[] } = {}): Promise<ErrorBody> {
  const body = await errorOf(res, context);
  const where = `${context} -> ${res.status} ${JSON.stringify(body).slice(0, 400)}`;
  expect([res.status, body.error], where).toEqual([400, "VALIDATION_ERROR"]);
  const fields = fieldsOf(body);
  for (const f of named) expect(isNamed(fields, f), `details.fields must name ${JSON.stringify(f)}: ${where}`).toBe(true);
  if (opts.anyOf) expect(opts.anyOf.some((f) => isNamed(fields, f)), `details.fields must name one of ${opts.anyOf.join(", ")}: ${where}`).toBe(true);
  if (opts.allowed) {
    expect(Object.keys(fields).length, `details.fields names nothing: ${where}`).toBeGreaterThan(0);
    for (const k of Object.keys(fields)) expect(opts.allowed.some((a) => k === a || k.startsWith(`${a}.`)), `names ${JSON.stringify(k)}, which was not sent or not bad: ${where}`).toBe(true);
  }
  return body;
}

/** 400 MALFORMED_JSON whose details.duplicate_keys names `key`. */
async function expectDuplicate(res: Response, key: string, context: string): Promise<void> {
  const body = await errorOf(res, context);
  const where = `${context} -> ${res.status} ${JSON.stringify(body).slice(0, 300)}`;
  expect([res.status, body.error], where).toEqual([400, "MALFORMED_JSON"]);
  expect(body.details.duplicate_keys, where).toContain(key);
}

/** A query string from [name, value] pairs (a name may repeat); raw text is appended as is. */
function query(path: string, pairs: [string, string][], raw?: string): string {
  const qs = new URLSearchParams();
  for (const [k, v] of pairs) qs.append(k, v);
  const text = [qs.toString(), raw ?? ""].filter(Boolean).join("&");
  return text ? `${path}?${text}` : path;
}

/** Raw JSON text of an object, so keys such as __proto__ arrive as own keys exactly as a client sends them. */
function objectText(entries: [string, unknown][]): string {
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(",")}}`;
}

/** `"price"` written with its first letter as a \u escape, so only a parser that unescapes sees the repeat. */
const escapedKey = (key: string) => `"\\u${key.charCodeAt(0).toString(16).padStart(4, "0")}${key.slice(1)}"`;

const show = (v: unknown) => {
  const text = JSON.stringify(v) ?? String(v);
  return text.length > 160 ? `${text.slice(0, 160)}...(${text.length})` : text;
};

/** encodeURIComponent, or null for text no URL can carry (a lone surrogate). */
function encodeSegment(text: string): string | null {
  try {
    return encodeURIComponent(text);
  } catch {
    return null;
  }
}

/** Text a router may read as path structure: it only needs a clean 4xx. */
const pathLike = (s: string) => s.includes("/") || s === "." || s === "..";

function atobOrNull(text: string): string | null {
  try {
    return atob(text);
  } catch {
    return null;
  }
}

async function resting(trader: Trader, order: Record<string, unknown>): Promise<Order> {
  const res = await submit(trader, { time_in_force: "GTC", order_type: "LIMIT", ...order });
  expect(res.status, await res.clone().text()).toBe(201);
  const placed = await json<Order>(res);
  // Acknowledged by the venue: only then can it be amended, so a refusal is the validator's, not a 409.
  await eventually(() => auditOf(trader, placed.id), (t) => t.some((a) => a.action === "EXECUTED"));
  return placed;
}

const accountOf = async (t: Trader) => json<Record<string, unknown>>(await call("/api/v1/account", { token: t.token }));

const logCount = async (traderId: string, action: string) =>
  (await env.DB.prepare("SELECT COUNT(*) AS n FROM execution_logs WHERE trader_id = ? AND action = ?").bind(traderId, action).first<{ n: number }>())?.n ?? 0;

// ---------------------------------------------------------------- arbitraries

/** Absent half of the time. */
const maybe = <T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> => fc.option(arb, { nil: undefined, freq: 2 });
/** Mostly `good`, sometimes `bad`. */
const mostly = <T>(good: fc.Arbitrary<T>, bad: fc.Arbitrary<T>): fc.Arbitrary<T> => fc.oneof({ arbitrary: good, weight: 3 }, { arbitrary: bad, weight: 1 });

const hostileText: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: "grapheme", maxLength: 30 }),
  fc.string({ unit: "grapheme-ascii", maxLength: 30 }),
  fc.string({ unit: "binary", maxLength: 20 }),
  fc.string({ unit: fc.integer({ min: 0, max: 0x1f }).map((c) => String.fromCharCode(c)), minLength: 1, maxLength: 8 }),
  fc.string({ unit: fc.constantFrom("\u202e", "\u200b", "\ufeff", "\u0000", "\u2028", "𝔸", "Å", "A\u030a", " "), minLength: 1, maxLength: 10 }),
  fc.constantFrom(...INJECTION),
  fc.string({ unit: "grapheme-ascii", minLength: 65, maxLength: 400 }),
);

function nearMisses(values: readonly string[]): fc.Arbitrary<string> {
  const variants = values.flatMap((v) => [
    v.toLowerCase(), v[0] + v.slice(1).toLowerCase(), ` ${v}`, `${v} `, `${v}\u0000`, `${v}\u200b`, `${v}\n`, `${v},${v}`,
    v.replace(/[A-Z]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0)), // fullwidth
  ]);
  return fc.constantFrom(...variants).filter((s) => !values.includes(s));
}

const anyArray = fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 3 });
const anyObject = fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 });
const notNumber: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom("NaN", "Infinity", "-Infinity", "1e309", "1", "96", "0x10", "1,5", "", " 5", "٣", "１００"),
  fc.string({ maxLength: 10 }),
  fc.boolean(),
  fc.constant(null),
  anyArray,
  anyObject,
);
const notString: fc.Arbitrary<unknown> = fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean(), fc.constant(null), anyArray, anyObject);
const notBoolean: fc.Arbitrary<unknown> = fc.oneof(fc.constantFrom("true", "false", 1, 0, "", "yes", "on"), fc.constant(null), fc.array(fc.boolean(), { maxLength: 2 }), anyObject, fc.double({ noNaN: true, noDefaultInfinity: true }));
/** Positive amounts with a fraction of a cent (95.005, 0.001...). */
const subCent = fc.tuple(fc.integer({ min: 0, max: 9_999_999 }), fc.integer({ min: 1, max: 9 })).map(([c, m]) => (c * 10 + m) / 1000);
const nonPositive = fc.double({ max: 0, noNaN: true, noDefaultInfinity: true });
const extraKey = fc.oneof(
  fc.constantFrom("id", "trader_id", "status", "filled_quantity", "symbol", "side", "order_type", "reserved", "admin", "role", "Price", "price ", "QUANTITY", "quantity\u0000", "", " ", "__proto__", "constructor", "toString", "body", "stopPrice", "tif"),
  fc.string({ unit: "grapheme-ascii", maxLength: 12 }),
);

/** What a query-string number should be judged as: the value Number() reads (as the existing suites do). */
const num = (text: string) => Number(text);

/** An instant exactly as Date.prototype.toISOString writes it (milliseconds, Z). */
const MS_ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

// ================================================================ PATCH /api/v1/orders/:id

describe("PATCH /api/v1/orders/:id under generated bad input", () => {
  let instrument: string;
  let trader: Trader;
  let other: Trader;
  let order: Order;
  let otherOrder: Order;
  let terms: unknown;
  let otherTerms: unknown;
  let account: unknown;
  let trailLength: number;

  /** What an amend could change on the order. */
  const termsOf = (o: Order) => ({
    status: o.status, quantity: o.quantity, price: o.price, stop_price: o.stop_price, time_in_force: o.time_in_force,
    filled_quantity: o.filled_quantity, amended_at: o.amended_at, updated_at: o.updated_at,
  });

  /** The resting order, its account and its audit trail exactly as set up: no amend happened. */
  async function expectUnamended(context: string): Promise<void> {
    expect(termsOf(await getOrder(trader, order.id)), `order terms after ${context}`).toEqual(terms);
    expect(await accountOf(trader), `account after ${context}`).toEqual(account);
    const trail = await auditOf(trader, order.id);
    expect(trail.map((a) => a.action), `audit after ${context}`).not.toContain("REPLACED");
    expect(trail.length, `audit after ${context}`).toBe(trailLength);
  }

  const patch = (id: string, body: string, who: Trader = trader) => call(`/api/v1/orders/${id}`, { method: "PATCH", token: who.token, body });

  /** Valid changes that would amend the order (all different from its terms): a refusal must drop them too. */
  const companions = fc.subarray([["quantity", 7], ["price", 96], ["time_in_force", "DAY"]] as [string, unknown][]);

  beforeAll(async () => {
    instrument = await newInstrument(100);
    trader = await newTrader(10_000, [], "amend");
    order = await resting(trader, { symbol: instrument, quantity: 10, price: 95 });
    other = await newTrader(10_000, [], "amend-other");
    otherOrder = await resting(other, { symbol: instrument, quantity: 4, price: 90 });
    terms = termsOf(await getOrder(trader, order.id));
    otherTerms = termsOf(await getOrder(other, otherOrder.id));
    account = await accountOf(trader);
    trailLength = (await auditOf(trader, order.id)).length;
    expect(account).toMatchObject({ reserved: 950 });
  });

  it("refuses a wrong type or out-of-range value in any field (alone or beside valid changes) with VALIDATION_ERROR naming it, and amends nothing", async () => {
    const badQuantity = fc.oneof(
      notNumber,
      fc.integer({ min: -1_000_000_000, max: 0 }),
      fc.double({ noNaN: true, noDefaultInfinity: true }).filter((n) => !Number.isInteger(n)),
      fc.double({ min: 2 ** 53, noNaN: true, noDefaultInfinity: true }),
      fc.constantFrom(0, -1, 0.5, 1.5, 7.000001, 2 ** 53, 1e16, 1e21, 1e300, Number.MAX_VALUE, -Number.MAX_VALUE, -Number.MIN_VALUE, Number.MIN_VALUE),
    );
    const badPrice = fc.oneof(
      notNumber,
      nonPositive,
      subCent,
      fc.double({ min: 1_000_000.01, noNaN: true, noDefaultInfinity: true }),
      fc.constantFrom(Number.MIN_VALUE, 1e-9, 0.001, 0.004, 0.009, 95.001, 96.005, 95.999, 1_000_000.01, 1e300, Number.MAX_VALUE, -96),
    );
    const badTif = fc.oneof(notString, nearMisses(AMENDABLE_TIF), fc.constantFrom("IOC", "FOK", "day", "gtc", "", "GTD", "OPG"), hostileText.filter((s) => !AMENDABLE_TIF.includes(s)));
    const arb = fc.tuple(
      fc.oneof(
        badQuantity.map((v) => ["quantity", v] as const),
        badPrice.map((v) => ["price", v] as const),
        badPrice.map((v) => ["stop_price", v] as const),
        badTif.map((v) => ["time_in_force", v] as const),
      ),
      companions,
      fc.boolean(),
    );
    await fc.assert(
      fc.asyncProperty(arb, async ([[field, value], valid, badFirst]) => {
        const others = valid.filter(([k]) => k !== field);
        const text = objectText(badFirst ? [[field, value], ...others] : [...others, [field, value]]);
        const context = `PATCH ${text.slice(0, 200)}`;
        await expectValidation(await patch(order.id, text), context, [field], { allowed: [field] });
        await expectUnamended(context);
      }),
      { numRuns: 150, seed: 0x7a0f0001 },
    );
  }, TIMEOUT);

  it("refuses an empty object, a non-object, unknown keys (beside valid changes too) with VALIDATION_ERROR, and repeated keys with MALFORMED_JSON, and amends nothing", async () => {
    type Case = { text: string; kind: "fields"; named: string[] } | { text: string; kind: "duplicate"; key: string } | { text: string; kind: "any400" };
    const goodValue: Record<string, unknown> = { quantity: 7, price: 96, stop_price: 96, time_in_force: "DAY" };
    const inherited = new Set(Object.getOwnPropertyNames(Object.prototype).filter((k) => k !== "__proto__" && k !== "constructor" && k !== "toString"));
    const arb: fc.Arbitrary<Case> = fc.oneof(
      // At least one field: {} names the body.
      fc.constantFrom<Case>({ text: "{}", kind: "fields", named: ["body"] }, { text: "{ }", kind: "fields", named: ["body"] }, { text: "\n{}\n", kind: "fields", named: ["body"] }),
      // JSON that is not an object, including an array holding a valid amend.
      fc.oneof(fc.constant(null), fc.boolean(), fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.string({ maxLength: 10 }), anyArray, fc.constant([{ price: 96 }]))
        .map((v): Case => ({ text: JSON.stringify(v), kind: "fields", named: ["body"] })),
      // Unknown keys, alone or beside valid changes: the strict object names each.
      fc.tuple(fc.uniqueArray(extraKey.filter((k) => !(AMEND_FIELDS as readonly string[]).includes(k) && !inherited.has(k)), { minLength: 1, maxLength: 3 }), companions, fc.jsonValue({ maxDepth: 1 }))
        .map(([keys, valid, v]): Case => ({ text: objectText([...valid, ...keys.map((k) => [k, v] as [string, unknown])]), kind: "fields", named: keys })),
      // A key named twice (the same or another value, plain or escaped), beside valid changes.
      fc.tuple(fc.constantFrom(...AMEND_FIELDS), fc.oneof(fc.constant("same"), fc.jsonValue({ maxDepth: 1 })), fc.boolean(), companions).map(([key, second, escaped, valid]): Case => {
        const others = valid.filter(([k]) => k !== key);
        const again = second === "same" ? goodValue[key] : second;
        const head = objectText([[key, goodValue[key]], ...others]).slice(0, -1);
        return { text: `${head},${escaped ? escapedKey(key) : JSON.stringify(key)}:${JSON.stringify(again)}}`, kind: "duplicate", key };
      }),
      // No usable body at all.
      fc.constantFrom<Case>({ text: "", kind: "any400" }, { text: " ", kind: "any400" }, { text: "null ", kind: "any400" }),
    );
    await fc.assert(
      fc.asyncProperty(arb, async (c) => {
        const context = `PATCH ${show(c.text)}`;
        const res = await patch(order.id, c.text);
        if (c.kind === "fields") await expectValidation(res, context, c.named);
        else if (c.kind === "duplicate") await expectDuplicate(res, c.key, context);
        else {
          const body = await errorOf(res, context);
          expect(res.status, context).toBe(400);
          expect(["VALIDATION_ERROR", "MALFORMED_JSON"], `${context} -> ${JSON.stringify(body)}`).toContain(body.error);
        }
        await expectUnamended(context);
      }),
      { numRuns: 150, seed: 0x7a0f0002 },
    );
  }, TIMEOUT);

  it("answers any other id (another trader's order, near misses of the order's own, injections) with 404 ORDER_NOT_FOUND, over 64 characters with 400, and amends nothing", async () => {
    const own = order.id;
    const mutated = fc.constantFrom("upper", "lower", "inject", "nul", "prefix", "space", "truncate").map((how) => {
      switch (how) {
        case "upper": return own.toUpperCase();
        case "lower": return own.toLowerCase();
        case "inject": return `${own}' OR '1'='1`;
        case "nul": return `${own}\u0000`;
        case "prefix": return `x${own}`;
        case "space": return ` ${own}`;
        default: return own.slice(0, -1);
      }
    });
    const id = fc.oneof(
      fc.constant(otherOrder.id),
      mutated,
      fc.stringMatching(/^ord_[0-9A-Z]{12,26}$/),
      hostileText,
      fc.string({ unit: "grapheme-ascii", minLength: 65, maxLength: 200 }),
      fc.constantFrom("%", "%25", "?", "#", "by-client-id", "0", "-1", "null", "undefined"),
    ).filter((s) => s.length > 0 && s !== own);
    await fc.assert(
      fc.asyncProperty(id, async (raw) => {
        const encoded = encodeSegment(raw);
        if (encoded === null) return;
        const context = `PATCH /orders/${show(raw)}`;
        const res = await patch(encoded, JSON.stringify({ price: 96 }));
        const body = await errorOf(res, context);
        if (!pathLike(raw)) {
          if (raw.length > 64) expect([res.status, body.error, isNamed(fieldsOf(body), "id")], context).toEqual([400, "VALIDATION_ERROR", true]);
          else expect([res.status, body.error], `${context} -> ${JSON.stringify(body)}`).toEqual([404, "ORDER_NOT_FOUND"]);
        }
        await expectUnamended(context);
      }),
      { numRuns: 100, seed: 0x7a0f0003 },
    );
    expect(termsOf(await getOrder(other, otherOrder.id)), "the other trader's order").toEqual(otherTerms);
  }, TIMEOUT);

  it("control: a valid amend of the same order is taken (200, new terms, reservation, REPLACED in the desk and D1)", async () => {
    const res = await patch(order.id, JSON.stringify({ price: 96 }));
    expect(res.status, await res.clone().text()).toBe(200);
    expect(await json<Order>(res)).toMatchObject({ id: order.id, price: 96, quantity: 10 });
    expect(await accountOf(trader)).toMatchObject({ reserved: 960 });
    expect((await auditOf(trader, order.id)).filter((a) => a.action === "REPLACED")).toHaveLength(1);
    // D1 has the control's REPLACED row and no other (a refused amend would have reached it first).
    await eventually(() => logCount(trader.id, "REPLACED"), (n) => n >= 1);
    expect(await logCount(trader.id, "REPLACED")).toBe(1);
    expect(await logCount(other.id, "REPLACED")).toBe(0);
  });
});

// ================================================================ DELETE /api/v1/orders?symbol&side

describe("DELETE /api/v1/orders (cancel all) with a bad query string", () => {
  let instrument: string;
  let trader: Trader;
  let working: Order[];

  async function expectNoneCancelled(context: string): Promise<void> {
    const list = await json<{ data: Order[] }>(await call("/api/v1/orders?limit=500", { token: trader.token }));
    expect(list.data.map((o) => [o.id, o.status]).sort(), `orders after ${context}`).toEqual(working.map((o) => [o.id, "PENDING"]).sort());
  }

  beforeAll(async () => {
    instrument = await newInstrument(100);
    trader = await newTrader(10_000, [{ symbol: instrument, quantity: 5, avg_price: 100 }], "cxl");
    working = [
      await resting(trader, { symbol: instrument, quantity: 2, price: 95 }),
      await resting(trader, { symbol: instrument, side: "SELL", quantity: 1, price: 105 }),
      await resting(trader, { symbol: "AAPL", quantity: 1, price: 145 }), // AAPL is 150.00 in the seed
    ];
  });

  it("answers any bad symbol or side (typed, repeated, encoded, raw) with VALIDATION_ERROR naming each, and cancels nothing", async () => {
    const goodSymbol = fc.constantFrom(instrument, "AAPL", "MSFT");
    const badSymbol = fc.oneof(
      hostileText,
      fc.constantFrom(instrument.toLowerCase(), ` ${instrument}`, `${instrument} `, `${instrument}\u0000`, `${instrument}'--`, "", "A".repeat(13), "ＡＡＰＬ", "aapl", "*", "%", "AAPL,MSFT"),
    ).filter((s) => !SYMBOL.test(s));
    const goodSide = fc.constantFrom(...SIDES);
    const badSide = fc.oneof(nearMisses(SIDES), hostileText, fc.constantFrom("", "buy", "B", "BOTH", "ALL", "*", "1", "true")).filter((s) => !SIDES.includes(s));
    /** One parameter: absent, good, bad, or sent twice (which is never one value). */
    const param = (good: fc.Arbitrary<string>, bad: fc.Arbitrary<string>) =>
      fc.oneof(
        fc.constant({ values: [] as string[], bad: false }),
        good.map((v) => ({ values: [v], bad: false })),
        { arbitrary: bad.map((v) => ({ values: [v], bad: true })), weight: 3 },
        fc.tuple(fc.oneof(good, bad), fc.oneof(good, bad)).map((vs) => ({ values: vs, bad: true })),
      );
    const typed = fc
      .record({ symbol: param(goodSymbol, badSymbol), side: param(goodSide, badSide), extra: maybe(fc.constantFrom("trader_id", "status", "id", "all")) })
      .filter((q) => q.symbol.bad || q.side.bad);
    // Written by hand: percent-encoding a URL parser may or may not decode, and parameters without '='.
    const RAW: [string, string[]][] = [
      ["side", ["side"]], ["side=", ["side"]], ["symbol", ["symbol"]], ["symbol=&side=BUY", ["symbol"]], ["side=BUY%00", ["side"]],
      ["symbol=AAPL%", ["symbol"]], ["symbol=%zz", ["symbol"]], ["side=%E2%82", ["side"]], ["side=BUY&side=BUY", ["side"]],
      ["symbol=AAPL&symbol=AAPL", ["symbol"]], ["side=SELL%20", ["side"]], ["symbol=%41APL%", ["symbol"]], ["side=%C0%80", ["side"]],
      ["symbol=AAPL%2C%20MSFT&side=buy", ["symbol", "side"]], ["side=B%00UY", ["side"]],
    ];
    const arb = fc.oneof({ arbitrary: typed.map((q) => ({ typed: q })), weight: 4 }, { arbitrary: fc.constantFrom(...RAW).map((r) => ({ raw: r })), weight: 1 });
    await fc.assert(
      fc.asyncProperty(arb, async (c) => {
        let path: string;
        let bad: string[];
        let sent: string[];
        if ("typed" in c) {
          const q = c.typed;
          const pairs: [string, string][] = [...q.symbol.values.map((v) => ["symbol", v] as [string, string]), ...q.side.values.map((v) => ["side", v] as [string, string])];
          if (q.extra) pairs.push([q.extra, "x"]);
          path = query("/api/v1/orders", pairs);
          bad = [...(q.symbol.bad ? ["symbol"] : []), ...(q.side.bad ? ["side"] : [])];
          sent = ["symbol", "side"];
        } else {
          path = `/api/v1/orders?${c.raw[0]}`;
          bad = c.raw[1];
          sent = ["symbol", "side"];
        }
        await expectValidation(await call(path, { method: "DELETE", token: trader.token }), `DELETE ${path}`, bad, { allowed: sent });
        await expectNoneCancelled(path);
      }),
      { numRuns: 150, seed: 0x7a0f0004 },
    );
  }, TIMEOUT);

  it("control: a valid filter that matches nothing cancels nothing; one that matches cancels exactly those orders", async () => {
    for (const path of ["/api/v1/orders?symbol=MSFT", `/api/v1/orders?symbol=AAPL&side=SELL`]) {
      const res = await call(path, { method: "DELETE", token: trader.token });
      expect(res.status, await res.clone().text()).toBe(200);
      expect(await json(res)).toEqual({ data: [] });
    }
    await expectNoneCancelled("non-matching filters");
    const res = await call(`/api/v1/orders?symbol=${instrument}&side=BUY`, { method: "DELETE", token: trader.token });
    expect(res.status, await res.clone().text()).toBe(200);
    const { data } = await json<{ data: { id: string; status: number }[] }>(res);
    expect(data.map((d) => [d.id, d.status])).toEqual([[working[0]!.id, 200]]);
    expect((await getOrder(trader, working[0]!.id)).status).toBe("CANCELLED");
    expect((await getOrder(trader, working[1]!.id)).status).toBe("PENDING");
    expect((await getOrder(trader, working[2]!.id)).status).toBe("PENDING");
  });
});

// ================================================================ GET /api/v1/orders/by-client-id/:client_order_id

describe("GET /api/v1/orders/by-client-id/:client_order_id with odd ids", () => {
  let trader: Trader;
  let other: Trader;
  let mine: Order;
  let theirs: Order;

  beforeAll(async () => {
    const instrument = await newInstrument(100);
    trader = await newTrader(10_000, [], "coid");
    other = await newTrader(10_000, [], "coid-other");
    mine = await resting(trader, { symbol: instrument, quantity: 1, price: 90, client_order_id: `mine-${crypto.randomUUID().slice(0, 8)}` });
    theirs = await resting(other, { symbol: instrument, quantity: 1, price: 90, client_order_id: `Theirs-${crypto.randomUUID().slice(0, 8)}` });
  });

  it("answers the order's own id with it, any other printable id (another trader's too) with 404, and anything else with 400 naming client_order_id", async () => {
    const own = mine.client_order_id!;
    const mutated = fc.constantFrom(own.toUpperCase(), ` ${own}`, `${own} `, `${own}\u0000`, `${own}\t`, own.slice(0, -1), `${own}x`, `${own}'--`, own.replace("-", "\u2010"), `${own}\u200b`);
    const id = fc.oneof(
      fc.constant(own),
      fc.constant(theirs.client_order_id!),
      mutated,
      hostileText,
      fc.string({ unit: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)), minLength: 65, maxLength: 200 }),
      fc.string({ unit: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)), minLength: 1, maxLength: 64 }),
      fc.constantFrom("\u0000", "%00", "a b", " ", "é", "ü-1", "😀", "ID\u0085", "%", "?", "#", "&", "..."),
    ).filter((s) => s.length > 0);
    let found = 0;
    await fc.assert(
      fc.asyncProperty(id, async (raw) => {
        const encoded = encodeSegment(raw);
        if (encoded === null) return;
        const path = `/api/v1/orders/by-client-id/${encoded}`;
        const context = `GET by-client-id ${show(raw)}`;
        const res = await call(path, { token: trader.token });
        if (raw === own) {
          const text = await res.text();
          expect(res.status, `${context} -> ${text}`).toBe(200);
          expect(JSON.parse(text), context).toMatchObject({ id: mine.id, client_order_id: own });
          found++;
          return;
        }
        const body = await errorOf(res, context);
        if (pathLike(raw)) return;
        if (CLIENT_ORDER_ID.test(raw)) expect([res.status, body.error], `${context} -> ${JSON.stringify(body)}`).toEqual([404, "ORDER_NOT_FOUND"]);
        else expect([res.status, body.error, isNamed(fieldsOf(body), "client_order_id")], `${context} -> ${JSON.stringify(body)}`).toEqual([400, "VALIDATION_ERROR", true]);
      }),
      { numRuns: 200, seed: 0x7a0f0005 },
    );
    expect(found, "the generator reached the order's own id").toBeGreaterThan(0);
  }, TIMEOUT);

  it("answers raw (unencoded or malformed) percent-escapes in the id with 400 or 404, never a 5xx", async () => {
    const RAW = ["%00", "a%00b", "%zz", "%", "%2", "%E2%82", "%C0%AE", "%FF", "%2F", "%5C", "%20", "%0A", "%7F", "%25", "%252F", "%uD800", "x%"];
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...RAW), async (raw) => {
        const res = await call(`/api/v1/orders/by-client-id/${raw}`, { token: trader.token });
        const body = await errorOf(res, `raw ${raw}`);
        expect([400, 404], `raw ${raw} -> ${res.status} ${JSON.stringify(body)}`).toContain(res.status);
      }),
      { numRuns: 40, seed: 0x7a0f0006 },
    );
    expect((await getOrder(trader, mine.id)).status).toBe("PENDING");
  }, TIMEOUT);
});

// ================================================================ DELETE /api/v1/positions/:symbol?quantity&percentage

describe("DELETE /api/v1/positions/:symbol with bad quantity and percentage", () => {
  const HELD = 10;
  let instrument: string;
  let trader: Trader;
  let positions: unknown;
  let account: unknown;

  async function expectPositionUnchanged(context: string): Promise<void> {
    expect(await json(await call("/api/v1/positions", { token: trader.token })), `positions after ${context}`).toEqual(positions);
    expect(await json(await call("/api/v1/orders", { token: trader.token })), `orders after ${context}`).toEqual({ data: [], next_cursor: null });
    expect(await accountOf(trader), `account after ${context}`).toEqual(account);
  }

  beforeAll(async () => {
    instrument = await newInstrument(50);
    trader = await newTrader(100, [{ symbol: instrument, quantity: HELD, avg_price: 40 }], "close");
    positions = await json(await call("/api/v1/positions", { token: trader.token }));
    account = await accountOf(trader);
    expect(positions).toMatchObject({ data: [{ symbol: instrument, quantity: HELD }] });
  });

  /** The SPEC: quantity is a whole number of shares from 1 to what is held. */
  const quantityOk = (v: string) => Number.isInteger(num(v)) && num(v) >= 1 && num(v) <= HELD;
  /** percentage is more than 0, at most 100, and must come to at least one share (rounded down). */
  const percentageOk = (v: string) => Number.isFinite(num(v)) && num(v) > 0 && num(v) <= 100 && Math.floor((HELD * num(v)) / 100) >= 1;

  it("refuses 0, negatives, fractions, over 100 %, both, non-numbers, NaN and Infinity with VALIDATION_ERROR naming the field, and sells nothing", async () => {
    const text = fc.oneof(
      fc.integer({ min: -20, max: 150 }).map(String),
      fc.double({ min: -10, max: 200, noNaN: true }).map(String),
      fc.constantFrom(
        "", " ", "0", "-0", "-1", "0.5", "1.5", "10.5", "9.999", "11", "1000", "1e20", "1e309", "-1e309", "NaN", "Infinity", "-Infinity", "+Infinity",
        "abc", "1,5", "ten", "٣", "５", "100.01", "101", "0.0001", "9.99", "5", "1e-300", "null", "true", "[1]", "{}", "1_0", "0b1", "1n", "10%", "½",
      ),
      hostileText,
    );
    const value = fc.oneof({ arbitrary: text.map((v) => [v]), weight: 5 }, { arbitrary: fc.tuple(text, text), weight: 1 });
    const arb = fc
      .record({ quantity: maybe(value), percentage: maybe(value) })
      .filter(({ quantity, percentage }) => {
        if (quantity && percentage) return true; // both: always refused
        if (quantity) return quantity.length > 1 || !quantityOk(quantity[0]!);
        if (percentage) return percentage.length > 1 || !percentageOk(percentage[0]!);
        return false; // nothing: closes the whole position (the control below)
      });
    await fc.assert(
      fc.asyncProperty(arb, async ({ quantity, percentage }) => {
        const pairs: [string, string][] = [...(quantity ?? []).map((v) => ["quantity", v] as [string, string]), ...(percentage ?? []).map((v) => ["percentage", v] as [string, string])];
        const path = query(`/api/v1/positions/${instrument}`, pairs);
        const sent = [...(quantity ? ["quantity"] : []), ...(percentage ? ["percentage"] : [])];
        const res = await call(path, { method: "DELETE", token: trader.token });
        if (sent.length === 2) await expectValidation(res, `DELETE ${path}`, [], { anyOf: sent, allowed: sent });
        else await expectValidation(res, `DELETE ${path}`, sent, { allowed: sent });
        await expectPositionUnchanged(path);
      }),
      { numRuns: 200, seed: 0x7a0f0007 },
    );
  }, TIMEOUT);

  it("refuses a symbol that is not 1-12 of A-Z 0-9 . _ with 400 naming symbol, and sells nothing", async () => {
    const arb = fc.tuple(
      fc.oneof(hostileText, fc.constantFrom(instrument.toLowerCase(), ` ${instrument}`, `${instrument}\u0000`, "A".repeat(13), "ＡＡＰＬ", `${instrument}'--`)).filter((s) => s.length > 0 && !SYMBOL.test(s) && !pathLike(s)),
      fc.constantFrom("", "?quantity=1", "?percentage=50"),
    );
    await fc.assert(
      fc.asyncProperty(arb, async ([symbol, qs]) => {
        const encoded = encodeSegment(symbol);
        if (encoded === null) return;
        const path = `/api/v1/positions/${encoded}${qs}`;
        await expectValidation(await call(path, { method: "DELETE", token: trader.token }), `DELETE ${path}`, ["symbol"]);
        await expectPositionUnchanged(path);
      }),
      { numRuns: 60, seed: 0x7a0f0008 },
    );
  }, TIMEOUT);

  it("control: a valid quantity, then a valid percentage, each closes that part with a MARKET SELL", async () => {
    const byQuantity = await call(`/api/v1/positions/${instrument}?quantity=3`, { method: "DELETE", token: trader.token });
    expect(byQuantity.status, await byQuantity.clone().text()).toBe(201);
    const first = await json<Order>(byQuantity);
    expect(first).toMatchObject({ symbol: instrument, side: "SELL", quantity: 3, order_type: "MARKET" });
    await untilStatus(trader, first.id, "FILLED");
    const byPercentage = await call(`/api/v1/positions/${instrument}?percentage=50`, { method: "DELETE", token: trader.token });
    expect(byPercentage.status, await byPercentage.clone().text()).toBe(201);
    expect(await json<Order>(byPercentage)).toMatchObject({ quantity: 3 }); // floor(7 x 50%)
  });
});

// ================================================================ GET /api/v1/account/activities

describe("GET /api/v1/account/activities query parameters", () => {
  let instrument: string;
  let trader: Trader;
  let account: unknown;
  let activityCursor: string;
  let orderCursor: string;
  let complianceCursor: string;
  let stamps: number[];

  beforeAll(async () => {
    instrument = await newInstrument(100);
    trader = await newTrader(5_000, [], "ledger");
    for (const quantity of [2, 3]) {
      const res = await submit(trader, { symbol: instrument, quantity, order_type: "MARKET" });
      expect(res.status).toBe(201);
      await untilStatus(trader, (await json<Order>(res)).id, "FILLED");
    }
    const all = await json<{ data: { timestamp: string }[] }>(await call("/api/v1/account/activities?limit=500", { token: trader.token }));
    expect(all.data.length).toBe(3);
    stamps = all.data.map((a) => Date.parse(a.timestamp));
    activityCursor = (await json<{ next_cursor: string }>(await call("/api/v1/account/activities?limit=1", { token: trader.token }))).next_cursor;
    orderCursor = (await json<{ next_cursor: string }>(await call("/api/v1/orders?limit=1", { token: trader.token }))).next_cursor;
    const officer = await sign("officer-ledger", "compliance");
    complianceCursor = (
      await eventually(
        async () => json<{ next_cursor: string | null }>(await call(`/api/v1/compliance/executions?limit=1&trader_id=${trader.id}`, { token: officer })),
        (p) => typeof p.next_cursor === "string",
      )
    ).next_cursor!;
    for (const c of [activityCursor, orderCursor, complianceCursor]) expect(c).toBeTypeOf("string");
    account = await accountOf(trader);
  });

  it("answers any combination of activity_type, symbol, from, to, limit and cursor with 200 rows that honour them, or a 400 naming the bad parameters (and only parameters that were sent)", async () => {
    // Loosely date-shaped: anything else is no ISO timestamp at all.
    const LOOSE_ISO = /^[+-]?\d{4,6}-\d{2}-\d{2}/;
    const NOT_A_TIME = [
      "yesterday", "now", "", " ", "NaN", "1700000000", "1700000000000", "1e309", "2025/01/01", "01/02/2025", "Jan 1 2025", "Mon, 01 Jan 2025 00:00:00 GMT",
      "2025-13-01T00:00:00Z", "2025-02-30T00:00:00Z", "2023-02-29T00:00:00Z", "2025-01-01T25:00:00Z", "2025-01-01T00:60:00Z", "2025-01-01T00:00:61Z",
      "2025-01-01T00:00:00ZZ", "2025-01-01T00:00:00Z'--", "2025-01-01T00:00:00.Z", "2025-00-10T00:00:00Z", "2025-01-00T00:00:00Z",
    ];
    // ISO 8601 forms a route may or may not take (date only, offset, no seconds, lower case, a space).
    const MAYBE_TIME = ["2025-01-01", "2025-01-01T00:00Z", "2025-01-01T00:00:00+05:30", "2025-01-01T00:00:00", "2025-01-01t00:00:00z", "2025-01-01 00:00:00Z", "+002025-01-01T00:00:00.000Z"];
    const goodTime = fc.oneof(
      // Near the ledger's own rows, to the millisecond or to the second (both are ISO timestamps).
      fc.tuple(fc.constantFrom(...stamps), fc.integer({ min: -1500, max: 1500 }), fc.boolean()).map(([t, d, ms]) => {
        const iso = new Date(t + d).toISOString();
        return ms ? iso : iso.replace(/\.\d{3}Z$/, "Z");
      }),
      fc.constantFrom("2000-01-01T00:00:00Z", "2100-01-01T00:00:00.000Z", "2024-02-29T12:00:00.5Z"),
    );
    type Time = { v: string; kind: "good" | "bad" | "maybe" };
    const time = mostly<Time>(
      goodTime.map((v): Time => ({ v, kind: "good" })),
      fc.oneof(
        fc.constantFrom(...NOT_A_TIME).map((v) => ({ v, kind: "bad" as const })),
        hostileText.filter((s) => !LOOSE_ISO.test(s)).map((v) => ({ v, kind: "bad" as const })),
        fc.constantFrom(...MAYBE_TIME).map((v) => ({ v, kind: "maybe" as const })),
      ),
    );
    const limitText = fc.oneof(
      fc.integer({ min: -5, max: 600 }).map(String),
      fc.constantFrom("0", "501", "-1", "1.5", "abc", "", " ", "NaN", "Infinity", "1e309", "500", "1", "1e2", "0x10", "٣", "9007199254740993", "2.0"),
      hostileText,
    );
    const cursor = fc.oneof(
      { arbitrary: fc.constant({ v: activityCursor, kind: "good" as const }), weight: 3 },
      fc.constantFrom(orderCursor, complianceCursor, "A".repeat(201), "", "=", btoa("o:1"), btoa("a:"), btoa("x:2025|id")).map((v) => ({ v, kind: "bad" as const })),
      // Forged cursors in this route's own shape: the route may take them (an empty or odd page) or refuse them.
      fc.tuple(fc.string({ unit: "grapheme-ascii", maxLength: 45 }), fc.string({ unit: "grapheme-ascii", maxLength: 20 })).map(([a, b]) => ({ v: btoa(`a:${a}|${b}`).replace(/=+$/, ""), kind: "maybe" as const })),
      fc.oneof(fc.base64String({ maxLength: 40 }), hostileText).map((v) => ({ v, kind: "bad" as const })),
    );
    const arb = fc.record({
      activity_type: maybe(mostly(fc.constantFrom(...ACTIVITY_TYPES), fc.oneof(nearMisses(ACTIVITY_TYPES), fc.constantFrom("DIVIDEND", "fill", "ALL", ""), hostileText))),
      symbol: maybe(mostly(fc.constantFrom(instrument, "AAPL"), fc.oneof(fc.constantFrom(instrument.toLowerCase(), `${instrument} `, ""), hostileText))),
      from: maybe(time),
      to: maybe(time),
      limit: maybe(mostly(fc.integer({ min: 1, max: 500 }).map(String), limitText)),
      cursor: maybe(cursor),
    });
    let rowsSeen = 0;
    let refused = 0;
    await fc.assert(
      fc.asyncProperty(arb, async (q) => {
        const values = { activity_type: q.activity_type, symbol: q.symbol, from: q.from?.v, to: q.to?.v, limit: q.limit, cursor: q.cursor?.v };
        const pairs = Object.entries(values).filter(([, v]) => v !== undefined) as [string, string][];
        const path = query("/api/v1/account/activities", pairs);
        // The query string's shape is checked first; only a well-formed request has its cursor read.
        const sure: string[] = [];
        const unsure: string[] = [];
        let cursorBad = false;
        if (q.activity_type !== undefined && !ACTIVITY_TYPES.includes(q.activity_type)) sure.push("activity_type");
        if (q.symbol !== undefined && !SYMBOL.test(q.symbol)) sure.push("symbol");
        for (const f of ["from", "to"] as const) {
          if (q[f]?.kind === "bad") sure.push(f);
          if (q[f]?.kind === "maybe") unsure.push(f);
        }
        if (q.limit !== undefined && !(Number.isInteger(num(q.limit)) && num(q.limit) >= 1 && num(q.limit) <= 500)) sure.push("limit");
        if (q.cursor !== undefined) {
          // A cursor that does not even decode to this route's "a:" shape was never returned by it.
          const decoded = atobOrNull(q.cursor.v);
          if (q.cursor.v.length > 200) sure.push("cursor");
          else if (q.cursor.kind === "bad" || (q.cursor.kind === "maybe" && !decoded?.startsWith("a:"))) cursorBad = true;
          else if (q.cursor.kind === "maybe") unsure.push("cursor");
        }
        const res = await call(path, { token: trader.token });
        if (sure.length > 0 || cursorBad || res.status !== 200) {
          refused++;
          const allowed = [...sure, ...unsure, ...(cursorBad ? ["cursor"] : [])];
          if (sure.length > 0) await expectValidation(res, path, sure, { allowed });
          else if (cursorBad) await expectValidation(res, path, [], { anyOf: ["cursor", ...unsure], allowed });
          else await expectValidation(res, path, [], { allowed });
          return;
        }
        const text = await res.text();
        expect(res.headers.get("Content-Type") ?? "", path).toMatch(/^application\/json/);
        const page = JSON.parse(text) as { data: { activity_type: string; symbol: string | null; timestamp: string }[]; next_cursor: unknown };
        expect(Array.isArray(page.data), `${path} -> ${text.slice(0, 200)}`).toBe(true);
        expect(page.next_cursor === null || typeof page.next_cursor === "string", path).toBe(true);
        expect(page.data.length, path).toBeLessThanOrEqual(q.limit === undefined ? 50 : num(q.limit));
        for (const row of page.data) {
          if (q.activity_type !== undefined) expect(row.activity_type, path).toBe(q.activity_type);
          if (q.symbol !== undefined) expect(row.symbol, path).toBe(q.symbol);
          // from and to are judged here at millisecond precision only; every precision is the next property.
          if (q.from?.kind === "good" && MS_ISO.test(q.from.v)) expect(Date.parse(row.timestamp), `${path}: ${row.timestamp} is before from`).toBeGreaterThanOrEqual(Date.parse(q.from.v));
          if (q.to?.kind === "good" && MS_ISO.test(q.to.v)) expect(Date.parse(row.timestamp), `${path}: ${row.timestamp} is after to`).toBeLessThanOrEqual(Date.parse(q.to.v));
        }
        // Nothing the filters admit is missing (no cursor: the first page is everything there is).
        if (q.cursor === undefined && (q.from === undefined || MS_ISO.test(q.from.v)) && (q.to === undefined || MS_ISO.test(q.to.v))) {
          const all = await json<{ data: { id: string; activity_type: string; symbol: string | null; timestamp: string }[] }>(await call("/api/v1/account/activities?limit=500", { token: trader.token }));
          const admitted = all.data.filter(
            (r) =>
              (q.activity_type === undefined || r.activity_type === q.activity_type) &&
              (q.symbol === undefined || r.symbol === q.symbol) &&
              (q.from === undefined || Date.parse(r.timestamp) >= Date.parse(q.from.v)) &&
              (q.to === undefined || Date.parse(r.timestamp) <= Date.parse(q.to.v)),
          );
          const limit = q.limit === undefined ? 50 : num(q.limit);
          const got = page.data.map((r) => `${r.activity_type} ${r.timestamp}`);
          const want = admitted.slice(0, limit).map((r) => `${r.activity_type} ${r.timestamp}`);
          expect(got, `${path}: answered ${JSON.stringify(got)}; the filters admit ${JSON.stringify(want)}`).toEqual(want);
        }
        rowsSeen += page.data.length;
      }),
      { numRuns: 200, seed: 0x7a0f0009 },
    );
    expect(rowsSeen, "the generator reached real rows").toBeGreaterThan(0);
    expect(refused, "the generator reached refusals").toBeGreaterThan(0);
    expect(await accountOf(trader)).toEqual(account);
  }, TIMEOUT);

  it("honours from and to as instants at any ISO precision (seconds, tenths, milliseconds, microseconds): exactly the rows between them", async () => {
    const all = await json<{ data: { id: string; timestamp: string }[] }>(await call("/api/v1/account/activities?limit=500", { token: trader.token }));
    /** The instant t written with `digits` decimals of a second (truncated, so the text is the instant it names). */
    const written = (t: number, digits: number) => {
      const iso = new Date(t).toISOString(); // 2026-01-02T03:04:05.678Z
      if (digits === 0) return `${iso.slice(0, 19)}Z`;
      return `${iso.slice(0, 20)}${iso.slice(20, 23).padEnd(digits, "0").slice(0, digits)}Z`;
    };
    const bound = fc.tuple(fc.constantFrom(...stamps), fc.integer({ min: -1500, max: 1500 }), fc.constantFrom(0, 1, 2, 3, 6)).map(([t, d, digits]) => written(t + d, digits));
    const arb = fc.record({ from: maybe(bound), to: maybe(bound) }).filter((q) => q.from !== undefined || q.to !== undefined);
    await fc.assert(
      fc.asyncProperty(arb, async (q) => {
        const path = query("/api/v1/account/activities", Object.entries(q).filter(([, v]) => v !== undefined) as [string, string][]);
        const res = await call(path, { token: trader.token });
        const text = await res.text();
        expect(res.status, `${path} -> ${text.slice(0, 300)}`).toBe(200);
        const got = (JSON.parse(text) as { data: { timestamp: string }[] }).data.map((r) => r.timestamp);
        const want = all.data
          .filter((r) => (q.from === undefined || Date.parse(r.timestamp) >= Date.parse(q.from)) && (q.to === undefined || Date.parse(r.timestamp) <= Date.parse(q.to)))
          .map((r) => r.timestamp);
        expect(got, `GET ${path}: answered ${JSON.stringify(got)}; the rows between from and to are ${JSON.stringify(want)}`).toEqual(want);
      }),
      { numRuns: 100, seed: 0x7a0f000d },
    );
  }, TIMEOUT);
});

// ================================================================ PUT /api/v1/admin/accounts/:trader_id/trading

describe("PUT /api/v1/admin/accounts/:trader_id/trading under generated bad input", () => {
  let instrument: string;
  let admin: string;
  let target: Trader;
  let order: Order;
  let account: Record<string, unknown>;

  async function expectStateUnchanged(context: string): Promise<void> {
    expect(await accountOf(target), `account after ${context}`).toEqual(account);
    expect((await getOrder(target, order.id)).status, `order after ${context}`).toBe("PENDING");
  }

  const put = (body: string, token = admin, traderId = target.id) => call(`/api/v1/admin/accounts/${traderId}/trading`, { method: "PUT", token, body });

  beforeAll(async () => {
    instrument = await newInstrument(100);
    admin = await adminToken();
    target = await newTrader(10_000, [], "halt");
    order = await resting(target, { symbol: instrument, quantity: 2, price: 90 });
    // REDUCE_ONLY to start with, so a request that slipped through with ACTIVE or HALTED would show.
    const setup = await put(JSON.stringify({ state: "REDUCE_ONLY", reason: "setup" }));
    expect(setup.status, await setup.clone().text()).toBe(200);
    account = await accountOf(target);
    expect(account).toMatchObject({ trading_state: "REDUCE_ONLY", reserved: 180 });
  });

  it("refuses a bad state, reason, cancel_orders, missing fields and unknown keys with VALIDATION_ERROR naming each, and changes nothing", async () => {
    // A valid body that would change the state (and cancel the working order): each case breaks one part.
    const base: [string, unknown][] = [["state", "HALTED"], ["reason", "generated"], ["cancel_orders", true]];
    const replace = (field: string, value: unknown) => base.map(([k, v]) => [k, k === field ? value : v] as [string, unknown]);
    const without = (field: string) => base.filter(([k]) => k !== field);
    const blank = fc.string({ unit: fc.constantFrom(" ", "\t", "\n", "\r", "\u00a0", "\u3000", "\u2028", "\ufeff", "\u2003", "\u000b"), maxLength: 10 });
    const overlong = fc.string({ unit: fc.constantFrom("r", "é", "😀", "-", "x"), minLength: MAX_REASON + 1, maxLength: 3000 }).filter((s) => s.trim().length > MAX_REASON);
    const inherited = new Set(Object.getOwnPropertyNames(Object.prototype).filter((k) => k !== "__proto__" && k !== "constructor" && k !== "toString"));
    type Case = { entries: [string, unknown][]; named: string[] };
    const arb: fc.Arbitrary<Case> = fc.oneof(
      fc.oneof(notString, nearMisses(TRADING_STATES), fc.constantFrom("", "halted", "CLOSED", "SUSPENDED", "REDUCE ONLY", "REDUCE-ONLY", "FROZEN", "*"), hostileText.filter((s) => !TRADING_STATES.includes(s)))
        .map((v) => ({ entries: replace("state", v), named: ["state"] })),
      fc.oneof(notString, blank, overlong).map((v) => ({ entries: replace("reason", v), named: ["reason"] })),
      notBoolean.map((v) => ({ entries: replace("cancel_orders", v), named: ["cancel_orders"] })),
      fc.constantFrom("state", "reason").map((f) => ({ entries: without(f), named: [f] })),
      fc.constant<Case>({ entries: [], named: ["state", "reason"] }),
      fc.uniqueArray(extraKey.filter((k) => !TRADING_FIELDS.includes(k) && !inherited.has(k)), { minLength: 1, maxLength: 3 })
        .map((keys) => ({ entries: [...base, ...keys.map((k) => [k, "ACTIVE"] as [string, unknown])], named: keys })),
    );
    await fc.assert(
      fc.asyncProperty(arb, fc.boolean(), async ({ entries, named }, shuffle) => {
        const text = objectText(shuffle ? [...entries].reverse() : entries);
        const context = `PUT trading ${text.slice(0, 200)}`;
        await expectValidation(await put(text), context, named);
        await expectStateUnchanged(context);
      }),
      { numRuns: 200, seed: 0x7a0f000a },
    );
  }, TIMEOUT);

  it("refuses non-object bodies (VALIDATION_ERROR) and repeated keys (MALFORMED_JSON), and changes nothing", async () => {
    const good: Record<string, unknown> = { state: "HALTED", reason: "generated", cancel_orders: true };
    const arb = fc.oneof(
      fc.oneof(fc.constant(null), fc.boolean(), fc.integer(), fc.string({ maxLength: 10 }), anyArray, fc.constant([good])).map((v) => ({ text: JSON.stringify(v), key: null as string | null })),
      fc.tuple(fc.constantFrom(...TRADING_FIELDS), fc.oneof(fc.constant("same"), fc.constantFrom("ACTIVE", "HALTED", "", false)), fc.boolean()).map(([key, second, escaped]) => {
        const head = objectText(Object.entries(good)).slice(0, -1);
        return { text: `${head},${escaped ? escapedKey(key) : JSON.stringify(key)}:${JSON.stringify(second === "same" ? good[key] : second)}}`, key };
      }),
    );
    await fc.assert(
      fc.asyncProperty(arb, async ({ text, key }) => {
        const context = `PUT trading ${show(text)}`;
        const res = await put(text);
        if (key === null) await expectValidation(res, context, ["body"]);
        else await expectDuplicate(res, key, context);
        await expectStateUnchanged(context);
      }),
      { numRuns: 60, seed: 0x7a0f000b },
    );
  }, TIMEOUT);

  it("answers trader and compliance tokens (the trader's own too) with 403 FORBIDDEN for any body, and changes nothing", async () => {
    const arb = fc.record({
      role: fc.constantFrom("trader" as const, "compliance" as const),
      sub: fc.constantFrom(target.id, "root", "ops-1", "admin"),
      body: fc.constantFrom({ state: "HALTED", reason: "mine now", cancel_orders: true }, { state: "ACTIVE", reason: "let me trade" }, { state: "nope" }, {}),
    });
    await fc.assert(
      fc.asyncProperty(arb, async ({ role, sub, body }) => {
        const context = `${role} ${sub} ${JSON.stringify(body)}`;
        const res = await put(JSON.stringify(body), await sign(sub, role));
        const error = await errorOf(res, context);
        expect([res.status, error.error], context).toEqual([403, "FORBIDDEN"]);
        await expectStateUnchanged(context);
      }),
      { numRuns: 30, seed: 0x7a0f000c },
    );
  }, TIMEOUT);

  it("refuses a bad trader_id with 400 naming it, and an unknown trader with 404, creating no account", async () => {
    const before = (await env.DB.prepare("SELECT COUNT(*) AS n FROM accounts").first<{ n: number }>())?.n;
    const body = JSON.stringify({ state: "HALTED", reason: "x" });
    for (const id of ["a b", "x".repeat(129), "bob;DROP", "ｃarol", "t\u0000", "é", `${"'"} OR 1=1`]) {
      expect(TRADER_ID.test(id)).toBe(false);
      await expectValidation(await put(body, admin, encodeURIComponent(id)), `trader_id ${show(id)}`, ["trader_id"]);
    }
    const ghost = `ghost-${crypto.randomUUID().slice(0, 8)}`;
    const res = await put(body, admin, ghost);
    const error = await errorOf(res, ghost);
    expect([res.status, error.error]).toEqual([404, "ACCOUNT_NOT_FOUND"]);
    expect((await env.DB.prepare("SELECT COUNT(*) AS n FROM accounts").first<{ n: number }>())?.n).toBe(before);
    await expectStateUnchanged("trader_id probes");
  });

  it("control: a valid body changes the state, and D1 holds exactly the setup's and the control's TRADING_STATE rows", async () => {
    const res = await put(JSON.stringify({ state: "HALTED", reason: "control" }));
    expect(res.status, await res.clone().text()).toBe(200);
    expect(await accountOf(target)).toMatchObject({ trading_state: "HALTED" });
    expect((await getOrder(target, order.id)).status).toBe("PENDING"); // cancel_orders defaults to false
    const rows = await eventually(
      async () => (await env.DB.prepare("SELECT reason FROM execution_logs WHERE trader_id = ? AND action = 'TRADING_STATE' ORDER BY timestamp").bind(target.id).all<{ reason: string }>()).results,
      (r) => r.some((x) => x.reason.endsWith(": control")),
    );
    expect(rows.map((r) => r.reason)).toEqual(["REDUCE_ONLY by root: setup", "HALTED by root: control"]);
  });
});
