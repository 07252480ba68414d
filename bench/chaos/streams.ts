// A trader's live event feed as a careful client keeps it: one logical stream over as many sockets as it
// takes. When a socket drops (a desk restart, or the drill closing it), the stream reconnects with
// since=<the last seq it holds without a gap>, and the desk replays what was missed.
import { EventSocket, type Arrival } from "../clients.ts";

const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms));

export interface StreamFigures {
  traderId: string;
  /** The seq the stream started after (the trader's latest when it first connected). */
  baseSeq: number;
  sockets: number;
  /** Drops the server caused, and drops the drill forced. */
  serverDrops: number;
  forcedDrops: number;
  /** Distinct events received live, and by replay after a reconnect. */
  live: number;
  replayed: number;
  /** Frames for a seq already held (at-least-once delivery allows them). */
  duplicates: number;
  /** A socket saw a lower seq after a higher one. */
  outOfOrder: number;
  failedConnects: number;
}

export class EventStream {
  private readonly sockets: EventSocket[] = [];
  /** Per socket, how many of its arrivals were already absorbed. */
  private readonly absorbed: number[] = [];
  readonly bySeq = new Map<number, Arrival>();
  private contiguous = 0;
  private closed = false;
  private reconnecting: Promise<void> | null = null;
  private baseSeq = 0;
  private figures = { serverDrops: 0, forcedDrops: 0, live: 0, replayed: 0, duplicates: 0, outOfOrder: 0, failedConnects: 0 };

  private readonly url: string;
  private readonly token: string;
  readonly traderId: string;

  constructor(url: string, token: string, traderId: string) {
    this.url = url;
    this.token = token;
    this.traderId = traderId;
  }

  async open(): Promise<void> {
    const socket = await this.connect(undefined);
    this.baseSeq = socket.ackSeq;
    this.contiguous = socket.ackSeq;
  }

  /** The highest seq n such that every seq after the base up to n has arrived. */
  heldSeq(): number {
    this.absorb();
    while (this.bySeq.has(this.contiguous + 1)) this.contiguous++;
    return this.contiguous;
  }

  /** True when an event named in `names` for `orderId` has arrived. */
  has(orderId: string, names: ReadonlySet<string>): boolean {
    this.absorb();
    for (const a of this.bySeq.values()) if (a.orderId === orderId && names.has(a.event)) return true;
    return false;
  }

  /** Closes the current socket from this side (a network drop as the client sees it), then reconnects. */
  forceDrop(delayMs: number): void {
    if (this.closed) return;
    this.figures.forcedDrops++;
    this.current()?.close();
    this.scheduleReconnect(delayMs);
  }

  /** Waits for a reconnect in progress, so the final check does not race it. */
  async settled(): Promise<void> {
    while (this.reconnecting) await this.reconnecting;
    this.absorb();
  }

  close(): void {
    this.closed = true;
    for (const s of this.sockets) s.close();
  }

  report(): StreamFigures {
    this.absorb();
    return { traderId: this.traderId, baseSeq: this.baseSeq, sockets: this.sockets.length, ...this.figures };
  }

  private current(): EventSocket | undefined {
    return this.sockets[this.sockets.length - 1];
  }

  private async connect(since: number | undefined): Promise<EventSocket> {
    const socket = await EventSocket.connect(this.url, this.token, {
      track: false,
      since,
      onDrop: () => {
        if (this.closed || socket !== this.current()) return;
        this.figures.serverDrops++;
        this.scheduleReconnect(100);
      },
    });
    this.sockets.push(socket);
    this.absorbed.push(0);
    return socket;
  }

  private scheduleReconnect(delayMs: number): void {
    if (this.reconnecting) return;
    this.reconnecting = (async () => {
      await sleep(delayMs);
      for (let attempt = 0; !this.closed; attempt++) {
        try {
          await this.connect(this.heldSeq());
          return;
        } catch {
          this.figures.failedConnects++;
          await sleep(Math.min(2000, 100 * 2 ** attempt));
        }
      }
    })().finally(() => {
      this.reconnecting = null;
    });
  }

  /** Moves new arrivals of every socket into `bySeq`, counting replays, duplicates and disorder. */
  private absorb(): void {
    this.sockets.forEach((socket, i) => {
      const arrivals = socket.arrivals;
      let last = this.absorbed[i]! > 0 ? arrivals[this.absorbed[i]! - 1]!.seq : Number.NEGATIVE_INFINITY;
      for (let k = this.absorbed[i]!; k < arrivals.length; k++) {
        const a = arrivals[k]!;
        if (a.seq < last) this.figures.outOfOrder++;
        last = a.seq;
        if (this.bySeq.has(a.seq)) {
          this.figures.duplicates++;
          continue;
        }
        this.bySeq.set(a.seq, a);
        // Events at or below the acknowledged seq were sent as the replay of this connection.
        if (i > 0 && a.seq <= socket.ackSeq) this.figures.replayed++;
        else this.figures.live++;
      }
      this.absorbed[i] = arrivals.length;
    });
  }
}
