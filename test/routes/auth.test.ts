// Who may call what: every token defect answers 401 before anything runs, and a valid token whose role
// may not do a thing answers 403. Tokens are built by hand or signed with jose, never stubbed.
import { env } from "cloudflare:workers";
import { base64url, SignJWT, type JWTPayload } from "jose";
import { describe, expect, it } from "vitest";
import { adminToken, call, eventually, json, newInstrument, newTrader, setFaults, submit, untilStatus, type Trader } from "../helpers/api";
import { sign } from "../helpers/auth";
import { upgrade } from "../helpers/ws";

const secret = () => new TextEncoder().encode(env.JWT_SECRET);
const inOneHour = () => Math.floor(Date.now() / 1000) + 3600;
const anHourAgo = () => Math.floor(Date.now() / 1000) - 3600;

/** A token with exactly these claims, HS256-signed with `key` (the Worker's secret unless given). */
function craft(claims: JWTPayload, key: Uint8Array = secret(), alg = "HS256"): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg, typ: "JWT" }).sign(key);
}

/** header.payload. with alg "none": no signature at all. */
function unsigned(claims: JWTPayload): string {
  const part = (o: object) => base64url.encode(JSON.stringify(o));
  return `${part({ alg: "none", typ: "JWT" })}.${part(claims)}.`;
}

const order = { symbol: "AAPL", quantity: 1, order_type: "MARKET" };

async function expectError(res: Response, status: number, code: string): Promise<void> {
  const text = await res.text();
  expect(res.status, text).toBe(status);
  const body = JSON.parse(text) as { error: string; message: string };
  expect(body.error, text).toBe(code);
  expect(body.message.length).toBeGreaterThan(0);
}

async function d1Orders(traderId: string): Promise<number> {
  return (await env.DB.prepare("SELECT COUNT(*) AS n FROM orders WHERE trader_id = ?").bind(traderId).first<{ n: number }>())?.n ?? 0;
}

/** The trader's own (valid) token still shows an empty book: the refused call reached nothing. */
async function expectNoOrders(trader: Trader): Promise<void> {
  expect(await json(await call("/api/v1/orders", { token: trader.token }))).toEqual({ data: [], next_cursor: null });
  expect(await d1Orders(trader.id)).toBe(0);
  expect(await json(await call("/api/v1/account", { token: trader.token }))).toMatchObject({ cash: 1000, reserved: 0 });
}

describe("401 UNAUTHORIZED", () => {
  it("refuses every protected route without an Authorization header", async () => {
    const routes: [string, string, unknown][] = [
      ["GET", "/api/v1/orders", undefined],
      ["POST", "/api/v1/orders", order],
      ["GET", "/api/v1/orders/ord_x", undefined],
      ["POST", "/api/v1/orders/ord_x/cancel", undefined],
      ["GET", "/api/v1/orders/ord_x/audit", undefined],
      ["GET", "/api/v1/account", undefined],
      ["GET", "/api/v1/instruments", undefined],
      ["PUT", "/api/v1/admin/accounts/someone", { cash: 1 }],
      ["PUT", "/api/v1/admin/instruments/AAPL", { price: 1 }],
      ["PUT", "/api/v1/admin/instruments/AAPL/faults", {}],
    ];
    for (const [method, path, body] of routes) await expectError(await call(path, { method, body }), 401, "UNAUTHORIZED");
  });

  it("refuses a token sent without the Bearer scheme", async () => {
    const trader = await newTrader(1000);
    for (const value of [trader.token, `Basic ${trader.token}`, `Token ${trader.token}`, "Bearer"]) {
      await expectError(await call("/api/v1/account", { headers: { Authorization: value } }), 401, "UNAUTHORIZED");
    }
  });

  it("accepts the same claims when properly signed (control for the refusals below)", async () => {
    const trader = await newTrader(1000);
    const token = await craft({ sub: trader.id, role: "trader", exp: inOneHour() });
    const res = await call("/api/v1/account", { token });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ trader_id: trader.id, cash: 1000 });
  });

  const defects: { name: string; token: (sub: string) => Promise<string> | string }[] = [
    { name: "a garbage token", token: () => "not-a-jwt" },
    { name: "three base64 parts that are not a JWT", token: () => "e30.e30.e30" },
    { name: 'a token with alg "none" and no signature', token: (sub) => unsigned({ sub, role: "trader", exp: inOneHour() }) },
    { name: 'an "admin" alg-none token', token: (sub) => unsigned({ sub, role: "admin", exp: inOneHour() }) },
    { name: "a token signed with another secret", token: (sub) => craft({ sub, role: "trader", exp: inOneHour() }, new TextEncoder().encode("some-other-secret-0123456789abcdef")) },
    { name: "a token signed with HS512 instead of HS256", token: (sub) => craft({ sub, role: "trader", exp: inOneHour() }, secret(), "HS512") },
    { name: "an expired token", token: (sub) => craft({ sub, role: "trader", exp: anHourAgo() }) },
    { name: "a token without exp", token: (sub) => craft({ sub, role: "trader" }) },
    { name: "a token not valid yet (nbf in the future)", token: (sub) => craft({ sub, role: "trader", nbf: inOneHour(), exp: inOneHour() + 3600 }) },
    { name: "a token without sub", token: () => craft({ role: "trader", exp: inOneHour() }) },
    { name: "a token with an empty sub", token: () => craft({ sub: "", role: "trader", exp: inOneHour() }) },
    { name: "a token whose sub is longer than 128 characters", token: () => craft({ sub: "s".repeat(129), role: "trader", exp: inOneHour() }) },
    { name: "a token with an unknown role", token: (sub) => craft({ sub, role: "superuser", exp: inOneHour() }) },
    { name: "a token whose role is not a string", token: (sub) => craft({ sub, role: ["trader"], exp: inOneHour() }) },
    {
      name: "a token whose payload was edited after signing",
      token: async (sub) => {
        const [header, , signature] = (await craft({ sub, role: "trader", exp: inOneHour() })).split(".");
        return `${header}.${base64url.encode(JSON.stringify({ sub, role: "trader", exp: inOneHour() + 99_999 }))}.${signature}`;
      },
    },
  ];

  it.each(defects)("refuses $name, and the refused submit writes nothing", async ({ token }) => {
    const trader = await newTrader(1000);
    const bad = await token(trader.id);
    await expectError(await call("/api/v1/account", { token: bad }), 401, "UNAUTHORIZED");
    await expectError(await submit({ id: trader.id, token: bad }, order), 401, "UNAUTHORIZED");
    await expectNoOrders(trader);
  });

  it("refuses an admin token whose role claim was edited from trader to admin", async () => {
    const trader = await newTrader(1000);
    const [header, , signature] = (await sign(trader.id, "trader")).split(".");
    const forged = `${header}.${base64url.encode(JSON.stringify({ sub: trader.id, role: "admin", exp: inOneHour() }))}.${signature}`;
    const target = `x-${crypto.randomUUID().slice(0, 8)}`;
    await expectError(await call(`/api/v1/admin/accounts/${target}`, { method: "PUT", token: forged, body: { cash: 1e9 } }), 401, "UNAUTHORIZED");
    // The real admin can still open that account: the forged call created nothing.
    expect((await call(`/api/v1/admin/accounts/${target}`, { method: "PUT", token: await adminToken(), body: { cash: 1 } })).status).toBe(201);
  });

  it("refuses a bad token on the WebSocket with 401 before any upgrade", async () => {
    const trader = await newTrader(1000);
    const expired = await craft({ sub: trader.id, role: "trader", exp: anHourAgo() });
    for (const token of ["garbage", unsigned({ sub: trader.id, exp: inOneHour() }), expired]) {
      const res = await upgrade(new URLSearchParams({ token }).toString());
      expect(res.webSocket).toBeNull();
      await expectError(res, 401, "UNAUTHORIZED");
    }
  });
});

describe("403 FORBIDDEN: a valid token whose role may not do this", () => {
  it("refuses a trader token on every admin route, and nothing is created or changed", async () => {
    const trader = await newTrader(1000);
    const target = `x-${crypto.randomUUID().slice(0, 8)}`;
    await expectError(await call(`/api/v1/admin/accounts/${target}`, { method: "PUT", token: trader.token, body: { cash: 1e9 } }), 403, "FORBIDDEN");
    expect((await call(`/api/v1/admin/accounts/${target}`, { method: "PUT", token: await adminToken(), body: { cash: 1 } })).status).toBe(201);

    const symbol = `N${crypto.randomUUID().replace(/-/g, "").slice(0, 8).toUpperCase()}`;
    await expectError(await call(`/api/v1/admin/instruments/${symbol}`, { method: "PUT", token: trader.token, body: { price: 10 } }), 403, "FORBIDDEN");
    // The venue never heard of it: setting its faults answers 404 NOT_FOUND.
    const faults = await setFaults(symbol, {});
    expect(faults.status).toBe(404);
    expect(await faults.json()).toMatchObject({ error: "NOT_FOUND" });

    const mine = await newInstrument(10);
    await expectError(await call(`/api/v1/admin/instruments/${mine}/faults`, { method: "PUT", token: trader.token, body: { error_rate: 1 } }), 403, "FORBIDDEN");
    await expectError(await call(`/api/v1/admin/instruments/${mine}`, { method: "PUT", token: trader.token, body: { price: 1 } }), 403, "FORBIDDEN");
    // Neither the fault nor the price took effect: an order fills at the original price.
    const res = await submit(trader, { symbol: mine, quantity: 1, order_type: "MARKET" });
    expect(res.status).toBe(201);
    const filled = await untilStatus(trader, (await json<{ id: string }>(res)).id, "FILLED");
    expect(filled.avg_fill_price).toBe(10);
  });

  it("refuses a compliance token on POST /api/v1/orders, even with a trader's sub, and writes nothing", async () => {
    const trader = await newTrader(1000);
    const compliance = await sign(trader.id, "compliance");
    await expectError(await submit({ id: trader.id, token: compliance }, order), 403, "FORBIDDEN");
    await expectNoOrders(trader);
  });

  it("refuses an admin token on POST /api/v1/orders and writes nothing", async () => {
    const trader = await newTrader(1000);
    await expectError(await submit({ id: trader.id, token: await sign(trader.id, "admin") }, order), 403, "FORBIDDEN");
    await expectNoOrders(trader);
  });

  it("refuses admin and compliance tokens on GET /api/v1/account", async () => {
    const trader = await newTrader(1000);
    await expectError(await call("/api/v1/account", { token: await sign(trader.id, "admin") }), 403, "FORBIDDEN");
    await expectError(await call("/api/v1/account", { token: await sign(trader.id, "compliance") }), 403, "FORBIDDEN");
  });

  it("refuses a compliance token on the trader's order events socket", async () => {
    const res = await upgrade(new URLSearchParams({ token: await sign("alice", "compliance") }).toString());
    expect(res.webSocket).toBeNull();
    await expectError(res, 403, "FORBIDDEN");
  });

  it("lets compliance read any trader's audit trail, and admin and compliance list instruments", async () => {
    const trader = await newTrader(1000);
    const res = await submit(trader, order);
    expect(res.status).toBe(201);
    const { id } = await json<{ id: string }>(res);
    await untilStatus(trader, id, "FILLED");
    const compliance = await sign(`officer-${crypto.randomUUID().slice(0, 8)}`, "compliance");
    // Compliance reads D1, which the desk's outbox fills in the background.
    const trail = await eventually(
      async () => json<{ data: { action: string; trader_id: string }[]; total: number }>(await call(`/api/v1/orders/${id}/audit`, { token: compliance })),
      (t) => t.total === 4,
    );
    expect(trail.data.map((a) => a.action)).toEqual(["SUBMITTED", "APPROVED", "EXECUTED", "FILLED"]);
    expect(trail.data.every((a) => a.trader_id === trader.id)).toBe(true);

    for (const token of [compliance, await adminToken()]) {
      const list = await call("/api/v1/instruments", { token });
      expect(list.status).toBe(200);
      expect((await json<{ data: { symbol: string }[] }>(list)).data.map((i) => i.symbol)).toContain("AAPL");
    }
  });
});

describe("a token without a role claim", () => {
  it("acts as a trader: reads its account and submits an order", async () => {
    const trader = await newTrader(1000);
    const token = await craft({ sub: trader.id, exp: inOneHour() });
    const account = await call("/api/v1/account", { token });
    expect(account.status).toBe(200);
    expect(await account.json()).toMatchObject({ trader_id: trader.id, cash: 1000 });

    const res = await submit({ id: trader.id, token }, order);
    expect(res.status, await res.clone().text()).toBe(201);
    const { id } = await json<{ id: string; trader_id: string }>(res);
    await untilStatus(trader, id, "FILLED");
    await expectError(await call(`/api/v1/admin/accounts/x-${crypto.randomUUID().slice(0, 8)}`, { method: "PUT", token, body: { cash: 1 } }), 403, "FORBIDDEN");
  });
});
