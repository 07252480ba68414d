// The chaos drill of `npm run chaos` (bench/chaos) at a small size: 8 traders send 150 orders of every type
// to their own `wrangler dev`, amend resting ones (price and quantity, some racing the admin's price moves),
// cancel all their orders (of a symbol, or all) and close positions (in part, whole, all), while the venue
// times out 30% of attempts and errors 5%, one instrument answers later than the desk's timeout (its amends
// and cancels too), D1 refuses writes for 3 s, desks restart mid-retry and sockets drop, and the admin's
// price moves include gaps of 8-20% through resting SELL and BUY stops. About a fifth of the orders are
// brackets, otos, ocos and trailing stops on an instrument the accounts start without, whose own price path
// runs through their exits and trails (and gaps). Every invariant of the full drill must hold (stops-triggered
// fails a run where no stop was triggered by a gap, trailing-stops one where no SELL or no BUY trailing stop
// was crossed and triggered), account.updated, the activity ledger and the legs of contingent orders included.
import { beforeAll, describe, expect, it } from "vitest";
import { runChaos, type ChaosResult } from "../../bench/chaos/drill.ts";
import { INVARIANT_IDS } from "../../bench/chaos/invariants.ts";
import { renderReport } from "../../bench/chaos/report.ts";

describe("the chaos drill, small: 8 traders, 150 orders", () => {
  let result: ChaosResult;

  beforeAll(async () => {
    result = await runChaos({ traders: 8, orders: 150, seed: 7, rate: 12, d1OutageS: 3, log: () => undefined });
    if (!result.ok) console.error(renderReport(result));
  }, 170_000);

  it("acknowledged every order it sent and checked every invariant", () => {
    expect(result.load.acknowledged).toBeGreaterThan(140);
    expect(result.invariants.map((i) => i.id)).toEqual([...INVARIANT_IDS]);
  });

  it.each(INVARIANT_IDS)("%s holds", (id) => {
    const invariant = result.invariants.find((i) => i.id === id)!;
    expect(invariant.failures, invariant.title).toEqual([]);
    expect(invariant.ok).toBe(true);
  });
});
