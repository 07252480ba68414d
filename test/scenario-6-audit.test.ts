import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, eventually, json, newTrader, submit, untilStatus, type Trader } from "./helpers/api";
import { sign } from "./helpers/auth";
import type { AuditEntry } from "../worker/shared/orders";

const AUDIT_FIELDS = ["action", "error_code", "id", "order_id", "parent_order_id", "reason", "retry_attempt", "status", "timestamp", "trader_id"];

async function filledMarketOrder(): Promise<{ trader: Trader; id: string }> {
  const trader = await newTrader(5_000);
  const res = await submit(trader, { symbol: "AAPL", quantity: 10, order_type: "MARKET" });
  expect(res.status).toBe(201);
  const { id } = await json<{ id: string }>(res);
  await untilStatus(trader, id, "FILLED");
  return { trader, id };
}

const d1LogCount = async (orderId: string) =>
  (await env.DB.prepare("SELECT COUNT(*) AS n FROM execution_logs WHERE order_id = ?").bind(orderId).first<{ n: number }>())?.n ?? 0;

describe("seed scenario 6: the audit trail of an order", () => {
  it("lists the four steps of a filled market order, oldest first, each row in the seed's shape", async () => {
    const { trader, id } = await filledMarketOrder();
    const res = await call(`/api/v1/orders/${id}/audit`, { token: trader.token });
    expect(res.status).toBe(200);
    const body = await json<{ data: AuditEntry[]; total: number }>(res);

    expect(Object.keys(body).sort()).toEqual(["data", "total"]);
    expect(body.total).toBe(4);
    expect(body.data.map((r) => [r.action, r.status])).toEqual([
      ["SUBMITTED", "PENDING"], ["APPROVED", "PENDING"], ["EXECUTED", "PENDING"], ["FILLED", "FILLED"],
    ]);
    for (const row of body.data) {
      expect(Object.keys(row).sort()).toEqual(AUDIT_FIELDS);
      expect(row).toMatchObject({ order_id: id, trader_id: trader.id, reason: null, error_code: null, retry_attempt: null });
      expect(row.id).toEqual(expect.any(String));
      expect(new Date(row.timestamp).toISOString()).toBe(row.timestamp);
    }
    expect(new Set(body.data.map((r) => r.id)).size).toBe(4);
    const times = body.data.map((r) => r.timestamp);
    expect([...times].sort()).toEqual(times);
  });

  it("gives a compliance officer the same trail, read from D1 once the outbox has flushed", async () => {
    const { trader, id } = await filledMarketOrder();
    const mine = await json<{ data: AuditEntry[]; total: number }>(await call(`/api/v1/orders/${id}/audit`, { token: trader.token }));
    const officer = await sign("officer", "compliance");

    const theirs = await eventually(
      async () => {
        const res = await call(`/api/v1/orders/${id}/audit`, { token: officer });
        return { status: res.status, body: await json<{ data: AuditEntry[]; total: number }>(res) };
      },
      (r) => r.status === 200 && r.body.total === 4,
    );
    expect(theirs.body).toEqual(mine);
  });

  it("keeps another trader out of the trail: 404, as for an unknown order", async () => {
    const { id } = await filledMarketOrder();
    const stranger = await newTrader(1_000);
    const res = await call(`/api/v1/orders/${id}/audit`, { token: stranger.token });
    expect(res.status).toBe(404);
    expect(await json(res)).toMatchObject({ error: "ORDER_NOT_FOUND" });
  });

  it("refuses UPDATE and DELETE on execution_logs in D1, leaving the rows as written", async () => {
    const { id } = await filledMarketOrder();
    await eventually(() => d1LogCount(id), (n) => n === 4);
    const before = await env.DB.prepare("SELECT * FROM execution_logs WHERE order_id = ? ORDER BY chain_seq").bind(id).all();

    await expect(env.DB.prepare("UPDATE execution_logs SET reason = 'edited', action = 'CANCELLED' WHERE order_id = ?").bind(id).run()).rejects.toThrow(/append-only/);
    await expect(env.DB.prepare("DELETE FROM execution_logs WHERE order_id = ?").bind(id).run()).rejects.toThrow(/append-only/);

    const after = await env.DB.prepare("SELECT * FROM execution_logs WHERE order_id = ? ORDER BY chain_seq").bind(id).all();
    expect(after.results).toEqual(before.results);
    expect(after.results).toHaveLength(4);
  });
});
