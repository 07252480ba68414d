// The compliance contract: query parameters and rows of the execution report, shared with the page.
import { z } from "zod";
import { AUDIT_ACTIONS, AuditEntry, pageLimit, SIDES, Symbol } from "./orders";

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** An ISO date (a whole UTC day) or timestamp; `end` picks the last millisecond of a date-only value. */
export function normalizeInstant(text: string, end: boolean): string | null {
  if (DATE.test(text)) {
    const day = new Date(`${text}T00:00:00.000Z`);
    if (Number.isNaN(day.getTime()) || day.toISOString().slice(0, 10) !== text) return null;
    return end ? `${text}T23:59:59.999Z` : day.toISOString();
  }
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(text)) return null;
  const t = new Date(text);
  return Number.isNaN(t.getTime()) ? null : t.toISOString();
}

const Instant = (end: boolean) =>
  z
    .string()
    .transform((text, ctx) => {
      const iso = normalizeInstant(text, end);
      if (iso === null) {
        ctx.addIssue({ code: "custom", message: "must be an ISO date (2025-10-31) or timestamp (2025-10-31T12:00:00Z)" });
        return z.NEVER;
      }
      return iso;
    });

export const ExecutionsQuery = z
  .object({
    from: Instant(false).optional().meta({ description: "Inclusive start: an ISO date or timestamp", example: "2025-10-01" }),
    to: Instant(true).optional().meta({ description: "Inclusive end: a date-only value includes that whole UTC day", example: "2025-10-31" }),
    trader_id: z.string().min(1).max(128).optional(),
    order_id: z.string().min(1).max(64).optional(),
    parent_order_id: z.string().min(1).max(64).optional().meta({ description: "The rows of a bracket's, OCO's or OTO's legs" }),
    symbol: Symbol.optional(),
    action: z.enum(AUDIT_ACTIONS, { error: `action must be one of ${AUDIT_ACTIONS.join(", ")}` }).optional(),
    limit: pageLimit(1000, 100),
    cursor: z.string().max(300).optional(),
    format: z.enum(["json", "csv"], { error: "format must be json or csv" }).default("json"),
  })
  .refine((q) => !q.from || !q.to || q.from <= q.to, { path: ["to"], message: "to must not be before from" });
export type ExecutionsQuery = z.output<typeof ExecutionsQuery>;

export const ExecutionRow = AuditEntry.extend({
  symbol: z.string(),
  /** "" on account rows (TRADING_STATE), which belong to no order. */
  side: z.enum([...SIDES, ""]),
  /** The row's place in its trader's audit hash chain, and its hash (see docs/compliance.md). */
  chain_seq: z.number().int(),
  hash: z.string(),
})
  .meta({ id: "ExecutionRow" });
export type ExecutionRow = z.infer<typeof ExecutionRow>;

export const VerifyQuery = z
  .object({
    trader_id: z.string().min(1).max(128).optional().meta({ description: "One trader's chain; all traders when absent" }),
    from: Instant(false).optional(),
    to: Instant(true).optional(),
  })
  .refine((q) => !q.from || !q.to || q.from <= q.to, { path: ["to"], message: "to must not be before from" });
export type VerifyQuery = z.output<typeof VerifyQuery>;

export const VerifyResult = z
  .object({
    ok: z.boolean(),
    checked: z.number().int(),
    traders: z.number().int(),
    first_bad: z
      .object({ trader_id: z.string(), chain_seq: z.number().int(), id: z.string().nullable(), problem: z.string() })
      .nullable(),
  })
  .meta({ id: "AuditVerification" });
export type VerifyResult = z.infer<typeof VerifyResult>;
