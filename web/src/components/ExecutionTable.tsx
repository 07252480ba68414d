// Execution log rows, newest first, as the compliance report lists them; one card per row on a phone.
import type { ExecutionRow } from "../../../worker/shared/compliance";
import { utcTimestamp } from "../compliance";
import { fullTime } from "../format";

const blank = (value: string | number | null) => value === null || value === "";
const dash = (value: string | number | null) => (blank(value) ? <span className="muted">—</span> : value);
/** Empty cells are left out of a phone's card (the table keeps them, aligned). */
const cell = (value: string | number | null, className = "") => (blank(value) ? `${className} blank`.trim() : className || undefined);

export function ExecutionTable({ rows }: { rows: ExecutionRow[] }) {
  return (
    <div className="table-scroll">
      <table className="executions" data-testid="executions">
        <caption className="visually-hidden">Execution log rows, newest first</caption>
        <thead>
          <tr>
            <th scope="col">Time (UTC)</th>
            <th scope="col">Trader</th>
            <th scope="col">Order</th>
            <th scope="col">Symbol</th>
            <th scope="col">Side</th>
            <th scope="col">Action</th>
            <th scope="col">Status</th>
            <th scope="col">Reason</th>
            <th scope="col">Error code</th>
            <th scope="col" className="num">
              Retry
            </th>
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={row.id} data-log-id={row.id} data-action={row.action} data-trader={row.trader_id}>
              <td data-label="Time (UTC)" className="nowrap">
                <time dateTime={row.timestamp} title={`${fullTime(row.timestamp)} your local time`}>
                  {utcTimestamp(row.timestamp)}
                </time>
              </td>
              <td data-label="Trader">{row.trader_id}</td>
              <td data-label="Order">
                <span className="log-order-id">{row.order_id}</span>
                {row.parent_order_id && (
                  <span className="log-parent-id muted" title="This order is a leg of a bracket, OCO or OTO">
                    {" "}leg of {row.parent_order_id}
                  </span>
                )}
              </td>
              <td data-label="Symbol">{row.symbol}</td>
              <td data-label="Side">
                <span className={`side-tag side-${row.side.toLowerCase()}`}>{row.side}</span>
              </td>
              <td data-label="Action">
                <strong>{row.action}</strong>
              </td>
              <td data-label="Status">
                <span className={`badge badge-${row.status.toLowerCase()}`}>{row.status}</span>
              </td>
              <td data-label="Reason" className={cell(row.reason, "log-reason")}>
                {dash(row.reason)}
              </td>
              <td data-label="Error code" className={cell(row.error_code)}>{row.error_code ? <code>{row.error_code}</code> : dash(null)}</td>
              <td data-label="Retry" className={cell(row.retry_attempt, "num")}>
                {dash(row.retry_attempt)}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
