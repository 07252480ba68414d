// /api/v1/account: the trader's cash, reservations, buying power and positions, live from the desk.
import { createRoute } from "@hono/zod-openapi";
import { requireRole } from "../auth";
import { deskOf, router } from "../context";
import { unwrap } from "../http";
import { Account } from "../shared/orders";
import { authErrors, bearer, errorResponse, json } from "./schemas";

const read = createRoute({
  method: "get",
  path: "/",
  tags: ["account"],
  summary: "Your cash, reserved cash, buying power and positions",
  security: bearer,
  middleware: [requireRole("trader")] as const,
  responses: { 200: json("The account", Account), ...authErrors, 404: errorResponse("ACCOUNT_NOT_FOUND") },
});

export const account = router().openapi(read, async (c) => c.json(unwrap(await deskOf(c.env, c.var.traderId).getAccount(c.var.traderId)), 200));
