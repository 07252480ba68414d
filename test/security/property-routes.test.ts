// Property-based bad input for every route's path, query and body (fast-check, fixed seeds): the order list
// and single-order routes, the compliance report and chain check, the admin routes, and the body rules
// (16 KiB, JSON content types, malformed JSON). Invariants: never a 5xx; every 4xx has the SPEC's shape
// {error, message, details}; nothing is written on a refusal; no trader ever sees another trader's data.
import { env, exports } from "cloudflare:workers";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { adminToken, call, eventually, json, newInstrument, newTrader, submit, untilStatus, type Trader } from "../helpers/api";
import { sign } from "../helpers/auth";
import type { Order } from "../../worker/shared/orders";
import { errorOf, type ErrorBody } from "../helpers/errors";

const TIMEOUT = 60_000;

// ---------------------------------------------------------------- the SPEC, written out independently

const STATUSES = ["PENDING", "PARTIAL", "FILLED", "CANCELLED", "REJECTED", "EXPIRED"];
const ACTIONS = ["SUBMITTED", "APPROVED", "EXECUTED", "RECOVERED", "PARTIAL", "FILLED", "CANCELLED", "REJECTED", "EXPIRED"];
const SYMBOL = /^[A-Z0-9._]{1,12}$/;
const TRADER_ID = /^[\w.@-]{1,128}$/;
const CSV_HEADER = "trader_id,order_id,action,timestamp,reason,symbol,side,status,error_code,retry_attempt,id,chain_seq,hash,parent_order_id";
const MAX_BODY = 16 * 1024;

const INJECTION = [
  "' OR '1'='1", "'OR'1'='1", "'; DROP TABLE orders; --", "\" OR \"\"=\"", "1; DELETE FROM accounts", "%' OR 1=1 --",
  "' UNION SELECT trader_id, cash_cents FROM accounts --", "') OR ('a'='a", "x' AND (SELECT COUNT(*) FROM sqlite_master)>0--",
  "=1+2", "=HYPERLINK(\"http://evil.example\",\"x\")", "+SUM(1,2)", "-2+3", "@SUM(A1:A2)", "\t=1", "=cmd|' /C calc'!A0", "*", "%", "_",
];

// ---------------------------------------------------------------- helpers


function fieldsOf(body: ErrorBody): Record<string, unknown> {
  const fields = body.details.fields;
  return typeof fields === "object" && fields !== null ? (fields as Record<string, unknown>) : {};
}

/** A VALIDATION_ERROR whose details.fields names `field` (or a path inside it, such as positions.0.symbol). */
async function expectFieldError(res: Response, field: string, context: string): Promise<ErrorBody> {
  const body = await errorOf(res, context);
  const where = `${context} -> ${JSON.stringify(body).slice(0, 300)}`;
  expect(res.status, where).toBe(400);
  expect(body.error, where).toBe("VALIDATION_ERROR");
  const named = Object.keys(fieldsOf(body)).some((k) => k === field || k.startsWith(`${field}.`));
  expect(named, `details.fields must name ${field}: ${where}`).toBe(true);
  return body;
}

function withQuery(path: string, params: Record<string, string | undefined>): string {
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) qs.append(k, v);
  const text = qs.toString();
  return text ? `${path}?${text}` : path;
}

const show = (v: unknown) => {
  const text = JSON.stringify(v) ?? String(v);
  return text.length > 160 ? `${text.slice(0, 160)}...(${text.length})` : text;
};

/** Raw JSON text of an object, so keys such as __proto__ arrive as own keys exactly as a client sends them. */
function objectText(entries: [string, unknown][]): string {
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(",")}}`;
}

function parses(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** RFC 4180: the cells of each record (quoted fields may hold commas, quotes and line breaks). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = "";
  let quoted = false;
  let raw = "";
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cell += ch;
      continue;
    }
    if (ch === '"' && raw === "") {
      quoted = true;
      raw = '"';
    } else if (ch === ",") {
      row.push(cell);
      cell = "";
      raw = "";
    } else if (ch === "\r" && text[i + 1] === "\n") {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = "";
      raw = "";
      i++;
    } else {
      cell += ch;
      raw += ch;
    }
  }
  if (cell !== "" || row.length > 0) {
    row.push(cell);
    rows.push(row);
  }
  return rows;
}

/** A cell a spreadsheet would run as a formula (OWASP CSV injection). */
const formulaCell = (cell: string) => /^[=+\-@\t\r]/.test(cell);

// ---------------------------------------------------------------- arbitraries

/** Absent half of the time, so generated queries mix few and many parameters. */
const maybe = <T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> => fc.option(arb, { nil: undefined, freq: 2 });

/** Mostly `good`, sometimes `bad`: so a combination of several parameters is still often valid as a whole. */
const mostly = <T>(good: fc.Arbitrary<T>, bad: fc.Arbitrary<T>): fc.Arbitrary<T> => fc.oneof({ arbitrary: good, weight: 4 }, { arbitrary: bad, weight: 1 });

const hostileText: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: "grapheme", maxLength: 30 }),
  fc.string({ unit: "grapheme-ascii", maxLength: 30 }),
  fc.string({ unit: fc.integer({ min: 0, max: 0x1f }).map((c) => String.fromCharCode(c)), minLength: 1, maxLength: 8 }),
  fc.constantFrom(...INJECTION),
  fc.string({ unit: "grapheme-ascii", minLength: 100, maxLength: 400 }),
);

function nearMisses(values: readonly string[]): fc.Arbitrary<string> {
  const variants = values.flatMap((v) => [v.toLowerCase(), ` ${v}`, `${v} `, `${v}\u0000`, `${v}\u200b`, `${v},${v}`]);
  return fc.constantFrom(...variants).filter((s) => !values.includes(s));
}

const limitText: fc.Arbitrary<string> = fc.oneof(
  fc.integer({ min: -5, max: 1200 }).map(String),
  fc.constantFrom("", " ", "1e2", "0x10", " 5 ", "NaN", "Infinity", "-Infinity", "1.5", "-0", "1e309", "٣", "５", "500", "501", "1000", "1001", "9007199254740993"),
  hostileText,
);

/** A valid, a broken and an arbitrary JSON value for a body field whose type is `kind`. */
const notNumber: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom("NaN", "Infinity", "-Infinity", "1e309", "100", "", "0x10", "1,5"),
  fc.string({ maxLength: 10 }),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.integer(), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.integer(), { maxKeys: 2 }),
);
const notString: fc.Arbitrary<unknown> = fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean(), fc.constant(null), fc.array(fc.string(), { maxLength: 3 }), fc.dictionary(fc.string({ maxLength: 5 }), fc.string(), { maxKeys: 2 }));
const notBoolean: fc.Arbitrary<unknown> = fc.oneof(fc.constantFrom("true", "false", 1, 0, "", "yes"), fc.constant(null), fc.array(fc.boolean(), { maxLength: 2 }));
const subCent = fc.tuple(fc.integer({ min: 1, max: 9_999_999 }), fc.integer({ min: 1, max: 9 })).map(([c, m]) => (c * 10 + m) / 1000);
const nonPositive = fc.double({ max: 0, noNaN: true, noDefaultInfinity: true });
const extraKey = fc.oneof(fc.constantFrom("id", "trader_id", "faults", "symbol", "admin", "Price", "price ", ""), fc.string({ unit: "grapheme-ascii", maxLength: 12 }));

// ---------------------------------------------------------------- fixtures shared by the file

let admin: string;
let compliance: string;
let instrument: string;
/** A trader with a filled order and a resting one, whose data no one else may reach. */
let victim: Trader;
let victimOrders: Order[];
let victimCursor: string;
let victimAccount: unknown;
/** A trader with an account and no orders: every probe runs as this one. */
let prober: Trader;
let proberAccount: unknown;

async function instrumentRow(symbol: string): Promise<unknown> {
  return env.DB.prepare("SELECT symbol, name, price_cents, tick_cents, depth, tradable, faults, updated_at FROM instruments WHERE symbol = ?").bind(symbol).first();
}

async function accountCount(): Promise<number> {
  return (await env.DB.prepare("SELECT COUNT(*) AS n FROM accounts").first<{ n: number }>())?.n ?? 0;
}

/** The victim's orders and account, the prober's empty book, as they were set up. */
async function expectNobodyTouched(context: string): Promise<void> {
  for (const o of victimOrders) {
    const res = await call(`/api/v1/orders/${o.id}`, { token: victim.token });
    expect(((await res.json()) as Order).status, `${context}: victim order ${o.id}`).toBe(o.status);
  }
  expect(await json(await call("/api/v1/account", { token: victim.token })), context).toEqual(victimAccount);
  expect(await json(await call("/api/v1/orders", { token: prober.token })), context).toEqual({ data: [], next_cursor: null });
  expect(await json(await call("/api/v1/account", { token: prober.token })), context).toEqual(proberAccount);
}

beforeAll(async () => {
  admin = await adminToken();
  compliance = await sign(`officer-${crypto.randomUUID().slice(0, 8)}`, "compliance");
  instrument = await newInstrument(10);
  victim = await newTrader(10_000, [], "victim");
  const filled = await submit(victim, { symbol: instrument, quantity: 2, order_type: "MARKET" });
  expect(filled.status).toBe(201);
  const filledOrder = await untilStatus(victim, (await json<Order>(filled)).id, "FILLED");
  const resting = await submit(victim, { symbol: instrument, quantity: 3, order_type: "LIMIT", price: 9.5, time_in_force: "GTC" });
  expect(resting.status).toBe(201);
  const restingOrder = await json<Order>(resting);
  victimOrders = [filledOrder, restingOrder];
  const page = await json<{ next_cursor: string | null }>(await call("/api/v1/orders?limit=1", { token: victim.token }));
  victimCursor = page.next_cursor!;
  expect(victimCursor).toBeTypeOf("string");
  victimAccount = await json(await call("/api/v1/account", { token: victim.token }));
  prober = await newTrader(1_000, [], "prober");
  proberAccount = await json(await call("/api/v1/account", { token: prober.token }));
  // The victim's audit rows (filled: 4, resting: 2) have reached D1, so the compliance report has data.
  await eventually(
    async () => (await env.DB.prepare("SELECT COUNT(*) AS n FROM execution_logs WHERE trader_id = ?").bind(victim.id).first<{ n: number }>())?.n ?? 0,
    (n) => n >= 6,
  );
});

// ---------------------------------------------------------------- trader routes

describe("GET /api/v1/orders query parameters", () => {
  it("answers any status, symbol, limit and cursor with 200 and the caller's own (empty) book, or a 400 naming the bad parameter", async () => {
    const crafted = fc.oneof(fc.constant(victimCursor), fc.bigInt({ min: 0n, max: 999_999_999_999_999n }).map((n) => btoa(`o:${n}`).replace(/=+$/, "")));
    const arb = fc.record({
      status: maybe(fc.oneof(fc.constantFrom(...STATUSES), nearMisses(STATUSES), hostileText)),
      symbol: maybe(fc.oneof(fc.constantFrom("AAPL", instrument), fc.stringMatching(SYMBOL), hostileText)),
      limit: maybe(limitText),
      cursor: maybe(fc.oneof(crafted.map((c) => ({ c, crafted: true })), fc.oneof(fc.base64String({ maxLength: 40 }), hostileText, fc.constant("A".repeat(201))).map((c) => ({ c, crafted: false })))),
      extra: maybe(fc.constantFrom("trader_id", "sub", "__proto__", "status[]")),
    });
    await fc.assert(
      fc.asyncProperty(arb, async (q) => {
        const path = withQuery("/api/v1/orders", { status: q.status, symbol: q.symbol, limit: q.limit, cursor: q.cursor?.c, ...(q.extra ? { [q.extra]: victim.id } : {}) });
        const res = await call(path, { token: prober.token });
        const bad: string[] = [];
        if (q.status !== undefined && !STATUSES.includes(q.status)) bad.push("status");
        if (q.symbol !== undefined && !SYMBOL.test(q.symbol)) bad.push("symbol");
        if (q.limit !== undefined) {
          const n = Number(q.limit);
          if (!Number.isInteger(n) || n < 1 || n > 500) bad.push("limit");
        }
        if (bad.length > 0) {
          const body = await expectFieldError(res, bad[0]!, path);
          for (const f of bad) expect(Object.hasOwn(fieldsOf(body), f), `${path}: ${f} not named in ${JSON.stringify(body)}`).toBe(true);
          return;
        }
        if (res.status === 200 || q.cursor?.crafted !== false) {
          const text = await res.text();
          expect(res.status, `${path} -> ${text}`).toBe(200);
          expect(JSON.parse(text), `${path} showed orders that are not the prober's`).toEqual({ data: [], next_cursor: null });
          return;
        }
        await expectFieldError(res, "cursor", path);
      }),
      { numRuns: 250, seed: 0x7a0e0001 },
    );
    await expectNobodyTouched("list probes");
  }, TIMEOUT);
});

describe("GET/POST /api/v1/orders/:id, /:id/cancel, /:id/audit", () => {
  it("answers any id, including the victim's own ids and injections, with 404 ORDER_NOT_FOUND or a 400, and changes nothing", async () => {
    const victimIds = victimOrders.map((o) => o.id);
    const mutated = fc.tuple(fc.constantFrom(...victimIds), fc.constantFrom("upper", "lower", "inject", "suffix", "prefix", "space")).map(([id, how]) => {
      switch (how) {
        case "upper": return id.toUpperCase();
        case "lower": return id.toLowerCase();
        case "inject": return `${id}' OR '1'='1`;
        case "suffix": return `${id}\u0000`;
        case "prefix": return `x${id}`;
        default: return ` ${id}`;
      }
    });
    const id = fc.oneof(fc.constantFrom(...victimIds), mutated, hostileText.filter((s) => s.length > 0), fc.string({ unit: "grapheme-ascii", minLength: 65, maxLength: 200 }), fc.constantFrom(".", "..", "%", "%2e%2e", "../../admin/accounts/x", "a/b", "?", "#"));
    const arb = fc.tuple(id, fc.constantFrom("read", "cancel", "audit"), fc.constantFrom("prober", "compliance"));
    await fc.assert(
      fc.asyncProperty(arb, async ([raw, route, who]) => {
        if (who === "compliance" && (route !== "audit" || victimIds.some((v) => raw === v))) return;
        let encoded: string;
        try {
          encoded = encodeURIComponent(raw);
        } catch {
          return; // a lone surrogate cannot be put in a URL
        }
        const path = `/api/v1/orders/${encoded}${route === "read" ? "" : `/${route}`}`;
        const res = await call(path, { method: route === "cancel" ? "POST" : "GET", token: who === "prober" ? prober.token : compliance });
        const context = `${who} ${route} ${show(raw)}`;
        const body = await errorOf(res, context);
        // Ids that a URL parser or router could read as path structure only need a clean 4xx.
        if (raw.includes("/") || raw.includes("%") || raw === "." || raw === "..") return;
        if (raw.length > 64) expect([res.status, body.error], context).toEqual([400, "VALIDATION_ERROR"]);
        else expect([res.status, body.error], context).toEqual([404, "ORDER_NOT_FOUND"]);
      }),
      { numRuns: 250, seed: 0x7a0e0002 },
    );
    await expectNobodyTouched("id probes");
  }, TIMEOUT);
});

// ---------------------------------------------------------------- compliance routes

describe("GET /api/v1/compliance/executions and /audit/verify", () => {
  const dateText: fc.Arbitrary<string> = fc.oneof(
    fc.date({ min: new Date("2000-01-01T00:00:00Z"), max: new Date("2100-01-01T00:00:00Z"), noInvalidDate: true }).chain((d) =>
      fc.constantFrom(d.toISOString(), d.toISOString().slice(0, 10), d.toISOString().slice(0, 16), d.toISOString().replace("Z", "+05:30")),
    ),
    fc.constantFrom("2025-02-30", "2025-13-01", "0000-01-01", "9999-12-31", "2025-01-01T25:00", "2025-1-1", "yesterday", "", "1e309", "2025-01-01T00:00:00+99:99", "2024-02-29", "2023-02-29"),
    hostileText,
  );

  it("answers any combination of filters with 200 rows that honour them (JSON and CSV), or a 400 naming only parameters that were sent", async () => {
    const firstPage = await json<{ next_cursor: string | null }>(await call(`/api/v1/compliance/executions?limit=1&trader_id=${victim.id}`, { token: compliance }));
    expect(firstPage.next_cursor).toBeTypeOf("string");
    const cursor = fc.oneof(
      fc.constant(firstPage.next_cursor!),
      fc.tuple(fc.oneof(fc.string({ maxLength: 24 }), fc.integer()), fc.oneof(fc.integer(), fc.double(), fc.string({ maxLength: 4 })), fc.oneof(fc.string({ maxLength: 12 }), fc.constant(null)))
        .map((t) => btoa(unescape(encodeURIComponent(JSON.stringify(t))))),
      fc.base64String({ maxLength: 40 }),
      hostileText,
    );
    const arb = fc.record({
      from: maybe(mostly(fc.constantFrom("2000-01-01", new Date(Date.now() - 3_600_000).toISOString()), dateText)),
      to: maybe(mostly(fc.constantFrom("2100-01-01", new Date(Date.now() + 3_600_000).toISOString().slice(0, 16)), dateText)),
      trader_id: maybe(mostly(fc.constant(victim.id), fc.oneof(fc.constantFrom(prober.id, "", "x".repeat(129)), hostileText))),
      order_id: maybe(mostly(fc.constantFrom(...victimOrders.map((o) => o.id)), fc.oneof(fc.constantFrom("", "o".repeat(65)), hostileText))),
      symbol: maybe(mostly(fc.constant(instrument), fc.oneof(fc.constant("AAPL"), hostileText))),
      action: maybe(mostly(fc.constantFrom(...ACTIONS), fc.oneof(nearMisses(ACTIONS), hostileText))),
      limit: maybe(mostly(fc.integer({ min: 1, max: 1000 }).map(String), limitText)),
      cursor: maybe(cursor),
      format: maybe(mostly(fc.constantFrom("json", "csv"), fc.oneof(nearMisses(["json", "csv"]), hostileText))),
    });
    let rowsSeen = 0;
    await fc.assert(
      fc.asyncProperty(arb, async (q) => {
        const path = withQuery("/api/v1/compliance/executions", q);
        const res = await call(path, { token: compliance });
        const sure: string[] = [];
        if (q.action !== undefined && !ACTIONS.includes(q.action)) sure.push("action");
        if (q.symbol !== undefined && !SYMBOL.test(q.symbol)) sure.push("symbol");
        if (q.format !== undefined && q.format !== "json" && q.format !== "csv") sure.push("format");
        if (q.trader_id !== undefined && (q.trader_id.length === 0 || q.trader_id.length > 128)) sure.push("trader_id");
        if (q.order_id !== undefined && (q.order_id.length === 0 || q.order_id.length > 64)) sure.push("order_id");
        if (res.status !== 200 || sure.length > 0) {
          const body = await errorOf(res, path);
          expect([res.status, body.error], path).toEqual([400, "VALIDATION_ERROR"]);
          const named = Object.keys(fieldsOf(body));
          expect(named.length, `${path}: ${JSON.stringify(body)}`).toBeGreaterThan(0);
          for (const f of named) expect(q[f as keyof typeof q], `${path}: names ${f}, which was not sent`).toBeDefined();
          for (const f of sure) expect(named, `${path}: ${JSON.stringify(body)}`).toContain(f);
          return;
        }
        const type = res.headers.get("Content-Type") ?? "";
        if (q.format === "csv") {
          expect(type).toMatch(/^text\/csv/);
          const records = parseCsv(await res.text());
          expect(records[0]?.join(","), path).toBe(CSV_HEADER);
          for (const r of records.slice(1)) {
            expect(r, `${path}: a CSV row with the wrong width`).toHaveLength(CSV_HEADER.split(",").length);
            if (q.trader_id !== undefined) expect(r[0], path).toBe(q.trader_id);
            if (q.order_id !== undefined) expect(r[1], path).toBe(q.order_id);
            if (q.action !== undefined) expect(r[2], path).toBe(q.action);
            if (q.symbol !== undefined) expect(r[5], path).toBe(q.symbol);
            for (const cell of r) expect(formulaCell(cell), `${path}: formula cell ${show(cell)}`).toBe(false);
          }
          rowsSeen += records.length - 1;
          return;
        }
        expect(type).toMatch(/^application\/json/);
        const page = await json<{ data: Record<string, unknown>[]; next_cursor: unknown }>(res);
        expect(Array.isArray(page.data), path).toBe(true);
        expect(page.next_cursor === null || typeof page.next_cursor === "string", path).toBe(true);
        const limit = q.limit === undefined ? 100 : Number(q.limit);
        expect(page.data.length, path).toBeLessThanOrEqual(limit);
        for (const row of page.data) {
          if (q.trader_id !== undefined) expect(row.trader_id, path).toBe(q.trader_id);
          if (q.order_id !== undefined) expect(row.order_id, path).toBe(q.order_id);
          if (q.action !== undefined) expect(row.action, path).toBe(q.action);
          if (q.symbol !== undefined) expect(row.symbol, path).toBe(q.symbol);
        }
        rowsSeen += page.data.length;
      }),
      { numRuns: 250, seed: 0x7a0e0003 },
    );
    // The generator reached real rows, not only refusals and empty pages.
    expect(rowsSeen).toBeGreaterThan(0);
  }, TIMEOUT);

  it("verifies the intact audit chain as ok for any trader_id, from and to, or answers a 400", async () => {
    const arb = fc.record({
      trader_id: maybe(fc.oneof(fc.constantFrom(victim.id, prober.id, "", "x".repeat(129)), hostileText)),
      from: maybe(dateText),
      to: maybe(dateText),
    });
    await fc.assert(
      fc.asyncProperty(arb, async (q) => {
        const path = withQuery("/api/v1/compliance/audit/verify", q);
        const res = await call(path, { token: compliance });
        if (res.status !== 200) {
          const body = await errorOf(res, path);
          expect([res.status, body.error], path).toEqual([400, "VALIDATION_ERROR"]);
          for (const f of Object.keys(fieldsOf(body))) expect(q[f as keyof typeof q], `${path}: names ${f}, which was not sent`).toBeDefined();
          return;
        }
        const result = await json<{ ok: unknown; checked: unknown; traders: unknown; first_bad: unknown }>(res);
        expect(result, path).toMatchObject({ ok: true, first_bad: null });
        expect(Number.isInteger(result.checked) && Number.isInteger(result.traders), path).toBe(true);
      }),
      { numRuns: 120, seed: 0x7a0e0004 },
    );
  }, TIMEOUT);

  it("neutralises CSV formulas in trader ids a spreadsheet would run (ids may start with - or @)", async () => {
    const arb = fc.tuple(fc.constantFrom("-", "@", "-@", "@-", "--"), fc.stringMatching(/^[\w.@-]{1,16}$/), fc.constantFrom("+1", "-1", "@A1", ""));
    let n = 0;
    await fc.assert(
      fc.asyncProperty(arb, async ([head, middle, tail]) => {
        const id = `${head}${middle}${tail.replace(/\+/g, "")}-${n++}${crypto.randomUUID().slice(0, 4)}`.slice(0, 128);
        expect(TRADER_ID.test(id), id).toBe(true);
        const opened = await call(`/api/v1/admin/accounts/${encodeURIComponent(id)}`, { method: "PUT", token: admin, body: { cash: 100 } });
        expect(opened.status, `${id}: ${await opened.clone().text()}`).toBe(201);
        const trader = { id, token: await sign(id) };
        const placed = await submit(trader, { symbol: instrument, quantity: 1, order_type: "MARKET" });
        expect(placed.status, id).toBe(201);
        await untilStatus(trader, (await json<Order>(placed)).id, "FILLED");
        const records = await eventually(
          async () => parseCsv(await (await call(withQuery("/api/v1/compliance/executions", { format: "csv", trader_id: id }), { token: compliance })).text()),
          (r) => r.length >= 5,
        );
        for (const r of records.slice(1)) {
          expect(r[0], "the trader_id cell keeps the id behind a leading apostrophe").toBe(`'${id}`);
          for (const cell of r) expect(formulaCell(cell), `formula cell ${show(cell)}`).toBe(false);
        }
      }),
      { numRuns: 6, seed: 0x7a0e0005 },
    );
  }, TIMEOUT);
});

// ---------------------------------------------------------------- admin routes

describe("PUT /api/v1/admin/accounts/:trader_id", () => {
  it("refuses a trader_id that is not 1-128 of letters, digits, _ . @ - with a 4xx, and opens nothing", async () => {
    const before = await accountCount();
    const arb = fc.oneof(hostileText, fc.constantFrom("", " ", "a b", "x".repeat(129), "alice'--", "bob;DROP", "ｃarol", "t\u0000", "..", "%2e%2e")).filter((s) => !TRADER_ID.test(s));
    await fc.assert(
      fc.asyncProperty(arb, async (id) => {
        let encoded: string;
        try {
          encoded = encodeURIComponent(id);
        } catch {
          return;
        }
        const res = await call(`/api/v1/admin/accounts/${encoded}`, { method: "PUT", token: admin, body: { cash: 100 } });
        const body = await errorOf(res, `trader_id ${show(id)}`);
        if (id !== "" && !id.includes("/") && !id.includes("%") && id !== "." && id !== "..") {
          expect([res.status, body.error], show(id)).toEqual([400, "VALIDATION_ERROR"]);
        }
        expect(await accountCount(), `an account was opened for ${show(id)}`).toBe(before);
      }),
      { numRuns: 150, seed: 0x7a0e0006 },
    );
  }, TIMEOUT);

  it("refuses a bad body (cash, positions, extra fields) with VALIDATION_ERROR naming the field, and opens nothing", async () => {
    const before = await accountCount();
    const goodPosition = { symbol: "AAPL", quantity: 1, avg_price: 1 };
    const badPosition = fc.oneof(
      fc.constant(null),
      fc.string({ maxLength: 5 }),
      fc.oneof(hostileText, notString).map((symbol) => ({ ...goodPosition, symbol })),
      fc.oneof(notNumber, fc.constantFrom(0, -1, 1.5, 1e10, 1e300)).map((quantity) => ({ ...goodPosition, quantity })),
      fc.oneof(notNumber, nonPositive, subCent.map((p) => p + 0), fc.constantFrom(1e300)).map((avg_price) => ({ ...goodPosition, avg_price })),
      extraKey.filter((k) => !["symbol", "quantity", "avg_price"].includes(k)).map((k) => ({ ...goodPosition, [k]: 1 })),
    );
    const arb = fc.oneof(
      fc.oneof(notNumber, fc.double({ max: -0.01, noNaN: true, noDefaultInfinity: true }), subCent, fc.constantFrom(1e12 + 0.01, 1e13, 1e300, Number.MAX_VALUE)).map((cash) => ({ field: "cash", body: { cash } as Record<string, unknown> })),
      fc.oneof(notNumber.filter((v) => !Array.isArray(v)), fc.tuple(fc.array(fc.constant(goodPosition), { maxLength: 2 }), badPosition).map(([ok, bad]) => [...ok, bad]))
        .map((positions) => ({ field: "positions", body: { cash: 100, positions } as Record<string, unknown> })),
      extraKey.filter((k) => k !== "cash" && k !== "positions").map((k) => ({ field: k, body: { cash: 100, [k]: true } as Record<string, unknown> })),
    );
    let n = 0;
    await fc.assert(
      fc.asyncProperty(arb, async ({ field, body }) => {
        const id = `nobody-${n++}-${crypto.randomUUID().slice(0, 6)}`;
        const text = objectText(Object.entries(body));
        const res = await call(`/api/v1/admin/accounts/${id}`, { method: "PUT", token: admin, body: text });
        await expectFieldError(res, field, `${id} ${text.slice(0, 200)}`);
        expect(await env.DB.prepare("SELECT COUNT(*) AS n FROM accounts WHERE trader_id = ?").bind(id).first<{ n: number }>()).toEqual({ n: 0 });
      }),
      { numRuns: 200, seed: 0x7a0e0007 },
    );
    expect(await accountCount()).toBe(before);
  }, TIMEOUT);
});

describe("PUT /api/v1/admin/instruments/:symbol and /faults", () => {
  it("refuses a bad instrument body with VALIDATION_ERROR naming the field, and leaves the instrument as it was", async () => {
    const before = await instrumentRow(instrument);
    const price = (max: number) => fc.oneof(notNumber, nonPositive, subCent, fc.double({ min: max + 0.01, noNaN: true, noDefaultInfinity: true }));
    const arb = fc.oneof(
      fc.oneof(notString, fc.constantFrom("", "n".repeat(101))).map((v) => ["name", v] as const),
      price(1_000_000).map((v) => ["price", v] as const),
      price(1000).map((v) => ["tick_size", v] as const),
      fc.oneof(notNumber, fc.constantFrom(0, -1, 1.5, 1e9 + 1, 1e300)).map((v) => ["depth", v] as const),
      notBoolean.map((v) => ["tradable", v] as const),
      extraKey.filter((k) => !["name", "price", "tick_size", "depth", "tradable"].includes(k)).map((k) => [k, 1] as const),
    );
    await fc.assert(
      fc.asyncProperty(arb, async ([field, value]) => {
        const text = objectText([["price", 10], [field, value]].filter(([k], i, all) => i === all.length - 1 || k !== field) as [string, unknown][]);
        await expectFieldError(await call(`/api/v1/admin/instruments/${instrument}`, { method: "PUT", token: admin, body: text }), field, text.slice(0, 200));
        expect(await instrumentRow(instrument), text.slice(0, 200)).toEqual(before);
      }),
      { numRuns: 200, seed: 0x7a0e0008 },
    );
  }, TIMEOUT);

  it.each([Number.MIN_VALUE, 1e-9])("refuses a new instrument priced at %s dollars (zero whole cents) with VALIDATION_ERROR, and creates nothing", async (tiny) => {
    const symbol = `Z${crypto.randomUUID().replace(/-/g, "").slice(0, 8).toUpperCase()}`;
    await expectFieldError(await call(`/api/v1/admin/instruments/${symbol}`, { method: "PUT", token: admin, body: { price: tiny } }), "price", `new ${symbol} price ${tiny}`);
    expect(await instrumentRow(symbol), `${symbol} was created with price ${tiny}`).toBeNull();
  });

  it.each([Number.MIN_VALUE, 1e-9])("refuses a tick_size of %s dollars (zero whole cents) with VALIDATION_ERROR, and changes nothing", async (tiny) => {
    const own = await newInstrument(10);
    const before = await instrumentRow(own);
    await expectFieldError(await call(`/api/v1/admin/instruments/${own}`, { method: "PUT", token: admin, body: { tick_size: tiny } }), "tick_size", `tick_size ${tiny}`);
    expect(await instrumentRow(own)).toEqual(before);
  });

  it("refuses a symbol that is not 1-12 of A-Z 0-9 . _ with a 4xx, and creates no instrument", async () => {
    const count = async () => (await env.DB.prepare("SELECT COUNT(*) AS n FROM instruments").first<{ n: number }>())?.n ?? 0;
    const before = await count();
    const arb = fc.oneof(hostileText, fc.constantFrom("aapl", "AAPL ", "ＡＡＰＬ", "A".repeat(13), "A-B", "AAPL'--")).filter((s) => s.length > 0 && !SYMBOL.test(s));
    await fc.assert(
      fc.asyncProperty(arb, fc.boolean(), async (symbol, faults) => {
        let encoded: string;
        try {
          encoded = encodeURIComponent(symbol);
        } catch {
          return;
        }
        const path = `/api/v1/admin/instruments/${encoded}${faults ? "/faults" : ""}`;
        const res = await call(path, { method: "PUT", token: admin, body: faults ? {} : { price: 5 } });
        const body = await errorOf(res, path);
        if (!symbol.includes("/") && !symbol.includes("%") && symbol !== "." && symbol !== "..") expect([res.status, body.error], path).toEqual([400, "VALIDATION_ERROR"]);
        expect(await count(), `${path} created an instrument`).toBe(before);
      }),
      { numRuns: 150, seed: 0x7a0e0009 },
    );
  }, TIMEOUT);

  it("refuses bad fault settings with VALIDATION_ERROR naming the field, and injects no fault", async () => {
    const before = await instrumentRow(instrument);
    const rate = fc.oneof(notNumber, fc.double({ max: -Number.MIN_VALUE, noNaN: true, noDefaultInfinity: true }), fc.double({ min: 1.000001, noNaN: true, noDefaultInfinity: true }));
    const arb = fc.oneof(
      fc.oneof(notNumber, fc.constantFrom(-1, 1.5, 101, 1e300)).map((v) => ["timeout_first_attempts", v] as const),
      rate.map((v) => ["error_rate", v] as const),
      rate.map((v) => ["reject_rate", v] as const),
      fc.oneof(notNumber, fc.constantFrom(-1, 0.5, 60_001, 1e300)).map((v) => ["latency_ms", v] as const),
      fc.oneof(notNumber, fc.constantFrom(0.5, 1e300)).map((v) => ["seed", v] as const),
      extraKey.filter((k) => !["timeout_first_attempts", "error_rate", "reject_rate", "latency_ms", "seed"].includes(k)).map((k) => [k, 1] as const),
    );
    await fc.assert(
      fc.asyncProperty(arb, async ([field, value]) => {
        const text = objectText([["error_rate", 1], [field, value]].filter(([k], i, all) => i === all.length - 1 || k !== field) as [string, unknown][]);
        await expectFieldError(await call(`/api/v1/admin/instruments/${instrument}/faults`, { method: "PUT", token: admin, body: text }), field, text.slice(0, 200));
        expect(await instrumentRow(instrument), text.slice(0, 200)).toEqual(before);
      }),
      { numRuns: 200, seed: 0x7a0e000a },
    );
    // The venue agrees: an order on the instrument fills at its price, with no injected error.
    const trader = await newTrader(100);
    const res = await submit(trader, { symbol: instrument, quantity: 1, order_type: "MARKET" });
    expect(res.status).toBe(201);
    expect((await untilStatus(trader, (await json<Order>(res)).id, "FILLED", "REJECTED")).avg_fill_price).toBe(10);
  }, TIMEOUT);
});

// ---------------------------------------------------------------- bodies: size, type, syntax

interface BodyRoute {
  name: string;
  method: "POST" | "PUT";
  path: () => string;
  token: () => string;
  /** A valid body for the route (the properties break its size, type or syntax). */
  body: () => Record<string, unknown>;
}

let fresh = 0;
const ROUTES: BodyRoute[] = [
  { name: "submit", method: "POST", path: () => "/api/v1/orders", token: () => prober.token, body: () => ({ symbol: instrument, quantity: 1, order_type: "MARKET" }) },
  { name: "cancel", method: "POST", path: () => `/api/v1/orders/${victimOrders[1]!.id}/cancel`, token: () => prober.token, body: () => ({ reason: "x" }) },
  { name: "account", method: "PUT", path: () => `/api/v1/admin/accounts/body-${fresh++}-${crypto.randomUUID().slice(0, 6)}`, token: () => admin, body: () => ({ cash: 5 }) },
  { name: "instrument", method: "PUT", path: () => `/api/v1/admin/instruments/${instrument}`, token: () => admin, body: () => ({ price: 99 }) },
  { name: "faults", method: "PUT", path: () => `/api/v1/admin/instruments/${instrument}/faults`, token: () => admin, body: () => ({ error_rate: 1 }) },
];
const routeArb = fc.constantFrom(...ROUTES);

/** The raw request (the api helper would serialize a stream as JSON): a string or a stream without a length. */
function send(route: BodyRoute, body: string | ReadableStream<Uint8Array>, contentType: string): Promise<Response> {
  const headers = { "Content-Type": contentType, Authorization: `Bearer ${route.token()}` };
  return exports.default.fetch(new Request(`http://fillwire.test${route.path()}`, { method: route.method, headers, body }));
}

/** What a body route could have written besides the traders' books: accounts and the shared instrument. */
async function bodyState(): Promise<unknown> {
  return { accounts: await accountCount(), instrument: await instrumentRow(instrument) };
}

describe("request bodies on every route that takes one", () => {
  it("answers any body over 16 KiB with 413 PAYLOAD_TOO_LARGE (sized or streamed, any characters) and one at or under it never with 413", async () => {
    const before = await bodyState();
    const arb = fc.record({
      route: routeArb,
      bytes: fc.oneof(fc.integer({ min: MAX_BODY - 40, max: MAX_BODY + 40 }), fc.integer({ min: MAX_BODY + 1, max: 80_000 })),
      pad: fc.constantFrom("x", "é", "€", "😀", "\\u0000"),
      streamed: fc.boolean(),
    });
    const encoder = new TextEncoder();
    await fc.assert(
      fc.asyncProperty(arb, async ({ route, bytes, pad, streamed }) => {
        const head = JSON.stringify(route.body()).slice(0, -1) + ',"pad":"';
        const unit = encoder.encode(pad).length;
        const count = Math.max(0, Math.floor((bytes - encoder.encode(head).length - 2) / unit));
        const text = `${head}${pad.repeat(count)}"}`;
        const data = encoder.encode(text);
        const body = streamed
          ? new ReadableStream<Uint8Array>({
              start(controller) {
                for (let i = 0; i < data.length; i += 4096) controller.enqueue(data.slice(i, i + 4096));
                controller.close();
              },
            })
          : text;
        const context = `${route.name} ${data.length} bytes of ${pad} ${streamed ? "streamed" : "sized"}`;
        const res = await send(route, body, "application/json");
        if (data.length > MAX_BODY) {
          const error = await errorOf(res, context);
          expect([res.status, error.error], context).toEqual([413, "PAYLOAD_TOO_LARGE"]);
        } else {
          expect(res.status, context).not.toBe(413);
          expect(res.status, context).toBeLessThan(500);
        }
      }),
      { numRuns: 80, seed: 0x7a0e000b },
    );
    expect(await bodyState()).toEqual(before);
    await expectNobodyTouched("large bodies");
  }, TIMEOUT);

  it("answers a body of any non-JSON content type with 415 UNSUPPORTED_MEDIA_TYPE, and writes nothing", async () => {
    const before = await bodyState();
    const token = fc.stringMatching(/^[a-z0-9][a-z0-9.-]{0,11}$/);
    const type = fc.oneof(
      fc.constantFrom(
        "text/plain", "text/html", "text/json", "text/csv", "application/xml", "application/octet-stream", "multipart/form-data; boundary=x",
        "application/jsonx", "application/json-seq", "application/x-json", "json", "application/javascript", "image/png", "*/*",
        "application/*", "text/plain; charset=application/json", "application/csp-report", "application/vnd.api+jsonx", "application/x-www-form-urlencodedx",
      ),
      fc.tuple(token, token, fc.constantFrom("", "; charset=utf-8", "; x=application/json"))
        .filter(([t, s]) => !(t === "application" && (s === "json" || s.endsWith("+json") || s === "x-www-form-urlencoded")))
        .map(([t, s, p]) => `${t}/${s}${p}`),
    );
    await fc.assert(
      fc.asyncProperty(routeArb, type, async (route, contentType) => {
        const context = `${route.name} as ${contentType}`;
        const error = await errorOf(await send(route, JSON.stringify(route.body()), contentType), context);
        expect([error.error], context).toEqual(["UNSUPPORTED_MEDIA_TYPE"]);
      }),
      { numRuns: 150, seed: 0x7a0e000c },
    );
    // A form-encoded body is JSON only when it is a JSON object (curl -d): anything else is 415 too.
    const form = fc.oneof(fc.webQueryParameters(), fc.constantFrom("symbol=AAPL&quantity=1", "[1]", '"x"', "1", "true"));
    await fc.assert(
      fc.asyncProperty(routeArb, form, async (route, text) => {
        // An empty body is not a wrong type (it is a missing body: VALIDATION_ERROR); a JSON object is curl's way.
        if (text === "" || text.trimStart().startsWith("{")) return;
        const error = await errorOf(await send(route, text, "application/x-www-form-urlencoded"), `${route.name} form ${show(text)}`);
        expect(error.error).toBe("UNSUPPORTED_MEDIA_TYPE");
      }),
      { numRuns: 60, seed: 0x7a0e000d },
    );
    expect(await bodyState()).toEqual(before);
    await expectNobodyTouched("content types");
  }, TIMEOUT);

  it("answers malformed JSON with 400 MALFORMED_JSON on every JSON route (also under curl's form type), and writes nothing", async () => {
    const before = await bodyState();
    const jsonRoutes = fc.constantFrom(...ROUTES.filter((r) => r.name !== "cancel"));
    const corruption = fc.oneof(
      fc.nat().map((n) => ({ how: "truncate" as const, n })),
      fc.tuple(fc.nat(), fc.constantFrom("{", "}", "[", "]", ",", ":", '"', "\\", "'", "x", "0", " ", "\u0000", "NaN")).map(([n, ch]) => ({ how: "insert" as const, n, ch })),
      fc.nat().map((n) => ({ how: "delete" as const, n })),
    );
    await fc.assert(
      fc.asyncProperty(jsonRoutes, corruption, fc.constantFrom("application/json", "application/x-www-form-urlencoded"), async (route, c, contentType) => {
        const good = JSON.stringify(route.body());
        const at = 1 + (c.n % (good.length - 1));
        const text = c.how === "truncate" ? good.slice(0, at) : c.how === "insert" ? good.slice(0, at) + c.ch + good.slice(at) : good.slice(0, at) + good.slice(at + 1);
        if (parses(text)) return;
        const context = `${route.name} ${contentType} ${show(text)}`;
        const error = await errorOf(await send(route, text, contentType), context);
        expect(error.error, context).toBe("MALFORMED_JSON");
      }),
      { numRuns: 200, seed: 0x7a0e000e },
    );
    expect(await bodyState()).toEqual(before);
    await expectNobodyTouched("malformed JSON");
  }, TIMEOUT);
});
