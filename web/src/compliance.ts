// The compliance page's logic: the report filter (UTC dates, as the API reads them), the query it
// sends, the CSV's file name from Content-Disposition, and how audit times read.
import { AUDIT_ACTIONS, type AuditAction } from "../../worker/shared/orders";

export { AUDIT_ACTIONS };

export interface ReportFilter {
  /** YYYY-MM-DD, a whole UTC day, inclusive. */
  from: string;
  /** YYYY-MM-DD, a whole UTC day, inclusive. */
  to: string;
  /** "" for every trader. */
  traderId: string;
  /** "" for every action. */
  action: AuditAction | "";
}

export const DEFAULT_RANGE_DAYS = 7;
const DAY_MS = 86_400_000;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

const utcDate = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** The last seven UTC days, today included. */
export function defaultFilter(now = Date.now()): ReportFilter {
  return { from: utcDate(now - (DEFAULT_RANGE_DAYS - 1) * DAY_MS), to: utcDate(now), traderId: "", action: "" };
}

export type FilterErrors = Partial<Record<"from" | "to" | "traderId", string>>;

/** What is wrong with a filter before it is sent (the server checks again, in its own words). */
export function filterErrors(f: ReportFilter): FilterErrors {
  const errors: FilterErrors = {};
  if (!DATE.test(f.from)) errors.from = "Enter a start date";
  if (!DATE.test(f.to)) errors.to = "Enter an end date";
  else if (!errors.from && f.to < f.from) errors.to = "The end date must not be before the start date";
  if (f.traderId.trim().length > 128) errors.traderId = "A trader id is at most 128 characters";
  return errors;
}

export const sameFilter = (a: ReportFilter, b: ReportFilter) =>
  a.from === b.from && a.to === b.to && a.traderId.trim() === b.traderId.trim() && a.action === b.action;

/** The query string of /compliance/executions for a filter (empty filters left out). */
export function reportQuery(f: ReportFilter): { from: string; to: string; trader_id?: string; action?: AuditAction } {
  const trader = f.traderId.trim();
  return { from: f.from, to: f.to, ...(trader ? { trader_id: trader } : {}), ...(f.action ? { action: f.action } : {}) };
}

/** The file name the server chose (`filename*=` per RFC 6266 first, then `filename=`), or null. */
export function fileNameFrom(contentDisposition: string | null): string | null {
  if (!contentDisposition) return null;
  const extended = /filename\*\s*=\s*(?:UTF-8|utf-8)''([^;]+)/.exec(contentDisposition);
  if (extended?.[1]) {
    try {
      return safeName(decodeURIComponent(extended[1].trim()));
    } catch {
      // malformed percent-encoding: fall back to the plain parameter
    }
  }
  const plain = /filename\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;\s]+))/.exec(contentDisposition);
  const name = plain?.[1]?.replace(/\\(.)/g, "$1") ?? plain?.[2];
  return name ? safeName(name) : null;
}

/** No directories, no control characters: the browser gets a plain file name. */
function safeName(name: string): string | null {
  const base = name.split(/[\\/]/).pop()!.replace(/[\x00-\x1f\x7f]/g, "").trim();
  return base === "" || base === "." || base === ".." ? null : base;
}

/** The name to save a report under when the server gives none: the same pattern it uses. */
export const fallbackFileName = (f: ReportFilter) => `execution_report_${f.from}_${f.to}.csv`;

const pad = (n: number, width = 2) => String(n).padStart(width, "0");

/** 2025-10-17 12:00:05.123, in UTC: the clock compliance reports and the CSV use. */
export function utcTimestamp(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}.${pad(d.getUTCMilliseconds(), 3)}`;
}

const count = new Intl.NumberFormat("en-US");
/** 1,234 rows / 1 row */
export const rowCount = (n: number) => `${count.format(n)} ${n === 1 ? "row" : "rows"}`;
export const traderCount = (n: number) => `${count.format(n)} ${n === 1 ? "trader" : "traders"}`;

/** 12.3 KB */
export function fileSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} bytes`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

/** "2025-10-01 to 2025-10-31 (UTC), trader alice, action FILLED" */
export function describeFilter(f: ReportFilter): string {
  const parts = [`${f.from} to ${f.to} (UTC)`];
  parts.push(f.traderId.trim() ? `trader ${f.traderId.trim()}` : "all traders");
  if (f.action) parts.push(`action ${f.action}`);
  return parts.join(", ");
}
