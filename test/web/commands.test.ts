// Orders on the socket with HTTP as the fallback (web/src/commands.ts): request ids the server accepts,
// answers matched by request_id (late, foreign and lost ones), and the door each command ends up taking.
import { afterEach, describe, expect, it, vi } from "vitest";
import type { Ack, Reject } from "../../worker/shared/socket-orders";
import { RequestId } from "../../worker/shared/socket-orders";
import type { Order } from "../../worker/shared/orders";
import { ApiFailure } from "../../web/src/api-failure";
import {
  ANSWER_TIMEOUT_MS, IN_USE_RETRY_MS, PendingAnswers, alreadyCancelled, newRequestId, nextStep, ordersMovedBy, rejectFailure, retryWhileInUse, sendCommand, unaccounted, type SocketAnswer,
} from "../../web/src/commands";

const order = { id: "ord_1", symbol: "AAPL", status: "PENDING" } as Order;
const ack = (request_id: string, extra: Partial<Ack> = {}): Ack => ({ type: "ack", request_id, order, ...extra });
const reject = (request_id: string | null, status = 400, error = "INSUFFICIENT_FUNDS"): Reject => ({
  type: "reject", request_id, status, error, message: "Insufficient funds for $15,000.00 order; available: $5,000.00", details: { required: 15000 },
});
const noWait = () => Promise.resolve();
const inUse = () => new ApiFailure(409, "IDEMPOTENCY_KEY_IN_USE", "A request with this idempotency key is still being handled; retry in a moment");

afterEach(() => vi.useRealTimers());

describe("request ids", () => {
  it("are accepted by the server's schema for every kind, and differ each time", () => {
    for (const kind of ["submit", "cancel", "amend", "cancel_all"] as const) {
      const id = newRequestId(kind);
      expect(RequestId.safeParse(id).success, id).toBe(true);
      expect(id.startsWith(`${kind}:`)).toBe(true);
    }
    const ids = new Set(Array.from({ length: 1000 }, () => newRequestId("submit")));
    expect(ids.size).toBe(1000);
  });

  it("stay within 64 characters whatever the random part", () => {
    expect(newRequestId("cancel_all", () => "x".repeat(100))).toHaveLength(64);
  });
});

describe("PendingAnswers", () => {
  it("hands each command the answer that names its request_id, whatever the order they come in", async () => {
    const answers = new PendingAnswers();
    const a = answers.expect("a", 1_000);
    const b = answers.expect("b", 1_000);
    expect(answers.settle(reject("b"))).toBe(true);
    expect(answers.settle(ack("a"))).toBe(true);
    await expect(a).resolves.toEqual({ kind: "ack", ack: ack("a") });
    await expect(b).resolves.toEqual({ kind: "reject", reject: reject("b") });
    expect(answers.size).toBe(0);
  });

  it("ignores an answer nobody waits for: a late one, a repeated one, one without a request_id", async () => {
    const answers = new PendingAnswers();
    const a = answers.expect("a", 1_000);
    expect(answers.settle(ack("other"))).toBe(false);
    expect(answers.settle(reject(null))).toBe(false);
    expect(answers.settle(ack("a"))).toBe(true);
    expect(answers.settle(ack("a"))).toBe(false);
    await expect(a).resolves.toMatchObject({ kind: "ack" });
  });

  it("counts a command as lost when no answer comes within its timeout, and a late answer changes nothing", async () => {
    vi.useFakeTimers();
    const answers = new PendingAnswers();
    let answer: SocketAnswer | undefined;
    void answers.expect("a", ANSWER_TIMEOUT_MS.submit).then((x) => (answer = x));
    await vi.advanceTimersByTimeAsync(ANSWER_TIMEOUT_MS.submit - 1);
    expect(answer).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    expect(answer).toEqual({ kind: "lost", why: "timeout" });
    expect(answers.settle(ack("a"))).toBe(false);
    expect(answers.size).toBe(0);
  });

  it("loses every waiting command when the socket closes (answers are not replayed), and clears their timers", async () => {
    vi.useFakeTimers();
    const answers = new PendingAnswers();
    const waiting = [answers.expect("a", 5_000), answers.expect("b", 5_000)];
    answers.loseAll();
    await expect(Promise.all(waiting)).resolves.toEqual([{ kind: "lost", why: "closed" }, { kind: "lost", why: "closed" }]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("refuses a request_id that is already waiting (two commands must not share an answer)", () => {
    const answers = new PendingAnswers();
    void answers.expect("a", 1_000);
    expect(() => answers.expect("a", 1_000)).toThrow(/already waiting/);
    answers.loseAll();
  });

  it("gives a command that could not be sent its answer at once", async () => {
    const answers = new PendingAnswers();
    const a = answers.expect("a", 1_000);
    answers.drop("a", "unsent");
    await expect(a).resolves.toEqual({ kind: "lost", why: "unsent" });
  });
});

describe("the door a command takes", () => {
  function doors(answer: SocketAnswer | null, http: (retry: boolean) => Promise<string> = async () => "http") {
    const calls = { socket: 0, http: [] as boolean[] };
    return {
      calls,
      doors: {
        socket: answer === null ? null : async () => (calls.socket++, answer),
        http: (retry: boolean) => (calls.http.push(retry), http(retry)),
        fromAck: (a: Ack) => `ack ${a.request_id}`,
      },
    };
  }

  it("decides from the answer: use an ack, show a reject, resend over HTTP when lost", () => {
    expect(nextStep({ kind: "ack", ack: ack("a") })).toBe("done");
    expect(nextStep({ kind: "reject", reject: reject("a") })).toBe("refused");
    for (const why of ["unsent", "closed", "timeout"] as const) expect(nextStep({ kind: "lost", why })).toBe("http");
  });

  it("goes over HTTP, once, when the socket is not connected", async () => {
    const { calls, doors: d } = doors(null);
    await expect(sendCommand(d, noWait)).resolves.toEqual({ value: "http", via: "http", fellBack: false });
    expect(calls).toEqual({ socket: 0, http: [false] });
  });

  it("takes the socket's ack and makes no HTTP call", async () => {
    const { calls, doors: d } = doors({ kind: "ack", ack: ack("r1") });
    await expect(sendCommand(d, noWait)).resolves.toEqual({ value: "ack r1", via: "socket", fellBack: false });
    expect(calls).toEqual({ socket: 1, http: [] });
  });

  it("throws a reject as the HTTP route's failure (status, code, message, details) and does not retry it", async () => {
    const { calls, doors: d } = doors({ kind: "reject", reject: reject("r1") });
    const err = await sendCommand(d, noWait).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiFailure);
    expect({ ...(err as ApiFailure), message: (err as ApiFailure).message }).toEqual({
      status: 400, code: "INSUFFICIENT_FUNDS", message: "Insufficient funds for $15,000.00 order; available: $5,000.00", details: { required: 15000 },
    });
    expect(calls).toEqual({ socket: 1, http: [] });
    expect(rejectFailure(reject("x", 429, "RATE_LIMITED")).status).toBe(429);
  });

  it("resends over HTTP, marked as a retry, when the socket closed or stayed silent after taking the command", async () => {
    for (const why of ["closed", "timeout"] as const) {
      const { calls, doors: d } = doors({ kind: "lost", why });
      await expect(sendCommand(d, noWait)).resolves.toEqual({ value: "http", via: "http", fellBack: true });
      expect(calls).toEqual({ socket: 1, http: [true] });
    }
  });

  it("sends over HTTP as a first try when the socket could not take the command", async () => {
    const { calls, doors: d } = doors({ kind: "lost", why: "unsent" });
    await expect(sendCommand(d, noWait)).resolves.toEqual({ value: "http", via: "http", fellBack: false });
    expect(calls).toEqual({ socket: 1, http: [false] });
  });

  it("after a lost answer, waits while the socket's command still holds the key (409 IDEMPOTENCY_KEY_IN_USE), then gets its replay", async () => {
    let tries = 0;
    const waits: number[] = [];
    const { calls, doors: d } = doors({ kind: "lost", why: "closed" }, async () => {
      if (++tries < 3) throw inUse();
      return "replayed";
    });
    await expect(sendCommand(d, async (ms) => void waits.push(ms))).resolves.toEqual({ value: "replayed", via: "http", fellBack: true });
    expect(calls.http).toEqual([true, true, true]);
    expect(waits).toEqual(IN_USE_RETRY_MS.slice(0, 2));
  });

  it("does not retry IDEMPOTENCY_KEY_IN_USE on a first HTTP try: the page shows it as HTTP always did", async () => {
    const { calls, doors: d } = doors(null, async () => Promise.reject(inUse()));
    await expect(sendCommand(d, noWait)).rejects.toMatchObject({ code: "IDEMPOTENCY_KEY_IN_USE" });
    expect(calls.http).toEqual([false]);
  });
});

describe("retryWhileInUse", () => {
  it("gives up after its last delay with the server's 409", async () => {
    let tries = 0;
    const waits: number[] = [];
    const failing = async () => {
      tries++;
      throw inUse();
    };
    await expect(retryWhileInUse(failing, async (ms) => void waits.push(ms), [10, 20])).rejects.toMatchObject({ status: 409, code: "IDEMPOTENCY_KEY_IN_USE" });
    expect(tries).toBe(3);
    expect(waits).toEqual([10, 20]);
  });

  it("passes any other failure through at once", async () => {
    let tries = 0;
    const failing = async () => {
      tries++;
      throw new ApiFailure(0, "NETWORK_ERROR", "Could not reach fillwire");
    };
    await expect(retryWhileInUse(failing, noWait)).rejects.toMatchObject({ code: "NETWORK_ERROR" });
    expect(tries).toBe(1);
  });
});

describe("the events that follow an ack", () => {
  it("are those of the order it names, or of each order a cancel-all cancelled; none after a replay", () => {
    expect(ordersMovedBy(ack("a"))).toEqual(["ord_1"]);
    expect(ordersMovedBy(ack("a", { replayed: true }))).toEqual([]);
    const results = [
      { id: "ord_2", status: 200, order, error: null },
      { id: "ord_3", status: 409, order: null, error: { error: "ORDER_NOT_CANCELLABLE", message: "filled" } },
    ];
    expect(ordersMovedBy({ type: "ack", request_id: "b", results })).toEqual(["ord_2"]);
    expect(ordersMovedBy({ type: "ack", request_id: "b", results: [] })).toEqual([]);
  });
});

describe("after a lost answer", () => {
  it("a cancel refused because the order is already CANCELLED went through; any other refusal stands", () => {
    expect(alreadyCancelled(new ApiFailure(409, "ORDER_NOT_CANCELLABLE", "Order ord_1 is CANCELLED and can no longer be cancelled", { order_id: "ord_1", status: "CANCELLED" }))).toBe(true);
    expect(alreadyCancelled(new ApiFailure(409, "ORDER_NOT_CANCELLABLE", "Order ord_1 is FILLED and can no longer be cancelled", { order_id: "ord_1", status: "FILLED" }))).toBe(false);
    expect(alreadyCancelled(new ApiFailure(503, "VENUE_UNAVAILABLE", "The venue did not confirm the cancel"))).toBe(false);
    expect(alreadyCancelled(new Error("boom"))).toBe(false);
  });

  it("a cancel-all's retry accounts for the orders it no longer lists", () => {
    expect(unaccounted(["a", "b", "c"], [{ id: "b" }])).toEqual(["a", "c"]);
    expect(unaccounted([], [{ id: "b" }])).toEqual([]);
  });
});
