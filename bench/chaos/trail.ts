// The trail agrees: every trader's events (contiguous, on every socket, matching each order and its audit),
// the audit hash chain, and proof that the faults the drill injected really happened.
import { FINAL } from "./api.ts";
import { ACCOUNT_EVENT, Check, FILL_EVENTS, FINAL_EVENT, sum, TERMINAL_ACTIONS, type DrillEvidence, type Invariant } from "./check.ts";
import { timelineOf } from "./terms.ts";

export function eventsDelivered(e: DrillEvidence): Invariant {
  const c = new Check("events-delivered", "Every trader's event seq is contiguous, and every socket got every event (live or by replay)");
  for (const t of e.state.traders) {
    const seqs = t.deskEvents.map((a) => a.seq);
    c.add("events", t.latestSeq);
    c.expect(seqs.length === t.latestSeq && seqs.every((s, i) => s === i + 1), () => `${t.id}: the desk's log is not seq 1..${t.latestSeq} (got ${seqs.length} events)`);
    const desk = new Map(t.deskEvents.map((a) => [a.seq, a]));
    for (const s of t.streams) {
      const f = s.figures;
      c.add("sockets (logical streams)");
      c.add("reconnects", f.sockets - 1);
      c.add("drops by the server", f.serverDrops);
      c.add("drops forced by the drill", f.forcedDrops);
      c.add("received live", f.live);
      c.add("received by replay", f.replayed);
      c.add("duplicates (allowed)", f.duplicates);
      c.add("out of order", f.outOfOrder);
      c.expect(f.outOfOrder === 0, () => `${t.id}: a socket received ${f.outOfOrder} event(s) out of seq order`);
      let missing = 0;
      for (let seq = f.baseSeq + 1; seq <= t.latestSeq; seq++) {
        const got = s.bySeq.get(seq);
        const want = desk.get(seq);
        if (!got) missing++;
        else if (want && (got.event !== want.event || got.orderId !== want.orderId)) c.fail(`${t.id} seq ${seq}: socket got ${got.event} ${got.orderId}, the desk logged ${want.event} ${want.orderId}`);
        else if (want && JSON.stringify(got.account) !== JSON.stringify(want.account)) c.fail(`${t.id} seq ${seq}: socket got account ${JSON.stringify(got.account)}, the desk logged ${JSON.stringify(want.account)}`);
      }
      c.add("missed", missing);
      c.expect(missing === 0, () => `${t.id}: a socket never received ${missing} of ${t.latestSeq - f.baseSeq} events`);
    }
  }
  return c.done();
}

export function eventsMatchAudit(e: DrillEvidence): Invariant {
  const c = new Check(
    "events-match-audit",
    "Events match each order and its audit (one submitted, one final event of its status, one fill event per fill, one order.replaced per REPLACED row, in the same order); account.updated names no order",
  );
  for (const t of e.state.traders) {
    const byOrder = new Map<string, typeof t.deskEvents>();
    for (const a of t.deskEvents) byOrder.set(a.orderId, [...(byOrder.get(a.orderId) ?? []), a]);
    // account.updated is part of the seq stream but of no order: it has no order id and no audit row.
    const accountEvents = t.deskEvents.filter((a) => a.event === ACCOUNT_EVENT);
    c.add("account.updated events (no order, no audit row)", accountEvents.length);
    const orphans = (byOrder.get("") ?? []).filter((a) => a.event !== ACCOUNT_EVENT);
    c.expect(orphans.length === 0, () => `${t.id}: ${orphans.length} order event(s) without an order id (seq ${orphans.map((a) => a.seq).join(", ")})`);
    const ids = new Set(t.orders.map((o) => o.id));
    for (const [id, events] of byOrder) {
      if (id !== "" && !ids.has(id)) c.fail(`${t.id}: ${events.length} event(s) for order ${id}, which the desk does not list`);
    }
    for (const o of t.orders) {
      c.add("orders");
      const events = byOrder.get(o.id) ?? [];
      const audit = t.audit.get(o.id) ?? [];
      c.add("audit rows", audit.length);
      const n = (name: string) => events.filter((a) => a.event === name).length;
      const rows = (pick: (a: (typeof audit)[number]) => boolean) => audit.filter(pick).length;
      c.expect(n("order.submitted") === 1, () => `${o.id}: ${n("order.submitted")} order.submitted events`);
      c.expect(n("order.accepted") <= 1, () => `${o.id}: ${n("order.accepted")} order.accepted events`);
      const acceptances = rows((a) => (a.action === "EXECUTED" && a.error_code === null) || a.action === "RECOVERED");
      c.expect(n("order.accepted") === acceptances, () => `${o.id}: ${n("order.accepted")} order.accepted event(s), ${acceptances} acceptance row(s) (EXECUTED without error, RECOVERED)`);
      for (const [status, name] of Object.entries(FINAL_EVENT)) {
        const want = o.status === status ? 1 : 0;
        c.expect(n(name) === want, () => `${o.id} is ${o.status} with ${n(name)} ${name} event(s)`);
      }
      const fillEvents = events.filter((a) => FILL_EVENTS.has(a.event));
      const fillRows = audit.filter((a) => a.action === "PARTIAL" || a.action === "FILLED");
      c.expect(fillEvents.length === o.fills.length && fillRows.length === o.fills.length, () => `${o.id}: ${o.fills.length} fills, ${fillEvents.length} fill events, ${fillRows.length} PARTIAL/FILLED audit rows`);
      const shares = sum(fillEvents.map((a) => a.quantityFilled ?? 0));
      c.expect(shares === o.filled_quantity, () => `${o.id}: fill events carry ${shares} shares, filled_quantity ${o.filled_quantity}`);
      const replaced = rows((a) => a.action === "REPLACED");
      c.add("REPLACED rows", replaced);
      c.expect(n("order.replaced") === replaced, () => `${o.id}: ${replaced} REPLACED row(s), ${n("order.replaced")} order.replaced event(s)`);
      if (replaced > 0) {
        // Amends and fills in the same order in the audit trail and in the event log.
        const tl = timelineOf(events, audit);
        c.expect(tl.eventKinds === tl.auditKinds, () => `${o.id}: amends (R) and fills (F) are ${tl.auditKinds} in the audit trail but ${tl.eventKinds} in the events`);
      }
      c.add("order.cancel_rejected events (no audit row)", n("order.cancel_rejected"));
      c.expect(audit.filter((a) => a.action === "SUBMITTED").length === 1, () => `${o.id}: ${audit.filter((a) => a.action === "SUBMITTED").length} SUBMITTED rows`);
      const terminal = audit.filter((a) => TERMINAL_ACTIONS.has(a.action));
      if (FINAL.has(o.status)) c.expect(terminal.length === 1 && terminal[0]!.action === o.status, () => `${o.id} is ${o.status}; its final audit rows: ${terminal.map((a) => a.action).join(", ") || "none"}`);
    }
  }
  return c.done();
}

export function auditChain(e: DrillEvidence): Invariant {
  const c = new Check("audit-chain", "The audit chain verifies (/api/v1/compliance/audit/verify), covering every desk audit row");
  const v = e.state.verifyAll;
  c.add("rows checked (all traders)", v.checked);
  c.add("traders checked", v.traders);
  c.expect(v.ok, () => `verify: ${JSON.stringify(v.first_bad)}`);
  for (const t of e.state.traders) {
    const rows = sum([...t.audit.values()].map((a) => a.length));
    c.expect(t.verify.ok, () => `${t.id}: ${JSON.stringify(t.verify.first_bad)}`);
    c.expect(t.verify.checked === rows, () => `${t.id}: the chain check covered ${t.verify.checked} rows, the desk wrote ${rows}`);
  }
  return c.done();
}

/** Desk audit rows stamped in [from, until): D1 refused them while the outage lasted, and must hold them now. */
function stampedIn(e: DrillEvidence, from: string, until: string): number {
  return e.state.traders.reduce((n, t) => n + [...t.audit.values()].flat().filter((a) => a.timestamp >= from && a.timestamp < until).length, 0);
}

/** The drill itself is only worth its invariants if the faults happened: this row fails a run that injected nothing. */
export function faultsExercised(e: DrillEvidence): Invariant {
  const c = new Check("faults-exercised", "The faults happened: venue timeouts and errors, lookups by key, D1 refusing writes, desks restarted");
  const audit = e.state.traders.flatMap((t) => [...t.audit.values()].flat());
  // Sends to the instruments with injected faults: each ends as a failed attempt or as the venue's acceptance.
  const faulty = new Set(Object.entries(e.faults.venue).filter(([, f]) => (f.timeout_rate ?? 0) > 0).map(([symbol]) => symbol));
  const onFaulty = new Set(e.state.traders.flatMap((t) => t.orders.filter((o) => faulty.has(o.symbol)).map((o) => o.id)));
  const sends = audit.filter((a) => onFaulty.has(a.order_id) && (a.error_code !== null || (a.action === "EXECUTED" && a.error_code === null) || (a.action === "RECOVERED" && a.reason?.startsWith("Venue accepted"))));
  c.add("sends to the faulty instruments", sends.length);
  c.add("of which timed out", sends.filter((a) => a.error_code === "TIMEOUT").length);
  c.add("of which errored", sends.filter((a) => a.error_code === "VENUE_ERROR").length);
  c.add("venue attempts timed out", audit.filter((a) => a.error_code === "TIMEOUT").length);
  c.add("venue attempts errored", audit.filter((a) => a.error_code === "VENUE_ERROR").length);
  c.add("recovered by lookup (key)", audit.filter((a) => a.action === "RECOVERED" && a.reason?.startsWith("Found at the venue")).length);
  c.add("accepted on a retry", audit.filter((a) => a.action === "RECOVERED" && !a.reason?.startsWith("Found at the venue")).length);
  c.add("rejected after the last retry", audit.filter((a) => a.action === "REJECTED" && a.reason?.includes("retries")).length);
  c.add("desk restarts", e.faults.restarts.length);
  let midRetry = 0;
  for (const r of e.faults.restarts) {
    const rows = e.state.traders.find((t) => t.id === r.trader)?.audit.get(r.orderId ?? "") ?? [];
    const failedBefore = rows.some((a) => a.error_code !== null && a.timestamp <= r.at);
    const endedAfter = rows.some((a) => TERMINAL_ACTIONS.has(a.action) && a.timestamp > r.at);
    if (failedBefore && endedAfter) midRetry++;
  }
  c.add("restarts with the order between venue attempts", midRetry);
  const o = e.faults.d1Outage;
  c.add("D1 outage seconds", o?.seconds ?? 0);
  c.add("orders acknowledged during the D1 outage", o?.acknowledgedDuring ?? 0);
  c.add("socket drops forced", sum(e.faults.socketDrops.map((d) => d.traders.length)));
  c.expect(c.counts["venue attempts timed out"]! > 0, () => "no venue attempt timed out");
  c.expect(c.counts["recovered by lookup (key)"]! > 0, () => "no order was recovered by a lookup by key");
  c.expect(e.faults.restarts.length > 0, () => "no desk was restarted");
  c.add("audit rows stamped during the outage", o ? stampedIn(e, o.armed, o.until) : 0);
  // Rows the desks had written before the in-window read of D1 began: that read must have found none of them.
  const before = o ? stampedIn(e, o.armed, o.sampleStartedAt) : 0;
  c.add("of which written before D1 was read in the window", before);
  c.expect(o !== null && o.sampledInWindow && before > 0 && o.d1RowsStampedDuring === 0, () => `D1 did not visibly refuse writes during the outage (${JSON.stringify(o)}; ${before} rows written before the read)`);
  for (const err of e.faults.errors) c.fail(`a fault step failed: ${err}`);
  return c.done();
}
