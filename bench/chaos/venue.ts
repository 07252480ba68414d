// What the drill does differently per venue, behind one interface: create its instruments, move their prices,
// inject venue faults, and read the venue's own record of what it executed for the no-double-execution check.
// `simulated` is fillwire's own venue, driven through its admin and drill routes; `alpaca-fake`
// (alpaca-venue.ts) is fillwire with EXCHANGE=alpaca against the fake Alpaca (test/fake-alpaca), driven
// through the fake's /_fake control API. The rest of the drill (D1 outage, desk restarts, socket drops, the
// order flow and every invariant) is the same for both: fillwire's drill routes exist whatever the venue.
import type { Api, VenueRow } from "./api.ts";
import type { FaultPlan, VenueFaults } from "./faults.ts";
import type { InstrumentSpec } from "./scenario.ts";

export const VENUE_NAMES = ["simulated", "alpaca-fake"] as const;
export type VenueName = (typeof VENUE_NAMES)[number];

/**
 * One fillwire order as the venue holds it: `fills` executions for `filled` shares in all, in state
 * WORKING/FILLED/CANCELLED/EXPIRED/REJECTED. Two rows for one `order_id` are two orders at the venue.
 */
export interface VenueLedgerRow extends VenueRow {
  /** Each execution (id, shares, price in cents) when the venue tells them apart (Alpaca does; the simulated venue counts them). */
  executions?: { id: string; quantity: number; priceCents: number }[];
  /** What is wrong with the row itself (an Alpaca replacement that is not `<id>-a<seq>` of its chain, say). */
  problems?: string[];
  /** The venue's own account of the row (its orders' states and times), for failure messages. */
  detail?: string;
  /**
   * A stop the venue triggered, where fillwire cannot see it (Alpaca tells nothing of a stop_limit that
   * triggers without filling): read from the fake's own bookkeeping. Absent for the simulated venue.
   */
  triggeredAtVenue?: boolean;
  /**
   * Alpaca: the row is the leg of an `oco` order (a stop-loss sent with its take-profit as one order), and
   * this is the client_order_id of that order's parent (the take-profit); null for any other Alpaca order.
   * Absent for the simulated venue, which holds exit groups itself.
   */
  ocoLegOf?: string | null;
}

export interface VenueLedger {
  rows: VenueLedgerRow[];
  /**
   * The venue records a cancel of an order it never had (the simulated venue keeps a tombstone for the key);
   * false for Alpaca, where such an order is ended by fillwire alone and the venue holds nothing for it.
   */
  recordsUnknownCancels: boolean;
}

/** A drill fault, and what stands for it at this venue (or why nothing does). */
export interface FaultMapping {
  drill: string;
  venue: string;
  applicable: "yes" | "partly" | "no";
}

export interface VenueFigures {
  name: VenueName;
  mapping: FaultMapping[];
  /** Figures of the venue's own fault injection (windows, queued failures, stream drops) and of what it answered. */
  counts: Record<string, number>;
  notes: string[];
  /** When each venue fault changed, and to what (alpaca-fake: the fault windows). */
  log?: { at: string; symbol: string; faults: unknown }[];
}

export interface DrillVenue {
  readonly name: VenueName;
  /** Creates `spec` at the venue at its starting price and tick, `depth` shares per price level, no faults. */
  addInstrument(spec: InstrumentSpec, depth: number): Promise<void>;
  /** Moves a price (cents, on the tick); resolves once the venue has traded the resting orders the move crosses. */
  setPrice(symbol: string, priceCents: number): Promise<void>;
  /** Venue faults before the first order; per symbol, what was armed (the report and faults-exercised read it). */
  armFaults(instruments: readonly InstrumentSpec[], plan: FaultPlan): Promise<Record<string, VenueFaults>>;
  /** Venue fault steps due at `at` (0..1) of the order flow. */
  onProgress(at: number): void;
  /** The order flow is done: stops timed venue faults (standing ones stay, as the simulated venue's do) and waits for its steps. */
  finishFaults(): Promise<void>;
  /** The venue's own record of every order of these symbols. */
  ledger(symbols: readonly string[]): Promise<VenueLedger>;
  figures(): Promise<VenueFigures>;
  /** Errors of the venue's fault steps (faults-exercised fails on each). */
  readonly errors: string[];
}

/** fillwire's simulated venue: instruments, prices and faults through the admin routes, its ledger through the drill route. */
export class SimulatedVenue implements DrillVenue {
  readonly name = "simulated" as const;
  readonly errors: string[] = [];
  private readonly api: Api;
  private readonly adminToken: string;

  constructor(api: Api, adminToken: string) {
    this.api = api;
    this.adminToken = adminToken;
  }

  async addInstrument(spec: InstrumentSpec, depth: number): Promise<void> {
    const made = await this.api.adminWrite("PUT", `/api/v1/admin/instruments/${spec.symbol}`, this.adminToken, { price: spec.priceCents / 100, tick_size: spec.tickCents / 100, depth, tradable: true }, 200);
    // Every price the drill sends is a whole number of this tick: check the venue took it.
    const settings = JSON.parse(made.text) as { price?: number; tick_size?: number };
    if (settings.tick_size !== spec.tickCents / 100 || settings.price !== spec.priceCents / 100) throw new Error(`${spec.symbol}: the venue answered ${made.text.slice(0, 300)}`);
    await this.api.adminWrite("PUT", `/api/v1/admin/instruments/${spec.symbol}/faults`, this.adminToken, {}, 200);
  }

  async setPrice(symbol: string, priceCents: number): Promise<void> {
    await this.api.adminWrite("PUT", `/api/v1/admin/instruments/${symbol}`, this.adminToken, { price: priceCents / 100 }, 200);
  }

  async armFaults(instruments: readonly InstrumentSpec[], plan: FaultPlan): Promise<Record<string, VenueFaults>> {
    const armed: Record<string, VenueFaults> = {};
    for (const spec of instruments) {
      const faults = spec.slow ? plan.slow : plan.venue;
      await this.api.adminWrite("PUT", `/api/v1/admin/instruments/${spec.symbol}/faults`, this.adminToken, faults, 200);
      armed[spec.symbol] = faults;
    }
    return armed;
  }

  onProgress(): void {
    // The simulated venue's faults are set once, per instrument, and drawn per attempt by the venue itself.
  }

  async finishFaults(): Promise<void> {}

  async ledger(symbols: readonly string[]): Promise<VenueLedger> {
    const rows = (await Promise.all(symbols.map((s) => this.api.venueLedger(this.adminToken, s)))).flat();
    return { rows, recordsUnknownCancels: true };
  }

  async figures(): Promise<VenueFigures> {
    return { name: this.name, mapping: [], counts: {}, notes: [] };
  }
}
