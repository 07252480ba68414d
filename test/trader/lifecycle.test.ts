// The order state machine: reports applied twice, or out of order, change nothing more.
import { describe, expect, it } from "vitest";
import { reconcile, type OrderProgress } from "../../worker/trader/lifecycle";
import type { VenueReport } from "../../worker/venue/adapter";
import { retryDelayMs } from "../../worker/trader/retry";
import { dayOrderExpiry } from "../../worker/venue/calendar";

const fresh: OrderProgress = { quantity: 100, status: "PENDING", filledQuantity: 0, attempt: 0, knownFillIds: new Set() };
const fill = (id: string, quantity: number, priceCents: number) => ({ id, quantity, priceCents, timestamp: "2026-01-01T00:00:00.000Z" });
const report = (r: Partial<VenueReport>): VenueReport => ({ key: "k", orderId: "o", state: "WORKING", fills: [], reason: null, ...r });

describe("reconciling venue reports", () => {
  it("logs APPROVED, EXECUTED and FILLED for a first-attempt market fill", () => {
    const steps = reconcile(fresh, report({ state: "FILLED", fills: [fill("k:1", 100, 15_000)] }), { kind: "first" });
    expect(steps.map((s) => [s.audit.action, s.audit.status, s.audit.retryAttempt])).toEqual([
      ["APPROVED", "PENDING", null], ["EXECUTED", "PENDING", null], ["FILLED", "FILLED", null],
    ]);
  });

  it("logs RECOVERED and stamps the fill with the retry that succeeded", () => {
    const steps = reconcile({ ...fresh, attempt: 1 }, report({ state: "FILLED", fills: [fill("k:1", 100, 10_000)] }), { kind: "retry", attempt: 1 });
    expect(steps.map((s) => [s.audit.action, s.audit.retryAttempt])).toEqual([["RECOVERED", 1], ["FILLED", 1]]);
  });

  it("skips fills it already knows and anything after a final state", () => {
    const known = { ...fresh, status: "PARTIAL" as const, filledQuantity: 50, knownFillIds: new Set(["k:1"]) };
    const steps = reconcile(known, report({ state: "FILLED", fills: [fill("k:1", 50, 15_000), fill("k:2", 50, 15_005)] }), { kind: "none" });
    expect(steps).toHaveLength(1);
    expect(steps[0]).toMatchObject({ kind: "fill", status: "FILLED", fill: { id: "k:2" } });
    expect(reconcile({ ...fresh, status: "CANCELLED", knownFillIds: new Set(["k:1"]) }, report({ state: "FILLED", fills: [fill("k:1", 100, 1)] }), { kind: "none" })).toEqual([]);
  });

  it("keeps an execution reported after the order ended as unbooked, for every final state, once", () => {
    for (const status of ["CANCELLED", "EXPIRED", "REJECTED", "FILLED"] as const) {
      const ended = { ...fresh, status, filledQuantity: status === "FILLED" ? 100 : 0, knownFillIds: new Set(status === "FILLED" ? ["k:1"] : []) };
      const late = report({ state: "FILLED", triggered: true, reason: "late", fills: [fill("k:1", 100, 15_000), fill("k:2", 40, 15_010)] });
      const steps = reconcile(ended, late, { kind: "none" });
      const expected = status === "FILLED" ? ["k:2"] : ["k:1", "k:2"];
      // Nothing else: no trigger, no fill booked, no state change, whatever the report says.
      expect(steps.map((s) => [s.kind, s.audit.action, s.audit.status]), status).toEqual(expected.map(() => ["unbooked", "UNBOOKED", status]));
      expect(steps.map((s) => (s.kind === "unbooked" ? s.fill.id : null))).toEqual(expected);
      expect(steps[0]!.audit.reason).toMatch(new RegExp(`^The venue executed \\d+ at \\$150\\.\\d0 \\(fill k:\\d\\) after the order was ${status.toLowerCase()}: not booked`));
      // Seen once (the desk keeps its id with the fills it saw): the same report again brings nothing.
      expect(reconcile({ ...ended, knownFillIds: new Set(["k:1", "k:2"]) }, late, { kind: "none" })).toEqual([]);
    }
  });

  it("cancels the remainder after fills and keeps the venue's reason", () => {
    const steps = reconcile(fresh, report({ state: "CANCELLED", reason: "User requested cancellation", fills: [fill("k:1", 50, 15_000)] }), { kind: "none" });
    expect(steps.map((s) => [s.audit.action, s.audit.status, s.audit.reason])).toEqual([
      ["PARTIAL", "PARTIAL", null], ["CANCELLED", "CANCELLED", "User requested cancellation"],
    ]);
  });
});

describe("schedules", () => {
  it("backs off exponentially from the base delay", () => {
    expect([1, 2, 3, 4, 5].map((n) => retryDelayMs(1000, n))).toEqual([1000, 2000, 4000, 8000, 16000]);
  });

  it("expires DAY orders at the close of the exchange's session, not at a fixed UTC hour", () => {
    // Wednesday 2026-11-25 10:00 New York: that day's 16:00 close (21:00Z in winter).
    expect(dayOrderExpiry(Date.UTC(2026, 10, 25, 15, 0))).toBe(Date.UTC(2026, 10, 25, 21, 0));
    // Thanksgiving (no session) and the evening before: Friday's 13:00 early close (18:00Z).
    expect(dayOrderExpiry(Date.UTC(2026, 10, 26, 15, 0))).toBe(Date.UTC(2026, 10, 27, 18, 0));
    expect(dayOrderExpiry(Date.UTC(2026, 10, 25, 22, 0))).toBe(Date.UTC(2026, 10, 27, 18, 0));
  });
});

describe("a stop reaching its price", () => {
  it("logs TRIGGERED once, before the fills it led to", () => {
    const steps = reconcile(fresh, report({ state: "FILLED", triggered: true, fills: [fill("k:1", 100, 12_000)] }), { kind: "none" });
    expect(steps.map((s) => [s.kind, s.audit.action, s.kind === "fill" || s.kind === "unbooked" ? null : s.event])).toEqual([["trigger", "TRIGGERED", "order.triggered"], ["fill", "FILLED", null]]);
    const again = reconcile({ ...fresh, triggered: true }, report({ state: "WORKING", triggered: true }), { kind: "none" });
    expect(again).toEqual([]);
  });

  it("is not a trigger while the venue still holds the stop", () => {
    expect(reconcile(fresh, report({ state: "WORKING", triggered: false }), { kind: "first" }).map((s) => s.audit.action)).toEqual(["APPROVED", "EXECUTED"]);
  });
});

describe("a lookup that finds a cancel's tombstone", () => {
  it("closes the order without claiming the venue accepted it", () => {
    const steps = reconcile({ ...fresh, attempt: 1 }, report({ state: "CANCELLED", reason: "User requested cancellation" }), { kind: "found", attempt: 1 });
    expect(steps.map((s) => s.audit.action)).toEqual(["CANCELLED"]);
  });
});
