// /ws/orders/events: a trader's live order events. The token (query `token`, or an Authorization header)
// is verified here, before the upgrade, and the verified `sub` picks the desk that accepts the socket; the
// desk answers 101, or 429 TOO_MANY_SOCKETS when the trader holds MAX_SOCKETS_PER_TRADER, passed through.
// Without a token (wscat), the Worker holds the socket until a first {"type":"auth"} message, then relays.
import { Hono } from "hono";
import { bearerToken, verifyToken, type Identity } from "../auth";
import { deskOf, type AppEnv } from "../context";
import { ApiError } from "../http";
import { ClientMessage, WS_PROTOCOL, type ServerMessage } from "../shared/events";
import { parseStrictJson } from "../shared/json";
import { CLOSE, echoCloseCode, isOversized } from "../shared/socket-limits";

/** How long a socket may wait for its first-message auth before it is closed 4401 (ms). */
const AUTH_WAIT_MS = 10_000;
/**
 * Sockets this isolate holds while they wait for (or check) their first-message auth. Each may hold
 * MAX_FRAMES_DURING_AUTH frames of up to 16 KiB, so this bounds that memory too (100 x 256 KiB); one more
 * is refused with 429 before the upgrade.
 */
export const MAX_PENDING_AUTH = 100;
/** Frames kept, in order, while the auth message is being checked; one more closes the socket 1008. */
export const MAX_FRAMES_DURING_AUTH = 16;

/** Sockets of this isolate waiting for their first-message auth (see MAX_PENDING_AUTH). */
let pendingAuth = 0;

export const wsRoutes = new Hono<AppEnv>().get("/orders/events", async (c) => {
  if (c.req.header("Upgrade")?.toLowerCase() !== "websocket") {
    throw new ApiError("UPGRADE_REQUIRED", "Connect with a WebSocket client, subprotocol order-updates, to /ws/orders/events?token=<JWT>");
  }
  const sinceText = c.req.query("since");
  if (sinceText !== undefined && !/^\d{1,15}$/.test(sinceText)) {
    throw new ApiError("VALIDATION_ERROR", "since must be the last event seq you received (a whole number)", { fields: { since: "whole number" } });
  }
  const snapshot = c.req.query("snapshot");
  if (snapshot !== undefined && !["0", "1", "true", "false"].includes(snapshot)) {
    throw new ApiError("VALIDATION_ERROR", "snapshot must be 1 (send the working orders and the account first) or 0", { fields: { snapshot: "1 or 0" } });
  }
  const offered = c.req.header("Sec-WebSocket-Protocol") ?? "";
  const token = c.req.query("token") ?? bearerToken(c.req.header("Authorization"));
  if (token) {
    const who = await verifyToken(token, c.env);
    if (who.role !== "trader") throw new ApiError("FORBIDDEN", "Order events are for traders; your token has the " + who.role + " role");
    return deskOf(c.env, who.sub).fetch(deskUpgrade(c.req.url, who, sinceText, offered));
  }
  if (pendingAuth >= MAX_PENDING_AUTH) {
    throw new ApiError(
      "TOO_MANY_SOCKETS", "Too many sockets are waiting to authenticate; connect with ?token=<JWT>, or retry shortly",
      { max_pending_auth: MAX_PENDING_AUTH }, { "Retry-After": String(AUTH_WAIT_MS / 1000) },
    );
  }
  return relayAfterAuth(c.env, c.req.url, sinceText, offered);
});

function deskUpgrade(url: string, who: Identity, since: string | undefined, protocols: string): Request {
  const headers = new Headers({ Upgrade: "websocket", "X-Fillwire-Trader": who.sub, "X-Fillwire-Expires": String(who.expiresAt) });
  if (since !== undefined) headers.set("X-Fillwire-Since", since);
  if (protocols) headers.set("Sec-WebSocket-Protocol", protocols);
  return new Request(url, { headers });
}

type Frame = string | ArrayBuffer;

/**
 * The wscat flow: accept, wait for {"type":"auth","token":...}, connect to the desk with the verified
 * identity, then relay both ways. Frames that arrive while the auth message is checked are kept in order and
 * forwarded after it. The desk closes its socket when the token expires (4401) and that close is passed on;
 * the relay also forwards nothing from the desk after the expiry.
 */
function relayAfterAuth(env: Env, url: string, since: string | undefined, protocols: string): Response {
  const { 0: client, 1: server } = new WebSocketPair();
  server.accept();
  pendingAuth++;
  let phase: "waiting" | "checking" | "relaying" | "closed" = "waiting";
  let upstream: WebSocket | null = null;
  let expiresAt = Infinity;
  const held: Frame[] = [];
  /** Read through a call: TypeScript would otherwise keep its narrowing of `phase` across an await. */
  const gone = () => phase === "closed";

  /** No longer waiting for auth (authenticated or gone): frees the pending place exactly once. */
  const settle = () => {
    if (phase === "waiting" || phase === "checking") pendingAuth--;
    clearTimeout(timer);
  };
  const end = (how: { code: number; reason: string }, notice?: ServerMessage) => {
    if (phase === "closed") return;
    settle();
    phase = "closed";
    try {
      if (notice) server.send(JSON.stringify(notice));
      server.close(how.code, how.reason);
    } catch {
      // the client is already gone
    }
    try {
      upstream?.close(how.code, how.reason);
    } catch {
      // the desk closed first
    }
  };
  const refuse = (text: string) => end(CLOSE.UNAUTHORIZED, { type: "error", error: "UNAUTHORIZED", message: text });
  const timer = setTimeout(() => refuse('No {"type":"auth","token":"<JWT>"} message within 10 s'), AUTH_WAIT_MS);

  const connect = async (first: Frame) => {
    const found = firstMessageToken(first);
    if ("refusal" in found) return end(CLOSE.UNAUTHORIZED, found.refusal);
    let who: Identity;
    try {
      who = await verifyToken(found.token, env);
    } catch (err) {
      return refuse(err instanceof ApiError ? err.message : "Token is not valid");
    }
    if (who.role !== "trader") return refuse("Order events are for traders");
    if (gone()) return; // the client left while the token was checked
    const response = await deskOf(env, who.sub).fetch(deskUpgrade(url, who, since, WS_PROTOCOL));
    const socket = response.webSocket;
    if (gone()) {
      socket?.accept();
      return socket?.close(1000, "client left");
    }
    if (!socket) {
      const body = await response.json<{ error?: string; message?: string }>().catch(() => ({ error: undefined, message: undefined }));
      if (response.status === 429) {
        return end(CLOSE.TOO_MANY_SOCKETS, { type: "error", error: "TOO_MANY_SOCKETS", message: body.message ?? "Too many open sockets" });
      }
      return refuse(body.message ?? "Could not reach your desk; reconnect");
    }
    socket.accept();
    settle();
    upstream = socket;
    expiresAt = who.expiresAt;
    phase = "relaying";
    socket.addEventListener("message", (e) => {
      if (Date.now() >= expiresAt) return end(CLOSE.TOKEN_EXPIRED);
      try {
        server.send(e.data);
      } catch {
        // the client is closing; its close event ends the relay
      }
    });
    socket.addEventListener("close", (e) => end({ code: echoCloseCode(e.code), reason: e.reason }));
    for (const frame of held.splice(0)) socket.send(frame);
  };

  server.addEventListener("message", (event) => {
    const frame = event.data as Frame;
    if (isOversized(frame)) return end(CLOSE.MESSAGE_TOO_BIG);
    if (phase === "relaying") {
      if (Date.now() >= expiresAt) return end(CLOSE.TOKEN_EXPIRED);
      return upstream!.send(frame);
    }
    if (phase === "checking") {
      if (held.length >= MAX_FRAMES_DURING_AUTH) return end(CLOSE.TOO_MANY_MESSAGES);
      held.push(frame);
      return;
    }
    if (phase === "waiting") {
      phase = "checking";
      connect(frame).catch(() => refuse("Could not reach your desk; reconnect"));
    }
  });
  server.addEventListener("close", (e) => end({ code: echoCloseCode(e.code), reason: e.reason }));
  server.addEventListener("error", () => end({ code: 1011, reason: "client socket error" }));

  const offered = protocols.split(",").map((p) => p.trim());
  const headers = offered.includes(WS_PROTOCOL) ? { "Sec-WebSocket-Protocol": WS_PROTOCOL } : undefined;
  return new Response(null, { status: 101, webSocket: client, headers });
}

/**
 * The token in a first message: {"type":"auth","token":...} (strict JSON: a repeated key is refused with
 * MALFORMED_JSON, never "last one wins"), or a bare JWT typed at a wscat prompt.
 */
function firstMessageToken(frame: Frame): { token: string } | { refusal: ServerMessage } {
  const unauthorized: ServerMessage = {
    type: "error", error: "UNAUTHORIZED", message: 'First message must be {"type":"auth","token":"<JWT>"} (or the bare JWT)',
  };
  if (typeof frame !== "string") return { refusal: unauthorized };
  const bare = frame.trim();
  if (/^[\w-]+\.[\w-]+\.[\w-]*$/.test(bare)) return { token: bare };
  const json = parseStrictJson(bare);
  if (!json.ok && json.duplicateKeys.length > 0) {
    return { refusal: { type: "error", error: "MALFORMED_JSON", message: json.message, details: { duplicate_keys: json.duplicateKeys } } };
  }
  const parsed = json.ok ? ClientMessage.safeParse(json.value) : null;
  return parsed?.success && parsed.data.type === "auth" ? { token: parsed.data.token } : { refusal: unauthorized };
}
