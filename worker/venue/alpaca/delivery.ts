// Delivers the link's owed reports to the desks (TraderDesk.onExecutionReport), at least once: one pass at
// a time (another follows when more came meanwhile), a report whose desk did not take it is retried by the
// alarm, and an order whose submit has not answered yet is held until it does (or its hold runs out).
import type { LinkLedger } from "./ledger";

const DELIVERY_TIMEOUT_MS = 5000;
const DELIVERY_RETRY_MS = 1000;

export class ReportDelivery {
  private running: Promise<void> | null = null;
  private again = false;

  constructor(
    private readonly ledger: LinkLedger,
    private readonly desk: (traderId: string) => Pick<DurableObjectStub<import("../../trader/desk").TraderDesk>, "onExecutionReport">,
    private readonly wakeAt: (at: number) => Promise<void>,
    private readonly waitUntil: (work: Promise<unknown>) => void,
  ) {}

  /** Starts a pass (or asks the running one for another); `settled()` waits for the passes to end. */
  deliver(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.pass().finally(() => {
      this.running = null;
      if (this.again) {
        this.again = false;
        this.deliver();
      }
    });
    this.waitUntil(this.running);
  }

  async settled(): Promise<void> {
    while (this.running) await this.running;
  }

  private async pass(): Promise<void> {
    const owed = this.ledger.owed.due(Date.now());
    const results = await Promise.allSettled(owed.map(async ({ order_id, trader_id, version }) => {
      const report = this.ledger.report(order_id);
      if (report) {
        const { unbooked } = await withTimeout(this.desk(trader_id).onExecutionReport(report), DELIVERY_TIMEOUT_MS);
        // Executions of an order its desk had already ended: on its audit trail (UNBOOKED), and counted here.
        if (unbooked.length > 0) this.ledger.keepUnbooked(order_id, unbooked);
      }
      this.ledger.owed.delivered(order_id, version);
    }));
    const failed = results.filter((r) => r.status === "rejected").length;
    if (failed > 0) {
      console.warn(`alpaca link: ${failed} reports not delivered, retried by alarm`);
      await this.wakeAt(Date.now() + DELIVERY_RETRY_MS);
    }
    const release = this.ledger.owed.nextRelease();
    if (release !== null) await this.wakeAt(release);
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => timer !== undefined && clearTimeout(timer));
}
