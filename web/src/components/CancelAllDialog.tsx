// "Cancel all" behind a confirmation: every working order, or one symbol's; then each order's outcome in
// one line ("3 cancelled, 1 could not be: …"), each refusal in the server's words.
import { useId, useState } from "react";
import { isWorking } from "../blotter";
import type { OutcomeSummary } from "../positions";
import type { DeskState, DeskStore } from "../store";
import { ApiFailure } from "../api";
import { Dialog } from "./Dialog";

export function CancelAllDialog({ state, store, onClose }: { state: DeskState; store: DeskStore; onClose: () => void }) {
  const id = useId();
  const { ids, orders } = state.blotter;
  const working = ids.map((i) => orders[i]!).filter(isWorking);
  const symbols = [...new Set(working.map((o) => o.symbol))].sort();
  const [symbol, setSymbol] = useState("");
  const [sending, setSending] = useState(false);
  const [result, setResult] = useState<OutcomeSummary | null>(null);
  const [error, setError] = useState<string | null>(null);
  const count = symbol ? working.filter((o) => o.symbol === symbol).length : working.length;
  const what = `${count} working ${count === 1 ? "order" : "orders"}${symbol ? ` in ${symbol}` : ""}`;

  async function confirm() {
    setSending(true);
    setError(null);
    try {
      setResult(await store.cancelAll(symbol || undefined));
    } catch (err) {
      setError(err instanceof ApiFailure ? err.message : "The cancels could not be sent; try again.");
    } finally {
      setSending(false);
    }
  }

  return (
    <Dialog title="Cancel all orders" onClose={onClose} testId="cancel-all-dialog">
      {(close) =>
        result ? (
          <>
            <p className={`banner ${result.failures.length > 0 ? "banner-warn" : "banner-success"}`} role="status" data-testid="cancel-all-result">
              {result.text}
            </p>
            <div className="modal-buttons">
              <button type="button" className="btn btn-primary" onClick={close} autoFocus>
                Done
              </button>
            </div>
          </>
        ) : (
          <>
            {error && (
              <p className="banner banner-error" role="alert">
                {error}
              </p>
            )}
            <div className="field">
              <label htmlFor={`${id}-symbol`}>Orders to cancel</label>
              <select id={`${id}-symbol`} value={symbol} onChange={(e) => setSymbol(e.target.value)} disabled={sending}>
                <option value="">All symbols ({working.length} working)</option>
                {symbols.map((s) => (
                  <option key={s} value={s}>
                    {s} only ({working.filter((o) => o.symbol === s).length} working)
                  </option>
                ))}
              </select>
            </div>
            <p>
              Cancel {what}? Shares already filled stay filled.
            </p>
            <div className="modal-buttons">
              <button type="button" className="btn btn-ghost" onClick={close} autoFocus>
                Keep them
              </button>
              <button type="button" className="btn btn-danger-solid" disabled={sending || count === 0} aria-busy={sending} onClick={() => void confirm()}>
                {sending ? "Cancelling…" : `Cancel ${count} ${count === 1 ? "order" : "orders"}`}
              </button>
            </div>
          </>
        )
      }
    </Dialog>
  );
}
