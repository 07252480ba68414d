// execution_logs in D1, read for compliance.
import { asc, eq } from "drizzle-orm";
import { database } from "./client";
import { executionLogs } from "./schema";
import type { AuditEntry } from "../shared/orders";

export async function auditForOrder(d1: D1Database, orderId: string): Promise<AuditEntry[]> {
  const rows = await database(d1).select().from(executionLogs).where(eq(executionLogs.orderId, orderId)).orderBy(asc(executionLogs.chainSeq)).all();
  return rows.map((r) => ({
    id: r.id,
    order_id: r.orderId,
    trader_id: r.traderId,
    action: r.action as AuditEntry["action"],
    status: r.status as AuditEntry["status"],
    timestamp: r.timestamp,
    reason: r.reason,
    error_code: r.errorCode,
    retry_attempt: r.retryAttempt,
  }));
}
