// The chaos drill of `npm run chaos -- --venue alpaca-fake` at the size of test/e2e/chaos.test.ts: fillwire
// with EXCHANGE=alpaca against the fake Alpaca (bench/alpaca-server.ts starts both on free ports with fresh
// state), 8 traders, 150 orders of every type, contingent ones included, while the fake hangs, answers late,
// records late and fails first attempts in time windows, answers 429/5xx once at fixed points (and a cancel
// and a replace that take effect but lose their answer), and drops the trade_updates stream; D1 refuses
// writes for 3 s, desks restart mid-retry and sockets drop. Every invariant of the drill must hold, the
// venue ledger being the fake's orders read as Alpaca order chains.
//
// Opt-in (CHAOS_ALPACA=1) until it has a longer record: under load it found stale trailing-stop terms, a
// send racing a cancel, two amends in flight and a misread of oco legs, all fixed since, and it has passed
// every run after those fixes (docs/reliability.md, "The drill against the fake Alpaca"). About 45 s.
import { beforeAll, describe, expect, it } from "vitest";
import { runChaos, type ChaosResult } from "../../bench/chaos/drill.ts";
import { INVARIANT_IDS } from "../../bench/chaos/invariants.ts";
import { renderReport } from "../../bench/chaos/report.ts";

const enabled = process.env.CHAOS_ALPACA === "1";
if (!enabled) console.warn("\n[fillwire] The chaos drill against the fake Alpaca is opt-in: CHAOS_ALPACA=1 npx vitest run -c vitest.web.config.ts test/e2e/chaos-alpaca.test.ts\n");

describe.skipIf(!enabled)("the chaos drill against the fake Alpaca, small: 8 traders, 150 orders", () => {
  let result: ChaosResult;

  beforeAll(async () => {
    result = await runChaos({ traders: 8, orders: 150, seed: 7, rate: 12, d1OutageS: 3, venue: "alpaca-fake", log: () => undefined });
    if (!result.ok) console.error(renderReport(result));
  }, 180_000);

  it("ran on the fake Alpaca, acknowledged every order it sent and checked every invariant", () => {
    expect(result.settings.venue).toBe("alpaca-fake");
    expect(result.venue.mapping.some((m) => m.applicable === "no")).toBe(true); // the report names what has no equivalent
    expect(result.load.acknowledged).toBeGreaterThan(140);
    expect(result.invariants.map((i) => i.id)).toEqual([...INVARIANT_IDS]);
  });

  it.each(INVARIANT_IDS)("%s holds", (id) => {
    const invariant = result.invariants.find((i) => i.id === id)!;
    expect(invariant.failures, invariant.title).toEqual([]);
    expect(invariant.ok).toBe(true);
  });
});
