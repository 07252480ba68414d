// Late orders: orders fillwire gave up (every retry lost, or cancelled while their POST was lost) that reach
// Alpaca after all, found on the stream, in a send's answer, in a reconcile's open orders or in the FILL
// activities. Each is marked in the link's ledger (orders.late), counted once (late_orders), and cancelled
// at Alpaca until Alpaca says it ended. What one traded before its cancel reaches its desk as executions of
// an ended order: not booked, on the audit trail as UNBOOKED (lifecycle.ts), counted in unbooked_fills.
import type { AlpacaClient } from "./client";
import type { LinkLedger } from "./ledger";
import { parseClientOrderId } from "./mapping";
import type { AlpacaOrder } from "./wire";

export class LateOrders {
  constructor(
    private readonly ledger: LinkLedger,
    private readonly client: AlpacaClient,
    private readonly waitUntil: (work: Promise<unknown>) => void,
    /** Asks for a reconcile soon (the link's alarm), which cancels again what is still working. */
    private readonly retryLater: () => void,
  ) {}

  /**
   * `orders` (each as Alpaca has it, already observed by the ledger) are late: marked and counted, then every
   * late order still working is cancelled. Called with none by each reconcile, to cancel again.
   */
  arrived(orders: readonly AlpacaOrder[]): void {
    for (const order of orders) {
      if (this.ledger.markLate(parseClientOrderId(order.client_order_id).orderId)) {
        console.error(`alpaca link: order ${order.id} (${order.client_order_id}) reached Alpaca after fillwire gave it up (${order.status} there); cancelling it`);
      }
    }
    this.cancelWorking();
  }

  /** Sends a cancel for every late order still working at Alpaca; one that fails asks for a reconcile. */
  private cancelWorking(): void {
    for (const { orderId, alpacaId } of this.ledger.lateWorking()) {
      this.waitUntil(this.client.cancelOrder(alpacaId).then(
        (sent) => void (sent.outcome === "refused" && console.warn(`alpaca link: late order ${orderId}: Alpaca refused the cancel (${sent.message})`)),
        (err: unknown) => {
          console.error(`alpaca link: late order ${orderId}: cancel failed, tried again by the next reconcile`, String(err));
          this.retryLater();
        },
      ));
    }
  }
}
