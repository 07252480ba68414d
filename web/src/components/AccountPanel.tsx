// Cash, reserved cash, buying power and positions; the desk refreshes it after every order event.
import type { Account } from "../../../worker/shared/account";
import type { Instrument } from "../../../worker/shared/orders";
import { money, price, quantity } from "../format";

export function AccountPanel({ account, error, instruments }: { account: Account | null; error: string | null; instruments: Instrument[] | null }) {
  const last = (symbol: string) => instruments?.find((i) => i.symbol === symbol)?.price;
  return (
    <section className="panel account" aria-labelledby="account-title" aria-busy={!account && !error}>
      <h2 id="account-title">Account</h2>
      {error && <p className={account ? "hint stale" : "banner banner-warn"}>{account ? `Not refreshed: ${error}` : error}</p>}
      {!account && !error && <p className="loading">Loading account…</p>}
      {account && (
        <>
          <dl className="balances" data-testid="balances">
            <div>
              <dt>Cash</dt>
              <dd data-testid="cash">{money(account.cash)}</dd>
            </div>
            <div>
              <dt>Reserved</dt>
              <dd data-testid="reserved">{money(account.reserved)}</dd>
            </div>
            <div className="buying-power">
              <dt>Buying power</dt>
              <dd data-testid="buying-power">{money(account.buying_power)}</dd>
            </div>
          </dl>
          <h3>Positions</h3>
          {account.positions.length === 0 ? (
            <p className="empty">No positions yet.</p>
          ) : (
            <div className="table-scroll">
              <table className="positions" data-testid="positions">
                <thead>
                  <tr>
                    <th scope="col">Symbol</th>
                    <th scope="col" className="num">Qty</th>
                    <th scope="col" className="num">Avg price</th>
                    <th scope="col" className="num">P&amp;L</th>
                  </tr>
                </thead>
                <tbody>
                  {account.positions.map((p) => {
                    const mark = last(p.symbol);
                    const pnl = mark === undefined ? null : (mark - p.avg_price) * p.quantity;
                    return (
                      <tr key={p.symbol} data-symbol={p.symbol}>
                        <th scope="row">{p.symbol}</th>
                        <td className="num">{quantity(p.quantity)}</td>
                        <td className="num">{price(p.avg_price)}</td>
                        <td className={`num ${pnl === null ? "" : pnl < 0 ? "neg" : pnl > 0 ? "pos" : ""}`} title={mark === undefined ? undefined : `Value ${money(mark * p.quantity)} at ${price(mark)}`}>{pnl === null ? "—" : money(pnl)}</td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            </div>
          )}
        </>
      )}
    </section>
  );
}
