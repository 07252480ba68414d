// The Hono app's types: Worker bindings plus what auth puts on the context.
import { OpenAPIHono, type Hook } from "@hono/zod-openapi";
import type { z } from "zod";
import { validationFailure } from "./http";

export const ROLES = ["trader", "compliance", "admin"] as const;
export type Role = (typeof ROLES)[number];

export interface AppEnv {
  Bindings: Env;
  Variables: { traderId: string; role: Role };
}

const onInvalid: Hook<unknown, AppEnv, string, unknown> = (result, c) => {
  if (!result.success) return c.json(validationFailure(result.error as z.ZodError), 400);
};

/** A sub-app whose zod validation failures answer the SPEC's VALIDATION_ERROR shape. */
export const router = () => new OpenAPIHono<AppEnv>({ defaultHook: onInvalid });

/** The desk (Durable Object) of one trader: the verified token, never the URL, picks it. */
export const deskOf = (env: Env, traderId: string) => env.TRADER.get(env.TRADER.idFromName(traderId));
export const venueOf = (env: Env, symbol: string) => env.VENUE.get(env.VENUE.idFromName(symbol));
