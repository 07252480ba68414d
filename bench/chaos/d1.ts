// D1 as the system of record holds it after the run, read straight from the drill server's local state
// with `wrangler d1 execute --local --persist-to <dir> --json` (not through the Worker), so the comparison
// with what the API says does not trust the code under test.
import { z } from "zod";
import { ROOT, wrangler } from "../server.ts";

const D1Order = z.object({
  id: z.string(), trader_id: z.string(), status: z.string(), quantity: z.number(), filled_quantity: z.number(), filled_notional_cents: z.number(),
  limit_price_cents: z.number().nullable(), stop_price_cents: z.number().nullable(), amended_at: z.string().nullable(),
});
const D1Fill = z.object({
  id: z.string(), order_id: z.string(), trader_id: z.string(), symbol: z.string(), quantity_filled: z.number(), price_cents: z.number(), realized_pl_micros: z.number().nullable(),
});
const D1Log = z.object({ id: z.string(), order_id: z.string(), trader_id: z.string(), chain_seq: z.number(), action: z.string() });
const D1Account = z.object({ trader_id: z.string(), cash_cents: z.number(), reserved_cents: z.number() });
const D1Position = z.object({
  trader_id: z.string(), symbol: z.string(), quantity: z.number(), cost_cents: z.number(), avg_price_micros: z.number(), realized_pl_micros: z.number(),
});

export interface D1Snapshot {
  orders: z.infer<typeof D1Order>[];
  fills: z.infer<typeof D1Fill>[];
  logs: z.infer<typeof D1Log>[];
  accounts: z.infer<typeof D1Account>[];
  positions: z.infer<typeof D1Position>[];
}

const Results = <T extends z.ZodType>(row: T) => z.object({ results: z.array(row) });

/** Every D1 row of the traders whose id starts with `traderPrefix` (letters, digits and '-' only). */
export async function readD1(persistDir: string, cwd: string | null, traderPrefix: string): Promise<D1Snapshot> {
  if (!/^[\w-]+$/.test(traderPrefix)) throw new Error(`unsafe trader prefix ${traderPrefix}`);
  const mine = `trader_id LIKE '${traderPrefix}%'`;
  const command = [
    `SELECT id, trader_id, status, quantity, filled_quantity, filled_notional_cents, limit_price_cents, stop_price_cents, amended_at FROM orders WHERE ${mine}`,
    `SELECT id, order_id, trader_id, symbol, quantity_filled, price_cents, realized_pl_micros FROM fills WHERE ${mine}`,
    `SELECT id, order_id, trader_id, chain_seq, action FROM execution_logs WHERE ${mine} ORDER BY trader_id, chain_seq`,
    `SELECT trader_id, cash_cents, reserved_cents FROM accounts WHERE ${mine}`,
    `SELECT trader_id, symbol, quantity, cost_cents, avg_price_micros, realized_pl_micros FROM positions WHERE ${mine}`,
  ].join("; ");
  const out = await wrangler(cwd ?? ROOT, ["d1", "execute", "fillwire", "--local", "--persist-to", persistDir, "--json", "--command", command]);
  const sets = z.array(z.unknown()).parse(JSON.parse(out));
  if (sets.length !== 5) throw new Error(`wrangler d1 execute returned ${sets.length} result sets, expected 5`);
  return {
    orders: Results(D1Order).parse(sets[0]).results,
    fills: Results(D1Fill).parse(sets[1]).results,
    logs: Results(D1Log).parse(sets[2]).results,
    accounts: Results(D1Account).parse(sets[3]).results,
    positions: Results(D1Position).parse(sets[4]).results,
  };
}
