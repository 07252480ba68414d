// Opens /ws/orders/events through the Worker's fetch handler, as a browser would, and collects the
// server's messages (parsed with the same zod schema the page uses) so a test can wait for one.
import { exports } from "cloudflare:workers";
import { isOrderEvent, ServerMessage, type OrderEvent, type StreamEvent } from "../../worker/shared/events";

export interface EventSocket {
  /** The upgrade response: 101 and the subprotocol the server chose. */
  response: Response;
  /** Every message received so far, in order. */
  messages: ServerMessage[];
  /** Frames that were not a valid ServerMessage (a test expects none). */
  invalid: string[];
  /** The order events received so far, in order. */
  events(): OrderEvent[];
  /** Resolves with the first message that satisfies `match`, waiting up to `ms`. */
  waitFor(match: (m: ServerMessage) => boolean, ms?: number): Promise<ServerMessage>;
  send(data: string): void;
  close(): void;
}

export function isEvent(m: ServerMessage): m is OrderEvent {
  return isOrderEvent(m);
}

/** A stream event: an order event or account.updated (a numeric `seq` and a string `event`). */
export function isStreamEvent(m: ServerMessage): m is StreamEvent {
  return "event" in m && typeof m.event === "string" && typeof m.seq === "number";
}

/** Every stream event among `messages` (order events and account.updated alike), in arrival order. */
export function streamEvents(messages: ServerMessage[]): StreamEvent[] {
  return messages.filter(isStreamEvent);
}

/** The raw upgrade response for `/ws/orders/events?<query>` (for tests of refused upgrades). */
export function upgrade(query: string, headers: Record<string, string> = {}): Promise<Response> {
  return exports.default.fetch(
    new Request(`http://fillwire.test/ws/orders/events?${query}`, {
      headers: { Upgrade: "websocket", "Sec-WebSocket-Protocol": "order-updates", ...headers },
    }),
  );
}

/** Connects with `token` (and `since`, when given); fails unless the server upgrades. */
export async function connectEvents(token: string, since?: number): Promise<EventSocket> {
  const query = new URLSearchParams({ token });
  if (since !== undefined) query.set("since", String(since));
  return listen(await upgrade(query.toString()));
}

/** Accepts the socket of an upgrade response and starts collecting its messages. */
export async function listen(response: Response): Promise<EventSocket> {
  const ws = response.webSocket;
  if (response.status !== 101 || !ws) throw new Error(`WebSocket upgrade refused: ${response.status} ${await response.text()}`);
  ws.accept();

  const messages: ServerMessage[] = [];
  const invalid: string[] = [];
  ws.addEventListener("message", (e) => {
    const text = typeof e.data === "string" ? e.data : new TextDecoder().decode(e.data);
    let parsed: ReturnType<typeof ServerMessage.safeParse> | null = null;
    try {
      parsed = ServerMessage.safeParse(JSON.parse(text));
    } catch {
      parsed = null;
    }
    if (parsed?.success) messages.push(parsed.data);
    else invalid.push(text);
  });

  return {
    response,
    messages,
    invalid,
    events: () => messages.filter(isEvent),
    async waitFor(match, ms = 8000) {
      const until = Date.now() + ms;
      for (;;) {
        const found = messages.find(match);
        if (found) return found;
        if (Date.now() > until) throw new Error(`no matching WebSocket message in ${ms} ms; got ${JSON.stringify(messages)}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    send(data: string) {
      ws.send(data);
    },
    close() {
      try {
        ws.close(1000, "test done");
      } catch {
        // already closed
      }
    },
  };
}
