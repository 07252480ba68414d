// The reconcile after a (re)connect reads every open order of the account, in pages of 500 (Alpaca's most per
// call), not only the first 500: an account with more open orders would otherwise have each of fillwire's
// orders past the first page read one by one (one GET each, against Alpaca's rate limit).
import { describe, expect, it } from "vitest";
import { call, eventually, json, newTrader, submit, untilStatus } from "../helpers/api";
import { dropStream, fakeOrders, fakeRequests, newSymbol, requestMark, venue } from "./fake";

const API = "https://paper-api.alpaca.markets";
const KEYS = { "APCA-API-KEY-ID": "fake-key-id", "APCA-API-SECRET-KEY": "fake-secret-key" };

async function alpaca(method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(API + path, { method, headers: { ...KEYS, "Content-Type": "application/json" }, body: body === undefined ? null : JSON.stringify(body) });
}

describe("the reconcile's read of the open orders", () => {
  it("reads past the first 500 open orders, so fillwire's orders on a later page are not read one by one", { timeout: 60_000 }, async () => {
    // 520 open orders placed on the account by hand (not fillwire's), then three of fillwire's: theirs come
    // after the first page of 500 (oldest first).
    const foreignSymbol = await newSymbol(100);
    const foreign: string[] = [];
    for (let batch = 0; batch < 520 / 40; batch++) {
      const placed = await Promise.all(Array.from({ length: 40 }, () =>
        alpaca("POST", "/v2/orders", { symbol: foreignSymbol, qty: "1", side: "buy", type: "limit", limit_price: "50.00", time_in_force: "gtc" })));
      for (const res of placed) foreign.push(((await res.json()) as { id: string }).id);
    }
    const symbol = await newSymbol(100);
    const trader = await newTrader(10_000);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await json<{ id: string }>(await submit(trader, { symbol, quantity: 1, order_type: "LIMIT", price: 95 + i }))).id);
    const alpacaIds = await Promise.all(ids.map(async (id) => (await eventually(() => fakeOrders(id), (o) => o[0]?.order.status === "new", 15_000))[0]!.order.id));

    // The stream drops: the link reconnects and reconciles.
    const before = await eventually(venue, (v) => v.stream.state === "connected", 15_000);
    const mark = await requestMark();
    await dropStream();
    await eventually(venue, (v) => (v.stream.reconnects as number) > (before.stream.reconnects as number) && v.stream.state === "connected", 15_000);
    await eventually(venue, (v) => Date.parse(v.stream.last_reconcile_at as string) >= Date.parse(v.stream.connected_since as string), 15_000);

    const requests = await fakeRequests(mark);
    const lists = requests.filter((r) => r.method === "GET" && r.path.startsWith("/v2/orders?status=open"));
    expect(lists.length).toBeGreaterThanOrEqual(2);
    expect(lists[0]!.path).not.toContain("after=");
    expect(lists[1]!.path).toMatch(/&after=\d{4}-\d\d-\d\dT/);
    // fillwire's three orders were on the second page: none was read on its own.
    expect(requests.filter((r) => alpacaIds.some((a) => r.path.startsWith(`/v2/orders/${a}`)))).toEqual([]);

    // They still work, and cancel as usual; the account's own orders are cancelled too.
    for (const id of ids) expect((await call(`/api/v1/orders/${id}/cancel`, { method: "POST", token: trader.token })).status).toBe(200);
    for (const id of ids) await untilStatus(trader, id, "CANCELLED");
    for (let i = 0; i < foreign.length; i += 40) await Promise.all(foreign.slice(i, i + 40).map((id) => alpaca("DELETE", `/v2/orders/${id}`)));
  });
});
