// The ledgers agree: each account's cash, shares, average cost and realized P&L replayed from its fills, and
// D1's copy of every order, fill, audit row, account and position against what the desks hold.
import { cents, type OrderWithFills } from "./api.ts";
import type { Arrival } from "../clients.ts";
import { ACCOUNT_EVENT, allOrders, Check, FILL_EVENTS, type DrillEvidence, type Invariant } from "./check.ts";
import type { TraderState } from "./collect.ts";
import { START_CASH_CENTS, type InstrumentSpec } from "./scenario.ts";

/** Micro-dollars (1e-6 $) in a cent. */
const MICROS_PER_CENT = 10_000n;

/** n / d rounded half up, for n >= 0 and d > 0 (BigInt: avg x shares passes 2^53 on large positions). */
const divHalfUp = (n: bigint, d: bigint) => (2n * n + d) / (2n * d);

/** A position as the average-cost model keeps it: shares, average cost and realized P&L in micro-dollars. */
export interface Holding {
  quantity: number;
  avgMicros: bigint;
  realizedMicros: bigint;
  /** The fewest shares it held after any fill (a position must never go negative). */
  lowest: number;
}

export interface Replayed {
  cashCents: number;
  /** The least cash the account held after any fill, in the order the desk applied them. */
  lowestCashCents: number;
  positions: Map<string, Holding>;
  /** Each fill's realized P&L in micro-dollars: (price - avg) x shares for a sale, null for a buy. */
  realizedByFill: Map<string, bigint | null>;
}

/**
 * Cash and positions replayed from the starting balance over the desk's fills in the order it applied them,
 * under average cost (an oracle written from the rules, not from worker/trader/ledger.ts): a buy blends the
 * average, avg = round_half_up((avg x held + price x bought) / (held + bought)) in micro-dollars; a sale
 * leaves it unchanged and realizes (price - avg) x sold; a position sold to 0 shares has an average of 0.
 */
export function replayAccount(
  t: TraderState,
  instruments: readonly InstrumentSpec[],
  /** Hears each account.updated of the desk's log with the replay as it stands at that seq (every fill before it applied). */
  onAccountEvent?: (event: Arrival, cashCents: number, positions: ReadonlyMap<string, Holding>) => void,
): Replayed {
  const positions = new Map<string, Holding>(
    instruments.map((i) => [i.symbol, { quantity: i.startShares, avgMicros: i.startShares > 0 ? BigInt(i.priceCents) * MICROS_PER_CENT : 0n, realizedMicros: 0n, lowest: i.startShares }]),
  );
  const orders = new Map(t.orders.map((o) => [o.id, o]));
  const fills = new Map(t.orders.flatMap((o) => o.fills.map((f) => [f.id, f] as const)));
  const realizedByFill = new Map<string, bigint | null>();
  let cashCents = START_CASH_CENTS;
  let lowestCashCents = cashCents;
  const apply = (o: OrderWithFills, fillId: string) => {
    const f = fills.get(fillId);
    if (!f || realizedByFill.has(fillId)) return;
    const q = f.quantity_filled;
    const priceMicros = BigInt(cents(f.price_at_fill)) * MICROS_PER_CENT;
    const p = positions.get(o.symbol) ?? { quantity: 0, avgMicros: 0n, realizedMicros: 0n, lowest: 0 };
    let next: Holding;
    if (o.side === "BUY") {
      cashCents -= q * cents(f.price_at_fill);
      const held = BigInt(Math.max(0, p.quantity));
      const total = held + BigInt(q);
      next = { ...p, quantity: p.quantity + q, avgMicros: divHalfUp(p.avgMicros * held + priceMicros * BigInt(q), total) };
      realizedByFill.set(fillId, null);
    } else {
      cashCents += q * cents(f.price_at_fill);
      const realized = (priceMicros - p.avgMicros) * BigInt(q);
      const left = p.quantity - q;
      next = { ...p, quantity: left, avgMicros: left === 0 ? 0n : p.avgMicros, realizedMicros: p.realizedMicros + realized };
      realizedByFill.set(fillId, realized);
    }
    next.lowest = Math.min(p.lowest, next.quantity);
    positions.set(o.symbol, next);
    lowestCashCents = Math.min(lowestCashCents, cashCents);
  };
  // The desk's event log carries each fill's id in the order the desk applied them (which moves the average).
  for (const ev of [...t.deskEvents].sort((a, b) => a.seq - b.seq)) {
    const o = orders.get(ev.orderId);
    if (o && ev.fillId && FILL_EVENTS.has(ev.event)) apply(o, ev.fillId);
    if (ev.event === ACCOUNT_EVENT) onAccountEvent?.(ev, cashCents, positions);
  }
  for (const o of t.orders) for (const f of o.fills) apply(o, f.id); // any fill without an event still counts
  return { cashCents, lowestCashCents, positions, realizedByFill };
}

export function accountsReconcile(e: DrillEvidence): Invariant {
  const c = new Check(
    "accounts-reconcile",
    "Cash and positions reconcile with the fills (cash to the cent, average cost and realized P&L to the micro-dollar) and with D1; never negative; reserved is 0",
  );
  const d1Fills = new Map((e.d1?.fills ?? []).map((f) => [f.id, f]));
  for (const t of e.state.traders) {
    c.add("accounts");
    const want = replayAccount(t, e.instruments);
    const cash = cents(t.account.cash);
    c.add("cents moved by fills", Math.abs(want.cashCents - START_CASH_CENTS));
    c.expect(cash === want.cashCents, () => `${t.id}: cash ${cash / 100}, fills say ${want.cashCents / 100} (off by ${(cash - want.cashCents) / 100})`);
    c.expect(want.lowestCashCents >= 0 && cash >= 0, () => `${t.id}: cash went negative (lowest ${want.lowestCashCents / 100} after a fill, now ${cash / 100})`);
    c.expect(t.account.reserved === 0, () => `${t.id}: reserved ${t.account.reserved} with nothing working`);
    // Shares promised to SELL orders go back too: every position's available quantity is all of it.
    for (const p of t.positions) {
      c.add("positions with no shares reserved", p.available_quantity === p.quantity ? 1 : 0);
      c.expect(p.available_quantity === p.quantity, () => `${t.id} ${p.symbol}: ${p.quantity - p.available_quantity} of ${p.quantity} shares still reserved with nothing working`);
      const held = t.account.positions.find((x) => x.symbol === p.symbol);
      c.expect(held?.quantity === p.quantity && held.avg_price === p.avg_price, () => `${t.id} ${p.symbol}: /positions says ${p.quantity} @ ${p.avg_price}, /account ${held?.quantity} @ ${held?.avg_price}`);
    }
    for (const p of t.account.positions) {
      if (p.quantity !== 0) c.expect(t.positions.some((x) => x.symbol === p.symbol), () => `${t.id} ${p.symbol}: in /account (${p.quantity}) but not in /positions`);
    }
    const d1Account = e.d1?.accounts.find((a) => a.trader_id === t.id);
    if (e.d1) {
      c.expect(d1Account?.cash_cents === cash && d1Account.reserved_cents === 0, () => `${t.id}: D1 account ${JSON.stringify(d1Account)} vs API cash ${cash} reserved 0`);
    }
    // Each sale fill's realized P&L, as D1 holds it, summed per symbol.
    const d1RealizedBySymbol = new Map<string, bigint>();
    for (const o of t.orders) {
      for (const f of o.fills) {
        c.add(o.side === "BUY" ? "buy fills" : "sale fills");
        const expected = want.realizedByFill.get(f.id);
        if (expected === undefined || !e.d1) continue;
        const row = d1Fills.get(f.id);
        if (!row) continue; // d1-exactly-once names a missing fill
        const got = row.realized_pl_micros === null ? null : BigInt(row.realized_pl_micros);
        c.expect(got === expected, () => `fill ${f.id} (${o.side} ${f.quantity_filled} @ ${f.price_at_fill}): D1 realized_pl_micros ${row.realized_pl_micros}, the average cost says ${expected ?? "null (a buy)"}`);
        if (o.side === "SELL" && got !== null) d1RealizedBySymbol.set(o.symbol, (d1RealizedBySymbol.get(o.symbol) ?? 0n) + got);
      }
    }
    for (const [symbol, p] of want.positions) {
      c.add("positions");
      c.add("net realized P&L, cents", Math.round(Number(p.realizedMicros) / 10_000));
      c.expect(p.lowest >= 0, () => `${t.id} ${symbol}: the position went negative (${p.lowest} shares after a fill)`);
      const api = t.account.positions.find((x) => x.symbol === symbol);
      const quantity = api?.quantity ?? 0;
      c.expect(quantity === p.quantity, () => `${t.id} ${symbol}: holds ${quantity}, fills say ${p.quantity}`);
      c.expect(quantity >= 0, () => `${t.id} ${symbol}: the API shows ${quantity} shares`);
      if (api) {
        // avg_price is dollars at micro-dollar precision; realized_pl is dollars rounded to the cent.
        c.expect(Math.round(api.avg_price * 1_000_000) === Number(p.avgMicros), () => `${t.id} ${symbol}: avg_price ${api.avg_price}, the average cost of the fills is ${Number(p.avgMicros) / 1_000_000}`);
        const realizedCents = Number(p.realizedMicros) / 10_000;
        c.expect(Math.abs(api.realized_pl * 100 - realizedCents) <= 0.5 + 1e-6, () => `${t.id} ${symbol}: realized_pl ${api.realized_pl}, the sales realized ${realizedCents / 100}`);
      }
      if (e.d1) {
        const row = e.d1.positions.find((x) => x.trader_id === t.id && x.symbol === symbol);
        const cost = divHalfUp(p.avgMicros * BigInt(p.quantity), MICROS_PER_CENT);
        const same =
          (row?.quantity ?? 0) === p.quantity &&
          (row === undefined
            ? p.quantity === 0 && p.realizedMicros === 0n
            : BigInt(row.avg_price_micros) === p.avgMicros && BigInt(row.realized_pl_micros) === p.realizedMicros && BigInt(row.cost_cents) === cost);
        c.expect(same, () => `${t.id} ${symbol}: D1 ${JSON.stringify(row)} vs fills ${p.quantity} shares, avg ${p.avgMicros} micros, realized ${p.realizedMicros} micros, cost ${cost} cents`);
        const salesSum = d1RealizedBySymbol.get(symbol) ?? 0n;
        c.expect(salesSum === p.realizedMicros, () => `${t.id} ${symbol}: D1's sale fills realized ${salesSum} micros in all, the position ${p.realizedMicros}`);
      }
    }
  }
  if (!e.d1) c.fail(`D1 not read: ${e.d1Error ?? "unknown"}`);
  return c.done();
}

function exactlyOnce<T extends { id: string }>(c: Check, what: string, d1Rows: readonly T[], desk: ReadonlyMap<string, T>, same: (a: T, b: T) => string | null): void {
  const seen = new Map<string, T>();
  for (const r of d1Rows) {
    if (seen.has(r.id)) c.fail(`${what} ${r.id} is in D1 twice`);
    seen.set(r.id, r);
  }
  c.add(`${what}s in D1`, seen.size);
  for (const [id, row] of desk) {
    const d = seen.get(id);
    if (!d) c.fail(`${what} ${id} is missing from D1`);
    else {
      const diff = same(row, d);
      if (diff) c.fail(`${what} ${id}: ${diff}`);
    }
  }
  for (const id of seen.keys()) if (!desk.has(id)) c.fail(`${what} ${id} is in D1 but not at the desk`);
}

export function d1ExactlyOnce(e: DrillEvidence): Invariant {
  const c = new Check("d1-exactly-once", "D1 holds every order, fill and audit row exactly once (no duplicates by id, none missing)");
  if (!e.d1) {
    c.fail(`D1 not read: ${e.d1Error ?? "unknown"}`);
    return c.done();
  }
  const all = allOrders(e.state);
  // The terms too: an amend changes them, and D1 must hold the amended ones.
  type OrderKey = { id: string; status: string; filled: number; quantity: number; limit: number | null; stop: number | null; amendedAt: string | null };
  const show = (k: OrderKey) => `${k.status}/${k.filled} of ${k.quantity}, limit ${k.limit}, stop ${k.stop}, amended ${k.amendedAt}`;
  exactlyOnce<OrderKey>(c, "order",
    e.d1.orders.map((o) => ({ id: o.id, status: o.status, filled: o.filled_quantity, quantity: o.quantity, limit: o.limit_price_cents, stop: o.stop_price_cents, amendedAt: o.amended_at })),
    new Map(all.map(({ order: o }) => [o.id, {
      id: o.id, status: o.status, filled: o.filled_quantity, quantity: o.quantity, limit: o.price === null ? null : cents(o.price), stop: o.stop_price === null ? null : cents(o.stop_price),
      amendedAt: o.amended_at ?? null,
    }])),
    (a, b) => (show(a) === show(b) ? null : `desk ${show(a)}; D1 ${show(b)}`));
  type FillKey = { id: string; order: string; quantity: number; price: number };
  exactlyOnce<FillKey>(c, "fill", e.d1.fills.map((f) => ({ id: f.id, order: f.order_id, quantity: f.quantity_filled, price: f.price_cents })),
    new Map(all.flatMap(({ order: o }) => o.fills.map((f) => [f.id, { id: f.id, order: o.id, quantity: f.quantity_filled, price: cents(f.price_at_fill) }] as const))),
    (a, b) => (a.order === b.order && a.quantity === b.quantity && a.price === b.price ? null : `desk ${JSON.stringify(a)}, D1 ${JSON.stringify(b)}`));
  type LogKey = { id: string; order: string; action: string };
  exactlyOnce<LogKey>(c, "audit row", e.d1.logs.map((l) => ({ id: l.id, order: l.order_id, action: l.action })),
    new Map(e.state.traders.flatMap((t) => [...t.audit.values()].flat().map((a) => [a.id, { id: a.id, order: a.order_id, action: a.action }] as const))),
    (a, b) => (a.order === b.order && a.action === b.action ? null : `desk ${JSON.stringify(a)}, D1 ${JSON.stringify(b)}`));
  const chains = new Map<string, number[]>();
  for (const l of e.d1.logs) chains.set(l.trader_id, [...(chains.get(l.trader_id) ?? []), l.chain_seq]);
  for (const [trader, seqs] of chains) {
    const sorted = [...seqs].sort((a, b) => a - b);
    c.expect(sorted.every((s, i) => s === i + 1), () => `${trader}: D1 chain_seq is not 1..${sorted.length} without gaps`);
  }
  return c.done();
}
