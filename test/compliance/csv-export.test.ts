// format=csv on /api/v1/compliance/executions: the download's headers, RFC 4180 text (CRLF, quoting,
// formula-safe cells) parsed back field by field, and a 200,000-row export that streams page by page.
import { env } from "cloudflare:workers";
import { createExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import worker from "../../worker/index";
import { call } from "../helpers/api";
import { sign } from "../helpers/auth";
import { at, insertChained, insertLogs, sequenced, uniqueTrader, type LogRow } from "../helpers/d1";

const SEED_COLUMNS = ["trader_id", "order_id", "action", "timestamp", "reason"];
const ROW_FIELDS = ["id", "trader_id", "order_id", "symbol", "side", "action", "status", "timestamp", "reason", "error_code", "retry_attempt", "chain_seq", "hash", "parent_order_id"] as const;

const officer = () => sign(`officer-${crypto.randomUUID().slice(0, 8)}`, "compliance");

async function csv(query: Record<string, string>): Promise<Response> {
  return call(`/api/v1/compliance/executions?${new URLSearchParams({ ...query, format: "csv" })}`, { token: await officer() });
}

/**
 * A strict RFC 4180 reader: records end in CRLF (the last one too), fields are separated by commas, a
 * quoted field may hold commas, CR, LF and doubled quotes; a quote inside an unquoted field is an error.
 */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let i = 0;
  while (i < text.length) {
    const record: string[] = [];
    for (;;) {
      let field = "";
      if (text[i] === '"') {
        i++;
        for (;;) {
          if (i >= text.length) throw new Error("unterminated quoted field");
          if (text[i] === '"') {
            if (text[i + 1] === '"') {
              field += '"';
              i += 2;
              continue;
            }
            i++;
            break;
          }
          field += text[i];
          i++;
        }
      } else {
        while (i < text.length && text[i] !== "," && text[i] !== "\r" && text[i] !== "\n") {
          if (text[i] === '"') throw new Error(`quote inside an unquoted field at ${i}`);
          field += text[i];
          i++;
        }
      }
      record.push(field);
      if (text[i] === ",") {
        i++;
        continue;
      }
      if (text.startsWith("\r\n", i)) {
        i += 2;
        break;
      }
      throw new Error(`expected a comma or CRLF at ${i}, found ${JSON.stringify(text.slice(i, i + 12))}`);
    }
    records.push(record);
  }
  return records;
}

/** What a cell must read for a value: empty for null, an apostrophe before formula-looking text. */
const cell = (value: string | number | null) => (value === null ? "" : typeof value === "string" && /^[=+\-@]/.test(value) ? `'${value}` : String(value));

describe("compliance CSV export: the download", () => {
  it("answers text/csv as an attachment named for the range, with the seed's columns first and CRLF line ends", async () => {
    const trader = uniqueTrader();
    await insertChained(env.DB, [
      { trader_id: trader, timestamp: "2025-02-03T00:00:00.000Z", reason: "first" },
      { trader_id: trader, timestamp: "2025-02-05T23:59:59.999Z", reason: "last" },
    ]);
    const res = await csv({ from: "2025-02-03", to: "2025-02-05" });
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toMatch(/^text\/csv(;|$)/);
    expect(res.headers.get("Content-Disposition")).toBe('attachment; filename="execution_report_2025-02-03_2025-02-05.csv"');
    const text = await res.text();

    expect(text.endsWith("\r\n")).toBe(true);
    expect(text.replace(/\r\n/g, "")).not.toMatch(/[\r\n]/);
    const lines = text.split("\r\n").slice(0, -1);
    expect(lines).toHaveLength(3);
    const header = lines[0]!.split(",");
    expect(header.slice(0, 5)).toEqual(SEED_COLUMNS);
    expect([...header].sort()).toEqual([...ROW_FIELDS].sort());
    expect(parseCsv(text).slice(1).map((r) => r[header.indexOf("reason")])).toEqual(["last", "first"]);

    const timed = await csv({ from: "2025-02-03T10:00:00Z", to: "2025-02-04T10:00:00Z" });
    expect(timed.headers.get("Content-Disposition")).toBe('attachment; filename="execution_report_2025-02-03_2025-02-04.csv"');
    expect(parseCsv(await timed.text())).toHaveLength(1);
  });

  it("quotes commas, double quotes and newlines in reason and defuses formula-looking cells, field by field", async () => {
    const reasons: (string | null)[] = [
      "plain text",
      "Venue said: price moved, retrying",
      'He said "cancel it"',
      "line one\r\nline two",
      "line one\nline two, and \"three\"",
      "=SUM(A1:A9)",
      "+1 555 0100",
      "-10% move",
      "@SUM(1,2)",
      '=HYPERLINK("http://example.test","click")',
      "a = sign, a - dash and an @ inside",
      "  leading and trailing spaces  ",
      "unicode — café ✓",
      null,
    ];
    const trader = uniqueTrader();
    const formulaTrader = `=${uniqueTrader("cmd")}`;
    const rows = await insertChained(env.DB, [
      ...reasons.map((reason, i) => ({ trader_id: trader, timestamp: at("2025-02-10T09:00:00.000Z", i * 1000), reason, error_code: i === 3 ? "TIMEOUT" : null, retry_attempt: i === 3 ? 0 : null })),
      { trader_id: formulaTrader, timestamp: "2025-02-10T10:00:00.000Z", reason: "-", error_code: "+X" },
    ]);

    const text = await (await csv({ from: "2025-02-10", to: "2025-02-10" })).text();
    const [header, ...records] = parseCsv(text);
    expect(header?.slice(0, 5)).toEqual(SEED_COLUMNS);
    const expected = [...rows].reverse();
    expect(records).toHaveLength(expected.length);
    records.forEach((record, i) => {
      const row: LogRow = expected[i]!;
      expect(record).toHaveLength(header!.length);
      for (const [k, name] of header!.entries()) {
        const field = name as (typeof ROW_FIELDS)[number];
        expect(record[k], `row ${i} (${JSON.stringify(row.reason)}) column ${name}`).toBe(cell(row[field]));
      }
    });

    // The raw text, as a spreadsheet would read it.
    expect(text).toContain(',"He said ""cancel it""",');
    expect(text).toContain(',"line one\r\nline two",');
    expect(text).toContain(',"\'@SUM(1,2)",');
    expect(text).toContain(`,"'=HYPERLINK(""http://example.test"",""click"")",`);
    expect(text).toContain(",plain text,");
    expect(text).toContain(",'=SUM(A1:A9),");
    expect(text).toContain(`\r\n'${formulaTrader},`);
  });

  it("answers only the header row for a range with no rows", async () => {
    const res = await csv({ from: "1999-01-01", to: "1999-01-31" });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(parseCsv(text)).toHaveLength(1);
    expect(text.split(",").slice(0, 5)).toEqual(SEED_COLUMNS);
  });
});

describe("compliance CSV export: a busy month", () => {
  const ROWS = 200_000;
  const PAGE_ROWS = 1000;
  const DAY = "2024-03-01";

  /** 200,000 rows, two per 250 ms over 4 traders; row n's id sorts with n and newest first means n descending. */
  function* busyDesk(): Generator<LogRow> {
    const start = Date.parse(`${DAY}T00:00:00.000Z`);
    const traders = ["bulk-a", "bulk-b", "bulk-c", "bulk-d"].map((t) => `${t}-${crypto.randomUUID().slice(0, 6)}`);
    yield* sequenced(
      (function* () {
        for (let n = 0; n < ROWS; n++) {
          yield {
            id: `bulk-${String(n).padStart(6, "0")}`,
            order_id: `bulk-order-${Math.floor(n / 4)}`,
            trader_id: traders[n % 4]!,
            timestamp: new Date(start + Math.floor(n / 2) * 250).toISOString(),
            action: n % 4 === 3 ? "FILLED" : "SUBMITTED",
            status: n % 4 === 3 ? "FILLED" : "PENDING",
            reason: `bulk row ${n}`,
          };
        }
      })(),
    );
  }

  it("streams 200,000 rows newest first as one chunk per D1 page, never the whole body at once", async () => {
    expect(await insertLogs(env.DB, busyDesk())).toBe(ROWS);

    // The Worker's own fetch handler, called in this isolate: its response stream reaches the test
    // chunk for chunk. (exports.default.fetch goes through workerd's loopback, which re-chunks bodies
    // into 4 KiB pieces and would hide whether the Worker buffered.)
    const request = new Request(`http://fillwire.test/api/v1/compliance/executions?format=csv&from=${DAY}&to=${DAY}`, {
      headers: { Authorization: `Bearer ${await officer()}` },
    });
    const res = await worker.fetch(request, env, createExecutionContext());
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Length")).toBeNull();
    expect(res.headers.get("Content-Disposition")).toBe(`attachment; filename="execution_report_${DAY}_${DAY}.csv"`);

    // Count lines chunk by chunk, keeping only the partial last line between chunks (flat test memory).
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let chunks = 0;
    let mostLinesInAChunk = 0;
    let lines = 0;
    let carry = "";
    let header: string | null = null;
    let expectN = ROWS - 1;
    let outOfOrder: string | null = null;
    let lastTimestamp = "\uffff";
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks++;
      const parts = (carry + value).split("\r\n");
      carry = parts.pop() ?? "";
      mostLinesInAChunk = Math.max(mostLinesInAChunk, parts.length);
      for (const line of parts) {
        lines++;
        if (header === null) {
          header = line;
          continue;
        }
        const fields = line.split(",");
        const id = fields[10];
        const timestamp = fields[3] ?? "";
        if (outOfOrder === null && (id !== `bulk-${String(expectN).padStart(6, "0")}` || timestamp > lastTimestamp)) {
          outOfOrder = `line ${lines}: ${line} (expected bulk-${expectN} at or before ${lastTimestamp})`;
        }
        lastTimestamp = timestamp;
        expectN--;
      }
    }

    expect(carry).toBe("");
    expect(header?.split(",").slice(0, 5)).toEqual(SEED_COLUMNS);
    expect(lines).toBe(ROWS + 1);
    expect(outOfOrder).toBeNull();
    expect(expectN).toBe(-1);
    // Header plus one chunk per page of 1,000 rows: the body was produced page by page, not buffered.
    expect(chunks).toBeGreaterThanOrEqual(ROWS / PAGE_ROWS);
    expect(mostLinesInAChunk).toBeLessThanOrEqual(PAGE_ROWS + 1);
  }, 300_000);
});
