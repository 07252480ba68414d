// A WebSocket client for tests: opens /ws/orders/events through the Worker's fetch handler (exactly as a
// browser's upgrade request reaches it), keeps every message it receives, and waits for conditions.
import { exports } from "cloudflare:workers";
import { AccountEvent, isOrderEvent, OrderEvent } from "../../worker/shared/events";

/** A parsed server message; order events are checked against the wire schema in `events()`. */
export type Message = { type?: unknown; event?: unknown; seq?: unknown } & Record<string, unknown>;

export interface SocketQuery {
  token?: string;
  since?: number | string;
  /** Subprotocols offered; `order-updates` unless said otherwise. */
  protocols?: string | null;
  /** "1": the working orders and the account right after the acknowledgement. */
  snapshot?: string;
}

export class TestSocket {
  readonly messages: Message[] = [];
  closed: { code: number; reason: string } | null = null;

  constructor(readonly response: Response, readonly ws: WebSocket) {
    ws.addEventListener("message", (e) => {
      const text = typeof e.data === "string" ? e.data : new TextDecoder().decode(e.data);
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = null;
      }
      // Anything that is not a JSON object is kept visibly, so an assertion on the messages shows it.
      const isObject = typeof parsed === "object" && parsed !== null && !Array.isArray(parsed);
      this.messages.push(isObject ? (parsed as Message) : { type: "NOT_A_JSON_OBJECT", raw: text });
    });
    ws.addEventListener("close", (e) => {
      this.closed = { code: e.code, reason: e.reason };
    });
    ws.accept();
  }

  send(message: unknown): void {
    this.ws.send(typeof message === "string" ? message : JSON.stringify(message));
  }

  /** account.updated events received so far (schema-checked). */
  accountEvents(): AccountEvent[] {
    return this.messages.filter((m) => m.event === "account.updated").map((m) => AccountEvent.parse(m));
  }

  /** Order events received so far (schema-checked), optionally for one order. */
  events(orderId?: string): OrderEvent[] {
    return this.messages
      .filter((m) => isOrderEvent(m))
      .map((m) => OrderEvent.parse(m))
      .filter((e) => orderId === undefined || e.order_id === orderId);
  }

  /**
   * Every stream event received so far (a message with a numeric `seq` and a string `event`: order events and
   * account.updated alike), in arrival order. The desk numbers all of them under one per-trader seq.
   */
  streamEvents(): Message[] {
    return streamEventsIn(this.messages);
  }

  /** The seqs of `streamEvents()`, in arrival order. */
  streamSeqs(): number[] {
    return this.streamEvents().map((m) => m.seq as number);
  }

  /** Waits until a stream event with seq `seq` (or later) arrived; returns the stream events so far. */
  async untilSeq(seq: number, ms = 8000): Promise<Message[]> {
    await this.until(() => this.streamSeqs().some((s) => s >= seq), ms);
    return this.streamEvents();
  }

  /** Waits until `done` holds over the messages received so far. */
  async until(done: (messages: Message[]) => boolean, ms = 8000): Promise<Message[]> {
    const stop = Date.now() + ms;
    while (!done(this.messages)) {
      if (Date.now() > stop) throw new Error(`socket condition not reached in ${ms} ms; got ${JSON.stringify(this.messages)}`);
      await new Promise((r) => setTimeout(r, 10));
    }
    return this.messages;
  }

  /** Waits for the first message (after `from`) that matches, and returns it. */
  async next(match: (m: Message) => boolean, from = 0, ms = 8000): Promise<Message> {
    await this.until((all) => all.slice(from).some(match), ms);
    return this.messages.slice(from).find(match)!;
  }

  /** Waits until the event `name` arrived for `orderId`; returns that order's events so far. */
  async untilEvent(orderId: string, name: OrderEvent["event"], ms = 8000): Promise<OrderEvent[]> {
    await this.until(() => this.events(orderId).some((e) => e.event === name), ms);
    return this.events(orderId);
  }

  async untilClosed(ms = 8000): Promise<{ code: number; reason: string }> {
    await this.until(() => this.closed !== null, ms);
    return this.closed!;
  }

  close(): void {
    if (this.closed) return;
    try {
      this.ws.close(1000, "test done");
    } catch {
      // already closing
    }
  }
}

/** The stream events among `messages` (numeric `seq`, string `event`), in their order. */
export function streamEventsIn(messages: Message[]): Message[] {
  return messages.filter((m) => typeof m.seq === "number" && typeof m.event === "string");
}

const open: TestSocket[] = [];

/** The raw upgrade: the Response as the Worker answers it (101 with a socket, or an error). */
export function upgrade(query: SocketQuery = {}): Promise<Response> {
  const params = new URLSearchParams();
  if (query.token !== undefined) params.set("token", query.token);
  if (query.since !== undefined) params.set("since", String(query.since));
  if (query.snapshot !== undefined) params.set("snapshot", query.snapshot);
  const headers = new Headers({ Upgrade: "websocket" });
  const protocols = query.protocols === undefined ? "order-updates" : query.protocols;
  if (protocols !== null) headers.set("Sec-WebSocket-Protocol", protocols);
  const qs = params.toString();
  return exports.default.fetch(new Request(`http://fillwire.test/ws/orders/events${qs ? `?${qs}` : ""}`, { headers }));
}

/** Opens a socket and accepts it; fails unless the Worker answered 101 with a WebSocket. */
export async function connect(query: SocketQuery = {}): Promise<TestSocket> {
  const res = await upgrade(query);
  if (res.status !== 101 || !res.webSocket) throw new Error(`expected a 101 upgrade, got ${res.status} ${await res.text()}`);
  const socket = new TestSocket(res, res.webSocket);
  open.push(socket);
  return socket;
}

/** Close every socket this file opened (call from afterEach). */
export function closeAll(): void {
  for (const s of open.splice(0)) s.close();
}
