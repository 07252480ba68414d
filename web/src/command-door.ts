// The door an order command takes from the page: the trader's socket while it is connected, else HTTP, and
// HTTP with the same idempotency key when the socket's answer is lost (commands.ts sendCommand). An answer
// on the socket comes just before its command's events, so a command answered there waits (briefly) for an
// event of each order it moved: the page shows the order with its reservation in one change.
import type { Ack } from "../../worker/shared/socket-orders";
import { ApiFailure } from "./api-failure";
import { ANSWER_TIMEOUT_MS, newRequestId, ordersMovedBy, sendCommand, type CommandKind, type OrderCommandInput, type Sent, type SocketAnswer } from "./commands";

/**
 * How long a command answered on the socket waits for its events (the order's step and the account change
 * it made) before it settles anyway: the connection may have dropped right after the answer.
 */
const EVENTS_AFTER_ANSWER_MS = 250;

/** Order commands by the door they took: sent on the socket, sent over HTTP, and HTTP retries of a lost socket answer. */
export interface OrderRoutes {
  socket: number;
  http: number;
  fallbacks: number;
}

/** An order command as sent, less its request_id (given when it is sent). */
export type CommandBody = OrderCommandInput extends infer C ? (C extends OrderCommandInput ? Omit<C, "request_id"> : never) : never;

export interface CommandDoorDeps {
  /** The live connection (feed.ts OrderFeed): whether it is up, and a command sent on it with its answer. */
  feed: { readonly connected: boolean; command(command: OrderCommandInput, timeoutMs: number): Promise<SocketAnswer> };
  /** A 401 on either door: the session is over (the API signs the page out). */
  unauthorized: () => void;
  /** The desk was closed: nothing waits for events any more. */
  stopped: () => boolean;
}

export class CommandDoor {
  /** Counted for the page's debug hook (window.fillwireDebug.orderRoutes). */
  readonly routes: OrderRoutes = { socket: 0, http: 0, fallbacks: 0 };
  /** Commands answered on the socket, waiting for an event of these orders to be applied. */
  private readonly eventWaiters = new Map<string, Set<() => void>>();

  constructor(private readonly deps: CommandDoorDeps) {}

  /**
   * One order command: over the socket while it is connected, else (or when its answer is lost) over HTTP
   * with the same idempotency key (`http(retry)`). `fromAck` reads the value from the socket's ack. A reject
   * is thrown as the ApiFailure the HTTP route would have given.
   */
  async send<T>(kind: CommandKind, body: CommandBody, http: (retry: boolean) => Promise<T>, fromAck: (ack: Ack) => T): Promise<Sent<T>> {
    const command = { ...body, request_id: newRequestId(kind) } as OrderCommandInput;
    const { feed } = this.deps;
    let acked: Ack | null = null;
    try {
      const sent = await sendCommand<T>({
        socket: feed.connected
          ? () => {
              this.routes.socket++;
              return feed.command(command, ANSWER_TIMEOUT_MS[kind]);
            }
          : null,
        http: (retry) => {
          this.routes.http++;
          if (retry) this.routes.fallbacks++;
          return http(retry);
        },
        fromAck: (ack) => fromAck((acked = ack)),
      });
      if (acked) await this.eventsOf(ordersMovedBy(acked));
      return sent;
    } catch (err) {
      if (err instanceof ApiFailure && err.status === 401) this.deps.unauthorized(); // a socket's 401 as HTTP's
      throw err;
    }
  }

  /** An event of `orderId` was applied: commands waiting for one go on. */
  eventApplied(orderId: string): void {
    const waiters = this.eventWaiters.get(orderId);
    if (!waiters) return;
    this.eventWaiters.delete(orderId);
    for (const waiter of waiters) waiter();
  }

  /** Resolves once an event of each order has been applied, or after EVENTS_AFTER_ANSWER_MS. */
  private eventsOf(ids: readonly string[]): Promise<void> {
    if (ids.length === 0 || this.deps.stopped()) return Promise.resolve();
    return new Promise((resolve) => {
      const left = new Set(ids);
      const waiters = new Map<string, () => void>();
      const finish = () => {
        clearTimeout(timer);
        for (const [id, waiter] of waiters) {
          const set = this.eventWaiters.get(id);
          set?.delete(waiter);
          if (set?.size === 0) this.eventWaiters.delete(id);
        }
        resolve();
      };
      const timer = setTimeout(finish, EVENTS_AFTER_ANSWER_MS);
      for (const id of left) {
        const waiter = () => {
          left.delete(id);
          if (left.size === 0) finish();
        };
        waiters.set(id, waiter);
        let set = this.eventWaiters.get(id);
        if (!set) this.eventWaiters.set(id, (set = new Set()));
        set.add(waiter);
      }
    });
  }
}
