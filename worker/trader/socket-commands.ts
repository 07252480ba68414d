// The trader's socket as a door for orders: each command goes to the very OrderEntry command the HTTP
// route calls (one path, the same checks), and its Result becomes an ack or a reject carrying the status
// and error code the route would answer.
import { ERROR_STATUS, type Failure } from "../shared/errors";
import { reject, type Ack, type OrderCommand, type Reject } from "../shared/socket-orders";
import type { OrderEntry } from "./order-entry";

/** Runs one order command; `beforeEvents` is called with its ack, before the desk sends the command's events. */
export async function runOrderCommand(entry: OrderEntry, command: OrderCommand): Promise<Ack | Reject> {
  const id = command.request_id;
  switch (command.type) {
    case "submit": {
      const r = await entry.submit(command.order, command.idempotency_key ?? null);
      return r.ok ? { type: "ack", request_id: id, order: r.value.order, ...(r.value.replayed ? { replayed: true } : {}) } : refusal(id, r);
    }
    case "cancel": {
      const r = await entry.cancel(command.order_id);
      return r.ok ? { type: "ack", request_id: id, order: r.value } : refusal(id, r);
    }
    case "amend": {
      const r = await entry.amend(command.order_id, command.changes, command.idempotency_key ?? null);
      return r.ok ? { type: "ack", request_id: id, order: r.value.order, ...(r.value.replayed ? { replayed: true } : {}) } : refusal(id, r);
    }
    case "cancel_all": {
      const r = await entry.cancelAll({ symbol: command.symbol, side: command.side });
      return r.ok ? { type: "ack", request_id: id, results: r.value.data } : refusal(id, r);
    }
  }
}

function refusal(requestId: string, failure: Failure): Reject {
  return reject(requestId, ERROR_STATUS[failure.code], { error: failure.code, message: failure.message, details: failure.details ?? {} });
}
