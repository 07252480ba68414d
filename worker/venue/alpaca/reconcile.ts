// What Alpaca tells the link, put into its ledger: a trade update from the stream, a FILL activity, and
// the reconciliation after every (re)connect (open orders, fills since the last one applied, and every
// order fillwire thinks is working that Alpaca no longer lists as open). An execution seen twice (once on
// the stream, once in the activities) is applied once.
import type { AlpacaClient } from "./client";
import type { LinkLedger } from "./ledger";
import { decimalToCents, decimalToShares, parseClientOrderId } from "./mapping";
import type { AlpacaOrder, FillActivity, TradeUpdate } from "./wire";

/** Activities are re-read this far before the last fill applied: Alpaca does not order fills within a ms. */
const ACTIVITY_MARGIN_MS = 60_000;
/** A catch-up reads at most this many pages of 100 fills; the rest waits for the next one. */
const MAX_PAGES = 20;

export interface Touched {
  orders: Set<string>;
  /** Some order is finished at Alpaca but not every one of its fills is in the ledger yet. */
  incomplete: boolean;
  /** Orders fillwire had given up that Alpaca has after all (LinkLedger.givenUp): to cancel there, and count. */
  late: AlpacaOrder[];
}

export const touched = (): Touched => ({ orders: new Set(), incomplete: false, late: [] });

/** Notes `order` in `into.late` when it is one fillwire gave up before Alpaca had it; call before observing it. */
function noteLate(ledger: LinkLedger, order: AlpacaOrder, into: Touched): void {
  if (ledger.givenUp(parseClientOrderId(order.client_order_id).orderId)) into.late.push(order);
}

/** A trade update from the stream. Returns the fillwire order it concerns, or null when it is not fillwire's. */
export function ingestUpdate(ledger: LinkLedger, update: TradeUpdate, nowIso: string): string | null {
  const order = update.order;
  const orderId = ledger.observe(order);
  if (!orderId) return null;
  if ((update.event === "fill" || update.event === "partial_fill") && update.price !== null) {
    const cum = decimalToShares(order.filled_qty);
    // qty is this execution's; without it, what the cumulative quantity grew by since the last fill held.
    const quantity = update.qty !== null ? decimalToShares(update.qty) : cum - ledger.filledOf(order.id);
    const execution = update.execution_id ?? update.id;
    if (quantity > 0) {
      ledger.addFill({
        orderId, alpacaId: order.id, cumQty: cum, quantity, priceCents: decimalToCents(update.price), at: update.timestamp ?? nowIso,
        fillId: execution ?? `${order.id}:${cum}`, execution,
      });
    }
  }
  return orderId;
}

export type UpdateOutcome =
  | { kind: "foreign" }
  | { kind: "parked" }
  | { kind: "order"; orderId: string; incomplete: boolean; late: AlpacaOrder | null };

/**
 * A trade update, applied and worked out: an order of fillwire's (owing its desk a report when it changed;
 * `late` when it is one fillwire gave up before Alpaca had it: it must be cancelled there, and what it traded
 * meanwhile reaches its desk as executions of an ended order), or one that is not fillwire's.
 */
export function applyTradeUpdate(ledger: LinkLedger, update: TradeUpdate, nowIso: string): UpdateOutcome {
  const late = ledger.givenUp(parseClientOrderId(update.order.client_order_id).orderId) ? update.order : null;
  const orderId = ingestUpdate(ledger, update, nowIso);
  if (!orderId && isOcoMember(update.order)) {
    // Likely the leg of an oco order fillwire just sent, whose id the link learns from the POST's answer.
    ledger.parked.park(update.order.id, update, Date.parse(nowIso));
    return { kind: "parked" };
  }
  if (!orderId) return { kind: "foreign" };
  return { kind: "order", orderId, incomplete: ledger.refresh(orderId).incomplete, late };
}

/** An order of an oco pair at Alpaca (its leg has an id and client_order_id that Alpaca made). */
const isOcoMember = (order: AlpacaOrder) => order.order_class === "oco";

/** A FILL activity whose Alpaca order the ledger knows. Returns the fillwire order, or null. */
export function ingestActivity(ledger: LinkLedger, activity: FillActivity): string | null {
  const orderId = ledger.orderOfAlpaca(activity.order_id);
  if (!orderId) return null;
  const execution = activity.id.includes("::") ? activity.id.slice(activity.id.indexOf("::") + 2) : null;
  ledger.addFill({
    orderId, alpacaId: activity.order_id, cumQty: decimalToShares(activity.cum_qty), quantity: decimalToShares(activity.qty),
    priceCents: decimalToCents(activity.price), at: activity.transaction_time, fillId: execution ?? activity.id, execution,
  });
  return orderId;
}

/**
 * Reads FILL activities since the last one applied (less a margin) and applies them. An activity of an
 * Alpaca order the ledger has not seen (its submit answer was lost) is resolved by asking for the order.
 * A pass reads at most `maxPages` pages of 100; one that stops there resumes from the page after it next
 * time (the ledger keeps its page token), so a margin holding more fills than a call reads cannot stall the
 * catch-up on its first pages. The watermark moves when a pass has read to the end.
 */
export async function catchUpFills(ledger: LinkLedger, client: AlpacaClient, foreign: Set<string>, into: Touched, sinceMs: number, maxPages = MAX_PAGES): Promise<void> {
  const watermark = ledger.meta("fills_after") ?? new Date(sinceMs).toISOString();
  const after = new Date(Date.parse(watermark) - ACTIVITY_MARGIN_MS).toISOString();
  let latest = ledger.meta("fills_pass_latest") || watermark;
  let token: string | null = ledger.meta("fills_pass_token") || null;
  let done = false;
  for (let page = 0; page < maxPages && !done; page++) {
    const batch = await client.fills(after, token);
    for (const activity of batch.fills) {
      if (foreign.has(activity.order_id)) continue;
      let orderId = ingestActivity(ledger, activity);
      if (!orderId && !ledger.orderOfAlpaca(activity.order_id)) {
        const order = await client.getOrder(activity.order_id);
        if (order) noteLate(ledger, order, into);
        if (order && ledger.observe(order)) orderId = ingestActivity(ledger, activity);
        else if (!order || !isOcoMember(order)) foreign.add(activity.order_id); // an oco leg may yet be learned
      }
      if (orderId) into.orders.add(orderId);
      if (activity.transaction_time > latest) latest = activity.transaction_time;
    }
    done = !batch.full || !batch.lastId;
    token = batch.lastId;
  }
  // Fills the stream did not bring: the order as Alpaca has it now is read too (its status, and a trailing
  // stop's mark and stop when it triggered), so its report carries the terms it traded on, not those of an
  // older snapshot (one listed open just before it filled, say). Until a read succeeds, the ledger keeps
  // saying the snapshot is behind, and the next catch-up (soon: the pass counts as incomplete) reads it; the
  // report that follows corrects the desk's terms.
  for (const { alpacaId, orderId } of ledger.behindFills()) {
    const order = await client.getOrder(alpacaId).catch(() => null);
    if (order) ledger.observe(order);
    else into.incomplete = true;
    into.orders.add(orderId);
  }
  if (done) {
    ledger.setMeta("fills_after", latest);
    ledger.setMeta("fills_pass_token", "");
    ledger.setMeta("fills_pass_latest", "");
  } else {
    // More to read than this call reads: the next one goes on after the last page read, not from the margin.
    ledger.setMeta("fills_pass_token", token ?? "");
    ledger.setMeta("fills_pass_latest", latest);
    into.incomplete = true;
  }
}

/**
 * After a (re)connect: everything that may have happened while the link was not listening. Alpaca's open
 * orders, the fills since the last one applied, and each order the ledger holds as working that Alpaca no
 * longer lists as open (it ended meanwhile: ask for it). Then each order touched is worked out again.
 */
export async function reconcile(ledger: LinkLedger, client: AlpacaClient, foreign: Set<string>, sinceMs: number): Promise<Touched> {
  const into = touched();
  const open = await client.openOrders();
  const openIds = new Set(open.map((o) => o.id));
  for (const order of open) {
    noteLate(ledger, order, into);
    const orderId = ledger.observe(order);
    if (orderId) into.orders.add(orderId);
  }
  await catchUpFills(ledger, client, foreign, into, sinceMs);
  for (const row of ledger.openOrders()) {
    if (row.alpaca_id && openIds.has(row.alpaca_id)) continue;
    const orders = await ordersOf(client, row.order_id, row.alpaca_id);
    for (const order of orders) ledger.observe(order);
    if (orders.length > 0) into.orders.add(row.order_id);
  }
  settle(ledger, into);
  return into;
}

/** The Alpaca orders behind a fillwire order now: from its newest known id (and on), or by client order id. */
async function ordersOf(client: AlpacaClient, orderId: string, alpacaId: string | null): Promise<AlpacaOrder[]> {
  if (!alpacaId) return (await client.chain(orderId)) ?? [];
  const orders: AlpacaOrder[] = [];
  for (let next: string | null = alpacaId; next && orders.length < 100; ) {
    const order = await client.getOrder(next);
    if (!order) break;
    orders.push(order);
    next = order.replaced_by;
  }
  return orders;
}

/** Works out every touched order again (owing its desk a report when it changed). */
export function settle(ledger: LinkLedger, into: Touched): void {
  for (const orderId of into.orders) {
    if (ledger.refresh(orderId).incomplete) into.incomplete = true;
  }
}
