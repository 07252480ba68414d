// Re-checks the audit hash chain in D1: every row's hash recomputed from its fields and the previous
// hash, positions contiguous. A row changed or removed behind the append-only triggers' back is found.
import { chainHash, GENESIS_HASH } from "../audit/chain";
import { chainPage, chainSpan, tradersWithLogs, type ChainRow } from "../db/executions";
import type { VerifyResult } from "../shared/compliance";

const PAGE = 1000;

export type ChainProblem = NonNullable<VerifyResult["first_bad"]>;

/** Checks rows that follow each other in one chain; returns the first problem, or null. */
export function checkLinks(rows: ChainRow[], start: { seq: number; hash: string }): ChainProblem | null {
  let expectSeq = start.seq;
  let prev = start.hash;
  for (const r of rows) {
    const at = { trader_id: r.traderId, chain_seq: r.chainSeq, id: r.id };
    if (r.chainSeq !== expectSeq) return { ...at, chain_seq: expectSeq, id: null, problem: `row ${expectSeq} is missing (next row found is ${r.chainSeq})` };
    if (r.prevHash !== prev) return { ...at, problem: "prev_hash does not match the hash of the row before it" };
    const recomputed = chainHash(r.prevHash, {
      traderId: r.traderId, chainSeq: r.chainSeq, id: r.id, orderId: r.orderId, symbol: r.symbol, side: r.side, action: r.action,
      status: r.status, timestamp: r.timestamp, reason: r.reason, errorCode: r.errorCode, retryAttempt: r.retryAttempt,
    });
    if (recomputed !== r.hash) return { ...at, problem: "the row's contents do not match its hash (altered)" };
    prev = r.hash;
    expectSeq++;
  }
  return null;
}

/** One trader's chain, whole or over the rows a time range covers. */
export async function verifyTrader(d1: D1Database, traderId: string, from?: string, to?: string): Promise<{ checked: number; bad: ChainProblem | null }> {
  const span = await chainSpan(d1, traderId, from, to);
  if (!span) return { checked: 0, bad: null };
  // A whole chain starts at genesis; a range starts from the row before it, whose hash anchors the first link.
  const first = from || to ? span.first : 1;
  let start = { seq: first, hash: GENESIS_HASH };
  if (first > 1) {
    const [before] = await chainPage(d1, traderId, first - 2, 1);
    if (!before || before.chainSeq !== first - 1) {
      return { checked: 0, bad: { trader_id: traderId, chain_seq: first - 1, id: null, problem: `row ${first - 1} is missing` } };
    }
    start = { seq: first, hash: before.hash };
  }
  let checked = 0;
  let after = first - 1;
  while (after < span.last) {
    const rows = (await chainPage(d1, traderId, after, PAGE)).filter((r) => r.chainSeq <= span.last);
    if (rows.length === 0) break;
    const bad = checkLinks(rows, start);
    if (bad) return { checked: checked + rows.findIndex((r) => r.chainSeq >= bad.chain_seq), bad };
    checked += rows.length;
    const last = rows[rows.length - 1]!;
    start = { seq: last.chainSeq + 1, hash: last.hash };
    after = last.chainSeq;
  }
  return { checked, bad: null };
}

export async function verifyAudit(d1: D1Database, query: { trader_id?: string; from?: string; to?: string }): Promise<VerifyResult> {
  const traders = query.trader_id ? [query.trader_id] : await tradersWithLogs(d1, query.from, query.to);
  let checked = 0;
  for (const traderId of traders) {
    const result = await verifyTrader(d1, traderId, query.from, query.to);
    checked += result.checked;
    if (result.bad) return { ok: false, checked, traders: traders.length, first_bad: result.bad };
  }
  return { ok: true, checked, traders: traders.length, first_bad: null };
}
