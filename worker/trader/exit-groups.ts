// One-cancels-other held by the desk, for a venue that does not hold exit groups itself (a broker that gets
// a bracket's or oco's exits as unrelated orders: ExchangeAdapter.holdsExitGroups false). As each report of a
// group's member reaches the desk, every working member is held to what is left of the group: reduced by an
// amend, or cancelled when nothing is left; an exit about to be sent when nothing is left is not sent. The
// venue may still fill two exits in the time between a fill and the desk's answer to it (docs/alpaca.md).
// On every venue: an entry still working when its exits have closed what it bought is cancelled.
// Plain functions over the store; the writing one runs inside the caller's atomically().
import { isFinalStatus } from "../shared/orders";
import type { AmendPlan } from "./amendment";
import type { OrderRow } from "./schema";
import type { DeskStore } from "./store";

/** The members of `member`'s exit group (an oco's parent with its leg, or a bracket's or oto's legs) and its capacity. */
function groupOf(store: DeskStore, member: OrderRow): { members: OrderRow[]; capacity: number } | null {
  if (member.oco_group === null) return null;
  const parent = member.parent_order_id === null ? member : store.order(member.parent_order_id);
  if (!parent) return null;
  const oco = parent.order_class === "oco";
  return { members: oco ? [parent, ...store.legsOf(parent.id)] : store.legsOf(parent.id), capacity: oco ? parent.quantity : parent.filled_quantity };
}

/** Every member of `member`'s exit group, itself included, final ones too (empty for an order in no group). */
export function groupMembers(store: DeskStore, member: OrderRow): OrderRow[] {
  return groupOf(store, member)?.members ?? [];
}

/**
 * Shares the group of `member` may still trade between its exits: its capacity (an oco's quantity, or what a
 * bracket's or oto's entry has filled) less what its members have traded (as far as the desk knows). null
 * for an order in no group.
 */
export function groupRoom(store: DeskStore, member: OrderRow): number | null {
  const group = groupOf(store, member);
  return group ? group.capacity - group.members.reduce((n, m) => n + m.filled_quantity, 0) : null;
}

/** What holding a group to its room asks of the venue: members to cancel, and members to amend down. */
export interface GroupTrim {
  end: OrderRow[];
  reduce: OrderRow[];
}

/**
 * Holds every working member of `member`'s group at the venue to what is left of the group (inside
 * atomically()): a member with nothing left is to be cancelled; one that could trade more than is left gets
 * a pending amend to its filled shares plus what is left (its share reservation follows). HELD legs and
 * members with an amend already pending are left alone (the next report brings them back here).
 */
export function trimGroup(store: DeskStore, member: OrderRow, nowMs: number): GroupTrim {
  const group = groupOf(store, member);
  const trim: GroupTrim = { end: [], reduce: [] };
  if (!group) return trim;
  const room = group.capacity - group.members.reduce((n, m) => n + m.filled_quantity, 0);
  for (const m of group.members) {
    if (m.status !== "PENDING" && m.status !== "PARTIAL") continue;
    if (m.venue_stage !== "ACKED" || m.pending_amend !== null) continue;
    const most = m.filled_quantity + Math.max(0, room);
    if (room <= 0) trim.end.push(m);
    else if (m.quantity > most) {
      const plan: AmendPlan = {
        seq: m.amend_seq + 1, quantity: most, limitCents: m.limit_cents, stopCents: m.stop_cents, timeInForce: m.tif, protectCents: m.protect_cents,
        maxCostCents: m.max_cost_cents, reservedCents: m.reserved_cents, reservedQuantity: Math.min(m.reserved_qty, room), heldCents: 0, heldQuantity: 0,
        remaining: m.quantity - m.filled_quantity, ocoCapacity: group.capacity,
      };
      trim.reduce.push(store.updateOrder(m.id, { pending_amend: JSON.stringify(plan), next_attempt_at: nowMs }));
    }
  }
  return trim;
}

/**
 * A bracket's or oto's entry still working when its exits are all done and traded (one of them filled, at
 * least in part): the rest of the entry would open shares that no exit protects, so it is to be cancelled.
 * Returns that entry for any final exit of it, else null (an entry whose exits the trader cancelled works on).
 */
export function entryLeftBare(store: DeskStore, exit: OrderRow): OrderRow | null {
  if (exit.parent_order_id === null || !isFinalStatus(exit.status)) return null;
  const entry = store.order(exit.parent_order_id);
  return entry && isBareEntry(store, entry) ? entry : null;
}

/** The entry itself: working, filled in part, and every exit of it done with some of them traded. */
export function isBareEntry(store: DeskStore, entry: OrderRow): boolean {
  if (entry.parent_order_id !== null || entry.order_class === "simple" || entry.order_class === "oco") return false;
  if (isFinalStatus(entry.status) || entry.filled_quantity === 0) return false;
  const exits = store.legsOf(entry.id);
  return exits.length > 0 && exits.every((l) => isFinalStatus(l.status)) && exits.some((l) => l.filled_quantity > 0);
}
