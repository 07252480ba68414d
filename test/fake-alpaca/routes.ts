// The fake's HTTP surface: Alpaca's Trading API v2 and Market Data v2 endpoints fillwire uses, each as its
// reference documents it, and /_fake/* for tests (prices, faults, inspection).
//   POST   /v2/orders                       https://docs.alpaca.markets/reference/orders (Request a new order)
//          order_class oco (take_profit + stop_loss): https://alpaca.markets/blog/oco-oto/ , oco.ts
//   GET    ...?nested=true                  an oco parent with its `legs` (https://docs.alpaca.markets/reference/getallorders)
//   GET    /v2/orders[?status&limit&direction&symbols&after&until]            (Get a list of orders)
//   GET    /v2/orders/{id}, /v2/orders:by_client_order_id?client_order_id=    (Get an order; by client order id)
//   PATCH  /v2/orders/{id}                  (Replace an order: a new order, new id)
//   DELETE /v2/orders/{id}                  (Cancel an order: 204; 422 when not cancelable)
//     fields and errors: https://github.com/alpacahq/alpaca-docs/blob/master/data/webapi/endpoints/orders.yaml
//   GET    /v2/account/activities[/FILL]    https://alpaca.markets/docs/api-references/trading-api/account-activities/
//   GET    /v2/stocks/{symbol}/quotes/latest, /trades/latest
//          https://alpaca.markets/docs/api-references/market-data-api/stock-pricing-data/historical/
// Auth: APCA-API-KEY-ID and APCA-API-SECRET-KEY headers on every /v2 call.
import { Hono, type Context } from "hono";
import { z } from "zod";
import type { FakeAlpaca } from "./account";
import { AccountFaults, FailNext, postFault, SymbolFaults, takeFailure } from "./faults";
import { randomId } from "./ids";
import { currentLegs, legOf, nest, parseOco, replacePriceError, type OcoExits } from "./oco";
import { activityId, activityJson, errorJson, isOpen, latestQuoteJson, latestTradeJson, orderJson, type StoredOrder } from "./shapes";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const Num = z.union([z.string(), z.number()]).transform(String);
const CreateBody = z.looseObject({
  symbol: z.string(), qty: Num, side: z.enum(["buy", "sell"]), type: z.enum(["market", "limit", "stop", "stop_limit", "trailing_stop"]),
  time_in_force: z.enum(["day", "gtc", "opg", "cls", "ioc", "fok"]), limit_price: Num.optional(), stop_price: Num.optional(),
  trail_price: Num.optional(), trail_percent: Num.optional(), client_order_id: z.string().optional(),
  // Advanced orders (https://docs.alpaca.markets/reference/postorder): the fake takes "oco" (oco.ts); "" or
  // "simple" is a simple order, as is a body without order_class (then take_profit/stop_loss are not read).
  order_class: z.string().optional(), take_profit: z.looseObject({ limit_price: Num.optional() }).optional(),
  stop_loss: z.looseObject({ stop_price: Num.optional(), limit_price: Num.optional() }).optional(),
});
const ReplaceBody = z.looseObject({
  qty: Num.optional(), time_in_force: z.string().optional(), limit_price: Num.optional(), stop_price: Num.optional(), trail: Num.optional(), client_order_id: z.string().optional(),
});

const unprocessable = (c: Context, message: string) => c.json(errorJson(40010001, message), 422);
const notFound = (c: Context) => c.json(errorJson(40410000, "order not found"), 404);
const cents = (v: string | undefined): number | null => (v === undefined ? null : Math.round(Number(v) * 100));
/** `nested=true`: an oco parent shows its legs (https://docs.alpaca.markets/reference/getorderbyorderid). */
const nested = (c: Context): boolean => c.req.query("nested") === "true";

export function buildRoutes(account: FakeAlpaca) {
  const store = account.store;
  const app = new Hono();

  // ------------------------------------------------------------------ /_fake: for tests and local runs
  app.post("/_fake/instruments/:symbol", async (c) => {
    const body = z.strictObject({ price: z.number().positive().optional(), tick: z.number().positive().optional(), depth: z.number().int().min(1).optional(), priced: z.boolean().optional(), faults: SymbolFaults.optional() }).safeParse(await c.req.json());
    if (!body.success) return c.json({ error: body.error.message }, 400);
    const b = body.data;
    return c.json(account.setInstrument(c.req.param("symbol"), { price_cents: cents(b.price?.toString()) ?? undefined, tick_cents: cents(b.tick?.toString()) ?? undefined, depth: b.depth, priced: b.priced, faults: b.faults }));
  });
  app.post("/_fake/faults", async (c) => {
    const body = AccountFaults.safeParse(await c.req.json());
    if (!body.success) return c.json({ error: body.error.message }, 400);
    store.saveSettings({ ...store.settings(), ...body.data });
    return c.json(store.settings());
  });
  app.post("/_fake/stream/drop", async (c) => {
    await c.req.arrayBuffer();
    return c.json({ dropped: account.dropStreams() });
  });
  app.post("/_fake/orders/:id/expire", async (c) => {
    await c.req.arrayBuffer();
    return c.json(account.expire(c.req.param("id")));
  });
  // A fault outside Alpaca's reference (which says a canceled order gets no further updates): an order that
  // ended canceled or expired executes its remaining shares after all, on the stream and in the activities.
  app.post("/_fake/orders/:id/late-fill", async (c) => {
    await c.req.arrayBuffer();
    const order = account.lateFill(c.req.param("id"));
    return order ? c.json(orderJson(order)) : c.json({ error: "no canceled or expired order with that id" }, 404);
  });
  app.get("/_fake/orders", (c) => {
    const prefix = c.req.query("client_order_id_prefix") ?? "";
    // `leg_of`: an oco leg's group's original parent's client_order_id (oco.ts), null for other orders. The
    // prefix matches a leg by its leg_of as well as by its own (generated) client_order_id, so asking for a
    // take-profit's client_order_id also shows its stop-loss leg (and the leg's replacements).
    const orders = store.orders("all").map((o) => ({ o, leg_of: legOf(store, o) }))
      .filter(({ o, leg_of }) => o.client_order_id.startsWith(prefix) || (leg_of !== null && leg_of.startsWith(prefix)));
    // `triggered`: whether a stop has triggered here, which Alpaca's own order does not show (for the drill).
    return c.json(orders.map(({ o, leg_of }) => ({ order: orderJson(o), executions: store.executions(o.id), triggered: o.triggered, leg_of })));
  });
  app.get("/_fake/requests", (c) => c.json(store.requests(Number(c.req.query("since") ?? "0"))));

  // ------------------------------------------------------------------ Alpaca: auth, injected failures, log
  app.use("/v2/*", async (c, next) => {
    const url = new URL(c.req.url);
    const seq = store.log(c.req.method, url.pathname + url.search);
    const { keyId, secretKey } = account.keys;
    if (c.req.header("APCA-API-KEY-ID") !== keyId || c.req.header("APCA-API-SECRET-KEY") !== secretKey) {
      await c.req.arrayBuffer().catch(() => undefined);
      c.res = c.json(errorJson(40110000, "request is not authorized"), 401);
    } else {
      const settings = store.settings();
      const { failure, rest } = takeFailure(settings.fail_next ?? [], c.req.method, c.req.path);
      if (failure) store.saveSettings({ ...settings, fail_next: rest });
      if (!failure || failure.after_effect) await next();
      else await c.req.arrayBuffer().catch(() => undefined); // read the body before answering without it
      if (failure) c.res = failed(c, failure);
    }
    store.answered(seq, c.res.status);
  });

  // ------------------------------------------------------------------ orders
  app.post("/v2/orders", async (c) => {
    const parsed = CreateBody.safeParse(await c.req.json().catch(() => null));
    if (!parsed.success) return unprocessable(c, `invalid order: ${parsed.error.issues[0]?.path.join(".")} ${parsed.error.issues[0]?.message}`);
    const b = parsed.data;
    const instrument = store.instrument(b.symbol);
    if (!instrument) return unprocessable(c, `asset "${b.symbol}" not found`);
    const qty = Number(b.qty);
    if (!Number.isInteger(qty) || qty < 1) return unprocessable(c, "qty must be a positive whole number of shares");
    const orderClass = b.order_class ?? "";
    if (orderClass !== "" && orderClass !== "simple" && orderClass !== "oco") return unprocessable(c, `order_class ${orderClass} is not supported by this fake`);
    let oco: OcoExits | null = null;
    if (orderClass === "oco") {
      const exits = parseOco(b);
      if (typeof exits === "string") return unprocessable(c, exits);
      oco = exits;
    }
    if (!oco && (b.type === "limit" || b.type === "stop_limit") && b.limit_price === undefined) return unprocessable(c, "limit_price is required");
    if ((b.type === "stop" || b.type === "stop_limit") && b.stop_price === undefined) return unprocessable(c, "stop_price is required");
    if (b.type === "trailing_stop" && (b.trail_price === undefined) === (b.trail_percent === undefined)) return unprocessable(c, "one of trail_price or trail_percent is required");
    if (b.type === "trailing_stop" && b.time_in_force !== "day" && b.time_in_force !== "gtc") return unprocessable(c, "trailing_stop orders take time_in_force day or gtc");
    const clientOrderId = b.client_order_id ?? randomId();
    if (clientOrderId.length > 48) return unprocessable(c, "client_order_id must be no more than 48 characters");
    if (store.orderByClientId(clientOrderId)) return unprocessable(c, "client_order_id must be unique");

    const fault = postFault(instrument.faults, store.countAttempt(clientOrderId));
    if (fault.kind === "reject") return c.json(errorJson(fault.status === 403 ? 40310000 : 40010001, fault.message), fault.status as 403);
    if (fault.kind === "hang") {
      await sleep(fault.ms); // the client gave up long ago; the order was lost on the way
      return c.json(errorJson(50400000, "gateway timeout"), 504);
    }
    if (fault.kind === "error") return failed(c, { status: fault.status, reset_in_ms: 1000 });
    if (fault.kind === "slow") {
      await sleep(fault.ms); // still on its way: only now does Alpaca take it
      if (store.orderByClientId(clientOrderId)) return unprocessable(c, "client_order_id must be unique");
    }
    const order = oco
      ? account.placeOco({ client_order_id: clientOrderId, symbol: b.symbol, side: b.side, time_in_force: b.time_in_force, qty, trail_cents: null, trail_percent: null, replaces: null }, oco).parent
      : account.place({
        client_order_id: clientOrderId, symbol: b.symbol, side: b.side, type: b.type, time_in_force: b.time_in_force, qty,
        limit_cents: cents(b.limit_price), stop_cents: cents(b.stop_price), trail_cents: cents(b.trail_price), trail_percent: b.trail_percent ?? null, replaces: null,
      });
    // The answer to an oco is its parent with `legs` (the stop-loss leg), whether or not nested was asked for.
    const answer = (o: StoredOrder) => orderJson(o, currentLegs(store, o));
    if (fault.kind === "late") {
      await sleep(fault.ms); // recorded (and trading) already; only the answer is late
      return c.json(answer(store.order(order.id)!), 200);
    }
    if (fault.kind === "slow" && fault.unanswered) return c.json(errorJson(50400000, "gateway timeout"), 504); // the client left long ago
    return c.json(answer(order), 200);
  });

  app.get("/v2/orders", (c) => {
    const status = (c.req.query("status") ?? "open") as "open" | "closed" | "all";
    const limit = Math.min(500, Number(c.req.query("limit") ?? "50"));
    const symbols = c.req.query("symbols")?.split(",");
    const after = c.req.query("after");
    const until = c.req.query("until");
    let list = store.orders(status).filter((o) => (!symbols || symbols.includes(o.symbol)) && (!after || o.created_at > after) && (!until || o.created_at < until));
    if ((c.req.query("direction") ?? "desc") === "desc") list = list.reverse();
    // Flat, legs included, unless nested=true: then an oco's leg is rolled up into its parent (oco.ts nest).
    const rows = nested(c) ? nest(store, list) : list.map((order) => ({ order, legs: null }));
    return c.json(rows.slice(0, limit).map(({ order, legs }) => orderJson(order, legs)));
  });

  const oneOrder = (c: Context, order: StoredOrder | null) => (order ? c.json(orderJson(order, nested(c) ? currentLegs(store, order) : null)) : notFound(c));
  app.get("/v2/orders:by_client_order_id", (c) => oneOrder(c, store.orderByClientId(c.req.query("client_order_id") ?? "")));
  app.get("/v2/orders/:id", (c) => oneOrder(c, store.order(c.req.param("id"))));

  app.delete("/v2/orders/:id", (c) => {
    const order = store.order(c.req.param("id"));
    if (!order) return notFound(c);
    if (!isOpen(order) || order.status === "pending_cancel") return c.json(errorJson(42210000, `order is already in "${order.status}" state`), 422);
    account.requestCancel(order);
    return c.body(null, 204);
  });

  app.patch("/v2/orders/:id", async (c) => {
    // The body is read first: the order is read after it, with no await between that read and the replace,
    // so a fill that lands meanwhile is not overwritten (an order filled meanwhile is not replaced).
    const body = await c.req.json().catch(() => null);
    const old = store.order(c.req.param("id"));
    if (!old) return notFound(c);
    if (!isOpen(old) || old.status.startsWith("pending_")) return c.json(errorJson(42210000, `order is not open (${old.status}); it cannot be replaced`), 422);
    const parsed = ReplaceBody.safeParse(body);
    if (!parsed.success) return unprocessable(c, "invalid replace request");
    const b = parsed.data;
    const changes: Parameters<FakeAlpaca["replace"]>[1] = {};
    if (b.qty !== undefined) changes.qty = Number(b.qty);
    if (b.time_in_force !== undefined) changes.time_in_force = b.time_in_force;
    if (b.limit_price !== undefined) changes.limit_cents = cents(b.limit_price);
    if (b.stop_price !== undefined) changes.stop_cents = cents(b.stop_price);
    if (b.trail !== undefined) Object.assign(changes, old.trail_cents !== null ? { trail_cents: cents(b.trail) } : { trail_percent: b.trail });
    const same = Object.entries(changes).every(([k, v]) => (old as unknown as Record<string, unknown>)[k] === v);
    if (same) return c.json(errorJson(40310000, "order parameters are not changed"), 403);
    const misordered = replacePriceError(store, old, changes);
    if (misordered) return unprocessable(c, misordered);
    const clientOrderId = (store.settings().replace_generates_client_order_id ? undefined : b.client_order_id) ?? randomId();
    if (store.orderByClientId(clientOrderId)) return unprocessable(c, "client_order_id must be unique");
    return c.json(orderJson(account.replace(old, changes, clientOrderId)));
  });

  // ------------------------------------------------------------------ activities
  const activities = (c: Context, types: string) => {
    if (!types.split(",").includes("FILL")) return c.json([]);
    let list = store.executions().sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
    const after = c.req.query("after");
    const until = c.req.query("until");
    list = list.filter((e) => (!after || e.at > after) && (!until || e.at < until));
    if ((c.req.query("direction") ?? "desc") === "desc") list.reverse();
    const token = c.req.query("page_token");
    if (token) list = list.slice(list.findIndex((e) => activityId(e) === token) + 1);
    const size = Math.min(100, Number(c.req.query("page_size") ?? "100"));
    return c.json(list.slice(0, size).map(activityJson));
  };
  app.get("/v2/account/activities", (c) => activities(c, c.req.query("activity_types") ?? "FILL"));
  app.get("/v2/account/activities/:type", (c) => activities(c, c.req.param("type")));

  // ------------------------------------------------------------------ market data
  app.get("/v2/stocks/:symbol/quotes/latest", (c) => {
    const i = store.instrument(c.req.param("symbol"));
    if (!i) return c.json(errorJson(40410000, "not found"), 404);
    return c.json(i.priced ? latestQuoteJson(i.symbol, i.price_cents - i.tick_cents, i.price_cents + i.tick_cents) : latestQuoteJson(i.symbol, 0, 0));
  });
  app.get("/v2/stocks/:symbol/trades/latest", (c) => {
    const i = store.instrument(c.req.param("symbol"));
    if (!i || !i.priced) return c.json(errorJson(40410000, "not found"), 404);
    return c.json(latestTradeJson(i.symbol, i.price_cents));
  });

  return app;
}

/** A failure answer: 429 with Alpaca's rate-limit headers, or an error status with an Alpaca-style body. */
function failed(c: Context, f: Pick<FailNext, "status" | "message" | "reset_in_ms">): Response {
  if (f.status === 429) {
    const reset = Math.ceil((Date.now() + (f.reset_in_ms ?? 1000)) / 1000);
    return c.json(errorJson(42910000, f.message ?? "rate limit exceeded"), 429, { "X-RateLimit-Limit": "200", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": String(reset) });
  }
  if (f.status === 404) return c.json(errorJson(40410000, f.message ?? "not found"), 404);
  return c.json(errorJson(f.status * 100000, f.message ?? "internal server error"), f.status as 500);
}
