// The desk's background work: the alarm schedule (retries, DAY expiries, the outbox backstop; the
// schedule itself lives in storage) and the outbox flush, paced so that a burst of changes is one D1 batch
// and retried by alarm with backoff while D1 fails.
import type { DeskConfig } from "../config";
import { flushOutbox } from "./outbox";
import type { DeskStore } from "./store";
import { errorText } from "../shared/errors";

const OUTBOX_RETRY_MAX_MS = 30_000;
const OUTBOX_BACKSTOP_MS = 5_000;

export class DeskBackground {
  private flushing: Promise<void> | null = null;
  private flushTimer: ReturnType<typeof setTimeout> | null = null;
  /** The alarm time this instance last armed (null: unknown, e.g. after a restart). */
  private alarmAt: number | null = null;
  private flushAgain = false;
  private outboxFailures = 0;
  /** The stored outbox retry time is known to be clear (set after this instance's first good flush). */
  private outboxRetryCleared = false;

  constructor(
    private readonly ctx: DurableObjectState,
    private readonly store: DeskStore,
    private readonly d1: D1Database,
    private readonly config: DeskConfig,
    private readonly now: () => number,
    /** Work kept outside storage that also needs the alarm (epoch ms, or null): sockets whose token expires. */
    private readonly otherWakeAt: () => number | null = () => null,
  ) {}

  /** The alarm fired: whatever it had armed is gone. */
  alarmFired(): void {
    this.alarmAt = null;
  }

  /**
   * Arm the alarm for the earliest pending work. Records waiting in the outbox count as work (a backstop in
   * case this instance goes away before its flush runs). An alarm already armed at or before that time is
   * left alone: when it fires, it re-arms.
   */
  arm(): void {
    const stored = this.store.nextWakeAt(this.now() + OUTBOX_BACKSTOP_MS);
    const other = this.otherWakeAt();
    const at = stored === null ? other : other === null ? stored : Math.min(stored, other);
    if (at === null) return;
    if (this.alarmAt !== null && this.alarmAt <= at && this.alarmAt > this.now()) return;
    this.alarmAt = at;
    void this.ctx.storage.setAlarm(at);
  }

  /**
   * After a committed change: flush the outbox a moment later, so that a burst of changes is one D1 batch.
   * The alarm backs the flush up (it is armed unless one already is): a change the venue reported, or a
   * cancel, must reach D1 even if this instance goes away before its flush.
   */
  changed(): void {
    if (this.alarmAt === null || this.alarmAt <= this.now()) this.arm();
    if (this.flushTimer !== null) return;
    this.ctx.waitUntil(
      new Promise<void>((resolve) => {
        this.flushTimer = setTimeout(() => {
          this.flushTimer = null;
          void this.flush().finally(resolve);
        }, this.config.outboxFlushMs);
      }),
    );
  }

  /** Flush the outbox to D1; concurrent callers share one run, and a failure schedules a retry by alarm. */
  flush(): Promise<void> {
    if (this.flushing) {
      this.flushAgain = true;
      return this.flushing;
    }
    this.flushing = (async () => {
      try {
        do {
          this.flushAgain = false;
          await flushOutbox(this.store.journal, this.d1);
        } while (this.flushAgain);
        // Only after a failure is there a retry time to clear (outboxFailures is 0 after a restart, so the
        // first success of a new instance clears a time its predecessor may have left).
        if (this.outboxFailures > 0 || !this.outboxRetryCleared) {
          this.store.setMeta("outbox_retry_at", "");
          this.outboxRetryCleared = true;
        }
        this.outboxFailures = 0;
      } catch (err) {
        this.outboxFailures++;
        const retryAt = this.now() + Math.min(OUTBOX_RETRY_MAX_MS, 250 * 2 ** this.outboxFailures);
        console.warn(`desk ${this.store.traderId}: D1 flush failed (${errorText(err)}); ${this.store.outboxSize()} records kept, retry at ${new Date(retryAt).toISOString()}`);
        this.store.setMeta("outbox_retry_at", String(retryAt));
        this.outboxRetryCleared = false;
        this.arm();
      } finally {
        this.flushing = null;
      }
    })();
    return this.flushing;
  }
}
