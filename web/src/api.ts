// The page's calls to the Worker, through Hono's typed client: paths, bodies and answers are the
// Worker's own route types (AppType), so a changed route breaks this build, not a trader's click.
import { hc, type ClientResponse } from "hono/client";
import type { AppType } from "../../worker/index";
import { ErrorBody } from "../../worker/shared/errors";
import type { AmendRequest, OrderRequestInput, Side } from "../../worker/shared/orders";
import type { reportQuery } from "./compliance";
import type { Role } from "./session";

const REQUEST_TIMEOUT_MS = 15_000;
/** A month of a busy desk as CSV takes a while to stream; it still must not hang forever. */
const DOWNLOAD_TIMEOUT_MS = 10 * 60_000;
/** Rows per page of the compliance report on screen (the CSV holds the whole range). */
export const REPORT_PAGE_ROWS = 50;

/** A failed call: the server's {error, message, details}, or NETWORK_ERROR when it could not be reached. */
export { ApiFailure } from "./api-failure";
import { ApiFailure } from "./api-failure";

type Success = 200 | 201;
/** The JSON body of the successful responses among a route's declared responses. */
type Body<R> = R extends ClientResponse<infer B, infer S, infer F> ? (S extends Success ? (F extends "json" ? B : never) : never) : never;

async function data<R extends ClientResponse<unknown, number, string>>(call: Promise<R>): Promise<Body<R>> {
  let res: R;
  try {
    res = await call;
  } catch (err) {
    const timedOut = err instanceof DOMException && err.name === "TimeoutError";
    throw new ApiFailure(0, "NETWORK_ERROR", timedOut ? "fillwire did not answer in time; check your connection and try again" : "Could not reach fillwire; check your connection and try again");
  }
  if (res.ok) return (await res.json()) as Body<R>;
  const parsed = ErrorBody.safeParse(await res.json().catch(() => null));
  if (parsed.success) throw new ApiFailure(res.status, parsed.data.error, parsed.data.message, parsed.data.details);
  throw new ApiFailure(res.status, "HTTP_ERROR", `fillwire answered ${res.status} ${res.statusText}`.trim());
}

/** A file answer (the CSV report): its bytes and the Content-Disposition the server set. */
async function file(call: Promise<ClientResponse<unknown, number, string>>): Promise<{ blob: Blob; contentDisposition: string | null }> {
  let res: ClientResponse<unknown, number, string>;
  try {
    res = await call;
    if (res.ok) return { blob: await res.blob(), contentDisposition: res.headers.get("Content-Disposition") };
  } catch (err) {
    const timedOut = err instanceof DOMException && err.name === "TimeoutError";
    throw new ApiFailure(0, "NETWORK_ERROR", timedOut ? "The download took too long and was stopped; try a shorter range" : "The download was interrupted; check your connection and try again");
  }
  const parsed = ErrorBody.safeParse(await res.json().catch(() => null));
  if (parsed.success) throw new ApiFailure(res.status, parsed.data.error, parsed.data.message, parsed.data.details);
  throw new ApiFailure(res.status, "HTTP_ERROR", `fillwire answered ${res.status} ${res.statusText}`.trim());
}

const init = (timeoutMs = REQUEST_TIMEOUT_MS) => ({ init: { signal: AbortSignal.timeout(timeoutMs) } });

/** Calls signed with `token()`; `onUnauthorized` hears of a 401 (an expired or revoked token). */
export function createApi(token: () => string | null, onUnauthorized: () => void = () => {}) {
  const client = hc<AppType>(location.origin, {
    headers: (): Record<string, string> => {
      const t = token();
      return t ? { Authorization: `Bearer ${t}` } : {};
    },
  });
  const v1 = client.api.v1;

  async function call<T>(promise: Promise<T>): Promise<T> {
    try {
      return await promise;
    } catch (err) {
      if (err instanceof ApiFailure && err.status === 401) onUnauthorized();
      throw err;
    }
  }

  return {
    /** Tell the page a refusal elsewhere (the socket's reject) was a 401, as an HTTP 401 does. */
    unauthorized: () => onUnauthorized(),
    instruments: () => call(data(v1.instruments.$get({}, init()))),
    account: () => call(data(v1.account.$get({}, init()))),
    /** A page of orders, newest first, a contingent parent with its legs (nested). */
    orders: (cursor?: string) => call(data(v1.orders.$get({ query: { limit: "100", nested: "true", ...(cursor ? { cursor } : {}) } }, init()))),
    /** The working orders not yet triggered or filled (PENDING): where trailing stops' marks and stops stand now. */
    pendingOrders: () => call(data(v1.orders.$get({ query: { status: "PENDING", limit: "500" } }, init()))),
    order: (id: string) => call(data(v1.orders[":id"].$get({ param: { id } }, init()))),
    audit: (id: string) => call(data(v1.orders[":id"].audit.$get({ param: { id } }, init()))),
    submit: (body: OrderRequestInput, idempotencyKey: string) =>
      call(data(v1.orders.$post({ json: body, header: { "idempotency-key": idempotencyKey } }, init()))),
    cancel: (id: string) => call(data(v1.orders[":id"].cancel.$post({ param: { id } }, init()))),
    /** New terms for a working order (only the fields that change); one Idempotency-Key per edit. */
    amend: (id: string, body: AmendRequest, idempotencyKey: string) =>
      call(data(v1.orders[":id"].$patch({ param: { id }, json: body, header: { "idempotency-key": idempotencyKey } }, init()))),
    /** Cancel every working order, or those of one symbol (and side): one outcome per order. */
    cancelAll: (filter: { symbol?: string; side?: Side } = {}) => call(data(v1.orders.$delete({ query: filter }, init()))),
    /** Sell all of a position, or `quantity` shares, or `percentage` of it, at market. */
    closePosition: (symbol: string, part: { quantity?: string; percentage?: string } = {}) =>
      call(data(v1.positions[":symbol"].$delete({ param: { symbol }, query: part }, init()))),
    closeAllPositions: () => call(data(v1.positions.$delete({}, init()))),
    /** One page of the execution report, newest first. */
    executions: async (query: ReturnType<typeof reportQuery>, cursor?: string) => {
      const page = await call(data(v1.compliance.executions.$get({ query: { ...query, limit: String(REPORT_PAGE_ROWS), ...(cursor ? { cursor } : {}) } }, init())));
      // The route's 200 is JSON or CSV (format=csv); this call asked for JSON.
      if (typeof page !== "object" || page === null || !("next_cursor" in page)) throw new ApiFailure(0, "HTTP_ERROR", "fillwire answered the report in an unexpected format");
      return page;
    },
    /** The whole report as CSV, fetched with the Authorization header (never a token in a URL). */
    executionsCsv: (query: ReturnType<typeof reportQuery>) => call(file(v1.compliance.executions.$get({ query: { ...query, format: "csv" } }, init(DOWNLOAD_TIMEOUT_MS)))),
    /** Recompute the audit hash chain of one trader, or of every trader. */
    verifyAudit: (traderId?: string) => call(data(v1.compliance.audit.verify.$get({ query: traderId ? { trader_id: traderId } : {} }, init()))),
    setPrice: (symbol: string, price: number) => call(data(v1.admin.instruments[":symbol"].$put({ param: { symbol }, json: { price } }, init()))),
    /** The venue link's state (admin): the Alpaca stream link's, or the simulator's. */
    venue: () => call(data(v1.admin.venue.$get({}, init()))),
    /**
     * The live events URL; the token and resume point are recomputed on every (re)connect. A first
     * connection (no `since`) asks for the snapshot: the working orders and the account at the acknowledged seq.
     */
    eventsUrl: (authToken: string, since: number | null): string => {
      const query = since !== null ? { token: authToken, since: String(since) } : { token: authToken, snapshot: "1" };
      const url = client.ws.orders.events.$url({ query });
      url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
      return url.toString();
    },
  };
}
export type Api = ReturnType<typeof createApi>;

/** Local development sign-in (exists only when the Worker runs with DEV_LOGIN=true). */
export const devLogin = {
  /** The seeded people, or null when this deployment has no dev sign-in. */
  async people(): Promise<{ sub: string; role: Role; cash: number | null }[] | null> {
    const res = await hc<AppType>(location.origin).api.v1.dev.login.$get({}, init());
    if (res.status === 404) return null;
    if (!res.ok) throw new ApiFailure(res.status, "HTTP_ERROR", `Sign-in list unavailable (${res.status})`);
    return (await res.json()).users;
  },
  async token(sub: string, role: Role): Promise<string> {
    const res = await fetch("/api/v1/dev/login", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ sub, role }),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const body: unknown = await res.json().catch(() => null);
    if (res.ok && typeof body === "object" && body !== null && "token" in body && typeof body.token === "string") return body.token;
    const error = ErrorBody.safeParse(body);
    throw new ApiFailure(res.status, error.success ? error.data.error : "HTTP_ERROR", error.success ? error.data.message : `Sign-in failed (${res.status})`);
  },
};
