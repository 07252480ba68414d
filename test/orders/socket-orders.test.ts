// Orders on the trader's socket: the same commands as HTTP through the same desk path, so every case below
// runs on both doors from one table and must get the same status and error code; an order's ack comes
// before its events; idempotency keys are shared across doors; a flood of order messages is rate-limited,
// not closed; a socket whose token expired takes no more orders.
import { afterEach, describe, expect, it } from "vitest";
import { call, eventually, json, newInstrument, newTrader, submit, untilStatus, type Trader } from "../helpers/api";
import { sign, signExpiringAt } from "../helpers/auth";
import { closeAll, connect, type Message, type TestSocket } from "../helpers/socket";

afterEach(closeAll);

let counter = 0;
const rid = () => `r${++counter}`;

/** Sends a command on the socket and waits for its answer (ack or reject), by request_id. */
async function command(socket: TestSocket, body: Record<string, unknown>): Promise<Message> {
  const request_id = (body.request_id as string | undefined) ?? rid();
  socket.send({ ...body, request_id });
  const [answer] = (await socket.until((m) => m.some((x) => x.request_id === request_id))).filter((x) => x.request_id === request_id);
  return answer!;
}

/** What either door answered, as status and error code (201 for an accepted order). */
interface Outcome {
  status: number;
  error: string | null;
  orderId: string | null;
}

async function viaHttp(trader: Trader, order: Record<string, unknown>, key?: string): Promise<Outcome> {
  const res = await submit(trader, order, key ? { "Idempotency-Key": key } : undefined);
  const body = await json<{ id?: string; error?: string }>(res);
  return { status: res.status, error: body.error ?? null, orderId: body.id ?? null };
}

async function viaSocket(socket: TestSocket, order: Record<string, unknown>, key?: string): Promise<Outcome> {
  const answer = await command(socket, { type: "submit", order, ...(key ? { idempotency_key: key } : {}) });
  if (answer.type === "ack") return { status: 201, error: null, orderId: (answer.order as { id: string }).id };
  return { status: answer.status as number, error: answer.error as string, orderId: null };
}

describe("one table of submits, both doors", () => {
  const cases: { name: string; order: Record<string, unknown>; status: number; error: string | null; cash?: number }[] = [
    { name: "a market buy within funds", order: { symbol: "AAPL", quantity: 1, order_type: "MARKET" }, status: 201, error: null },
    { name: "more than the cash", order: { symbol: "AAPL", quantity: 1_000, order_type: "MARKET" }, status: 400, error: "INSUFFICIENT_FUNDS" },
    { name: "an unknown symbol", order: { symbol: "NOPE1", quantity: 1, order_type: "MARKET" }, status: 400, error: "UNKNOWN_SYMBOL" },
    { name: "quantity 0", order: { symbol: "AAPL", quantity: 0, order_type: "MARKET" }, status: 400, error: "VALIDATION_ERROR" },
    { name: "a price off the tick", order: { symbol: "TEST_PARTIAL", quantity: 1, order_type: "LIMIT", price: 149.97 }, status: 400, error: "VALIDATION_ERROR" },
    { name: "a BUY stop below the price", order: { symbol: "AAPL", quantity: 1, order_type: "STOP", stop_price: 140 }, status: 400, error: "VALIDATION_ERROR" },
    { name: "a limit far from the price", order: { symbol: "AAPL", quantity: 1, order_type: "LIMIT", price: 300 }, status: 400, error: "PRICE_OUT_OF_BAND" },
    { name: "selling shares not held", order: { symbol: "AAPL", side: "SELL", quantity: 5, order_type: "MARKET" }, status: 400, error: "INSUFFICIENT_POSITION" },
    { name: "an unknown field", order: { symbol: "AAPL", quantity: 1, order_type: "MARKET", leverage: 10 }, status: 400, error: "VALIDATION_ERROR" },
  ];
  for (const c of cases) {
    it(`${c.name}: ${c.status} ${c.error ?? ""} on HTTP and on the socket`, async () => {
      const [a, b] = [await newTrader(5_000), await newTrader(5_000)];
      const socket = await connect({ token: b.token });
      const http = await viaHttp(a, c.order);
      const ws = await viaSocket(socket, c.order);
      expect({ status: http.status, error: http.error }).toEqual({ status: c.status, error: c.error });
      expect({ status: ws.status, error: ws.error }).toEqual({ status: c.status, error: c.error });
      if (c.status === 201) await untilStatus(b, ws.orderId!, "FILLED");
      else expect((await json<{ data: unknown[] }>(await call("/api/v1/orders", { token: b.token }))).data).toEqual([]);
    });
  }

  it("refuses a halted account (403 TRADING_HALTED) on both doors", async () => {
    const trader = await newTrader(5_000);
    await call(`/api/v1/admin/accounts/${trader.id}/trading`, { method: "PUT", token: await sign("ops", "admin"), body: { state: "HALTED", reason: "test" } });
    const socket = await connect({ token: trader.token });
    const order = { symbol: "AAPL", quantity: 1, order_type: "MARKET" };
    expect(await viaHttp(trader, order)).toMatchObject({ status: 403, error: "TRADING_HALTED" });
    expect(await viaSocket(socket, order)).toMatchObject({ status: 403, error: "TRADING_HALTED" });
  });
});

describe("the socket's order protocol", () => {
  it("acks an order before any of its events, and the events keep their seq", async () => {
    const trader = await newTrader(5_000);
    const socket = await connect({ token: trader.token });
    await socket.until((m) => m.length >= 1);
    const request_id = rid();
    socket.send({ type: "submit", request_id, order: { symbol: "AAPL", quantity: 2, order_type: "MARKET" } });
    await socket.until((m) => m.some((x) => x.event === "order.filled"));
    const after = socket.messages.slice(1);
    expect(after[0]).toMatchObject({ type: "ack", request_id, order: { status: "PENDING", quantity: 2 } });
    expect(after[0]).not.toHaveProperty("seq");
    const id = (after[0]!.order as { id: string }).id;
    expect(socket.events(id).map((e) => e.event)).toEqual(["order.submitted", "order.accepted", "order.filled"]);
  });

  it("cancels, amends and cancels all, answering as the HTTP routes do", async () => {
    const symbol = await newInstrument(100);
    const trader = await newTrader(10_000);
    const socket = await connect({ token: trader.token });
    const placed = await command(socket, { type: "submit", order: { symbol, quantity: 10, order_type: "LIMIT", price: 95, time_in_force: "GTC" } });
    const id = (placed.order as { id: string }).id;
    await eventually(async () => (await json<{ status: string; updated_at: string }>(await call(`/api/v1/orders/${id}/audit`, { token: trader.token }))), (t) => JSON.stringify(t).includes("EXECUTED"));
    expect(await command(socket, { type: "amend", order_id: id, changes: { price: 96 } })).toMatchObject({ type: "ack", order: { id, price: 96 } });
    expect(await command(socket, { type: "amend", order_id: id, changes: { price: 96.001 } })).toMatchObject({ type: "reject", status: 400, error: "VALIDATION_ERROR" });
    const second = await command(socket, { type: "submit", order: { symbol, quantity: 1, order_type: "LIMIT", price: 90, time_in_force: "GTC" } });
    expect(await command(socket, { type: "cancel", order_id: id })).toMatchObject({ type: "ack", order: { id, status: "CANCELLED" } });
    expect(await command(socket, { type: "cancel", order_id: id })).toMatchObject({ type: "reject", status: 409, error: "ORDER_NOT_CANCELLABLE" });
    expect(await command(socket, { type: "cancel", order_id: "ord_nope" })).toMatchObject({ type: "reject", status: 404, error: "ORDER_NOT_FOUND" });
    await eventually(async () => (await json<{ status: string }>(await call(`/api/v1/orders/${(second.order as { id: string }).id}`, { token: trader.token }))).status, () => true);
    const all = await command(socket, { type: "cancel_all", symbol });
    expect(all).toMatchObject({ type: "ack", results: [{ id: (second.order as { id: string }).id, status: 200 }] });
    expect(await command(socket, { type: "cancel_all", side: "LONG" })).toMatchObject({ type: "reject", status: 400, error: "VALIDATION_ERROR" });
  });

  it("shares idempotency keys with HTTP: a key used on HTTP replays on the socket, another body is 422", async () => {
    const trader = await newTrader(5_000);
    const socket = await connect({ token: trader.token });
    const order = { symbol: "AAPL", quantity: 1, order_type: "MARKET" };
    const first = await viaHttp(trader, order, "shared-key-1");
    expect(first.status).toBe(201);
    const again = await command(socket, { type: "submit", order, idempotency_key: "shared-key-1" });
    expect(again).toMatchObject({ type: "ack", replayed: true, order: { id: first.orderId } });
    const other = await command(socket, { type: "submit", order: { ...order, quantity: 2 }, idempotency_key: "shared-key-1" });
    expect(other).toMatchObject({ type: "reject", status: 422, error: "IDEMPOTENCY_KEY_REUSED" });
    // And the other way: a socket key replays over HTTP.
    const placed = await command(socket, { type: "submit", order: { ...order, client_order_id: "from-socket" } });
    expect(await viaHttp(trader, { ...order, client_order_id: "from-socket" })).toMatchObject({ status: 201, orderId: (placed.order as { id: string }).id });
    expect((await json<{ data: unknown[] }>(await call("/api/v1/orders", { token: trader.token }))).data).toHaveLength(2);
  });

  it("answers a malformed command by its request_id: duplicate keys, a bad request_id, a missing order", async () => {
    const trader = await newTrader(5_000);
    const socket = await connect({ token: trader.token });
    socket.send('{"type":"submit","request_id":"dup-1","order":{"symbol":"AAPL","side":"SELL","quantity":1,"order_type":"MARKET","side":"BUY"}}');
    await socket.until((m) => m.some((x) => x.request_id === "dup-1"));
    expect(socket.messages.find((x) => x.request_id === "dup-1")).toMatchObject({ type: "reject", status: 400, error: "MALFORMED_JSON", details: { duplicate_keys: ["order.side"] } });
    expect(await command(socket, { type: "submit" })).toMatchObject({ type: "reject", status: 400, error: "VALIDATION_ERROR" });
    socket.send({ type: "cancel", request_id: "has space", order_id: "x" });
    await socket.until((m) => m.some((x) => x.type === "reject" && x.request_id === null));
    expect((await json<{ data: unknown[] }>(await call("/api/v1/orders", { token: trader.token }))).data).toEqual([]);
  });

  it("rate-limits a flood of order messages with rejects, and keeps the socket open", async () => {
    const symbol = await newInstrument(100);
    const trader = await newTrader(0); // every order is refused for funds at once, after taking its token
    const socket = await connect({ token: trader.token });
    const n = 400; // twice the burst of 200 (RATE_LIMIT_BURST), faster than 50 per second refill
    for (let i = 0; i < n; i++) socket.send({ type: "submit", request_id: `f${i}`, order: { symbol, quantity: 1, order_type: "MARKET" } });
    await socket.until((m) => m.filter((x) => x.type === "reject").length >= n, 20_000);
    const answers = socket.messages.filter((x) => x.type === "ack" || x.type === "reject");
    const limited = answers.filter((x) => x.error === "RATE_LIMITED");
    expect(limited.length).toBeGreaterThan(0);
    expect(limited[0]).toMatchObject({ status: 429, details: { retry_after_seconds: expect.any(Number) } });
    expect(answers.filter((x) => x.error === "INSUFFICIENT_FUNDS").length + limited.length).toBe(n);
    expect(new Set(answers.map((x) => x.request_id)).size).toBe(n); // each command answered once
    expect(socket.closed).toBeNull();
    // Other messages still count against the socket's own budget.
    socket.send({ type: "ping" });
    await socket.until((m) => m.some((x) => x.type === "pong"));
  });

  it("takes no order once its token has expired: the socket is closed 4401 and nothing is placed", async () => {
    const trader = await newTrader(5_000);
    const token = await signExpiringAt(trader.id, Math.floor(Date.now() / 1000) + 2);
    const socket = await connect({ token });
    await socket.until((m) => m.length >= 1);
    await new Promise((r) => setTimeout(r, 2_200));
    try {
      socket.send({ type: "submit", request_id: "late", order: { symbol: "AAPL", quantity: 1, order_type: "MARKET" } });
    } catch {
      // the desk's alarm closed it at exp already: the order could not even be sent
    }
    await eventually(async () => socket.closed, (c) => c !== null, 5_000);
    expect(socket.closed).toMatchObject({ code: 4401 });
    expect(socket.messages.some((x) => x.request_id === "late")).toBe(false);
    expect((await json<{ data: unknown[] }>(await call("/api/v1/orders", { token: trader.token }))).data).toEqual([]);
  });
});
