// The reports the stream link owes to desks, in its SQLite storage (table `owed`, made by ledger-schema.ts):
// one row per fillwire order whose report changed since its desk last took one, with a version so that a
// report that changed again while on its way stays owed. An order whose submit has not answered yet is held
// (orders.hold_until) and its report waits until the answer, or until the hold runs out.

export interface OwedReport {
  order_id: string;
  trader_id: string;
  /** Bumped by every change: delivered(order, version) forgets only the version that was sent. */
  version: number;
}

export class OwedReports {
  constructor(private readonly sql: SqlStorage) {}

  /** The order's report changed: its desk is owed it (again). */
  owe(orderId: string): void {
    this.sql.exec("INSERT INTO owed (order_id, version) VALUES (?, 1) ON CONFLICT(order_id) DO UPDATE SET version = version + 1", orderId);
  }

  /** Owed reports whose order is not held (its submit answered, or the hold ran out at `nowMs`). */
  due(nowMs: number): OwedReport[] {
    // A hold that ran out (the desk never came back with its submit's answer) is over.
    this.sql.exec("UPDATE orders SET hold_until = NULL WHERE hold_until IS NOT NULL AND hold_until <= ?", nowMs);
    return this.sql
      .exec<OwedReport & Record<string, SqlStorageValue>>(
        `SELECT w.order_id, o.trader_id, w.version FROM owed w JOIN orders o ON o.order_id = w.order_id
         WHERE o.hold_until IS NULL OR o.hold_until <= ?`,
        nowMs,
      )
      .toArray();
  }

  /** Delivered: forget it, unless it changed again while on its way. */
  delivered(orderId: string, version: number): void {
    this.sql.exec("DELETE FROM owed WHERE order_id = ? AND version = ?", orderId, version);
  }

  /** The caller was just given the whole report: nothing of it is owed any more. */
  forget(orderId: string): void {
    this.sql.exec("DELETE FROM owed WHERE order_id = ?", orderId);
  }

  /** The earliest time (epoch ms) a held order's owed report is released, for the alarm; null when none waits. */
  nextRelease(): number | null {
    return this.sql.exec<{ t: number | null }>("SELECT MIN(hold_until) AS t FROM orders WHERE hold_until IS NOT NULL AND order_id IN (SELECT order_id FROM owed)").one().t;
  }

  count(): number {
    return this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM owed").one().n;
  }
}
