// Drives the fake Alpaca from a test (its /_fake control API) and reads what it holds. In the alpaca test
// project every outbound request goes to the fake, so any host reaches it.
import { expect } from "vitest";
import { adminToken, call, getOrder, json, type Trader } from "../helpers/api";
import type { SymbolFaults, AccountFaults } from "../fake-alpaca/faults";
import type { Execution } from "../fake-alpaca/shapes";

const FAKE = "https://paper-api.alpaca.markets";

async function control<T>(path: string, body?: unknown): Promise<T> {
  const res = await fetch(FAKE + path, body === undefined ? {} : { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
  if (!res.ok) throw new Error(`fake ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

export interface FakeInstrument {
  price?: number;
  tick?: number;
  depth?: number;
  priced?: boolean;
  faults?: SymbolFaults;
}

/** Sets a symbol's price, book or faults at the fake; a price move trades the orders it crosses. */
export const setSymbol = (symbol: string, body: FakeInstrument) => control(`/_fake/instruments/${symbol}`, body);

/** A symbol of this test's own at the fake (deep book, unless said otherwise). */
export async function newSymbol(price: number, extra: FakeInstrument = {}): Promise<string> {
  const symbol = `A${crypto.randomUUID().replace(/-/g, "").slice(0, 8).toUpperCase()}`;
  await setSymbol(symbol, { price, depth: 100000, ...extra });
  return symbol;
}

/** Account-wide faults (merged into what is set); `{ fail_next: [] }` clears the queue. */
export const setAccountFaults = (body: AccountFaults) => control("/_fake/faults", body);

export const dropStream = () => control<{ dropped: number }>("/_fake/stream/drop", {});

/** A fault outside Alpaca's reference: the canceled (or expired) Alpaca order `alpacaId` executes its remaining shares. */
export const lateFill = (alpacaId: string) => control<FakeOrder["order"]>(`/_fake/orders/${alpacaId}/late-fill`, {});

export interface FakeOrder {
  order: {
    id: string; client_order_id: string; status: string; qty: string; filled_qty: string; replaces: string | null; replaced_by: string | null;
    limit_price: string | null; stop_price: string | null; type: string; order_class: string;
  };
  executions: Execution[];
  /** For a leg of an oco order (and each replacement of it): the client_order_id of the oco's first order. */
  leg_of: string | null;
  triggered: boolean;
}

const listed = (prefix: string) => control<FakeOrder[]>(`/_fake/orders?client_order_id_prefix=${encodeURIComponent(prefix)}`);

/**
 * Every order the fake holds for a fillwire order: those whose client_order_id starts with `orderId`; for a
 * stop-loss that rode on its take-profit's oco order (`<entry>-sl` on `<entry>-tp`, `<oco>-sl` on `<oco>`),
 * Alpaca's leg of that order and the leg's replacements.
 */
export async function fakeOrders(orderId: string): Promise<FakeOrder[]> {
  if (!orderId.endsWith("-sl")) return (await listed(orderId)).filter((o) => !o.leg_of);
  const base = orderId.slice(0, -"-sl".length);
  return (await listed(base)).filter((o) => (o.leg_of ? o.leg_of === `${base}-tp` || o.leg_of === base : o.order.client_order_id.startsWith(orderId)));
}

export interface LoggedRequest {
  seq: number;
  method: string;
  path: string;
  status: number;
  at: number;
}

export const fakeRequests = (since = 0) => control<LoggedRequest[]>(`/_fake/requests?since=${since}`);

/** The highest request seq so far: later requests are what a test caused. */
export async function requestMark(): Promise<number> {
  return (await fakeRequests()).at(-1)?.seq ?? 0;
}

/** GET /api/v1/admin/venue as an admin. */
export async function venue(): Promise<Record<string, unknown> & { stream: Record<string, unknown> }> {
  return json(await call("/api/v1/admin/venue", { token: await adminToken() }));
}

/**
 * The trader's fills of an order agree with the fake's executions of every Alpaca order behind it: the same
 * count, quantities and prices (no fill twice, none lost).
 */
export async function expectFillsAgree(trader: Trader, orderId: string): Promise<void> {
  const order = await getOrder(trader, orderId);
  const executions = (await fakeOrders(orderId)).flatMap((o) => o.executions);
  const ours = order.fills.map((f) => [f.quantity_filled, f.price_at_fill]).sort();
  const theirs = executions.map((e) => [e.qty, e.price_cents / 100]).sort();
  expect(ours).toEqual(theirs);
  expect(order.filled_quantity).toBe(executions.reduce((n, e) => n + e.qty, 0));
}
