// The execution report: pages of execution_logs for a filter, as JSON pages or one CSV stream.
import { executionsPage, type ExecutionCursor, type ExecutionFilter } from "../db/executions";
import type { ExecutionRow } from "../shared/compliance";

export const CSV_PAGE_ROWS = 1000;

/** Every page of the filter, newest first, fetched one at a time as the consumer asks. */
export async function* reportPages(d1: D1Database, filter: ExecutionFilter, pageRows = CSV_PAGE_ROWS): AsyncGenerator<ExecutionRow[]> {
  let after: ExecutionCursor | null = null;
  do {
    const page = await executionsPage(d1, filter, after, pageRows);
    if (page.rows.length > 0) yield page.rows;
    after = page.next;
  } while (after);
}

export function reportFileName(from?: string, to?: string): string {
  const day = (iso: string | undefined, fallback: string) => (iso ? iso.slice(0, 10) : fallback);
  return `execution_report_${day(from, "start")}_${day(to, "now")}.csv`;
}
