// "Cancel all" behind a confirmation: every working order, or one symbol's; then each order's outcome in
// one line ("3 cancelled, 1 could not be: …"), each refusal in the server's words.
import { useId, useState } from "react";
import { isWorking } from "../blotter";
import type { DeskState, DeskStore } from "../store";
import { BulkResult, ErrorBanner, useBulkAction } from "./BulkAction";
import { Dialog } from "./Dialog";

export function CancelAllDialog({ state, store, onClose }: { state: DeskState; store: DeskStore; onClose: () => void }) {
  const id = useId();
  const { ids, orders } = state.blotter;
  const working = ids.map((i) => orders[i]!).filter(isWorking);
  const symbols = [...new Set(working.map((o) => o.symbol))].sort();
  const [symbol, setSymbol] = useState("");
  const { sending, result, error, confirm } = useBulkAction(() => store.cancelAll(symbol || undefined), "The cancels could not be sent; try again.");
  const count = symbol ? working.filter((o) => o.symbol === symbol).length : working.length;
  const what = `${count} working ${count === 1 ? "order" : "orders"}${symbol ? ` in ${symbol}` : ""}`;

  return (
    <Dialog title="Cancel all orders" onClose={onClose} testId="cancel-all-dialog">
      {(close) =>
        result ? (
          <BulkResult result={result} testId="cancel-all-result" onDone={close} />
        ) : (
          <>
            <ErrorBanner error={error} />
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
