// The faults the drill injects, and when: venue faults for the whole run (timeouts, errors, latency, and
// one instrument slower than the desk's timeout), then at fixed points of the order flow a D1 outage,
// trader desks restarted while an order is between venue attempts, and client sockets dropped.
import { FINAL_EVENTS } from "../clients.ts";
import type { Api } from "./api.ts";
import type { DrillTrader, Load } from "./load.ts";
import { random, type InstrumentSpec } from "./scenario.ts";
import type { DrillVenue } from "./venue.ts";

const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms));

export interface VenueFaults {
  timeout_rate?: number;
  error_rate?: number;
  latency_ms?: number;
  seed?: number;
}

export interface FaultPlan {
  /** Faults of the ordinary instruments, and of the slow one (latency over the desk's venue timeout). */
  venue: VenueFaults;
  slow: VenueFaults;
  /** Fractions of the order flow at which each fault fires. */
  d1OutageAt: number;
  d1OutageS: number;
  restartsAt: number[];
  restartsPerStep: number;
  dropsAt: number[];
  dropsPerStep: number;
}

export function faultPlan(traders: number, seed: number, exchangeTimeoutMs: number, d1OutageS: number): FaultPlan {
  return {
    venue: { timeout_rate: 0.3, error_rate: 0.05, latency_ms: 25, seed },
    slow: { latency_ms: exchangeTimeoutMs + 200, seed },
    d1OutageAt: 0.4,
    d1OutageS,
    restartsAt: [0.15, 0.35, 0.55, 0.75],
    restartsPerStep: Math.max(1, Math.round(traders / 16)),
    dropsAt: [0.25, 0.6],
    dropsPerStep: Math.max(1, Math.round(traders / 8)),
  };
}

export interface RestartRecord {
  trader: string;
  at: string;
  /** The order whose venue work the restart was aimed at, and how long after its 201 the restart came. */
  orderId: string | null;
  msAfterAck: number | null;
}

export interface OutageRecord {
  seconds: number;
  /** When the outage switch was on (the drill route answered), and when it goes off. */
  armed: string;
  until: string;
  /**
   * Audit rows D1 held, halfway through the outage, stamped after it was armed (must be 0: every such row
   * is still in a desk's outbox); when that read started and ended, and whether it ended inside the window.
   */
  d1RowsStampedDuring: number;
  sampleStartedAt: string;
  sampledAt: string;
  sampledInWindow: boolean;
  /** Orders acknowledged (201) while D1 refused writes. */
  acknowledgedDuring: number;
}

export interface FaultFigures {
  plan: FaultPlan;
  venue: Record<string, VenueFaults>;
  d1Outage: OutageRecord | null;
  restarts: RestartRecord[];
  socketDrops: { at: string; traders: string[] }[];
  errors: string[];
}

export class FaultSchedule {
  private readonly pending: Promise<void>[] = [];
  private readonly fired = new Set<string>();
  private readonly r: () => number;
  readonly figures: FaultFigures;

  private readonly api: Api;
  private readonly tokens: { admin: string; compliance: string };
  private readonly traders: readonly DrillTrader[];
  private readonly load: Load;
  private readonly plan: FaultPlan;
  private readonly venue: DrillVenue;
  private readonly log: (line: string) => void;

  /** `venue` injects the venue faults of `plan` (each venue its own way); the other steps go through fillwire's drill routes. */
  constructor(api: Api, tokens: { admin: string; compliance: string }, traders: readonly DrillTrader[], load: Load, plan: FaultPlan, venue: DrillVenue, log: (line: string) => void) {
    this.api = api;
    this.venue = venue;
    this.tokens = tokens;
    this.traders = traders;
    this.load = load;
    this.plan = plan;
    this.log = log;
    this.r = random(plan.venue.seed ?? 1);
    this.figures = { plan, venue: {}, d1Outage: null, restarts: [], socketDrops: [], errors: [] };
  }

  /** Venue faults on every drill instrument, before the first order. */
  async arm(instruments: readonly InstrumentSpec[]): Promise<void> {
    this.figures.venue = await this.venue.armFaults(instruments, this.plan);
  }

  /** Fires every step whose point in the order flow has been reached; the steps run alongside the load. */
  onProgress(done: number, total: number): void {
    const at = done / total;
    const due = (name: string, point: number) => {
      if (at < point || this.fired.has(name)) return false;
      this.fired.add(name);
      return true;
    };
    if (due("d1", this.plan.d1OutageAt)) this.track(this.d1Outage());
    this.plan.restartsAt.forEach((p, i) => {
      if (due(`restart${i}`, p)) this.track(this.restartDesks());
    });
    this.plan.dropsAt.forEach((p, i) => {
      if (due(`drop${i}`, p)) this.track(this.dropSockets());
    });
    this.venue.onProgress(at);
  }

  async finish(): Promise<void> {
    await Promise.all(this.pending);
    await this.venue.finishFaults().catch((err: unknown) => void this.figures.errors.push(`venue faults: ${String(err)}`));
    this.figures.errors.push(...this.venue.errors);
  }

  private track(step: Promise<void>): void {
    this.pending.push(step.catch((err: unknown) => void this.figures.errors.push(String(err))));
  }

  private async d1Outage(): Promise<void> {
    const seconds = this.plan.d1OutageS;
    const start = Date.now();
    await this.api.adminWrite("PUT", "/api/v1/admin/drills/d1-outage", this.tokens.admin, { seconds }, 200);
    const armed = Date.now();
    const until = start + seconds * 1000; // the route's window starts when it handles the request: no later than this
    this.log(`fault: D1 outage for ${seconds} s`);
    await sleep(Math.max(0, armed + (until - armed) / 2 - Date.now()));
    const sampleStarted = Date.now();
    const during = await this.api.executionsSince(this.tokens.compliance, new Date(armed).toISOString());
    const sampled = Date.now();
    await sleep(Math.max(0, until - Date.now()));
    this.figures.d1Outage = {
      seconds, armed: new Date(armed).toISOString(), until: new Date(until).toISOString(), d1RowsStampedDuring: during,
      sampleStartedAt: new Date(sampleStarted).toISOString(), sampledAt: new Date(sampled).toISOString(), sampledInWindow: sampled < until,
      acknowledgedDuring: this.load.submits.filter((s) => s.ackedAt !== null && s.ackedAt >= armed && s.ackedAt <= until).length,
    };
  }

  /**
   * Restarts desks while one of their orders is between venue attempts: among orders acknowledged in the
   * last few seconds that have not ended, those whose audit trail ends with a failed attempt (a timeout or
   * a venue error, the retry not yet made). Slow-instrument orders come first: their answer is always lost,
   * so the retry after the restart has to find them at the venue by key.
   */
  private async restartDesks(): Promise<void> {
    const now = Date.now();
    const traderOf = (id: string) => this.traders.find((t) => t.id === id)!;
    const recent = this.load.recentAcks(now - 3000).filter((s) => !traderOf(s.trader).streams[0]!.has(s.orderId!, FINAL_EVENTS));
    // Slow-instrument orders first, then desks not restarted yet, in a seeded random order.
    const restarted = new Set(this.figures.restarts.map((r) => r.trader));
    const rank = new Map(recent.map((s) => [s, Number(s.kind !== "slow") * 2 + Number(restarted.has(s.trader)) + this.r() * 0.5]));
    recent.sort((a, b) => rank.get(a)! - rank.get(b)!);
    const chosen = new Map<string, { orderId: string | null; msAfterAck: number | null }>();
    for (const c of recent.slice(0, 24)) {
      if (chosen.size >= this.plan.restartsPerStep) break;
      if (chosen.has(c.trader)) continue;
      const trail = await this.api.audit(traderOf(c.trader).token, c.orderId!).catch(() => []);
      if (trail[trail.length - 1]?.error_code) chosen.set(c.trader, { orderId: c.orderId, msAfterAck: Date.now() - c.ackedAt! });
    }
    for (const c of recent) {
      if (chosen.size >= this.plan.restartsPerStep) break;
      if (!chosen.has(c.trader)) chosen.set(c.trader, { orderId: c.orderId, msAfterAck: Date.now() - c.ackedAt! });
    }
    while (chosen.size < Math.min(this.plan.restartsPerStep, this.traders.length)) {
      const t = this.traders[Math.floor(this.r() * this.traders.length)]!;
      if (!chosen.has(t.id)) chosen.set(t.id, { orderId: null, msAfterAck: null });
    }
    await Promise.all(
      [...chosen].map(async ([trader, target]) => {
        const at = new Date().toISOString();
        await this.api.adminWrite("POST", `/api/v1/admin/drills/desks/${trader}/restart`, this.tokens.admin, {}, 202);
        this.figures.restarts.push({ trader, at, ...target });
      }),
    );
    this.log(`fault: restarted ${chosen.size} desk(s): ${[...chosen.keys()].join(", ")}`);
  }

  /** Closes some traders' sockets from the client side; each reconnects with since= a moment later. */
  private async dropSockets(): Promise<void> {
    const picked = new Set<DrillTrader>();
    while (picked.size < Math.min(this.plan.dropsPerStep, this.traders.length)) picked.add(this.traders[Math.floor(this.r() * this.traders.length)]!);
    for (const t of picked) t.streams[0]!.forceDrop(200 + Math.floor(this.r() * 1300));
    this.figures.socketDrops.push({ at: new Date().toISOString(), traders: [...picked].map((t) => t.id) });
    this.log(`fault: dropped the sockets of ${picked.size} trader(s)`);
  }
}
