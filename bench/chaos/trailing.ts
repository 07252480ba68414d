// Trailing stops (SPEC, "Trailing and contingent orders") against the drill's own record of the price path,
// not the desk's word. A SELL tracks the highest price since it was accepted (its high-water mark) and
// triggers when the price falls to the mark less the trail; a BUY mirrors it with the lowest price. The drill
// follows each order's mark over the admin moves from a bound it is sure of: the price of the last move sent
// before the desk logged the venue's acceptance (the venue has seen that price, and every later move, since
// it recorded the order), so its mark is at most the venue's for a SELL (at least, for a BUY), and so is the
// stop. A move that crosses that stop while the order rests for sure (accepted before, not ended, no cancel
// asked before the move was done) must trigger it, and the triggered market order fills.
import { cents, type AuditEntry, type OrderWithFills } from "./api.ts";
import { Check, FILL_EVENTS, type DrillEvidence, type Invariant } from "./check.ts";
import type { PriceMove } from "./load.ts";
import { acceptedAt } from "./stops.ts";

/** The venue's reason when a triggered BUY ran out of the cash it reserved. */
const CASH_BOUND = /market protection|could not fill within the cash reserved/i;

/**
 * Where a trailing stop stands for a mark (cents): the mark less the trail for a SELL (never below one tick),
 * plus the trail for a BUY; a trail in basis points of the mark is rounded to the nearest tick.
 */
export function trailingStopCents(side: "BUY" | "SELL", markCents: number, trail: { cents: number | null; bp: number | null }, tickCents: number): number {
  const distance = trail.cents ?? Math.round((markCents * (trail.bp ?? 0)) / 10_000 / tickCents) * tickCents;
  return side === "SELL" ? Math.max(tickCents, markCents - distance) : markCents + distance;
}

/** A move reaches a stop: at or below it for a SELL, at or above it for a BUY. */
const reaches = (side: "BUY" | "SELL", stopCents: number, priceCents: number) => (side === "SELL" ? priceCents <= stopCents : priceCents >= stopCents);

export function trailingStops(e: DrillEvidence): Invariant {
  const c = new Check(
    "trailing-stops",
    "A trailing stop whose path went through its trail (down for a SELL, up for a BUY) triggered exactly once (one TRIGGERED row, one order.triggered event, before its first fill) and filled; none triggered before the path reached its stop; its stop is its mark less (plus) the trail",
  );
  const spec = new Map(e.instruments.map((i) => [i.symbol, i]));
  const movesOf = new Map<string, PriceMove[]>();
  for (const m of [...e.moves].sort((a, b) => a.sentMs - b.sentMs)) movesOf.set(m.symbol, [...(movesOf.get(m.symbol) ?? []), m]);
  for (const t of e.state.traders) {
    for (const o of t.orders) {
      if (o.order_type !== "TRAILING_STOP") continue;
      const audit = t.audit.get(o.id) ?? [];
      const events = t.deskEvents.filter((a) => a.orderId === o.id).sort((a, b) => a.seq - b.seq);
      const rows = audit.filter((a) => a.action === "TRIGGERED");
      const triggered = events.filter((a) => a.event === "order.triggered");
      const i = spec.get(o.symbol);
      const moves = movesOf.get(o.symbol) ?? [];
      c.add(`${o.side} trailing stops by ${o.trail_price != null ? "price" : "percent"}`);
      c.expect(rows.length <= 1 && triggered.length === rows.length, () => `${o.id}: ${rows.length} TRIGGERED row(s), ${triggered.length} order.triggered event(s)`);
      c.expect(o.fills.length === 0 || rows.length === 1, () => `${o.id} (${o.side} TRAILING_STOP, ${o.status}) has ${o.fills.length} fill(s) and ${rows.length} TRIGGERED rows`);
      const trigIndex = audit.findIndex((a) => a.action === "TRIGGERED");
      const fillIndex = audit.findIndex((a) => a.action === "PARTIAL" || a.action === "FILLED");
      c.expect(fillIndex < 0 || (trigIndex >= 0 && trigIndex < fillIndex), () => `${o.id}: TRIGGERED at audit row ${trigIndex}, its first fill at ${fillIndex}`);
      const firstFillSeq = events.find((a) => FILL_EVENTS.has(a.event))?.seq ?? Infinity;
      c.expect(triggered.length === 0 || triggered[0]!.seq < firstFillSeq, () => `${o.id}: order.triggered at seq ${triggered[0]!.seq}, its first fill at seq ${firstFillSeq}`);
      if (!i) continue;
      const trail = { cents: o.trail_price == null ? null : cents(o.trail_price), bp: o.trail_percent == null ? null : Math.round(o.trail_percent * 100) };
      if (o.hwm != null && o.stop_price != null) {
        const want = trailingStopCents(o.side, cents(o.hwm), trail, i.tickCents);
        c.expect(cents(o.stop_price) === want, () => `${o.id}: stop ${o.stop_price} with mark ${o.hwm} and trail ${JSON.stringify(trail)}; the trail puts it at ${want / 100}`);
        const book = new Set([i.priceCents, ...moves.map((m) => cents(m.price))]);
        c.expect(book.has(cents(o.hwm)), () => `${o.id}: its mark ${o.hwm} is a price the book never had`);
      }
      if (rows.length === 1) checkTrigger(c, o, Date.parse(rows[0]!.timestamp), moves);
      checkCrossing(c, e, o, audit, i.priceCents, i.tickCents, trail, moves);
    }
  }
  for (const side of ["SELL", "BUY"] as const) {
    const n = c.counts[`${side} crossed by the path while resting, triggered and filled`] ?? 0;
    c.expect(n > 0, () => `no ${side} trailing stop was crossed by the path and triggered: the run did not exercise them`);
  }
  return c.done();
}

/** A trailing stop triggered only once the path had reached its stop (its stop stops moving then), and filled past it. */
function checkTrigger(c: Check, o: OrderWithFills, triggeredMs: number, moves: readonly PriceMove[]): void {
  c.add(`${o.side} triggered`);
  if (o.stop_price == null) return c.fail(`${o.id}: triggered without a stop price`);
  const stop = cents(o.stop_price);
  const reached = moves.some((m) => m.sentMs <= triggeredMs && reaches(o.side, stop, cents(m.price)));
  c.expect(reached, () => `${o.id}: a ${o.side} trailing stop triggered at ${new Date(triggeredMs).toISOString()} with its stop at ${o.stop_price}, which no move had reached`);
  const first = o.fills[0];
  if (first) c.expect(reaches(o.side, stop, cents(first.price_at_fill)), () => `${o.id}: a ${o.side} trailing stop at ${o.stop_price} first filled at ${first.price_at_fill}`);
}

/** Follows the order's mark over the moves (see the file's head); a crossing while it rests for sure must trigger and fill it. */
function checkCrossing(
  c: Check, e: DrillEvidence, o: OrderWithFills, audit: readonly AuditEntry[],
  startCents: number, tickCents: number, trail: { cents: number | null; bp: number | null }, moves: readonly PriceMove[],
): void {
  const accepted = acceptedAt(audit);
  if (accepted === null) return void c.add("never accepted by the venue");
  const acceptedMs = Date.parse(accepted);
  const endedMs = audit.filter((a) => ["FILLED", "CANCELLED", "REJECTED", "EXPIRED"].includes(a.action)).map((a) => Date.parse(a.timestamp))[0] ?? Infinity;
  const cancelMs = e.cancelSentAt.get(o.id) ?? Infinity;
  const before = moves.filter((m) => m.sentMs <= acceptedMs);
  let mark = before.length > 0 ? cents(before[before.length - 1]!.price) : startCents;
  if (o.hwm != null && cents(o.hwm) !== mark) c.add("marks that moved after acceptance");
  for (const m of moves) {
    if (m.sentMs <= acceptedMs || m.sentMs >= endedMs || m.doneMs >= cancelMs) continue;
    const p = cents(m.price);
    mark = o.side === "SELL" ? Math.max(mark, p) : Math.min(mark, p);
    const stop = trailingStopCents(o.side, mark, trail, tickCents);
    if (!reaches(o.side, stop, p)) continue;
    c.add(`${o.side} crossed by the path while resting`);
    const filled = o.status === "FILLED";
    const cashBound = o.side === "BUY" && o.status === "CANCELLED" && CASH_BOUND.test(o.reason ?? "");
    const once = audit.filter((a) => a.action === "TRIGGERED").length === 1;
    if (once && (filled || cashBound)) c.add(`${o.side} crossed by the path while resting, triggered and filled`);
    c.expect(once && (filled || cashBound), () =>
      `${o.id}: a ${o.side} trailing stop (mark at least ${mark / 100} by then, stop ${stop / 100}) was resting when ${o.symbol} moved ${m.from} -> ${m.price} (${m.kind}, ${m.sentAt}); it ended ${o.status} with ${o.filled_quantity} of ${o.quantity} (${o.reason ?? ""})`);
    return;
  }
  // The venue's mark went further than the drill's bound (a price it saw before the desk logged its acceptance).
  if (audit.some((a) => a.action === "TRIGGERED")) c.add(`${o.side} triggered by a mark beyond the drill's bound`);
}
