import type { AuditEntry } from "../../../worker/shared/orders";
import { fullTime, preciseClock } from "../format";

/** Audit rows, oldest first, as compliance reads them. */
export function AuditTable({ rows }: { rows: AuditEntry[] }) {
  if (rows.length === 0) return <p className="empty">No audit rows.</p>;
  return (
    <table className="compact audit" data-testid="audit-trail">
      <thead>
        <tr>
          <th scope="col">Time</th>
          <th scope="col">Action</th>
          <th scope="col">Status</th>
          <th scope="col">Details</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((row) => (
          <tr key={row.id} data-action={row.action}>
            <td>
              <time dateTime={row.timestamp} title={fullTime(row.timestamp)}>
                {preciseClock(row.timestamp)}
              </time>
            </td>
            <td>{row.action}</td>
            <td>{row.status}</td>
            <td>
              {[row.reason, row.error_code && `error ${row.error_code}`, row.retry_attempt !== null && `retry ${row.retry_attempt}`].filter(Boolean).join(" · ") || "—"}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
