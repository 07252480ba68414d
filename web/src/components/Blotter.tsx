// The trader's orders, newest first, live: status with filled/total, average price, each fill, Amend
// (in place, under the row) and Cancel while the order works, the audit trail behind "Audit", and
// "Cancel all" (every working order, or one symbol's) behind a confirmation. A bracket, oto or oco lists
// its legs indented under it, each with its own status (HELD until the entry fills) and buttons; a
// trailing stop shows its trail, its mark (hwm) and where its stop stands now.
import { Fragment, useState } from "react";
import type { OrderClass } from "../../../worker/shared/orders";
import { canAmend } from "../amend";
import { blotterRows, isWorking, legRole, statusLabel, trailLabel, type OrderView } from "../blotter";
import { clock, fullTime, price, quantity } from "../format";
import type { DeskState, DeskStore } from "../store";
import { AmendForm } from "./AmendForm";
import { CancelAllDialog } from "./CancelAllDialog";

type Filter = "all" | "working" | "done";
const FILTERS: { value: Filter; label: string }[] = [
  { value: "all", label: "All" },
  { value: "working", label: "Working" },
  { value: "done", label: "Done" },
];
const SHOWN_FILLS = 3;
const CLASS_TAGS: Record<OrderClass, string | null> = { simple: null, bracket: "Bracket", oto: "OTO", oco: "OCO" };

export function Blotter({ state, store, onAudit }: { state: DeskState; store: DeskStore; onAudit: (orderId: string) => void }) {
  const [filter, setFilter] = useState<Filter>("all");
  const [editing, setEditing] = useState<string | null>(null);
  const [confirmCancelAll, setConfirmCancelAll] = useState(false);
  const { blotter, orders } = state;
  const halted = state.account?.trading_state === "HALTED";
  /** Close the amend form and give the focus back to the row's Amend button (or the row's first button). */
  const closeEditor = (id: string) => {
    setEditing(null);
    requestAnimationFrame(() => document.querySelector<HTMLElement>(`tr[data-order-id="${id}"] .actions button:not(:disabled)`)?.focus());
  };
  const rows = blotterRows(blotter, (o) => filter === "all" || (filter === "working" ? isWorking(o) : !isWorking(o)));
  const hasLegs = new Set(rows.flatMap((r) => (r.depth === 1 && r.order.parent_order_id ? [r.order.parent_order_id] : [])));
  const working = blotter.ids.filter((id) => isWorking(blotter.orders[id]!)).length;

  return (
    <section className="panel blotter" aria-labelledby="blotter-title">
      <div className="panel-head">
        <h2 id="blotter-title">
          Orders <span className="count">{blotter.ids.length > 0 ? `${working} working · ${blotter.ids.length} shown` : ""}</span>
        </h2>
        <div className="panel-tools">
          <div className="filters" role="group" aria-label="Show orders">
            {FILTERS.map((f) => (
              <button key={f.value} type="button" className="chip" aria-pressed={filter === f.value} onClick={() => setFilter(f.value)}>
                {f.label}
              </button>
            ))}
          </div>
          <button type="button" className="btn btn-danger btn-small" disabled={working === 0} onClick={() => setConfirmCancelAll(true)}>
            Cancel all…
          </button>
        </div>
      </div>

      {orders.status === "loading" && blotter.ids.length === 0 && <p className="loading" data-testid="orders-loading">Loading your orders…</p>}
      {orders.status === "error" && blotter.ids.length === 0 && (
        <div className="banner banner-warn">
          {orders.error}{" "}
          <button type="button" className="btn btn-link" onClick={() => store.retrySnapshot()}>
            Try again
          </button>
        </div>
      )}
      {orders.status === "ready" && blotter.ids.length === 0 && (
        <p className="empty" data-testid="orders-empty">
          No orders yet. Place one with the ticket; it appears here and updates live.
        </p>
      )}
      {blotter.ids.length > 0 && rows.length === 0 && <p className="empty">No {filter} orders.</p>}

      {rows.length > 0 && (
        <table className="orders" data-testid="blotter">
          <caption className="visually-hidden">Your orders, newest first</caption>
          <thead>
            <tr>
              <th scope="col">Time</th>
              <th scope="col">Order</th>
              <th scope="col">Type</th>
              <th scope="col">Status</th>
              <th scope="col" className="num">Avg price</th>
              <th scope="col">Fills</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {rows.map(({ order, depth }) => (
              <Fragment key={order.id}>
                <OrderRow
                  order={order}
                  leg={depth === 1 || order.parent_order_id !== null}
                  hasLegs={hasLegs.has(order.id)}
                  editing={editing === order.id}
                  halted={halted}
                  onAmend={() => setEditing(editing === order.id ? null : order.id)}
                  onCancel={() => store.cancel(order.id)}
                  onAudit={() => onAudit(order.id)}
                />
                {editing === order.id && (
                  <tr className="amend-row" data-amends={order.id}>
                    <td colSpan={7} className="amend-cell">
                      <AmendForm order={order} store={store} instrument={state.instruments?.find((i) => i.symbol === order.symbol)} onDone={() => closeEditor(order.id)} />
                    </td>
                  </tr>
                )}
              </Fragment>
            ))}
          </tbody>
        </table>
      )}
      {orders.nextCursor && (
        <button type="button" className="btn btn-ghost more" disabled={orders.loadingMore} onClick={() => void store.loadMore()}>
          {orders.loadingMore ? "Loading…" : "Load older orders"}
        </button>
      )}
      {confirmCancelAll && <CancelAllDialog state={state} store={store} onClose={() => setConfirmCancelAll(false)} />}
    </section>
  );
}

interface RowProps {
  order: OrderView;
  /** A leg (listed under its parent when the parent is loaded). */
  leg: boolean;
  hasLegs: boolean;
  editing: boolean;
  halted: boolean;
  onAmend: () => void;
  onCancel: () => Promise<void>;
  onAudit: () => void;
}

function OrderRow({ order, leg, hasLegs, editing, halted, onAmend, onCancel, onAudit }: RowProps) {
  const [cancelling, setCancelling] = useState(false);
  const working = isWorking(order);
  const name = `${order.side} ${quantity(order.quantity)} ${order.symbol}`;
  const trailing = order.order_type === "TRAILING_STOP";
  const limits = [!trailing && order.stop_price !== null ? `stop ${price(order.stop_price)}` : null, order.price !== null ? `limit ${price(order.price)}` : null].filter(Boolean);
  const trail = trailLabel(order);
  const shown = order.fills.slice(-SHOWN_FILLS);
  const classTag = leg || order.order_class === null ? null : CLASS_TAGS[order.order_class];
  const rowClass = [working ? "working" : "done", leg ? "leg" : null, hasLegs ? "has-legs" : null].filter(Boolean).join(" ");

  return (
    <tr data-order-id={order.id} data-status={order.status} data-parent-id={order.parent_order_id ?? undefined} className={rowClass}>
      <td data-label="Time">
        <div className="cell">
          <time dateTime={order.created_at} title={fullTime(order.created_at)}>
            {clock(order.created_at)}
          </time>
        </div>
      </td>
      <td data-label="Order">
        <div className="cell">
          {leg && (
            <span className="leg-role" data-testid="leg-role" title={order.parent_order_id ? `Exit of ${order.parent_order_id}` : undefined}>
              {legRole(order)}
            </span>
          )}
          {classTag && (
            <span className="class-tag" data-testid="order-class">
              {classTag}
            </span>
          )}
          <span className={`side-tag side-${order.side.toLowerCase()}`}>{order.side}</span> <strong>{quantity(order.quantity)}</strong>{" "}
          <strong className="symbol">{order.symbol}</strong>
          <span className="order-id" title={order.id}>
            {order.id}
          </span>
        </div>
      </td>
      <td data-label="Type">
        <div className="cell">
          {order.order_type.replace("_", " ")}
          {limits.length > 0 && <span className="sub">{limits.join(" · ")}</span>}
          {trailing && (
            <span className="sub trail" data-testid="trail">
              trail <span data-testid="trail-by">{trail ?? "—"}</span> · hwm <span data-testid="hwm">{price(order.hwm)}</span> · stop{" "}
              <span data-testid="trail-stop">{price(order.stop_price)}</span>
            </span>
          )}
          {order.time_in_force && <span className="sub">{order.time_in_force}</span>}
        </div>
      </td>
      <td data-label="Status">
        <div className="cell">
          <span key={order.status} className={`badge badge-${order.status.toLowerCase()}`} data-testid="status">
            {statusLabel(order)}
          </span>
          {order.reason && (!working || order.status === "HELD") && <span className="sub reason">{order.reason}</span>}
        </div>
      </td>
      <td data-label="Avg price" className="num">
        <div className="cell" data-testid="avg-price">
          {price(order.avg_fill_price)}
        </div>
      </td>
      <td data-label="Fills">
        <div className="cell">
          {order.fills.length === 0 ? (
            <span className="muted">{order.filled_quantity > 0 ? `${quantity(order.filled_quantity)} filled` : "—"}</span>
          ) : (
            <ul className="fills" data-testid="fills">
              {order.fills.length > shown.length && <li className="muted">+{order.fills.length - shown.length} earlier</li>}
              {shown.map((f) => (
                <li key={f.id} data-fill-id={f.id}>
                  {quantity(f.quantity)} @ {price(f.price)} <time dateTime={f.timestamp}>{clock(f.timestamp)}</time>
                </li>
              ))}
            </ul>
          )}
        </div>
      </td>
      <td className="actions">
        {canAmend(order) && (
          <button
            type="button"
            className="btn btn-ghost btn-small"
            aria-expanded={editing}
            aria-label={`Amend ${name}`}
            disabled={halted && !editing}
            title={halted ? "Trading is halted: amends are refused" : undefined}
            onClick={onAmend}
          >
            Amend
          </button>
        )}
        {working && (
          <button
            type="button"
            className="btn btn-danger btn-small"
            disabled={cancelling}
            aria-label={`Cancel ${name}`}
            onClick={() => {
              setCancelling(true);
              void onCancel().finally(() => setCancelling(false));
            }}
          >
            {cancelling ? "Cancelling…" : "Cancel"}
          </button>
        )}
        <button type="button" className="btn btn-ghost btn-small" aria-label={`Audit trail of ${name}`} onClick={onAudit}>
          Audit
        </button>
      </td>
    </tr>
  );
}
