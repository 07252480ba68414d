// Open positions valued at the latest price the page holds: quantity, average cost, market price and
// value, unrealized P&L (and % of cost), realized P&L. The shares move with account.updated (in the render
// of the fill), the prices with every instruments refresh. Close one (all or part) or all, each confirmed.
import { useState } from "react";
import type { TradingState } from "../../../worker/shared/account";
import { money, price, quantity } from "../format";
import { percent, tone, type DeskValue, type PositionRow } from "../positions";
import type { DeskStore } from "../store";
import { ClosePositionDialog, CloseAllDialog } from "./CloseDialogs";

interface Props {
  value: DeskValue | null;
  error: string | null;
  tradingState: TradingState | null;
  store: DeskStore;
}

export function Positions({ value, error, tradingState, store }: Props) {
  const [closing, setClosing] = useState<PositionRow | null>(null);
  const [closingAll, setClosingAll] = useState(false);
  const halted = tradingState === "HALTED";
  const haltedWhy = halted ? "Trading is halted: closing a position places an order, which is refused" : undefined;
  const positions = value?.positions ?? [];

  return (
    <section className="panel positions-panel" aria-labelledby="positions-title" aria-busy={!value && !error}>
      <div className="panel-head">
        <h2 id="positions-title">
          Positions <span className="count">{positions.length > 0 ? `${positions.length} open` : ""}</span>
        </h2>
        <button type="button" className="btn btn-danger btn-small" disabled={positions.length === 0 || halted} title={haltedWhy} onClick={() => setClosingAll(true)}>
          Close all…
        </button>
      </div>
      {!value && !error && <p className="loading">Loading positions…</p>}
      {!value && error && <p className="banner banner-warn">{error}</p>}
      {value && positions.length === 0 && <p className="empty" data-testid="positions-empty">No open positions. Filled buys show here, valued at the latest price.</p>}
      {value && positions.length > 0 && (
        <table className="positions" data-testid="positions">
          <caption className="visually-hidden">Open positions at the latest prices</caption>
          <thead>
            <tr>
              <th scope="col">Symbol</th>
              <th scope="col" className="num">Qty</th>
              <th scope="col" className="num">Avg price</th>
              <th scope="col" className="num">Market price</th>
              <th scope="col" className="num">Market value</th>
              <th scope="col" className="num">Unrealized P&amp;L</th>
              <th scope="col" className="num">Realized P&amp;L</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {positions.map((p) => (
              <tr key={p.symbol} data-symbol={p.symbol}>
                <th scope="row" data-label="Symbol">
                  <div className="cell">{p.symbol}</div>
                </th>
                <td data-label="Qty" className="num">
                  <div className="cell" data-testid="position-qty">{quantity(p.quantity)}</div>
                </td>
                <td data-label="Avg price" className="num">
                  <div className="cell">{price(p.avg_price)}</div>
                </td>
                <td data-label="Market price" className="num">
                  <div className="cell" data-testid="market-price">{price(p.market_price)}</div>
                </td>
                <td data-label="Market value" className="num">
                  <div className="cell" data-testid="market-value">{p.market_value === null ? "—" : money(p.market_value)}</div>
                </td>
                <td data-label="Unrealized P&L" className={`num ${tone(p.unrealized_pl)}`}>
                  <div className="cell">
                    <span data-testid="unrealized-pl">{p.unrealized_pl === null ? "—" : money(p.unrealized_pl)}</span>
                    <span className="sub" data-testid="unrealized-plpc">
                      {percent(p.unrealized_plpc)}
                    </span>
                  </div>
                </td>
                <td data-label="Realized P&L" className={`num ${tone(p.realized_pl)}`}>
                  <div className="cell" data-testid="realized-pl">{money(p.realized_pl)}</div>
                </td>
                <td className="actions">
                  <button type="button" className="btn btn-ghost btn-small" aria-label={`Close ${p.symbol} position`} disabled={halted} title={haltedWhy} onClick={() => setClosing(p)}>
                    Close…
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
          {value && (
            <tfoot>
              <tr>
                <th scope="row">Total</th>
                <td className="num blank" />
                <td className="num blank" />
                <td className="num blank" />
                <td data-label="Market value" className="num">
                  <div className="cell" data-testid="total-market-value">{money(value.market_value)}</div>
                </td>
                <td data-label="Unrealized P&L" className={`num ${tone(value.unrealized_pl)}`}>
                  <div className="cell">{money(value.unrealized_pl)}</div>
                </td>
                <td data-label="Realized P&L" className={`num ${tone(value.realized_pl)}`}>
                  <div className="cell" title="Realized P&L of every sale, closed positions included">{money(value.realized_pl)}</div>
                </td>
                <td className="blank" />
              </tr>
            </tfoot>
          )}
        </table>
      )}
      {closing && <ClosePositionDialog position={positions.find((p) => p.symbol === closing.symbol) ?? closing} store={store} onClose={() => setClosing(null)} />}
      {closingAll && <CloseAllDialog positions={positions} store={store} onClose={() => setClosingAll(false)} />}
    </section>
  );
}
