// Alpaca's REST API as typed calls. Refusals (403, 422) are AlpacaRefusal with Alpaca's message; 429, 5xx,
// timeouts and network failures are AlpacaUnavailable, which the desk retries with its backoff. After a
// 429 no request goes to that host before its X-RateLimit-Reset (fail fast instead). Secrets go in headers
// only: no message, error or log line built here contains them.
// Headers APCA-API-KEY-ID / APCA-API-SECRET-KEY: https://docs.alpaca.markets/reference/orders
// Rate-limit headers (X-RateLimit-Reset, epoch seconds): https://www.skills.sh/alpacahq/alpaca-skills/alpaca-broker-rate-limits-resilience
import type { z } from "zod";
import type { AlpacaConfig } from "./config";
import type { AlpacaBody } from "./mapping";
import { Activity, AlpacaError, AlpacaOrder, FillActivity, LatestQuote, LatestTrade } from "./wire";

/** Alpaca refused the request (403, 422): an answer, not an outage. */
export class AlpacaRefusal extends Error {
  constructor(readonly status: number, readonly alpacaMessage: string) {
    super(`Alpaca refused it (HTTP ${status}): ${alpacaMessage}`);
  }
}

/** Alpaca could not be reached or asked to come back later (429, 5xx, timeout, network). */
export class AlpacaUnavailable extends Error {}

/** Open orders per page (Alpaca's maximum for GET /v2/orders), and pages read at most (10,000 orders). */
const OPEN_ORDER_PAGE = 500;
const OPEN_ORDER_PAGES = 20;

/** Per host: no request before this epoch ms (set by a 429). Shared by every desk in this isolate. */
const blockedUntil = new Map<string, number>();

export interface FillPage {
  fills: FillActivity[];
  /** The id of the last activity on the page (any type): the next page starts after it. */
  lastId: string | null;
  full: boolean;
}

export class AlpacaClient {
  constructor(private readonly config: AlpacaConfig, private readonly now: () => number = Date.now) {}

  /** When the next request to the Trading API may go (after a 429), or 0. */
  notBefore(): number {
    return blockedUntil.get(new URL(this.config.apiUrl).host) ?? 0;
  }

  /** POST /v2/orders */
  createOrder(body: AlpacaBody): Promise<AlpacaOrder> {
    return this.call("POST", this.config.apiUrl, "/v2/orders", AlpacaOrder, body).then(required);
  }

  /** GET /v2/orders/{id} (`nested`: an oco with its legs); null when Alpaca does not know it. */
  getOrder(id: string, nested = false): Promise<AlpacaOrder | null> {
    return this.call("GET", this.config.apiUrl, `/v2/orders/${encodeURIComponent(id)}${nested ? "?nested=true" : ""}`, AlpacaOrder);
  }

  /** GET /v2/orders:by_client_order_id; a replaced order comes back with status replaced and replaced_by. */
  getByClientOrderId(clientOrderId: string): Promise<AlpacaOrder | null> {
    return this.call("GET", this.config.apiUrl, `/v2/orders:by_client_order_id?client_order_id=${encodeURIComponent(clientOrderId)}`, AlpacaOrder);
  }

  /**
   * Every Alpaca order behind a fillwire order, oldest first: the original by its client_order_id, then each
   * replacement by `replaced_by`. null when Alpaca never received the order.
   */
  async chain(orderId: string): Promise<AlpacaOrder[] | null> {
    const first = await this.getByClientOrderId(orderId);
    if (!first) return null;
    const chain = [first];
    for (let next = first.replaced_by; next && chain.length < 100; ) {
      const order = await this.getOrder(next);
      if (!order) break;
      chain.push(order);
      next = order.replaced_by;
    }
    return chain;
  }

  /**
   * Every open order of the account: GET /v2/orders?status=open, oldest first, in pages of 500 (Alpaca's
   * most per call). The next page asks for orders submitted `after` the last one's submitted_at (exclusive,
   * https://docs.alpaca.markets/reference/getallorders), less a millisecond, so orders that share that
   * instant are read twice rather than missed; each order is kept once. Stops at `maxPages`, or at a page
   * that brings no order not already read.
   */
  async openOrders(maxPages = OPEN_ORDER_PAGES): Promise<AlpacaOrder[]> {
    const byId = new Map<string, AlpacaOrder>();
    let after: string | null = null;
    for (let page = 0; page < maxPages; page++) {
      const query: string = `/v2/orders?status=open&limit=${OPEN_ORDER_PAGE}&direction=asc${after ? `&after=${encodeURIComponent(after)}` : ""}`;
      const list: AlpacaOrder[] = (await this.call("GET", this.config.apiUrl, query, AlpacaOrder.array())) ?? [];
      const before = byId.size;
      for (const order of list) byId.set(order.id, order);
      const last = list.at(-1);
      const submitted: number = last ? Date.parse(last.submitted_at ?? last.created_at ?? "") : NaN;
      if (list.length < OPEN_ORDER_PAGE) return [...byId.values()];
      if (byId.size === before || !Number.isFinite(submitted)) break;
      after = new Date(submitted - 1).toISOString();
    }
    // Not read to the end: the orders past here are read one by one where the link holds them as working.
    console.warn(`alpaca: read ${byId.size} open orders, not all of them (${maxPages} pages at most, or 500 submitted in one millisecond)`);
    return [...byId.values()];
  }

  /** DELETE /v2/orders/{id}: "accepted" (204), "unknown" (404), or Alpaca's reason it cannot (422). */
  async cancelOrder(id: string): Promise<{ outcome: "accepted" | "unknown" } | { outcome: "refused"; message: string }> {
    try {
      const found = await this.call("DELETE", this.config.apiUrl, `/v2/orders/${encodeURIComponent(id)}`, null);
      return { outcome: found === null ? "unknown" : "accepted" };
    } catch (err) {
      if (err instanceof AlpacaRefusal) return { outcome: "refused", message: err.alpacaMessage };
      throw err;
    }
  }

  /** PATCH /v2/orders/{id}: the replacement (a new order, with a new id); null when the order is unknown. */
  replaceOrder(id: string, body: AlpacaBody): Promise<AlpacaOrder | null> {
    return this.call("PATCH", this.config.apiUrl, `/v2/orders/${encodeURIComponent(id)}`, AlpacaOrder, body);
  }

  /** One page (oldest first) of FILL activities after `after` (ISO time) or after activity `pageToken`. */
  async fills(after: string, pageToken: string | null, pageSize = 100): Promise<FillPage> {
    const q = new URLSearchParams({ activity_types: "FILL", direction: "asc", page_size: String(pageSize), after });
    if (pageToken) q.set("page_token", pageToken);
    const list = (await this.call("GET", this.config.apiUrl, `/v2/account/activities?${q}`, Activity.array())) ?? [];
    const fills = list.filter((a) => a.activity_type === "FILL").map((a) => FillActivity.parse(a));
    return { fills, lastId: list.at(-1)?.id ?? null, full: list.length >= pageSize };
  }

  /** The latest quote, or null when Alpaca has none for the symbol. */
  latestQuote(symbol: string): Promise<z.output<typeof LatestQuote> | null> {
    return this.call("GET", this.config.dataUrl, `/v2/stocks/${encodeURIComponent(symbol)}/quotes/latest${this.feed()}`, LatestQuote);
  }

  /** The latest trade, or null when Alpaca has none for the symbol. */
  latestTrade(symbol: string): Promise<z.output<typeof LatestTrade> | null> {
    return this.call("GET", this.config.dataUrl, `/v2/stocks/${encodeURIComponent(symbol)}/trades/latest${this.feed()}`, LatestTrade);
  }

  private feed(): string {
    return this.config.dataFeed ? `?feed=${encodeURIComponent(this.config.dataFeed)}` : "";
  }

  /**
   * One request. Answers the parsed body (true for an empty 2xx), null for 404; throws AlpacaRefusal for
   * 403/422 and AlpacaUnavailable for everything that should be tried again later.
   */
  private async call<S extends z.ZodType>(method: string, base: string, path: string, schema: S | null, body?: unknown): Promise<z.output<S> | null> {
    const credentials = this.config.credentials;
    if (!credentials) throw new AlpacaUnavailable("ALPACA_KEY_ID and ALPACA_SECRET_KEY are not set (wrangler secret put ...)");
    const host = new URL(base).host;
    const wait = (blockedUntil.get(host) ?? 0) - this.now();
    if (wait > 0) throw new AlpacaUnavailable(`Alpaca rate limit: no request to ${host} before ${new Date(this.now() + wait).toISOString()}`);
    let res: Response;
    try {
      res = await fetch(base + path, {
        method,
        headers: {
          "APCA-API-KEY-ID": credentials.keyId, "APCA-API-SECRET-KEY": credentials.secretKey,
          ...(body === undefined ? {} : { "Content-Type": "application/json" }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.config.requestTimeoutMs),
      });
    } catch (err) {
      throw new AlpacaUnavailable(`${method} ${path}: no answer from Alpaca (${err instanceof Error ? err.name : "error"})`);
    }
    if (res.status === 404) {
      await res.body?.cancel();
      return null;
    }
    if (res.status === 429) {
      blockedUntil.set(host, resetAt(res, this.now()));
      await res.body?.cancel();
      throw new AlpacaUnavailable(`${method} ${path}: Alpaca rate limit (429); retry after ${new Date(blockedUntil.get(host)!).toISOString()}`);
    }
    if (res.status === 403 || res.status === 422) throw new AlpacaRefusal(res.status, await messageOf(res));
    if (!res.ok) throw new AlpacaUnavailable(`${method} ${path}: Alpaca answered HTTP ${res.status}: ${await messageOf(res)}`);
    if (schema === null || res.status === 204) {
      await res.body?.cancel();
      return true as z.output<S>;
    }
    const parsed = schema.safeParse(await res.json().catch(() => undefined));
    if (!parsed.success) throw new AlpacaUnavailable(`${method} ${path}: Alpaca's answer is not the documented shape`);
    return parsed.data;
  }
}

/** X-RateLimit-Reset (epoch seconds), else Retry-After (seconds), else one second from now. */
function resetAt(res: Response, nowMs: number): number {
  const reset = Number(res.headers.get("X-RateLimit-Reset"));
  if (Number.isFinite(reset) && reset > 0) return Math.max(nowMs, reset * 1000);
  const after = Number(res.headers.get("Retry-After"));
  return nowMs + (Number.isFinite(after) && after > 0 ? after * 1000 : 1000);
}

async function messageOf(res: Response): Promise<string> {
  const text = await res.text().catch(() => "");
  try {
    const parsed = AlpacaError.safeParse(JSON.parse(text));
    if (parsed.success) return parsed.data.message.slice(0, 300);
  } catch {
    // not JSON: fall through to the status text
  }
  return (text.trim() || res.statusText || "no message").slice(0, 300);
}

function required<T>(value: T | null): T {
  if (value === null) throw new AlpacaUnavailable("Alpaca answered 404 to an order request");
  return value;
}

/** Forgets every rate-limit block (tests only: each starts from a clean isolate state). */
export function clearRateLimitBlocks(): void {
  blockedUntil.clear();
}
