// The contingent instrument's price path: runs up and down of 2-5 steps of 0.4-1.2% each, so that take-
// profits above an entry and stop-losses below it both get reached, and a trailing stop's high-water mark
// (its low, for a BUY) is set by one run and crossed by the next; every ninth step is a gap of 5-9%, down
// through the stop-losses and SELL trailing stops (up again when the price is already low). The path stays
// within 20% of the starting price. Each step is an admin move like the drill's others, recorded with them.
import type { MoveKind, PriceMove } from "./load.ts";
import { onTick, random, type InstrumentSpec } from "./scenario.ts";

/** Steps of the path over a run, whatever its size: the moves are spread over the order flow. */
const STEPS_PER_RUN = 80;

export class PricePath {
  private priceCents: number;
  private inFlight: Promise<void> = Promise.resolve();
  private chain: Promise<void> = Promise.resolve();
  private step = 0;
  private direction: 1 | -1 = 1;
  private runLeft = 0;
  private readonly r: () => number;
  private readonly every: number;
  readonly errors: string[] = [];

  private readonly setPrice: (symbol: string, priceCents: number) => Promise<void>;
  private readonly spec: InstrumentSpec;
  private readonly moves: PriceMove[];

  /**
   * `setPrice` moves the venue's price (cents); `moves` is the drill's record of admin moves, which this
   * path's moves join; `totalOrders` spreads the steps.
   */
  constructor(setPrice: (symbol: string, priceCents: number) => Promise<void>, spec: InstrumentSpec, moves: PriceMove[], seed: number, totalOrders: number) {
    this.setPrice = setPrice;
    this.spec = spec;
    this.moves = moves;
    this.priceCents = spec.priceCents;
    this.r = random(seed ^ 0x7a11_5707);
    this.every = Math.max(2, Math.round(totalOrders / STEPS_PER_RUN));
  }

  /** The price in cents once the move on its way (if any) is done: orders are priced from it. */
  async current(): Promise<number> {
    await this.inFlight;
    return this.priceCents;
  }

  /** Called after each planned order is sent: every `every` orders the path takes a step. */
  onProgress(done: number): void {
    if (done % this.every !== 0) return;
    this.chain = this.chain.then(() => this.move()).catch((err: unknown) => void this.errors.push(String(err)));
  }

  /** Waits for the last step. */
  async finish(): Promise<void> {
    await this.chain;
  }

  /** The next price and what kind of move it is: a step of the run, or a gap. */
  private next(): { cents: number; kind: MoveKind } {
    const start = this.spec.priceCents;
    const at = this.priceCents / start;
    this.step++;
    if (this.step % 9 === 0) {
      const down = at > 0.9;
      const size = 0.05 + this.r() * 0.04;
      this.direction = down ? 1 : -1; // a run the other way follows the gap
      this.runLeft = 2 + Math.floor(this.r() * 4);
      return { cents: onTick(this.priceCents * (down ? 1 - size : 1 + size), this.spec.tickCents), kind: down ? "gap-down" : "gap-up" };
    }
    if (this.runLeft <= 0) {
      this.direction = at > 1.12 ? -1 : at < 0.88 ? 1 : this.direction === 1 ? -1 : 1;
      this.runLeft = 2 + Math.floor(this.r() * 4);
    }
    this.runLeft--;
    const cents = onTick(this.priceCents * (1 + this.direction * (0.004 + this.r() * 0.008)), this.spec.tickCents);
    const bounded = Math.min(Math.round(start * 1.2), Math.max(Math.round(start * 0.8), cents));
    return { cents: bounded === this.priceCents ? this.priceCents + this.direction * this.spec.tickCents : bounded, kind: "drift" };
  }

  private async move(): Promise<void> {
    const { cents, kind } = this.next();
    const from = this.priceCents;
    const sentMs = Date.now();
    const request = this.setPrice(this.spec.symbol, cents);
    const done = request.then(() => void (this.priceCents = cents));
    this.inFlight = done.catch(() => undefined);
    await done;
    const doneMs = Date.now();
    this.moves.push({
      symbol: this.spec.symbol, kind, from: from / 100, price: cents / 100, sentAt: new Date(sentMs).toISOString(), at: new Date(doneMs).toISOString(), sentMs, doneMs, restingStops: 0,
    });
  }
}
