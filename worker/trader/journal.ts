// The desk's append-only logs: the hash-chained audit trail, the event log (per-trader seq) and the outbox
// of D1 records. Appends made inside a transaction are gathered in memory and written when it commits,
// one multi-row INSERT per table: SQLite statements are the desk's main cost per order.
import { chainHash, GENESIS_HASH, type ChainFields } from "../audit/chain";
import type { StreamEvent } from "../shared/events";
import type { AuditDraft } from "./lifecycle";
import { snapshotKey, type OutboxKind, type OutboxRows, type QueuedRecord } from "./outbox";
import { AUDIT_COLUMNS, type AuditRow } from "./schema";

/** Events kept for replay: at least the last 10,000, or all of the last 7 days (SPEC, "WebSocket"). */
export const EVENTS_KEPT = 10_000;
const EVENTS_KEPT_MS = 7 * 24 * 3600 * 1000;
/** Durable Object SQL binds at most 100 parameters per statement. */
const MAX_BOUND_PARAMETERS = 100;

export class Journal {
  /** The audit chain's head and the latest event seq, read once and then kept in step with each append. */
  private head: { seq: number; hash: string } | null = null;
  private eventSeq: number | null = null;
  private queued: [kind: OutboxKind, rowKey: string | null, record: string][] = [];
  private queuedAudit: AuditRow[] = [];
  private queuedEvents: [seq: number, at: number, payload: string][] = [];
  /**
   * Outbox records up to this id are in D1. They are deleted by the next transaction rather than by a
   * commit of their own; if this instance goes away first, a new one flushes them again (idempotently).
   */
  private flushedThrough = 0;
  private deletedThrough = 0;
  /** Set by the store while a transaction is open: appends outside one would be lost. */
  open = false;

  constructor(private readonly sql: SqlStorage, private readonly traderId: () => string) {}

  /** Drop what is cached in memory (after a transaction that rolled back). */
  forget(): void {
    this.head = null;
    this.eventSeq = null;
    this.deletedThrough = 0; // the rolled-back transaction may have been the one deleting flushed records
    this.queued = [];
    this.queuedAudit = [];
    this.queuedEvents = [];
  }

  // ---- audit chain

  /**
   * Appends one audit row to the chain, and its D1 record to the outbox. `order.parent_order_id` is carried
   * beside the chained fields, not in them: the chain's canonical text stays what docs/compliance.md says.
   */
  appendAudit(order: { id: string; symbol: string; side: string; parent_order_id: string | null }, draft: AuditDraft, timestamp: string, id: string): AuditRow {
    if (this.head === null) {
      const row = this.sql.exec<{ chain_seq: number; hash: string }>("SELECT chain_seq, hash FROM audit ORDER BY chain_seq DESC LIMIT 1").toArray()[0];
      this.head = { seq: row?.chain_seq ?? 0, hash: row?.hash ?? GENESIS_HASH };
    }
    const fields: ChainFields = {
      traderId: this.traderId(), chainSeq: this.head.seq + 1, id, orderId: order.id, symbol: order.symbol,
      side: order.side, action: draft.action, status: draft.status, timestamp, reason: draft.reason,
      errorCode: draft.errorCode, retryAttempt: draft.retryAttempt,
    };
    const prevHash = this.head.hash;
    const row: AuditRow = {
      chain_seq: fields.chainSeq, id: fields.id, order_id: fields.orderId, symbol: fields.symbol, side: fields.side,
      action: fields.action, status: fields.status, timestamp, reason: fields.reason, error_code: fields.errorCode,
      retry_attempt: fields.retryAttempt, parent_order_id: order.parent_order_id, prev_hash: prevHash, hash: chainHash(prevHash, fields),
    };
    this.mustBeOpen();
    this.queuedAudit.push(row);
    this.head = { seq: row.chain_seq, hash: row.hash };
    this.enqueue("log", {
      id: row.id, orderId: row.order_id, traderId: fields.traderId, chainSeq: row.chain_seq, symbol: row.symbol, side: row.side,
      action: row.action, status: row.status, timestamp: row.timestamp, reason: row.reason, errorCode: row.error_code,
      retryAttempt: row.retry_attempt, parentOrderId: row.parent_order_id, prevHash: row.prev_hash, hash: row.hash,
    });
    return row;
  }

  auditFor(orderId: string): AuditRow[] {
    return this.sql.exec<AuditRow>("SELECT * FROM audit WHERE order_id = ? ORDER BY chain_seq", orderId).toArray();
  }

  // ---- events

  latestSeq(): number {
    this.eventSeq ??= this.sql.exec<{ seq: number | null }>("SELECT MAX(seq) AS seq FROM events").one().seq ?? 0;
    return this.eventSeq;
  }

  /** Logs the event under the next seq; returns it as sent on the wire. */
  appendEvent(build: (seq: number) => StreamEvent, nowMs: number): string {
    const event = build(this.latestSeq() + 1);
    const payload = JSON.stringify(event);
    this.mustBeOpen();
    this.queuedEvents.push([event.seq, nowMs, payload]);
    this.eventSeq = event.seq;
    if (event.seq % 500 === 0) {
      this.sql.exec("DELETE FROM events WHERE seq <= ? AND at < ?", event.seq - EVENTS_KEPT, nowMs - EVENTS_KEPT_MS);
    }
    return payload;
  }

  /** Up to `limit` events after `seq`, oldest first, as sent on the wire. */
  eventsAfter(seq: number, limit: number): { seq: number; payload: string }[] {
    return this.sql.exec<{ seq: number; payload: string }>("SELECT seq, payload FROM events WHERE seq > ? ORDER BY seq LIMIT ?", seq, limit).toArray();
  }

  oldestSeq(): number {
    return this.sql.exec<{ seq: number | null }>("SELECT MIN(seq) AS seq FROM events").one().seq ?? 0;
  }

  // ---- outbox

  /** Queues a D1 row; it is written to the outbox with the rest of the transaction's changes. */
  enqueue<K extends OutboxKind>(kind: K, row: OutboxRows[K]): void {
    this.mustBeOpen();
    this.queued.push([kind, snapshotKey(kind, row), JSON.stringify(row)]);
  }

  private mustBeOpen(): void {
    if (!this.open) throw new Error("audit rows, events and outbox records are appended inside atomically()");
  }

  /** Writes what the transaction appended, one statement per table, and deletes outbox records D1 has. */
  commit(): void {
    if (this.flushedThrough > this.deletedThrough) {
      this.sql.exec("DELETE FROM outbox WHERE id <= ?", this.flushedThrough);
      this.deletedThrough = this.flushedThrough;
    }
    this.insertRows("audit", AUDIT_COLUMNS, this.queuedAudit.map((row) => AUDIT_COLUMNS.map((c) => row[c])));
    this.insertRows("events", ["seq", "at", "payload"], this.queuedEvents);
    this.insertRows("outbox", ["kind", "row_key", "record"], this.queued);
    this.queuedAudit = [];
    this.queuedEvents = [];
    this.queued = [];
  }

  /** Multi-row INSERTs, as many rows per statement as the 100 bound parameters of Durable Object SQL allow. */
  private insertRows(table: string, columns: readonly string[], rows: readonly (readonly SqlStorageValue[])[]): void {
    const perStatement = Math.floor(MAX_BOUND_PARAMETERS / columns.length);
    for (let i = 0; i < rows.length; i += perStatement) {
      const chunk = rows.slice(i, i + perStatement);
      this.sql.exec(insertSql(table, columns, chunk.length), ...chunk.flat());
    }
  }

  outboxBatch(limit: number): QueuedRecord[] {
    return this.sql
      .exec<{ id: number; kind: OutboxKind; rowKey: string | null; record: string }>(
        "SELECT id, kind, row_key AS rowKey, record FROM outbox WHERE id > ? ORDER BY id LIMIT ?", this.flushedThrough, limit,
      )
      .toArray();
  }

  /** Records not yet in D1. */
  outboxSize(): number {
    return this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM outbox WHERE id > ?", this.flushedThrough).one().n;
  }

  /** The outbox id up to which D1 holds every record (0: unknown or none). */
  get flushedId(): number {
    return this.flushedThrough;
  }

  /** D1 holds every record up to `throughId`; the next transaction deletes them. */
  markFlushed(throughId: number): void {
    this.flushedThrough = Math.max(this.flushedThrough, throughId);
  }
}

const insertSqlCache = new Map<string, string>();

function insertSql(table: string, columns: readonly string[], rows: number): string {
  const key = `${table}:${rows}`;
  let text = insertSqlCache.get(key);
  if (!text) {
    const row = `(${columns.map(() => "?").join(", ")})`;
    text = `INSERT INTO ${table} (${columns.join(", ")}) VALUES ${Array.from({ length: rows }, () => row).join(", ")}`;
    insertSqlCache.set(key, text);
  }
  return text;
}
