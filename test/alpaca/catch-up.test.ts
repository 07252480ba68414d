// The link's fill catch-up (GET /v2/account/activities, oldest first, re-read from a margin before the last
// fill applied) when the margin holds more fills than one call reads: each call goes on where the last one
// stopped, so every fill gets in. Before, every call started again at the margin and read the same first
// pages, and a burst of fills bigger than a call (a 50,000-share close in the 1,000-order drill) was never
// booked. Runs inside a link object of its own, against the fake's real activities.
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { eventually } from "../helpers/api";
import { AlpacaClient } from "../../worker/venue/alpaca/client";
import { alpacaConfig } from "../../worker/venue/alpaca/config";
import { LinkLedger } from "../../worker/venue/alpaca/ledger";
import { catchUpFills, touched } from "../../worker/venue/alpaca/reconcile";
import { newSymbol } from "./fake";

describe("the link's fill catch-up", () => {
  it("reads a burst of fills larger than one call in several calls, each going on where the last stopped", async () => {
    const symbol = await newSymbol(100, { depth: 1 }); // one share a price level: 150 shares are 150 executions
    const client = new AlpacaClient(alpacaConfig(env));
    const orderId = `catchup-${crypto.randomUUID().slice(0, 8)}`;
    const created = await client.createOrder({ symbol, qty: "150", side: "buy", type: "market", time_in_force: "day", client_order_id: orderId });
    await eventually(() => client.getOrder(created.id), (o) => o?.status === "filled", 15_000);
    const stub = env.ALPACA_LINK.get(env.ALPACA_LINK.idFromName(`catch-up-test-${orderId}`));

    const calls = await runInDurableObject(stub, async (_link, state) => {
      const ledger = new LinkLedger(state.storage.sql);
      ledger.migrate();
      ledger.register({ orderId, traderId: "t-catch-up", symbol, orderType: "MARKET" }, null, Date.now());
      ledger.observe(created);
      const foreign = new Set<string>();
      let n = 0;
      // One page of 100 a call; the fake's account holds the other tests' fills of the last minute too.
      while (ledger.filledOf(created.id) < 150 && n < 40) {
        const into = touched();
        await catchUpFills(ledger, client, foreign, into, Date.now() - 120_000, 1);
        n++;
      }
      return { n, filled: ledger.filledOf(created.id), report: ledger.report(orderId) };
    });
    expect(calls.filled).toBe(150);
    expect(calls.n).toBeGreaterThanOrEqual(2); // 150 fills cannot come in fewer calls of one page
    expect(calls.report?.fills).toHaveLength(150);
    expect(new Set(calls.report!.fills.map((f) => f.id)).size).toBe(150); // each once
  });
});
