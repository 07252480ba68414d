// When the live feed's messages reach the screen. The desk sends an order's step (a fill, a reservation, a
// release) and the account.updated of the same change as two messages, one after the other: the page shows
// them in one render, so the blotter never shows a fill beside the cash from before it. Every other step
// still gets a render of its own (PARTIAL before FILLED), in order. No DOM here: test/web drives it with a
// fake clock.

export interface PacerHost<M> {
  /** Apply the message to the state without showing it; "hold" when its account change may follow. */
  apply(message: M): "hold" | "show";
  /** True for the message that completes a held step (the account after it). */
  completes(message: M): boolean;
  /** Render what has been applied. */
  show(): void;
}

export interface PacerClock {
  /** Run after the current task, once the render just asked for has happened (not a timer: no clamping). */
  nextTask(run: () => void): void;
  /** Run after `ms`; returns a cancel. */
  after(ms: number, run: () => void): () => void;
}

/** The longest a step waits for its account change (sent in the same breath; this only bounds a surprise). */
export const HOLD_MS = 100;

export class StepPacer<M> {
  private readonly queue: M[] = [];
  private scheduled = false;
  private cancelHold: (() => void) | null = null;

  constructor(
    private readonly host: PacerHost<M>,
    private readonly clock: PacerClock,
  ) {}

  /** A step is applied and waits for its account change: renders wait too. */
  get holding(): boolean {
    return this.cancelHold !== null;
  }

  push(message: M): void {
    this.queue.push(message);
    if (!this.scheduled) this.pump();
  }

  /** Show whatever is held now (the feed stops). */
  flush(): void {
    if (this.holding) this.release();
  }

  private pump(): void {
    this.scheduled = false;
    while (this.queue.length > 0) {
      const message = this.queue[0]!;
      if (this.holding && !this.host.completes(message)) {
        // The held step's account change did not come next: show the step as it stands, then go on.
        this.release();
        return this.later();
      }
      this.queue.shift();
      const outcome = this.host.apply(message);
      if (this.holding) this.release(); // the account change of the held step: both in one render
      else if (outcome === "hold") this.cancelHold = this.clock.after(HOLD_MS, () => this.release());
      else this.host.show();
      // Each render shows one step: what is queued behind it waits for the next task.
      if (!this.holding && this.queue.length > 0) return this.later();
    }
  }

  private release(): void {
    this.cancelHold?.();
    this.cancelHold = null;
    this.host.show();
  }

  private later(): void {
    this.scheduled = true;
    this.clock.nextTask(() => this.pump());
  }
}

/** The browser's clock: a MessageChannel for the next task (setTimeout(0) is clamped to 4 ms when nested). */
export function browserClock(): PacerClock {
  const channel = new MessageChannel();
  const waiting: (() => void)[] = [];
  channel.port1.onmessage = () => waiting.shift()?.();
  return {
    nextTask(run) {
      waiting.push(run);
      channel.port2.postMessage(null);
    },
    after(ms, run) {
      const timer = setTimeout(run, ms);
      return () => clearTimeout(timer);
    },
  };
}
