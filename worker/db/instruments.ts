// Instruments in D1: the list traders see, and the settings a venue book loads on first use.
import { asc, eq } from "drizzle-orm";
import { database } from "./client";
import { instruments } from "./schema";
import { Faults } from "../venue/faults";

export interface InstrumentSettings {
  symbol: string;
  name: string;
  priceCents: number;
  tickCents: number;
  depth: number;
  tradable: boolean;
  faults: Faults;
  /** The venue's change counter (quotes carry it); D1 does not keep it. */
  version?: number;
}

type InstrumentRow = typeof instruments.$inferSelect;

function parseFaults(text: string): Faults {
  const parsed = Faults.safeParse(JSON.parse(text || "{}"));
  return parsed.success ? parsed.data : {};
}

const toSettings = (row: InstrumentRow): InstrumentSettings => ({
  symbol: row.symbol,
  name: row.name,
  priceCents: row.priceCents,
  tickCents: row.tickCents,
  depth: row.depth,
  tradable: row.tradable,
  faults: parseFaults(row.faults),
});

export async function readInstrument(d1: D1Database, symbol: string): Promise<InstrumentSettings | null> {
  const row = await database(d1).select().from(instruments).where(eq(instruments.symbol, symbol)).get();
  return row ? toSettings(row) : null;
}

export async function listInstruments(d1: D1Database): Promise<InstrumentSettings[]> {
  const rows = await database(d1).select().from(instruments).orderBy(asc(instruments.symbol)).all();
  return rows.map(toSettings);
}

export async function writeInstrument(d1: D1Database, s: InstrumentSettings): Promise<void> {
  const row = {
    symbol: s.symbol, name: s.name, priceCents: s.priceCents, tickCents: s.tickCents, depth: s.depth,
    tradable: s.tradable, faults: JSON.stringify(s.faults), updatedAt: new Date().toISOString(),
  };
  await database(d1).insert(instruments).values(row).onConflictDoUpdate({ target: instruments.symbol, set: row });
}

