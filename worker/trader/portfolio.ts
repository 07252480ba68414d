// The trader's portfolio on the desk: the account and positions valued at the venue's prices, closing
// positions, the activity ledger (fills and cash), and the trading state an admin sets. Closing a position
// goes through the same order entry as any order.
import { newId } from "../ids";
import type { Account, ActivitiesQuery, Activity, PositionValue, TradingStateRequest } from "../shared/account";
import { fail, ok, type Result } from "../shared/errors";
import { toDollars } from "../shared/money";
import type { Order } from "../shared/orders";
import { audit } from "./lifecycle";
import type { CancelOutcome, OrderEntry } from "./order-entry";
import type { QuoteCache } from "./quotes";
import type { DeskStore } from "./store";
import { valueAccount, valuePosition, type Prices } from "./valuation";
import { microsToDollars } from "./views";

export interface TradingStateChange {
  trading_state: Account["trading_state"];
  account: Account;
  cancelled: CancelOutcome[];
}

export class Portfolio {
  constructor(
    private readonly store: DeskStore,
    private readonly quotes: QuoteCache,
    private readonly entry: OrderEntry,
    private readonly changed: () => void,
  ) {}

  /** The account valued at the current prices (assumes the account exists). */
  async account(): Promise<Account> {
    const positions = this.store.positions();
    return valueAccount(this.store.account()!, positions, await this.prices(positions.map((p) => p.symbol)), this.store.realizedTotal());
  }

  /** Every open position with market value and P&L. */
  async positions(): Promise<PositionValue[]> {
    const held = this.store.positions().filter((p) => p.quantity !== 0);
    const prices = await this.prices(held.map((p) => p.symbol));
    return held.map((p) => valuePosition(p, prices.get(p.symbol)));
  }

  /**
   * Closes all of a position, or `quantity` shares, or `percentage` of it (rounded down), with a MARKET
   * SELL; first cancels the symbol's working SELL orders, which hold the shares. 404 POSITION_NOT_FOUND.
   */
  async close(symbol: string, part: { quantity?: number; percentage?: number }): Promise<Result<Order>> {
    const held = this.store.position(symbol);
    if (!held || held.quantity <= 0) return fail("POSITION_NOT_FOUND", `You hold no ${symbol}`, { symbol });
    const quantity = part.quantity ?? (part.percentage !== undefined ? Math.floor((held.quantity * part.percentage) / 100) : held.quantity);
    if (quantity < 1 || quantity > held.quantity) {
      const field = part.quantity !== undefined ? "quantity" : "percentage";
      const message = `${field} must close between 1 and ${held.quantity} shares of ${symbol} (asked ${quantity})`;
      return fail("VALIDATION_ERROR", `Invalid request: ${message}`, { fields: { [field]: message }, held_quantity: held.quantity });
    }
    // HELD exits hold no shares (they wait for their entry): they stay.
    const sells = this.store.workingOrders({ symbol, side: "SELL" }).filter((o) => o.status !== "HELD");
    const cancels = await Promise.all(sells.map((o) => this.entry.cancel(o.id)));
    // A SELL the venue did not confirm cancelled may still sell: closing now could sell the shares twice.
    const unconfirmed = cancels.find((c) => !c.ok && c.code === "VENUE_UNAVAILABLE");
    if (unconfirmed && !unconfirmed.ok) {
      return fail("VENUE_UNAVAILABLE", `Could not close ${symbol}: the venue did not confirm the cancel of a working SELL holding the shares; try again`, unconfirmed.details);
    }
    const placed = await this.entry.submit({ symbol, side: "SELL", quantity, order_type: "MARKET", time_in_force: "DAY", order_class: "simple" }, null);
    return placed.ok ? ok(placed.value.order) : placed;
  }

  /** Closes every open position: one order each (or the reason one could not be placed). */
  async closeAll(): Promise<{ data: Order[]; errors: { symbol: string; error: string; message: string }[] }> {
    const held = this.store.positions().filter((p) => p.quantity > 0);
    const results = await Promise.all(held.map(async (p) => [p.symbol, await this.close(p.symbol, {})] as const));
    return {
      data: results.flatMap(([, r]) => (r.ok ? [r.value] : [])),
      errors: results.flatMap(([symbol, r]) => (r.ok ? [] : [{ symbol, error: r.code, message: r.message }])),
    };
  }

  /** The ledger, newest first: fills and cash movements, filtered, in cursor pages. */
  activities(query: ActivitiesQuery): Result<{ data: Activity[]; next_cursor: string | null }> {
    let before: { at: string; id: string } | undefined;
    if (query.cursor !== undefined) {
      const decoded = decodeActivityCursor(query.cursor);
      if (!decoded) return fail("VALIDATION_ERROR", "cursor is not one this API returned; start again without it", { fields: { cursor: "invalid cursor" } });
      before = decoded;
    }
    const rows = this.store.activities({ type: query.activity_type, symbol: query.symbol, from: query.from, to: query.to, before, limit: query.limit + 1 });
    const page = rows.slice(0, query.limit);
    const data: Activity[] = page.map((r) => ({
      id: r.id, activity_type: r.type, timestamp: r.at, net_amount: toDollars(r.net_cents), order_id: r.order_id, symbol: r.symbol, side: r.side,
      quantity: r.quantity, price: r.price_cents === null ? null : toDollars(r.price_cents),
      realized_pl: r.realized_pl_micros === null ? null : microsToDollars(r.realized_pl_micros), reason: r.reason,
    }));
    const last = page[page.length - 1];
    return ok({ data, next_cursor: rows.length > query.limit && last ? encodeActivityCursor(last.at, last.id) : null });
  }

  /** An admin sets the trading state: audited TRADING_STATE with who and why; optionally cancels all. */
  async setTradingState(change: TradingStateRequest, adminSub: string): Promise<TradingStateChange> {
    const nowMs = Date.now();
    const at = new Date(nowMs).toISOString();
    this.store.atomically(() => {
      this.store.setTradingState(change.state, at);
      this.store.journal.appendAudit({ id: "", symbol: "", side: "", parent_order_id: null }, audit("TRADING_STATE", change.state, `${change.state} by ${adminSub}: ${change.reason}`), at, newId("log", nowMs));
    });
    this.changed();
    const cancelled = change.cancel_orders ? await this.entry.cancelAll({}) : ok({ data: [] });
    return { trading_state: change.state, account: await this.account(), cancelled: cancelled.ok ? cancelled.value.data : [] };
  }

  private async prices(symbols: string[]): Promise<Prices> {
    const quotes = await Promise.all(symbols.map((s) => this.quotes.get(s).catch(() => null)));
    return new Map(quotes.flatMap((q) => (q ? [[q.symbol, q.priceCents] as const] : [])));
  }
}

function encodeActivityCursor(at: string, id: string): string {
  return btoa(`a:${at}|${id}`).replace(/=+$/, "");
}

function decodeActivityCursor(cursor: string): { at: string; id: string } | null {
  try {
    const match = /^a:([^|]{1,40})\|([\w:-]{1,100})$/.exec(atob(cursor));
    return match ? { at: match[1]!, id: match[2]! } : null;
  } catch {
    return null;
  }
}
