// One order's story: its terms, its fills and every audit row (oldest first), in a modal drawer
// that Escape, the close button or a click outside closes. It reloads as the order moves on.
import { useEffect, useRef, useState } from "react";
import type { AuditEntry } from "../../../worker/shared/orders";
import { statusLabel, type OrderView } from "../blotter";
import { fullTime, preciseClock, price, quantity } from "../format";
import type { DeskStore } from "../store";
import { AuditTable } from "./AuditTable";

export function AuditDrawer({ store, order, orderId, onClose }: { store: DeskStore; order: OrderView | undefined; orderId: string; onClose: () => void }) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [trail, setTrail] = useState<AuditEntry[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const version = order ? `${order.status}/${order.filled_quantity}` : "";

  useEffect(() => {
    const el = dialog.current;
    if (el && !el.open) el.showModal();
  }, []);

  useEffect(() => {
    let current = true;
    void store.hydrate(orderId);
    store.audit(orderId).then(
      (res) => current && (setTrail(res.data), setError(null)),
      (err: unknown) => current && setError(err instanceof Error ? err.message : "Could not load the audit trail"),
    );
    return () => {
      current = false;
    };
  }, [store, orderId, version]);

  return (
    <dialog
      ref={dialog}
      className="drawer"
      aria-labelledby="drawer-title"
      onClose={onClose}
      onClick={(e) => e.target === dialog.current && dialog.current.close()}
      data-testid="audit-drawer"
    >
      <div className="drawer-body">
        <div className="drawer-head">
          <h2 id="drawer-title">{order ? `${order.side} ${quantity(order.quantity)} ${order.symbol}` : "Order"}</h2>
          <button type="button" className="btn btn-ghost" onClick={() => dialog.current?.close()} autoFocus>
            Close
          </button>
        </div>
        <p className="order-id">{orderId}</p>
        {order && (
          <dl className="terms">
            <div><dt>Status</dt><dd><span className={`badge badge-${order.status.toLowerCase()}`}>{statusLabel(order)}</span></dd></div>
            <div><dt>Type</dt><dd>{order.order_type.replace("_", " ")}{order.time_in_force ? ` · ${order.time_in_force}` : ""}</dd></div>
            {order.price !== null && <div><dt>Limit</dt><dd>{price(order.price)}</dd></div>}
            {order.stop_price !== null && <div><dt>Stop</dt><dd>{price(order.stop_price)}</dd></div>}
            <div><dt>Avg price</dt><dd>{price(order.avg_fill_price)}</dd></div>
            <div><dt>Placed</dt><dd>{fullTime(order.created_at)}</dd></div>
            {order.reason && <div className="wide"><dt>Reason</dt><dd>{order.reason}</dd></div>}
          </dl>
        )}

        <h3>Fills</h3>
        {order && order.fills.length > 0 ? (
          <table className="compact">
            <thead><tr><th scope="col">Time</th><th scope="col" className="num">Qty</th><th scope="col" className="num">Price</th></tr></thead>
            <tbody>
              {order.fills.map((f) => (
                <tr key={f.id}><td>{preciseClock(f.timestamp)}</td><td className="num">{quantity(f.quantity)}</td><td className="num">{price(f.price)}</td></tr>
              ))}
            </tbody>
          </table>
        ) : (
          <p className="empty">No fills.</p>
        )}

        <h3>Audit trail</h3>
        {error && <p className="banner banner-warn">{error}</p>}
        {!trail && !error && <p className="loading">Loading audit trail…</p>}
        {trail && <AuditTable rows={trail} />}
      </div>
    </dialog>
  );
}
