// Tokens the desk accepts: HS256 with the local JWT_SECRET (.dev.vars, or $JWT_SECRET for --url servers).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { SignJWT } from "jose";
import { ROOT } from "./server.ts";

export type Role = "trader" | "admin" | "compliance";

function jwtSecret(): string {
  if (process.env.JWT_SECRET) return process.env.JWT_SECRET;
  const text = readFileSync(join(ROOT, ".dev.vars"), "utf8");
  const m = /^\s*JWT_SECRET\s*=\s*"?(.*?)"?\s*$/m.exec(text);
  if (!m?.[1]) throw new Error("No JWT_SECRET in .dev.vars or the environment");
  return m[1];
}

let key: Uint8Array | null = null;

export function sign(sub: string, role: Role): Promise<string> {
  key ??= new TextEncoder().encode(jwtSecret());
  return new SignJWT({ role }).setProtectedHeader({ alg: "HS256", typ: "JWT" }).setSubject(sub).setIssuedAt().setExpirationTime("2h").sign(key);
}
