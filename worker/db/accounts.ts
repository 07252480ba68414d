// Accounts in D1: a desk loads its trader's seeded account from here the first time it is used.
import { eq } from "drizzle-orm";
import { TRADING_STATES, type TradingState } from "../shared/account";
import { database } from "./client";
import { accounts, positions } from "./schema";

export interface StoredAccount {
  cashCents: number;
  tradingState: TradingState;
  version: number;
  createdAt: string;
  /** Shares at average cost and realized P&L, micro-dollars (see worker/trader/ledger.ts). */
  positions: { symbol: string; quantity: number; avg_price_micros: number; realized_pl_micros: number }[];
}

export async function loadAccount(d1: D1Database, traderId: string): Promise<StoredAccount | null> {
  const db = database(d1);
  const [account, held] = await db.batch([
    db.select().from(accounts).where(eq(accounts.traderId, traderId)),
    db.select().from(positions).where(eq(positions.traderId, traderId)),
  ]);
  const row = account[0];
  if (!row) return null;
  return {
    cashCents: row.cashCents,
    tradingState: (TRADING_STATES as readonly string[]).includes(row.tradingState) ? (row.tradingState as TradingState) : "ACTIVE",
    version: row.version,
    createdAt: row.createdAt,
    positions: held.map((p) => ({
      symbol: p.symbol, quantity: p.quantity, realized_pl_micros: p.realizedPlMicros,
      // Rows written before average cost was kept: derive it from the cost basis.
      avg_price_micros: p.avgPriceMicros || (p.quantity > 0 ? Math.round((p.costCents * 10_000) / p.quantity) : 0),
    })),
  };
}
