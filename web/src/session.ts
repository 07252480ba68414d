// Who is signed in. The token lives in sessionStorage (gone when the tab closes; sign out clears it)
// and is read, not trusted: the Worker verifies it on every call. Its claims only label the page.
export type Role = "trader" | "compliance" | "admin";

export interface Session {
  token: string;
  sub: string;
  role: Role;
  /** Expiry in ms since the epoch. */
  expiresAt: number;
}

const KEY = "fillwire.token";

/** The claims of a JWT, without verifying it; null when it is not a readable JWT with sub and exp. */
export function readToken(token: string): Session | null {
  const part = token.trim().split(".")[1];
  if (!part) return null;
  try {
    const json = atob(part.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(part.length / 4) * 4, "="));
    const claims: unknown = JSON.parse(json);
    if (typeof claims !== "object" || claims === null) return null;
    const { sub, role = "trader", exp } = claims as Record<string, unknown>;
    if (typeof sub !== "string" || typeof exp !== "number") return null;
    if (role !== "trader" && role !== "compliance" && role !== "admin") return null;
    return { token: token.trim(), sub, role, expiresAt: exp * 1000 };
  } catch {
    return null;
  }
}

export function loadSession(now = Date.now()): Session | null {
  const token = sessionStorage.getItem(KEY);
  const session = token ? readToken(token) : null;
  if (!session || session.expiresAt <= now) {
    sessionStorage.removeItem(KEY);
    return null;
  }
  return session;
}

export function saveSession(session: Session): void {
  sessionStorage.setItem(KEY, session.token);
}

export function clearSession(): void {
  sessionStorage.removeItem(KEY);
}
