// What the bench needs on the desk before it measures: the instruments it trades, and the shared context
// every phase receives.
import type { HttpClient } from "./http.ts";
import type { DeskServer } from "./server.ts";

/** Deep books at 100.00: every market order fills at once, whichever trader sends it. */
export const BENCH_SYMBOLS = ["BENCH_A", "BENCH_B", "BENCH_C", "BENCH_D"] as const;
export const BENCH_PRICE = 100;
/** The seeded partial-fill instrument (SPEC): 50 shares per level, tick 0.05; re-put with its seed values. */
export const PARTIAL_SYMBOL = "TEST_PARTIAL";

export async function putInstruments(http: HttpClient, adminToken: string): Promise<void> {
  const put = async (symbol: string, body: Record<string, number>) => {
    const res = await http.send("PUT", `/api/v1/admin/instruments/${symbol}`, { token: adminToken, body });
    if (res.status !== 200) throw new Error(`PUT instrument ${symbol}: ${res.status} ${res.text}`);
  };
  for (const symbol of BENCH_SYMBOLS) await put(symbol, { price: BENCH_PRICE, tick_size: 0.01, depth: 1_000_000 });
  await put(PARTIAL_SYMBOL, { price: 150, tick_size: 0.05, depth: 50 });
}

export interface BenchOptions {
  traders: number;
  /** Orders per second per trader in the open-loop phases. */
  rate: number;
  durationS: number;
  sockets: number;
  /** Saturation: concurrency ladder and seconds per step. */
  levels: number[];
  stepS: number;
}

export interface BenchContext {
  server: DeskServer;
  http: HttpClient;
  adminToken: string;
  /** Unique per run: account ids are `${runId}-<phase>-<n>` (an account can be opened only once). */
  runId: string;
  options: BenchOptions;
  log(line: string): void;
}
