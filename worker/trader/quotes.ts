// The desk's quotes: the last one it holds per symbol, replaced by the venue's pushes (TraderDesk.onQuote)
// and asked for again only when missing or older than QUOTE_TTL_MS.
import type { ExchangeAdapter, Quote } from "../venue/adapter";

/**
 * How long a quote is reused without asking the venue. The venue pushes every price change to the desks
 * that hold its quote, so this only bounds how stale a quote can get if such a push is lost.
 */
const QUOTE_TTL_MS = 10_000;

export class QuoteCache {
  private readonly quotes = new Map<string, { quote: Quote; at: number }>();

  constructor(
    private readonly exchange: ExchangeAdapter,
    private readonly subscriber: () => string,
    private readonly now: () => number,
  ) {}

  /** The symbol's quote, or null when the venue does not know the symbol. */
  async get(symbol: string): Promise<Quote | null> {
    const held = this.quotes.get(symbol);
    if (held && this.now() - held.at < QUOTE_TTL_MS) return held.quote;
    const quote = await this.exchange.quote(symbol, this.subscriber());
    if (!quote) {
      this.quotes.delete(symbol); // the venue no longer knows it
      return null;
    }
    if (quote.unavailable) return quote; // no price this time: ask again next time, keep the last good one
    this.keep(quote);
    // A push that arrived while this call was on its way is newer than its answer.
    return this.quotes.get(symbol)?.quote ?? quote;
  }

  /** The last known price (cents) of every symbol held, however old: for valuing, never for risk checks. */
  lastPrices(): Map<string, number> {
    return new Map([...this.quotes].map(([symbol, held]) => [symbol, held.quote.priceCents]));
  }

  /** Keeps a pushed or fetched quote unless a newer version of it is already held. */
  keep(quote: Quote): void {
    const held = this.quotes.get(quote.symbol);
    if (held && held.quote.version > quote.version) return;
    this.quotes.set(quote.symbol, { quote, at: this.now() });
  }
}
