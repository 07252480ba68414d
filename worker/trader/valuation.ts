// Positions and the account valued at the venue's current prices: market value, unrealized P&L against
// average cost, equity. Plain functions; money in integer cents and micro-dollars inside, dollars out.
import type { Account, PositionValue } from "../shared/account";
import { toDollars } from "../shared/money";
import { costBasisCents, MICROS_PER_CENT } from "./ledger";
import type { AccountRow, PositionRow } from "./schema";
import { microsToDollars } from "./views";

/** Reference prices by symbol, in cents (a symbol without one is valued at its average cost). */
export type Prices = ReadonlyMap<string, number>;

const MICROS_PER_DOLLAR = 1_000_000;

/** One position at `priceCents` (market fields null when the venue has no price for it). */
export function valuePosition(p: PositionRow, priceCents: number | undefined): PositionValue {
  const cost = costBasisCents(p);
  const unrealizedMicros = priceCents === undefined ? null : (priceCents * MICROS_PER_CENT - p.avg_price_micros) * p.quantity;
  return {
    symbol: p.symbol,
    quantity: p.quantity,
    available_quantity: Math.max(0, p.quantity - p.reserved_qty),
    avg_price: p.avg_price_micros / MICROS_PER_DOLLAR,
    cost_basis: toDollars(cost),
    market_price: priceCents === undefined ? null : toDollars(priceCents),
    market_value: priceCents === undefined ? null : toDollars(priceCents * p.quantity),
    unrealized_pl: unrealizedMicros === null ? null : microsToDollars(unrealizedMicros),
    unrealized_plpc: unrealizedMicros === null || cost === 0 ? null : Math.round((unrealizedMicros / (cost * MICROS_PER_CENT)) * 1e6) / 1e6,
    realized_pl: microsToDollars(p.realized_pl_micros),
  };
}

/**
 * The account: cash, reservations, equity (cash + market value; a position without a price counts at its
 * cost), realized P&L of every sale so far (`realizedMicros`, open and closed positions) and unrealized P&L.
 */
export function valueAccount(a: AccountRow, positions: PositionRow[], prices: Prices, realizedMicros: number): Account {
  let marketCents = 0;
  let unrealizedMicros = 0;
  for (const p of positions) {
    const price = prices.get(p.symbol);
    if (price === undefined) {
      marketCents += costBasisCents(p);
      continue;
    }
    marketCents += price * p.quantity;
    unrealizedMicros += (price * MICROS_PER_CENT - p.avg_price_micros) * p.quantity;
  }
  return {
    trader_id: a.trader_id,
    cash: toDollars(a.cash_cents),
    reserved: toDollars(a.reserved_cents),
    buying_power: toDollars(a.cash_cents - a.reserved_cents),
    equity: toDollars(a.cash_cents + marketCents),
    realized_pl: microsToDollars(realizedMicros),
    unrealized_pl: microsToDollars(unrealizedMicros),
    trading_state: a.trading_state,
    positions: positions
      .filter((p) => p.quantity !== 0)
      .map((p) => ({ symbol: p.symbol, quantity: p.quantity, avg_price: p.avg_price_micros / MICROS_PER_DOLLAR, realized_pl: microsToDollars(p.realized_pl_micros) })),
  };
}
