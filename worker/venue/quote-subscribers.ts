// The desks that hold a quote of this venue book's symbol: each change of price, tick or trading halt is
// pushed to all of them before the admin's change returns (TraderDesk.onQuote), so an order submitted
// after it is checked against the new price.
import type { Quote } from "./adapter";

/** A desk that does not take a pushed quote within this long keeps its old one until its cache expires. */
const QUOTE_PUSH_TIMEOUT_MS = 2000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class QuoteSubscribers {
  private known: Set<string> | null = null;

  constructor(
    private readonly sql: SqlStorage,
    private readonly deskOf: (traderId: string) => { onQuote(quote: Quote): Promise<void> },
  ) {}

  migrate(): void {
    this.sql.exec("CREATE TABLE IF NOT EXISTS subscribers (trader_id TEXT PRIMARY KEY)");
  }

  /** The desk of `traderId` holds a quote now: it hears every later change. */
  add(traderId: string): void {
    const known = this.all();
    if (known.has(traderId)) return;
    known.add(traderId);
    this.sql.exec("INSERT OR IGNORE INTO subscribers (trader_id) VALUES (?)", traderId);
  }

  /**
   * Tells every subscribed desk the new quote. A desk that cannot be reached keeps its old quote only until
   * its cache expires (QUOTE_TTL_MS in the desk).
   */
  async push(quote: Quote): Promise<void> {
    const push = (traderId: string) =>
      Promise.race([this.deskOf(traderId).onQuote(quote), sleep(QUOTE_PUSH_TIMEOUT_MS).then(() => Promise.reject(new Error("no answer")))]);
    const results = await Promise.allSettled([...this.all()].map(push));
    const failed = results.filter((r) => r.status === "rejected").length;
    if (failed > 0) console.warn(`venue ${quote.symbol}: ${failed} desks missed the new quote; they refresh within their cache time`);
  }

  private all(): Set<string> {
    this.known ??= new Set(this.sql.exec<{ trader_id: string }>("SELECT trader_id FROM subscribers").toArray().map((r) => r.trader_id));
    return this.known;
  }
}
