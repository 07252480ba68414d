// Order management under the same faults (SPEC, "Order management"): amends in place, cancel-all and
// position closes, each checked against the order's final state, its audit trail and its events.
//   amends: an amend answered 200 has exactly one REPLACED row (the one stamped at its amended_at, with the
//   terms it answered); one answered 409 has none and names the status the order ended in; one left pending
//   (503) is applied once or dropped. The order's final terms are those of its last REPLACED row. No fill
//   at a price the order no longer had: a fill logged after a REPLACED row respects its limit and stop and
//   its quantity, a fill before it the old ones.
//   cancel-all: each result matches the order's final state (200: CANCELLED, nothing filled after; 409:
//   already final, as it ended); every order working throughout the request is in the results.
//   closes: a MARKET SELL of the symbol, of the shares asked (never more than held); the symbol's SELL
//   orders working before the close were cancelled before the closing order was placed.
import type { Arrival } from "../clients.ts";
import { cents, FINAL, type AuditEntry, type OrderWithFills } from "./api.ts";
import { Check, FILL_EVENTS, TERMINAL_ACTIONS, type DrillEvidence, type Invariant } from "./check.ts";
import type { TraderState } from "./collect.ts";
import type { AmendRecord } from "./load.ts";
import { finalTerms, sameTerms, showTerms, timelineOf, type Terms } from "./terms.ts";

const isFinalStatus = (s: string | null) => s !== null && (FINAL as ReadonlySet<string>).has(s);
const terminalAt = (audit: readonly AuditEntry[]) => {
  const row = audit.find((a) => TERMINAL_ACTIONS.has(a.action));
  return row ? Date.parse(row.timestamp) : Infinity;
};
const eventsByOrder = (t: TraderState) => {
  const m = new Map<string, Arrival[]>();
  for (const a of t.deskEvents) m.set(a.orderId, [...(m.get(a.orderId) ?? []), a]);
  return m;
};
/**
 * An amend's answer as the tallies name it. A 409 ORDER_NOT_AMENDABLE names the status that won when the
 * order ended; otherwise it is "not yet at the venue", "another amend pending" or "venue did not amend" (the
 * venue's report showed the old terms), by its message.
 */
export function answerOf(a: AmendRecord): string {
  if (a.status === 200) return "200";
  if (a.status === 409 && a.code?.endsWith("ORDER_NOT_AMENDABLE")) {
    if (isFinalStatus(a.detailStatus)) return `409 ${a.detailStatus}`;
    const m = a.message ?? "";
    return `409 ${/on its way to the venue/.test(m) ? "not yet at the venue" : /not confirmed yet/.test(m) ? "another amend pending" : /did not amend/.test(m) ? "venue did not amend" : "not amendable"}`;
  }
  if (a.status === 503) return `503${a.pending ? " pending" : ""}`;
  return a.code ?? String(a.status);
}

export function amends(e: DrillEvidence): Invariant {
  const c = new Check(
    "amends",
    "An amend answered 200 has exactly one REPLACED row and sets the final terms; 409 none; no fill at terms the order no longer had (fills after a REPLACED row respect it, fills before it the old terms)",
  );
  const byOrder = new Map<string, AmendRecord[]>();
  for (const a of e.amends) byOrder.set(a.orderId, [...(byOrder.get(a.orderId) ?? []), a]);
  c.add("amends sent", e.amends.length);
  const tally = (label: (a: AmendRecord) => string) => {
    const n = new Map<string, number>();
    for (const a of e.amends) n.set(label(a), (n.get(label(a)) ?? 0) + 1);
    for (const [k, v] of [...n].sort((x, y) => x[0].localeCompare(y[0]))) c.add(k, v);
  };
  tally((a) => `${a.how}: ${answerOf(a)}`);
  tally((a) => `change ${a.change}`);
  for (const t of e.state.traders) {
    const events = eventsByOrder(t);
    for (const o of t.orders) {
      const audit = t.audit.get(o.id) ?? [];
      const mine = (byOrder.get(o.id) ?? []).sort((x, y) => x.sentAt - y.sentAt);
      const tl = timelineOf(events.get(o.id) ?? [], audit);
      if (mine.length > 0) c.add("orders amended");
      checkFills(c, o, tl.atFill, tl.changes.length > 0, mine);
      if (mine.length === 0 && tl.changes.length === 0) continue;
      if (mine.length === 0 && (o.parent_order_id ?? null) !== null) {
        // The desk amends a live exit itself as its entry fills on (legs.ts checks the exits): no drill amend to match.
        c.add("REPLACED rows of exits growing with their entry", tl.changes.length);
        continue;
      }
      c.add("REPLACED rows", tl.changes.length);
      // An amend to the terms the order already has changes nothing (the desk's rule): 200 with the order as it
      // stands, its amended_at that of the amend before (or none), no REPLACED row. Counted apart.
      const noOp = (a: (typeof mine)[number]) => {
        if (a.status !== 200 || !a.order) return false;
        const o = a.order;
        const asksWhatItHas = (a.body.quantity === undefined || a.body.quantity === o.quantity) &&
          (a.body.price === undefined || o.price === null || cents(a.body.price) === cents(o.price)) &&
          (a.body.stop_price === undefined || o.stop_price === null || cents(a.body.stop_price) === cents(o.stop_price));
        if (!asksWhatItHas) return false;
        const at = o.amended_at ?? null;
        return at === null || mine.some((x) => x !== a && x.status === 200 && x.sentAt < a.sentAt && (x.order?.amended_at ?? null) === at);
      };
      const noOps = mine.filter(noOp);
      if (noOps.length > 0) c.add("amends to the terms the order already had (200, nothing to replace)", noOps.length);
      const ok200 = mine.filter((a) => a.status === 200 && !noOps.includes(a));
      const unknown = mine.filter((a) => a.status === 503 || a.status === 0 || (a.status >= 500 && a.status !== 503));
      c.expect(tl.changes.length >= ok200.length && tl.changes.length <= ok200.length + unknown.length, () =>
        `${o.id}: ${tl.changes.length} REPLACED row(s) for ${mine.length} amend(s): ${mine.map(answerOf).join(", ")}`);
      c.add("amends left pending (503) and applied later", Math.max(0, tl.changes.length - ok200.length));
      const stamps = new Set<string>();
      for (const a of ok200) {
        const at = a.order?.amended_at ?? null;
        const rows = audit.filter((r) => r.action === "REPLACED" && r.timestamp === at);
        c.expect(rows.length === 1, () => `${o.id}: the amend answered 200 at amended_at ${at} has ${rows.length} REPLACED row(s) stamped then`);
        c.expect(at !== null && !stamps.has(at), () => `${o.id}: two amends answered 200 with amended_at ${at}`);
        if (at) stamps.add(at);
        const answered: Terms = { quantity: a.order!.quantity, limitCents: a.order!.price === null ? null : cents(a.order!.price), stopCents: a.order!.stop_price === null ? null : cents(a.order!.stop_price) };
        const index = audit.filter((r) => r.action === "REPLACED").findIndex((r) => r.timestamp === at);
        const recorded = tl.changes[index]?.terms;
        c.expect(recorded !== undefined && sameTerms(recorded, answered), () => `${o.id}: answered 200 with ${showTerms(answered)}, its order.replaced says ${recorded ? showTerms(recorded) : "nothing"}`);
        const asked = (a.body.quantity === undefined || a.body.quantity === answered.quantity) &&
          (a.body.price === undefined || cents(a.body.price) === answered.limitCents) && (a.body.stop_price === undefined || cents(a.body.stop_price) === answered.stopCents);
        c.expect(asked, () => `${o.id}: asked ${JSON.stringify(a.body)}, answered 200 with ${showTerms(answered)}`);
        // The last amend that could have changed the order sets its final terms.
        const later = mine.some((x) => x.sentAt > a.sentAt && (x.status === 200 || unknown.includes(x)));
        if (!later) c.expect(sameTerms(answered, finalTerms(o)), () => `${o.id}: its last amend answered 200 with ${showTerms(answered)}, the order ends with ${showTerms(finalTerms(o))}`);
      }
      for (const a of mine.filter((x) => x.status === 409 && isFinalStatus(x.detailStatus))) {
        c.expect(o.status === a.detailStatus, () => `${o.id}: an amend was refused 409 because it was ${a.detailStatus}, but it ended ${o.status}`);
        if (a.how === "racing" && a.detailStatus === "FILLED") c.add("racing amends lost to the move's fill (409 FILLED)");
      }
      const last = tl.changes[tl.changes.length - 1]?.terms ?? tl.initial;
      c.expect(last !== null && sameTerms(last, finalTerms(o)), () => `${o.id}: ends with ${showTerms(finalTerms(o))}, its last recorded terms are ${last ? showTerms(last) : "unknown"}`);
      const fillsAfter = o.fills.filter((f) => tl.changes.length > 0 && tl.atFill.get(f.id) !== tl.initial).length;
      c.add("fills after a REPLACED row", fillsAfter);
      if (mine.some((a) => a.how === "racing" && a.status === 200) && o.fills.length === 0) c.add("racing amends applied first (the move did not fill it)");
    }
  }
  return c.done();
}

/** Each fill within the terms in force when it was logged: price within the limit (and past the stop), shares within the quantity. */
function checkFills(c: Check, o: OrderWithFills, atFill: ReadonlyMap<string, Terms>, amended: boolean, mine: readonly AmendRecord[]): void {
  let filled = 0;
  const final = finalTerms(o);
  for (const f of o.fills) {
    const terms = atFill.get(f.id) ?? final;
    const p = cents(f.price_at_fill);
    filled += f.quantity_filled;
    const within = (t: Terms, shares: number) => {
      const limit = o.order_type === "LIMIT" || o.order_type === "STOP_LIMIT" ? t.limitCents : null;
      const stop = amended && o.order_type === "STOP" ? t.stopCents : null;
      return (limit === null || (o.side === "BUY" ? p <= limit : p >= limit)) && (stop === null || (o.side === "BUY" ? p >= stop : p <= stop)) && shares <= t.quantity;
    };
    if (o.order_type === "LIMIT" || o.order_type === "STOP_LIMIT") c.add("fills checked against the limit in force");
    if (within(terms, filled)) continue;
    // Say whether the fill fits an amend the desk did not record (the venue applied what the desk answered otherwise).
    const fits = mine.find((a) => a.status !== 200 && within(askedTerms(a), filled));
    const hint = fits ? `; it fits the amend ${JSON.stringify(fits.body)} the desk answered ${fits.code ?? fits.status}${fits.detailStatus ? ` (${fits.detailStatus})` : ""} at ${new Date(fits.doneAt).toISOString().slice(11, 23)}` : "";
    c.fail(`${o.id}: a ${o.side} ${o.order_type} fill ${f.id} of ${f.quantity_filled} at ${p / 100} (${filled} filled) is outside the terms in force then, ${showTerms(terms)}${hint}`);
  }
}

/** The terms an amend asked for: those the drill knew, with its changes. */
const askedTerms = (a: AmendRecord): Terms => ({
  quantity: a.body.quantity ?? a.before.quantity,
  limitCents: a.body.price === undefined ? a.before.limitCents : cents(a.body.price),
  stopCents: a.body.stop_price === undefined ? a.before.stopCents : cents(a.body.stop_price),
});

/** Shares of `symbol` the trader held just before `seq` (the fills logged before it, from the opening `startShares`). */
export function heldBefore(t: TraderState, symbol: string, seq: number, startShares: number): number {
  const side = new Map(t.orders.map((o) => [o.id, o]));
  let held = startShares;
  for (const a of t.deskEvents) {
    if (a.seq >= seq || !FILL_EVENTS.has(a.event)) continue;
    const o = side.get(a.orderId);
    if (o?.symbol === symbol) held += (o.side === "BUY" ? 1 : -1) * (a.quantityFilled ?? 0);
  }
  return held;
}

export function cancelAllAndClose(e: DrillEvidence): Invariant {
  const c = new Check(
    "cancel-all-and-close",
    "Cancel-all results match each order's final state (200: CANCELLED, no fill after; 409: already final) and leave none working; a close cancels the symbol's SELLs first, then sells what was asked",
  );
  const traders = new Map(e.state.traders.map((t) => [t.id, t]));
  const ackedAt = new Map(e.submits.filter((s) => s.orderId && s.ackedAt !== null).map((s) => [s.orderId!, s.ackedAt!]));
  const slow = new Set(e.instruments.filter((i) => i.slow).map((i) => i.symbol));

  for (const r of e.cancelAlls) {
    const t = traders.get(r.trader)!;
    c.add(`cancel-all${r.symbol ? " of a symbol" : ""}${r.side ? " and side" : ""}: ${r.status === 200 ? "200" : (r.code ?? r.status)}`);
    if (r.status !== 200 || !r.results) continue;
    const orders = new Map(t.orders.map((o) => [o.id, o]));
    const listed = new Set<string>();
    for (const x of r.results) {
      listed.add(x.id);
      c.add(`cancel-all results ${x.status}`);
      const o = orders.get(x.id);
      if (!o) {
        c.fail(`${t.id}: cancel-all answered for ${x.id}, which the desk does not list`);
        continue;
      }
      c.expect((r.symbol === null || o.symbol === r.symbol) && (r.side === null || o.side === r.side), () => `${o.id} (${o.side} ${o.symbol}) is in a cancel-all of ${r.side ?? "any side"} ${r.symbol ?? "any symbol"}`);
      if (x.status === 200) {
        c.expect(o.status === "CANCELLED" && x.order?.status === "CANCELLED", () => `${o.id}: cancel-all answered 200 (${x.order?.status}) but it ended ${o.status}`);
        c.expect(x.order !== null && o.filled_quantity === x.order.filled_quantity, () => `${o.id}: cancel-all answered 200 with ${x.order?.filled_quantity} filled, it ended with ${o.filled_quantity}: filled after its cancel`);
      } else if (x.status === 409) {
        const status = x.error?.details?.status;
        c.expect(typeof status === "string" && isFinalStatus(status) && o.status === status, () => `${o.id}: cancel-all answered 409 (${JSON.stringify(x.error)}), it ended ${o.status}`);
      } else {
        c.expect(x.status === 503, () => `${o.id}: cancel-all answered ${x.status} for it (${JSON.stringify(x.error)})`);
      }
    }
    // Every matching order acknowledged before the request and still working after its answer was working throughout: it must be listed.
    for (const o of t.orders) {
      if ((r.symbol !== null && o.symbol !== r.symbol) || (r.side !== null && o.side !== r.side)) continue;
      const acked = ackedAt.get(o.id);
      if (acked === undefined || acked >= r.lastSentAt || terminalAt(t.audit.get(o.id) ?? []) <= r.doneAt) continue;
      c.add("orders working throughout a cancel-all");
      c.expect(listed.has(o.id), () => `${o.id} (${o.side} ${o.symbol}, ${o.status}) was working throughout a cancel-all of ${r.side ?? "any side"} ${r.symbol ?? "any symbol"} and is not in its results`);
    }
  }

  for (const r of e.closes) {
    const t = traders.get(r.trader)!;
    const what = r.symbol === null ? "close all" : r.quantity !== null ? "close part (shares)" : r.percentage !== null ? "close part (%)" : "close a position";
    c.add(`${what}: ${r.status === 200 || r.status === 201 ? String(r.status) : (r.code ?? r.status)}`);
    c.add("positions that close all could not close", r.errors.length);
    const closing = new Set(r.orders.map((o) => o.id));
    for (const placed of r.orders) {
      c.add("closing orders");
      const o = t.orders.find((x) => x.id === placed.id);
      if (!o) {
        c.fail(`${t.id}: closing order ${placed.id} is not at the desk`);
        continue;
      }
      c.expect(o.side === "SELL" && o.order_type === "MARKET" && (r.symbol === null || o.symbol === r.symbol), () => `${o.id}: a ${what} of ${r.symbol ?? "every symbol"} placed a ${o.side} ${o.order_type} of ${o.symbol}`);
      if (r.quantity !== null) c.expect(o.quantity === r.quantity, () => `${o.id}: closing ${r.quantity} shares placed ${o.quantity}`);
      const submitted = t.deskEvents.find((a) => a.orderId === o.id && a.event === "order.submitted");
      const start = e.instruments.find((i) => i.symbol === o.symbol)?.startShares ?? 0;
      const held = submitted ? heldBefore(t, o.symbol, submitted.seq, start) : null;
      if (held !== null) {
        c.expect(o.quantity <= held, () => `${o.id}: closing order for ${o.quantity} ${o.symbol}, ${held} held when it was placed`);
        const want = r.quantity ?? (r.percentage !== null ? Math.floor((held * r.percentage) / 100) : held);
        c.add(o.quantity === want ? "closing orders for the shares asked, as held when placed" : "closing orders sized from a position that moved meanwhile");
      }
      // A close is a MARKET SELL, so it keeps market protection: when the price gapped more than the band
      // below the quote the desk priced it at, what the band does not reach is cancelled (documented).
      const protectedCancel = o.status === "CANCELLED" && /^Market protection:/.test(o.reason ?? "");
      c.expect(o.status === "FILLED" || o.status === "REJECTED" || protectedCancel, () => `${o.id}: a closing MARKET SELL of ${o.quantity} ended ${o.status} (${o.reason})`);
      if (o.status === "FILLED") c.add("closing orders FILLED");
      if (protectedCancel) c.add("closing orders cut short by market protection after a gap");
      // The symbol's SELL orders working before the close were cancelled before the closing order was placed.
      const placedAt = Date.parse((t.audit.get(o.id) ?? []).find((a) => a.action === "SUBMITTED")?.timestamp ?? "") || r.doneAt;
      for (const s of t.orders) {
        if (s.side !== "SELL" || s.symbol !== o.symbol || closing.has(s.id)) continue;
        const acked = ackedAt.get(s.id);
        if (acked === undefined || acked >= r.sentAt) continue;
        const ended = terminalAt(t.audit.get(s.id) ?? []);
        if (ended < r.sentAt) continue;
        c.add("SELL orders working when a close was sent");
        const inOrder = ended <= placedAt && (s.status === "CANCELLED" || s.status === "FILLED");
        // A cancel the venue did not confirm in time (503, order.cancel_rejected) leaves the order working: the close goes ahead.
        const unconfirmed = t.deskEvents.some((a) => a.orderId === s.id && a.event === "order.cancel_rejected" && Date.parse(a.timestamp) >= r.sentAt && Date.parse(a.timestamp) <= placedAt);
        if (inOrder) c.add("of which ended before the closing order was placed");
        else if (unconfirmed || slow.has(o.symbol)) c.add("of which still working: its cancel was not confirmed in time (503), the close went ahead");
        else c.fail(`${s.id} (SELL ${s.symbol}, ${s.status}) was working when the close was sent and ended at ${new Date(ended).toISOString()}, after the closing order ${o.id} was placed, with no failed cancel`);
      }
    }
  }
  return c.done();
}
