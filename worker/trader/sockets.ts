// The trader's WebSockets on the desk (hibernation API): accept an upgrade the Worker verified, replay
// what a reconnecting client missed, broadcast each committed event, and close floods, oversized messages
// and sockets whose token has expired. Every frame goes out through `deliver`, which checks the expiry
// first: a socket is sent nothing after its token's `exp`, whether or not the alarm has fired yet.
import { intVar } from "../config";
import { ClientMessage, WS_PROTOCOL, type ServerMessage } from "../shared/events";
import type { ErrorBody, ErrorCode } from "../shared/errors";
import { parseStrictJson, type StrictJson } from "../shared/json";
import { isOrderCommand, parseOrderCommand, reject, requestIdOf, type Ack, type OrderCommand, type Reject } from "../shared/socket-orders";
import { CLOSE, echoCloseCode, isOversized } from "../shared/socket-limits";
import type { Account } from "../shared/account";
import type { Order } from "../shared/orders";
import type { Journal } from "./journal";
import type { OutgoingEvent } from "./store";

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

/** Events held back from one socket while its order commands are under way (each names what it covers). */
interface Hold {
  running: Set<(orderId: string | null) => boolean>;
  queue: string[];
}

export class DeskSockets {
  private readonly holds = new Map<WebSocket, Hold>();

  constructor(
    private readonly ctx: DurableObjectState,
    private readonly journal: Journal,
    private readonly now: () => number,
    /** The working orders and the account now (null: no account yet), for snapshot=1. */
    private readonly snapshot: () => { orders: Order[]; account: Account | null },
    /** Runs an order command through the desk's order entry (the same path as HTTP). */
    private readonly runCommand: (command: OrderCommand) => Promise<Ack | Reject>,
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
    if (wantsSnapshot(request.url)) {
      // Consistent with `latest`: nothing else runs between reading the seq and the state.
      const { orders, account } = this.snapshot();
      if (account) this.deliver(server, state, message({ type: "snapshot", seq: latest, orders, account }));
    }
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

  /**
   * Sends committed events to every socket of the trader whose token is still valid. A socket whose order
   * command is under way holds back the events of that command's orders (and, to keep seq order, every event
   * after the first one held) until the command's answer has gone out: an ack comes before its events.
   */
  broadcast(events: OutgoingEvent[]): void {
    if (events.length === 0) return;
    for (const ws of this.ctx.getWebSockets()) {
      const hold = this.holds.get(ws);
      const state = attachmentOf(ws);
      for (const e of events) {
        if (hold && (hold.queue.length > 0 || [...hold.running].some((covers) => covers(e.orderId)))) hold.queue.push(e.payload);
        else if (!this.deliver(ws, state, e.payload)) break;
      }
    }
  }

  /**
   * Runs an order command that came on `ws`: the events of the orders it `covers` wait until its answer has
   * gone out on this socket (and, to keep seq order, so does every event after the first one held, until no
   * command of this socket is under way); other sockets hear them at once.
   */
  async answerCommand(ws: WebSocket, covers: (orderId: string | null) => boolean, run: () => Promise<ServerMessage>): Promise<void> {
    let hold = this.holds.get(ws);
    if (!hold) this.holds.set(ws, (hold = { running: new Set(), queue: [] }));
    hold.running.add(covers);
    let answer: ServerMessage | null = null;
    try {
      answer = await run();
    } finally {
      hold.running.delete(covers);
      const state = attachmentOf(ws);
      if (answer) this.deliver(ws, state, message(answer));
      if (hold.running.size === 0) {
        this.holds.delete(ws);
        for (const payload of hold.queue) if (!this.deliver(ws, state, payload)) break;
      }
    }
  }

  /**
   * A client message: size first (never parsed when too big), then strict JSON. An order command goes to
   * the desk's order entry (it counts against the order rate limit, not the message budget); anything else
   * counts against the socket's budget and is answered here.
   */
  async onMessage(ws: WebSocket, frame: string | ArrayBuffer): Promise<void> {
    const state = attachmentOf(ws);
    const nowMs = this.now();
    if (this.closeIfExpired(ws, state, nowMs)) return;
    if (isOversized(frame)) return close(ws, CLOSE.MESSAGE_TOO_BIG);
    const json = typeof frame === "string" ? parseStrictJson(frame) : null;
    if (json?.ok && isOrderCommand(json.value)) return this.orderCommand(ws, json.value);
    if (json && !json.ok && json.duplicateKeys.length > 0) {
      const loose = looseParse(frame as string);
      if (isOrderCommand(loose)) {
        const body = { error: "MALFORMED_JSON", message: json.message, details: { duplicate_keys: json.duplicateKeys } } as const;
        return void this.deliver(ws, state, message(reject(requestIdOf(loose), 400, body)));
      }
    }
    if (nowMs - state.windowStart > SOCKET_BUDGET_WINDOW_MS) Object.assign(state, { windowStart: nowMs, messages: 0 });
    state.messages++;
    ws.serializeAttachment(state);
    if (state.messages > SOCKET_MESSAGE_BUDGET) return close(ws, CLOSE.TOO_MANY_MESSAGES);
    const answer = answerTo(frame, json);
    if (answer) this.deliver(ws, state, message(answer));
  }

  /** An order command: checked with the HTTP route's schema, run by the desk, answered ack or reject. */
  private async orderCommand(ws: WebSocket, value: unknown): Promise<void> {
    const parsed = parseOrderCommand(value);
    if (!parsed.ok) return void this.deliver(ws, attachmentOf(ws), message(reject(parsed.requestId, 400, parsed.body)));
    const { command } = parsed;
    const covers = command.type === "cancel" || command.type === "amend" ? (id: string | null) => id === command.order_id : () => true;
    await this.answerCommand(ws, covers, () => this.runCommand(command));
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

/** What the desk answers to a client message (other than an order command), or null when it needs none. */
function answerTo(frame: string | ArrayBuffer, json: StrictJson | null): ServerMessage | null {
  if (typeof frame !== "string" || json === null) return badMessage("Binary frames are not read; send JSON text");
  if (!json.ok) {
    return json.duplicateKeys.length > 0
      ? { type: "error", error: "MALFORMED_JSON", message: json.message, details: { duplicate_keys: json.duplicateKeys } }
      : { type: "error", error: "MALFORMED_JSON", message: "The message is not JSON; send {\"type\":\"ping\"}" };
  }
  const parsed = ClientMessage.safeParse(json.value);
  if (!parsed.success) return badMessage('Send {"type":"ping"}, or an order command: submit, cancel, amend, cancel_all (see /api/docs)');
  // {"type":"auth"} on an authenticated socket needs no answer beyond the acknowledgement already sent.
  return parsed.data.type === "ping" ? { type: "pong" } : null;
}

/** JSON.parse, for a message already refused for its duplicate keys (only to find what it meant). */
function looseParse(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
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

/** snapshot=1 (or true) on the socket's URL, which the Worker hands over as the client sent it. */
function wantsSnapshot(url: string): boolean {
  const value = new URL(url).searchParams.get("snapshot");
  return value === "1" || value === "true";
}
