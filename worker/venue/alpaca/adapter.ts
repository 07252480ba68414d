// The ExchangeAdapter for Alpaca's Trading API v2 (EXCHANGE=alpaca). It runs in each trader's desk: orders
// go to Alpaca from there (so desks send in parallel), and every answer is settled through the account's
// AlpacaLink, which holds the fills and the desk of each order, so a report built here and one pushed from
// the stream are the same report. Refusals (403/422) are REJECTED with Alpaca's message; anything that
// should be tried again (429, 5xx, timeouts) throws, and the desk retries with its backoff, first looking
// the order up by its client_order_id, so a retry never makes a second order. A take-profit and its
// stop-loss go as one Alpaca order of class oco (mapping.ts ocoRole), which Alpaca holds one-cancels-other.
import type { ExchangeAdapter, OrderRef, VenueAmend, VenueOrder, VenueReport } from "../adapter";
import { AlpacaClient, AlpacaRefusal, AlpacaUnavailable } from "./client";
import { alpacaConfig, linkName } from "./config";
import { decimalToShares, ocoRole, toAlpacaRequest, toOcoRequest, toReplaceRequest, venueStateOf, type AlpacaRequest } from "./mapping";
import { referenceQuote } from "./quotes";
import { AlpacaOrder } from "./wire";

/** How often, and how far apart, a cancel Alpaca accepted is checked until the order is final. */
const CANCEL_CHECKS = 6;
const CANCEL_CHECK_MS = 100;

const owner = (ref: OrderRef) => ({ traderId: ref.traderId, symbol: ref.symbol });

/**
 * Orders whose POST is on its way to Alpaca from this isolate (the desk that sends an order also cancels
 * it). Until it is answered, "Alpaca does not know it" proves nothing: a cancel waits for the answer (polling
 * this set, not the POST's promise, which belongs to another request), so the POST cannot land after the
 * desk ended the order and trade unbooked. A plain set of ids: nothing of one request is shared with another.
 */
const posting = new Set<string>();
const POST_POLL_MS = 25;
const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms));

export function alpacaExchange(env: Env): ExchangeAdapter {
  const config = alpacaConfig(env);
  const client = new AlpacaClient(config);
  const link = () => env.ALPACA_LINK.get(env.ALPACA_LINK.idFromName(linkName(config)));

  /** An exit whose peer can ride with it goes as one oco order; its stop-loss peer rides on that (ride()). */
  function submit(order: VenueOrder): Promise<VenueReport> {
    const role = ocoRole(order);
    if (role === "rider") return ride(order);
    return post(order, role === "carrier" ? toOcoRequest(order) : toAlpacaRequest(order));
  }

  async function post(order: VenueOrder, request: AlpacaRequest): Promise<VenueReport> {
    if ("refusal" in request) {
      return { key: order.key, orderId: order.orderId, state: "REJECTED", fills: [], reason: request.refusal };
    }
    const stub = link();
    const peer = request.body.order_class === "oco" ? order.ocoPeer ?? null : null;
    // Marked before the first await: a cancel handled from here on waits for this POST's answer (the
    // stop-loss an oco carries too: Alpaca will have it once the POST lands).
    posting.add(order.orderId);
    if (peer) posting.add(peer.orderId);
    try {
      let created;
      try {
        await stub.register({ orderId: order.orderId, traderId: order.traderId, symbol: order.symbol, orderType: order.orderType });
        if (peer) await stub.register({ orderId: peer.orderId, traderId: order.traderId, symbol: order.symbol, orderType: peer.orderType, ridesOn: order.orderId });
        created = await client.createOrder(request.body);
      } finally {
        posting.delete(order.orderId);
        if (peer) posting.delete(peer.orderId);
      }
      if (peer) await acceptLeg(order, peer.orderId, created);
      return await stub.accepted(order.orderId, [created]);
    } catch (err) {
      if (!(err instanceof AlpacaRefusal)) throw err;
      // A refusal of a copy whose first try did land (client_order_id must be unique) is not a rejection.
      const chain = await client.chain(order.orderId);
      if (chain) {
        if (peer) await acceptLeg(order, peer.orderId, chain[0]!);
        return stub.accepted(order.orderId, chain);
      }
      if (peer) {
        // Alpaca would not take the pair as one oco order: the take-profit goes alone, and its stop-loss sends
        // itself when it finds no oco (ride()); the desk then holds one-cancels-other, as for simple exits.
        console.warn(`alpaca: oco for ${order.orderId} refused (${err.alpacaMessage}); its exits go as simple orders`);
        const { ocoPeer: _pair, ...alone } = order;
        return post(alone, toAlpacaRequest(alone));
      }
      return stub.refused(order.orderId, `Rejected by Alpaca (HTTP ${err.status}): ${err.alpacaMessage}`);
    }
  }

  /**
   * The stop-loss leg of the oco order `carrier` (read nested when it came without its legs), known to the
   * link as stop-loss `riderId`'s Alpaca order from now on; null when Alpaca shows no leg.
   */
  async function acceptLeg(ref: OrderRef, riderId: string, carrier: AlpacaOrder): Promise<VenueReport | null> {
    const legs = carrier.legs ?? (await client.getOrder(carrier.id, true))?.legs ?? [];
    const leg = legs.find((l) => (l.type ?? l.order_type) === "stop" || (l.type ?? l.order_type) === "stop_limit");
    if (!leg) return null; // the stop-loss asks again when it is sent (ride())
    return link().accepted(riderId, [AlpacaOrder.parse(leg)], owner(ref), 0);
  }

  /**
   * A stop-loss the link knows went as the leg of its take-profit's oco order, but not yet as which Alpaca
   * order (the POST's answer was lost): learned now from that order at Alpaca. False when it is not one.
   */
  async function learnLeg(ref: OrderRef): Promise<boolean> {
    const carrierId = await link().ridesOn(ref.orderId);
    const carrier = carrierId ? await client.chain(carrierId) : null;
    if (!carrier || carrier[0]!.order_class !== "oco") return false;
    return (await acceptLeg(ref, ref.orderId, carrier[0]!)) !== null;
  }

  /**
   * A stop-loss whose take-profit carries it to Alpaca as one oco order: it is Alpaca's leg of that order.
   * Waits for the take-profit's POST when it is on its way; finds the leg from the take-profit's order at
   * Alpaca; sends itself as a simple order when its take-profit went alone, or ended without reaching Alpaca.
   * While the take-profit is live but not at Alpaca yet, it throws (AlpacaUnavailable) and the desk tries
   * again with its backoff.
   */
  async function ride(order: VenueOrder): Promise<VenueReport> {
    const stub = link();
    const peer = order.ocoPeer!;
    if (!(await stub.current(order.orderId))) {
      for (let waited = 0; posting.has(peer.orderId) && waited < config.requestTimeoutMs; waited += POST_POLL_MS) await sleep(POST_POLL_MS);
    }
    if (await stub.current(order.orderId)) return stub.accepted(order.orderId, []);
    const carrier = await client.chain(peer.key);
    const { ocoPeer: _pair, ...alone } = order;
    if (!carrier && peer.live) throw new AlpacaUnavailable(`${order.orderId} goes to Alpaca as the stop-loss of ${peer.orderId}'s oco order, which Alpaca does not have yet`);
    if (!carrier || carrier[0]!.order_class !== "oco") return post(alone, toAlpacaRequest(alone));
    await stub.register({ orderId: order.orderId, traderId: order.traderId, symbol: order.symbol, orderType: order.orderType, ridesOn: peer.orderId });
    const report = await acceptLeg(order, order.orderId, carrier[0]!);
    if (!report) throw new AlpacaUnavailable(`Alpaca's oco order ${carrier[0]!.id} shows no stop-loss leg for ${order.orderId} yet`);
    return report;
  }

  async function lookup(ref: OrderRef): Promise<VenueReport | null> {
    const stub = link();
    const chain = await client.chain(ref.orderId);
    if (chain) return stub.accepted(ref.orderId, chain, owner(ref));
    // Alpaca's REST API does not show it (yet), but its stream may have: then Alpaca has it. The link also
    // knows how fillwire ended an order Alpaca never had (refused, given up).
    if ((await stub.current(ref.orderId)) || (await learnLeg(ref))) return stub.accepted(ref.orderId, []);
    const known = await stub.report(ref.orderId);
    return known && known.state !== "WORKING" ? known : null;
  }

  /** The link's view of the order's current Alpaca order, after learning it from Alpaca when it has none. */
  async function currentOrder(ref: OrderRef) {
    const stub = link();
    const known = await stub.current(ref.orderId);
    if (known) return known;
    const chain = await client.chain(ref.orderId);
    if (chain) await stub.accepted(ref.orderId, chain, owner(ref));
    else if (!(await learnLeg(ref))) return null;
    return stub.current(ref.orderId);
  }

  async function amend(ref: OrderRef, change: VenueAmend): Promise<VenueReport | null> {
    const stub = link();
    const known = await currentOrder(ref);
    if (!known) return null;
    if (known.closed || change.seq <= known.amendSeq) return stub.report(ref.orderId);
    const live = await client.getOrder(known.alpacaId);
    if (!live || venueStateOf(live.status) !== "WORKING" || live.status === "replaced") {
      return stub.accepted(ref.orderId, live ? [live] : []);
    }
    const request = toReplaceRequest(ref.orderId, known.orderType, change, known.filledBefore + decimalToShares(live.filled_qty), live);
    if ("refusal" in request) {
      console.warn(`alpaca amend of ${ref.orderId} not sent: ${request.refusal}`);
      return { ...(await stub.accepted(ref.orderId, [live])), amendRefusal: request.refusal };
    }
    try {
      const replacement = await client.replaceOrder(live.id, request.body);
      return replacement ? stub.accepted(ref.orderId, [live, replacement], owner(ref), change.seq) : stub.accepted(ref.orderId, [live]);
    } catch (err) {
      if (!(err instanceof AlpacaRefusal)) throw err;
      // Refused (e.g. the order filled meanwhile): the report's amendSeq says it did not apply.
      console.warn(`alpaca amend of ${ref.orderId} refused: ${err.alpacaMessage}`);
      const now = await client.getOrder(live.id);
      return { ...(await stub.accepted(ref.orderId, now ? [now] : [])), amendRefusal: `Rejected by Alpaca (HTTP ${err.status}): ${err.alpacaMessage}` };
    }
  }

  async function cancel(ref: OrderRef, final: "CANCELLED" | "EXPIRED", reason: string): Promise<VenueReport> {
    // A POST still on its way may yet create the order: wait for its answer (the desk's timeout bounds this).
    for (let waited = 0; posting.has(ref.orderId) && waited < config.requestTimeoutMs; waited += POST_POLL_MS) await sleep(POST_POLL_MS);
    const stub = link();
    const known = await currentOrder(ref);
    // Never at Alpaca: end it here; should a copy still arrive, the link cancels it there at once.
    if (!known) return stub.abandon(ref.orderId, final, reason, owner(ref));
    if (known.closed) return (await stub.report(ref.orderId))!;
    await stub.ending(ref.orderId, final, reason);
    const sent = await client.cancelOrder(known.alpacaId);
    for (let check = 0; check < CANCEL_CHECKS; check++) {
      const order = await client.getOrder(known.alpacaId);
      const chain = order?.replaced_by ? await client.chain(ref.orderId) : order ? [order] : [];
      const report = await stub.accepted(ref.orderId, chain ?? []);
      if (report.state !== "WORKING") return report;
      await new Promise((r) => setTimeout(r, CANCEL_CHECK_MS * (check + 1)));
    }
    throw new AlpacaUnavailable(`Alpaca ${sent.outcome === "refused" ? `refused the cancel (${sent.message})` : "accepted the cancel but has not confirmed it yet"}`);
  }

  return {
    // An oco pair is held by Alpaca; exits that cannot be one (a trailing stop, say) go as simple orders and the
    // desk holds their group (and trims an oco's members as it would any group's: Alpaca has done it already).
    holdsExitGroups: false,
    quote: (symbol) => referenceQuote(client, config.dataUrl, symbol, config.quoteTtlMs),
    submit,
    lookup,
    amend,
    cancel,
  };
}
