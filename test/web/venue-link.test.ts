// The admin's venue link panel, without a browser: how times and states read, and the poller that reads
// GET /api/v1/admin/venue every few seconds (driven by fake timers and a hand-settled load).
import { describe, expect, it } from "vitest";
import { ApiFailure } from "../../web/src/api-failure";
import type { Timers } from "../../web/src/commands";
import { ago, linkBadge, span, until, VENUE_POLL_MS, VenuePoller, type LinkState, type VenueRead, type VenueStatus } from "../../web/src/venue-link";

const NOW = Date.parse("2026-03-02T14:00:00.000Z");
const before = (ms: number) => new Date(NOW - ms).toISOString();
const after = (ms: number) => new Date(NOW + ms).toISOString();

describe("times on the venue link panel", () => {
  it("says a span in its one or two largest units", () => {
    expect([0, 999, 45_000, 60_000, 3 * 60_000 + 59_000, 2 * 3_600_000, 2 * 3_600_000 + 5 * 60_000, 86_400_000, 3 * 86_400_000 + 4 * 3_600_000].map(span)).toEqual([
      "0 s", "0 s", "45 s", "1 min", "3 min", "2 h", "2 h 5 min", "1 d", "3 d 4 h",
    ]);
  });

  it("says how long ago, with 'just now' for the last second and for a server clock slightly ahead", () => {
    expect(ago(before(12_000), NOW)).toBe("12 s ago");
    expect(ago(before(2 * 60_000 + 30_000), NOW)).toBe("2 min ago");
    expect(ago(before(400), NOW)).toBe("just now");
    expect(ago(after(1_500), NOW)).toBe("just now");
    expect(ago(null, NOW)).toBe("never");
    expect(ago("not a time", NOW)).toBe("not a time");
  });

  it("says when the next attempt is due", () => {
    expect(until(after(4_200), NOW)).toBe("in 4 s");
    expect(until(after(30_000), NOW)).toBe("in 30 s");
    expect(until(before(2_000), NOW)).toBe("due now");
    expect(until(null, NOW)).toBe("—");
  });
});

describe("the stream state badge", () => {
  const states: LinkState[] = ["connected", "connecting", "disconnected", "unauthorized", "idle"];

  it("gives every state a word and a glyph (never colour alone), and a meaning unless all is well", () => {
    for (const state of states) {
      const badge = linkBadge(state);
      expect(badge.label.length, state).toBeGreaterThan(0);
      expect(badge.glyph.length, state).toBeGreaterThan(0);
      expect(badge.meaning === null, state).toBe(state === "connected");
    }
    expect(new Set(states.map((s) => linkBadge(s).tone)).size).toBe(states.length);
  });

  it("tells the admin that unauthorized means the keys are wrong", () => {
    expect(linkBadge("unauthorized").label).toBe("Unauthorized");
    expect(linkBadge("unauthorized").meaning).toMatch(/refused the API keys.*ALPACA_KEY_ID.*ALPACA_SECRET_KEY/);
  });
});

/** Timers that run only when told, and a load whose answers the test settles one by one. */
function harness() {
  const timers: { run: () => void; ms: number; live: boolean }[] = [];
  const fake: Timers = {
    set: (run, ms) => {
      const t = { run, ms, live: true };
      timers.push(t);
      return t;
    },
    clear: (handle) => void ((handle as { live: boolean }).live = false),
  };
  const calls: { resolve: (s: VenueStatus) => void; reject: (e: unknown) => void }[] = [];
  const load = () => new Promise<VenueStatus>((resolve, reject) => void calls.push({ resolve, reject }));
  const reads: VenueRead[] = [];
  let now = NOW;
  const poller = new VenuePoller(load, (r) => reads.push(r), fake, () => now);
  const settle = () => new Promise<void>((ok) => setTimeout(ok, 0));
  return {
    poller,
    calls,
    reads,
    live: () => timers.filter((t) => t.live),
    /** Fire the pending timer (the next poll). */
    tick(ms = VENUE_POLL_MS) {
      now += ms;
      const due = timers.filter((t) => t.live);
      for (const t of due) (t.live = false), t.run();
    },
    settle,
  };
}

const SIM: VenueStatus = { exchange: "simulated", status: "ok" };

describe("the venue poller", () => {
  it("reads at once, then every few seconds after each answer, never two reads at once", async () => {
    const h = harness();
    h.poller.start();
    h.poller.start(); // a second start does nothing
    expect(h.calls).toHaveLength(1);
    expect(h.live()).toHaveLength(0); // no timer while a read is on its way
    h.calls[0]!.resolve(SIM);
    await h.settle();
    expect(h.reads).toEqual([{ phase: "ok", status: SIM, readAt: NOW }]);
    expect(h.live().map((t) => t.ms)).toEqual([VENUE_POLL_MS]);
    h.tick();
    expect(h.calls).toHaveLength(2);
    h.calls[1]!.resolve(SIM);
    await h.settle();
    expect(h.reads.at(-1)).toEqual({ phase: "ok", status: SIM, readAt: NOW + VENUE_POLL_MS });
    h.poller.stop();
    expect(h.live()).toHaveLength(0);
  });

  it("keeps the last state on a failed read and goes on reading", async () => {
    const h = harness();
    h.poller.start();
    h.calls[0]!.resolve(SIM);
    await h.settle();
    h.tick();
    h.calls[1]!.reject(new ApiFailure(0, "NETWORK_ERROR", "Could not reach fillwire"));
    await h.settle();
    expect(h.reads.at(-1)).toEqual({ phase: "failed", status: SIM, readAt: NOW, error: "Could not reach fillwire" });
    expect(h.live()).toHaveLength(1);
    h.poller.stop();
  });

  it("stops on a 401 (the page signs the admin out) and on a 403", async () => {
    for (const status of [401, 403]) {
      const h = harness();
      h.poller.start();
      h.calls[0]!.reject(new ApiFailure(status, status === 401 ? "UNAUTHORIZED" : "FORBIDDEN", "no"));
      await h.settle();
      expect(h.reads).toEqual([{ phase: "failed", status: null, readAt: null, error: "no" }]);
      expect(h.live()).toHaveLength(0);
    }
  });

  it("drops an answer that arrives after stop (the panel unmounted) and reads no more", async () => {
    const h = harness();
    h.poller.start();
    h.poller.stop();
    h.calls[0]!.resolve(SIM);
    await h.settle();
    expect(h.reads).toEqual([]);
    expect(h.live()).toHaveLength(0);
  });
});
