// The link's ledger keeps the newest snapshot of each Alpaca order: one that arrives late (the answer to a
// POST that outlived the desk's timeout, a slow GET) never takes an order back to what it was. Found by the
// drill: a trailing stop's fill was booked at the mark and stop of its POST's answer, which came after the
// order had moved on at Alpaca. Runs inside a link object of its own, on its storage.
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { LinkLedger } from "../../worker/venue/alpaca/ledger";
import { AlpacaOrder } from "../../worker/venue/alpaca/wire";

const snapshot = (over: Record<string, unknown>) =>
  AlpacaOrder.parse({
    id: "alp-1", client_order_id: "ord_trail", status: "new", symbol: "AAPL", side: "buy", type: "trailing_stop", time_in_force: "day",
    qty: "10", filled_qty: "0", trail_price: "2.00", hwm: null, stop_price: null, updated_at: "2026-11-30T10:00:00.000Z", ...over,
  });

/** Runs `body` on the ledger of a link object of its own, with the trailing stop "ord_trail" registered. */
function withLedger<T>(body: (ledger: LinkLedger) => T): Promise<T> {
  const stub = env.ALPACA_LINK.get(env.ALPACA_LINK.idFromName(`ledger-test-${crypto.randomUUID()}`));
  return runInDurableObject(stub, (_link, state) => {
    const ledger = new LinkLedger(state.storage.sql);
    ledger.migrate();
    ledger.register({ orderId: "ord_trail", traderId: "t", symbol: "AAPL", orderType: "TRAILING_STOP" }, null, Date.now());
    return body(ledger);
  });
}

describe("the link's ledger", () => {
  it("keeps a trailing stop's newer mark and stop when an older snapshot of the order arrives after it", async () => {
    const terms = await withLedger((ledger) => {
      const seen: unknown[] = [];
      const termsNow = () => {
        ledger.refresh("ord_trail");
        return ledger.report("ord_trail")!.terms;
      };
      // The mark fell to 73.49 at Alpaca (a GET read then), and only later the POST's answer came (accepted, no mark yet).
      ledger.observe(snapshot({ status: "new", hwm: "73.49", stop_price: "75.49", updated_at: "2026-11-30T10:00:03.000Z" }));
      seen.push(termsNow());
      ledger.observe(snapshot({ status: "accepted", updated_at: "2026-11-30T10:00:00.500Z" }));
      seen.push(termsNow());
      // A newer one still wins.
      ledger.observe(snapshot({ status: "new", hwm: "72.00", stop_price: "74.00", updated_at: "2026-11-30T10:00:05.000Z" }));
      seen.push(termsNow());
      return seen;
    });
    expect(terms).toEqual([
      expect.objectContaining({ hwmCents: 7349, stopCents: 7549 }),
      expect.objectContaining({ hwmCents: 7349, stopCents: 7549 }),
      expect.objectContaining({ hwmCents: 7200, stopCents: 7400 }),
    ]);
  });

  it("names an order whose snapshot is behind the fills read from the activities, until a newer snapshot is in", async () => {
    const seen = await withLedger((ledger) => {
      ledger.observe(snapshot({ status: "new" }));
      const before = ledger.behindFills();
      // The execution came from the activities (the stream was down): the order as the ledger has it says 0 filled.
      ledger.addFill({ orderId: "ord_trail", alpacaId: "alp-1", cumQty: 10, quantity: 10, priceCents: 7538, at: "2026-11-30T10:00:04.000Z", fillId: "x-1", execution: "x-1" });
      const behind = ledger.behindFills();
      ledger.observe(snapshot({ status: "filled", filled_qty: "10", hwm: "73.49", stop_price: "75.38", updated_at: "2026-11-30T10:00:04.000Z" }));
      return { before, behind, after: ledger.behindFills() };
    });
    expect(seen).toEqual({ before: [], behind: [{ alpacaId: "alp-1", orderId: "ord_trail" }], after: [] });
  });
});
