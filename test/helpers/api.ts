// Calls the Worker exactly as a client would (through its fetch handler), plus small helpers that open
// accounts and wait for an order to reach a state.
import { exports } from "cloudflare:workers";
import { sign, type Role } from "./auth";
import type { Order, OrderWithFills, AuditEntry } from "../../worker/shared/orders";

export interface CallOptions {
  method?: string;
  token?: string | null;
  body?: unknown;
  headers?: Record<string, string>;
}

export async function call(path: string, options: CallOptions = {}): Promise<Response> {
  const headers = new Headers(options.headers);
  if (options.token) headers.set("Authorization", `Bearer ${options.token}`);
  let body: string | undefined;
  if (options.body !== undefined) {
    body = typeof options.body === "string" ? options.body : JSON.stringify(options.body);
    if (!headers.has("Content-Type")) headers.set("Content-Type", "application/json");
  }
  return exports.default.fetch(new Request(`http://fillwire.test${path}`, { method: options.method ?? (body ? "POST" : "GET"), headers, body }));
}

export async function json<T = Record<string, unknown>>(res: Response): Promise<T> {
  return (await res.json()) as T;
}

export interface Trader {
  id: string;
  token: string;
}

/** A fresh trader with its own account (unique id, so no test sees another's leftovers). */
export async function newTrader(cash: number, positions: { symbol: string; quantity: number; avg_price: number }[] = [], prefix = "t"): Promise<Trader> {
  const id = `${prefix}-${crypto.randomUUID().slice(0, 8)}`;
  const res = await call(`/api/v1/admin/accounts/${id}`, { method: "PUT", token: await sign("root", "admin"), body: { cash, positions } });
  if (res.status !== 201) throw new Error(`could not open account ${id}: ${res.status} ${await res.text()}`);
  return { id, token: await sign(id) };
}

export async function asTrader(id: string, role: Role = "trader"): Promise<Trader> {
  return { id, token: await sign(id, role) };
}

export async function submit(trader: Trader, order: Record<string, unknown>, headers?: Record<string, string>): Promise<Response> {
  return call("/api/v1/orders", { token: trader.token, body: order, headers });
}

export async function getOrder(trader: Trader, id: string): Promise<OrderWithFills> {
  return json<OrderWithFills>(await call(`/api/v1/orders/${id}`, { token: trader.token }));
}

export async function auditOf(trader: Trader, id: string): Promise<AuditEntry[]> {
  return (await json<{ data: AuditEntry[] }>(await call(`/api/v1/orders/${id}/audit`, { token: trader.token }))).data;
}

/** Polls until `done` holds (the venue and the alarms work in the background), or fails after `ms`. */
export async function eventually<T>(probe: () => Promise<T>, done: (value: T) => boolean, ms = 8000): Promise<T> {
  const until = Date.now() + ms;
  let value = await probe();
  while (!done(value)) {
    if (Date.now() > until) throw new Error(`condition not reached in ${ms} ms; last value: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 20));
    value = await probe();
  }
  return value;
}

export const untilStatus = (trader: Trader, id: string, ...statuses: Order["status"][]) =>
  eventually(() => getOrder(trader, id), (o) => statuses.includes(o.status));

export async function adminToken(): Promise<string> {
  return sign("root", "admin");
}

export async function setInstrument(symbol: string, body: Record<string, unknown>): Promise<Response> {
  return call(`/api/v1/admin/instruments/${symbol}`, { method: "PUT", token: await adminToken(), body });
}

export async function setFaults(symbol: string, body: Record<string, unknown>): Promise<Response> {
  return call(`/api/v1/admin/instruments/${symbol}/faults`, { method: "PUT", token: await adminToken(), body });
}

/** A private instrument for one test, so price moves and faults touch nobody else. */
export async function newInstrument(price: number, extra: Record<string, unknown> = {}): Promise<string> {
  const symbol = `T${crypto.randomUUID().replace(/-/g, "").slice(0, 8).toUpperCase()}`;
  const res = await setInstrument(symbol, { price, depth: 100000, ...extra });
  if (res.status !== 200) throw new Error(`could not create ${symbol}: ${res.status} ${await res.text()}`);
  return symbol;
}
