// Everything the invariants are checked against, read once the run is quiet: each desk's orders with
// fills, audit trails, account, positions, activity ledger (every page) and whole event log (replayed from
// seq 0 on a fresh socket), the venue's
// ledger per order key, what the drill's own streams received, and (once D1 holds every audit row the
// desks wrote) the audit chain check.
import { EventSocket, type Arrival } from "../clients.ts";
import { inBatches } from "../http.ts";
import type { Account, Activity, Api, AuditEntry, OrderWithFills, PositionValue, Verify } from "./api.ts";
import type { DrillTrader } from "./load.ts";
import type { OrdersByTrader } from "./settle.ts";
import type { StreamFigures } from "./streams.ts";
import type { VenueLedger, VenueLedgerRow } from "./venue.ts";

const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms));

export interface TraderState {
  id: string;
  orders: OrderWithFills[];
  audit: Map<string, AuditEntry[]>;
  account: Account;
  /** GET /api/v1/positions, and GET /api/v1/account/activities followed through every page (newest first). */
  positions: PositionValue[];
  activities: Activity[];
  /** The desk's event log as a client replaying from seq 0 receives it. */
  deskEvents: Arrival[];
  latestSeq: number;
  streams: { figures: StreamFigures; bySeq: ReadonlyMap<number, Arrival> }[];
  verify: Verify;
}

export interface FinalState {
  traders: TraderState[];
  /** The venue's own record per order (per key, or per Alpaca order chain). */
  venue: VenueLedgerRow[];
  /** The venue records a cancel of an order it never had (see VenueLedger). */
  venueRecordsUnknownCancels: boolean;
  verifyAll: Verify;
  /** How long D1 took to hold every audit row after the run went quiet (the outbox catching up), and whether it did. */
  d1CatchUpMs: number;
  d1CaughtUp: boolean;
}

/** The whole event log of a trader: connect with since=0 and wait until the replay reaches the acknowledged seq. */
async function deskEvents(url: string, token: string): Promise<{ latest: number; events: Arrival[] }> {
  const socket = await EventSocket.connect(url, token, { track: false, since: 0 });
  const deadline = Date.now() + 15_000;
  const highest = () => socket.arrivals.reduce((m, a) => Math.max(m, a.seq), 0);
  while (highest() < socket.ackSeq && Date.now() < deadline) await sleep(50);
  socket.close();
  return { latest: socket.ackSeq, events: [...socket.arrivals] };
}

export async function collect(
  api: Api,
  url: string,
  tokens: { admin: string; compliance: string },
  traders: readonly DrillTrader[],
  orders: OrdersByTrader,
  /** Reads the venue's ledger (of the drill's symbols). */
  venueLedger: () => Promise<VenueLedger>,
): Promise<FinalState> {
  const states = await inBatches(traders, 4, async (t): Promise<Omit<TraderState, "verify">> => {
    const list = orders.get(t.id) ?? [];
    const full = await inBatches(list, 4, (o) => api.order(t.token, o.id));
    const audit = new Map<string, AuditEntry[]>();
    await inBatches(list, 4, async (o) => void audit.set(o.id, await api.audit(t.token, o.id)));
    for (const s of t.streams) await s.settled();
    const log = await deskEvents(url, t.token);
    return {
      id: t.id, orders: full, audit, account: await api.account(t.token), positions: await api.positions(t.token), activities: await api.activities(t.token),
      deskEvents: log.events, latestSeq: log.latest,
      streams: t.streams.map((s) => ({ figures: s.report(), bySeq: s.bySeq })),
    };
  });
  const venue = await venueLedger();
  const expected = new Map(states.map((t) => [t.id, [...t.audit.values()].reduce((n, rows) => n + rows.length, 0)]));
  const d1 = await waitForD1(api, tokens.compliance, expected, 90_000);
  const verified = await inBatches(states, 8, async (t) => ({ ...t, verify: await api.verify(tokens.compliance, t.id) }));
  return { traders: verified, venue: venue.rows, venueRecordsUnknownCancels: venue.recordsUnknownCancels, verifyAll: await api.verify(tokens.compliance), d1CatchUpMs: d1.ms, d1CaughtUp: d1.caughtUp };
}

/** Waits until D1 holds, per trader, as many audit rows as the desk wrote (counted by audit/verify). */
async function waitForD1(api: Api, complianceToken: string, expected: ReadonlyMap<string, number>, deadlineMs: number): Promise<{ ms: number; caughtUp: boolean }> {
  const start = Date.now();
  let behind = [...expected.keys()];
  while (behind.length > 0 && Date.now() - start < deadlineMs) {
    const still: string[] = [];
    await inBatches(behind, 8, async (trader) => {
      const v = await api.verify(complianceToken, trader);
      if (v.checked < expected.get(trader)!) still.push(trader);
    });
    behind = still;
    if (behind.length > 0) await sleep(1000);
  }
  return { ms: Date.now() - start, caughtUp: behind.length === 0 };
}
