// /api/v1/compliance: the execution report (JSON pages or streamed CSV) and the audit chain check, for
// the compliance role, read from D1, the system of record.
import { createRoute } from "@hono/zod-openapi";
import { z } from "zod";
import { requireRole } from "../auth";
import { router } from "../context";
import { ApiError } from "../http";
import { csvStream } from "../compliance/csv";
import { reportFileName, reportPages } from "../compliance/report";
import { verifyAudit } from "../compliance/verify";
import { decodeExecutionCursor, encodeExecutionCursor, executionsPage, type ExecutionFilter } from "../db/executions";
import { ExecutionRow, ExecutionsQuery, VerifyQuery, VerifyResult } from "../shared/compliance";
import { authErrors, bearer, errorResponse, json } from "./schemas";

const compliance = requireRole("compliance");

const executions = createRoute({
  method: "get",
  path: "/executions",
  tags: ["compliance"],
  summary: "Execution logs by range and filters, newest first; format=csv streams the whole range as CSV",
  security: bearer,
  middleware: [compliance] as const,
  request: { query: ExecutionsQuery },
  responses: {
    200: {
      description: "A page of rows (JSON), or the whole range as RFC 4180 CSV with a header row",
      content: {
        "application/json": { schema: z.object({ data: z.array(ExecutionRow), next_cursor: z.string().nullable() }) },
        "text/csv": { schema: z.string() },
      },
    },
    400: errorResponse("VALIDATION_ERROR"),
    ...authErrors,
  },
});

const verify = createRoute({
  method: "get",
  path: "/audit/verify",
  tags: ["compliance"],
  summary: "Recompute the audit hash chain (one trader, or all) and report the first broken row",
  security: bearer,
  middleware: [compliance] as const,
  request: { query: VerifyQuery },
  responses: { 200: json("The verification", VerifyResult), 400: errorResponse("VALIDATION_ERROR"), ...authErrors },
});

export const complianceRoutes = router()
  .openapi(executions, async (c) => {
    const q = c.req.valid("query");
    const filter: ExecutionFilter = { from: q.from, to: q.to, traderId: q.trader_id, orderId: q.order_id, parentOrderId: q.parent_order_id, symbol: q.symbol, action: q.action };
    if (q.format === "csv") {
      const body = csvStream(reportPages(c.env.DB, filter));
      return c.body(body, 200, {
        "Content-Type": "text/csv; charset=utf-8",
        "Content-Disposition": `attachment; filename="${reportFileName(q.from, q.to)}"`,
        "Cache-Control": "no-store",
      });
    }
    const after = q.cursor === undefined ? null : decodeExecutionCursor(q.cursor);
    if (q.cursor !== undefined && after === null) {
      throw new ApiError("VALIDATION_ERROR", "cursor is not one this API returned; start again without it", { fields: { cursor: "invalid cursor" } });
    }
    const page = await executionsPage(c.env.DB, filter, after, q.limit);
    return c.json({ data: page.rows, next_cursor: page.next ? encodeExecutionCursor(page.next) : null }, 200);
  })
  .openapi(verify, async (c) => c.json(await verifyAudit(c.env.DB, c.req.valid("query")), 200));
