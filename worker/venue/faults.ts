// Fault injection for the simulated venue, reproducible: randomness comes from a seeded generator whose
// position is persisted with the book.
import { z } from "zod";

export const Faults = z
  .strictObject({
    timeout_first_attempts: z.number().int().min(0).max(100).optional(),
    timeout_rate: z.number().min(0).max(1).optional(),
    error_rate: z.number().min(0).max(1).optional(),
    reject_rate: z.number().min(0).max(1).optional(),
    latency_ms: z.number().int().min(0).max(60_000).optional(),
    seed: z.number().int().optional(),
  })
  .meta({
    id: "Faults",
    description:
      "timeout_first_attempts: the first N attempts of every order are dropped (the desk times out); timeout_rate, error_rate, reject_rate: fractions of attempts dropped, failed with an error, or rejected (seeded, reproducible); latency_ms: added before the venue answers",
    example: { timeout_rate: 0.3, error_rate: 0.05, latency_ms: 20 },
  });
export type Faults = z.infer<typeof Faults>;

/** mulberry32: a small, fast, seedable generator; `draw(seed, n)` is the n-th number of the stream. */
export function draw(seed: number, n: number): number {
  let t = (seed + Math.imul(n + 1, 0x6d2b79f5)) >>> 0;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

export type FaultDecision = "timeout" | "error" | "reject" | "pass";

/** What the venue does with this attempt: `attempt` counts from 1 per order key, `n` is the stream position. */
export function decideFault(faults: Faults, attempt: number, n: number): FaultDecision {
  if (attempt <= (faults.timeout_first_attempts ?? 0)) return "timeout";
  const seed = faults.seed ?? 0x5eed;
  if ((faults.timeout_rate ?? 0) > 0 && draw(seed, 3 * n) < (faults.timeout_rate ?? 0)) return "timeout";
  if ((faults.error_rate ?? 0) > 0 && draw(seed, 3 * n + 1) < (faults.error_rate ?? 0)) return "error";
  if ((faults.reject_rate ?? 0) > 0 && draw(seed, 3 * n + 2) < (faults.reject_rate ?? 0)) return "reject";
  return "pass";
}

/** True when any fault would ever fire (latency alone needs no bookkeeping). */
export function hasFaults(faults: Faults): boolean {
  return (faults.timeout_first_attempts ?? 0) > 0 || (faults.timeout_rate ?? 0) > 0 || (faults.error_rate ?? 0) > 0 || (faults.reject_rate ?? 0) > 0;
}
