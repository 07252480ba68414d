// Admin: the venue link's state, read every few seconds. For Alpaca: the trade_updates stream (state,
// connected since, last event, reconnects, last reconcile, why it is down and when it tries again) and
// the link's books (working and held orders, fills applied, reports owed); for the simulator, one line.
import { useEffect, useId, useState, type ReactNode } from "react";
import { clock, quantity } from "../format";
import { ago, linkBadge, until, VENUE_POLL_MS, VenuePoller, type AlpacaLinkStatus, type VenueRead, type VenueStatus } from "../venue-link";

/** The "Venue link" panel; `load` reads GET /api/v1/admin/venue (polling stops when the panel unmounts). */
export function VenueLink({ load }: { load: () => Promise<VenueStatus> }) {
  const id = useId();
  const [read, setRead] = useState<VenueRead>({ phase: "loading" });
  useEffect(() => {
    const poller = new VenuePoller(load, setRead);
    poller.start();
    return () => poller.stop();
  }, [load]);

  const status = read.phase === "loading" ? null : read.status;
  const state = status === null ? "unknown" : status.exchange === "simulated" ? "simulated" : status.stream.state;
  return (
    <section className="panel venue-link" aria-labelledby={`${id}-title`} data-testid="venue-link" data-state={state}>
      <div className="panel-head">
        <h2 id={`${id}-title`}>Venue link</h2>
        {status?.exchange === "alpaca" && <LinkStateBadge status={status} />}
      </div>
      {read.phase === "failed" && (
        <p className={`banner ${status ? "banner-warn" : "banner-error"}`} role="status" data-testid="venue-link-error">
          Could not read the venue link: {read.error}
          {read.readAt !== null && <> (showing the state read at {clock(new Date(read.readAt).toISOString())})</>}
        </p>
      )}
      {read.phase === "loading" && <p className="loading">Reading the venue link…</p>}
      {status?.exchange === "simulated" && (
        <p className="venue-sim" role="status" data-testid="venue-sim">
          <span className="venue-sim-glyph" aria-hidden="true">✓</span> Simulated venue — ok
        </p>
      )}
      {status?.exchange === "alpaca" && read.phase !== "loading" && read.readAt !== null && <AlpacaLink status={status} readAt={read.readAt} />}
    </section>
  );
}

/** The stream's state as a badge; a live region, so a change of state is announced (and only a change). */
function LinkStateBadge({ status }: { status: AlpacaLinkStatus }) {
  const badge = linkBadge(status.stream.state);
  return (
    <span className={`badge link-badge link-${badge.tone}`} role="status" data-testid="venue-link-state">
      <span className="visually-hidden">Alpaca stream: </span>
      <span aria-hidden="true">{badge.glyph}</span> {badge.label}
    </span>
  );
}

/** A past or coming time as "12 s ago" / "in 4 s", the exact ISO time on hover. */
function When({ iso, text }: { iso: string; text: string }) {
  return (
    <time dateTime={iso} title={iso}>
      {text}
    </time>
  );
}

/** The time now, once a second: relative times count between reads (the live region does not change). */
function useSecondClock(): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, []);
  return now;
}

function AlpacaLink({ status, readAt }: { status: AlpacaLinkStatus; readAt: number }) {
  const now = Math.max(useSecondClock(), readAt);
  const { stream, orders } = status;
  const badge = linkBadge(stream.state);
  const since = (iso: string | null, none: string) => (iso === null ? <span className="muted">{none}</span> : <When iso={iso} text={ago(iso, now)} />);
  const facts: { label: string; value: ReactNode; testId: string }[] = [
    { label: "Connected since", value: since(stream.connected_since, "not connected"), testId: "venue-connected-since" },
    { label: "Last event", value: since(stream.last_event_at, "none yet"), testId: "venue-last-event" },
    { label: "Last reconcile", value: since(stream.last_reconcile_at, "none yet"), testId: "venue-last-reconcile" },
    { label: "Reconnects", value: quantity(stream.reconnects), testId: "venue-reconnects" },
    { label: "Working orders", value: quantity(orders.working), testId: "venue-working" },
    { label: "Held orders", value: quantity(orders.held), testId: "venue-held" },
    { label: "Fills applied", value: quantity(status.fills_applied), testId: "venue-fills" },
    { label: "Reports owed", value: quantity(status.reports_owed), testId: "venue-owed" },
  ];
  return (
    <>
      <p className="venue-where">
        Alpaca · <code>{status.api_url}</code>
      </p>
      {badge.meaning && (
        <div className={`venue-trouble venue-trouble-${badge.tone}`} data-testid="venue-trouble">
          <p>{badge.meaning}</p>
          {stream.last_error && (
            <p>
              <strong>Last error:</strong> <span data-testid="venue-last-error">{stream.last_error}</span>
            </p>
          )}
          {stream.next_attempt_at && (
            <p>
              <strong>Next attempt:</strong> <When iso={stream.next_attempt_at} text={until(stream.next_attempt_at, now)} />
            </p>
          )}
        </div>
      )}
      <dl className="venue-facts">
        {facts.map((f) => (
          <div key={f.label}>
            <dt>{f.label}</dt>
            <dd data-testid={f.testId}>{f.value}</dd>
          </div>
        ))}
      </dl>
      {status.unbooked_fills > 0 && (
        <p className="banner banner-warn venue-note" data-testid="venue-unbooked">
          {quantity(status.unbooked_fills)} execution{status.unbooked_fills === 1 ? "" : "s"} at Alpaca of orders that had already ended, not booked to
          any trader: reconcile the account by hand. Each is on its order's audit trail (action UNBOOKED).
        </p>
      )}
      {status.late_orders > 0 && (
        <p className="hint venue-note">
          {quantity(status.late_orders)} order{status.late_orders === 1 ? "" : "s"} reached Alpaca after fillwire had given {status.late_orders === 1 ? "it" : "them"} up:
          cancelled there unless already ended.
        </p>
      )}
      {status.foreign_events > 0 && (
        <p className="hint venue-note">
          {quantity(status.foreign_events)} stream event{status.foreign_events === 1 ? "" : "s"} for orders that are not fillwire's (ignored).
        </p>
      )}
      <p className="hint">Read every {VENUE_POLL_MS / 1000} s; hover a time for the exact moment.</p>
    </>
  );
}
