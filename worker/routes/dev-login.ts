// /api/v1/dev/login: local development only. Exists when DEV_LOGIN is "true" (set in .dev.vars, never in
// wrangler.toml), so a deployed desk answers 404 here. Lists the seeded people and signs them a token.
import { Hono } from "hono";
import { SignJWT } from "jose";
import { z } from "zod";
import { ROLES, type AppEnv } from "../context";
import { ApiError, errorBody, validationFailure } from "../http";
import { database } from "../db/client";
import { accounts } from "../db/schema";
import { toDollars } from "../shared/money";

const Login = z.strictObject({ sub: z.string().regex(/^[\w.@-]{1,128}$/), role: z.enum(ROLES).default("trader") });
const TOKEN_TTL_S = 8 * 3600;

export const devLogin = new Hono<AppEnv>()
  .use(async (c, next) => {
    if (c.env.DEV_LOGIN !== "true") return c.json(errorBody("NOT_FOUND", `No route for ${c.req.method} ${c.req.path}; see /api/docs`), 404);
    await next();
  })
  .get("/", async (c) => {
    const rows = await database(c.env.DB).select({ id: accounts.traderId, cash: accounts.cashCents }).from(accounts).orderBy(accounts.traderId).limit(50).all();
    const users = [
      ...rows.map((r) => ({ sub: r.id, role: "trader" as const, cash: toDollars(r.cash) })),
      { sub: "compliance", role: "compliance" as const, cash: null },
      { sub: "admin", role: "admin" as const, cash: null },
    ];
    return c.json({ users });
  })
  .post("/", async (c) => {
    const parsed = Login.safeParse(await c.req.json().catch(() => null));
    if (!parsed.success) return c.json(validationFailure(parsed.error), 400);
    if (!c.env.JWT_SECRET) throw new ApiError("INTERNAL_ERROR", "JWT_SECRET is not configured");
    const expires = Math.floor(Date.now() / 1000) + TOKEN_TTL_S;
    const token = await new SignJWT({ role: parsed.data.role })
      .setProtectedHeader({ alg: "HS256", typ: "JWT" })
      .setSubject(parsed.data.sub)
      .setIssuedAt()
      .setExpirationTime(expires)
      .sign(new TextEncoder().encode(c.env.JWT_SECRET));
    return c.json({ token, sub: parsed.data.sub, role: parsed.data.role, expires_at: new Date(expires * 1000).toISOString() });
  });
