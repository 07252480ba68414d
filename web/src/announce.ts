// The toast a live order event brings to the trader's screen, as a plain function: the seed's wording for a
// fill ("Order filled at $150.00 - BUY 100 AAPL"), and a line for each step the trader did not just ask for.
import type { OrderEvent } from "../../worker/shared/events";
import { price, quantity } from "./format";

export interface Announcement {
  tone: "info" | "error";
  text: string;
}

/**
 * What to tell the trader of `event`; null for a step that needs no toast (submitted, accepted, partial) or
 * that the page announces itself: a cancel this page asked for (`cancelledHere`: the cancel's own toast or
 * the cancel-all summary says it).
 */
export function announcement(event: OrderEvent, cancelledHere: boolean): Announcement | null {
  const what = `${event.side} ${quantity(event.quantity)} ${event.symbol}`;
  const because = event.reason ? `: ${event.reason}` : "";
  switch (event.event) {
    case "order.filled":
      return { tone: "info", text: `Order filled at ${price(event.avg_fill_price)} - ${what}` };
    case "order.rejected":
      return { tone: "error", text: `Order rejected - ${what}${because}` };
    case "order.triggered":
      return { tone: "info", text: `Stop triggered - ${what}${because}` };
    case "order.expired":
      return { tone: "info", text: `Order expired - ${what}${because}` };
    case "order.cancel_rejected":
      return { tone: "error", text: `Cancel refused - ${what}${because}` };
    case "order.replaced":
      return { tone: "info", text: `Order amended - ${what}` };
    case "order.activated":
      return { tone: "info", text: `Exit live - ${what}${event.price !== null ? ` at ${price(event.price)}` : event.stop_price != null ? `, stop ${price(event.stop_price)}` : ""}` };
    case "order.cancelled":
      return cancelledHere ? null : { tone: "info", text: `Order cancelled - ${what}${because}` };
    default:
      return null;
  }
}
