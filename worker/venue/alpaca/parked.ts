// Trade updates of oco legs the link cannot place yet, in its SQLite storage (table `parked`, made by
// ledger-schema.ts). Alpaca makes a leg's id and client_order_id; the link learns them from the answer to the
// POST that created the oco order (or a lookup), and the stream may be faster than that answer.

/** How long a parked update waits for its leg to be learned (ms); a reconcile reads Alpaca again after that. */
const PARK_MS = 10 * 60_000;

export class ParkedUpdates {
  constructor(private readonly sql: SqlStorage) {}

  /** Keeps `update` (a trade update's data) of Alpaca order `alpacaId`; drops what waited over PARK_MS. */
  park(alpacaId: string, update: unknown, nowMs: number): void {
    this.sql.exec("DELETE FROM parked WHERE at < ?", nowMs - PARK_MS);
    this.sql.exec("INSERT INTO parked (alpaca_id, at, update_json) VALUES (?, ?, ?)", alpacaId, nowMs, JSON.stringify(update));
  }

  /** The updates parked for `alpacaId`, oldest first, taken out of storage. */
  unpark(alpacaId: string): unknown[] {
    const rows = this.sql.exec<{ update_json: string }>("SELECT update_json FROM parked WHERE alpaca_id = ? ORDER BY rowid", alpacaId).toArray();
    if (rows.length > 0) this.sql.exec("DELETE FROM parked WHERE alpaca_id = ?", alpacaId);
    return rows.map((r) => JSON.parse(r.update_json) as unknown);
  }
}
