// Where a fillwire order stands from its chain of Alpaca orders and the fills the link holds (standing.ts):
// each rule on its own, with the neighbours that must not trip it.
import { describe, expect, it } from "vitest";
import { OCO_CANCELLED, standing, type ChainLink } from "../../worker/venue/alpaca/standing";

/** One Alpaca order of a chain: a 10-share limit buy at 95.00 unless `over` says otherwise. */
function link(seq: number, status: string, over: Partial<ChainLink> & { order?: Record<string, unknown> } = {}): ChainLink {
  const { order, ...rest } = over;
  const qty = rest.qty ?? 10;
  const filledQty = rest.filledQty ?? 0;
  const body = {
    id: `alp-${seq}`, client_order_id: seq === 0 ? "ord_1" : `ord_1-a${seq}`, status, symbol: "AAPL", side: "buy", type: "limit",
    time_in_force: "day", qty: String(qty), filled_qty: String(filledQty), limit_price: "95.00", order_class: "", ...order,
  };
  return { alpacaId: `alp-${seq}`, seq, status, qty, filledQty, replaces: seq === 0 ? null : `alp-${seq - 1}`, body: JSON.stringify(body), ...rest };
}

describe("standing: a fillwire order at Alpaca", () => {
  it("works while Alpaca's order works, with its terms and no reason", () => {
    for (const status of ["accepted", "new", "pending_new", "partially_filled", "done_for_day", "pending_cancel"]) {
      const s = standing([link(0, status, { filledQty: status === "partially_filled" ? 4 : 0 })], status === "partially_filled" ? 4 : 0, null);
      expect(s, status).toMatchObject({ state: "WORKING", reason: null, incomplete: false, terms: { quantity: 10, limitCents: 9500, amendSeq: 0 } });
    }
  });

  it("is FILLED once the link holds fills for every share, and WORKING (incomplete) while Alpaca says more filled than it holds", () => {
    expect(standing([link(0, "filled", { filledQty: 10 })], 10, null)).toMatchObject({ state: "FILLED", reason: null, incomplete: false });
    expect(standing([link(0, "filled", { filledQty: 10 })], 6, null)).toMatchObject({ state: "WORKING", incomplete: true });
    // The fills came in (stream, activities) before the snapshot said filled: it is filled all the same.
    expect(standing([link(0, "partially_filled", { filledQty: 6 })], 10, null)).toMatchObject({ state: "FILLED", incomplete: false });
    // Nothing filled and a zero quantity is no fill.
    expect(standing([link(0, "new", { qty: 0 })], 0, null)).toMatchObject({ state: "WORKING" });
  });

  it("counts an amended order's quantity as the replaced orders' fills plus the working order's qty", () => {
    const chain = [link(0, "replaced", { filledQty: 4 }), link(1, "new", { qty: 6, order: { limit_price: "96.00" } })];
    expect(standing(chain, 4, null)).toMatchObject({ state: "WORKING", effective: { alpacaId: "alp-1" }, terms: { quantity: 10, limitCents: 9600, amendSeq: 1 } });
    expect(standing(chain, 9, null).state).toBe("WORKING");
    expect(standing(chain, 10, null).state).toBe("FILLED");
  });

  it("keeps the old order when Alpaca rejected its replacement because it filled first, and not when it was replaced", () => {
    const filledFirst = [link(0, "filled", { filledQty: 10 }), link(1, "rejected", { qty: 10 })];
    expect(standing(filledFirst, 10, null)).toMatchObject({ state: "FILLED", effective: { alpacaId: "alp-0" }, terms: { amendSeq: 0 } });
    const stillWorking = [link(0, "new"), link(1, "rejected")];
    expect(standing(stillWorking, 0, null)).toMatchObject({ state: "WORKING", effective: { alpacaId: "alp-0" } });
    // A replacement rejected after the old one was replaced has nothing to fall back on: the order is rejected.
    const gone = [link(0, "replaced"), link(1, "rejected")];
    expect(standing(gone, 0, null)).toMatchObject({ state: "REJECTED", reason: "Rejected by Alpaca", effective: { alpacaId: "alp-1" } });
  });

  it("reports a cancel fillwire asked for as it asked, and one it did not as Alpaca's", () => {
    const canceled = [link(0, "canceled")];
    expect(standing(canceled, 0, { endAs: "CANCELLED", reason: "Cancelled by the trader" })).toMatchObject({ state: "CANCELLED", reason: "Cancelled by the trader" });
    expect(standing(canceled, 0, { endAs: "EXPIRED", reason: "Day order expired at the close" })).toMatchObject({ state: "EXPIRED", reason: "Day order expired at the close" });
    expect(standing(canceled, 0, { endAs: "EXPIRED", reason: null })).toMatchObject({ state: "EXPIRED", reason: "Expired at Alpaca (time in force)" });
    expect(standing(canceled, 0, null)).toMatchObject({ state: "CANCELLED", reason: "Cancelled at Alpaca" });
    expect(standing([link(0, "expired")], 0, null)).toMatchObject({ state: "EXPIRED", reason: "Expired at Alpaca (time in force)" });
    // A fill wins over a cancel asked for too late.
    expect(standing([link(0, "filled", { filledQty: 10 })], 10, { endAs: "CANCELLED", reason: "Cancelled by the trader" })).toMatchObject({ state: "FILLED", reason: null });
  });

  it("says one-cancels-other for an exit Alpaca cancelled as its oco's other exit went", () => {
    const oco = [link(0, "canceled", { order: { order_class: "oco" } })];
    expect(standing(oco, 0, null)).toMatchObject({ state: "CANCELLED", reason: OCO_CANCELLED });
    // The trader's own cancel of an oco exit keeps the trader's reason.
    expect(standing(oco, 0, { endAs: "CANCELLED", reason: "Cancelled by the trader" }).reason).toBe("Cancelled by the trader");
    // Partly filled, then cancelled by its sibling: cancelled with the fills it has, once all of them are in.
    const partial = [link(0, "canceled", { filledQty: 4, order: { order_class: "oco", filled_qty: "4" } })];
    expect(standing(partial, 4, null)).toMatchObject({ state: "CANCELLED", reason: OCO_CANCELLED, incomplete: false });
    expect(standing(partial, 3, null)).toMatchObject({ state: "WORKING", reason: null, incomplete: true });
  });

  it("carries a trailing stop's mark and stop from Alpaca's order into the terms", () => {
    const trailing = link(0, "new", { order: { type: "trailing_stop", side: "sell", limit_price: null, trail_price: "2.00", trail_percent: null, hwm: "151.25", stop_price: "149.25" } });
    expect(standing([trailing], 0, null).terms).toMatchObject({ trailCents: 200, trailBp: null, hwmCents: 15125, stopCents: 14925, limitCents: null });
  });
});
