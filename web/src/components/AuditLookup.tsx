// Compliance: the audit trail of any order, by its id.
import { useId, useMemo, useState, type FormEvent } from "react";
import type { AuditEntry } from "../../../worker/shared/orders";
import { createApi } from "../api";
import type { Session } from "../session";
import { AuditTable } from "./AuditTable";

export function AuditLookup({ session, onExpired }: { session: Session; onExpired: () => void }) {
  const id = useId();
  const api = useMemo(() => createApi(() => session.token, onExpired), [session.token, onExpired]);
  const [orderId, setOrderId] = useState("");
  const [rows, setRows] = useState<AuditEntry[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function lookUp(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      setRows((await api.audit(orderId.trim())).data);
    } catch (err) {
      setRows(null);
      setError(err instanceof Error ? err.message : "Could not load the audit trail");
    } finally {
      setBusy(false);
    }
  }

  return (
    <section className="panel" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>Audit trail lookup</h2>
      <form className="inline-form" onSubmit={lookUp}>
        <label htmlFor={`${id}-order`}>Order ID</label>
        <input id={`${id}-order`} value={orderId} onChange={(e) => setOrderId(e.target.value)} placeholder="ord_01J…" spellCheck={false} required />
        <button type="submit" className="btn btn-primary" disabled={busy || orderId.trim() === ""}>
          {busy ? "Loading…" : "Show trail"}
        </button>
      </form>
      {error && <p className="banner banner-error" role="alert">{error}</p>}
      {rows && <AuditTable rows={rows} />}
    </section>
  );
}
