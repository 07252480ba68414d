// The fake's fault injection. Per symbol (on POST /v2/orders of that symbol, counted per client_order_id):
// a request that never answers and is dropped, one recorded at once but answered after the client's
// timeout, an error status instead of an answer, a standing refusal, and a stream dropped in the middle of
// a fill. Account-wide: the next requests that match fail with a status (429 with X-RateLimit-Reset, 5xx,
// 404...), stream connections refused, text instead of binary frames.
import { z } from "zod";

export const SymbolFaults = z.strictObject({
  /** POST attempts 1..n of each client_order_id hang for hang_ms and are dropped (never recorded). */
  timeout_first_attempts: z.number().int().min(0).optional(),
  hang_ms: z.number().int().min(0).optional(),
  /**
   * With timeout_first_attempts: the first of those attempts is not lost but slow. It reaches Alpaca this
   * long after it was sent, long after the client gave up on it, and is recorded then (and trades). It is
   * never answered.
   */
  land_first_after_ms: z.number().int().min(0).optional(),
  /** POST attempts 1..n are recorded (and trade) at once but answered late_ms later. */
  late_first_attempts: z.number().int().min(0).optional(),
  late_ms: z.number().int().min(0).optional(),
  /** POST attempts 1..n are recorded only after slow_ms (a request still on its way), then answered. */
  slow_first_attempts: z.number().int().min(0).optional(),
  slow_ms: z.number().int().min(0).optional(),
  /** POST attempts 1..n answer error_status (429, 500, 503) without recording anything. */
  error_first_attempts: z.number().int().min(0).optional(),
  error_status: z.number().int().min(400).max(599).optional(),
  /** Every order of the symbol is refused with this status and Alpaca-style message. */
  reject: z.strictObject({ status: z.union([z.literal(403), z.literal(422)]), message: z.string() }).optional(),
  /** An order that fills in several executions: the stream is closed right after the first one is sent. */
  drop_stream_mid_fill: z.boolean().optional(),
});
export type SymbolFaults = z.infer<typeof SymbolFaults>;

export const FailNext = z.strictObject({
  method: z.string().optional(),
  /** A prefix of the path (e.g. "/v2/orders:by_client_order_id"). */
  path: z.string().optional(),
  status: z.number().int().min(400).max(599),
  message: z.string().optional(),
  /** 429: X-RateLimit-Reset is this far ahead (ms, rounded up to the second). */
  reset_in_ms: z.number().int().min(0).optional(),
  /** Record the request's effect first, then fail the answer (an order made, its answer lost). */
  after_effect: z.boolean().optional(),
});
export type FailNext = z.infer<typeof FailNext>;

export const AccountFaults = z.strictObject({
  fail_next: z.array(FailNext).optional(),
  /** The next n stream upgrades are refused with 503. */
  refuse_streams: z.number().int().min(0).optional(),
  /** paper-api sends binary frames; "text" sends text frames instead. */
  frames: z.enum(["binary", "text"]).optional(),
  /** PATCH ignores the client_order_id it is given (the replacement gets a generated one). */
  replace_generates_client_order_id: z.boolean().optional(),
  /** Accept only this form of the stream's authentication message (both by default). */
  auth_form: z.enum(["auth", "authenticate", "both"]).optional(),
});
export type AccountFaults = z.infer<typeof AccountFaults>;

export type PostFault =
  | { kind: "pass" }
  | { kind: "hang"; ms: number }
  | { kind: "late"; ms: number }
  | { kind: "slow"; ms: number; unanswered?: boolean }
  | { kind: "error"; status: number }
  | { kind: "reject"; status: number; message: string };

/** What the attempt-th POST of a client_order_id for a symbol with these faults does. */
export function postFault(faults: SymbolFaults, attempt: number): PostFault {
  if (faults.reject) return { kind: "reject", ...faults.reject };
  if (attempt === 1 && faults.timeout_first_attempts && faults.land_first_after_ms !== undefined) return { kind: "slow", ms: faults.land_first_after_ms, unanswered: true };
  if (attempt <= (faults.timeout_first_attempts ?? 0)) return { kind: "hang", ms: faults.hang_ms ?? 2000 };
  if (attempt <= (faults.error_first_attempts ?? 0)) return { kind: "error", status: faults.error_status ?? 503 };
  if (attempt <= (faults.late_first_attempts ?? 0)) return { kind: "late", ms: faults.late_ms ?? 1500 };
  if (attempt <= (faults.slow_first_attempts ?? 0)) return { kind: "slow", ms: faults.slow_ms ?? 1500 };
  return { kind: "pass" };
}

/** The first queued failure that matches the request, taken off the queue. */
export function takeFailure(queue: FailNext[], method: string, path: string): { failure: FailNext | null; rest: FailNext[] } {
  const i = queue.findIndex((f) => (!f.method || f.method === method) && (!f.path || path.startsWith(f.path)));
  if (i < 0) return { failure: null, rest: queue };
  return { failure: queue[i]!, rest: [...queue.slice(0, i), ...queue.slice(i + 1)] };
}
