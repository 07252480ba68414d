// Stops, and the gaps that trigger them (SPEC, "Order semantics a broker is held to"): a stop triggers once,
// audited TRIGGERED and sent as order.triggered before its first fill; a price move that crosses a resting
// stop triggers it; a triggered STOP is a market order without the protection band, so a SELL stop sells at
// the price the book gapped to, however far below its stop, and a BUY stop buys as far as its reserved cash
// goes (at the simulated venue; at Alpaca a triggered stop is Alpaca's market order, which buys all its
// shares and may spend past the reservation: docs/alpaca.md); a triggered STOP_LIMIT works as a limit at its
// price. Checked against the drill's own record of the price moves, not the desk's word. An amended stop is
// judged by the terms in force (terms.ts): each fill by those of the desk's last REPLACED before it, each
// move by the stop in force when it was sent (a move while an amend of the stop was on its way proves
// nothing either way).
import { cents, type AuditEntry, type OrderWithFills } from "./api.ts";
import { ALPACA_OCO_CANCEL, Check, exitSiblings, FILL_EVENTS, sum, type DrillEvidence, type Invariant } from "./check.ts";
import type { TraderState } from "./collect.ts";
import { DEPTH } from "./scenario.ts";
import { amendWindows, finalTerms, termsAt, timelineOf, type Terms, type Timeline } from "./terms.ts";

const STOP_TYPES: ReadonlySet<string> = new Set(["STOP", "STOP_LIMIT"]);
/** The venue's reason when a market order (market protection) or a triggered stop (its reserved cash) ran out of bound. */
const MARKET_PROTECTION = /market protection|could not fill within the cash reserved/i;
/** A trigger "through a gap": the first fill at least this far beyond the stop price. */
const GAP_FRACTION = 0.05;

/** When the desk first knew the venue held the order: its acceptance row (the venue recorded it before). */
export function acceptedAt(audit: readonly AuditEntry[]): string | null {
  return audit.find((a) => (a.action === "EXECUTED" && a.error_code === null) || a.action === "RECOVERED")?.timestamp ?? null;
}

/** A crossed stop: a BUY stop at or below the price, a SELL stop at or above it. */
const crosses = (side: "BUY" | "SELL", stopCents: number, priceCents: number) => (side === "BUY" ? priceCents >= stopCents : priceCents <= stopCents);

export function stopsTriggered(e: DrillEvidence): Invariant {
  const c = new Check(
    "stops-triggered",
    "Stops trigger once (one TRIGGERED row and one order.triggered event, before the first fill) when a move crosses them; a gap never cancels a triggered stop",
  );
  const tickOf = new Map(e.instruments.map((i) => [i.symbol, i.tickCents]));
  // Every price each book had: its start and every admin move. A stop of up to DEPTH shares fills at one of them.
  const bookPrices = new Map(e.instruments.map((i) => [i.symbol, new Set([i.priceCents])]));
  for (const m of e.moves) bookPrices.get(m.symbol)?.add(cents(m.price));
  const d1Seq = new Map((e.d1?.logs ?? []).map((l) => [l.id, l.chain_seq]));
  let deepestGap = 0;

  for (const t of e.state.traders) {
    const eventsOf = new Map<string, TraderState["deskEvents"]>();
    for (const a of t.deskEvents) eventsOf.set(a.orderId, [...(eventsOf.get(a.orderId) ?? []), a]);
    const timelines = new Map(t.orders.map((o) => [o.id, timelineOf(eventsOf.get(o.id) ?? [], t.audit.get(o.id) ?? [])]));
    for (const o of t.orders) {
      const audit = t.audit.get(o.id) ?? [];
      const events = eventsOf.get(o.id) ?? [];
      const rows = audit.filter((a) => a.action === "TRIGGERED");
      const triggeredEvents = events.filter((a) => a.event === "order.triggered");
      if (o.order_type === "TRAILING_STOP") continue; // trailing.ts: its stop moves with the price
      if (!STOP_TYPES.has(o.order_type)) {
        c.expect(rows.length === 0 && triggeredEvents.length === 0, () => `${o.id} is a ${o.order_type} with ${rows.length} TRIGGERED row(s) and ${triggeredEvents.length} order.triggered event(s)`);
        continue;
      }
      c.add(`${o.side} ${o.order_type} orders`);
      c.expect(rows.length <= 1, () => `${o.id}: ${rows.length} TRIGGERED rows`);
      c.expect(triggeredEvents.length === rows.length, () => `${o.id}: ${rows.length} TRIGGERED row(s), ${triggeredEvents.length} order.triggered event(s)`);
      c.expect(o.fills.length === 0 || rows.length === 1, () => `${o.id} (${o.side} ${o.order_type}, ${o.status}) has ${o.fills.length} fill(s) but ${rows.length} TRIGGERED rows`);
      if (rows.length === 0) continue;
      c.add("triggered");
      c.add(`triggered ${o.side} ${o.order_type}`);
      checkOrderOfSteps(c, o, audit, events, d1Seq);
      checkTriggeredOutcome(c, e, t, o, tickOf.get(o.symbol) ?? 1, bookPrices.get(o.symbol) ?? new Set(), timelines.get(o.id)!);
      const stop = o.stop_price === null ? null : cents(o.stop_price);
      if (o.order_type === "STOP" && stop !== null && o.fills.length > 0) {
        const first = cents(o.fills[0]!.price_at_fill);
        const gap = Math.abs(first - stop) / stop;
        if (gap >= GAP_FRACTION) c.add(`triggered through a gap (first fill ${GAP_FRACTION * 100}%+ beyond the stop), ${o.side}`);
        deepestGap = Math.max(deepestGap, gap);
      }
    }
    checkMovesTrigger(c, e, t, timelines);
  }
  c.add("deepest gap filled through, basis points", Math.round(deepestGap * 10_000));
  if (e.venue === "alpaca-fake") {
    c.add("triggered BUY STOPs that spent past their reservation (Alpaca's market order, documented)", 0);
    c.most("largest overspend past a BUY STOP's reservation, dollars", 0);
  }
  c.add("gap moves", e.moves.filter((m) => m.kind !== "drift").length);
  // Only worth its checks if gaps happened and went through stops on both sides (as faults-exercised does for faults).
  for (const side of ["SELL", "BUY"] as const) {
    const n = c.counts[`triggered through a gap (first fill ${GAP_FRACTION * 100}%+ beyond the stop), ${side}`] ?? 0;
    c.expect(n > 0, () => `no ${side} STOP was triggered through a gap (${c.counts["gap moves"]} gap moves): the run did not exercise gaps`);
  }
  return c.done();
}

/** TRIGGERED comes before the first fill: in the desk's audit trail, in D1's chain, and in the event log. */
function checkOrderOfSteps(c: Check, o: OrderWithFills, audit: readonly AuditEntry[], events: TraderState["deskEvents"], d1Seq: ReadonlyMap<string, number>): void {
  const trigIndex = audit.findIndex((a) => a.action === "TRIGGERED");
  const fillIndex = audit.findIndex((a) => a.action === "PARTIAL" || a.action === "FILLED");
  c.expect(fillIndex < 0 || trigIndex < fillIndex, () => `${o.id}: its audit trail has TRIGGERED at ${trigIndex}, after the first fill row at ${fillIndex}`);
  const trigSeq = d1Seq.get(audit[trigIndex]!.id);
  const fillSeq = fillIndex < 0 ? undefined : d1Seq.get(audit[fillIndex]!.id);
  c.expect(trigSeq === undefined || fillSeq === undefined || trigSeq < fillSeq, () => `${o.id}: D1 chain_seq of TRIGGERED ${trigSeq}, of its first fill ${fillSeq}`);
  const trigEvent = events.find((a) => a.event === "order.triggered");
  const fillEvents = events.filter((a) => FILL_EVENTS.has(a.event));
  const firstFill = fillEvents.length === 0 ? null : Math.min(...fillEvents.map((a) => a.seq));
  c.expect(!trigEvent || firstFill === null || trigEvent.seq < firstFill, () => `${o.id}: order.triggered is seq ${trigEvent?.seq}, its first fill event seq ${firstFill}`);
}

/**
 * Whether the trader asked to cancel `o`: its own cancel, or (an exit Alpaca cancelled as the other member of
 * its oco order was cancelled: Alpaca ends both) a cancel of one of its siblings.
 */
function traderCancelled(e: DrillEvidence, t: TraderState, o: OrderWithFills): boolean {
  if (e.cancelSentAt.has(o.id)) return true;
  return o.status === "CANCELLED" && ALPACA_OCO_CANCEL.test(o.reason ?? "") && exitSiblings(t.orders, o).some((x) => e.cancelSentAt.has(x.id));
}

/** What a triggered stop must have done (see the file's head). */
function checkTriggeredOutcome(c: Check, e: DrillEvidence, t: TraderState, o: OrderWithFills, tickCents: number, bookPrices: ReadonlySet<number>, timeline: Timeline): void {
  const stop = o.stop_price === null ? null : cents(o.stop_price);
  const prices = o.fills.map((f) => cents(f.price_at_fill));
  // Each fill against the terms in force when the desk logged it (an amend may have moved them).
  const final = finalTerms(o);
  const termsOfFill: Terms[] = o.fills.map((f) => timeline.atFill.get(f.id) ?? final);
  const trader = traderCancelled(e, t, o);
  const protectionCancel = o.status === "CANCELLED" && MARKET_PROTECTION.test(o.reason ?? "");
  // The book does not deplete: level k (k < ceil(shares / DEPTH)) is k ticks from the price it stood at.
  const levels = Math.ceil(o.quantity / DEPTH);
  for (const p of prices) {
    let onBook = false;
    for (let k = 0; k < levels && !onBook; k++) onBook = bookPrices.has(o.side === "SELL" ? p + k * tickCents : p - k * tickCents);
    c.expect(onBook, () => `${o.id}: filled at ${p / 100}, a price the book never offered (its prices: start and admin moves)`);
  }
  if (o.order_type === "STOP_LIMIT") {
    c.expect(!protectionCancel, () => `${o.id}: a triggered STOP_LIMIT was cancelled by market protection (${o.reason})`);
    prices.forEach((p, i) => {
      const limit = termsOfFill[i]!.limitCents;
      if (limit !== null) c.expect(o.side === "BUY" ? p <= limit : p >= limit, () => `${o.id}: a ${o.side} STOP_LIMIT at ${limit / 100} (in force then) filled at ${p / 100}`);
    });
    return;
  }
  if (stop === null) return c.fail(`${o.id}: a STOP without stop_price`);
  prices.forEach((p, i) => {
    const at = termsOfFill[i]!.stopCents ?? stop;
    c.expect(o.side === "BUY" ? p >= at : p <= at, () => `${o.id}: a ${o.side} STOP at ${at / 100} (in force then) filled at ${p / 100}, before its stop was reached`);
  });
  // A BUY stop reserves its shares at its stop price plus the band (its stop is above the reference price
  // at submit, and the drill's accounts hold far more cash than that).
  const budget = o.quantity * (stop + Math.floor((stop * e.bandPct) / 100));
  const spent = sum(o.fills.map((f) => f.quantity_filled * cents(f.price_at_fill)));
  // A stop-loss sells at the book's prices, however far they gapped: it ends FILLED unless the trader
  // cancelled it first or it expired. At Alpaca a triggered BUY STOP is the same market order (Alpaca's stop
  // order), which buys all its shares through a gap and may spend past its reservation: fillwire books what
  // Alpaca executed and takes the difference from the trader's cash (docs/alpaca.md). That is counted, not failed.
  const marketOrder = o.side === "SELL" || e.venue === "alpaca-fake";
  if (marketOrder) {
    const excused = (o.status === "CANCELLED" && trader && !protectionCancel) || o.status === "EXPIRED";
    const what = o.side === "SELL" ? "unsold" : "unbought";
    c.expect(o.status === "FILLED" || excused, () => `${o.id}: a triggered ${o.side} STOP (stop ${stop / 100}) ended ${o.status} with ${o.quantity - o.filled_quantity} of ${o.quantity} shares ${what}: ${o.reason}`);
    if (o.side === "BUY" && spent > budget) {
      c.add("triggered BUY STOPs that spent past their reservation (Alpaca's market order, documented)");
      c.most("largest overspend past a BUY STOP's reservation, dollars", (spent - budget) / 100);
    }
    return;
  }
  // At the simulated venue a triggered BUY stop spends no more than its reservation.
  c.expect(spent <= budget, () => `${o.id}: a BUY STOP spent ${spent / 100}, more than the ${budget / 100} it reserves`);
  if (o.status === "FILLED" || (o.status === "CANCELLED" && trader && !protectionCancel) || o.status === "EXPIRED") return;
  if (o.status === "CANCELLED" && protectionCancel) {
    c.add("BUY STOP filled as far as its reserved cash went");
    // Not one more share at the price it last paid (or, with no fill, at any price the book had after its submit).
    const last = prices.length > 0 ? prices[prices.length - 1]! : null;
    const after = e.moves.filter((m) => m.symbol === o.symbol).map((m) => cents(m.price));
    const cheapestLeft = last ?? Math.max(0, ...after);
    c.expect(budget - spent < cheapestLeft, () => `${o.id}: a triggered BUY STOP (stop ${stop / 100}) was cancelled with ${o.quantity - o.filled_quantity} shares unbought and ${(budget - spent) / 100} of its ${budget / 100} reserve unspent, enough for another share at ${cheapestLeft / 100}: ${o.reason}`);
    return;
  }
  c.fail(`${o.id}: a triggered BUY STOP ended ${o.status} with ${o.filled_quantity} of ${o.quantity}: ${o.reason}`);
}

/**
 * The desk's reason when it cancels an exit of a group it holds itself (a pair Alpaca gets as simple orders:
 * worker/trader/venue-session.ts). An exit Alpaca ended as the other member of its `oco` order has
 * ALPACA_OCO_CANCEL's reason (check.ts); endedAtVenue reads both.
 */
const DESK_HELD_OCO = /^One-cancels-other: its group/;

/**
 * When the venue was done with an exit that its one-cancels-other sibling ended, which can come before the
 * desk logs the exit CANCELLED; Infinity for both for any other order.
 *   filledMs: the sibling's first fill after `sinceMs`. The simulated venue names the sibling ("One-cancels-
 *   other: <sibling> sold the shares", or bought them back); where the desk holds the group, or Alpaca holds it
 *   as one oco order, the siblings are the family's other exits. Alpaca ends the held stop-loss when the
 *   take-profit trades at all, so there a sibling's first fill counts whenever it came (the pair went to
 *   Alpaca as one order, so no fill of it precedes the pair there).
 *   cancelAskedMs: Alpaca ends both members of an oco order on a cancel of either, so for an exit Alpaca
 *   cancelled, the first time the drill asked to cancel a sibling (read like the order's own cancel: a move
 *   done after it proves nothing).
 */
function endedAtVenue(e: DrillEvidence, t: TraderState, o: OrderWithFills, sinceMs: number): { filledMs: number; cancelAskedMs: number } {
  const reason = o.reason ?? "";
  const named = /^One-cancels-other: (\S+) (?:sold|bought)/.exec(reason)?.[1];
  // Alpaca held the pair when the exit went as the leg of an oco order: whichever reason reached the desk
  // first (Alpaca's, the desk's own cancel of a group it saw traded, or a cancel the trader sent later),
  // Alpaca had ended it at the sibling's first trade, which can come before the desk even logged it accepted.
  const ocoLeg = e.state.venue.some((r) => r.order_id === o.id && (r.ocoLegOf ?? null) !== null);
  const atAlpaca = ALPACA_OCO_CANCEL.test(reason) || ocoLeg;
  if (!named && !atAlpaca && !DESK_HELD_OCO.test(reason)) return { filledMs: Infinity, cancelAskedMs: Infinity };
  const siblings = named ? t.orders.filter((x) => x.id === named) : exitSiblings(t.orders, o);
  const fills = siblings.flatMap((x) => x.fills);
  return {
    filledMs: Math.min(Infinity, ...fills.map((f) => Date.parse(f.timestamp)).filter((ms) => atAlpaca || ms >= sinceMs)),
    cancelAskedMs: atAlpaca ? Math.min(Infinity, ...siblings.map((x) => e.cancelSentAt.get(x.id) ?? Infinity)) : Infinity,
  };
}

/**
 * Every admin move that crossed a stop resting at the venue triggered it. Resting for sure: the desk had
 * logged the venue's acceptance before the move was sent, it had logged no final state by then, and the drill
 * had not asked to cancel it before the move was done.
 */
function checkMovesTrigger(c: Check, e: DrillEvidence, t: TraderState, timelines: ReadonlyMap<string, Timeline>): void {
  for (const o of t.orders) {
    // An expired order may have left the venue before the desk logged it: not resting "for sure".
    if (!STOP_TYPES.has(o.order_type) || o.stop_price === null || o.status === "EXPIRED") continue;
    const audit = t.audit.get(o.id) ?? [];
    const accepted = acceptedAt(audit);
    if (accepted === null) continue;
    const acceptedMs = Date.parse(accepted);
    const bySibling = endedAtVenue(e, t, o, acceptedMs);
    const endedMs = Math.min(
      audit.filter((a) => ["FILLED", "CANCELLED", "REJECTED", "EXPIRED"].includes(a.action)).map((a) => Date.parse(a.timestamp))[0] ?? Infinity,
      bySibling.filledMs,
    );
    const cancelMs = Math.min(e.cancelSentAt.get(o.id) ?? Infinity, bySibling.cancelAskedMs);
    const timeline = timelines.get(o.id)!;
    const windows = amendWindows(e.amends.filter((a) => a.orderId === o.id), timeline);
    let crossing: (typeof e.moves)[number] | undefined;
    let stop = cents(o.stop_price);
    for (const m of e.moves) {
      if (m.symbol !== o.symbol || m.sentMs <= acceptedMs || m.sentMs >= endedMs || m.doneMs >= cancelMs) continue;
      if (windows.some(([from, to]) => from < m.doneMs && to > m.sentMs)) continue; // an amend of it was on its way
      const inForce = termsAt(timeline, m.sentMs)?.stopCents ?? (timeline.changes.length === 0 ? cents(o.stop_price) : null);
      if (inForce !== null && crosses(o.side, inForce, cents(m.price))) {
        crossing = m;
        stop = inForce;
        break;
      }
    }
    if (!crossing) continue;
    c.add(`crossed by a ${crossing.kind === "drift" ? "drift" : "gap"} move while resting`);
    if (timeline.changes.length > 0) c.add("crossings of amended stops");
    // At Alpaca a stop_limit (a STOP_LIMIT) that triggers without filling tells fillwire nothing
    // (docs/alpaca.md): then the venue's own record says whether it triggered.
    const seen = audit.some((a) => a.action === "TRIGGERED");
    const atVenue = !seen && e.state.venue.some((r) => r.order_id === o.id && r.triggeredAtVenue === true);
    if (atVenue) c.add("triggered at the venue, not visible to fillwire (Alpaca: a stop_limit that has not filled)");
    const triggered = seen || atVenue;
    const move = crossing;
    // Say whether an amend the desk did not record asked for a stop this move did not reach.
    const unrecorded = e.amends.find((a) => a.orderId === o.id && a.status !== 200 && a.body.stop_price !== undefined && !crosses(o.side, cents(a.body.stop_price), cents(move.price)));
    const hint = unrecorded ? `; an amend to stop ${unrecorded.body.stop_price} (out of the move's reach) was answered ${unrecorded.code ?? unrecorded.status}${unrecorded.detailStatus ? ` (${unrecorded.detailStatus})` : ""}` : "";
    c.expect(triggered, () => `${o.id}: a ${o.side} ${o.order_type} at ${stop / 100} was resting when ${o.symbol} moved ${move.from} -> ${move.price} (${move.kind}, ${move.sentAt}) and never triggered; it ended ${o.status}${hint}`);
  }
}
