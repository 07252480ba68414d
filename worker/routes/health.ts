import { createRoute } from "@hono/zod-openapi";
import { z } from "zod";
import { router } from "../context";
import { json } from "./schemas";

const health = createRoute({
  method: "get",
  path: "/",
  tags: ["health"],
  summary: "Liveness",
  responses: { 200: json("Up", z.object({ status: z.literal("ok"), timestamp: z.string() })) },
});

export const healthRoutes = router().openapi(health, (c) => c.json({ status: "ok" as const, timestamp: new Date().toISOString() }, 200));
