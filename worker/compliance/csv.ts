// RFC 4180 CSV for the execution report, streamed page by page so a month of a busy desk leaves the
// Worker's memory flat.
import type { ExecutionRow } from "../shared/compliance";

/** The seed's columns first (its \COPY statement), then the rest of each row. */
export const CSV_COLUMNS = [
  "trader_id", "order_id", "action", "timestamp", "reason", "symbol", "side", "status", "error_code", "retry_attempt", "id",
  "chain_seq", "hash", "parent_order_id",
] as const satisfies readonly (keyof ExecutionRow)[];

/**
 * One field: quoted when it holds a comma, quote, CR or LF (quotes doubled). A text cell that a
 * spreadsheet would run as a formula (= + - @ tab CR at the start) gets a leading apostrophe (OWASP).
 */
export function csvField(value: string | number | null): string {
  if (value === null) return "";
  let text = String(value);
  if (typeof value === "string" && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function csvLine(row: ExecutionRow): string {
  return CSV_COLUMNS.map((c) => csvField(row[c])).join(",") + "\r\n";
}

export const csvHeader = () => CSV_COLUMNS.join(",") + "\r\n";

/** A byte stream of the whole report: the header, then each page as D1 returns it (pulled on demand). */
export function csvStream(pages: AsyncIterator<ExecutionRow[]>): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let started = false;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        if (!started) {
          started = true;
          controller.enqueue(encoder.encode(csvHeader()));
          return;
        }
        const next = await pages.next();
        if (next.done) return controller.close();
        controller.enqueue(encoder.encode(next.value.map(csvLine).join("")));
      },
      async cancel() {
        await pages.return?.();
      },
    },
    { highWaterMark: 1 },
  );
}

/** Reads CSV text chunk by chunk (RFC 4180: quoted fields may hold commas, quotes and line breaks). */
export class CsvReader {
  private field = "";
  private record: string[] = [];
  private quoted = false;
  private quoteSeen = false;

  /** The records completed by this chunk. */
  push(chunk: string): string[][] {
    const done: string[][] = [];
    for (const ch of chunk) {
      if (this.quoted) {
        if (ch === '"') {
          this.quoted = false;
          this.quoteSeen = true;
        } else this.field += ch;
        continue;
      }
      if (ch === '"') {
        if (this.quoteSeen) this.field += '"'; // a doubled quote inside a quoted field
        this.quoted = true;
        this.quoteSeen = false;
      } else if (ch === ",") {
        this.endField();
      } else if (ch === "\n") {
        this.endField();
        done.push(this.record);
        this.record = [];
      } else if (ch !== "\r") {
        this.field += ch;
        this.quoteSeen = false;
      }
    }
    return done;
  }

  private endField(): void {
    this.record.push(this.field);
    this.field = "";
    this.quoteSeen = false;
  }
}
