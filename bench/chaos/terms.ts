// An order's terms over its life, as the desk recorded them: the terms its order.submitted event states,
// then those of each order.replaced event (an amend the venue confirmed, audited REPLACED). Each fill is
// judged by the terms in force when the desk logged it, and each admin move by the stop in force when it was
// sent, unless an amend of the order was on its way then (the venue may have applied it or not).
import type { Arrival } from "../clients.ts";
import { cents, type AuditEntry, type OrderWithFills } from "./api.ts";
import { FILL_EVENTS } from "./check.ts";
import type { AmendRecord } from "./load.ts";

export interface Terms {
  quantity: number;
  limitCents: number | null;
  stopCents: number | null;
}

export interface Timeline {
  /** The terms the order was submitted with (its order.submitted event), or null when that event is missing. */
  initial: Terms | null;
  /** Each amend the desk recorded, in order: its order.replaced event's seq and terms, and its REPLACED row's time (ms). */
  changes: { seq: number; terms: Terms; atMs: number | null }[];
  /** The terms in force at each fill event, by fill id. */
  atFill: Map<string, Terms>;
  /** The order's events and audit rows of amends and fills, as kinds in order ("R" replaced, "F" fill): they must agree. */
  eventKinds: string;
  auditKinds: string;
}

const termsOfEvent = (a: Arrival): Terms | null =>
  a.terms ? { quantity: a.terms.quantity, limitCents: a.terms.price === null ? null : cents(a.terms.price), stopCents: a.terms.stopPrice === null ? null : cents(a.terms.stopPrice) } : null;

export const finalTerms = (o: OrderWithFills): Terms => ({
  quantity: o.quantity, limitCents: o.price === null ? null : cents(o.price), stopCents: o.stop_price === null ? null : cents(o.stop_price),
});

export const sameTerms = (a: Terms, b: Terms) => a.quantity === b.quantity && a.limitCents === b.limitCents && a.stopCents === b.stopCents;

export const showTerms = (t: Terms) =>
  `${t.quantity} sh${t.limitCents === null ? "" : ` limit ${t.limitCents / 100}`}${t.stopCents === null ? "" : ` stop ${t.stopCents / 100}`}`;

/** The order's timeline from its events (seq order) and its audit trail. */
export function timelineOf(events: readonly Arrival[], audit: readonly AuditEntry[]): Timeline {
  const sorted = [...events].sort((a, b) => a.seq - b.seq);
  const submitted = sorted.find((a) => a.event === "order.submitted");
  const initial = submitted ? termsOfEvent(submitted) : null;
  const replacedRows = audit.filter((a) => a.action === "REPLACED");
  const changes: Timeline["changes"] = [];
  const atFill = new Map<string, Terms>();
  let current = initial;
  let eventKinds = "";
  for (const a of sorted) {
    if (a.event === "order.replaced") {
      const terms = termsOfEvent(a);
      if (terms) {
        const row = replacedRows[changes.length];
        changes.push({ seq: a.seq, terms, atMs: row ? Date.parse(row.timestamp) : null });
        current = terms;
      }
      eventKinds += "R";
    } else if (FILL_EVENTS.has(a.event)) {
      if (a.fillId && current) atFill.set(a.fillId, current);
      eventKinds += "F";
    }
  }
  const auditKinds = audit.map((a) => (a.action === "REPLACED" ? "R" : a.action === "PARTIAL" || a.action === "FILLED" ? "F" : "")).join("");
  return { initial, changes, atFill, eventKinds, auditKinds };
}

/** The terms in force at `ms` as the desk recorded them (the last REPLACED row at or before it). */
export function termsAt(t: Timeline, ms: number): Terms | null {
  let terms = t.initial;
  for (const c of t.changes) if (c.atMs !== null && c.atMs <= ms) terms = c.terms;
  return terms;
}

/**
 * When each amend of the order was on its way: from its request to its answer, or, for one the desk left
 * pending (503) or that got no answer, to the next REPLACED row after it was sent (without one, to the end).
 */
export function amendWindows(amends: readonly AmendRecord[], t: Timeline): [number, number][] {
  return amends.map((a) => {
    if (a.status !== 503 && a.status !== 0 && a.status < 500) return [a.sentAt, a.doneAt];
    const applied = t.changes.find((c) => c.atMs !== null && c.atMs >= a.sentAt);
    return [a.sentAt, Math.max(a.doneAt, applied?.atMs ?? Infinity)];
  });
}
