// Traders as the bench drives them: a token, an account, and live event sockets that record every order
// event as it arrives. An order's events may arrive before its HTTP 201 is read, so arrivals are kept by
// order id and matched to submits afterwards (or awaited by the closed loop).
import { inBatches, type HttpClient } from "./http.ts";
import { sign } from "./tokens.ts";

export const WS_PROTOCOL = "order-updates";
export const FINAL_EVENTS: ReadonlySet<string> = new Set(["order.filled", "order.cancelled", "order.rejected", "order.expired"]);

export interface Arrival {
  seq: number;
  event: string;
  orderId: string;
  status: string;
  /** performance.now() when the frame was handled. */
  at: number;
  /** Arrival wall-clock time minus the event's own `timestamp` (same machine, same clock). */
  gapMs: number;
  /** The event's own `timestamp`, as the desk stamped it. */
  timestamp: string;
  /** Shares and id of this fill (fill events), else null. */
  quantityFilled: number | null;
  fillId: string | null;
  /**
   * An order event's terms as it states them: the order's quantity, its limit price (null on a fill event,
   * whose `price` is the fill's) and stop price. Null for account.updated.
   */
  terms: { quantity: number; price: number | null; stopPrice: number | null } | null;
  /** account.updated: the account as the desk sent it in the change (null for order events). */
  account: AccountSnapshot | null;
}

/** What an account.updated event says of the account (dollars, as on the wire). */
export interface AccountSnapshot {
  cash: number;
  reserved: number;
  positions: { symbol: string; quantity: number; avg_price: number }[];
}

interface WireEvent {
  event: string;
  seq: number;
  order_id: string;
  status: string;
  timestamp: string;
  quantity_filled: number | null;
  fill_id: string | null;
  terms: Arrival["terms"];
  account: AccountSnapshot | null;
}

type Frame = { kind: "ack"; seq: number } | { kind: "event"; event: WireEvent } | { kind: "other" };

/** Parses a server frame; anything that is neither an acknowledgement nor an order event is "other". */
function parseFrame(text: string): Frame | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (!value || typeof value !== "object") return null;
  const v = value as Record<string, unknown>;
  if (v.type === "connection_acknowledged" && typeof v.seq === "number") return { kind: "ack", seq: v.seq };
  if (typeof v.event === "string" && typeof v.seq === "number" && typeof v.order_id === "string" && typeof v.status === "string" && typeof v.timestamp === "string") {
    const fill = {
      quantity_filled: typeof v.quantity_filled === "number" ? v.quantity_filled : null,
      fill_id: typeof v.fill_id === "string" ? v.fill_id : null,
    };
    const num = (x: unknown) => (typeof x === "number" ? x : null);
    const terms = typeof v.quantity === "number" ? { quantity: v.quantity, price: fill.fill_id === null ? num(v.price) : null, stopPrice: num(v.stop_price) } : null;
    return { kind: "event", event: { event: v.event, seq: v.seq, order_id: v.order_id, status: v.status, timestamp: v.timestamp, ...fill, terms, account: null } };
  }
  // account.updated carries a seq of the same stream but belongs to no order (order_id "" here).
  if (v.event === "account.updated" && typeof v.seq === "number" && typeof v.timestamp === "string") {
    return { kind: "event", event: { event: v.event, seq: v.seq, order_id: "", status: "", timestamp: v.timestamp, quantity_filled: null, fill_id: null, terms: null, account: accountOf(v) } };
  }
  return typeof v.type === "string" ? { kind: "other" } : null;
}

/** The account an account.updated frame carries, or null when it lacks the fields (counted as malformed by the drill). */
function accountOf(v: Record<string, unknown>): AccountSnapshot | null {
  if (typeof v.cash !== "number" || typeof v.reserved !== "number" || !Array.isArray(v.positions)) return null;
  const positions: AccountSnapshot["positions"] = [];
  for (const p of v.positions as unknown[]) {
    if (!p || typeof p !== "object") return null;
    const q = p as Record<string, unknown>;
    if (typeof q.symbol !== "string" || typeof q.quantity !== "number" || typeof q.avg_price !== "number") return null;
    positions.push({ symbol: q.symbol, quantity: q.quantity, avg_price: q.avg_price });
  }
  return { cash: v.cash, reserved: v.reserved, positions };
}

interface Waiter {
  names: ReadonlySet<string>;
  resolve: (arrival: Arrival | null) => void;
  timer: ReturnType<typeof setTimeout>;
}

export class EventSocket {
  /** The trader's latest seq when this socket connected (from connection_acknowledged). */
  ackSeq = 0;
  readonly arrivals: Arrival[] = [];
  readonly byOrder = new Map<string, Arrival[]>();
  invalidFrames = 0;
  /** Close code when the server closed the socket before the bench did. */
  droppedWith: number | null = null;
  private readonly waiters = new Map<string, Waiter>();
  private closing = false;
  private readonly ws: WebSocket;
  /** Keep arrivals by order id (the primary socket, whose arrivals time the orders). */
  private readonly track: boolean;

  private constructor(ws: WebSocket, track: boolean) {
    this.ws = ws;
    this.track = track;
  }

  /**
   * Opens a socket and resolves once the server's acknowledgement (with the latest seq) arrived. `since`
   * asks for the replay of every later event; `onDrop` hears a close the bench did not ask for.
   */
  static connect(
    baseUrl: string,
    token: string,
    options: { track: boolean; timeoutMs?: number; since?: number; onDrop?: (code: number) => void },
  ): Promise<EventSocket> {
    const since = options.since === undefined ? "" : `&since=${options.since}`;
    const url = `${baseUrl.replace(/^http/, "ws")}/ws/orders/events?token=${encodeURIComponent(token)}${since}`;
    const ws = new WebSocket(url, WS_PROTOCOL);
    const socket = new EventSocket(ws, options.track);
    return new Promise((ok, fail) => {
      let acknowledged = false;
      const timer = setTimeout(() => {
        ws.close();
        fail(new Error("no connection_acknowledged within the timeout"));
      }, options.timeoutMs ?? 15_000);
      ws.addEventListener("message", (m) => {
        const frame = typeof m.data === "string" ? parseFrame(m.data) : null;
        if (!frame) return void socket.invalidFrames++;
        if (frame.kind === "ack" && !acknowledged) {
          acknowledged = true;
          socket.ackSeq = frame.seq;
          clearTimeout(timer);
          if (ws.protocol !== WS_PROTOCOL) socket.invalidFrames++; // the server must choose the subprotocol
          ok(socket);
        } else if (frame.kind === "event") socket.receive(frame.event);
      });
      ws.addEventListener("error", () => {
        if (acknowledged) return;
        clearTimeout(timer);
        fail(new Error("WebSocket error before the acknowledgement"));
      });
      ws.addEventListener("close", (e) => {
        if (!socket.closing) {
          socket.droppedWith = e.code;
          if (acknowledged) options.onDrop?.(e.code);
        }
        if (!acknowledged) {
          clearTimeout(timer);
          fail(new Error(`WebSocket closed (${e.code}) before the acknowledgement`));
        }
      });
    });
  }

  private receive(e: WireEvent): void {
    const at = performance.now();
    const arrival: Arrival = {
      seq: e.seq, event: e.event, orderId: e.order_id, status: e.status, at,
      gapMs: performance.timeOrigin + at - Date.parse(e.timestamp), timestamp: e.timestamp, quantityFilled: e.quantity_filled,
      fillId: e.fill_id, terms: e.terms, account: e.account,
    };
    this.arrivals.push(arrival);
    if (!this.track || e.order_id === "") return;
    const list = this.byOrder.get(e.order_id);
    if (list) list.push(arrival);
    else this.byOrder.set(e.order_id, [arrival]);
    const waiter = this.waiters.get(e.order_id);
    if (waiter?.names.has(e.event)) {
      this.waiters.delete(e.order_id);
      clearTimeout(waiter.timer);
      waiter.resolve(arrival);
    }
  }

  /** The first event named in `names` for `orderId` (already arrived, or within `timeoutMs`; else null). */
  waitFor(orderId: string, names: ReadonlySet<string>, timeoutMs: number): Promise<Arrival | null> {
    const seen = this.byOrder.get(orderId)?.find((a) => names.has(a.event));
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiters.delete(orderId);
        resolve(null);
      }, timeoutMs);
      this.waiters.set(orderId, { names, resolve, timer });
    });
  }

  /** Forget per-order arrivals (the closed loop keeps only what it still waits for). */
  forget(orderId: string): void {
    this.byOrder.delete(orderId);
  }

  close(): void {
    this.closing = true;
    this.ws.close(1000, "bench done");
  }
}

export class Trader {
  readonly sockets: EventSocket[] = [];
  readonly id: string;
  readonly token: string;
  /** The instrument its market orders trade. */
  readonly symbol: string;

  constructor(id: string, token: string, symbol: string) {
    this.id = id;
    this.token = token;
    this.symbol = symbol;
  }

  /** The socket whose arrivals time this trader's orders. */
  get primary(): EventSocket {
    const s = this.sockets[0];
    if (!s) throw new Error(`trader ${this.id} has no socket`);
    return s;
  }

  /** Opens one more socket; the first one opened is the primary (it keeps arrivals by order). */
  async addSocket(baseUrl: string): Promise<EventSocket> {
    const socket = await EventSocket.connect(baseUrl, this.token, { track: this.sockets.length === 0 });
    this.sockets.push(socket);
    return socket;
  }

  closeSockets(): void {
    for (const s of this.sockets) s.close();
    this.sockets.length = 0;
  }
}

/** Opens accounts `${prefix}-0..n-1` with ample cash and signs their tokens; `symbols` are dealt round robin. */
export async function openTraders(http: HttpClient, adminToken: string, prefix: string, n: number, symbols: readonly string[], first = 0): Promise<Trader[]> {
  const ids = Array.from({ length: n }, (_, i) => `${prefix}-${first + i}`);
  return inBatches(ids, 8, async (id, i) => {
    const res = await http.send("PUT", `/api/v1/admin/accounts/${id}`, { token: adminToken, body: { cash: 1_000_000_000 } });
    if (res.status !== 201) throw new Error(`opening account ${id}: ${res.status} ${res.text}`);
    return new Trader(id, await sign(id, "trader"), symbols[(first + i) % symbols.length]!);
  });
}

export interface Delivery {
  sockets: number;
  /** Events the desks logged while the sockets were open (latest seq now minus seq at connect), over all sockets. */
  expected: number;
  received: number;
  lost: number;
  outOfOrder: number;
  duplicates: number;
  /** Sockets the server closed before the bench did. */
  dropped: number;
  invalidFrames: number;
}

/** Checks each socket's seqs against the trader's latest seq, read from a fresh socket's acknowledgement. */
export async function checkDelivery(baseUrl: string, traders: readonly Trader[]): Promise<Delivery> {
  const d: Delivery = { sockets: 0, expected: 0, received: 0, lost: 0, outOfOrder: 0, duplicates: 0, dropped: 0, invalidFrames: 0 };
  await inBatches(traders, 16, async (trader) => {
    const probe = await EventSocket.connect(baseUrl, trader.token, { track: false });
    const latest = probe.ackSeq;
    probe.close();
    for (const s of trader.sockets) {
      d.sockets++;
      d.expected += latest - s.ackSeq;
      const distinct = new Set<number>();
      let highest = s.ackSeq;
      for (const a of s.arrivals) {
        if (distinct.has(a.seq)) {
          d.duplicates++;
          continue;
        }
        if (a.seq < highest) d.outOfOrder++;
        if (a.seq > s.ackSeq && a.seq <= latest) distinct.add(a.seq);
        highest = Math.max(highest, a.seq);
      }
      d.received += distinct.size;
      d.lost += latest - s.ackSeq - distinct.size;
      if (s.droppedWith !== null) d.dropped++;
      d.invalidFrames += s.invalidFrames;
    }
  });
  return d;
}
