// D1 is down while an order fills: the trader is answered from the desk, the outbox keeps every change,
// and once D1 is back the alarm delivers each row exactly once (a second flush of the same records
// changes nothing).
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { eventually, newTrader, submit, untilStatus, json } from "../helpers/api";

const count = async (table: string, traderId: string) =>
  (await env.DB.prepare(`SELECT COUNT(*) AS n FROM ${table} WHERE trader_id = ?`).bind(traderId).first<{ n: number }>())!.n;

describe("the outbox when D1 fails", () => {
  it("keeps every change while D1 refuses writes and catches up exactly once when it is back", async () => {
    const trader = await newTrader(20_000);
    await eventually(() => count("accounts", trader.id), (n) => n === 1);
    // A real D1 failure: every write to execution_logs aborts, so the whole (atomic) batch fails.
    await env.DB.exec("CREATE TRIGGER outage BEFORE INSERT ON execution_logs BEGIN SELECT RAISE(ABORT, 'D1 unavailable'); END;");

    const order = await json<{ id: string }>(await submit(trader, { symbol: "AAPL", quantity: 100, order_type: "MARKET" }));
    const filled = await untilStatus(trader, order.id, "FILLED");
    expect(filled.fills).toHaveLength(1);

    const desk = env.TRADER.get(env.TRADER.idFromName(trader.id));
    await eventually(() => desk.pendingOutbox(), (n) => n > 0);
    expect(await count("orders", trader.id)).toBe(0);
    expect(await count("execution_logs", trader.id)).toBe(0);
    const queued = await runInDurableObject(desk, (_instance, state) =>
      state.storage.sql.exec<{ kind: string; row_key: string | null; record: string }>("SELECT kind, row_key, record FROM outbox ORDER BY id").toArray(),
    );

    await env.DB.exec("DROP TRIGGER outage");
    await runDurableObjectAlarm(desk);
    await eventually(() => desk.pendingOutbox(), (n) => n === 0);

    const d1Order = await env.DB.prepare("SELECT status, filled_quantity FROM orders WHERE id = ?").bind(order.id).first();
    expect(d1Order).toEqual({ status: "FILLED", filled_quantity: 100 });
    expect(await count("fills", trader.id)).toBe(1);
    expect(await count("execution_logs", trader.id)).toBe(4);
    const account = await env.DB.prepare("SELECT cash_cents, reserved_cents FROM accounts WHERE trader_id = ?").bind(trader.id).first();
    expect(account).toEqual({ cash_cents: 500_000, reserved_cents: 0 });

    // Replay the very records that were queued during the outage: idempotent writes leave D1 as it is.
    await runInDurableObject(desk, (_instance, state) => {
      for (const r of queued) state.storage.sql.exec("INSERT INTO outbox (kind, row_key, record) VALUES (?, ?, ?)", r.kind, r.row_key, r.record);
      return state.storage.setAlarm(Date.now());
    });
    await runDurableObjectAlarm(desk);
    await eventually(() => desk.pendingOutbox(), (n) => n === 0);
    expect(await count("orders", trader.id)).toBe(1);
    expect(await count("fills", trader.id)).toBe(1);
    expect(await count("execution_logs", trader.id)).toBe(4);
    expect(await env.DB.prepare("SELECT status FROM orders WHERE id = ?").bind(order.id).first()).toEqual({ status: "FILLED" });
  });
});
