// The ExchangeAdapter for Alpaca's Trading API v2 (EXCHANGE=alpaca). It runs in each trader's desk: orders
// go to Alpaca from there (so desks send in parallel), and every answer is settled through the account's
// AlpacaLink, which holds the fills and the desk of each order, so a report built here and one pushed from
// the stream are the same report. Refusals (403/422) are REJECTED with Alpaca's message; anything that
// should be tried again (429, 5xx, timeouts) throws, and the desk retries with its backoff, first looking
// the order up by its client_order_id, so a retry never makes a second order.
import type { ExchangeAdapter, OrderRef, VenueAmend, VenueOrder, VenueReport } from "../adapter";
import { AlpacaClient, AlpacaRefusal, AlpacaUnavailable } from "./client";
import { alpacaConfig, linkName } from "./config";
import { decimalToShares, toAlpacaRequest, toReplaceRequest, venueStateOf } from "./mapping";
import { referenceQuote } from "./quotes";

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

  async function submit(order: VenueOrder): Promise<VenueReport> {
    const request = toAlpacaRequest(order);
    if ("refusal" in request) {
      return { key: order.key, orderId: order.orderId, state: "REJECTED", fills: [], reason: request.refusal };
    }
    const stub = link();
    // Marked before the first await: a cancel handled from here on waits for this POST's answer.
    posting.add(order.orderId);
    try {
      let created;
      try {
        await stub.register({ orderId: order.orderId, traderId: order.traderId, symbol: order.symbol, orderType: order.orderType });
        created = await client.createOrder(request.body);
      } finally {
        posting.delete(order.orderId);
      }
      return await stub.accepted(order.orderId, [created]);
    } catch (err) {
      if (!(err instanceof AlpacaRefusal)) throw err;
      // A refusal of a copy whose first try did land (client_order_id must be unique) is not a rejection.
      const chain = await client.chain(order.orderId);
      if (chain) return stub.accepted(order.orderId, chain);
      return stub.refused(order.orderId, `Rejected by Alpaca (HTTP ${err.status}): ${err.alpacaMessage}`);
    }
  }

  async function lookup(ref: OrderRef): Promise<VenueReport | null> {
    const stub = link();
    const chain = await client.chain(ref.orderId);
    if (chain) return stub.accepted(ref.orderId, chain, owner(ref));
    // Alpaca's REST API does not show it (yet), but its stream may have: then Alpaca has it. The link also
    // knows how fillwire ended an order Alpaca never had (refused, given up).
    if (await stub.current(ref.orderId)) return stub.accepted(ref.orderId, []);
    const known = await stub.report(ref.orderId);
    return known && known.state !== "WORKING" ? known : null;
  }

  /** The link's view of the order's current Alpaca order, after learning it from Alpaca when it has none. */
  async function currentOrder(ref: OrderRef) {
    const stub = link();
    const known = await stub.current(ref.orderId);
    if (known) return known;
    const chain = await client.chain(ref.orderId);
    if (!chain) return null;
    await stub.accepted(ref.orderId, chain, owner(ref));
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
    holdsExitGroups: false, // fillwire's exits go to Alpaca as simple orders: the desk holds the group
    quote: (symbol) => referenceQuote(client, config.dataUrl, symbol, config.quoteTtlMs),
    submit,
    lookup,
    amend,
    cancel,
  };
}
