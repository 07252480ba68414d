// Accounts in D1: a desk loads its trader's seeded account from here the first time it is used.
import { eq } from "drizzle-orm";
import { database } from "./client";
import { accounts, positions } from "./schema";

export interface StoredAccount {
  cashCents: number;
  version: number;
  createdAt: string;
  positions: { symbol: string; quantity: number; costCents: number }[];
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
    version: row.version,
    createdAt: row.createdAt,
    positions: held.map((p) => ({ symbol: p.symbol, quantity: p.quantity, costCents: p.costCents })),
  };
}
