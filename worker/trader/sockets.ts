// The trader's WebSockets on the desk (hibernation API): accept an upgrade the Worker verified, replay
// what a reconnecting client missed, broadcast each committed event, and close floods.
import { ClientMessage, WS_PROTOCOL, type ServerMessage } from "../shared/events";
import type { Journal } from "./journal";

/** Events sent per replay query; a replay reads as many pages as it takes. */
const REPLAY_PAGE = 10_000;
/** Messages a socket may send per 10 s before it is closed as a flood. */
const SOCKET_MESSAGE_BUDGET = 100;

/** What each socket carries across hibernation. */
export interface SocketAttachment {
  traderId: string;
  windowStart: number;
  messages: number;
}

export class DeskSockets {
  constructor(
    private readonly ctx: DurableObjectState,
    private readonly journal: Journal,
    private readonly now: () => number,
  ) {}

  /** Accepts the upgrade the Worker handed over (trader verified there), acknowledges, and replays `since`. */
  accept(request: Request, traderId: string): Response {
    const { 0: client, 1: server } = new WebSocketPair();
    this.ctx.acceptWebSocket(server);
    server.serializeAttachment({ traderId, windowStart: this.now(), messages: 0 } satisfies SocketAttachment);
    const latest = this.journal.latestSeq();
    send(server, { type: "connection_acknowledged", seq: latest, trader_id: traderId });
    const sinceText = request.headers.get("X-Fillwire-Since");
    if (sinceText !== null) this.replay(server, Number(sinceText), latest);
    const offered = (request.headers.get("Sec-WebSocket-Protocol") ?? "").split(",").map((p) => p.trim());
    const headers = offered.includes(WS_PROTOCOL) ? { "Sec-WebSocket-Protocol": WS_PROTOCOL } : undefined;
    return new Response(null, { status: 101, webSocket: client, headers });
  }

  /** Everything after `since`, in order; synchronous, so no live event can slip in between. */
  private replay(ws: WebSocket, since: number, latest: number): void {
    const oldest = this.journal.oldestSeq();
    if (oldest > 0 && since < oldest - 1) send(ws, { type: "replay_truncated", oldest_seq: oldest });
    const page = this.journal.eventsAfter(since, REPLAY_PAGE);
    for (const e of page) ws.send(e.payload);
    send(ws, { type: "replay_complete", seq: latest, replayed: page.length });
  }

  /** Sends committed events to every socket of the trader. */
  broadcast(payloads: string[]): void {
    if (payloads.length === 0) return;
    for (const ws of this.ctx.getWebSockets()) {
      try {
        for (const p of payloads) ws.send(p);
      } catch {
        // a socket closing under us; its client replays with `since` when it reconnects
      }
    }
  }

  onMessage(ws: WebSocket, message: string | ArrayBuffer): void {
    const state = ws.deserializeAttachment() as SocketAttachment;
    const nowMs = this.now();
    if (nowMs - state.windowStart > 10_000) Object.assign(state, { windowStart: nowMs, messages: 0 });
    state.messages++;
    ws.serializeAttachment(state);
    if (state.messages > SOCKET_MESSAGE_BUDGET) {
      ws.close(1008, "too many messages");
      return;
    }
    let parsed: ReturnType<typeof ClientMessage.safeParse> | null = null;
    try {
      parsed = typeof message === "string" ? ClientMessage.safeParse(JSON.parse(message)) : null;
    } catch {
      parsed = null;
    }
    if (!parsed?.success) {
      send(ws, { type: "error", error: "BAD_MESSAGE", message: 'Send {"type":"ping"}; order events flow from the server only' });
      return;
    }
    if (parsed.data.type === "ping") send(ws, { type: "pong" });
    // {"type":"auth"} on an authenticated socket needs no answer beyond the acknowledgement already sent.
  }

  /** The earliest token expiry (epoch ms) among open sockets, or null: the desk's alarm wakes for it. */
  nextExpiry(): number | null {
    return null;
  }

  /** Closes every socket whose token has expired by `nowMs` (4401 "token expired"). */
  closeExpired(_nowMs: number): void {}

  onClose(ws: WebSocket, code: number, reason: string): void {
    try {
      ws.close(code === 1005 || code === 1006 ? 1000 : code, reason);
    } catch {
      // already closed
    }
  }
}

function send(ws: WebSocket, message: ServerMessage): void {
  ws.send(JSON.stringify(message));
}
