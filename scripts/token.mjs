#!/usr/bin/env node
// npm run token -- <sub> [--role trader|compliance|admin] [--ttl 1h]
// Prints a JWT signed with the local JWT_SECRET from .dev.vars (or $JWT_SECRET).
import { parseArgs } from "node:util";
import { SignJWT } from "jose";
import { devVars } from "./dev-vars.mjs";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { role: { type: "string", default: "trader" }, ttl: { type: "string", default: "1h" } },
});
const sub = positionals[0];
if (!sub || !["trader", "compliance", "admin"].includes(values.role)) {
  console.error("usage: npm run token -- <trader_id> [--role trader|compliance|admin] [--ttl 1h]");
  process.exit(2);
}
const secret = process.env.JWT_SECRET ?? devVars().JWT_SECRET;
const token = await new SignJWT({ role: values.role })
  .setProtectedHeader({ alg: "HS256", typ: "JWT" })
  .setSubject(sub)
  .setIssuedAt()
  .setExpirationTime(values.ttl)
  .sign(new TextEncoder().encode(secret));
console.log(token);
