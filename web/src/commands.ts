// Orders on the live socket, with HTTP as the fallback (SPEC, "Orders on the socket"). A command goes over
// the socket while it is connected and waits for the answer that names its request_id; when the socket is
// not connected, closes before the answer, or stays silent past a timeout, the same command goes over HTTP
// with the same Idempotency-Key, so the server replays the order the socket may have placed instead of
// making a second one. A reject is the HTTP route's refusal (same status and code) and is not retried.
// No DOM, no socket here: test/web runs this in plain Node.
import type { z } from "zod";
import type { Ack, OrderCommand, Reject } from "../../worker/shared/socket-orders";
import { ApiFailure } from "./api-failure";

export type CommandKind = "submit" | "cancel" | "amend" | "cancel_all";
/** An order command as the page sends it (the HTTP bodies as the page writes them: defaults left to the server). */
export type OrderCommandInput = z.input<typeof OrderCommand>;

/**
 * How long a command waits for its answer on the socket before it goes over HTTP. A submit is answered
 * as soon as the desk has written it; amends and cancels wait for the venue (EXCHANGE_TIMEOUT_MS, 5 s by
 * default), so their wait is longer than the venue's: a cancel has no key to make a second try harmless.
 */
export const ANSWER_TIMEOUT_MS: Readonly<Record<CommandKind, number>> = { submit: 4_000, amend: 8_000, cancel: 8_000, cancel_all: 10_000 };

/** How often, and after how long, a fallback that finds its key still in use (409 IDEMPOTENCY_KEY_IN_USE) asks again. */
export const IN_USE_RETRY_MS: readonly number[] = [150, 300, 600, 1_200, 2_400];

/** A fresh request_id: the command's kind and a random part (1-64 printable characters, as the server asks). */
export function newRequestId(kind: CommandKind, random: () => string = () => crypto.randomUUID()): string {
  return `${kind}:${random()}`.slice(0, 64);
}

/** What the socket made of a command: its ack, its reject, or no answer (and why). */
export type SocketAnswer =
  | { kind: "ack"; ack: Ack }
  | { kind: "reject"; reject: Reject }
  | { kind: "lost"; why: "unsent" | "closed" | "timeout" };

export interface Timers {
  set(run: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}
const realTimers: Timers = { set: (run, ms) => setTimeout(run, ms), clear: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>) };

/** Commands sent on one socket and not yet answered, by request_id. */
export class PendingAnswers {
  private readonly waiting = new Map<string, { resolve: (answer: SocketAnswer) => void; timer: unknown }>();

  constructor(private readonly timers: Timers = realTimers) {}

  get size(): number {
    return this.waiting.size;
  }

  /** Wait for the answer to `requestId`; after `timeoutMs` without one it counts as lost. */
  expect(requestId: string, timeoutMs: number): Promise<SocketAnswer> {
    if (this.waiting.has(requestId)) throw new Error(`request_id ${requestId} is already waiting for its answer`);
    return new Promise((resolve) => {
      const timer = this.timers.set(() => this.finish(requestId, { kind: "lost", why: "timeout" }), timeoutMs);
      this.waiting.set(requestId, { resolve, timer });
    });
  }

  /** An ack or reject from the socket; false when no command waits for it (a late answer, or another page's id). */
  settle(message: Ack | Reject): boolean {
    if (message.request_id === null) return false;
    return this.finish(message.request_id, message.type === "ack" ? { kind: "ack", ack: message } : { kind: "reject", reject: message });
  }

  /** One command's answer will not come (it could not be sent). */
  drop(requestId: string, why: "unsent" | "closed"): void {
    this.finish(requestId, { kind: "lost", why });
  }

  /** The socket closed: no answer waiting on it will come (answers are not replayed). */
  loseAll(): void {
    for (const id of [...this.waiting.keys()]) this.finish(id, { kind: "lost", why: "closed" });
  }

  private finish(requestId: string, answer: SocketAnswer): boolean {
    const entry = this.waiting.get(requestId);
    if (!entry) return false;
    this.waiting.delete(requestId);
    this.timers.clear(entry.timer);
    entry.resolve(answer);
    return true;
  }
}

/**
 * The orders whose events follow an ack on the socket (an order's ack comes just before them): the order it
 * placed, amended or cancelled, or each one a cancel-all cancelled. None for a replay, which changes nothing.
 */
export function ordersMovedBy(ack: Ack): string[] {
  if (ack.replayed) return [];
  if (ack.order) return [ack.order.id];
  return (ack.results ?? []).filter((r) => r.status === 200).map((r) => r.id);
}

/** A reject as the page shows any refusal: the HTTP route's status, code, message and details. */
export function rejectFailure(reject: Reject): ApiFailure {
  return new ApiFailure(reject.status, reject.error, reject.message, reject.details);
}

/** What to do with the socket's answer: use it, show the refusal, or send the command over HTTP. */
export function nextStep(answer: SocketAnswer): "done" | "refused" | "http" {
  if (answer.kind === "ack") return "done";
  if (answer.kind === "reject") return "refused";
  return "http";
}

export interface Doors<T> {
  /** Send over the socket and wait for the answer; null when the socket is not connected. */
  socket: (() => Promise<SocketAnswer>) | null;
  /**
   * The same command over HTTP (the same Idempotency-Key for a submit or an amend); `retry` is true when
   * the socket took the command and its answer was lost, so the socket's command may have acted already.
   */
  http: (retry: boolean) => Promise<T>;
  /** The result from the socket's ack (the HTTP route's body). */
  fromAck: (ack: Ack) => T;
}

export interface Sent<T> {
  value: T;
  via: "socket" | "http";
  /** The socket took the command but its answer never came: the socket's command may have acted already. */
  fellBack: boolean;
}

/** One command through the socket when it is connected, else (or when its answer is lost) over HTTP. */
export async function sendCommand<T>(doors: Doors<T>, wait: (ms: number) => Promise<void> = sleep): Promise<Sent<T>> {
  if (!doors.socket) return { value: await doors.http(false), via: "http", fellBack: false };
  const answer = await doors.socket();
  switch (nextStep(answer)) {
    case "done":
      return { value: doors.fromAck((answer as { ack: Ack }).ack), via: "socket", fellBack: false };
    case "refused":
      throw rejectFailure((answer as { reject: Reject }).reject);
    case "http": {
      // Never sent: a plain HTTP call. Sent but unanswered: the socket's command may still be running on
      // the desk, holding the key; ask again until it is done, then the key replays its result.
      const fellBack = (answer as { why: string }).why !== "unsent";
      return { value: fellBack ? await retryWhileInUse(() => doors.http(true), wait) : await doors.http(false), via: "http", fellBack };
    }
  }
}

/** Call `http`, asking again while the server answers 409 IDEMPOTENCY_KEY_IN_USE (the same request is still being handled). */
export async function retryWhileInUse<T>(http: () => Promise<T>, wait: (ms: number) => Promise<void> = sleep, delays: readonly number[] = IN_USE_RETRY_MS): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await http();
    } catch (err) {
      const delay = delays[attempt];
      if (!(err instanceof ApiFailure && err.code === "IDEMPOTENCY_KEY_IN_USE") || delay === undefined) throw err;
      await wait(delay);
    }
  }
}

/**
 * A cancel sent again over HTTP after the socket's answer was lost, refused because the order is already
 * CANCELLED: the socket's cancel went through. Any other refusal stands.
 */
export function alreadyCancelled(err: unknown): boolean {
  return err instanceof ApiFailure && err.code === "ORDER_NOT_CANCELLABLE" && err.details?.status === "CANCELLED";
}

/** The orders a cancel-all was meant for that its (HTTP, after a lost socket answer) result does not name. */
export function unaccounted(asked: readonly string[], outcomes: readonly { id: string }[]): string[] {
  const named = new Set(outcomes.map((o) => o.id));
  return asked.filter((id) => !named.has(id));
}

const sleep = (ms: number) => new Promise<void>((ok) => setTimeout(ok, ms));
