// Positions valued on the page, a position's close request, and the one-line outcomes of "Cancel all" and
// "Close all". The valuation is checked against the desk's own (worker/trader/valuation.ts) on many
// generated positions: the page's table and GET /positions never disagree by a cent.
import { describe, expect, it } from "vitest";
import type { Account } from "../../worker/shared/account";
import { valueAccount, valuePosition } from "../../worker/trader/valuation";
import type { AccountRow, PositionRow } from "../../worker/trader/schema";
import { percent, summarizeCancelAll, summarizeCloseAll, toCloseRequest, valueDesk, type CancelOutcome } from "../../web/src/positions";
import type { Order } from "../../worker/shared/orders";

function account(over: Partial<Account> = {}): Account {
  return {
    trader_id: "dana", cash: 10_000, reserved: 0, buying_power: 10_000, equity: 10_000, realized_pl: 0, unrealized_pl: 0, trading_state: "ACTIVE",
    positions: [], ...over,
  };
}

describe("valueDesk", () => {
  it("values each position at the instrument's latest price, with equity as cash plus market value", () => {
    const value = valueDesk(account({ positions: [{ symbol: "XYZ", quantity: 100, avg_price: 50, realized_pl: 12.5 }] }), [{ symbol: "XYZ", price: 55 }]);
    expect(value.positions).toEqual([
      { symbol: "XYZ", quantity: 100, avg_price: 50, cost_basis: 5000, market_price: 55, market_value: 5500, unrealized_pl: 500, unrealized_plpc: 0.1, realized_pl: 12.5 },
    ]);
    expect({ equity: value.equity, market_value: value.market_value, unrealized_pl: value.unrealized_pl }).toEqual({ equity: 15_500, market_value: 5500, unrealized_pl: 500 });
  });

  it("keeps an average of 150.025 exact: P&L against it, rounded to the cent only at the end", () => {
    const [row] = valueDesk(account({ positions: [{ symbol: "TEST_PARTIAL", quantity: 100, avg_price: 150.025, realized_pl: 0 }] }), [{ symbol: "TEST_PARTIAL", price: 150.05 }]).positions;
    expect(row).toMatchObject({ cost_basis: 15002.5, market_value: 15005, unrealized_pl: 2.5, unrealized_plpc: 0.000167 });
  });

  it("counts a position without a price at its cost, as the desk does, and shows no market figures for it", () => {
    const value = valueDesk(account({ cash: 1000, positions: [{ symbol: "GONE", quantity: 10, avg_price: 20, realized_pl: 0 }] }), [{ symbol: "AAPL", price: 150 }]);
    expect(value.positions[0]).toMatchObject({ market_price: null, market_value: null, unrealized_pl: null, unrealized_plpc: null, cost_basis: 200 });
    expect(value.equity).toBe(1200);
  });

  it("shows the account's own figures until the prices are read", () => {
    const value = valueDesk(account({ cash: 1000, equity: 1550, unrealized_pl: 50, realized_pl: 7, positions: [{ symbol: "XYZ", quantity: 10, avg_price: 50, realized_pl: 7 }] }), null);
    expect({ equity: value.equity, market_value: value.market_value, unrealized_pl: value.unrealized_pl, realized_pl: value.realized_pl }).toEqual({ equity: 1550, market_value: 550, unrealized_pl: 50, realized_pl: 7 });
  });

  it("agrees with the desk's valuation to the cent on 500 generated accounts", () => {
    let seed = 20260302;
    const next = (n: number) => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return seed % n;
    };
    for (let run = 0; run < 500; run++) {
      const rows: PositionRow[] = Array.from({ length: 1 + next(4) }, (_, i) => ({
        symbol: `S${i}`, quantity: 1 + next(100_000), avg_price_micros: 10_000 + next(500_000_000), realized_pl_micros: next(2_000_000_000) - 1_000_000_000, reserved_qty: 0, version: 1,
      }));
      const prices = new Map(rows.filter(() => next(5) > 0).map((r) => [r.symbol, 1 + next(600_000)]));
      const row: AccountRow = { trader_id: "dana", cash_cents: next(1_000_000_000), reserved_cents: 0, trading_state: "ACTIVE", version: 1, created_at: "2026-03-02T15:00:00.000Z" };
      const desk = valueAccount(row, rows, prices, rows.reduce((sum, r) => sum + r.realized_pl_micros, 0));
      const page = valueDesk(desk, [...prices].map(([symbol, cents]) => ({ symbol, price: cents / 100 })));
      for (const [i, p] of page.positions.entries()) {
        const expected = valuePosition(rows[i]!, prices.get(rows[i]!.symbol));
        expect(p).toEqual({ ...expected, available_quantity: undefined, avg_price: expected.avg_price, realized_pl: desk.positions[i]!.realized_pl });
      }
      expect({ equity: page.equity, unrealized_pl: page.unrealized_pl }).toEqual({ equity: desk.equity, unrealized_pl: desk.unrealized_pl });
    }
  });

  it("words a fraction of cost as a signed percentage", () => {
    expect(percent(0.1)).toBe("+10.00 %");
    expect(percent(-0.05)).toBe("−5.00 %");
    expect(percent(0)).toBe("0.00 %");
    expect(percent(null)).toBe("—");
  });
});

describe("toCloseRequest", () => {
  it("closes all of a position with no query", () => {
    expect(toCloseRequest(100, { mode: "all", quantity: "", percentage: "" })).toEqual({ ok: true, query: {}, shares: 100 });
  });

  it("sells a number of shares between 1 and the position", () => {
    expect(toCloseRequest(100, { mode: "quantity", quantity: "25", percentage: "" })).toEqual({ ok: true, query: { quantity: "25" }, shares: 25 });
    expect(toCloseRequest(100, { mode: "quantity", quantity: "200", percentage: "" })).toEqual({ ok: false, field: "quantity", error: "quantity must be at most the 100 shares you hold" });
    expect(toCloseRequest(100, { mode: "quantity", quantity: "2.5", percentage: "" })).toMatchObject({ ok: false, field: "quantity" });
    expect(toCloseRequest(100, { mode: "quantity", quantity: "", percentage: "" })).toMatchObject({ ok: false, field: "quantity" });
  });

  it("sells a percentage rounded down to whole shares, as the desk does", () => {
    expect(toCloseRequest(75, { mode: "percentage", quantity: "", percentage: "50" })).toEqual({ ok: true, query: { percentage: "50" }, shares: 37 });
    expect(toCloseRequest(100, { mode: "percentage", quantity: "", percentage: "25 %" })).toEqual({ ok: true, query: { percentage: "25" }, shares: 25 });
    expect(toCloseRequest(100, { mode: "percentage", quantity: "", percentage: "0.5" })).toEqual({ ok: false, field: "percentage", error: "0.5 % of 100 shares rounds down to 0 shares" });
    expect(toCloseRequest(100, { mode: "percentage", quantity: "", percentage: "120" })).toMatchObject({ ok: false, field: "percentage" });
  });
});

describe("outcome lines", () => {
  const outcome = (id: string, status: number, message?: string): CancelOutcome => ({
    id, status, order: status === 200 ? ({ id } as Order) : null, error: message ? { error: status === 409 ? "ORDER_NOT_CANCELLABLE" : "VENUE_UNAVAILABLE", message } : null,
  });
  const describeOrder = (id: string) => `BUY 10 AAPL (${id})`;

  it("counts the cancelled orders and names each one that could not be, in the server's words", () => {
    const summary = summarizeCancelAll(
      [outcome("ord_1", 200), outcome("ord_2", 200), outcome("ord_3", 200), outcome("ord_4", 409, "Order ord_4 is already FILLED")],
      describeOrder,
    );
    expect(summary.text).toBe("3 cancelled, 1 could not be: BUY 10 AAPL (ord_4): Order ord_4 is already FILLED");
    expect(summary.done).toBe(3);
    expect(summarizeCancelAll([outcome("ord_1", 200)], describeOrder).text).toBe("1 cancelled.");
    expect(summarizeCancelAll([outcome("ord_5", 503)], describeOrder).text).toBe("0 cancelled, 1 could not be: BUY 10 AAPL (ord_5): fillwire answered 503");
    expect(summarizeCancelAll([], describeOrder).text).toBe("There were no working orders to cancel.");
  });

  it("counts the closing orders sent and the positions that could not be closed", () => {
    const orders = [{ id: "ord_1" }, { id: "ord_2" }] as Order[];
    expect(summarizeCloseAll({ data: orders, errors: [] }).text).toBe("2 closing orders sent.");
    expect(summarizeCloseAll({ data: orders.slice(0, 1), errors: [{ symbol: "TSLA", message: "The market is closed" }] }).text).toBe(
      "1 closing order sent, 1 could not be: TSLA: The market is closed",
    );
    expect(summarizeCloseAll({ data: [], errors: [] }).text).toBe("There were no positions to close.");
  });
});
