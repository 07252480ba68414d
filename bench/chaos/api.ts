// The drill's typed view of fillwire's HTTP API: every answer it reasons about is parsed with zod, so a
// changed contract fails loudly instead of passing an invariant by accident.
import { z } from "zod";
import { errorCode, type HttpClient, type HttpResult } from "../http.ts";

/** HELD: a contingent leg waiting for its parent's fill (never sent to the venue while it is HELD). */
const Status = z.enum(["HELD", "PENDING", "PARTIAL", "FILLED", "CANCELLED", "REJECTED", "EXPIRED"]);
export type Status = z.infer<typeof Status>;
export const FINAL: ReadonlySet<Status> = new Set(["FILLED", "CANCELLED", "REJECTED", "EXPIRED"]);

export const Order = z.object({
  id: z.string(),
  client_order_id: z.string().nullable(),
  symbol: z.string(),
  side: z.enum(["BUY", "SELL"]),
  quantity: z.number().int(),
  order_type: z.string(),
  time_in_force: z.string(),
  price: z.number().nullable(),
  stop_price: z.number().nullable(),
  status: Status,
  filled_quantity: z.number().int(),
  avg_fill_price: z.number().nullable(),
  reason: z.string().nullable(),
  updated_at: z.string(),
  /** When the venue confirmed the order's last amend (null: never amended). */
  amended_at: z.string().nullable().optional(),
  /** simple, or a contingent parent or leg (bracket, oto, oco); a leg names its parent (an oco's is its take-profit). */
  order_class: z.enum(["simple", "bracket", "oco", "oto"]).optional(),
  parent_order_id: z.string().nullable().optional(),
  /** TRAILING_STOP: the trail (dollars, or percent) and the high-water mark (the low for a BUY), dollars. */
  trail_price: z.number().nullable().optional(),
  trail_percent: z.number().nullable().optional(),
  hwm: z.number().nullable().optional(),
});
export type Order = z.infer<typeof Order>;

const Fill = z.object({ id: z.string(), order_id: z.string(), quantity_filled: z.number().int(), price_at_fill: z.number(), timestamp: z.string() });
export const OrderWithFills = Order.extend({ fills: z.array(Fill) });
export type OrderWithFills = z.infer<typeof OrderWithFills>;

const OrderPage = z.object({ data: z.array(Order), next_cursor: z.string().nullable() });

export const AuditEntry = z.object({
  id: z.string(),
  order_id: z.string(),
  action: z.string(),
  status: Status,
  timestamp: z.string(),
  reason: z.string().nullable(),
  error_code: z.string().nullable(),
  retry_attempt: z.number().int().nullable(),
});
export type AuditEntry = z.infer<typeof AuditEntry>;
const AuditList = z.object({ data: z.array(AuditEntry), total: z.number().int() });

export const Account = z.object({
  trader_id: z.string(),
  cash: z.number(),
  reserved: z.number(),
  /** avg_price: the average cost in dollars (micro-dollar precision); realized_pl: the sales' P&L, dollars to the cent. */
  positions: z.array(z.object({ symbol: z.string(), quantity: z.number().int(), avg_price: z.number(), realized_pl: z.number() })),
});
export type Account = z.infer<typeof Account>;

export const PositionValue = z.object({ symbol: z.string(), quantity: z.number().int(), available_quantity: z.number().int(), avg_price: z.number() });
export type PositionValue = z.infer<typeof PositionValue>;
const PositionList = z.object({ data: z.array(PositionValue) });

export const Activity = z.object({
  id: z.string(),
  activity_type: z.enum(["FILL", "CASH"]),
  timestamp: z.string(),
  net_amount: z.number(),
  order_id: z.string().nullable(),
  symbol: z.string().nullable(),
  side: z.enum(["BUY", "SELL"]).nullable(),
  quantity: z.number().int().nullable(),
  price: z.number().nullable(),
  realized_pl: z.number().nullable(),
  reason: z.string().nullable(),
});
export type Activity = z.infer<typeof Activity>;
const ActivityPage = z.object({ data: z.array(Activity), next_cursor: z.string().nullable() });

/** One result of DELETE /api/v1/orders (cancel all): the status a single cancel would answer, and its body. */
export const CancelOutcome = z.object({
  id: z.string(),
  status: z.number().int(),
  order: Order.nullable(),
  error: z.object({ error: z.string(), message: z.string(), details: z.record(z.string(), z.unknown()).optional() }).nullable(),
});
export type CancelOutcome = z.infer<typeof CancelOutcome>;
export const CancelAllAnswer = z.object({ data: z.array(CancelOutcome) });
export const CloseAllAnswer = z.object({ data: z.array(Order), errors: z.array(z.object({ symbol: z.string(), error: z.string(), message: z.string() })) });

export const VenueRow = z.object({ key: z.string(), order_id: z.string(), state: z.string(), filled: z.number().int(), fills: z.number().int() });
export type VenueRow = z.infer<typeof VenueRow>;
const VenueList = z.object({ data: z.array(VenueRow) });

export const Verify = z.object({
  ok: z.boolean(),
  checked: z.number().int(),
  traders: z.number().int(),
  first_bad: z.object({ trader_id: z.string(), chain_seq: z.number().int(), id: z.string().nullable(), problem: z.string() }).nullable(),
});
export type Verify = z.infer<typeof Verify>;

/** A request that did not get the expected status; `code` is fillwire's error code when there is one. */
export class ApiFailure extends Error {
  readonly result: HttpResult;
  constructor(result: HttpResult, what: string) {
    super(`${what}: ${errorCode(result)} ${result.text.slice(0, 300)}`);
    this.result = result;
  }
}

const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms));

export class Api {
  readonly http: HttpClient;
  private readonly baseUrl: string;
  constructor(http: HttpClient, baseUrl: string) {
    this.http = http;
    this.baseUrl = baseUrl.replace(/\/$/, "");
  }

  /** GET with a few retries on 5xx and network errors: a desk restarted by the drill answers 500 once. */
  async get<T>(path: string, token: string, schema: z.ZodType<T>): Promise<T> {
    let last: unknown = null;
    for (let attempt = 0; attempt < 6; attempt++) {
      try {
        const res = await this.http.send("GET", path, { token, timeoutMs: 30_000 });
        if (res.status === 200) return schema.parse(JSON.parse(res.text));
        if (res.status < 500) throw new ApiFailure(res, `GET ${path}`);
        last = new ApiFailure(res, `GET ${path}`);
      } catch (err) {
        if (err instanceof ApiFailure && err.result.status < 500) throw err;
        if (err instanceof z.ZodError) throw new Error(`GET ${path}: unexpected answer shape: ${err.message}`);
        last = err;
      }
      await sleep(200 * 2 ** attempt);
    }
    throw last instanceof Error ? last : new Error(`GET ${path} failed`);
  }

  /** Every order of the trader, following the cursor. */
  async orders(token: string): Promise<Order[]> {
    const out: Order[] = [];
    let cursor: string | null = null;
    do {
      const page: z.infer<typeof OrderPage> = await this.get(`/api/v1/orders?limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`, token, OrderPage);
      out.push(...page.data);
      cursor = page.next_cursor;
    } while (cursor);
    return out;
  }

  order(token: string, id: string): Promise<OrderWithFills> {
    return this.get(`/api/v1/orders/${id}`, token, OrderWithFills);
  }

  async audit(token: string, id: string): Promise<AuditEntry[]> {
    return (await this.get(`/api/v1/orders/${id}/audit`, token, AuditList)).data;
  }

  account(token: string): Promise<Account> {
    return this.get("/api/v1/account", token, Account);
  }

  async positions(token: string): Promise<PositionValue[]> {
    return (await this.get("/api/v1/positions", token, PositionList)).data;
  }

  /** The whole activity ledger (newest first), following the cursor. */
  async activities(token: string): Promise<Activity[]> {
    const out: Activity[] = [];
    let cursor: string | null = null;
    do {
      const page: z.infer<typeof ActivityPage> = await this.get(`/api/v1/account/activities?limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`, token, ActivityPage);
      out.push(...page.data);
      cursor = page.next_cursor;
    } while (cursor);
    return out;
  }

  async venueLedger(adminToken: string, symbol: string): Promise<VenueRow[]> {
    return (await this.get(`/api/v1/admin/drills/venue/${symbol}/orders`, adminToken, VenueList)).data;
  }

  /** How many audit rows D1 holds stamped at or after `from` (up to 1,000). */
  async executionsSince(complianceToken: string, from: string): Promise<number> {
    const page = await this.get(`/api/v1/compliance/executions?from=${encodeURIComponent(from)}&limit=1000`, complianceToken, z.object({ data: z.array(z.unknown()) }));
    return page.data.length;
  }

  verify(complianceToken: string, traderId?: string): Promise<Verify> {
    return this.get(`/api/v1/compliance/audit/verify${traderId ? `?trader_id=${encodeURIComponent(traderId)}` : ""}`, complianceToken, Verify);
  }

  /**
   * A request with headers of its own (bench/http.ts sends none but the token): an amend's Idempotency-Key.
   * Rejects on a network failure or the timeout, as HttpClient.send does.
   */
  async sendWithHeaders(method: string, path: string, o: { token: string; body?: unknown; headers: Record<string, string>; timeoutMs: number }): Promise<HttpResult> {
    const res = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${o.token}`, ...(o.body === undefined ? {} : { "content-type": "application/json" }), ...o.headers },
      body: o.body === undefined ? undefined : JSON.stringify(o.body),
      signal: AbortSignal.timeout(o.timeoutMs),
    });
    return { status: res.status, text: await res.text(), at: performance.now() };
  }

  /** An admin write that must succeed (setup and fault switches); retried on 5xx. */
  async adminWrite(method: "PUT" | "POST", path: string, adminToken: string, body: unknown, expect: number): Promise<HttpResult> {
    let last: unknown = null;
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        const res = await this.http.send(method, path, { token: adminToken, body });
        if (res.status === expect) return res;
        if (res.status < 500) throw new ApiFailure(res, `${method} ${path}`);
        last = new ApiFailure(res, `${method} ${path}`);
      } catch (err) {
        if (err instanceof ApiFailure && err.result.status < 500) throw err;
        last = err;
      }
      await sleep(200 * 2 ** attempt);
    }
    throw last instanceof Error ? last : new Error(`${method} ${path} failed`);
  }
}

export const cents = (dollars: number) => Math.round(dollars * 100);
