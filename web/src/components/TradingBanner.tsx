// While an administrator has the account HALTED or REDUCE_ONLY: what the trader can and cannot do.
import type { TradingState } from "../../../worker/shared/account";

export const TRADING_NOTES: Record<Exclude<TradingState, "ACTIVE">, { title: string; text: string }> = {
  HALTED: {
    title: "Trading is halted on this account.",
    text: "New orders, amends and closing positions are refused until an administrator reopens it; you can still cancel working orders.",
  },
  REDUCE_ONLY: {
    title: "This account is reduce-only.",
    text: "Buying is disabled: you can sell what you hold, close positions, lower a buy order's quantity and cancel orders.",
  },
};

export function TradingBanner({ state }: { state: TradingState | null }) {
  // The live region stays mounted, so a state pushed while the page is open is announced.
  const note = state && state !== "ACTIVE" ? TRADING_NOTES[state] : null;
  return (
    <div className="trading-state" role="status" aria-live="polite">
      {note && (
        <p className={`banner ${state === "HALTED" ? "banner-error" : "banner-warn"}`} data-testid="trading-banner" data-state={state}>
          <strong>{note.title}</strong> {note.text}
        </p>
      )}
    </div>
  );
}
