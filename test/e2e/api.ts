// The HTTP calls the browser tests make around the page: tokens from the local dev sign-in, a fresh
// trader's account, a few orders, the admin's levers (prices, instruments, trading state), and the
// execution report as the API reports it.
import { expect } from "vitest";
import type { ExecutionRow } from "../../worker/shared/compliance";
import type { Account, PositionValue, TradingState } from "../../worker/shared/account";
import type { OrderWithFills } from "../../worker/shared/orders";

export type Role = "trader" | "compliance" | "admin";

export async function devToken(baseUrl: string, sub: string, role: Role): Promise<string> {
  const res = await fetch(`${baseUrl}/api/v1/dev/login`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ sub, role }) });
  expect(res.status, await res.clone().text()).toBe(200);
  return ((await res.json()) as { token: string }).token;
}

/** Polls until `done(value)`; usable in hooks too (expect.poll is only for tests). */
export async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, what: string, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last seen: ${JSON.stringify(value).slice(0, 500)}`);
    await new Promise((ok) => setTimeout(ok, 150));
  }
}

const auth = (token: string) => ({ Authorization: `Bearer ${token}`, "Content-Type": "application/json" });

/**
 * A trader of its own (no test leans on another's leftovers), opened by the admin with `cash` dollars and
 * optionally positions held from the start.
 */
export async function openTrader(
  baseUrl: string,
  cash = 1_000_000,
  positions: { symbol: string; quantity: number; avg_price: number }[] = [],
  traderId = `trader-${crypto.randomUUID().slice(0, 8)}`,
): Promise<{ traderId: string; token: string }> {
  const admin = await devToken(baseUrl, "admin", "admin");
  const res = await fetch(`${baseUrl}/api/v1/admin/accounts/${traderId}`, { method: "PUT", headers: auth(admin), body: JSON.stringify({ cash, positions }) });
  expect(res.status, await res.clone().text()).toBe(201);
  return { traderId, token: await devToken(baseUrl, traderId, "trader") };
}

/** An instrument of the test's own (created, or its price moved): no other test trades or values it. */
export async function putInstrument(baseUrl: string, symbol: string, body: { price?: number; tick_size?: number; depth?: number; name?: string }): Promise<void> {
  const admin = await devToken(baseUrl, "admin", "admin");
  const res = await fetch(`${baseUrl}/api/v1/admin/instruments/${symbol}`, { method: "PUT", headers: auth(admin), body: JSON.stringify(body) });
  expect(res.status, await res.clone().text()).toBe(200);
}

/** A fresh symbol name: "T" and seven random capitals. */
export const freshSymbol = () => `T${Array.from(crypto.getRandomValues(new Uint8Array(7)), (b) => String.fromCharCode(65 + (b % 26))).join("")}`;

/** The admin sets the trader's trading state (audited with the reason). */
export async function setTradingState(baseUrl: string, traderId: string, state: TradingState, reason: string, cancelOrders = false): Promise<void> {
  const admin = await devToken(baseUrl, "admin", "admin");
  const res = await fetch(`${baseUrl}/api/v1/admin/accounts/${traderId}/trading`, {
    method: "PUT", headers: auth(admin), body: JSON.stringify({ state, reason, cancel_orders: cancelOrders }),
  });
  expect(res.status, await res.clone().text()).toBe(200);
}

export async function order(baseUrl: string, token: string, id: string): Promise<OrderWithFills> {
  return (await (await fetch(`${baseUrl}/api/v1/orders/${id}`, { headers: auth(token) })).json()) as OrderWithFills;
}

export async function positions(baseUrl: string, token: string): Promise<PositionValue[]> {
  const res = await fetch(`${baseUrl}/api/v1/positions`, { headers: auth(token) });
  expect(res.status, await res.clone().text()).toBe(200);
  return ((await res.json()) as { data: PositionValue[] }).data;
}

export async function account(baseUrl: string, token: string): Promise<Account> {
  const res = await fetch(`${baseUrl}/api/v1/account`, { headers: auth(token) });
  expect(res.status, await res.clone().text()).toBe(200);
  return (await res.json()) as Account;
}

/** Submit an order over HTTP (201); returns its id. */
export async function submit(baseUrl: string, token: string, body: Record<string, unknown>): Promise<string> {
  const res = await fetch(`${baseUrl}/api/v1/orders`, { method: "POST", headers: { ...auth(token), "Idempotency-Key": crypto.randomUUID() }, body: JSON.stringify(body) });
  expect(res.status, await res.clone().text()).toBe(201);
  return ((await res.json()) as { id: string }).id;
}

/**
 * The seed's two flows for one trader: a MARKET buy of 10 AAPL that fills (SUBMITTED, APPROVED,
 * EXECUTED, FILLED) and a LIMIT buy at 140 that rests and is cancelled (SUBMITTED, APPROVED, EXECUTED,
 * CANCELLED): 8 audit rows.
 */
export async function tradeTwoOrders(baseUrl: string, token: string): Promise<{ filled: string; cancelled: string; auditRows: number }> {
  const filled = await submit(baseUrl, token, { symbol: "AAPL", side: "BUY", quantity: 10, order_type: "MARKET" });
  await until(async () => (await order(baseUrl, token, filled)).status, (s) => s === "FILLED", `order ${filled} FILLED`);
  const cancelled = await submit(baseUrl, token, { symbol: "AAPL", side: "BUY", quantity: 10, order_type: "LIMIT", price: 140, time_in_force: "GTC" });
  const res = await fetch(`${baseUrl}/api/v1/orders/${cancelled}/cancel`, { method: "POST", headers: auth(token) });
  expect(res.status, await res.clone().text()).toBe(200);
  return { filled, cancelled, auditRows: 8 };
}

/** Wait until the server reports the order in `status`. */
export async function awaitStatus(baseUrl: string, token: string, id: string, status: string): Promise<OrderWithFills> {
  return until(() => order(baseUrl, token, id), (o) => o.status === status, `order ${id} ${status}`);
}

/** A MARKET buy that fills: 4 audit rows. */
export async function buyAndFill(baseUrl: string, token: string, symbol = "AAPL", quantity = 1): Promise<string> {
  const id = await submit(baseUrl, token, { symbol, side: "BUY", quantity, order_type: "MARKET" });
  await until(async () => (await order(baseUrl, token, id)).status, (s) => s === "FILLED", `order ${id} FILLED`);
  return id;
}

/** Every row of the execution report for a query, all pages, newest first (as the API reports them). */
export async function reportRows(baseUrl: string, token: string, query: Record<string, string>): Promise<ExecutionRow[]> {
  const rows: ExecutionRow[] = [];
  let cursor: string | null = null;
  do {
    const params = new URLSearchParams({ ...query, limit: "1000", ...(cursor ? { cursor } : {}) });
    const res = await fetch(`${baseUrl}/api/v1/compliance/executions?${params}`, { headers: auth(token) });
    expect(res.status, await res.clone().text()).toBe(200);
    const page = (await res.json()) as { data: ExecutionRow[]; next_cursor: string | null };
    rows.push(...page.data);
    cursor = page.next_cursor;
  } while (cursor);
  return rows;
}

/** The desk writes D1 through its outbox, a moment after it answers: wait until the report holds `count` rows. */
export async function awaitReportRows(baseUrl: string, token: string, query: Record<string, string>, count: number): Promise<ExecutionRow[]> {
  return until(() => reportRows(baseUrl, token, query), (rows) => rows.length >= count, `${count} report rows for ${JSON.stringify(query)}`);
}

/** YYYY-MM-DD of a UTC instant. */
export const utcDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** An order request as the API answers it, refusals included: the status and the JSON body. */
export async function tryOrder(baseUrl: string, token: string, body: Record<string, unknown>): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${baseUrl}/api/v1/orders`, { method: "POST", headers: { ...auth(token), "Idempotency-Key": crypto.randomUUID() }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** An amend (PATCH /api/v1/orders/:id) as the API answers it: the status and the JSON body. */
export async function tryAmend(baseUrl: string, token: string, id: string, changes: Record<string, unknown>): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${baseUrl}/api/v1/orders/${id}`, { method: "PATCH", headers: { ...auth(token), "Idempotency-Key": crypto.randomUUID() }, body: JSON.stringify(changes) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}
