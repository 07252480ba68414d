// The order state machine, as a pure function: given what the desk knows of an order and what the venue
// reports, which fills are new, which audit rows to write and which events to send. Applying a report
// twice, or an older report after a newer one, changes nothing.
import type { TradingState } from "../shared/account";
import type { AuditAction, OrderStatus } from "../shared/orders";
import type { OrderEventName } from "../shared/events";
import { formatUsd } from "../shared/money";
import { isFinalStatus } from "../shared/orders";
import type { VenueFill, VenueReport } from "../venue/adapter";

export interface OrderProgress {
  quantity: number;
  status: OrderStatus;
  filledQuantity: number;
  /** The attempt whose send reached the venue (0 the first); shown on fill rows after a recovery. */
  attempt: number;
  knownFillIds: ReadonlySet<string>;
  /** The desk already recorded the stop's trigger. */
  triggered?: boolean;
}

/** How this report came to the desk: the answer to a send, a key lookup after a failure, or a later report. */
export type Acceptance =
  | { kind: "first" }
  | { kind: "retry"; attempt: number }
  | { kind: "found"; attempt: number }
  /** The venue's own answer to an amend: it says whether the amend applied (anything else may be older). */
  | { kind: "amend" }
  | { kind: "none" };

export interface AuditDraft {
  action: AuditAction;
  /** The order's status after the step (an account's trading state on a TRADING_STATE row). */
  status: OrderStatus | TradingState;
  reason: string | null;
  errorCode: string | null;
  retryAttempt: number | null;
}

export type Step =
  | { kind: "log"; audit: AuditDraft; event: OrderEventName | null }
  | { kind: "trigger"; audit: AuditDraft; event: OrderEventName }
  | { kind: "fill"; fill: VenueFill; status: OrderStatus; audit: AuditDraft; event: OrderEventName }
  | { kind: "final"; status: OrderStatus; reason: string | null; audit: AuditDraft; event: OrderEventName }
  /** An execution the venue reports of an order that had already ended: kept on the audit trail, not booked. */
  | { kind: "unbooked"; fill: VenueFill; audit: AuditDraft };

const FINAL_EVENT = { CANCELLED: "order.cancelled", REJECTED: "order.rejected", EXPIRED: "order.expired" } as const;

/**
 * The steps a venue report brings to an order (see the module comment). An order already ended takes no
 * step but one: an execution the venue reports after it ended (knownFillIds holds the ones already seen) is
 * `unbooked`. The trader was told the order ended and its reservation went back, so the execution is not
 * booked to the account; it is written to the audit trail (UNBOOKED) for a person to reconcile. It happens
 * when an order fillwire gave up reaches the broker after all and trades before the link cancels it there,
 * or when a broker reports a fill after its own cancel (Alpaca documents "canceled" as final).
 */
export function reconcile(order: OrderProgress, report: VenueReport, how: Acceptance, finalReason?: string): Step[] {
  if (isFinalStatus(order.status)) {
    return report.fills.filter((fill) => !order.knownFillIds.has(fill.id)).map((fill) => ({ kind: "unbooked", fill, audit: audit("UNBOOKED", order.status, unbookedReason(fill, order.status)) }));
  }
  const steps: Step[] = [];
  let status = order.status;
  let filled = order.filledQuantity;
  const retryAttempt = order.attempt > 0 ? order.attempt : null;

  // A lookup that finds a cancel's tombstone (ended, never traded) is not an acceptance.
  const venueTookIt = report.state !== "REJECTED" && (how.kind !== "found" || report.state === "WORKING" || report.fills.length > 0);
  if (venueTookIt) {
    if (how.kind === "first") {
      steps.push({ kind: "log", audit: audit("APPROVED", status), event: null });
      steps.push({ kind: "log", audit: audit("EXECUTED", status), event: "order.accepted" });
    } else if (how.kind === "retry") {
      steps.push({ kind: "log", audit: audit("RECOVERED", status, `Venue accepted the order on retry ${how.attempt}`, null, how.attempt), event: "order.accepted" });
    } else if (how.kind === "found") {
      steps.push({
        kind: "log",
        audit: audit("RECOVERED", status, "Found at the venue by idempotency key after a failed attempt; not sent again", null, how.attempt),
        event: "order.accepted",
      });
    }
  }
  const fillRetry = how.kind === "retry" || how.kind === "found" ? how.attempt || null : retryAttempt;

  // A stop reached: from here it works as a market order (a STOP_LIMIT as a limit order), before its fills.
  if (report.triggered && !order.triggered) {
    steps.push({ kind: "trigger", audit: audit("TRIGGERED", status, "Stop price reached; working as a market order for the remaining shares"), event: "order.triggered" });
  }

  for (const fill of report.fills) {
    if (order.knownFillIds.has(fill.id)) continue;
    filled += fill.quantity;
    status = filled >= order.quantity ? "FILLED" : "PARTIAL";
    steps.push({
      kind: "fill",
      fill,
      status,
      audit: audit(status === "FILLED" ? "FILLED" : "PARTIAL", status, null, null, fillRetry),
      event: status === "FILLED" ? "order.filled" : "order.partial",
    });
  }

  if (status !== "FILLED" && (report.state === "CANCELLED" || report.state === "REJECTED" || report.state === "EXPIRED")) {
    const reason = finalReason ?? report.reason;
    const errorCode = report.state === "REJECTED" ? "VENUE_REJECTED" : null;
    steps.push({ kind: "final", status: report.state, reason, audit: audit(report.state, report.state, reason, errorCode, fillRetry), event: FINAL_EVENT[report.state] });
  }
  return steps;
}

function unbookedReason(fill: VenueFill, status: OrderStatus): string {
  return `The venue executed ${fill.quantity} at ${formatUsd(fill.priceCents)} (fill ${fill.id}) after the order was ${status.toLowerCase()}: not booked to the account; reconcile it with the venue`;
}

export function audit(action: AuditAction, status: OrderStatus | TradingState, reason: string | null = null, errorCode: string | null = null, retryAttempt: number | null = null): AuditDraft {
  return { action, status, reason, errorCode, retryAttempt };
}
