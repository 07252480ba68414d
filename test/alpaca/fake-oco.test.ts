// The fake Alpaca's `oco` order class (test/fake-alpaca/oco.ts), driven over its REST API as a client would
// drive Alpaca's, with a trade_updates listener of the test's own to see what the stream tells and in which
// order: the take-profit is the parent (a limit order), the stop-loss its leg, "held" until its stop; the
// one that trades (or triggers) cancels the other; canceling one cancels both; each is replaced on its own.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually } from "../helpers/api";
import { newSymbol, setSymbol } from "./fake";

const API = "https://paper-api.alpaca.markets";
const KEYS = { "APCA-API-KEY-ID": "fake-key-id", "APCA-API-SECRET-KEY": "fake-secret-key" };

interface AlpacaOrder {
  id: string;
  client_order_id: string;
  symbol: string;
  side: string;
  qty: string;
  filled_qty: string;
  filled_avg_price: string | null;
  type: string;
  order_class: string;
  time_in_force: string;
  limit_price: string | null;
  stop_price: string | null;
  status: string;
  replaces: string | null;
  replaced_by: string | null;
  canceled_at: string | null;
  legs: AlpacaOrder[] | null;
}

interface FakeEntry {
  order: AlpacaOrder;
  executions: { qty: number; price_cents: number }[];
  triggered: boolean;
  leg_of: string | null;
}

async function alpaca<T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const res = await fetch(API + path, { method, headers: { ...KEYS, ...(body === undefined ? {} : { "Content-Type": "application/json" }) }, body: body === undefined ? null : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
}

const getOrder = async (id: string, nested = false) => (await alpaca<AlpacaOrder>("GET", `/v2/orders/${id}${nested ? "?nested=true" : ""}`)).body;
const fakeOrders = async (prefix: string) => (await alpaca<FakeEntry[]>("GET", `/_fake/orders?client_order_id_prefix=${encodeURIComponent(prefix)}`)).body;
const untilStatus = (id: string, status: string) => eventually(() => getOrder(id), (o) => o.status === status);
const settle = () => new Promise((r) => setTimeout(r, 150));
const newClientId = () => `oco-${crypto.randomUUID().slice(0, 13)}`;

/** POSTs a sell 10 oco (take-profit 105, stop 95 unless said otherwise); expects 200 and one held leg. */
async function postOco(symbol: string, stopLoss: Record<string, unknown> = { stop_price: "95" }, extra: Record<string, unknown> = {}) {
  const clientOrderId = newClientId();
  const res = await alpaca<AlpacaOrder>("POST", "/v2/orders", {
    symbol, qty: "10", side: "sell", type: "limit", time_in_force: "gtc", order_class: "oco", client_order_id: clientOrderId,
    take_profit: { limit_price: 105 }, stop_loss: stopLoss, ...extra,
  });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  const parent = res.body;
  expect(parent.legs).toHaveLength(1);
  const leg = parent.legs![0]!;
  await untilStatus(parent.id, "new");
  return { parent, leg, clientOrderId };
}

/** A trade_updates listener (the stream's authenticate/listen handshake) keeping every event it receives. */
class Stream {
  readonly events: { event: string; id: string; status: string }[] = [];
  private listening = false;
  /** Frames are read one after another (a binary one may come as a Blob, read asynchronously). */
  private reading: Promise<void> = Promise.resolve();
  private constructor(readonly ws: WebSocket) {
    ws.addEventListener("message", (e) => {
      const data: unknown = e.data;
      this.reading = this.reading.then(async () => {
        const text = typeof data === "string" ? data : data instanceof Blob ? await data.text() : new TextDecoder().decode(data as ArrayBuffer);
        const msg = JSON.parse(text) as { stream: string; data: { event?: string; order?: AlpacaOrder } };
        if (msg.stream === "listening") this.listening = true;
        if (msg.stream === "trade_updates" && msg.data.event && msg.data.order) this.events.push({ event: msg.data.event, id: msg.data.order.id, status: msg.data.order.status });
      });
    });
    ws.accept();
  }

  static async open(): Promise<Stream> {
    const res = await fetch(`${API}/stream`, { headers: { Upgrade: "websocket" } });
    expect(res.status).toBe(101);
    const stream = new Stream(res.webSocket!);
    stream.ws.send(JSON.stringify({ action: "authenticate", data: { key_id: KEYS["APCA-API-KEY-ID"], secret_key: KEYS["APCA-API-SECRET-KEY"] } }));
    stream.ws.send(JSON.stringify({ action: "listen", data: { streams: ["trade_updates"] } }));
    await eventually(async () => stream.listening, (l) => l);
    return stream;
  }

  /** The events of these orders, in order, each as "event <name>" (names stand for the ids). */
  of(names: Record<string, string>): string[] {
    const byId = new Map(Object.entries(names).map(([name, id]) => [id, name]));
    return this.events.filter((e) => byId.has(e.id)).map((e) => `${e.event} ${byId.get(e.id)}`);
  }

  /** Waits until the events of these orders are exactly `expected` (and stay so a moment). */
  async expect(names: Record<string, string>, expected: string[]): Promise<void> {
    await eventually(async () => this.of(names), (seen) => seen.length >= expected.length);
    await settle();
    expect(this.of(names)).toEqual(expected);
  }
}

let stream: Stream;
beforeAll(async () => {
  stream = await Stream.open();
});
afterAll(() => stream.ws.close(1000, "done"));

describe("the fake Alpaca's oco order", () => {
  it("answers with the take-profit as parent and the stop-loss as a held leg, listed flat or nested", async () => {
    const symbol = await newSymbol(100);
    const { parent, leg, clientOrderId } = await postOco(symbol);
    expect(parent).toMatchObject({
      client_order_id: clientOrderId, symbol, side: "sell", qty: "10", type: "limit", order_class: "oco", time_in_force: "gtc", limit_price: "105.00", stop_price: null, status: "accepted",
    });
    expect(leg).toMatchObject({ symbol, side: "sell", qty: "10", type: "stop", order_class: "oco", time_in_force: "gtc", stop_price: "95.00", limit_price: null, status: "held", legs: null });
    expect(leg.id).not.toBe(parent.id);
    expect(leg.client_order_id).not.toBe(clientOrderId);
    expect(leg.client_order_id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);

    const byClientId = (await alpaca<AlpacaOrder>("GET", `/v2/orders:by_client_order_id?client_order_id=${clientOrderId}&nested=true`)).body;
    expect(byClientId).toMatchObject({ id: parent.id, status: "new", legs: [{ id: leg.id, status: "held", type: "stop" }] });
    expect((await getOrder(parent.id, true)).legs!.map((l) => l.id)).toEqual([leg.id]);
    expect((await getOrder(parent.id)).legs).toBeNull();
    expect((await getOrder(leg.id, true)).legs).toBeNull();

    const flat = (await alpaca<AlpacaOrder[]>("GET", `/v2/orders?status=open&symbols=${symbol}&direction=asc`)).body;
    expect(flat.map((o) => [o.id, o.status, o.legs])).toEqual([[parent.id, "new", null], [leg.id, "held", null]]);
    const rolledUp = (await alpaca<AlpacaOrder[]>("GET", `/v2/orders?status=open&symbols=${symbol}&nested=true`)).body;
    expect(rolledUp.map((o) => [o.id, o.legs?.map((l) => l.id)])).toEqual([[parent.id, [leg.id]]]);

    const entries = await fakeOrders(clientOrderId);
    expect(entries.map((e) => [e.order.id, e.leg_of, e.triggered])).toEqual([[parent.id, null, false], [leg.id, clientOrderId, false]]);
    await settle(); // the leg is not routed: no "new" for it, and it does not trade
    expect((await getOrder(leg.id)).status).toBe("held");
    await stream.expect({ P: parent.id, L: leg.id }, ["new P"]);
  });

  it("fills the take-profit and cancels the held stop-loss when the price reaches the take-profit", async () => {
    const symbol = await newSymbol(100);
    const { parent, leg, clientOrderId } = await postOco(symbol);
    await setSymbol(symbol, { price: 105 });
    expect(await untilStatus(parent.id, "filled")).toMatchObject({ filled_qty: "10", filled_avg_price: "105" });
    expect(await untilStatus(leg.id, "canceled")).toMatchObject({ filled_qty: "0", canceled_at: expect.any(String) });
    await stream.expect({ P: parent.id, L: leg.id }, ["new P", "canceled L", "fill P"]);

    await setSymbol(symbol, { price: 90 }); // through the old stop: nothing more trades
    await settle();
    const entries = await fakeOrders(clientOrderId);
    expect(entries.map((e) => [e.order.status, e.executions.length, e.triggered])).toEqual([["filled", 1, false], ["canceled", 0, false]]);
  });

  it("triggers the stop-loss when the price reaches its stop: the take-profit is canceled first, the leg goes live and fills", async () => {
    const symbol = await newSymbol(100);
    const { parent, leg, clientOrderId } = await postOco(symbol);
    await setSymbol(symbol, { price: 95 });
    expect(await untilStatus(leg.id, "filled")).toMatchObject({ filled_qty: "10", filled_avg_price: "95" });
    expect(await getOrder(parent.id)).toMatchObject({ status: "canceled", filled_qty: "0" });
    expect((await fakeOrders(clientOrderId)).map((e) => [e.order.id, e.triggered])).toEqual([[parent.id, false], [leg.id, true]]);
    await stream.expect({ P: parent.id, L: leg.id }, ["new P", "canceled P", "new L", "fill L"]);
  });

  it("rests a triggered stop_limit leg through a gap, then fills only the leg", async () => {
    const symbol = await newSymbol(100);
    const { parent, leg, clientOrderId } = await postOco(symbol, { stop_price: 95, limit_price: "94.5" });
    expect(leg).toMatchObject({ type: "stop_limit", stop_price: "95.00", limit_price: "94.50", status: "held" });
    await setSymbol(symbol, { price: 90 }); // gaps through the stop and below the leg's limit
    await untilStatus(parent.id, "canceled");
    const live = await eventually(() => fakeOrders(clientOrderId), (es) => es[1]?.triggered === true);
    expect(live[1]!.order).toMatchObject({ id: leg.id, status: "new", filled_qty: "0" });
    await stream.expect({ P: parent.id, L: leg.id }, ["new P", "canceled P", "new L"]);
    // The live leg is open on its own: with nested=true it is listed alone (its parent is closed).
    const open = (await alpaca<AlpacaOrder[]>("GET", `/v2/orders?status=open&symbols=${symbol}&nested=true`)).body;
    expect(open.map((o) => o.id)).toEqual([leg.id]);

    await setSymbol(symbol, { price: 110 }); // above the take-profit's old limit: only the leg sells
    expect(await untilStatus(leg.id, "filled")).toMatchObject({ filled_qty: "10", filled_avg_price: "110" });
    await settle();
    const entries = await fakeOrders(clientOrderId);
    expect(entries.map((e) => [e.order.status, e.executions.length])).toEqual([["canceled", 0], ["filled", 1]]);
    await stream.expect({ P: parent.id, L: leg.id }, ["new P", "canceled P", "new L", "fill L"]);
  });

  it("triggers at once a stop already crossed when the oco is posted", async () => {
    const symbol = await newSymbol(94);
    const clientOrderId = newClientId();
    const res = await alpaca<AlpacaOrder>("POST", "/v2/orders", {
      symbol, qty: 10, side: "sell", type: "limit", time_in_force: "day", order_class: "oco", client_order_id: clientOrderId, take_profit: { limit_price: "105" }, stop_loss: { stop_price: "95" },
    });
    expect(res.status).toBe(200);
    const [parent, leg] = [res.body, res.body.legs![0]!];
    expect(await untilStatus(leg.id, "filled")).toMatchObject({ filled_avg_price: "94" });
    expect((await getOrder(parent.id)).status).toBe("canceled");
    await stream.expect({ P: parent.id, L: leg.id }, ["new P", "canceled P", "new L", "fill L"]);
  });

  it("cancels both when one is canceled", async () => {
    const symbol = await newSymbol(100);
    const { parent, leg } = await postOco(symbol);
    expect((await alpaca("DELETE", `/v2/orders/${leg.id}`)).status).toBe(204);
    await untilStatus(leg.id, "canceled");
    await untilStatus(parent.id, "canceled");
    await stream.expect({ P: parent.id, L: leg.id }, ["new P", "canceled L", "canceled P"]); // the one asked for first
    expect((await alpaca("DELETE", `/v2/orders/${parent.id}`)).status).toBe(422);
  });

  it("replaces the held leg on its own: the replacement is held, in the group, and triggers at its new stop", async () => {
    const symbol = await newSymbol(100);
    const { parent, leg, clientOrderId } = await postOco(symbol);
    const replaced = await alpaca<AlpacaOrder>("PATCH", `/v2/orders/${leg.id}`, { stop_price: "97" });
    expect(replaced.status, JSON.stringify(replaced.body)).toBe(200);
    const next = replaced.body;
    expect(next).toMatchObject({ type: "stop", order_class: "oco", stop_price: "97.00", status: "held", replaces: leg.id, qty: "10" });
    expect(next.id).not.toBe(leg.id);
    expect(await getOrder(leg.id)).toMatchObject({ status: "replaced", replaced_by: next.id });
    expect((await getOrder(parent.id, true)).legs!.map((l) => [l.id, l.status])).toEqual([[next.id, "held"]]);
    const entries = await fakeOrders(clientOrderId);
    expect(entries.map((e) => [e.order.id, e.leg_of])).toEqual([[parent.id, null], [leg.id, clientOrderId], [next.id, clientOrderId]]);

    // Prices stay in order: a sell's stop cannot go above its take-profit.
    expect((await alpaca("PATCH", `/v2/orders/${next.id}`, { stop_price: "106" })).status).toBe(422);
    expect((await alpaca("PATCH", `/v2/orders/${parent.id}`, { limit_price: "96" })).status).toBe(422);

    await setSymbol(symbol, { price: 97 });
    expect(await untilStatus(next.id, "filled")).toMatchObject({ filled_qty: "10", filled_avg_price: "97" });
    expect((await getOrder(parent.id)).status).toBe("canceled");
    await stream.expect({ P: parent.id, L: leg.id, L2: next.id }, ["new P", "replaced L", "canceled P", "new L2", "fill L2"]);
  });

  it("cancels the held leg when the take-profit fills in part", async () => {
    const symbol = await newSymbol(100, { depth: 4 });
    const { parent, leg } = await postOco(symbol);
    await setSymbol(symbol, { price: 105 }); // 4 shares at 105, the level at the take-profit's limit
    expect(await untilStatus(parent.id, "partially_filled")).toMatchObject({ filled_qty: "4" });
    expect((await getOrder(leg.id)).status).toBe("canceled");
    await stream.expect({ P: parent.id, L: leg.id }, ["new P", "canceled L", "partial_fill P"]);
    await setSymbol(symbol, { price: 90 }); // the leg is gone: nothing sells at the stop
    await settle();
    expect(await getOrder(parent.id)).toMatchObject({ status: "partially_filled", filled_qty: "4" });
    expect((await getOrder(leg.id)).filled_qty).toBe("0");
  });

  it("refuses an oco it cannot take with 422 and Alpaca's error body, and records nothing", async () => {
    const symbol = await newSymbol(100);
    const base = { symbol, qty: "10", side: "sell", type: "limit", time_in_force: "gtc", order_class: "oco", take_profit: { limit_price: "105" }, stop_loss: { stop_price: "95" } };
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ take_profit: undefined }, /take_profit\.limit_price/],
      [{ take_profit: {} }, /take_profit\.limit_price/],
      [{ stop_loss: { limit_price: "94" } }, /stop_loss\.stop_price/],
      [{ type: "market" }, /limit/],
      [{ time_in_force: "ioc" }, /time_in_force/],
      [{ stop_loss: { stop_price: "105" } }, /stop_loss\.stop_price must be less than take_profit\.limit_price/],
      [{ side: "buy" }, /stop_loss\.stop_price must be greater than take_profit\.limit_price/],
      [{ order_class: "bracket" }, /^order_class bracket is not supported by this fake$/],
      [{ order_class: "oto" }, /^order_class oto is not supported by this fake$/],
    ];
    for (const [change, message] of cases) {
      const clientOrderId = newClientId();
      const res = await alpaca<{ code: number; message: string }>("POST", "/v2/orders", { ...base, ...change, client_order_id: clientOrderId });
      expect(res.status, JSON.stringify(change)).toBe(422);
      expect(res.body).toEqual({ code: 40010001, message: expect.stringMatching(message) });
      expect(await fakeOrders(clientOrderId)).toEqual([]);
    }
  });

  it("applies a symbol's faults to the posted oco, per its client_order_id", async () => {
    const symbol = await newSymbol(100, { faults: { error_first_attempts: 1, error_status: 503 } });
    const clientOrderId = newClientId();
    const body = { symbol, qty: "10", side: "sell", type: "limit", time_in_force: "gtc", order_class: "oco", client_order_id: clientOrderId, take_profit: { limit_price: "105" }, stop_loss: { stop_price: "95" } };
    expect((await alpaca("POST", "/v2/orders", body)).status).toBe(503);
    expect(await fakeOrders(clientOrderId)).toEqual([]);
    const retried = await alpaca<AlpacaOrder>("POST", "/v2/orders", body);
    expect(retried.status).toBe(200);
    expect(retried.body.legs).toHaveLength(1);
    expect((await fakeOrders(clientOrderId)).map((e) => e.order.status)).toEqual([expect.stringMatching(/^(accepted|new)$/), "held"]);
  });

  it("keeps a simple order simple: order_class \"\" and no legs, even with nested=true", async () => {
    const symbol = await newSymbol(100);
    const res = await alpaca<AlpacaOrder>("POST", "/v2/orders", { symbol, qty: "1", side: "buy", type: "limit", limit_price: "90", time_in_force: "gtc", order_class: "simple", client_order_id: newClientId() });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ order_class: "", legs: null, status: "accepted" });
    expect((await getOrder(res.body.id, true)).legs).toBeNull();
  });
});
