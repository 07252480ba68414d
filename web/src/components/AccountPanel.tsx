// Cash, reserved cash, buying power, equity and P&L. The figures come from the desk's account.updated,
// rendered with the fill or reservation that moved them; equity and unrealized P&L are revalued at the
// latest prices the page holds, as the positions table is.
import type { Account } from "../../../worker/shared/account";
import { money } from "../format";
import { tone, type DeskValue } from "../positions";

export function AccountPanel({ account, value, error }: { account: Account | null; value: DeskValue | null; error: string | null }) {
  return (
    <section className="panel account" aria-labelledby="account-title" aria-busy={!account && !error}>
      <h2 id="account-title">Account</h2>
      {error && <p className={account ? "hint stale" : "banner banner-warn"}>{account ? `Not refreshed: ${error}` : error}</p>}
      {!account && !error && <p className="loading">Loading account…</p>}
      {account && value && (
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
          <div>
            <dt>Equity</dt>
            <dd data-testid="equity">{money(value.equity)}</dd>
          </div>
          <div>
            <dt>Market value</dt>
            <dd data-testid="market-value-total">{money(value.market_value)}</dd>
          </div>
          <div>
            <dt>Unrealized P&amp;L</dt>
            <dd data-testid="account-unrealized" className={tone(value.unrealized_pl)}>
              {money(value.unrealized_pl)}
            </dd>
          </div>
          <div>
            <dt>Realized P&amp;L</dt>
            <dd data-testid="account-realized" className={tone(value.realized_pl)}>
              {money(value.realized_pl)}
            </dd>
          </div>
        </dl>
      )}
    </section>
  );
}
