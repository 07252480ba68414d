// The seed's compliance SQL (scenario 6, "SQL for Compliance Reporting"), run unchanged through
// `wrangler d1 execute --local` against a running desk's local D1, answers what the API reports for the
// same range: timestamps are ISO-8601 text, so the seed's BETWEEN on dates works as written.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ExecutionRow } from "../../worker/shared/compliance";
import { awaitReportRows, devToken, openTrader, reportRows, tradeTwoOrders, utcDay } from "./api";
import { startDeskServer, wrangler, type DeskServer } from "./server";

// Verbatim from the seed, with its dates as placeholders ('2025-10-01' -> A, '2025-10-31' -> B).
const SEED_REPORT = `SELECT
    trader_id,
    order_id,
    action,
    timestamp,
    reason
FROM execution_logs
WHERE timestamp BETWEEN 'A' AND 'B'
ORDER BY timestamp DESC;`;

// The seed's export is psql's `\COPY (<select>) TO '/tmp/execution_report_2025_10.csv' WITH CSV HEADER`,
// which D1 has no equivalent of (the CSV comes from the API); its inner SELECT, verbatim:
const SEED_COPY_SELECT = `SELECT trader_id, order_id, action, timestamp, reason
    FROM execution_logs
    WHERE timestamp BETWEEN 'A' AND 'B'`;

type SeedRow = Pick<ExecutionRow, "trader_id" | "order_id" | "action" | "timestamp" | "reason">;
const COLUMNS = ["trader_id", "order_id", "action", "timestamp", "reason"];

/** Today's month in the seed's format: the first and the last day, '2025-10-01' and '2025-10-31'. */
function thisMonth(now = new Date()): { first: string; last: string } {
  const first = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
  const last = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 0));
  return { first: utcDay(first.getTime()), last: utcDay(last.getTime()) };
}

const inMonth = (sql: string, m: { first: string; last: string }) => sql.replace("'A'", `'${m.first}'`).replace("'B'", `'${m.last}'`);
const seedFields = (r: SeedRow): SeedRow => ({ trader_id: r.trader_id, order_id: r.order_id, action: r.action, timestamp: r.timestamp, reason: r.reason });
const byContent = (a: SeedRow, b: SeedRow) => JSON.stringify(a).localeCompare(JSON.stringify(b));

describe("the seed's compliance SQL through wrangler d1 execute, against a running desk's local D1", () => {
  let server: DeskServer;
  let officer: string;
  let traderId: string;
  let placed: { filled: string; cancelled: string; auditRows: number };
  const month = thisMonth();
  // The seed's BETWEEN compares text, so 'B' stops at the first instant of its last day
  // ('2025-10-31' < '2025-10-31T00:00:00.000Z'): the same range in the API ends with the day before.
  const dayBeforeLast = utcDay(Date.parse(`${month.last}T00:00:00.000Z`) - 86_400_000);
  const apiRange = { from: month.first, to: dayBeforeLast };
  const tradedInRange = utcDay(Date.now()) !== month.last;

  async function d1(sql: string): Promise<SeedRow[]> {
    const out = await wrangler(["d1", "execute", "fillwire", "--local", "--persist-to", server.persistTo, "--json", "--command", sql]);
    const results = JSON.parse(out) as { results: SeedRow[]; success: boolean }[];
    expect(results).toHaveLength(1);
    expect(results[0]!.success).toBe(true);
    return results[0]!.results;
  }

  beforeAll(async () => {
    server = await startDeskServer();
    officer = await devToken(server.url, "compliance", "compliance");
    const trader = await openTrader(server.url);
    traderId = trader.traderId;
    placed = await tradeTwoOrders(server.url, trader.token);
    // the desk's outbox has written every audit row to D1
    await awaitReportRows(server.url, officer, { from: utcDay(Date.now()), to: utcDay(Date.now()), trader_id: traderId }, placed.auditRows);
  });

  afterAll(async () => {
    await server?.stop();
  });

  it("returns the API's rows for this month, newest first, with the seed's five columns", async () => {
    const sql = inMonth(SEED_REPORT, month);
    expect(sql).toContain(`WHERE timestamp BETWEEN '${month.first}' AND '${month.last}'`);
    const rows = await d1(sql);
    const api = (await reportRows(server.url, officer, apiRange)).map(seedFields);

    expect(rows.length).toBe(api.length);
    if (tradedInRange) {
      expect(rows.filter((r) => r.trader_id === traderId)).toHaveLength(placed.auditRows);
      expect(new Set(rows.map((r) => r.order_id))).toEqual(new Set([placed.filled, placed.cancelled]));
    }
    for (const row of rows) expect(Object.keys(row)).toEqual(COLUMNS);
    // newest first, like the API (rows of one millisecond may come in either order: the seed orders by timestamp alone)
    expect(rows.map((r) => r.timestamp)).toEqual(api.map((r) => r.timestamp));
    expect(rows.map((r) => r.timestamp)).toEqual(rows.map((r) => r.timestamp).sort().reverse());
    expect([...rows].sort(byContent)).toEqual([...api].sort(byContent));
    if (tradedInRange) {
      const cancel = rows.find((r) => r.order_id === placed.cancelled && r.action === "CANCELLED");
      expect(cancel).toMatchObject({ trader_id: traderId, reason: "User requested cancellation", timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/) });
    }
  });

  it("runs the inner SELECT of the seed's \\COPY export unchanged: the same rows", async () => {
    const rows = await d1(inMonth(SEED_COPY_SELECT, month));
    const api = (await reportRows(server.url, officer, apiRange)).map(seedFields);
    for (const row of rows) expect(Object.keys(row)).toEqual(COLUMNS);
    expect([...rows].sort(byContent)).toEqual([...api].sort(byContent));
    if (tradedInRange) expect(rows.length).toBeGreaterThanOrEqual(placed.auditRows);
  });
});
