// Who is calling: a JWT (HS256 with JWT_SECRET, or RS256/ES256 from an identity provider's JWKS when
// JWKS_URL is set) whose `sub` is the trader id and whose `role` says what they may do.
import { createMiddleware } from "hono/factory";
import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload } from "jose";
import { ApiError } from "./http";
import { ROLES, type AppEnv, type Role } from "./context";

export interface Identity {
  sub: string;
  role: Role;
  /** When the token expires (epoch ms, from its required `exp` claim): a socket opened with it closes then. */
  expiresAt: number;
}

let jwks: { url: string; set: ReturnType<typeof createRemoteJWKSet> } | null = null;
/**
 * The HMAC key, imported once per secret (importing it on every request was a tenth of a token check).
 * The key itself is kept, not the import's promise: a promise must not settle across requests.
 */
let hmac: { secret: string; key: CryptoKey } | null = null;

async function hmacKey(secret: string): Promise<CryptoKey> {
  if (hmac?.secret === secret) return hmac.key;
  const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["verify"]);
  hmac = { secret, key };
  return key;
}

/** Verify a token; throws ApiError(UNAUTHORIZED) with a reason a person can act on. */
export async function verifyToken(token: string, env: Env): Promise<Identity> {
  let payload: JWTPayload;
  try {
    if (env.JWKS_URL) {
      if (jwks?.url !== env.JWKS_URL) jwks = { url: env.JWKS_URL, set: createRemoteJWKSet(new URL(env.JWKS_URL)) };
      ({ payload } = await jwtVerify(token, jwks.set, { algorithms: ["RS256", "ES256"], requiredClaims: ["exp", "sub"] }));
    } else {
      if (!env.JWT_SECRET) throw new ApiError("INTERNAL_ERROR", "JWT_SECRET is not configured");
      ({ payload } = await jwtVerify(token, await hmacKey(env.JWT_SECRET), { algorithms: ["HS256"], requiredClaims: ["exp", "sub"] }));
    }
  } catch (err) {
    if (err instanceof ApiError) throw err;
    throw new ApiError("UNAUTHORIZED", tokenProblem(err));
  }
  const role = payload.role ?? "trader";
  // Printable ASCII without spaces: the id travels in headers and names a Durable Object, so it must
  // survive both unchanged (an IdP's "auth0|123" does).
  if (typeof payload.sub !== "string" || !/^[\x21-\x7e]{1,128}$/.test(payload.sub)) {
    throw new ApiError("UNAUTHORIZED", "Token has no usable sub (trader id) claim: 1-128 printable characters, no spaces");
  }
  if (typeof role !== "string" || !(ROLES as readonly string[]).includes(role)) {
    throw new ApiError("UNAUTHORIZED", `Token role must be one of ${ROLES.join(", ")}`);
  }
  // jose has checked that `exp` is present, a number, and in the future.
  return { sub: payload.sub, role: role as Role, expiresAt: (payload.exp as number) * 1000 };
}

function tokenProblem(err: unknown): string {
  if (err instanceof errors.JWTExpired) return "Token expired: sign in again for a fresh token";
  if (err instanceof errors.JWTClaimValidationFailed) return `Token rejected: ${err.message}`;
  if (err instanceof errors.JOSEAlgNotAllowed) return "Token rejected: signing algorithm not accepted";
  if (err instanceof errors.JWSSignatureVerificationFailed) return "Token rejected: signature does not verify";
  return "Token is not a valid JWT signed for fillwire";
}

export function bearerToken(header: string | undefined): string | null {
  const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  return match?.[1] ?? null;
}

/** Requires a valid bearer token and one of `roles`; sets traderId and role on the context. */
export const requireRole = (...roles: Role[]) =>
  createMiddleware<AppEnv>(async (c, next) => {
    const token = bearerToken(c.req.header("Authorization"));
    if (!token) throw new ApiError("UNAUTHORIZED", "Sign in: send Authorization: Bearer <token> (npm run token -- alice prints one locally)");
    const who = await verifyToken(token, c.env);
    if (!roles.includes(who.role)) {
      throw new ApiError("FORBIDDEN", `This needs the ${roles.join(" or ")} role; your token has ${who.role}`);
    }
    c.set("traderId", who.sub);
    c.set("role", who.role);
    await next();
  });

export const signedIn = requireRole(...ROLES);
