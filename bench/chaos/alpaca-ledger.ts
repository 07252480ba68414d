// The venue ledger of the drill against the fake Alpaca: the fake's orders and executions (GET /_fake/orders)
// read as Alpaca order chains, one per fillwire order (the order sent with client_order_id = the fillwire
// order id, then each replacement `<id>-a<seq>` it was replaced by), for no-double-execution. A pair of
// exits goes to Alpaca as one `oco` order: the take-profit is its parent (client_order_id = the take-profit's
// id) and the stop-loss is Alpaca's leg of it, whose first order has a client_order_id Alpaca made up (the
// fake lists the parent's in `leg_of`); the leg's chain is the stop-loss's (legStopLoss).
import { z } from "zod";
import type { VenueLedgerRow } from "./venue.ts";

/** One order as GET /_fake/orders lists it: Alpaca's order entity, and the fake's executions of it (prices in cents). */
export const FakeOrder = z.object({
  order: z.object({
    id: z.string(), client_order_id: z.string(), symbol: z.string(), status: z.string(), qty: z.string(), filled_qty: z.string(),
    replaces: z.string().nullable(), replaced_by: z.string().nullable(), created_at: z.string(), filled_at: z.string().nullable(),
    canceled_at: z.string().nullable(), replaced_at: z.string().nullable(),
  }),
  executions: z.array(z.object({ id: z.string(), order_id: z.string(), qty: z.number().int(), price_cents: z.number().int() })),
  /** The fake's own record that a stop triggered (Alpaca's order does not show it). */
  triggered: z.boolean().optional(),
  /**
   * For the leg of an `oco` order (the stop-loss), and each replacement of it: the client_order_id of the
   * group's original parent (the take-profit); null otherwise (absent from a fake without oco orders).
   */
  leg_of: z.string().nullable().optional(),
});
export type FakeOrder = z.infer<typeof FakeOrder>;

/** Alpaca's statuses, as the drill's ledger states: open ones are WORKING. */
function stateOf(status: string): string {
  const ended: Record<string, string> = { filled: "FILLED", canceled: "CANCELLED", expired: "EXPIRED", rejected: "REJECTED" };
  return ended[status] ?? "WORKING";
}

/** A replacement's client_order_id: `<fillwire id>-a<seq>`. */
const REPLACEMENT = /-a\d+$/;

/**
 * The fillwire order behind the leg of an Alpaca `oco` order, from its parent's client_order_id (`leg_of`):
 * a bracket's or oto's take-profit `<entry>-tp` has the stop-loss `<entry>-sl`; an oco-class order X is its
 * own take-profit and its leg is `X-sl`.
 */
export function legStopLoss(legOf: string): string {
  const parent = legOf.replace(REPLACEMENT, "");
  return parent.endsWith("-tp") ? `${parent.slice(0, -"-tp".length)}-sl` : `${parent}-sl`;
}

/** The fillwire order an Alpaca order is (a version) of: the stop-loss for an oco leg, else its client_order_id less `-a<seq>`. */
const fillwireIdOf = (o: FakeOrder) => (o.leg_of ? legStopLoss(o.leg_of) : o.order.client_order_id.replace(REPLACEMENT, ""));

/**
 * The fake's orders as one ledger row per Alpaca order chain: the order whose client_order_id is the
 * fillwire order id (for an oco leg, the leg Alpaca made with the oco order), then each replacement
 * (`<id>-a<seq>`, seq rising) it was replaced by. Two first orders for one fillwire order are two rows (two
 * orders at the venue); a replacement outside a chain is a row of its own, with the problem named. A row's
 * shares filled are its executions' (an order whose filled_qty disagrees with them is named as a problem).
 */
export function chainsOf(orders: readonly FakeOrder[]): VenueLedgerRow[] {
  const groups = new Map<string, FakeOrder[]>();
  for (const o of orders) {
    const base = fillwireIdOf(o);
    groups.set(base, [...(groups.get(base) ?? []), o]);
  }
  const rows: VenueLedgerRow[] = [];
  for (const [base, group] of groups) {
    const byId = new Map(group.map((o) => [o.order.id, o]));
    const seen = new Set<string>();
    const starts = [...group.filter((o) => o.order.replaces === null), ...group.filter((o) => o.order.replaces !== null && !byId.has(o.order.replaces))];
    const walk = (start: FakeOrder): FakeOrder[] => {
      const chain: FakeOrder[] = [];
      for (let o: FakeOrder | undefined = start; o && !seen.has(o.order.id); o = o.order.replaced_by ? byId.get(o.order.replaced_by) : undefined) {
        seen.add(o.order.id);
        chain.push(o);
      }
      return chain;
    };
    const chains = starts.map(walk);
    for (const o of group) if (!seen.has(o.order.id)) chains.push(walk(o)); // a loop, or a replacement whose predecessor is in another chain
    for (const chain of chains) {
      const problems: string[] = [];
      const first = chain[0]!;
      // An oco leg's first order carries a client_order_id of Alpaca's (a random uuid): it is the order sent, as the leg of its parent.
      const legOf = first.leg_of ?? null;
      const isReplacement = (o: FakeOrder) => o.order.client_order_id.startsWith(`${base}-a`) && REPLACEMENT.test(o.order.client_order_id);
      const sent = legOf !== null ? !isReplacement(first) : first.order.client_order_id === base;
      if (!sent || first.order.replaces !== null) {
        problems.push(`Alpaca order ${first.order.id} (${first.order.client_order_id}) starts a chain but is not the order sent as ${legOf !== null ? `the oco leg of ${legOf}` : base}`);
      }
      let seq = 0;
      for (const o of chain.slice(1)) {
        const next = Number(/-a(\d+)$/.exec(o.order.client_order_id)?.[1] ?? "NaN");
        if (!(next > seq) || !isReplacement(o)) problems.push(`replacement ${o.order.id} has client_order_id ${o.order.client_order_id}, not ${base}-a<seq> with seq past ${seq}`);
        seq = Number.isFinite(next) ? next : seq;
      }
      const last = chain[chain.length - 1]!;
      const executions = chain.flatMap((o) => o.executions.map((x) => ({ id: x.id, quantity: x.qty, priceCents: x.price_cents })));
      // What was executed is the executions; each order's filled_qty must agree (the fake's own bookkeeping).
      for (const o of chain) {
        const executed = o.executions.reduce((n, x) => n + x.qty, 0);
        if (executed !== Number(o.order.filled_qty)) problems.push(`Alpaca order ${o.order.id} (${o.order.client_order_id}, ${o.order.status}) says ${o.order.filled_qty} of ${o.order.qty} filled, its executions ${executed}`);
      }
      const time = (iso: string | null) => iso?.slice(11, 23) ?? "-";
      rows.push({
        key: chain.map((o) => o.order.client_order_id).join(" > "), order_id: base, state: stateOf(last.order.status),
        filled: executions.reduce((n, x) => n + x.quantity, 0), fills: executions.length, executions, problems,
        triggeredAtVenue: chain.some((o) => o.triggered === true),
        ocoLegOf: legOf,
        detail: (legOf !== null ? `oco leg of ${legOf}: ` : "") + chain.map((o) => `${o.order.id} ${o.order.status} ${o.order.filled_qty}/${o.order.qty}, created ${time(o.order.created_at)}, filled ${time(o.order.filled_at)}, canceled ${time(o.order.canceled_at)}`).join("; "),
      });
    }
  }
  return rows;
}
