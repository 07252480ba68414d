// The tamper-evident audit chain: each trader's execution log rows are linked by SHA-256, so a row changed
// behind the append-only triggers' back breaks every hash after it.
import { createHash } from "node:crypto";

export const GENESIS_HASH = "0".repeat(64);

export interface ChainFields {
  traderId: string;
  chainSeq: number;
  id: string;
  orderId: string;
  symbol: string;
  side: string;
  action: string;
  status: string;
  timestamp: string;
  reason: string | null;
  errorCode: string | null;
  retryAttempt: number | null;
}

/** The canonical text of a row: fields in a fixed order, separated by a unit separator. */
export function canonical(f: ChainFields): string {
  return [
    f.traderId, f.chainSeq, f.id, f.orderId, f.symbol, f.side, f.action, f.status, f.timestamp,
    f.reason ?? "", f.errorCode ?? "", f.retryAttempt ?? "",
  ].join("\u001f");
}

export function chainHash(prevHash: string, fields: ChainFields): string {
  return createHash("sha256").update(prevHash).update("\u001e").update(canonical(fields)).digest("hex");
}
