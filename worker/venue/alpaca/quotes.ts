// Reference prices for the risk checks, from Alpaca's market data: the latest quote's midpoint when both
// sides are there, else the latest trade. Cached a few seconds per isolate (every desk in it shares them).
// Only answers are shared, never a fetch in flight: workerd does not let one request wait on I/O another
// request started (that request may end first, and the fetch with it), so each caller fetches its own. No price at all: the symbol is "not tradable right now" (the
// desk's SYMBOL_NOT_TRADABLE); market data down or refusing: the quote says why (the desk's 503
// VENUE_UNAVAILABLE, cached for one second only); a symbol Alpaca does not know: null (UNKNOWN_SYMBOL).
import type { Quote } from "../adapter";
import { AlpacaRefusal, AlpacaUnavailable, type AlpacaClient } from "./client";

interface Held {
  quote: Quote | null;
  at: number;
}

const cache = new Map<string, Held>();

/** US equities trade in cents at $1 and above (sub-penny below $1 is rounded: fillwire prices in cents). */
const TICK_CENTS = 1;
/** How long a failed market-data fetch is kept before Alpaca is asked again (ms). */
const UNAVAILABLE_KEPT_MS = 1000;

export async function referenceQuote(client: AlpacaClient, cacheKey: string, symbol: string, ttlMs: number, now = Date.now()): Promise<Quote | null> {
  const key = `${cacheKey}|${symbol}`;
  const held = cache.get(key);
  if (held && now - held.at < ttlMs) return held.quote;
  const quote = await fetchQuote(client, symbol);
  // A failed fetch is asked again sooner: it is kept as if fetched (ttlMs - 1 s) ago.
  cache.set(key, { quote, at: Date.now() - (quote?.unavailable ? Math.max(0, ttlMs - UNAVAILABLE_KEPT_MS) : 0) });
  return quote;
}

async function fetchQuote(client: AlpacaClient, symbol: string): Promise<Quote | null> {
  const version = Date.now();
  try {
    const latest = await client.latestQuote(symbol);
    const q = latest?.quote;
    if (q && q.bp > 0 && q.ap > 0 && q.ap >= q.bp) {
      return { symbol, priceCents: Math.round(((q.ap + q.bp) / 2) * 100), tickCents: TICK_CENTS, tradable: true, version };
    }
    const trade = (await client.latestTrade(symbol))?.trade;
    if (trade && trade.p > 0) return { symbol, priceCents: Math.round(trade.p * 100), tickCents: TICK_CENTS, tradable: true, version };
    if (latest === null) return null; // Alpaca does not know the symbol
    return noPrice(symbol, version);
  } catch (err) {
    // Market data is down, rate limited or refused (a feed the plan lacks): no price to check risk against.
    if (!(err instanceof AlpacaUnavailable || err instanceof AlpacaRefusal)) throw err;
    console.warn(`alpaca quote ${symbol}: ${err.message}`);
    return { ...noPrice(symbol, version), unavailable: `Alpaca market data did not answer with a price (${err.message})` };
  }
}

function noPrice(symbol: string, version: number): Quote {
  return { symbol, priceCents: 0, tickCents: TICK_CENTS, tradable: false, version };
}

/** Tests: forget every cached price. */
export function clearQuoteCache(): void {
  cache.clear();
}
