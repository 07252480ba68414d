// The simulated venue's matching rules as plain functions.
import { describe, expect, it } from "vitest";
import { match, walkBook, type Executable } from "../../worker/venue/matching";

const partialBook = { priceCents: 15_000, tickCents: 5, depth: 50 };
const order = (o: Partial<Executable>): Executable => ({
  side: "BUY", orderType: "MARKET", quantity: 100, limitCents: null, stopCents: null, protectCents: 16_500,
  maxCostCents: null, timeInForce: "DAY", filled: 0, spentCents: 0, triggered: false, ...o,
});

describe("walking the book", () => {
  it("fills level by level: TEST_PARTIAL gives 50 @ 150.00 then 50 @ 150.05", () => {
    expect(walkBook(partialBook, "BUY", 100, null, null)).toEqual([
      { quantity: 50, priceCents: 15_000 },
      { quantity: 50, priceCents: 15_005 },
    ]);
  });

  it("walks down for a SELL and stops at the limit", () => {
    expect(walkBook(partialBook, "SELL", 200, 14_995, null)).toEqual([
      { quantity: 50, priceCents: 15_000 },
      { quantity: 50, priceCents: 14_995 },
    ]);
  });

  it("never spends beyond the budget (market protection of reserved cash)", () => {
    const slices = walkBook(partialBook, "BUY", 100, null, 1_485_245);
    const spent = slices.reduce((n, s) => n + s.quantity * s.priceCents, 0);
    expect(spent).toBeLessThanOrEqual(1_485_245);
    expect(slices.reduce((n, s) => n + s.quantity, 0)).toBe(99);
  });
});

describe("matching an order", () => {
  it("fills a market order completely on a deep book", () => {
    expect(match({ priceCents: 15_000, tickCents: 1, depth: 100_000 }, order({}))).toEqual({
      kind: "done", slices: [{ quantity: 100, priceCents: 15_000 }], final: "FILLED", reason: null, triggered: false,
    });
  });

  it("rests the unfilled part of a limit order", () => {
    const outcome = match(partialBook, order({ orderType: "LIMIT", limitCents: 15_000, protectCents: null }));
    expect(outcome).toMatchObject({ kind: "rest", slices: [{ quantity: 50, priceCents: 15_000 }] });
  });

  it("cancels the rest of an IOC order and trades nothing of a FOK that cannot fill in full", () => {
    expect(match(partialBook, order({ orderType: "LIMIT", limitCents: 15_000, protectCents: null, timeInForce: "IOC" }))).toMatchObject({
      kind: "done", final: "CANCELLED", slices: [{ quantity: 50 }],
    });
    expect(match(partialBook, order({ orderType: "LIMIT", limitCents: 15_000, protectCents: null, timeInForce: "FOK" }))).toMatchObject({
      kind: "done", final: "CANCELLED", slices: [],
    });
  });

  it("keeps a stop order resting until the price crosses its stop", () => {
    const stop = order({ side: "SELL", orderType: "STOP", stopCents: 14_500, protectCents: 13_050 });
    expect(match({ priceCents: 14_600, tickCents: 1, depth: 1000 }, stop)).toEqual({ kind: "rest", slices: [], triggered: false });
    expect(match({ priceCents: 14_400, tickCents: 1, depth: 1000 }, stop)).toMatchObject({
      kind: "done", final: "FILLED", slices: [{ quantity: 100, priceCents: 14_400 }], triggered: true,
    });
  });

  it("cancels what a market order cannot fill inside its protection price", () => {
    const outcome = match({ priceCents: 10_000, tickCents: 100, depth: 10 }, order({ quantity: 100, protectCents: 10_200 }));
    expect(outcome).toMatchObject({ kind: "done", final: "CANCELLED", slices: [{ quantity: 10 }, { quantity: 10 }, { quantity: 10 }] });
  });
});

describe("fault injection", () => {
  it("is reproducible from its seed and close to the asked rates", async () => {
    const { decideFault } = await import("../../worker/venue/faults");
    const faults = { timeout_rate: 0.3, error_rate: 0.05, seed: 42 };
    const run = () => Array.from({ length: 2000 }, (_, n) => decideFault(faults, 1, n));
    const first = run();
    expect(run()).toEqual(first);
    const share = (kind: string) => first.filter((d) => d === kind).length / first.length;
    expect(share("timeout")).toBeGreaterThan(0.25);
    expect(share("timeout")).toBeLessThan(0.35);
    expect(share("error")).toBeGreaterThan(0.02);
    expect(share("error")).toBeLessThan(0.08);
    expect(decideFault({ timeout_first_attempts: 1 }, 1, 0)).toBe("timeout");
    expect(decideFault({ timeout_first_attempts: 1 }, 2, 1)).toBe("pass");
  });
});
