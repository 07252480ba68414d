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
