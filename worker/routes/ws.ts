// /ws/orders/events: a trader's live order events. The token (query `token`, or an Authorization header)
// is verified here, before the upgrade, and the verified `sub` picks the desk that accepts the socket.
// Without a token (wscat), the Worker holds the socket until a first {"type":"auth"} message, then relays.
import { Hono } from "hono";
import { bearerToken, verifyToken } from "../auth";
import { deskOf, type AppEnv } from "../context";
import { ApiError } from "../http";
import { ClientMessage, WS_PROTOCOL } from "../shared/events";

const AUTH_WAIT_MS = 10_000;

export const wsRoutes = new Hono<AppEnv>().get("/orders/events", async (c) => {
  if (c.req.header("Upgrade")?.toLowerCase() !== "websocket") {
    throw new ApiError("UPGRADE_REQUIRED", "Connect with a WebSocket client, subprotocol order-updates, to /ws/orders/events?token=<JWT>");
  }
  const sinceText = c.req.query("since");
  if (sinceText !== undefined && !/^\d{1,15}$/.test(sinceText)) {
    throw new ApiError("VALIDATION_ERROR", "since must be the last event seq you received (a whole number)", { fields: { since: "whole number" } });
  }
  const offered = c.req.header("Sec-WebSocket-Protocol") ?? "";
  const token = c.req.query("token") ?? bearerToken(c.req.header("Authorization"));
  if (token) {
    const who = await verifyToken(token, c.env);
    if (who.role !== "trader") throw new ApiError("FORBIDDEN", "Order events are for traders; your token has the " + who.role + " role");
    return deskOf(c.env, who.sub).fetch(deskUpgrade(c.req.url, who.sub, sinceText, offered));
  }
  return relayAfterAuth(c.env, c.req.url, sinceText, offered);
});

function deskUpgrade(url: string, traderId: string, since: string | undefined, protocols: string): Request {
  const headers = new Headers({ Upgrade: "websocket", "X-Fillwire-Trader": traderId });
  if (since !== undefined) headers.set("X-Fillwire-Since", since);
  if (protocols) headers.set("Sec-WebSocket-Protocol", protocols);
  return new Request(url, { headers });
}

/** The wscat flow: accept, wait for {"type":"auth","token":...}, then connect to the desk and relay both ways. */
function relayAfterAuth(env: Env, url: string, since: string | undefined, protocols: string): Response {
  const { 0: client, 1: server } = new WebSocketPair();
  server.accept();
  const refuse = (message: string) => {
    server.send(JSON.stringify({ type: "error", error: "UNAUTHORIZED", message }));
    server.close(4401, "unauthorized");
  };
  const timer = setTimeout(() => refuse('No {"type":"auth","token":"<JWT>"} message within 10 s'), AUTH_WAIT_MS);
  let upstream: WebSocket | null = null;
  let authenticating = false;

  server.addEventListener("message", (event) => {
    if (upstream) return upstream.send(event.data);
    if (authenticating) return;
    authenticating = true;
    clearTimeout(timer);
    void connect(String(event.data));
  });
  const connect = async (first: string) => {
    const token = firstMessageToken(first);
    if (!token) return refuse('First message must be {"type":"auth","token":"<JWT>"} (or the bare JWT)');
    try {
      const who = await verifyToken(token, env);
      if (who.role !== "trader") return refuse("Order events are for traders");
      const response = await deskOf(env, who.sub).fetch(deskUpgrade(url, who.sub, since, WS_PROTOCOL));
      const socket = response.webSocket;
      if (!socket) return refuse("Could not reach your desk; reconnect");
      socket.accept();
      upstream = socket;
      socket.addEventListener("message", (e) => server.send(e.data));
      socket.addEventListener("close", (e) => server.close(e.code === 1005 ? 1000 : e.code, e.reason));
      server.addEventListener("close", (e) => socket.close(e.code === 1005 ? 1000 : e.code, e.reason));
    } catch (err) {
      refuse(err instanceof ApiError ? err.message : "Token is not valid");
    }
  };
  server.addEventListener("close", () => clearTimeout(timer));
  const offered = protocols.split(",").map((p) => p.trim());
  const headers = offered.includes(WS_PROTOCOL) ? { "Sec-WebSocket-Protocol": WS_PROTOCOL } : undefined;
  return new Response(null, { status: 101, webSocket: client, headers });
}

/** The token in a first message: {"type":"auth","token":...}, or a bare JWT typed at a wscat prompt. */
function firstMessageToken(text: string): string | null {
  const bare = text.trim();
  if (/^[\w-]+\.[\w-]+\.[\w-]*$/.test(bare)) return bare;
  try {
    const parsed = ClientMessage.safeParse(JSON.parse(bare));
    return parsed.success && parsed.data.type === "auth" ? parsed.data.token : null;
  } catch {
    return null;
  }
}
