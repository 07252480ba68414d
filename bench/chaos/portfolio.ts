// The account as the trader sees it besides its orders: the account.updated events of the stream and the
// activity ledger. account.updated shares the trader's seq with the order events but belongs to no order
// and has no audit row; the desk sends one in the same change as every fill (and reservation, release or
// trading-state change), so a fill's event is followed, before any event of another change, by the
// account it left. The ledger's opening balance plus every net_amount is the cash.
import { cents } from "./api.ts";
import { ACCOUNT_EVENT, Check, FILL_EVENTS, sum, type DrillEvidence, type Invariant } from "./check.ts";
import type { TraderState } from "./collect.ts";
import { replayAccount, type Holding } from "./ledgers.ts";
import { START_CASH_CENTS } from "./scenario.ts";
import type { AccountSnapshot, Arrival } from "../clients.ts";

const MICROS = 1_000_000;

/** How an account.updated differs from cash (cents) and positions (shares, average in micro-dollars), or null. */
function differs(a: AccountSnapshot, cashCents: number, positions: ReadonlyMap<string, { quantity: number; avgMicros: number }>): string | null {
  const diffs: string[] = [];
  if (cents(a.cash) !== cashCents) diffs.push(`cash ${a.cash} vs ${cashCents / 100}`);
  const held = [...positions].filter(([, p]) => p.quantity !== 0);
  for (const [symbol, p] of held) {
    const got = a.positions.find((x) => x.symbol === symbol);
    if (!got) diffs.push(`${symbol} missing (${p.quantity} held)`);
    else if (got.quantity !== p.quantity || Math.round(got.avg_price * MICROS) !== p.avgMicros) diffs.push(`${symbol} ${got.quantity} @ ${got.avg_price} vs ${p.quantity} @ ${p.avgMicros / MICROS}`);
  }
  for (const x of a.positions) if (!held.some(([symbol]) => symbol === x.symbol)) diffs.push(`${x.symbol} ${x.quantity} shown, none held`);
  return diffs.length > 0 ? diffs.join("; ") : null;
}

const asReplay = (positions: ReadonlyMap<string, Holding>) => new Map([...positions].map(([s, p]) => [s, { quantity: p.quantity, avgMicros: Number(p.avgMicros) }]));

export function accountStream(e: DrillEvidence): Invariant {
  const c = new Check(
    "account-stream",
    "account.updated follows each fill in its desk change, states the cash and positions its fills left, and the last one every socket got is GET /api/v1/account",
  );
  for (const t of e.state.traders) {
    const log = [...t.deskEvents].sort((a, b) => a.seq - b.seq);
    checkFollows(c, t, log);
    for (const a of log) if (a.event === ACCOUNT_EVENT && a.account === null) c.fail(`${t.id} seq ${a.seq}: account.updated without cash, reserved and positions`);
    // Each account.updated against the drill's own replay of the fills before it (seq order).
    replayAccount(t, e.instruments, (ev, cashCents, positions) => {
      if (!ev.account) return;
      c.add("account.updated checked against the fills before it");
      c.expect(ev.account.reserved >= 0, () => `${t.id} seq ${ev.seq}: account.updated with reserved ${ev.account!.reserved}`);
      const diff = differs(ev.account, cashCents, asReplay(positions));
      if (diff) c.fail(`${t.id} seq ${ev.seq}: account.updated says ${diff} (the fills before it)`);
    });
    // The last account.updated of the desk's log, and the last each socket got, is the account at the end.
    const final = t.account;
    const finalPositions = new Map(final.positions.map((p) => [p.symbol, { quantity: p.quantity, avgMicros: Math.round(p.avg_price * MICROS) }]));
    const lastOf = (events: Iterable<Arrival>) => {
      let last: Arrival | null = null;
      for (const a of events) if (a.event === ACCOUNT_EVENT && (!last || a.seq > last.seq)) last = a;
      return last;
    };
    const sources: [string, Arrival | null][] = [["the desk's log", lastOf(log)], ...t.streams.map((s, i) => [`socket ${i + 1}`, lastOf(s.bySeq.values())] as [string, Arrival | null])];
    const hadChanges = log.some((a) => a.event !== ACCOUNT_EVENT);
    for (const [where, last] of sources) {
      if (!last) {
        c.expect(!hadChanges, () => `${t.id}: ${where} holds no account.updated although the account changed`);
        continue;
      }
      c.add("last account.updated compared with the account at the end");
      const diff = last.account ? differs(last.account, cents(final.cash), finalPositions) : "no account in it";
      c.expect(diff === null && last.account!.reserved === final.reserved, () =>
        `${t.id}: the last account.updated ${where} got (seq ${last.seq}) says ${diff ?? ""} reserved ${last.account?.reserved}; GET /api/v1/account: cash ${final.cash}, reserved ${final.reserved}`);
    }
  }
  return c.done();
}

/**
 * Each fill event is followed by an account.updated within its change: the events between the two are of
 * the same order, or of its contingent family (an entry's fill brings its legs alive in the same change), and
 * none starts a change of its own (order.submitted).
 */
function checkFollows(c: Check, t: TraderState, log: readonly Arrival[]): void {
  const familyOf = new Map(t.orders.map((o) => [o.id, o.parent_order_id ?? o.id]));
  const family = (id: string) => familyOf.get(id) ?? id;
  for (let i = 0; i < log.length; i++) {
    const fill = log[i]!;
    if (!FILL_EVENTS.has(fill.event)) continue;
    c.add("fill events");
    let j = i + 1;
    while (j < log.length && log[j]!.event !== ACCOUNT_EVENT && family(log[j]!.orderId) === family(fill.orderId) && log[j]!.event !== "order.submitted") j++;
    const next = log[j];
    if (next?.event === ACCOUNT_EVENT) {
      c.add("fill events followed by account.updated in their change");
      if (j === i + 1) c.add("of which at the next seq");
    } else {
      c.fail(`${t.id} seq ${fill.seq} (${fill.event} ${fill.orderId}): no account.updated before ${next ? `seq ${next.seq} (${next.event} ${next.orderId || "-"})` : "the end of the log"}`);
    }
  }
}

export function activitiesLedger(e: DrillEvidence): Invariant {
  const c = new Check(
    "activities-ledger",
    "GET /api/v1/account/activities (every page): the opening balance and one FILL per fill, as the fills say, newest first; opening balance + every net_amount = cash",
  );
  for (const t of e.state.traders) {
    const acts = t.activities;
    c.add("activities", acts.length);
    const ids = new Set(acts.map((a) => a.id));
    c.expect(ids.size === acts.length, () => `${t.id}: ${acts.length - ids.size} activity id(s) twice (pages overlapping?)`);
    for (let i = 1; i < acts.length; i++) {
      if (acts[i]!.timestamp > acts[i - 1]!.timestamp) {
        c.fail(`${t.id}: activities not newest first at ${acts[i]!.id} (${acts[i]!.timestamp} after ${acts[i - 1]!.timestamp})`);
        break;
      }
    }
    const cash = acts.filter((a) => a.activity_type === "CASH");
    c.add("cash movements", cash.length);
    c.expect(cash.length === 1 && cents(cash[0]!.net_amount) === START_CASH_CENTS, () => `${t.id}: cash movements ${JSON.stringify(cash.map((a) => [a.reason, a.net_amount]))}, expected the opening balance ${START_CASH_CENTS / 100} alone`);
    const replay = replayAccount(t, e.instruments);
    const fills = new Map(t.orders.flatMap((o) => o.fills.map((f) => [f.id, { o, f }] as const)));
    const seen = new Set<string>();
    for (const a of acts.filter((x) => x.activity_type === "FILL")) {
      c.add("fill activities");
      const hit = fills.get(a.id);
      if (!hit) {
        c.fail(`${t.id}: activity ${a.id} is a fill no order has`);
        continue;
      }
      seen.add(a.id);
      const { o, f } = hit;
      const net = (o.side === "BUY" ? -1 : 1) * f.quantity_filled * cents(f.price_at_fill);
      const realized = replay.realizedByFill.get(f.id);
      // realized_pl in dollars rounded to the cent, half away from zero (null for a buy).
      const want = realized === null || realized === undefined ? null : (Math.sign(Number(realized)) * Math.round(Math.abs(Number(realized)) / 10_000)) / 100 || 0;
      const same = a.order_id === o.id && a.symbol === o.symbol && a.side === o.side && a.quantity === f.quantity_filled && a.price !== null && cents(a.price) === cents(f.price_at_fill) && cents(a.net_amount) === net && a.realized_pl === want;
      c.expect(same, () => `${t.id}: activity ${JSON.stringify(a)} vs fill ${o.side} ${f.quantity_filled} ${o.symbol} @ ${f.price_at_fill} of ${o.id} (net ${net / 100}, realized ${want})`);
    }
    const missing = [...fills.keys()].filter((id) => !seen.has(id));
    c.expect(missing.length === 0, () => `${t.id}: ${missing.length} fill(s) with no activity, e.g. ${missing.slice(0, 3).join(", ")}`);
    const total = sum(acts.map((a) => cents(a.net_amount)));
    c.expect(total === cents(t.account.cash), () => `${t.id}: the activities sum to ${total / 100}, the cash is ${t.account.cash} (off by ${(total - cents(t.account.cash)) / 100})`);
    c.add("accounts whose ledger sums to the cash", total === cents(t.account.cash) ? 1 : 0);
  }
  return c.done();
}
