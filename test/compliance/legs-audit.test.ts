// A bracket's legs in the audit trail: every audit row of a leg names its parent, on the desk's own trail
// (GET /orders/:id/audit), in D1's execution_logs, in the compliance report (JSON, the parent_order_id
// filter, and CSV), while the parent's and a plain order's rows carry null; the chain still verifies.
import { env } from "cloudflare:workers";
import { expect, it } from "vitest";
import { auditOf, call, eventually, getOrder, json, newInstrument, newTrader, setInstrument, submit, untilStatus } from "../helpers/api";
import { sign } from "../helpers/auth";
import type { ExecutionRow, VerifyResult } from "../../worker/shared/compliance";
import type { Order } from "../../worker/shared/orders";

const move = async (symbol: string, price: number) => expect((await setInstrument(symbol, { price })).status).toBe(200);

it("a bracket's legs carry parent_order_id on every audit row, on the desk, in D1, in the JSON report and the CSV", async () => {
  const symbol = await newInstrument(100);
  const trader = await newTrader(10_000);
  const res = await submit(trader, {
    symbol, quantity: 10, order_type: "LIMIT", price: 99, time_in_force: "GTC",
    order_class: "bracket", take_profit: { limit_price: 105 }, stop_loss: { stop_price: 95 },
  });
  expect(res.status, await res.clone().text()).toBe(201);
  const parent = await json<Order & { legs: Order[] }>(res);
  const [tp, sl] = parent.legs as [Order, Order];
  const plain = await json<Order>(await submit(trader, { symbol, quantity: 1, order_type: "LIMIT", price: 90, side: "BUY", time_in_force: "GTC" }));

  await move(symbol, 99); // the entry fills, the legs activate
  await untilStatus(trader, parent.id, "FILLED");
  await eventually(() => getOrder(trader, tp.id), (o) => o.status === "PENDING");
  await move(symbol, 105); // the take-profit fills, the stop-loss is cancelled
  await untilStatus(trader, tp.id, "FILLED");
  await untilStatus(trader, sl.id, "CANCELLED");

  // The desk's trail: HELD, ACTIVATED, fills / cancel, each row naming the parent.
  const tpTrail = await auditOf(trader, tp.id);
  const slTrail = await auditOf(trader, sl.id);
  expect(tpTrail.map((a) => a.action)).toEqual(expect.arrayContaining(["SUBMITTED", "ACTIVATED", "FILLED"]));
  expect(slTrail.map((a) => a.action)).toEqual(expect.arrayContaining(["SUBMITTED", "ACTIVATED", "CANCELLED"]));
  for (const row of [...tpTrail, ...slTrail]) expect(row.parent_order_id, `${row.order_id} ${row.action}`).toBe(parent.id);
  for (const row of [...(await auditOf(trader, parent.id)), ...(await auditOf(trader, plain.id))]) expect(row.parent_order_id).toBeNull();

  // D1 holds the same rows once the outbox has flushed.
  const legRows = tpTrail.length + slTrail.length;
  const d1 = await eventually(
    async () => (await env.DB.prepare("SELECT id, order_id, parent_order_id FROM execution_logs WHERE trader_id = ? ORDER BY chain_seq").bind(trader.id).all<{ id: string; order_id: string; parent_order_id: string | null }>()).results,
    (rows) => rows.filter((r) => r.parent_order_id === parent.id).length === legRows,
  );
  for (const r of d1) expect(r.parent_order_id, r.order_id).toBe(r.order_id === tp.id || r.order_id === sl.id ? parent.id : null);

  // The report filters by parent and carries the column in JSON and in CSV (after the hash, at the end).
  const officer = await sign("officer-legs", "compliance");
  const report = await json<{ data: ExecutionRow[] }>(await call(`/api/v1/compliance/executions?parent_order_id=${parent.id}&limit=100`, { token: officer }));
  expect(report.data.map((r) => r.id).sort()).toEqual([...tpTrail, ...slTrail].map((r) => r.id).sort());
  expect(new Set(report.data.map((r) => r.parent_order_id))).toEqual(new Set([parent.id]));
  const csv = await (await call(`/api/v1/compliance/executions?trader_id=${trader.id}&format=csv`, { token: officer })).text();
  const [header, ...lines] = csv.trim().split("\r\n");
  expect(header!.split(",").at(-1)).toBe("parent_order_id");
  const orderAt = header!.split(",").indexOf("order_id");
  for (const line of lines) {
    const cells = line.split(",");
    expect(cells.at(-1), line).toBe(cells[orderAt] === tp.id || cells[orderAt] === sl.id ? parent.id : "");
  }
  expect(lines).toHaveLength(d1.length);

  // The new column is outside the hash: the trader's chain verifies.
  const verified = await json<VerifyResult>(await call(`/api/v1/compliance/audit/verify?trader_id=${trader.id}`, { token: officer }));
  expect(verified).toMatchObject({ ok: true, checked: d1.length });
});

it("parent_order_id in the report's query is checked like the other filters", async () => {
  const officer = await sign("officer-legs", "compliance");
  const res = await call(`/api/v1/compliance/executions?parent_order_id=${"x".repeat(65)}`, { token: officer });
  expect(res.status).toBe(400);
  expect(await json<{ error: string }>(res)).toMatchObject({ error: "VALIDATION_ERROR" });
});
