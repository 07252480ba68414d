// One run's results: the JSON written to bench/results/, with the machine it ran on.
import { readFileSync } from "node:fs";
import { cpus, loadavg, release, totalmem } from "node:os";
import { join } from "node:path";
import type { DoorName, FlowFigures } from "./flow.ts";
import type { FloorFigures } from "./phases/floor.ts";
import type { SaturationFigures } from "./phases/saturation.ts";
import type { SocketsFigures } from "./phases/sockets.ts";
import type { WsOrdersFigures } from "./phases/wsorders.ts";
import { ROOT } from "./server.ts";
import type { BenchOptions } from "./setup.ts";

export const PHASES = ["floor", "open", "saturation", "sockets", "mix", "wsorders"] as const;
export type Phase = (typeof PHASES)[number];

export interface Machine {
  cpu: string;
  cores: number;
  memoryGiB: number;
  os: string;
  node: string;
  wrangler: string;
  workerd: string;
  /** 1-minute load average when the run started: another job on the machine skews every figure. */
  loadAverageAtStart: number;
}

export interface BenchResult {
  version: 1;
  startedAt: string;
  finishedAt: string;
  machine: Machine;
  settings: {
    url: string;
    /** True when the bench started `wrangler dev` itself. */
    ownServer: boolean;
    /** Vars the bench overrode with `wrangler dev --var` (none with --url). */
    vars: Record<string, string>;
    /** wrangler's local trace collector (X_LOCAL_OBSERVABILITY); null when the server is not the bench's. */
    localObservability: boolean | null;
    phases: Phase[];
    /** wsorders: the door whose half ran first (absent when the phase did not run). */
    wsordersFirst?: DoorName;
  } & BenchOptions;
  floor?: FloorFigures;
  open?: FlowFigures;
  saturation?: SaturationFigures;
  sockets?: SocketsFigures;
  mix?: FlowFigures;
  /** The open loop with orders on the socket, beside the same load over HTTP. */
  wsorders?: WsOrdersFigures;
  /** What a reader must know to trust the figures (a restarted workerd, an overridden var...). */
  notes: string[];
  /** Raw latencies (ms) behind the chart, so it can be redrawn from this file. */
  samples: { submitToFilled: number[]; submitTo201: number[]; floor: number[]; source: Phase | null };
}

function packageVersion(...candidates: string[]): string {
  for (const path of candidates) {
    try {
      const parsed: unknown = JSON.parse(readFileSync(join(ROOT, path), "utf8"));
      if (parsed && typeof parsed === "object" && "version" in parsed && typeof parsed.version === "string") return parsed.version;
    } catch {
      // try the next place
    }
  }
  return "unknown";
}

export function describeMachine(): Machine {
  const list = cpus();
  return {
    cpu: list[0]?.model.trim() ?? "unknown",
    cores: list.length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    os: `${process.platform} ${release()}`,
    node: process.version,
    wrangler: packageVersion("node_modules/wrangler/package.json"),
    workerd: packageVersion("node_modules/wrangler/node_modules/workerd/package.json", "node_modules/workerd/package.json"),
    loadAverageAtStart: Math.round(loadavg()[0]! * 100) / 100,
  };
}
