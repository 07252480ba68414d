// Where a fillwire order stands at Alpaca: worked out from the chain of Alpaca orders behind it (an amend
// at Alpaca is a new order, alpacahq/Alpaca-API#165) and the executions the link has applied. A plain
// function over the ledger's rows, so its rules are tested without a stream or storage.
import type { VenueState, VenueTerms } from "../adapter";
import { termsOf, venueStateOf } from "./mapping";
import { AlpacaOrder } from "./wire";

/** One Alpaca order of the chain, as the ledger holds it (quantities in shares). */
export interface ChainLink {
  alpacaId: string;
  /** 0 for the first order, n for the n-th replacement. */
  seq: number;
  /** Alpaca's status of it ("new", "filled", "replaced", ...). */
  status: string;
  qty: number;
  /** Alpaca's filled_qty for this Alpaca order alone. */
  filledQty: number;
  /** The Alpaca order this one replaced (null for the first). */
  replaces: string | null;
  /** Alpaca's last snapshot of the order, as JSON. */
  body: string;
}

/** A cancel fillwire asked for: Alpaca's "canceled" is this state, with this reason (LinkLedger.ending). */
export interface AskedEnd {
  endAs: "CANCELLED" | "EXPIRED";
  /** null: the state's own reason (FINAL_REASON). */
  reason: string | null;
}

export interface Standing {
  /** The Alpaca order the fillwire order works as now. */
  effective: ChainLink;
  state: VenueState;
  /** null while WORKING or FILLED; else why it ended. */
  reason: string | null;
  terms: VenueTerms;
  /** Alpaca says more shares filled than the ledger has fills for: not final until a catch-up brings them. */
  incomplete: boolean;
}

/** The reason of an exit that Alpaca cancelled as its oco's other exit triggered, traded or was cancelled. */
export const OCO_CANCELLED = "One-cancels-other at Alpaca: the other exit of its oco order triggered, traded or was cancelled";

const FINAL_REASON: Partial<Record<VenueState, string>> = {
  CANCELLED: "Cancelled at Alpaca",
  EXPIRED: "Expired at Alpaca (time in force)",
  REJECTED: "Rejected by Alpaca",
};

/**
 * The state, reason and terms of a fillwire order from its Alpaca `chain` (in seq order, not empty) and the
 * shares the ledger holds fills for (`ledgerFilled`). Rules:
 * - the last order of the chain is the one that works, except a replacement Alpaca rejected because the old
 *   order filled first: then the old order stands;
 * - the order's quantity is what the replaced orders filled plus the working order's qty; once the ledger
 *   holds fills for all of it, it is FILLED whatever the status says;
 * - a "canceled" that fillwire asked for is reported as it asked (CANCELLED or EXPIRED, its reason); one of
 *   an oco order is Alpaca's one-cancels-other (OCO_CANCELLED);
 * - a final state waits (WORKING, `incomplete`) until every share Alpaca says filled has its fill.
 */
export function standing(chain: readonly ChainLink[], ledgerFilled: number, asked: AskedEnd | null): Standing {
  let effective = chain.at(-1)!;
  if (effective.status === "rejected" && effective.replaces) {
    const old = chain.find((c) => c.alpacaId === effective.replaces);
    if (old && old.status !== "replaced") effective = old;
  }
  const chainFilled = chain.reduce((n, c) => n + c.filledQty, 0);
  const quantity = chain.filter((c) => c.status === "replaced" && c !== effective).reduce((n, c) => n + c.filledQty, 0) + effective.qty;
  let state = venueStateOf(effective.status);
  if (ledgerFilled >= quantity && ledgerFilled > 0) state = "FILLED";
  if (state === "CANCELLED" && asked) state = asked.endAs;
  const incomplete = ledgerFilled < chainFilled;
  if (state !== "WORKING" && incomplete) state = "WORKING";
  const body = AlpacaOrder.parse(JSON.parse(effective.body));
  const final = state === "CANCELLED" && body.order_class === "oco" ? OCO_CANCELLED : FINAL_REASON[state];
  const reason = state === "WORKING" || state === "FILLED" ? null : (asked && state === asked.endAs ? asked.reason : null) ?? final ?? null;
  return { effective, state, reason, terms: termsOf(body, quantity, effective.seq), incomplete };
}
