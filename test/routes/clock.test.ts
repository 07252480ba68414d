// GET /api/v1/clock through the Worker: any signed-in role reads the session calendar; nobody else does.
import { describe, expect, it } from "vitest";
import { isOpen } from "../../worker/venue/calendar";
import { call, json } from "../helpers/api";
import { sign, type Role } from "../helpers/auth";

interface Clock {
  timestamp: string;
  is_open: boolean;
  next_open: string;
  next_close: string;
}

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

describe("GET /api/v1/clock", () => {
  it.each<Role>(["trader", "compliance", "admin"])("answers the calendar to a %s", async (role) => {
    const res = await call("/api/v1/clock", { token: await sign(`clock-${crypto.randomUUID().slice(0, 8)}`, role) });
    expect(res.status, await res.clone().text()).toBe(200);
    const body = await json<Clock>(res);
    expect(Object.keys(body).sort()).toEqual(["is_open", "next_close", "next_open", "timestamp"]);
    for (const key of ["timestamp", "next_open", "next_close"] as const) expect(body[key]).toMatch(ISO_UTC);

    const now = Date.parse(body.timestamp);
    const open = Date.parse(body.next_open);
    const close = Date.parse(body.next_close);
    expect(Math.abs(now - Date.now())).toBeLessThan(60_000);
    expect(body.is_open).toBe(isOpen(now));
    if (body.is_open) {
      expect(now).toBeLessThan(close); // today's close is ahead
      expect(open).toBeGreaterThan(close); // the next open is the next session's
    } else {
      expect(open).toBeGreaterThan(now);
      expect(close).toBeGreaterThan(open); // the close of that same next session
      expect(close - open).toBeLessThanOrEqual(6.5 * 3_600_000);
    }
  });

  it("answers 401 without a token", async () => {
    const res = await call("/api/v1/clock");
    expect(res.status).toBe(401);
    expect((await json<{ error: string }>(res)).error).toBe("UNAUTHORIZED");
  });

  it("is in the OpenAPI document", async () => {
    const doc = await json<{ paths: Record<string, unknown> }>(await call("/api/v1/openapi.json"));
    expect(doc.paths).toHaveProperty(["/api/v1/clock", "get"]);
  });
});
