import type { FeedStatus } from "../feed";

const LABELS: Record<FeedStatus["phase"], string> = {
  connecting: "Connecting…",
  replaying: "Catching up…",
  live: "Live",
  reconnecting: "Reconnecting…",
  stopped: "Offline",
};

/** Whether order updates are flowing, and a way to retry at once instead of waiting out the backoff. */
export function ConnectionIndicator({ status, lastSeq, onReconnect }: { status: FeedStatus; lastSeq: number | null; onReconnect: () => void }) {
  const detail = status.phase === "reconnecting" && status.attempt > 1 ? ` (attempt ${status.attempt})` : "";
  return (
    <span className={`conn conn-${status.phase}`} data-testid="connection" data-phase={status.phase}>
      <span className="conn-dot" aria-hidden="true" />
      <span role="status" aria-live="polite" title={lastSeq === null ? "No events yet" : `Last event #${lastSeq}`}>
        <span className="visually-hidden">Order updates: </span>
        {LABELS[status.phase]}
        {detail}
      </span>
      {status.phase === "reconnecting" && (
        <button type="button" className="btn btn-link" onClick={onReconnect}>
          Retry now
        </button>
      )}
    </span>
  );
}
