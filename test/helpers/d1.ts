// Writes execution_logs rows straight into the local D1 with chosen timestamps, linked into valid per-trader
// hash chains, so compliance tests control every edge (a row exactly at `from`, ties in one millisecond,
// 200,000 rows) without trading.
import { chainHash, GENESIS_HASH } from "../../worker/audit/chain";

/** One execution_logs row, with D1's column names (so `SELECT *` results compare directly). */
export interface LogRow {
  id: string;
  order_id: string;
  trader_id: string;
  chain_seq: number;
  symbol: string;
  side: string;
  action: string;
  status: string;
  timestamp: string;
  reason: string | null;
  error_code: string | null;
  retry_attempt: number | null;
  parent_order_id: string | null;
  prev_hash: string;
  hash: string;
}

export type LogSpec = Pick<LogRow, "trader_id" | "timestamp"> & Partial<Omit<LogRow, "trader_id" | "timestamp" | "chain_seq" | "prev_hash" | "hash">>;

export interface ChainHead {
  seq: number;
  hash: string;
}

export const LOG_COLUMNS = [
  "id", "order_id", "trader_id", "chain_seq", "symbol", "side", "action", "status", "timestamp", "reason", "error_code", "retry_attempt", "parent_order_id",
  "prev_hash", "hash",
] as const satisfies readonly (keyof LogRow)[];

export const uniqueTrader = (prefix = "c") => `${prefix}-${crypto.randomUUID().slice(0, 8)}`;

/**
 * Links rows into each trader's chain in the order given (chain_seq 1, 2, ... and SHA-256 hashes exactly as
 * the desk computes them). `heads` carries each trader's last link across calls.
 */
export function* chained(specs: Iterable<LogSpec>, heads = new Map<string, ChainHead>()): Generator<LogRow> {
  for (const s of specs) {
    const head = heads.get(s.trader_id) ?? { seq: 0, hash: GENESIS_HASH };
    const row: Omit<LogRow, "hash"> = {
      id: s.id ?? crypto.randomUUID(),
      order_id: s.order_id ?? crypto.randomUUID(),
      trader_id: s.trader_id,
      chain_seq: head.seq + 1,
      symbol: s.symbol ?? "AAPL",
      side: s.side ?? "BUY",
      action: s.action ?? "SUBMITTED",
      status: s.status ?? "PENDING",
      timestamp: s.timestamp,
      reason: s.reason ?? null,
      error_code: s.error_code ?? null,
      retry_attempt: s.retry_attempt ?? null,
      parent_order_id: s.parent_order_id ?? null,
      prev_hash: head.hash,
    };
    const hash = chainHash(row.prev_hash, {
      traderId: row.trader_id, chainSeq: row.chain_seq, id: row.id, orderId: row.order_id, symbol: row.symbol, side: row.side, action: row.action,
      status: row.status, timestamp: row.timestamp, reason: row.reason, errorCode: row.error_code, retryAttempt: row.retry_attempt,
    });
    heads.set(s.trader_id, { seq: row.chain_seq, hash });
    yield { ...row, hash };
  }
}

/**
 * Rows numbered per trader (chain_seq 1, 2, ...) but with placeholder hashes: for volume tests (the CSV
 * export, the archive) that never verify the chain, where hashing 200,000 rows would only cost time.
 */
export function* sequenced(specs: Iterable<LogSpec & { id: string; order_id: string }>, seqs = new Map<string, number>()): Generator<LogRow> {
  for (const s of specs) {
    const seq = (seqs.get(s.trader_id) ?? 0) + 1;
    seqs.set(s.trader_id, seq);
    yield {
      id: s.id, order_id: s.order_id, trader_id: s.trader_id, chain_seq: seq, symbol: s.symbol ?? "AAPL", side: s.side ?? "BUY",
      action: s.action ?? "SUBMITTED", status: s.status ?? "PENDING", timestamp: s.timestamp, reason: s.reason ?? null,
      error_code: s.error_code ?? null, retry_attempt: s.retry_attempt ?? null, parent_order_id: s.parent_order_id ?? null,
      prev_hash: (seq - 1).toString(16).padStart(64, "0"), hash: seq.toString(16).padStart(64, "0"),
    };
  }
}

/**
 * A SQL literal for a generated value. D1 allows at most 100 bound parameters per statement, so bulk
 * inserts carry their values inline: text is single-quoted with quotes doubled (the only escape SQLite
 * string literals have), numbers must be safe integers, and NUL is refused outright.
 */
export function sqlLiteral(value: string | number | null): string {
  if (value === null) return "NULL";
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value)) throw new Error(`not an integer: ${value}`);
    return String(value);
  }
  if (value.includes("\0")) throw new Error("NUL in a SQL text literal");
  return `'${value.replaceAll("'", "''")}'`;
}

/** D1 caps one SQL statement at 100,000 bytes; stay under it with room to spare. */
const MAX_STATEMENT_BYTES = 90_000;

/**
 * Inserts rows with multi-row INSERTs (up to `rowsPerStatement` each, fewer when rows are long), sending
 * `statementsPerBatch` statements per D1 batch. Consumes `rows` lazily, so a generator of 200,000 rows
 * never sits in memory at once. Returns the number of rows written.
 */
export async function insertLogs(db: D1Database, rows: Iterable<LogRow>, rowsPerStatement = 500, statementsPerBatch = 20): Promise<number> {
  const encoder = new TextEncoder();
  const head = `INSERT INTO execution_logs (${LOG_COLUMNS.join(", ")}) VALUES `;
  let values: string[] = [];
  let bytes = head.length;
  let statements: D1PreparedStatement[] = [];
  let written = 0;

  const endStatement = () => {
    if (values.length === 0) return;
    statements.push(db.prepare(head + values.join(",")));
    values = [];
    bytes = head.length;
  };
  const sendBatch = async () => {
    endStatement();
    if (statements.length === 0) return;
    await db.batch(statements);
    statements = [];
  };

  for (const row of rows) {
    const tuple = `(${LOG_COLUMNS.map((c) => sqlLiteral(row[c])).join(",")})`;
    const size = encoder.encode(tuple).byteLength + 1;
    if (values.length >= rowsPerStatement || bytes + size > MAX_STATEMENT_BYTES) endStatement();
    if (statements.length >= statementsPerBatch) await sendBatch();
    values.push(tuple);
    bytes += size;
    written++;
  }
  await sendBatch();
  return written;
}

/** Inserts specs as linked chains; returns the rows as D1 now holds them, in insertion order. */
export async function insertChained(db: D1Database, specs: LogSpec[], heads?: Map<string, ChainHead>): Promise<LogRow[]> {
  const rows = [...chained(specs, heads)];
  await insertLogs(db, rows);
  return rows;
}

/** An ISO timestamp `ms` milliseconds after `base`. */
export const at = (base: string, ms = 0) => new Date(Date.parse(base) + ms).toISOString();
