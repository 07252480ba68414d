// What "Cancel all" and "Close all" share: the action's state (sending, its one-line summary, or the error
// that stopped it), the summary with its Done button, and the refusal banner.
import { useState } from "react";
import { ApiFailure } from "../api";
import type { OutcomeSummary } from "../positions";

/** Runs a bulk action once confirmed: `failure` is said when it could not be sent (else the server's words). */
export function useBulkAction(run: () => Promise<OutcomeSummary>, failure: string) {
  const [sending, setSending] = useState(false);
  const [result, setResult] = useState<OutcomeSummary | null>(null);
  const [error, setError] = useState<string | null>(null);
  async function confirm() {
    setSending(true);
    setError(null);
    try {
      setResult(await run());
    } catch (err) {
      setError(err instanceof ApiFailure ? err.message : failure);
    } finally {
      setSending(false);
    }
  }
  return { sending, result, error, confirm };
}

/** The outcome of a bulk action (a warning when some of it could not be done), and Done. */
export function BulkResult({ result, testId, onDone }: { result: OutcomeSummary; testId: string; onDone: () => void }) {
  return (
    <>
      <p className={`banner ${result.failures.length > 0 ? "banner-warn" : "banner-success"}`} role="status" data-testid={testId}>
        {result.text}
      </p>
      <div className="modal-buttons">
        <button type="button" className="btn btn-primary" onClick={onDone} autoFocus>
          Done
        </button>
      </div>
    </>
  );
}

/** The server's refusal of the action, verbatim. */
export function ErrorBanner({ error }: { error: string | null }) {
  return error ? (
    <p className="banner banner-error" role="alert">
      {error}
    </p>
  ) : null;
}
