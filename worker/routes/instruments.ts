// /api/v1/instruments: what can be traded, at the venue's current reference price.
import { createRoute } from "@hono/zod-openapi";
import { z } from "zod";
import { signedIn } from "../auth";
import { router } from "../context";
import { listInstruments } from "../db/instruments";
import { toDollars } from "../shared/money";
import { Instrument } from "../shared/orders";
import { authErrors, bearer, json } from "./schemas";

const list = createRoute({
  method: "get",
  path: "/",
  tags: ["instruments"],
  summary: "Symbols with their current price",
  security: bearer,
  middleware: [signedIn] as const,
  responses: { 200: json("Instruments", z.object({ data: z.array(Instrument) })), ...authErrors },
});

export const instruments = router().openapi(list, async (c) => {
  const rows = await listInstruments(c.env.DB);
  const data = rows.map((i) => ({ symbol: i.symbol, name: i.name, price: toDollars(i.priceCents), tick_size: toDollars(i.tickCents), tradable: i.tradable }));
  return c.json({ data }, 200);
});
