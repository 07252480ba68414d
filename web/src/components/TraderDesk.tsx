// The trader's desk: ticket and account on the left, positions and the live blotter on the right; on a
// phone one column in the order a trader needs: ticket, orders, positions, account. A banner above all of
// it while the account is HALTED or REDUCE_ONLY.
import { useEffect, useMemo, useRef, useState, useSyncExternalStore } from "react";
import { createApi } from "../api";
import { valueDesk } from "../positions";
import type { Session } from "../session";
import { DeskStore } from "../store";
import { Header } from "./Header";
import { ConnectionIndicator } from "./ConnectionIndicator";
import { Ticket } from "./Ticket";
import { AccountPanel } from "./AccountPanel";
import { Blotter } from "./Blotter";
import { Positions } from "./Positions";
import { AuditDrawer } from "./AuditDrawer";
import { Toasts } from "./Toasts";
import { TradingBanner } from "./TradingBanner";

export function TraderDesk({ session, onSignOut, onExpired }: { session: Session; onSignOut: () => void; onExpired: () => void }) {
  // One store per token: a new onExpired (the parent re-rendered) must not restart the feed and reloads.
  const expired = useRef(onExpired);
  useEffect(() => {
    expired.current = onExpired;
  }, [onExpired]);
  const store = useMemo(() => new DeskStore(createApi(() => session.token, () => expired.current()), session.token), [session.token]);
  useEffect(() => {
    store.start();
    return () => store.stop();
  }, [store]);
  const state = useSyncExternalStore(store.subscribe, store.getState);
  const [auditOf, setAuditOf] = useState<string | null>(null);
  const value = useMemo(() => (state.account ? valueDesk(state.account, state.instruments) : null), [state.account, state.instruments]);
  const tradingState = state.account?.trading_state ?? null;

  return (
    <div className="app">
      <Header session={session} onSignOut={onSignOut}>
        <ConnectionIndicator status={state.feed} lastSeq={state.blotter.lastSeq} onReconnect={() => store.reconnectNow()} />
      </Header>
      <main className="desk" id="main">
        <TradingBanner state={tradingState} />
        <div className="desk-side">
          <Ticket store={store} instruments={state.instruments} instrumentsError={state.instrumentsError} account={state.account} />
          <AccountPanel account={state.account} value={value} error={state.accountError} />
        </div>
        <div className="desk-main">
          <Positions value={value} error={state.accountError} tradingState={tradingState} store={store} />
          <Blotter state={state} store={store} onAudit={setAuditOf} />
        </div>
      </main>
      {auditOf && <AuditDrawer store={store} order={state.blotter.orders[auditOf]} orderId={auditOf} onClose={() => setAuditOf(null)} />}
      <Toasts toasts={state.toasts} onDismiss={(id) => store.dismissToast(id)} />
    </div>
  );
}
