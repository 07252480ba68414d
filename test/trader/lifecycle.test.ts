// The order state machine: reports applied twice, or out of order, change nothing more.
import { describe, expect, it } from "vitest";
import { reconcile, type OrderProgress } from "../../worker/trader/lifecycle";
import type { VenueReport } from "../../worker/venue/adapter";
import { retryDelayMs } from "../../worker/trader/retry";
import { nextSessionClose } from "../../worker/trader/session";

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
    expect(reconcile({ ...fresh, status: "CANCELLED" }, report({ state: "FILLED", fills: [fill("k:1", 100, 1)] }), { kind: "none" })).toEqual([]);
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

  it("expires DAY orders at the next session close", () => {
    const before = Date.UTC(2026, 10, 26, 15, 0);
    const after = Date.UTC(2026, 10, 26, 22, 0);
    expect(nextSessionClose(before, "21:00")).toBe(Date.UTC(2026, 10, 26, 21, 0));
    expect(nextSessionClose(after, "21:00")).toBe(Date.UTC(2026, 10, 27, 21, 0));
  });
});

describe("a lookup that finds a cancel's tombstone", () => {
  it("closes the order without claiming the venue accepted it", () => {
    const steps = reconcile({ ...fresh, attempt: 1 }, report({ state: "CANCELLED", reason: "User requested cancellation" }), { kind: "found", attempt: 1 });
    expect(steps.map((s) => s.audit.action)).toEqual(["CANCELLED"]);
  });
});
