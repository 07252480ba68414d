// /api/v1/admin/drills: fault drills for local and staging desks. Exists only when CHAOS_DRILLS is "true"
// (set in .dev.vars, never in wrangler.toml), and only for the admin role.
//   PUT  /d1-outage {seconds}          every D1 write from the desks' outboxes fails until then
//   POST /desks/:trader_id/restart     the trader's Durable Object is reset (in-memory state and in-flight work lost)
//   GET  /venue/:symbol/orders         what the simulated venue executed, per order key
import { Hono } from "hono";
import { z } from "zod";
import { requireRole } from "../auth";
import { deskOf, venueOf, type AppEnv } from "../context";
import { errorBody, validationFailure } from "../http";
import { Symbol } from "../shared/orders";

const Outage = z.strictObject({ seconds: z.number().min(0).max(600) });

export const drills = new Hono<AppEnv>()
  .use(async (c, next) => {
    if (c.env.CHAOS_DRILLS !== "true") return c.json(errorBody("NOT_FOUND", `No route for ${c.req.method} ${c.req.path}; see /api/docs`), 404);
    await next();
  })
  .use(requireRole("admin"))
  .put("/d1-outage", async (c) => {
    const parsed = Outage.safeParse(await c.req.json().catch(() => null));
    if (!parsed.success) return c.json(validationFailure(parsed.error), 400);
    const until = Date.now() + parsed.data.seconds * 1000;
    // A real D1 failure: inserts into execution_logs abort while the switch is on, so every outbox batch
    // (atomic, and each carries audit rows) fails as a whole.
    await c.env.DB.batch([
      c.env.DB.prepare("CREATE TABLE IF NOT EXISTS _drill_d1_outage (until_ms INTEGER NOT NULL)"),
      c.env.DB.prepare("DELETE FROM _drill_d1_outage"),
      c.env.DB.prepare("INSERT INTO _drill_d1_outage (until_ms) VALUES (?)").bind(until),
      c.env.DB.prepare(
        `CREATE TRIGGER IF NOT EXISTS _drill_d1_outage_trigger BEFORE INSERT ON execution_logs
         WHEN (SELECT MAX(until_ms) FROM _drill_d1_outage) > CAST(unixepoch('subsec') * 1000 AS INTEGER)
         BEGIN SELECT RAISE(ABORT, 'D1 unavailable (drill)'); END`,
      ),
    ]);
    return c.json({ d1_outage_until: new Date(until).toISOString() });
  })
  .post("/desks/:trader_id/restart", async (c) => {
    await deskOf(c.env, c.req.param("trader_id")).restartForDrill().catch(() => undefined);
    return c.json({ restarted: c.req.param("trader_id") }, 202);
  })
  .get("/venue/:symbol/orders", async (c) => {
    const symbol = Symbol.safeParse(c.req.param("symbol"));
    if (!symbol.success) return c.json(validationFailure(symbol.error), 400);
    return c.json({ data: await venueOf(c.env, symbol.data).executions() });
  });
