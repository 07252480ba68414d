// Orders on the trader's socket (SPEC, "Orders on the socket"), as the bench sends them: commands go out on
// the very socket whose arrivals time the trader's orders (its primary EventSocket), so one connection
// sends and hears, as a client of that door does. The EventSocket (bench/clients.ts) keeps recording the
// events; this wrapper only adds sending and matching each ack or reject to its command by request_id.
import type { EventSocket } from "./clients.ts";

export interface SocketAnswer {
  /** performance.now() when the answer frame was handled. */
  at: number;
  ok: boolean;
  /** ack: the order's id (submit, amend, cancel). */
  orderId: string | null;
  /** reject: the status and code the HTTP route would give, and its details. */
  status: number;
  error: string | null;
  details: Record<string, unknown>;
}

interface Waiting {
  resolve: (answer: SocketAnswer) => void;
  fail: (err: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

const channels = new WeakMap<EventSocket, OrderChannel>();

export class OrderChannel {
  private readonly waiting = new Map<string, Waiting>();
  private next = 0;
  private closedWith: number | null = null;
  private readonly ws: WebSocket;

  private constructor(ws: WebSocket) {
    this.ws = ws;
    ws.addEventListener("message", (m) => {
      // Events start {"event":...; answers {"type":... (the desk builds them type first). Parse only those.
      if (typeof m.data !== "string" || !m.data.startsWith('{"type":')) return;
      this.answer(m.data, performance.now());
    });
    ws.addEventListener("close", (e) => {
      this.closedWith = e.code;
      for (const [id, w] of this.waiting) {
        clearTimeout(w.timer);
        w.fail(new Error(`socket closed (${e.code})`));
        this.waiting.delete(id);
      }
    });
  }

  /**
   * The channel on `socket`'s own WebSocket. EventSocket keeps its WebSocket private (bench/clients.ts is
   * not this module's to change); it is reached by name, and a rename fails loudly here, not silently.
   */
  static on(socket: EventSocket): OrderChannel {
    const known = channels.get(socket);
    if (known) return known;
    const ws = (socket as unknown as { ws?: unknown }).ws;
    if (typeof WebSocket === "undefined" || !(ws instanceof WebSocket)) {
      throw new Error("bench/order-socket.ts: EventSocket no longer holds its WebSocket in `ws`; update OrderChannel.on");
    }
    const channel = new OrderChannel(ws);
    channels.set(socket, channel);
    return channel;
  }

  /** Sends one order command (without request_id: it is added) and resolves with its ack or reject. */
  send(command: Record<string, unknown>, timeoutMs = 30_000): Promise<SocketAnswer> {
    if (this.closedWith !== null) return Promise.reject(new Error(`socket closed (${this.closedWith})`));
    const requestId = `b${(this.next++).toString(36)}`;
    return new Promise((resolve, fail) => {
      const timer = setTimeout(() => {
        this.waiting.delete(requestId);
        fail(new Error(`timeout after ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting.set(requestId, { resolve, fail, timer });
      try {
        this.ws.send(JSON.stringify({ ...command, request_id: requestId }));
      } catch (err) {
        clearTimeout(timer);
        this.waiting.delete(requestId);
        fail(err instanceof Error ? err : new Error(String(err)));
      }
    });
  }

  private answer(text: string, at: number): void {
    let v: Record<string, unknown>;
    try {
      const parsed: unknown = JSON.parse(text);
      if (!parsed || typeof parsed !== "object") return;
      v = parsed as Record<string, unknown>;
    } catch {
      return;
    }
    if ((v.type !== "ack" && v.type !== "reject") || typeof v.request_id !== "string") return;
    const w = this.waiting.get(v.request_id);
    if (!w) return;
    this.waiting.delete(v.request_id);
    clearTimeout(w.timer);
    if (v.type === "ack") {
      const order = v.order as { id?: unknown } | undefined;
      w.resolve({ at, ok: true, orderId: typeof order?.id === "string" ? order.id : null, status: 0, error: null, details: {} });
    } else {
      const details = v.details && typeof v.details === "object" ? (v.details as Record<string, unknown>) : {};
      w.resolve({ at, ok: false, orderId: null, status: typeof v.status === "number" ? v.status : 0, error: typeof v.error === "string" ? v.error : null, details });
    }
  }
}
