// The StepPacer: an order step and the account.updated of the same desk change reach the screen in one
// render; every other step gets its own render, in order. Driven by a fake clock, as the browser would.
import { describe, expect, it } from "vitest";
import { HOLD_MS, StepPacer, type PacerClock } from "../../web/src/pacer";

type Message = { name: string; hold?: boolean };

/** A desk whose renders are recorded: each render lists what had been applied since the last one. */
function setup() {
  const applied: string[] = [];
  const renders: string[][] = [];
  let shown = 0;
  const tasks: (() => void)[] = [];
  let now = 0;
  const timers: { at: number; run: () => void; live: boolean }[] = [];
  const clock: PacerClock = {
    nextTask: (run) => void tasks.push(run),
    after: (ms, run) => {
      const timer = { at: now + ms, run, live: true };
      timers.push(timer);
      return () => void (timer.live = false);
    },
  };
  const pacer = new StepPacer<Message>(
    {
      apply: (m) => (applied.push(m.name), m.hold ? "hold" : "show"),
      completes: (m) => m.name.startsWith("account"),
      show: () => {
        renders.push(applied.slice(shown));
        shown = applied.length;
      },
    },
    clock,
  );
  return {
    pacer,
    renders,
    /** Run queued tasks (each a browser task after a render). */
    runTasks() {
      while (tasks.length > 0) tasks.shift()!();
    },
    advance(ms: number) {
      now += ms;
      for (const t of timers) if (t.live && t.at <= now) (t.live = false), t.run();
    },
  };
}

describe("StepPacer", () => {
  it("renders a fill together with the account.updated that follows it, never the fill alone", () => {
    const { pacer, renders } = setup();
    pacer.push({ name: "filled", hold: true });
    expect(renders).toEqual([]);
    pacer.push({ name: "account" });
    expect(renders).toEqual([["filled", "account"]]);
  });

  it("renders a step that moves no account at once", () => {
    const { pacer, renders } = setup();
    pacer.push({ name: "accepted" });
    expect(renders).toEqual([["accepted"]]);
  });

  it("shows each of two fills of one change on its own render, PARTIAL before FILLED, the account with the last", () => {
    const { pacer, renders, runTasks } = setup();
    pacer.push({ name: "partial", hold: true });
    pacer.push({ name: "filled", hold: true });
    expect(renders).toEqual([["partial"]]);
    runTasks();
    pacer.push({ name: "account" });
    expect(renders).toEqual([["partial"], ["filled", "account"]]);
  });

  it("keeps the order of messages that arrive while it waits for the next task", () => {
    const { pacer, renders, runTasks } = setup();
    pacer.push({ name: "partial", hold: true });
    pacer.push({ name: "filled", hold: true });
    pacer.push({ name: "account" });
    pacer.push({ name: "accepted" });
    expect(renders).toEqual([["partial"]]);
    runTasks();
    expect(renders).toEqual([["partial"], ["filled", "account"], ["accepted"]]);
  });

  it("shows a held step after HOLD_MS when no account change follows it", () => {
    const { pacer, renders, advance } = setup();
    pacer.push({ name: "triggered", hold: true });
    advance(HOLD_MS - 1);
    expect(renders).toEqual([]);
    advance(1);
    expect(renders).toEqual([["triggered"]]);
    expect(pacer.holding).toBe(false);
  });

  it("shows what it holds when the feed stops", () => {
    const { pacer, renders } = setup();
    pacer.push({ name: "cancelled", hold: true });
    pacer.flush();
    expect(renders).toEqual([["cancelled"]]);
  });
});
