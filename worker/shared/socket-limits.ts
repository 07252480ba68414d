// The bounds every order-events socket is held to, on both sides of the relay (the Worker's first-message
// auth flow and the desk), and the close codes that name them (SPEC, "Sockets are bounded", "A socket lives
// no longer than its token"). No cloudflare:* imports: the page may read these too.

/** The largest client message (bytes, UTF-8 for text) a socket accepts; a larger one closes it unparsed. */
export const MAX_CLIENT_MESSAGE_BYTES = 16 * 1024;

/** Close codes and reasons the server uses (4401 mirrors HTTP 401: reconnect with a fresh token). */
export const CLOSE = {
  TOKEN_EXPIRED: { code: 4401, reason: "token expired" },
  UNAUTHORIZED: { code: 4401, reason: "unauthorized" },
  MESSAGE_TOO_BIG: { code: 1009, reason: "message too big" },
  TOO_MANY_MESSAGES: { code: 1008, reason: "too many messages" },
  TOO_MANY_SOCKETS: { code: 1008, reason: "too many sockets" },
} as const;

/**
 * Whether a client frame is over MAX_CLIENT_MESSAGE_BYTES, decided without parsing it. A text frame's UTF-8
 * size is between its UTF-16 length and three times that, so only a frame in between is encoded to count.
 */
export function isOversized(frame: string | ArrayBuffer): boolean {
  if (typeof frame !== "string") return frame.byteLength > MAX_CLIENT_MESSAGE_BYTES;
  if (frame.length > MAX_CLIENT_MESSAGE_BYTES) return true;
  if (frame.length * 3 <= MAX_CLIENT_MESSAGE_BYTES) return false;
  return new TextEncoder().encode(frame).byteLength > MAX_CLIENT_MESSAGE_BYTES;
}

/** A close code a server may send back for one it received: 1005/1006 (no code, abnormal) become 1000. */
export function echoCloseCode(code: number): number {
  return code === 1005 || code === 1006 || code === 1015 ? 1000 : code;
}
