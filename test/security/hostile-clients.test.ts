// Hostile clients: tokens that try algorithm confusion, look-alike subjects, a trader on drill routes,
// WebSockets that flood or send garbage, a burst past the per-trader rate limit, the dev-only routes on a
// desk where they are off, and the security headers every response and the page carry. The plain token
// defects (alg none, wrong secret, HS512, expired, nbf, missing claims, edited payload) are in
// test/routes/auth.test.ts and another trader's ids in test/routes/isolation.test.ts; not repeated here.
import { env } from "cloudflare:workers";
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { base64url, exportJWK, exportSPKI, generateKeyPair, SignJWT, type JWTPayload } from "jose";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import worker from "../../worker/index";
import { adminToken, call, eventually, json, newInstrument, newTrader, submit, untilStatus, type Trader } from "../helpers/api";
import { sign } from "../helpers/auth";
import { closeAll, connect, upgrade, type TestSocket } from "../helpers/socket";
import type { Order } from "../../worker/shared/orders";

afterEach(closeAll);

const secret = () => new TextEncoder().encode(env.JWT_SECRET);
const inOneHour = () => Math.floor(Date.now() / 1000) + 3600;

interface ErrorBody {
  error: string;
  message: string;
  details: Record<string, unknown>;
}

/** Status and code, with the SPEC's full error shape {error, message, details}. */
async function expectError(res: Response, status: number, code: string): Promise<ErrorBody> {
  const text = await res.text();
  expect(res.status, text).toBe(status);
  expect(res.headers.get("Content-Type") ?? "", text).toMatch(/^application\/json/);
  const body = JSON.parse(text) as ErrorBody;
  expect(body.error, text).toBe(code);
  expect(typeof body.message === "string" && body.message.length > 0, text).toBe(true);
  expect(typeof body.details === "object" && body.details !== null && !Array.isArray(body.details), `details must be an object: ${text}`).toBe(true);
  return body;
}

/** The trader's book and money, read with its own valid token and straight from D1. */
async function stateOf(trader: Trader): Promise<unknown> {
  // D1 is written by the desk's outbox a moment after each change: compare only settled states.
  const desk = env.TRADER.get(env.TRADER.idFromName(trader.id));
  await eventually(() => desk.pendingOutbox(), (n) => n === 0);
  return {
    orders: ((await json<{ data: Order[] }>(await call("/api/v1/orders?limit=500", { token: trader.token }))).data).map((o) => [o.id, o.status]),
    account: await json(await call("/api/v1/account", { token: trader.token })),
    d1: await env.DB.prepare("SELECT cash_cents, reserved_cents FROM accounts WHERE trader_id = ?").bind(trader.id).first(),
  };
}

/** A JWS made by hand (jose refuses to sign odd headers): HMAC-SHA256 with the Worker's secret over any header. */
async function hmacToken(header: Record<string, unknown>, claims: JWTPayload): Promise<string> {
  const part = (o: object) => base64url.encode(JSON.stringify(o));
  const input = `${part(header)}.${part(claims)}`;
  const key = await crypto.subtle.importKey("raw", secret(), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const signature = new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(input)));
  return `${input}.${base64url.encode(signature)}`;
}

const pongs = (s: TestSocket) => s.messages.filter((m) => m.type === "pong").length;
const errorsOf = (s: TestSocket) => s.messages.filter((m) => m.type === "error").length;

/** A ping that is not the exact auto-response text, so the desk itself handles (and counts) it. */
const COUNTED_PING = '{ "type": "ping" }';

/** Waits until the socket has seen `n` pongs in all: every message sent before the last ping was handled. */
async function syncPongs(s: TestSocket, n: number): Promise<void> {
  await s.until(() => pongs(s) >= n);
}

// ---------------------------------------------------------------- tokens

describe("algorithm confusion and signing tricks", () => {
  let trader: Trader;
  let before: unknown;
  beforeAll(async () => {
    trader = await newTrader(1_000);
    before = await stateOf(trader);
  });

  const claims = (sub: string, role = "trader"): JWTPayload => ({ sub, role, exp: inOneHour() });

  /** Refused everywhere a token is read: the API (as trader and as admin) and the WebSocket upgrade. */
  async function expectRefused(token: string): Promise<void> {
    await expectError(await call("/api/v1/account", { token }), 401, "UNAUTHORIZED");
    await expectError(await submit({ id: trader.id, token }, { symbol: "AAPL", quantity: 1, order_type: "MARKET" }), 401, "UNAUTHORIZED");
    await expectError(await call(`/api/v1/admin/accounts/x-${crypto.randomUUID().slice(0, 8)}`, { method: "PUT", token, body: { cash: 1 } }), 401, "UNAUTHORIZED");
    const ws = await upgrade({ token });
    expect(ws.webSocket).toBeNull();
    await expectError(ws, 401, "UNAUTHORIZED");
    expect(await stateOf(trader)).toEqual(before);
  }

  it("accepts the same claims HS256-signed with the real secret (control)", async () => {
    const token = await new SignJWT(claims(trader.id)).setProtectedHeader({ alg: "HS256", typ: "JWT" }).sign(secret());
    expect((await call("/api/v1/account", { token })).status).toBe(200);
  });

  it.each(["RS256", "PS256", "ES256", "EdDSA"])("refuses a token signed %s with a key pair of the caller's own (no JWKS configured)", async (alg) => {
    const { privateKey } = await generateKeyPair(alg, { extractable: true });
    await expectRefused(await new SignJWT(claims(trader.id)).setProtectedHeader({ alg, typ: "JWT" }).sign(privateKey));
  });

  it("refuses an RS256 token that carries its own public key in the header (embedded jwk), or points at one (jku, x5u)", async () => {
    const { privateKey, publicKey } = await generateKeyPair("RS256", { extractable: true });
    const jwk = await exportJWK(publicKey);
    for (const header of [{ jwk }, { jku: "https://attacker.example/jwks.json", kid: "k1" }, { x5u: "https://attacker.example/cert.pem" }]) {
      await expectRefused(await new SignJWT(claims(trader.id, "admin")).setProtectedHeader({ alg: "RS256", typ: "JWT", ...header }).sign(privateKey));
    }
  });

  it("refuses HS256 tokens whose HMAC secret is a public key's text (PEM or JWK), the classic RS256-to-HS256 confusion", async () => {
    const { publicKey } = await generateKeyPair("RS256", { extractable: true });
    const texts = [await exportSPKI(publicKey), JSON.stringify(await exportJWK(publicKey)), JSON.stringify({ keys: [await exportJWK(publicKey)] })];
    for (const text of texts) {
      await expectRefused(await new SignJWT(claims(trader.id, "admin")).setProtectedHeader({ alg: "HS256", typ: "JWT" }).sign(new TextEncoder().encode(text)));
    }
  });

  it("refuses HS384 even with the real secret: only HS256 is accepted", async () => {
    await expectRefused(await new SignJWT(claims(trader.id)).setProtectedHeader({ alg: "HS384", typ: "JWT" }).sign(secret()));
  });

  it("accepts a hand-made HMAC-SHA256 token with a plain header (control for the hand-made tokens below)", async () => {
    expect((await call("/api/v1/account", { token: await hmacToken({ alg: "HS256", typ: "JWT" }, claims(trader.id)) })).status).toBe(200);
  });

  it("refuses a token with a critical header extension it does not understand, even with the real secret (RFC 7515 crit)", async () => {
    await expectRefused(await hmacToken({ alg: "HS256", typ: "JWT", crit: ["x-fillwire-bypass"], "x-fillwire-bypass": true }, claims(trader.id)));
  });

  it("refuses a real HMAC-SHA256 signature under a header whose alg is not exactly HS256", async () => {
    for (const alg of ["none", "hs256", "Hs256", "HS256 ", "HS256\u0000", "HMAC-SHA256", ""]) {
      await expectRefused(await hmacToken({ alg, typ: "JWT" }, claims(trader.id)));
    }
  });
});

describe("not-yet-valid tokens on the WebSocket", () => {
  it("refuses a token with nbf in the future on the upgrade (401, no socket) and on the auth-message flow (closed, no events)", async () => {
    const trader = await newTrader(1_000);
    const early = await new SignJWT({ sub: trader.id, role: "trader", nbf: inOneHour(), exp: inOneHour() + 3600 })
      .setProtectedHeader({ alg: "HS256", typ: "JWT" })
      .sign(secret());
    const res = await upgrade({ token: early });
    expect(res.webSocket).toBeNull();
    await expectError(res, 401, "UNAUTHORIZED");

    const socket = await connect({});
    socket.send({ type: "auth", token: early });
    const closed = await socket.untilClosed();
    expect(closed.code).not.toBe(1000);
    expect(socket.messages).toEqual([expect.objectContaining({ type: "error", error: "UNAUTHORIZED" })]);
  });
});

describe("a subject that only looks like an existing trader", () => {
  let victim: Trader;
  let symbol: string;
  let order: Order;
  let before: unknown;
  beforeAll(async () => {
    victim = await newTrader(5_000, [], "case");
    symbol = await newInstrument(10);
    const placed = await submit(victim, { symbol, quantity: 2, order_type: "LIMIT", price: 9.5, time_in_force: "GTC" });
    expect(placed.status).toBe(201);
    order = await json<Order>(placed);
    before = await stateOf(victim);
  });

  const fullwidth = (id: string) => [...id].map((c) => (c >= "!" && c <= "~" ? String.fromCharCode(c.charCodeAt(0) + 0xfee0) : c)).join("");
  const lookalikes: [string, (id: string) => string][] = [
    ["upper case", (id) => id.toUpperCase()],
    ["a capital first letter", (id) => id[0]!.toUpperCase() + id.slice(1)],
    ["a leading space", (id) => ` ${id}`],
    ["a trailing tab", (id) => `${id}\t`],
    ["a zero-width space", (id) => `${id}\u200b`],
    ["a NUL", (id) => `${id}\u0000`],
    ["fullwidth letters", fullwidth],
    ["a Cyrillic look-alike letter", (id) => id.replace("c", "\u0441")],
  ];

  it.each(lookalikes)("a sub with %s gets its own empty identity (or 401), never the trader's data or a 5xx", async (_name, transform) => {
    const sub = transform(victim.id);
    const who = { id: sub, token: await sign(sub) };
    const watcher = await connect({ token: victim.token });
    await watcher.next((m) => m.type === "connection_acknowledged");

    // Subs must be 1-128 printable ASCII characters without spaces: anything else is refused outright.
    if (!/^[\x21-\x7e]{1,128}$/.test(sub)) {
      await expectError(await upgrade({ token: who.token }), 401, "UNAUTHORIZED");
      await expectError(await call("/api/v1/account", { token: who.token }), 401, "UNAUTHORIZED");
      await expectError(await call(`/api/v1/orders/${order.id}`, { token: who.token }), 401, "UNAUTHORIZED");
      await expectError(await submit(who, { symbol, quantity: 1, order_type: "LIMIT", price: 9.5, time_in_force: "GTC" }), 401, "UNAUTHORIZED");
      expect(await stateOf(victim)).toEqual(before);
      expect(watcher.events()).toEqual([]);
      return;
    }

    // The socket first, on a desk nothing has touched yet: it must belong to the token's sub.
    const res = await upgrade({ token: who.token, since: 0 });
    expect(res.status, `upgrade for ${JSON.stringify(sub)}: ${res.status === 101 ? "" : await res.clone().text()}`).toBe(101);
    res.webSocket!.accept();
    const received: unknown[] = [];
    res.webSocket!.addEventListener("message", (e) => received.push(JSON.parse(String(e.data))));
    await eventuallyTrue(() => received.length >= 2);
    expect(received).toEqual([
      { type: "connection_acknowledged", seq: 0, trader_id: sub },
      { type: "replay_complete", seq: 0, replayed: 0 },
    ]);
    res.webSocket!.close(1000, "done");

    await expectError(await call("/api/v1/account", { token: who.token }), 404, "ACCOUNT_NOT_FOUND");
    expect(await json(await call("/api/v1/orders", { token: who.token }))).toEqual({ data: [], next_cursor: null });
    await expectError(await call(`/api/v1/orders/${order.id}`, { token: who.token }), 404, "ORDER_NOT_FOUND");
    await expectError(await call(`/api/v1/orders/${order.id}/audit`, { token: who.token }), 404, "ORDER_NOT_FOUND");
    await expectError(await call(`/api/v1/orders/${order.id}/cancel`, { method: "POST", token: who.token }), 404, "ORDER_NOT_FOUND");
    // Cannot trade on the trader's cash either.
    await expectError(await submit(who, { symbol, quantity: 1, order_type: "LIMIT", price: 9.5, time_in_force: "GTC" }), 404, "ACCOUNT_NOT_FOUND");
    // And the socket again, now that the API has used this desk.
    const again = await upgrade({ token: who.token });
    expect(again.status, `second upgrade for ${JSON.stringify(sub)}: ${again.status === 101 ? "" : await again.clone().text()}`).toBe(101);
    again.webSocket?.accept();
    again.webSocket?.close(1000, "done");

    expect(await stateOf(victim)).toEqual(before);
    expect(watcher.events()).toEqual([]);
  });
});

async function eventuallyTrue(done: () => boolean, ms = 5000): Promise<void> {
  const until = Date.now() + ms;
  while (!done()) {
    if (Date.now() > until) throw new Error(`condition not reached in ${ms} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

// ---------------------------------------------------------------- roles and dev-only routes

/** Calls the app with `overrides` on its environment, as a deployed desk with different vars would run. */
async function withEnv(overrides: Partial<Record<"DEV_LOGIN" | "CHAOS_DRILLS", string | undefined>>, request: Request): Promise<Response> {
  const ctx = createExecutionContext();
  const res = await worker.fetch(request, { ...env, ...overrides }, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

function req(method: string, path: string, token?: string, body?: unknown): Request {
  const headers = new Headers();
  if (token) headers.set("Authorization", `Bearer ${token}`);
  if (body !== undefined) headers.set("Content-Type", "application/json");
  return new Request(`http://fillwire.test${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
}

describe("role claims a client forges, and the drill routes", () => {
  it("refuses role claims that only look like admin or compliance (401), and admin-ish extra claims on a trader token (403)", async () => {
    const trader = await newTrader(1_000);
    const routes: [string, string, unknown][] = [
      ["GET", "/api/v1/compliance/executions", undefined],
      ["GET", "/api/v1/compliance/audit/verify", undefined],
      ["PUT", `/api/v1/admin/accounts/x-${crypto.randomUUID().slice(0, 8)}`, { cash: 1e9 }],
      ["PUT", "/api/v1/admin/instruments/AAPL", { price: 1 }],
    ];
    for (const role of ["Admin", "ADMIN", " admin", "admin\u0000", "compliance ", "ａｄｍｉｎ"]) {
      const token = await new SignJWT({ sub: trader.id, role, exp: inOneHour() }).setProtectedHeader({ alg: "HS256" }).sign(secret());
      for (const [method, path, body] of routes) await expectError(await call(path, { method, token, body }), 401, "UNAUTHORIZED");
    }
    const extras = { role: "trader", admin: true, roles: ["admin", "compliance"], scope: "admin compliance", "https://fillwire/role": "admin", is_admin: 1 };
    const token = await new SignJWT({ sub: trader.id, exp: inOneHour(), ...extras }).setProtectedHeader({ alg: "HS256" }).sign(secret());
    for (const [method, path, body] of routes) await expectError(await call(path, { method, token, body }), 403, "FORBIDDEN");
    // Nothing took effect: AAPL still trades at 150.
    const res = await submit(trader, { symbol: "AAPL", quantity: 1, order_type: "MARKET" });
    expect(res.status).toBe(201);
    expect((await untilStatus(trader, (await json<Order>(res)).id, "FILLED")).avg_fill_price).toBe(150);
  });

  it("refuses a trader and a compliance officer on every drill route with 403 when drills are on, and nothing happens", async () => {
    const victim = await newTrader(1_000);
    const symbol = await newInstrument(10);
    const socket = await connect({ token: victim.token });
    await socket.next((m) => m.type === "connection_acknowledged");
    const drillRoutes: [string, string, unknown][] = [
      ["PUT", "/api/v1/admin/drills/d1-outage", { seconds: 600 }],
      ["POST", `/api/v1/admin/drills/desks/${victim.id}/restart`, undefined],
      ["GET", `/api/v1/admin/drills/venue/${symbol}/orders`, undefined],
    ];
    for (const token of [victim.token, await sign("officer", "compliance")]) {
      for (const [method, path, body] of drillRoutes) {
        await expectError(await withEnv({ CHAOS_DRILLS: "true" }, req(method, path, token, body)), 403, "FORBIDDEN");
      }
    }
    for (const [method, path, body] of drillRoutes) await expectError(await withEnv({ CHAOS_DRILLS: "true" }, req(method, path, undefined, body)), 401, "UNAUTHORIZED");
    // No outage switch was installed, the desk was not restarted (its socket is open and answers).
    expect((await env.DB.prepare("SELECT name FROM sqlite_master WHERE name LIKE '_drill%'").all()).results).toEqual([]);
    socket.send(COUNTED_PING);
    await socket.next((m) => m.type === "pong");
    expect(socket.closed).toBeNull();
    // Control: the admin reaches the same (read-only) drill route while drills are on.
    const ledger = await withEnv({ CHAOS_DRILLS: "true" }, req("GET", `/api/v1/admin/drills/venue/${symbol}/orders`, await adminToken()));
    expect(ledger.status).toBe(200);
  });
});

describe("dev-only routes on a desk where they are off", () => {
  const OFF = [undefined, "false", "", "TRUE", "1", "yes", " true"];

  it("answers /api/v1/dev/login with 404 NOT_FOUND in the error shape, and signs nothing, unless DEV_LOGIN is exactly \"true\"", async () => {
    for (const value of OFF) {
      for (const request of [req("GET", "/api/v1/dev/login"), req("POST", "/api/v1/dev/login", undefined, { sub: "root", role: "admin" })]) {
        const res = await withEnv({ DEV_LOGIN: value }, request);
        const body = await expectError(res, 404, "NOT_FOUND");
        expect(JSON.stringify(body), `DEV_LOGIN=${JSON.stringify(value)}`).not.toMatch(/token|alice|users/);
      }
    }
    // Control: the same requests work when the var is on.
    const on = await withEnv({ DEV_LOGIN: "true" }, req("POST", "/api/v1/dev/login", undefined, { sub: "alice" }));
    expect(on.status).toBe(200);
    expect(await on.json()).toMatchObject({ sub: "alice", role: "trader", token: expect.any(String) });
  });

  it("answers every drill route with 404 NOT_FOUND, even for the admin and before any auth, unless CHAOS_DRILLS is exactly \"true\"", async () => {
    const admin = await adminToken();
    const trader = await newTrader(1_000);
    for (const value of OFF) {
      for (const token of [admin, undefined]) {
        for (const [method, path, body] of [
          ["PUT", "/api/v1/admin/drills/d1-outage", { seconds: 600 }],
          ["POST", `/api/v1/admin/drills/desks/${trader.id}/restart`, undefined],
          ["GET", "/api/v1/admin/drills/venue/AAPL/orders", undefined],
        ] as const) {
          await expectError(await withEnv({ CHAOS_DRILLS: value }, req(method, path, token, body)), 404, "NOT_FOUND");
        }
      }
    }
    expect((await env.DB.prepare("SELECT name FROM sqlite_master WHERE name LIKE '_drill%'").all()).results).toEqual([]);
    const res = await submit(trader, { symbol: "AAPL", quantity: 1, order_type: "MARKET" });
    expect(res.status).toBe(201);
    await untilStatus(trader, (await json<Order>(res)).id, "FILLED");
  });
});

// ---------------------------------------------------------------- WebSockets

describe("a WebSocket that floods or sends garbage", () => {
  it("closes a socket that sends more than 100 messages in 10 s with 1008, while another socket of the same trader keeps its events", async () => {
    const trader = await newTrader(1_000);
    const flooder = await connect({ token: trader.token });
    const calm = await connect({ token: trader.token });
    await flooder.next((m) => m.type === "connection_acknowledged");
    await calm.next((m) => m.type === "connection_acknowledged");

    for (let i = 0; i < 150; i++) flooder.send(COUNTED_PING);
    const closed = await flooder.untilClosed();
    expect(closed.code).toBe(1008);
    expect(pongs(flooder)).toBe(100);

    calm.send(COUNTED_PING);
    await syncPongs(calm, 1);
    const res = await submit(trader, { symbol: "AAPL", quantity: 1, order_type: "MARKET" });
    expect(res.status).toBe(201);
    const { id } = await json<Order>(res);
    expect((await calm.untilEvent(id, "order.filled")).map((e) => e.event)).toEqual(["order.submitted", "order.accepted", "order.filled"]);
    expect(calm.closed).toBeNull();
    // The flood closed one socket, it did not ban the trader: a new socket works and replays what was missed.
    const again = await connect({ token: trader.token, since: 0 });
    const replay = await again.until((all) => all.some((m) => m.type === "replay_complete"));
    expect(replay.filter((m) => m.order_id === id).map((m) => m.event)).toEqual(["order.submitted", "order.accepted", "order.filled"]);
  });

  it("closes a flooding socket on the auth-message (relayed) flow too, and the trader's other socket is unharmed", async () => {
    const trader = await newTrader(1_000);
    const relayed = await connect({});
    relayed.send({ type: "auth", token: trader.token });
    await relayed.next((m) => m.type === "connection_acknowledged");
    const calm = await connect({ token: trader.token });
    await calm.next((m) => m.type === "connection_acknowledged");

    for (let i = 0; i < 150; i++) relayed.send("garbage that is not JSON");
    expect((await relayed.untilClosed()).code).toBe(1008);
    expect(errorsOf(relayed)).toBeLessThanOrEqual(100);

    const res = await submit(trader, { symbol: "AAPL", quantity: 1, order_type: "MARKET" });
    const { id } = await json<Order>(res);
    await calm.untilEvent(id, "order.filled");
    expect(calm.closed).toBeNull();
  });

  it("answers binary and garbage frames with error messages, ignores commands it does not have, and nothing they say changes state", async () => {
    const trader = await newTrader(1_000);
    const other = await newTrader(1_000);
    const symbol = await newInstrument(10);
    const placed = await submit(trader, { symbol, quantity: 2, order_type: "LIMIT", price: 9.5, time_in_force: "GTC" });
    expect(placed.status).toBe(201);
    const resting = await json<Order>(placed);
    const socket = await connect({ token: trader.token });
    await socket.next((m) => m.type === "connection_acknowledged");
    const before = await stateOf(trader);

    const encoder = new TextEncoder();
    const frames: { frame: string | ArrayBuffer; reply: "error" | "reject" | "pong" | "none" }[] = [
      { frame: new Uint8Array([0, 1, 2, 255, 254]).buffer, reply: "error" },
      { frame: encoder.encode('{"type":"ping"}').slice().buffer as ArrayBuffer, reply: "error" },
      { frame: new ArrayBuffer(0), reply: "error" },
      { frame: "", reply: "error" },
      { frame: "null", reply: "error" },
      { frame: "[]", reply: "error" },
      { frame: "{}", reply: "error" },
      { frame: "\u0000", reply: "error" },
      { frame: '{"type":"PING"}', reply: "error" },
      // Order commands without a request_id (and a submit without its order object) are refused, not run.
      { frame: JSON.stringify({ type: "cancel", order_id: resting.id }), reply: "reject" },
      { frame: JSON.stringify({ type: "submit", symbol, side: "BUY", quantity: 1, order_type: "MARKET" }), reply: "reject" },
      { frame: JSON.stringify({ type: "subscribe", trader_id: other.id }), reply: "error" },
      { frame: JSON.stringify({ type: "replay", since: 0, trader_id: other.id }), reply: "error" },
      // The largest messages read; one byte more closes the socket 1009 (test/routes/socket-bounds.test.ts).
      { frame: "x".repeat(16 * 1024), reply: "error" },
      { frame: "[".repeat(16 * 1024), reply: "error" },
      { frame: "[".repeat(5_000) + "]".repeat(5_000), reply: "error" },
      { frame: '{"type":"ping","__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}', reply: "pong" },
      // An authenticated socket cannot switch identity with a second auth message: it is ignored.
      { frame: JSON.stringify({ type: "auth", token: other.token }), reply: "none" },
      { frame: JSON.stringify({ type: "auth", token: "not-a-jwt" }), reply: "none" },
    ];
    for (const { frame } of frames) socket.ws.send(frame);
    const expectedPongs = frames.filter((f) => f.reply === "pong").length + 1;
    socket.send(COUNTED_PING);
    await syncPongs(socket, expectedPongs);
    expect(errorsOf(socket)).toBe(frames.filter((f) => f.reply === "error").length);
    const rejects = socket.messages.filter((m) => m.type === "reject");
    expect(rejects).toHaveLength(frames.filter((f) => f.reply === "reject").length);
    for (const r of rejects) expect(r).toMatchObject({ status: 400, error: "VALIDATION_ERROR", request_id: null });
    for (const m of socket.messages) expect(["connection_acknowledged", "error", "reject", "pong"], JSON.stringify(m)).toContain(m.type);
    expect(socket.closed).toBeNull();
    expect(await stateOf(trader)).toEqual(before);

    // The other trader's order events never reach this socket, even after its auth message.
    const theirs = await submit(other, { symbol, quantity: 1, order_type: "MARKET" });
    const theirOrder = await json<Order>(theirs);
    await untilStatus(other, theirOrder.id, "FILLED");
    socket.send(COUNTED_PING);
    await syncPongs(socket, expectedPongs + 1);
    const mine = await submit(trader, { symbol, quantity: 1, order_type: "MARKET" });
    const myOrder = await json<Order>(mine);
    await socket.untilEvent(myOrder.id, "order.filled");
    const seen = new Set(socket.events().map((e) => e.order_id));
    expect([...seen]).toEqual([myOrder.id]);
    expect(((await json<Order>(await call(`/api/v1/orders/${resting.id}`, { token: trader.token }))).status)).toBe("PENDING");
  });
});

// ---------------------------------------------------------------- rate limiting

describe("per-trader rate limiting", () => {
  it("answers a burst past RATE_LIMIT_BURST with 429 RATE_LIMITED and an honest Retry-After, writes nothing for those, and limits no one else", async () => {
    const burst = Number(env.RATE_LIMIT_BURST);
    const perSecond = Number(env.RATE_LIMIT_PER_SECOND);
    expect([burst, perSecond]).toEqual([200, 50]);
    const symbol = await newInstrument(1);
    const trader = await newTrader(1_000);
    const bystander = await newTrader(1_000);
    // A resting limit 5% under the price: each accepted order reserves $0.95 and never fills.
    const order = { symbol, quantity: 1, order_type: "LIMIT", price: 0.95, time_in_force: "GTC" };
    const sent = 2 * burst;
    const started = Date.now();
    const answers = await Promise.all(Array.from({ length: sent }, () => submit(trader, order)));
    const elapsed = (Date.now() - started) / 1000;

    const accepted = answers.filter((r) => r.status === 201);
    const limited = answers.filter((r) => r.status === 429);
    expect(accepted.length + limited.length, `statuses: ${[...new Set(answers.map((r) => r.status))]}`).toBe(sent);
    expect(limited.length).toBeGreaterThan(0);
    // Never more than the burst plus what the refill allows over the time the burst took.
    expect(accepted.length).toBeLessThanOrEqual(burst + Math.ceil(perSecond * elapsed) + 1);
    expect(accepted.length).toBeGreaterThanOrEqual(burst);

    let retryAfter = 0;
    for (const res of limited.slice(0, 20)) {
      const header = res.headers.get("Retry-After");
      expect(header).toMatch(/^[1-9]\d*$/);
      const body = await expectError(res, 429, "RATE_LIMITED");
      expect(body.details.retry_after_seconds).toBe(Number(header));
      expect(res.headers.get("X-Content-Type-Options")).toBe("nosniff");
      retryAfter = Math.max(retryAfter, Number(header));
    }
    expect(retryAfter).toBeLessThanOrEqual(Math.ceil(1 / perSecond) + 1);

    // Another trader is not limited at all.
    const theirs = await submit(bystander, order);
    expect(theirs.status).toBe(201);

    // The limited requests wrote nothing: the desk holds exactly the accepted orders and their reservations.
    const ids = await Promise.all(accepted.map(async (r) => (await json<Order>(r)).id));
    const list = await json<{ data: Order[] }>(await call("/api/v1/orders?limit=500", { token: trader.token }));
    expect(list.data.map((o) => o.id).sort()).toEqual(ids.sort());
    const account = await json<{ cash: number; reserved: number }>(await call("/api/v1/account", { token: trader.token }));
    expect(account).toMatchObject({ cash: 1_000, reserved: Math.round(accepted.length * 95) / 100 });

    // The advertised wait is honest: after it, the trader is served again.
    await new Promise((r) => setTimeout(r, retryAfter * 1000));
    const later = await submit(trader, order);
    expect(later.status, await later.clone().text()).toBe(201);
  }, 60_000);
});

// ---------------------------------------------------------------- security headers

function expectApiHeaders(res: Response, label: string): void {
  const h = res.headers;
  expect(h.get("X-Content-Type-Options"), label).toBe("nosniff");
  expect(h.get("X-Frame-Options") ?? "", label).toMatch(/^(DENY|SAMEORIGIN)$/);
  expect(h.get("Referrer-Policy"), label).toBe("no-referrer");
  expect(h.get("Strict-Transport-Security") ?? "", label).toMatch(/max-age=\d{7,}/);
  expect(h.get("Cross-Origin-Resource-Policy"), label).toBe("same-origin");
  expect(h.get("X-Permitted-Cross-Domain-Policies"), label).toBe("none");
  // No CORS grant to a foreign page that asks.
  expect(h.get("Access-Control-Allow-Origin"), label).toBeNull();
  expect(h.get("Access-Control-Allow-Credentials"), label).toBeNull();
}

describe("security headers", () => {
  it("sets the hardening headers on every kind of API response, success and error alike, and grants no CORS", async () => {
    const trader = await newTrader(1_000);
    const compliance = await sign("officer", "compliance");
    const origin = { Origin: "https://evil.example" };
    const responses: [string, Response][] = [
      ["health", await call("/api/v1/health", { headers: origin })],
      ["openapi", await call("/api/v1/openapi.json", { headers: origin })],
      ["list", await call("/api/v1/orders", { token: trader.token, headers: origin })],
      ["csv", await call("/api/v1/compliance/executions?format=csv", { token: compliance, headers: origin })],
      ["400", await submit(trader, { symbol: "AAPL", quantity: 0, order_type: "MARKET" })],
      ["401", await call("/api/v1/account", { headers: origin })],
      ["403", await call("/api/v1/compliance/executions", { token: trader.token, headers: origin })],
      ["404 route", await call("/api/v1/nope", { token: trader.token, headers: origin })],
      ["404 order", await call("/api/v1/orders/ord_missing", { token: trader.token, headers: origin })],
      ["413", await call("/api/v1/orders", { token: trader.token, body: { pad: "x".repeat(17 * 1024) } })],
      ["415", await call("/api/v1/orders", { token: trader.token, body: "{}", headers: { "Content-Type": "text/plain" } })],
      ["preflight", await call("/api/v1/orders", { method: "OPTIONS", headers: { ...origin, "Access-Control-Request-Method": "POST" } })],
    ];
    for (const [label, res] of responses) {
      expectApiHeaders(res, label);
      await res.arrayBuffer();
    }
  });

  it("serves the API docs page with a CSP that forbids inline script and framing", async () => {
    const res = await call("/api/docs");
    expect(res.status).toBe(200);
    expectApiHeaders(res, "docs");
    const csp = res.headers.get("Content-Security-Policy") ?? "";
    expect(csp, "the docs page (HTML served by the Worker) has no Content-Security-Policy").toMatch(/frame-ancestors 'none'/);
    expect(csp).toMatch(/script-src 'self'/);
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval/);
    const html = await res.text();
    expect(html.match(/<script(?![^>]*\bsrc=)[^>]*>/g) ?? []).toEqual([]);
  });

  // The page is served by Workers static assets from dist/client with web/public/_headers; the ASSETS
  // binding is that same asset server. (A browser's enforcement of the CSP is the e2e test's business.)
  it("serves the page and its single-page fallback with a strict CSP, frame-ancestors 'none' and no inline script or style", async () => {
    for (const path of ["/", "/orders/ord_x/audit"]) {
      const res = await env.ASSETS.fetch(`http://fillwire.test${path}`);
      expect(res.status, `${path}: is dist/client built (npm run build)?`).toBe(200);
      const csp = res.headers.get("Content-Security-Policy") ?? "";
      const directives = new Map(csp.split(";").map((d) => d.trim().split(/\s+/)).filter((d) => d[0]).map((d) => [d[0]!, d.slice(1)]));
      expect(directives.get("default-src"), csp).toEqual(["'self'"]);
      expect(directives.get("script-src"), csp).toEqual(["'self'"]);
      expect(directives.get("object-src"), csp).toEqual(["'none'"]);
      expect(directives.get("frame-ancestors"), csp).toEqual(["'none'"]);
      expect(csp).not.toMatch(/unsafe-inline|unsafe-eval/);
      for (const [name, sources] of directives) expect(sources, `${name} allows any origin`).not.toContain("*");
      expect(res.headers.get("X-Frame-Options")).toBe("DENY");
      expect(res.headers.get("X-Content-Type-Options")).toBe("nosniff");
      const html = await res.text();
      expect(html.match(/<script\b[^>]*>/g)?.length ?? 0, "the page loads its script").toBeGreaterThan(0);
      expect(html.match(/<script(?![^>]*\bsrc=)[^>]*>/g) ?? [], "inline <script>").toEqual([]);
      expect(html.match(/<style\b/g) ?? [], "inline <style>").toEqual([]);
      expect(html.match(/\son[a-z]+\s*=/gi) ?? [], "inline event handler").toEqual([]);
      expect(html.match(/\sstyle\s*=/gi) ?? [], "inline style attribute").toEqual([]);
      expect(html.match(/javascript:/gi) ?? [], "javascript: URL").toEqual([]);
    }
  });
});
