// The open-loop order flow shared by the open, sockets and mix phases: traders submit on a fixed schedule,
// limit orders are cancelled after resting, and afterwards every submit is matched with the events its
// trader's primary socket recorded.
import { FINAL_EVENTS, checkDelivery, type Arrival, type Delivery, type Trader } from "./clients.ts";
import { errorCode, type HttpClient } from "./http.ts";
import { openLoop, cpuMeter, type CpuUse } from "./loops.ts";
import { round, summarize, tally, type Summary } from "./stats.ts";

export type OrderKind = "market" | "limit" | "partial";

export interface OrderPlan {
  kind: OrderKind;
  body: Record<string, string | number>;
  /** Limit orders: cancel this long after the 201. */
  cancelAfterMs?: number;
}

interface CancelRecord {
  sentAt: number;
  respondedAt: number | null;
  status: number;
  error: string | null;
}

interface OrderRecord {
  kind: OrderKind;
  trader: Trader;
  sentAt: number;
  respondedAt: number | null;
  status: number;
  error: string | null;
  orderId: string | null;
  cancel: CancelRecord | null;
}

export interface FlowSettings {
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
  submitTo201: Summary;
  /** MARKET and TEST_PARTIAL: submit → order.filled. LIMIT: submit → order.accepted (resting at the venue). */
  submitToEvent: Summary;
  /** LIMIT only: cancel → 200, and cancel → order.cancelled on the socket. */
  cancelTo200?: Summary;
  cancelToEvent?: Summary;
  /** TEST_PARTIAL only: submit → first order.partial. */
  submitToPartial?: Summary;
}

export interface FlowFigures {
  traders: number;
  socketsPerTrader: number;
  ratePerTrader: number;
  durationS: number;
  submitted: number;
  accepted: number;
  /** Orders accepted per second over the run. */
  acceptedPerSecond: number;
  /** Non-201 answers and network failures, by status and error code. */
  errors: Record<string, number>;
  cancelErrors: Record<string, number>;
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
}

export interface FlowOutcome {
  figures: FlowFigures;
  /** Raw samples for the chart: submit → order.filled and submit → 201 (ms). */
  filledSamples: number[];
  acceptedSamples: number[];
}

const EXPECTED_FINAL: Record<OrderKind, string> = { market: "FILLED", limit: "CANCELLED", partial: "FILLED" };

export async function runOrderFlow(s: FlowSettings): Promise<FlowOutcome> {
  const records: OrderRecord[] = [];
  const pending: Promise<void>[] = [];
  const stopCpu = cpuMeter(s.workerdPids);

  const cancel = (rec: OrderRecord, orderId: string): Promise<void> => {
    const c: CancelRecord = { sentAt: performance.now(), respondedAt: null, status: 0, error: null };
    rec.cancel = c;
    return s.http.send("POST", `/api/v1/orders/${orderId}/cancel`, { token: rec.trader.token }).then(
      (res) => {
        c.respondedAt = res.at;
        c.status = res.status;
        if (res.status !== 200) c.error = errorCode(res);
      },
      (err: unknown) => {
        c.error = `network: ${err instanceof Error ? err.message : String(err)}`;
      },
    );
  };

  const lags = await openLoop(s.traders.length, s.rate, s.durationS * 1000, async (i, n) => {
    const trader = s.traders[i]!;
    const plan = s.plan(trader, n);
    const rec: OrderRecord = { kind: plan.kind, trader, sentAt: performance.now(), respondedAt: null, status: 0, error: null, orderId: null, cancel: null };
    records.push(rec);
    try {
      const res = await s.http.send("POST", "/api/v1/orders", { token: trader.token, body: plan.body });
      rec.respondedAt = res.at;
      rec.status = res.status;
      if (res.status !== 201) {
        rec.error = errorCode(res);
        return;
      }
      rec.orderId = orderIdOf(res.text);
      if (rec.orderId && plan.cancelAfterMs !== undefined) {
        const id = rec.orderId;
        pending.push(new Promise<void>((ok) => setTimeout(() => void cancel(rec, id).then(ok), plan.cancelAfterMs)));
      }
    } catch (err) {
      rec.error = `network: ${err instanceof Error ? err.message : String(err)}`;
    }
  });
  await Promise.all(pending);
  await drain(records, s.drainMs ?? 5_000);
  const cpu = stopCpu();
  const delivery = await checkDelivery(s.url, s.traders);
  return analyze(s, records, lags, delivery, cpu);
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
    if (records.every((r) => r.status !== 201 || finalArrival(r))) return;
    await new Promise((ok) => setTimeout(ok, 50));
  }
}

function analyze(s: FlowSettings, records: readonly OrderRecord[], lags: number[], delivery: Delivery, cpu: CpuUse): FlowOutcome {
  const accepted = records.filter((r) => r.status === 201 && r.orderId !== null);
  const to201 = (rs: readonly OrderRecord[]) => rs.map((r) => r.respondedAt! - r.sentAt);
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
  }

  const byKind: Partial<Record<OrderKind, KindFigures>> = {};
  for (const kind of ["market", "limit", "partial"] as const) {
    const all = records.filter((r) => r.kind === kind);
    if (all.length === 0) continue;
    const ok = accepted.filter((r) => r.kind === kind);
    const figures: KindFigures = {
      submitted: all.length,
      accepted: ok.length,
      submitTo201: summarize(to201(ok)),
      submitToEvent: summarize(ok.flatMap((r) => since(r, kind === "limit" ? "order.accepted" : "order.filled", r.sentAt))),
    };
    if (kind === "limit") {
      const cancelled = ok.filter((r) => r.cancel?.status === 200);
      figures.cancelTo200 = summarize(cancelled.map((r) => r.cancel!.respondedAt! - r.cancel!.sentAt));
      figures.cancelToEvent = summarize(cancelled.flatMap((r) => since(r, "order.cancelled", r.cancel!.sentAt)));
    }
    if (kind === "partial") figures.submitToPartial = summarize(ok.flatMap((r) => since(r, "order.partial", r.sentAt)));
    byKind[kind] = figures;
  }

  const acceptedSamples = to201(accepted);
  return {
    figures: {
      traders: s.traders.length,
      socketsPerTrader: round(delivery.sockets / Math.max(1, s.traders.length)),
      ratePerTrader: s.rate,
      durationS: s.durationS,
      submitted: records.length,
      accepted: accepted.length,
      acceptedPerSecond: round(accepted.length / s.durationS),
      errors: tally(records.filter((r) => r.status !== 201).map((r) => r.error ?? `${r.status}`)),
      cancelErrors: tally(records.flatMap((r) => (r.cancel?.error ? [r.cancel.error] : []))),
      submitTo201: summarize(acceptedSamples),
      submitToFilled: summarize(filledSamples),
      eventGap: summarize(s.traders.flatMap((t) => t.primary.arrivals.map((a) => a.gapMs))),
      unfinished,
      unexpected: tally(unexpected),
      byKind,
      delivery,
      scheduleLag: summarize(lags),
      cpu,
    },
    filledSamples,
    acceptedSamples,
  };
}
