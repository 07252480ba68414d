// The trader's desk: ticket and account on the left, the live blotter on the right; on a phone one column
// in the order a trader needs: ticket, orders, account.
import { useEffect, useMemo, useState, useSyncExternalStore } from "react";
import { createApi } from "../api";
import type { Session } from "../session";
import { DeskStore } from "../store";
import { Header } from "./Header";
import { ConnectionIndicator } from "./ConnectionIndicator";
import { Ticket } from "./Ticket";
import { AccountPanel } from "./AccountPanel";
import { Blotter } from "./Blotter";
import { AuditDrawer } from "./AuditDrawer";
import { Toasts } from "./Toasts";

export function TraderDesk({ session, onSignOut, onExpired }: { session: Session; onSignOut: () => void; onExpired: () => void }) {
  const store = useMemo(() => new DeskStore(createApi(() => session.token, onExpired), session.token), [session.token, onExpired]);
  useEffect(() => {
    store.start();
    return () => store.stop();
  }, [store]);
  const state = useSyncExternalStore(store.subscribe, store.getState);
  const [auditOf, setAuditOf] = useState<string | null>(null);

  return (
    <div className="app">
      <Header session={session} onSignOut={onSignOut}>
        <ConnectionIndicator status={state.feed} lastSeq={state.blotter.lastSeq} onReconnect={() => store.reconnectNow()} />
      </Header>
      <main className="desk" id="main">
        <Ticket store={store} instruments={state.instruments} instrumentsError={state.instrumentsError} account={state.account} />
        <Blotter state={state} store={store} onAudit={setAuditOf} />
        <AccountPanel account={state.account} error={state.accountError} instruments={state.instruments} />
      </main>
      {auditOf && <AuditDrawer store={store} order={state.blotter.orders[auditOf]} orderId={auditOf} onClose={() => setAuditOf(null)} />}
      <Toasts toasts={state.toasts} onDismiss={(id) => store.dismissToast(id)} />
    </div>
  );
}
