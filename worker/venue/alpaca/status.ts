// The venue link's state for an admin (GET /api/v1/admin/venue): the Alpaca stream link's, or the
// simulator's health. The schema is the route's contract (and its OpenAPI document).
import { z } from "zod";
import { alpacaConfig, linkName } from "./config";

export const VenueStatus = z
  .union([
    z.object({
      exchange: z.literal("alpaca"),
      api_url: z.string(),
      stream: z.object({
        state: z.enum(["idle", "connecting", "connected", "disconnected", "unauthorized"]),
        connected_since: z.string().nullable(),
        last_event_at: z.string().nullable(),
        last_reconcile_at: z.string().nullable(),
        reconnects: z.number().int(),
        last_error: z.string().nullable(),
        next_attempt_at: z.string().nullable(),
      }),
      orders: z.object({ working: z.number().int(), held: z.number().int() }),
      reports_owed: z.number().int(),
      fills_applied: z.number().int(),
      foreign_events: z.number().int(),
      late_orders: z.number().int().meta({ description: "Orders that reached Alpaca after fillwire had given them up (all retries lost): each is cancelled there (again at each reconcile until it has ended), unless it had already ended" }),
      unbooked_fills: z.number().int().meta({
        description: "Executions Alpaca reported of orders their desk had already ended (a late order that traded before its cancel, a fill after a cancel): not booked to any trader, each on its order's audit trail as UNBOOKED; reconcile them with the account by hand",
      }),
    }),
    z.object({ exchange: z.literal("simulated"), status: z.literal("ok") }),
  ])
  .meta({ id: "VenueStatus" });
export type VenueStatus = z.infer<typeof VenueStatus>;

export async function venueStatus(env: Env): Promise<VenueStatus> {
  if (env.EXCHANGE !== "alpaca") return { exchange: "simulated", status: "ok" };
  return env.ALPACA_LINK.get(env.ALPACA_LINK.idFromName(linkName(alpacaConfig(env)))).status();
}
