// /api/v1/account: the trader's account valued at the venue's prices, and its activity ledger, live from
// the desk.
import { createRoute, z } from "@hono/zod-openapi";
import { requireRole } from "../auth";
import { deskOf, router } from "../context";
import { unwrap } from "../http";
import { Account, ActivitiesQuery, Activity } from "../shared/account";
import { authErrors, bearer, errorResponse, json } from "./schemas";

const read = createRoute({
  method: "get",
  path: "/",
  tags: ["account"],
  summary: "Your cash, reserved cash, buying power, equity, P&L, trading state and positions",
  security: bearer,
  middleware: [requireRole("trader")] as const,
  responses: { 200: json("The account", Account), ...authErrors, 404: errorResponse("ACCOUNT_NOT_FOUND") },
});

const ActivityPage = z.object({ data: z.array(Activity), next_cursor: z.string().nullable() }).meta({ id: "ActivityPage" });

const activities = createRoute({
  method: "get",
  path: "/activities",
  tags: ["account"],
  summary: "Your ledger, newest first: fills (FILL) and cash movements (CASH)",
  description: "The opening balance plus the net_amount of every activity is the account's cash.",
  security: bearer,
  middleware: [requireRole("trader")] as const,
  request: { query: ActivitiesQuery },
  responses: { 200: json("A page of activities", ActivityPage), 400: errorResponse("VALIDATION_ERROR"), ...authErrors, 404: errorResponse("ACCOUNT_NOT_FOUND") },
});

export const account = router()
  .openapi(read, async (c) => c.json(unwrap(await deskOf(c.env, c.var.traderId).getAccount(c.var.traderId)), 200))
  .openapi(activities, async (c) => c.json(unwrap(await deskOf(c.env, c.var.traderId).activities(c.var.traderId, c.req.valid("query"))), 200));
