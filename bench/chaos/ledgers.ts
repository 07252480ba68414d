// The ledgers agree: each account's cash and shares replayed from its fills, and D1's copy of every order,
// fill, audit row, account and position against what the desks hold.
import { cents, type OrderWithFills } from "./api.ts";
import { allOrders, Check, FILL_EVENTS, type DrillEvidence, type Invariant } from "./check.ts";
import type { TraderState } from "./collect.ts";
import { START_CASH_CENTS, START_SHARES, type InstrumentSpec } from "./scenario.ts";

/** Cash, shares and cost per symbol, replayed from the starting balance over the desk's fills in the order it applied them. */
function replayAccount(t: TraderState, instruments: readonly InstrumentSpec[]): { cashCents: number; positions: Map<string, { quantity: number; costCents: number }> } {
  const positions = new Map(instruments.map((i) => [i.symbol, { quantity: START_SHARES, costCents: START_SHARES * i.priceCents }]));
  const orders = new Map(t.orders.map((o) => [o.id, o]));
  const fills = new Map(t.orders.flatMap((o) => o.fills.map((f) => [f.id, f] as const)));
  let cashCents = START_CASH_CENTS;
  const applied = new Set<string>();
  const apply = (o: OrderWithFills, fillId: string) => {
    const f = fills.get(fillId);
    if (!f || applied.has(fillId)) return;
    applied.add(fillId);
    const value = f.quantity_filled * cents(f.price_at_fill);
    const p = positions.get(o.symbol) ?? { quantity: 0, costCents: 0 };
    if (o.side === "BUY") {
      cashCents -= value;
      positions.set(o.symbol, { quantity: p.quantity + f.quantity_filled, costCents: p.costCents + value });
    } else {
      cashCents += value;
      const costOut = p.quantity > 0 ? Math.round((p.costCents * f.quantity_filled) / p.quantity) : 0;
      positions.set(o.symbol, { quantity: p.quantity - f.quantity_filled, costCents: p.costCents - costOut });
    }
  };
  // The desk's event log carries each fill's id in the order the desk applied them (which moves cost basis).
  for (const ev of [...t.deskEvents].sort((a, b) => a.seq - b.seq)) {
    const o = orders.get(ev.orderId);
    if (o && ev.fillId && FILL_EVENTS.has(ev.event)) apply(o, ev.fillId);
  }
  for (const o of t.orders) for (const f of o.fills) apply(o, f.id); // any fill without an event still counts
  return { cashCents, positions };
}

export function accountsReconcile(e: DrillEvidence): Invariant {
  const c = new Check("accounts-reconcile", "Each account's cash and positions reconcile exactly with its fills (to the cent) and with D1; reserved is 0");
  for (const t of e.state.traders) {
    c.add("accounts");
    const want = replayAccount(t, e.instruments);
    const cash = cents(t.account.cash);
    c.add("cents moved by fills", Math.abs(want.cashCents - START_CASH_CENTS));
    c.expect(cash === want.cashCents, () => `${t.id}: cash ${cash / 100}, fills say ${want.cashCents / 100} (off by ${(cash - want.cashCents) / 100})`);
    c.expect(t.account.reserved === 0, () => `${t.id}: reserved ${t.account.reserved} with nothing working`);
    const d1Account = e.d1?.accounts.find((a) => a.trader_id === t.id);
    if (e.d1) {
      c.expect(d1Account?.cash_cents === cash && d1Account.reserved_cents === 0, () => `${t.id}: D1 account ${JSON.stringify(d1Account)} vs API cash ${cash} reserved 0`);
    }
    for (const [symbol, p] of want.positions) {
      c.add("positions");
      const api = t.account.positions.find((x) => x.symbol === symbol);
      const quantity = api?.quantity ?? 0;
      c.expect(quantity === p.quantity, () => `${t.id} ${symbol}: holds ${quantity}, fills say ${p.quantity}`);
      const avg = p.quantity > 0 ? Math.round((p.costCents / p.quantity) * 100) / 10_000 : 0;
      if (api) c.expect(api.avg_price === avg, () => `${t.id} ${symbol}: avg_price ${api.avg_price}, fills say ${avg}`);
      if (e.d1) {
        const row = e.d1.positions.find((x) => x.trader_id === t.id && x.symbol === symbol);
        c.expect((row?.quantity ?? 0) === p.quantity && (p.quantity === 0 || row?.cost_cents === p.costCents), () => `${t.id} ${symbol}: D1 ${JSON.stringify(row)} vs fills ${p.quantity} shares, cost ${p.costCents}`);
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
  type OrderKey = { id: string; status: string; filled: number };
  exactlyOnce<OrderKey>(c, "order", e.d1.orders.map((o) => ({ id: o.id, status: o.status, filled: o.filled_quantity })),
    new Map(all.map(({ order: o }) => [o.id, { id: o.id, status: o.status, filled: o.filled_quantity }])),
    (a, b) => (a.status === b.status && a.filled === b.filled ? null : `desk ${a.status}/${a.filled}, D1 ${b.status}/${b.filled}`));
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
