// The default ExchangeAdapter: the simulated venue, one VenueBook Durable Object per symbol.
import type { ExchangeAdapter } from "./adapter";
import { alpacaExchange } from "./alpaca/adapter";

export function simulatedExchange(env: Env): ExchangeAdapter {
  const book = (symbol: string) => env.VENUE.get(env.VENUE.idFromName(symbol));
  return {
    holdsExitGroups: true,
    quote: (symbol, subscriber) => book(symbol).quote(symbol, subscriber),
    submit: (order, attempt) => book(order.symbol).submit(order, attempt),
    lookup: (ref) => book(ref.symbol).lookup(ref.key),
    amend: (ref, amend) => book(ref.symbol).amend(ref.key, amend),
    cancel: (ref, final, reason) => book(ref.symbol).cancel(ref, final, reason),
  };
}

/** The adapter named by the EXCHANGE var; a real broker's adapter is added here. */
export function exchangeFor(env: Env): ExchangeAdapter {
  switch (env.EXCHANGE ?? "simulated") {
    case "simulated":
      return simulatedExchange(env);
    case "alpaca":
      return alpacaExchange(env);
    default:
      throw new Error(`Unknown EXCHANGE "${env.EXCHANGE}": "simulated" and "alpaca" are built in`);
  }
}
