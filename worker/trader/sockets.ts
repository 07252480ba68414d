// The trader's WebSockets on the desk (hibernation API): accept an upgrade the Worker verified, replay
// what a reconnecting client missed, broadcast each committed event, and close floods, oversized messages
// and sockets whose token has expired. Every frame goes out through `deliver`, which checks the expiry
// first: a socket is sent nothing after its token's `exp`, whether or not the alarm has fired yet.
import { intVar } from "../config";
import { ClientMessage, WS_PROTOCOL, type ServerMessage } from "../shared/events";
import type { ErrorBody, ErrorCode } from "../shared/errors";
import { parseStrictJson } from "../shared/json";
import { CLOSE, echoCloseCode, isOversized } from "../shared/socket-limits";
import type { Journal } from "./journal";

/** Events read per replay query; a replay reads as many pages as it takes. */
const REPLAY_PAGE = 1_000;
/** Messages a socket may send per 10 s before it is closed as a flood. */
const SOCKET_MESSAGE_BUDGET = 100;
const SOCKET_BUDGET_WINDOW_MS = 10_000;
/** Sockets a trader may hold when MAX_SOCKETS_PER_TRADER is not set. */
const DEFAULT_MAX_SOCKETS = 20;

/** What each socket carries across hibernation. */
export interface SocketAttachment {
  traderId: string;
  /** When the socket's token expires (epoch ms): it is closed 4401 then and sent nothing after. */
  expiresAt: number;
  /** Start of the current message-budget window (epoch ms) and the messages counted in it. */
  windowStart: number;
  messages: number;
}

export class DeskSockets {
  constructor(
    private readonly ctx: DurableObjectState,
    private readonly journal: Journal,
    private readonly now: () => number,
  ) {}

  /**
   * Accepts the upgrade the Worker handed over (trader and token verified there; X-Fillwire-Expires is the
   * token's expiry in epoch ms), acknowledges, and replays `since`. A trader already holding
   * MAX_SOCKETS_PER_TRADER open sockets gets 429 TOO_MANY_SOCKETS instead, and its sockets are untouched.
   */
  accept(request: Request, traderId: string, env: Pick<Env, "MAX_SOCKETS_PER_TRADER">): Response {
    const expiresAt = Number(request.headers.get("X-Fillwire-Expires"));
    if (!Number.isSafeInteger(expiresAt) || expiresAt <= 0) return new Response("X-Fillwire-Expires (epoch ms) is required", { status: 400 });
    const nowMs = this.now();
    if (expiresAt <= nowMs) return refusal(401, "UNAUTHORIZED", "Token expired: sign in again for a fresh token");
    this.closeExpired(nowMs); // an expired socket must not hold a place
    const max = intVar(env.MAX_SOCKETS_PER_TRADER, DEFAULT_MAX_SOCKETS);
    if (this.openSockets().length >= max) {
      return refusal(429, "TOO_MANY_SOCKETS", `You already hold ${max} open sockets (MAX_SOCKETS_PER_TRADER); close one before opening another`, { max_sockets: max });
    }

    const { 0: client, 1: server } = new WebSocketPair();
    this.ctx.acceptWebSocket(server);
    const state: SocketAttachment = { traderId, expiresAt, windowStart: nowMs, messages: 0 };
    server.serializeAttachment(state);
    const latest = this.journal.latestSeq();
    this.deliver(server, state, message({ type: "connection_acknowledged", seq: latest, trader_id: traderId }));
    const sinceText = request.headers.get("X-Fillwire-Since");
    if (sinceText !== null) this.replay(server, state, Number(sinceText), latest);
    const offered = (request.headers.get("Sec-WebSocket-Protocol") ?? "").split(",").map((p) => p.trim());
    const headers = offered.includes(WS_PROTOCOL) ? { "Sec-WebSocket-Protocol": WS_PROTOCOL } : undefined;
    return new Response(null, { status: 101, webSocket: client, headers });
  }

  /**
   * Every kept event after `since`, in order, page by page, then replay_complete with the last seq sent
   * (replay_truncated first when events after `since` are no longer kept). Synchronous, so no live event can
   * slip in between; stops at once if the token expires.
   */
  private replay(ws: WebSocket, state: SocketAttachment, since: number, latest: number): void {
    const oldest = this.journal.oldestSeq() || latest + 1;
    if (since < oldest - 1 && !this.deliver(ws, state, message({ type: "replay_truncated", oldest_seq: oldest }))) return;
    let cursor = since;
    let replayed = 0;
    for (;;) {
      const page = this.journal.eventsAfter(cursor, REPLAY_PAGE);
      for (const e of page) {
        if (!this.deliver(ws, state, e.payload)) return;
        cursor = e.seq;
      }
      replayed += page.length;
      if (page.length < REPLAY_PAGE) break;
    }
    const last = replayed > 0 ? cursor : Math.min(since, latest);
    this.deliver(ws, state, message({ type: "replay_complete", seq: last, replayed }));
  }

  /** Sends committed events to every socket of the trader whose token is still valid. */
  broadcast(payloads: string[]): void {
    if (payloads.length === 0) return;
    for (const ws of this.ctx.getWebSockets()) {
      const state = attachmentOf(ws);
      for (const p of payloads) if (!this.deliver(ws, state, p)) break;
    }
  }

  /** A client message: size first (never parsed when too big), then the flood budget, then strict JSON. */
  onMessage(ws: WebSocket, frame: string | ArrayBuffer): void {
    const state = attachmentOf(ws);
    const nowMs = this.now();
    if (this.closeIfExpired(ws, state, nowMs)) return;
    if (isOversized(frame)) return close(ws, CLOSE.MESSAGE_TOO_BIG);
    if (nowMs - state.windowStart > SOCKET_BUDGET_WINDOW_MS) Object.assign(state, { windowStart: nowMs, messages: 0 });
    state.messages++;
    ws.serializeAttachment(state);
    if (state.messages > SOCKET_MESSAGE_BUDGET) return close(ws, CLOSE.TOO_MANY_MESSAGES);

    const answer = answerTo(frame);
    if (answer) this.deliver(ws, state, message(answer));
  }

  /** The earliest token expiry (epoch ms) among open sockets, or null: the desk's alarm wakes for it. */
  nextExpiry(): number | null {
    let earliest: number | null = null;
    for (const ws of this.openSockets()) {
      const { expiresAt } = attachmentOf(ws);
      if (earliest === null || expiresAt < earliest) earliest = expiresAt;
    }
    return earliest;
  }

  /** Closes every socket whose token has expired by `nowMs` (4401 "token expired"). */
  closeExpired(nowMs: number): void {
    for (const ws of this.openSockets()) this.closeIfExpired(ws, attachmentOf(ws), nowMs);
  }

  /** The client closed: complete the close handshake with its code. */
  onClose(ws: WebSocket, code: number, reason: string): void {
    try {
      ws.close(echoCloseCode(code), reason);
    } catch {
      // already closed
    }
  }

  /** Sends one frame unless the socket's token has expired (then closes it 4401); false if not sent. */
  private deliver(ws: WebSocket, state: SocketAttachment, text: string): boolean {
    if (this.closeIfExpired(ws, state, this.now())) return false;
    try {
      ws.send(text);
      return true;
    } catch {
      return false; // a socket closing under us; its client replays with `since` when it reconnects
    }
  }

  private closeIfExpired(ws: WebSocket, state: SocketAttachment, nowMs: number): boolean {
    if (nowMs < state.expiresAt) return false;
    close(ws, CLOSE.TOKEN_EXPIRED);
    return true;
  }

  /** Sockets that still count: open, not closing (a closed or closing one no longer holds a place). */
  private openSockets(): WebSocket[] {
    return this.ctx.getWebSockets().filter((ws) => ws.readyState === WebSocket.OPEN);
  }
}

/**
 * The attachment, read defensively: a socket without a usable expiry is treated as expired, so it is
 * closed rather than kept open past a token nobody checked.
 */
function attachmentOf(ws: WebSocket): SocketAttachment {
  const state = ws.deserializeAttachment() as Partial<SocketAttachment> | null;
  return {
    traderId: state?.traderId ?? "",
    expiresAt: typeof state?.expiresAt === "number" ? state.expiresAt : 0,
    windowStart: state?.windowStart ?? 0,
    messages: state?.messages ?? 0,
  };
}

/** What the desk answers to a client message, or null when it needs no answer. */
function answerTo(frame: string | ArrayBuffer): ServerMessage | null {
  if (typeof frame !== "string") return badMessage("Binary frames are not read; send JSON text");
  const json = parseStrictJson(frame);
  if (!json.ok) {
    return json.duplicateKeys.length > 0
      ? { type: "error", error: "MALFORMED_JSON", message: json.message, details: { duplicate_keys: json.duplicateKeys } }
      : { type: "error", error: "MALFORMED_JSON", message: "The message is not JSON; send {\"type\":\"ping\"}" };
  }
  const parsed = ClientMessage.safeParse(json.value);
  if (!parsed.success) return badMessage('Send {"type":"ping"}; order events flow from the server only');
  // {"type":"auth"} on an authenticated socket needs no answer beyond the acknowledgement already sent.
  return parsed.data.type === "ping" ? { type: "pong" } : null;
}

const badMessage = (text: string): ServerMessage => ({ type: "error", error: "BAD_MESSAGE", message: text });

const message = (m: ServerMessage): string => JSON.stringify(m);

function close(ws: WebSocket, how: { code: number; reason: string }): void {
  try {
    ws.close(how.code, how.reason);
  } catch {
    // already closing
  }
}

function refusal(status: number, code: ErrorCode, text: string, details: Record<string, unknown> = {}): Response {
  return Response.json({ error: code, message: text, details } satisfies ErrorBody, { status });
}
