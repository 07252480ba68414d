// Contingent orders and the positions they move (SPEC, "Trailing and contingent orders"): no position is
// ever negative, wherever the drill sees one; the exits of a bracket or oto never sell more than its entry
// bought, nor the two exits of an oco more than the shares it was placed for, at any point of the desk's
// event log; and every leg is final once its parent's position is flat (a leg is also live, not HELD, once
// its entry has filled), when the desks first went quiet after the flow and at the end.
import type { Arrival } from "../clients.ts";
import { FINAL, type AuditEntry, type Order } from "./api.ts";
import { ACCOUNT_EVENT, ALPACA_OCO_CANCEL, Check, FILL_EVENTS, sum, type DrillEvidence, type Invariant } from "./check.ts";
import type { TraderState } from "./collect.ts";
import { replayAccount } from "./ledgers.ts";
import { heldBefore } from "./management.ts";
import { acceptedAt } from "./stops.ts";

/** A contingent parent and its legs (an oco's parent is its take-profit, its one leg the stop-loss). */
export interface Family<T extends Order> {
  parent: T;
  legs: T[];
  orderClass: "bracket" | "oto" | "oco";
}

/** The contingent parents among `orders`, each with its legs. */
export function families<T extends Order>(orders: readonly T[]): Family<T>[] {
  const legsOf = new Map<string, T[]>();
  for (const o of orders) if (o.parent_order_id) legsOf.set(o.parent_order_id, [...(legsOf.get(o.parent_order_id) ?? []), o]);
  const out: Family<T>[] = [];
  for (const o of orders) {
    const cls = o.order_class ?? "simple";
    if (!o.parent_order_id && cls !== "simple") out.push({ parent: o, legs: legsOf.get(o.id) ?? [], orderClass: cls });
  }
  return out;
}

const isFinal = (o: Order) => FINAL.has(o.status);
/** An oco's shares, or a bracket's or oto's entry: the quantity its order.submitted stated (the orders' quantities shrink as the exits sell). */
const submittedQuantity = (t: TraderState, o: Order) => t.deskEvents.find((a) => a.orderId === o.id && a.event === "order.submitted")?.terms?.quantity ?? o.quantity;

/** Flat: nothing left that the family's exits could still sell (see the file's head); exits that sold too much count as flat too. */
function isFlat(t: TraderState, f: Family<Order>): boolean {
  if (f.orderClass === "oco") return f.parent.filled_quantity + sum(f.legs.map((l) => l.filled_quantity)) >= submittedQuantity(t, f.parent);
  return isFinal(f.parent) && (f.parent.filled_quantity === 0 || sum(f.legs.map((l) => l.filled_quantity)) >= f.parent.filled_quantity);
}

export function positionsNeverNegative(e: DrillEvidence): Invariant {
  const c = new Check(
    "positions-never-negative",
    "No position is ever negative, per trader and symbol: in every account.updated of the desk's log and of every socket, GET /api/v1/account and /positions, D1, and the fills replayed in the desk's order",
  );
  const contingent = e.instruments.find((i) => i.contingent)?.symbol ?? null;
  for (const t of e.state.traders) {
    const look = (where: string, positions: readonly { symbol: string; quantity: number }[]) => {
      for (const p of positions) {
        c.add("position rows checked");
        c.expect(p.quantity >= 0, () => `${t.id} ${p.symbol}: ${p.quantity} shares in ${where}`);
      }
    };
    const snapshots = (arrivals: Iterable<Arrival>, where: string, count: string) => {
      for (const a of arrivals) {
        if (a.event !== ACCOUNT_EVENT || !a.account) continue;
        c.add(count);
        look(`${where}, account.updated seq ${a.seq}`, a.account.positions);
      }
    };
    snapshots(t.deskEvents, "the desk's log", "account.updated on the desks' logs");
    t.streams.forEach((s, i) => snapshots(s.bySeq.values(), `socket ${i + 1}`, "account.updated received on sockets"));
    look("GET /api/v1/account", t.account.positions);
    look("GET /api/v1/positions", t.positions);
    for (const p of t.positions) c.expect(p.available_quantity >= 0 && p.available_quantity <= p.quantity, () => `${t.id} ${p.symbol}: ${p.available_quantity} of ${p.quantity} shares available`);
    look("D1", (e.d1?.positions ?? []).filter((p) => p.trader_id === t.id));
    for (const [symbol, p] of replayAccount(t, e.instruments).positions) {
      c.expect(p.lowest >= 0, () => `${t.id} ${symbol}: ${p.lowest} shares after a fill (the fills in the desk's order)`);
      if (symbol === contingent) {
        c.add("contingent-instrument positions replayed");
        if (p.quantity === 0 && t.orders.some((o) => o.symbol === symbol && o.filled_quantity > 0)) c.add("of which traded and flat at the end");
      }
    }
  }
  if (!e.d1) c.fail(`D1 not read: ${e.d1Error ?? "unknown"}`);
  return c.done();
}

export function exitsWithinEntry(e: DrillEvidence): Invariant {
  const c = new Check(
    "exits-within-entry",
    "The exits of a bracket or oto never sell more than its entry bought, and an oco's two exits never more than its shares (nor than the position when placed), at every fill in the desk's log and at the end",
  );
  for (const t of e.state.traders) {
    const log = [...t.deskEvents].sort((a, b) => a.seq - b.seq);
    for (const f of families(t.orders)) {
      const { parent, legs } = f;
      c.add(`${f.orderClass} parents`);
      c.add(`${f.orderClass} legs`, legs.length);
      // An entry's exits trade the other way (the drill's entries are BUYs: their exits SELL); an oco's two exits the same way.
      const exitSide = f.orderClass === "oco" ? parent.side : parent.side === "BUY" ? "SELL" : "BUY";
      for (const l of legs) {
        c.expect(l.side === exitSide && l.symbol === parent.symbol && l.order_class === f.orderClass, () => `${l.id}: a ${l.side} ${l.symbol} ${l.order_class} leg of ${parent.id} (${parent.side} ${parent.symbol} ${f.orderClass})`);
      }
      const exits = f.orderClass === "oco" ? [parent, ...legs] : legs;
      const exitIds = new Set(exits.map((o) => o.id));
      // The ceiling: what the entry bought, or the shares the oco was placed for.
      const ceiling = f.orderClass === "oco" ? Math.max(...exits.map((o) => submittedQuantity(t, o))) : null;
      // Says when the venue took each exit and when it first filled: an exit the venue took after its sibling sold the shares is the tell.
      const story = () => exits.map((x) => `${x.id.slice(-3)} accepted ${acceptedAt(t.audit.get(x.id) ?? [])?.slice(11, 23) ?? "never"}, first fill ${x.fills[0]?.timestamp.slice(11, 23) ?? "none"}`).join("; ");
      let bought = 0;
      let sold = 0;
      for (const a of log) {
        if (!FILL_EVENTS.has(a.event)) continue;
        if (a.orderId === parent.id && f.orderClass !== "oco") bought += a.quantityFilled ?? 0;
        if (!exitIds.has(a.orderId)) continue;
        sold += a.quantityFilled ?? 0;
        const limit = ceiling ?? bought;
        c.expect(sold <= limit, () => `${parent.id} (${f.orderClass}): its exits had sold ${sold} by seq ${a.seq} (${a.orderId}), ${ceiling === null ? `its entry had bought ${bought}` : `it was placed for ${ceiling}`} (${story()})`);
      }
      const soldEnd = sum(exits.map((o) => o.filled_quantity));
      c.add("shares sold by exits", soldEnd);
      if (f.orderClass === "oco") {
        const placed = t.deskEvents.find((a) => a.orderId === parent.id && a.event === "order.submitted");
        const start = e.instruments.find((i) => i.symbol === parent.symbol)?.startShares ?? 0;
        const held = placed ? heldBefore(t, parent.symbol, placed.seq, start) : null;
        c.expect(soldEnd <= ceiling!, () => `${parent.id} (oco for ${ceiling}): its exits sold ${soldEnd}`);
        c.expect(held === null || ceiling! <= held, () => `${parent.id}: an oco for ${ceiling} shares placed with ${held} held`);
        if (soldEnd === ceiling) c.add("ocos whose exits sold all their shares");
        continue;
      }
      c.add("shares bought by entries", parent.filled_quantity);
      c.expect(soldEnd <= parent.filled_quantity, () => `${parent.id} (${f.orderClass}): its exits sold ${soldEnd}, its entry bought ${parent.filled_quantity}`);
      if (parent.filled_quantity > 0 && soldEnd === parent.filled_quantity) c.add("entries whose exits sold all they bought");
      for (const l of legs) {
        const activated = (t.audit.get(l.id) ?? []).some((a) => a.action === "ACTIVATED");
        c.expect(!activated || l.quantity <= parent.filled_quantity, () => `${l.id}: a live exit for ${l.quantity} of an entry that bought ${parent.filled_quantity}`);
      }
    }
  }
  return c.done();
}

/** The rules of legs-final-when-flat over one picture of the orders (`when`: at quiet, or at the end). */
function checkLegs(c: Check, t: TraderState, orders: readonly Order[], when: string): void {
  for (const f of families(orders)) {
    const flat = isFlat(t, f);
    const exits = f.orderClass === "oco" ? [f.parent, ...f.legs] : f.legs;
    if (flat) {
      c.add(`families flat ${when}`);
      for (const l of exits) {
        c.add(`legs of flat families ${when}`);
        const sold = sum(exits.map((x) => x.filled_quantity));
        c.expect(isFinal(l), () =>
          `${l.id} is ${l.status} (${l.filled_quantity} of ${l.quantity}) ${when}, though its ${f.orderClass} ${f.parent.id} is flat: parent ${f.parent.status}, filled ${f.parent.filled_quantity}, exits sold ${sold}`);
      }
      continue;
    }
    if (f.orderClass === "oco") continue;
    for (const l of f.legs) {
      if (l.status === "HELD") c.add(`legs HELD behind a working entry ${when}`);
      else if (!isFinal(l)) c.add(`legs live over a position ${when}`);
      c.expect(l.status !== "HELD" || f.parent.filled_quantity === 0, () => `${l.id} is HELD ${when}, though its entry ${f.parent.id} filled ${f.parent.filled_quantity} (${f.parent.status})`);
    }
  }
}

export function legsFinalWhenFlat(e: DrillEvidence): Invariant {
  const c = new Check(
    "legs-final-when-flat",
    "Every leg is final (not HELD or working) once its parent's position is flat (the parent final and its exits sold all it bought, or it bought nothing; an oco's shares all sold), when the desks went quiet after the flow and at the end; no leg stays HELD once its entry filled; one ACTIVATED row and order.activated event per live leg at most",
  );
  for (const t of e.state.traders) {
    checkLegs(c, t, e.ordersAtQuiet.get(t.id) ?? [], "when the desks went quiet");
    checkLegs(c, t, t.orders, "at the end");
    for (const o of t.orders) {
      if (!o.parent_order_id) continue;
      const rows = (t.audit.get(o.id) ?? []).filter((a) => a.action === "ACTIVATED").length;
      const events = t.deskEvents.filter((a) => a.orderId === o.id && a.event === "order.activated").length;
      c.add("ACTIVATED rows", rows);
      c.expect(rows <= 1 && events === rows, () => `${o.id}: ${rows} ACTIVATED row(s), ${events} order.activated event(s)`);
    }
  }
  return c.done();
}

/**
 * The contingent orders' figures for the report: parents placed by class, legs activated, exits filled by
 * kind, siblings cancelled by one-cancels-other, exits grown with a partial entry, trailing stops triggered.
 */
export function contingentFigures(e: DrillEvidence): Record<string, number> {
  const n: Record<string, number> = {};
  const add = (k: string, by = 1) => void (n[k] = (n[k] ?? 0) + by);
  for (const t of e.state.traders) {
    const rows = (id: string, action: AuditEntry["action"]) => (t.audit.get(id) ?? []).filter((a) => a.action === action).length;
    for (const f of families(t.orders)) {
      add(`${f.orderClass}s placed`);
      for (const [o, exit] of [...(f.orderClass === "oco" ? [[f.parent, "take-profits"] as const] : []), ...f.legs.map((l) => [l, l.order_type === "LIMIT" ? "take-profits" : "stop-losses"] as const)]) {
        if (o.parent_order_id) add("legs");
        if (rows(o.id, "ACTIVATED") > 0) add("legs activated");
        if (o.status === "CANCELLED" && rows(o.id, "ACTIVATED") === 0 && o.parent_order_id && f.orderClass !== "oco") add("legs cancelled while HELD");
        if (o.filled_quantity > 0) add(`${exit} filled`);
        if (/^One-cancels-other/.test(o.reason ?? "")) add("siblings cancelled (one-cancels-other)");
        if (ALPACA_OCO_CANCEL.test(o.reason ?? "")) add("of which by Alpaca (the other member of its oco order triggered, traded or was cancelled)");
        if (rows(o.id, "REPLACED") > 0) add("exits grown with a partial entry");
      }
    }
    for (const o of t.orders.filter((x) => x.order_type === "TRAILING_STOP")) {
      add("trailing stops placed");
      if (rows(o.id, "TRIGGERED") > 0) add("trailing stops triggered");
      if (o.status === "FILLED") add("trailing stops filled");
    }
  }
  return n;
}
