// Real tokens, signed with jose exactly as an identity provider would; verification is never stubbed.
import { SignJWT } from "jose";
import { env } from "cloudflare:workers";

export type Role = "trader" | "compliance" | "admin";

export function sign(sub: string, role: Role = "trader", ttl = "1h"): Promise<string> {
  return new SignJWT({ role })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject(sub)
    .setIssuedAt()
    .setExpirationTime(ttl)
    .sign(new TextEncoder().encode(env.JWT_SECRET));
}

/** A token that expires at `exp` (epoch seconds, as in the claim): for what happens when a token runs out. */
export function signExpiringAt(sub: string, exp: number, role: Role = "trader"): Promise<string> {
  return new SignJWT({ role })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject(sub)
    .setIssuedAt()
    .setExpirationTime(exp)
    .sign(new TextEncoder().encode(env.JWT_SECRET));
}
