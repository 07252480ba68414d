// /api/v1/clock: the venue's session calendar right now (is the market open, when it next opens and closes).
import { createRoute } from "@hono/zod-openapi";
import { z } from "zod";
import { signedIn } from "../auth";
import { router } from "../context";
import { clockAt } from "../venue/calendar";
import { authErrors, bearer, json } from "./schemas";

const Clock = z
  .object({
    timestamp: z.string().meta({ description: "The server's time, ISO 8601 UTC", example: "2026-03-10T15:00:00.000Z" }),
    is_open: z.boolean().meta({ description: "Whether the regular session (XNYS, 09:30-16:00 New York) is in progress" }),
    next_open: z.string().meta({ description: "The next session's open (after today's when open now)", example: "2026-03-11T13:30:00.000Z" }),
    next_close: z.string().meta({ description: "Today's close when open, else the next session's close; DAY orders expire then", example: "2026-03-10T20:00:00.000Z" }),
  })
  .meta({ id: "Clock" });

const read = createRoute({
  method: "get",
  path: "/",
  tags: ["clock"],
  summary: "Market hours: open now, next open and close",
  security: bearer,
  middleware: [signedIn] as const,
  responses: { 200: json("The session calendar now", Clock), ...authErrors },
});

export const clock = router().openapi(read, (c) => c.json(clockAt(Date.now()), 200));
