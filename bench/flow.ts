// The open-loop order flow shared by the open, wsorders, sockets and mix phases: traders submit on a fixed
// schedule through a door (HTTP, or the trader's own socket), limit orders are amended and cancelled after
// resting, and afterwards every submit is matched with the events its trader's primary socket recorded.
import { FINAL_EVENTS, checkDelivery, type Arrival, type Delivery, type Trader } from "./clients.ts";
import { errorCode, type HttpClient } from "./http.ts";
import { openLoop, cpuMeter, type CpuUse } from "./loops.ts";
import { OrderChannel } from "./order-socket.ts";
import { round, summarize, tally, type Summary } from "./stats.ts";

export type OrderKind = "market" | "limit" | "amended" | "partial";
/** How orders reach the desk: POST/PATCH over HTTP, or commands on the trader's primary socket. */
export type DoorName = "http" | "socket";

export interface OrderPlan {
  kind: OrderKind;
  body: Record<string, string | number>;
  /** Limit orders: cancel this long after the submit's answer (after the amend's answer when amended). */
  cancelAfterMs?: number;
  /** Amended limit orders: once resting (order.accepted), at least this long after the submit's answer, amend with `changes`. */
  amend?: { afterMs: number; changes: Record<string, number> };
}

/** One answer from the desk, whichever door it came through. */
export interface Answer {
  ok: boolean;
  /** performance.now() when the answer arrived (last byte of the HTTP response, or the ack frame). */
  at: number;
  orderId: string | null;
  /** `${status} ${CODE}` when refused. */
  error: string | null;
  /** The refused order's status, from details.status (409 ORDER_NOT_AMENDABLE, ORDER_NOT_CANCELLABLE). */
  orderStatus: string | null;
}

export interface Door {
  name: DoorName;
  submit(trader: Trader, body: Record<string, unknown>): Promise<Answer>;
  cancel(trader: Trader, orderId: string): Promise<Answer>;
  amend(trader: Trader, orderId: string, changes: Record<string, unknown>): Promise<Answer>;
}

function refusedStatus(details: unknown): string | null {
  const status = details && typeof details === "object" ? (details as { status?: unknown }).status : undefined;
  return typeof status === "string" ? status : null;
}

export function httpDoor(http: HttpClient): Door {
  const answer = async (sent: Promise<{ status: number; text: string; at: number }>, okStatus: number): Promise<Answer> => {
    const res = await sent;
    if (res.status === okStatus) return { ok: true, at: res.at, orderId: orderIdOf(res.text), error: null, orderStatus: null };
    let orderStatus: string | null = null;
    try {
      orderStatus = refusedStatus((JSON.parse(res.text) as { details?: unknown }).details);
    } catch {
      // not JSON
    }
    return { ok: false, at: res.at, orderId: null, error: errorCode(res), orderStatus };
  };
  return {
    name: "http",
    submit: (t, body) => answer(http.send("POST", "/api/v1/orders", { token: t.token, body }), 201),
    cancel: (t, id) => answer(http.send("POST", `/api/v1/orders/${id}/cancel`, { token: t.token }), 200),
    amend: (t, id, changes) => answer(http.send("PATCH", `/api/v1/orders/${id}`, { token: t.token, body: changes }), 200),
  };
}

/** Commands on each trader's primary socket (the one that also hears its events). */
export function socketDoor(): Door {
  const answer = async (t: Trader, command: Record<string, unknown>): Promise<Answer> => {
    const a = await OrderChannel.on(t.primary).send(command);
    return a.ok
      ? { ok: true, at: a.at, orderId: a.orderId, error: null, orderStatus: null }
      : { ok: false, at: a.at, orderId: null, error: `${a.status} ${a.error ?? "reject"}`, orderStatus: refusedStatus(a.details) };
  };
  return {
    name: "socket",
    submit: (t, order) => answer(t, { type: "submit", order }),
    cancel: (t, orderId) => answer(t, { type: "cancel", order_id: orderId }),
    amend: (t, orderId, changes) => answer(t, { type: "amend", order_id: orderId, changes }),
  };
}

interface Step {
  sentAt: number;
  respondedAt: number | null;
  ok: boolean;
  error: string | null;
  orderStatus: string | null;
}

interface OrderRecord extends Step {
  kind: OrderKind;
  trader: Trader;
  orderId: string | null;
  amend: Step | null;
  cancel: Step | null;
}

export interface FlowSettings {
  /** Default: HTTP through `http`. */
  door?: Door;
  http: HttpClient;
  url: string;
  traders: readonly Trader[];
  /** Orders per second per trader. */
  rate: number;
  durationS: number;
  plan: (trader: Trader, n: number) => OrderPlan;
  workerdPids: () => number[];
  /** How long to wait after the last submit for events still on their way. */
  drainMs?: number;
}

export interface KindFigures {
  submitted: number;
  accepted: number;
  /** submit → 201 (HTTP door) or → ack (socket door). */
  submitTo201: Summary;
  /** MARKET and TEST_PARTIAL: submit → order.filled. LIMIT: submit → order.accepted (resting at the venue). */
  submitToEvent: Summary;
  /** LIMIT only: cancel → 200, and cancel → order.cancelled on the socket. */
  cancelTo200?: Summary;
  cancelToEvent?: Summary;
  /** Amended LIMIT only: amend → 200, and amend → order.replaced on the socket. */
  amendTo200?: Summary;
  amendToEvent?: Summary;
  /** TEST_PARTIAL only: submit → first order.partial. */
  submitToPartial?: Summary;
}

export interface FlowFigures {
  /** How the orders went in (absent in results written before the socket door: HTTP). */
  door?: DoorName;
  traders: number;
  socketsPerTrader: number;
  ratePerTrader: number;
  durationS: number;
  submitted: number;
  accepted: number;
  /** Orders accepted per second over the run. */
  acceptedPerSecond: number;
  /** Refused submits and network failures, by status and error code. */
  errors: Record<string, number>;
  cancelErrors: Record<string, number>;
  /** Amends sent; amends refused 409 because the order was already final (filled meanwhile), by its status: not errors, but never hidden; other refusals. */
  amends?: { sent: number; ok: number; finalMeanwhile: Record<string, number>; errors: Record<string, number> };
  /** submit → 201 (HTTP door) or submit → ack (socket door). */
  submitTo201: Summary;
  /** submit → order.filled on the trader's socket (filled orders of every kind). */
  submitToFilled: Summary;
  /** An event's arrival minus its own timestamp, every event on the primary sockets. */
  eventGap: Summary;
  /** Accepted orders whose final event never arrived on the primary socket. */
  unfinished: number;
  /** Orders that ended other than their kind should (a MARKET order CANCELLED, a LIMIT order FILLED...). */
  unexpected: Record<string, number>;
  byKind: Partial<Record<OrderKind, KindFigures>>;
  delivery: Delivery;
  /** How late the generator fired against its schedule: large values mean the bench, not the desk, lagged. */
  scheduleLag: Summary;
  cpu: CpuUse;
  /** workerd CPU over the flow (first submit to last final event) per accepted order, ms; null when unknown. */
  workerdCpuMsPerOrder?: number | null;
}

export interface FlowOutcome {
  figures: FlowFigures;
  /** Raw samples for the chart: submit → order.filled and submit → 201 (ms). */
  filledSamples: number[];
  acceptedSamples: number[];
}

const EXPECTED_FINAL: Record<OrderKind, string> = { market: "FILLED", limit: "CANCELLED", amended: "CANCELLED", partial: "FILLED" };
const FINAL_STATUSES: ReadonlySet<string> = new Set(["FILLED", "CANCELLED", "REJECTED", "EXPIRED"]);
const RESTING: ReadonlySet<string> = new Set(["order.accepted", ...FINAL_EVENTS]);
const sleep = (ms: number) => new Promise<void>((ok) => setTimeout(ok, Math.max(0, ms)));
const networkError = (err: unknown) => `network: ${err instanceof Error ? err.message : String(err)}`;

export async function runOrderFlow(s: FlowSettings): Promise<FlowOutcome> {
  const door = s.door ?? httpDoor(s.http);
  const records: OrderRecord[] = [];
  const pending: Promise<void>[] = [];
  const stopCpu = cpuMeter(s.workerdPids);
  const cpuFrom = performance.now();

  /** Sends one step through the door and records its answer (never rejects). */
  const step = async (send: () => Promise<Answer>): Promise<Step> => {
    const st: Step = { sentAt: performance.now(), respondedAt: null, ok: false, error: null, orderStatus: null };
    try {
      const a = await send();
      Object.assign(st, { respondedAt: a.at, ok: a.ok, error: a.error, orderStatus: a.orderStatus });
    } catch (err) {
      st.error = networkError(err);
    }
    return st;
  };

  /** After the submit's answer: amend once resting (if planned), then cancel. */
  const manage = async (rec: OrderRecord, plan: OrderPlan, id: string, answeredAt: number) => {
    let cancelFrom = answeredAt;
    if (plan.amend) {
      await sleep(answeredAt + plan.amend.afterMs - performance.now());
      // An order still on its way to the venue is not amendable yet (409 with a working status): wait for it to rest.
      await rec.trader.primary.waitFor(id, RESTING, 5_000);
      const changes = plan.amend.changes;
      rec.amend = await step(() => door.amend(rec.trader, id, changes));
      cancelFrom = rec.amend.respondedAt ?? performance.now();
    }
    if (plan.cancelAfterMs === undefined) return;
    await sleep(cancelFrom + plan.cancelAfterMs - performance.now());
    rec.cancel = await step(() => door.cancel(rec.trader, id));
  };

  const lags = await openLoop(s.traders.length, s.rate, s.durationS * 1000, async (i, n) => {
    const trader = s.traders[i]!;
    const plan = s.plan(trader, n);
    const rec: OrderRecord = { kind: plan.kind, trader, sentAt: performance.now(), respondedAt: null, ok: false, error: null, orderStatus: null, orderId: null, amend: null, cancel: null };
    records.push(rec);
    try {
      const a = await door.submit(trader, plan.body);
      Object.assign(rec, { respondedAt: a.at, ok: a.ok && a.orderId !== null, error: a.ok && a.orderId === null ? "answer without an order id" : a.error });
      rec.orderId = a.orderId;
      if (rec.ok && (plan.amend || plan.cancelAfterMs !== undefined)) pending.push(manage(rec, plan, a.orderId!, a.at));
    } catch (err) {
      rec.error = networkError(err);
    }
  });
  await Promise.all(pending);
  await drain(records, s.drainMs ?? 5_000);
  const cpu = stopCpu();
  const cpuSeconds = (performance.now() - cpuFrom) / 1000;
  const delivery = await checkDelivery(s.url, s.traders);
  return analyze(s, door.name, records, lags, delivery, cpu, cpuSeconds);
}

export function orderIdOf(text: string): string | null {
  try {
    const parsed: unknown = JSON.parse(text);
    return parsed && typeof parsed === "object" && "id" in parsed && typeof parsed.id === "string" ? parsed.id : null;
  } catch {
    return null;
  }
}

/** The event that ends an order of this kind on the primary socket (for LIMIT: after its cancel). */
function finalArrival(rec: OrderRecord): Arrival | undefined {
  if (!rec.orderId) return undefined;
  return rec.trader.primary.byOrder.get(rec.orderId)?.find((a) => FINAL_EVENTS.has(a.event));
}

/** Waits until every accepted order has its final event, or `timeoutMs` passed. */
async function drain(records: readonly OrderRecord[], timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (records.every((r) => !r.ok || finalArrival(r))) return;
    await sleep(50);
  }
}

function analyze(s: FlowSettings, door: DoorName, records: readonly OrderRecord[], lags: number[], delivery: Delivery, cpu: CpuUse, cpuSeconds: number): FlowOutcome {
  const accepted = records.filter((r) => r.ok && r.orderId !== null);
  const answered = (steps: readonly Step[]) => steps.map((st) => st.respondedAt! - st.sentAt);
  const firstEvent = (r: OrderRecord, name: string) => (r.orderId ? r.trader.primary.byOrder.get(r.orderId)?.find((a) => a.event === name) : undefined);
  const since = (r: OrderRecord, name: string, from: number) => {
    const a = firstEvent(r, name);
    return a ? [a.at - from] : [];
  };

  const filledSamples = accepted.flatMap((r) => since(r, "order.filled", r.sentAt));
  const unexpected: string[] = [];
  let unfinished = 0;
  for (const r of accepted) {
    const end = finalArrival(r);
    if (!end) unfinished++;
    else if (end.status !== EXPECTED_FINAL[r.kind]) unexpected.push(`${r.kind} ${end.status}`);
    if (r.kind === "partial" && !firstEvent(r, "order.partial")) unexpected.push("partial without order.partial");
    if (r.kind === "amended" && r.amend?.ok && !firstEvent(r, "order.replaced")) unexpected.push("amended without order.replaced");
  }

  const byKind: Partial<Record<OrderKind, KindFigures>> = {};
  for (const kind of ["market", "limit", "amended", "partial"] as const) {
    const all = records.filter((r) => r.kind === kind);
    if (all.length === 0) continue;
    const ok = accepted.filter((r) => r.kind === kind);
    const resting = kind === "limit" || kind === "amended";
    const figures: KindFigures = {
      submitted: all.length,
      accepted: ok.length,
      submitTo201: summarize(answered(ok)),
      submitToEvent: summarize(ok.flatMap((r) => since(r, resting ? "order.accepted" : "order.filled", r.sentAt))),
    };
    if (kind === "amended") {
      const amended = ok.flatMap((r) => (r.amend?.ok ? [{ r, a: r.amend }] : []));
      figures.amendTo200 = summarize(answered(amended.map((x) => x.a)));
      figures.amendToEvent = summarize(amended.flatMap(({ r, a }) => since(r, "order.replaced", a.sentAt)));
    }
    if (resting) {
      const cancelled = ok.flatMap((r) => (r.cancel?.ok ? [{ r, c: r.cancel }] : []));
      figures.cancelTo200 = summarize(answered(cancelled.map((x) => x.c)));
      figures.cancelToEvent = summarize(cancelled.flatMap(({ r, c }) => since(r, "order.cancelled", c.sentAt)));
    }
    if (kind === "partial") figures.submitToPartial = summarize(ok.flatMap((r) => since(r, "order.partial", r.sentAt)));
    byKind[kind] = figures;
  }

  const amendSteps = records.flatMap((r) => (r.amend ? [r.amend] : []));
  const finalMeanwhile = (st: Step) => !st.ok && st.error?.startsWith("409 ") === true && st.orderStatus !== null && FINAL_STATUSES.has(st.orderStatus);
  const amends = amendSteps.length === 0 ? undefined : {
    sent: amendSteps.length,
    ok: amendSteps.filter((st) => st.ok).length,
    finalMeanwhile: tally(amendSteps.filter(finalMeanwhile).map((st) => st.orderStatus!)),
    errors: tally(amendSteps.filter((st) => !st.ok && !finalMeanwhile(st)).map((st) => (st.orderStatus ? `${st.error} (order ${st.orderStatus})` : (st.error ?? "?")))),
  };

  const acceptedSamples = answered(accepted);
  return {
    figures: {
      door,
      traders: s.traders.length,
      socketsPerTrader: round(delivery.sockets / Math.max(1, s.traders.length)),
      ratePerTrader: s.rate,
      durationS: s.durationS,
      submitted: records.length,
      accepted: accepted.length,
      acceptedPerSecond: round(accepted.length / s.durationS),
      errors: tally(records.filter((r) => !r.ok).map((r) => r.error ?? "?")),
      cancelErrors: tally(records.flatMap((r) => (r.cancel && !r.cancel.ok ? [r.cancel.orderStatus ? `${r.cancel.error} (order ${r.cancel.orderStatus})` : (r.cancel.error ?? "?")] : []))),
      ...(amends ? { amends } : {}),
      submitTo201: summarize(acceptedSamples),
      submitToFilled: summarize(filledSamples),
      eventGap: summarize(s.traders.flatMap((t) => t.primary.arrivals.map((a) => a.gapMs))),
      unfinished,
      unexpected: tally(unexpected),
      byKind,
      delivery,
      scheduleLag: summarize(lags),
      cpu,
      workerdCpuMsPerOrder: cpu.workerd === null || accepted.length === 0 ? null : round((cpu.workerd * cpuSeconds * 1000) / accepted.length),
    },
    filledSamples,
    acceptedSamples,
  };
}
