// The confirmations behind "Close…" (all of a position, a number of shares or a percentage, sold at
// market) and "Close all…" (every position), with the server's refusal verbatim.
import { useId, useState } from "react";
import { ApiFailure } from "../api";
import { money, price, quantity } from "../format";
import { closeDraft, toCloseRequest, type CloseDraft, type PositionRow } from "../positions";
import type { DeskStore } from "../store";
import { BulkResult, ErrorBanner, useBulkAction } from "./BulkAction";
import { Dialog } from "./Dialog";

export function ClosePositionDialog({ position, store, onClose }: { position: PositionRow; store: DeskStore; onClose: () => void }) {
  const id = useId();
  const [draft, setDraft] = useState<CloseDraft>(closeDraft);
  const [sending, setSending] = useState(false);
  const [banner, setBanner] = useState<string | null>(null);
  const [checked, setChecked] = useState(false);
  const request = toCloseRequest(position.quantity, draft);
  const shownError = checked && !request.ok ? request : null;

  const update = (patch: Partial<CloseDraft>) => {
    setDraft({ ...draft, ...patch });
    setBanner(null);
  };

  async function confirm(close: () => void) {
    setChecked(true);
    if (!request.ok || sending) return;
    setSending(true);
    setBanner(null);
    try {
      await store.closePosition(position.symbol, request.query);
      close();
    } catch (err) {
      setBanner(err instanceof ApiFailure ? err.message : "The closing order could not be sent; try again.");
      setSending(false);
    }
  }

  const invalid = (field: "quantity" | "percentage") => (shownError?.field === field ? { "aria-invalid": true, "aria-describedby": `${id}-error` } : {});

  return (
    <Dialog title={`Close ${position.symbol} position`} onClose={onClose} testId="close-position-dialog">
      {(close) => (
        <form
          noValidate
          onSubmit={(e) => {
            e.preventDefault();
            void confirm(close);
          }}
        >
          {banner && (
            <p className="banner banner-error" role="alert" data-testid="close-error">
              {banner}
            </p>
          )}
          <p className="muted">
            You hold {quantity(position.quantity)} {position.symbol} at an average {price(position.avg_price)}
            {position.market_price !== null ? `; last ${price(position.market_price)}` : ""}.
          </p>
          <fieldset className="close-choice">
            <legend>How much to sell</legend>
            <label className="choice">
              <input type="radio" name="mode" value="all" checked={draft.mode === "all"} onChange={() => update({ mode: "all" })} />
              <span>All {quantity(position.quantity)} shares</span>
            </label>
            <label className="choice">
              <input type="radio" name="mode" value="quantity" checked={draft.mode === "quantity"} onChange={() => update({ mode: "quantity" })} />
              <span>Shares</span>
            </label>
            {draft.mode === "quantity" && (
              <div className="field choice-input">
                <label htmlFor={`${id}-quantity`}>Shares to sell</label>
                <input id={`${id}-quantity`} type="number" inputMode="numeric" min={1} max={position.quantity} step={1} value={draft.quantity} autoFocus onChange={(e) => update({ quantity: e.target.value })} {...invalid("quantity")} />
              </div>
            )}
            <label className="choice">
              <input type="radio" name="mode" value="percentage" checked={draft.mode === "percentage"} onChange={() => update({ mode: "percentage" })} />
              <span>Percentage</span>
            </label>
            {draft.mode === "percentage" && (
              <div className="field choice-input">
                <label htmlFor={`${id}-percentage`}>Percent of the position</label>
                <input id={`${id}-percentage`} type="number" inputMode="decimal" min={1} max={100} step={1} value={draft.percentage} autoFocus onChange={(e) => update({ percentage: e.target.value })} {...invalid("percentage")} />
              </div>
            )}
          </fieldset>
          {shownError && (
            <p className="field-error" id={`${id}-error`}>
              {shownError.error}
            </p>
          )}
          <p className="confirm-line" data-testid="close-summary">
            {request.ok
              ? `Sells ${quantity(request.shares)} of ${quantity(position.quantity)} ${position.symbol} at market${position.market_price !== null ? ` (about ${money(request.shares * position.market_price)})` : ""}. Working SELL orders in ${position.symbol} are cancelled first.`
              : " "}
          </p>
          <div className="modal-buttons">
            <button type="button" className="btn btn-ghost" onClick={close}>
              Keep it
            </button>
            <button type="submit" className="btn btn-danger-solid" disabled={sending} aria-busy={sending}>
              {sending ? "Sending…" : request.ok ? `Sell ${quantity(request.shares)} ${position.symbol}` : `Sell ${position.symbol}`}
            </button>
          </div>
        </form>
      )}
    </Dialog>
  );
}

export function CloseAllDialog({ positions, store, onClose }: { positions: PositionRow[]; store: DeskStore; onClose: () => void }) {
  const { sending, result, error, confirm } = useBulkAction(() => store.closeAllPositions(), "The closing orders could not be sent; try again.");

  return (
    <Dialog title="Close all positions" onClose={onClose} testId="close-all-dialog">
      {(close) =>
        result ? (
          <BulkResult result={result} testId="close-all-result" onDone={close} />
        ) : (
          <>
            <ErrorBanner error={error} />
            <p>Sell every position at market, one order each (working SELL orders are cancelled first):</p>
            <ul className="close-list">
              {positions.map((p) => (
                <li key={p.symbol}>
                  <strong>{p.symbol}</strong> {quantity(p.quantity)} shares{p.market_value !== null ? ` · about ${money(p.market_value)}` : ""}
                </li>
              ))}
            </ul>
            <div className="modal-buttons">
              <button type="button" className="btn btn-ghost" onClick={close} autoFocus>
                Keep them
              </button>
              <button type="button" className="btn btn-danger-solid" disabled={sending || positions.length === 0} aria-busy={sending} onClick={() => void confirm()}>
                {sending ? "Sending…" : `Close ${positions.length} ${positions.length === 1 ? "position" : "positions"}`}
              </button>
            </div>
          </>
        )
      }
    </Dialog>
  );
}
