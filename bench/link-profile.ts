// Where fillwire's isolate spends a burst: a V8 CPU profile of the Worker (its Durable Objects included:
// locally every AlpacaLink and TraderDesk runs in this one isolate, on one thread) through wrangler's
// inspector, each sample charged to the stream link or to the rest by the source files on its stack.
// wrangler dev bundles with esbuild, which marks where each module begins (`// worker/venue/alpaca/link.ts`),
// so bundle lines map back to files without a source map.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { round } from "./stats.ts";

export interface Profiler {
  /** Starts sampling fillwire's isolate. */
  begin(): Promise<void>;
  /** Stops and charges the samples, per fill of the burst. */
  end(fills: number): Promise<CpuShare>;
}

/** Files whose code runs only in the AlpacaLink Durable Object: a sample with one on its stack is the link's. */
const LINK_FILES: ReadonlySet<string> = new Set(
  ["link", "ledger", "reconcile", "delivery", "stream"].map((f) => `worker/venue/alpaca/${f}.ts`),
);
/** V8's pseudo-frame for an isolate with nothing to do. */
const IDLE = "(idle)";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

export interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface CpuShare {
  /** Busy time of the isolate (JavaScript and the runtime calls it makes: SQLite, sends), ms per fill. */
  busyMsPerFill: number;
  /** Of it, samples with link code on the stack (the AlpacaLink object's own work), ms per fill. */
  linkMsPerFill: number;
  /** Samples with fillwire code but no link code (desks, routes, sockets), ms per fill. */
  restMsPerFill: number;
  /** Garbage collection and the runtime's own work ("(program)": frames, RPC, timers), with no bundle frame, ms per fill. */
  unattributedMsPerFill: number;
  /** The link's functions by self time (its SQLite calls charged to the function making them), % of the link's time. */
  linkTop: { fn: string; pct: number }[];
}

export interface Inspector {
  call<T>(method: string, params?: Record<string, unknown>): Promise<T>;
  close(): void;
}

/** A Chrome DevTools Protocol session with the Worker behind wrangler's inspector on `port` (127.0.0.1). */
export async function inspect(port: number): Promise<Inspector> {
  const targets = (await (await fetch(`http://127.0.0.1:${port}/json`)).json()) as { webSocketDebuggerUrl?: string }[];
  const url = targets.find((t) => t.webSocketDebuggerUrl)?.webSocketDebuggerUrl;
  if (!url) throw new Error(`no inspectable target on port ${port}`);
  // The inspector proxy only admits local origins; Node's WebSocket takes headers as an undici extension.
  const ws = new WebSocket(url, { headers: { Origin: "http://127.0.0.1" } } as unknown as string[]);
  await new Promise((ok, fail) => {
    ws.addEventListener("open", ok, { once: true });
    ws.addEventListener("error", fail, { once: true });
  });
  let next = 1;
  const waiting = new Map<number, (result: unknown) => void>();
  ws.addEventListener("message", (e) => {
    const msg = JSON.parse(String(e.data)) as { id?: number; result?: unknown; error?: { message: string } };
    if (msg.id !== undefined) waiting.get(msg.id)?.(msg.error ? new Error(msg.error.message) : msg.result);
  });
  return {
    call: <T>(method: string, params: Record<string, unknown> = {}) =>
      new Promise<T>((ok, fail) => {
        const id = next++;
        waiting.set(id, (r) => (r instanceof Error ? fail(r) : ok(r as T)));
        ws.send(JSON.stringify({ id, method, params }));
      }),
    close: () => ws.close(),
  };
}

/** Starts sampling every `intervalUs` microseconds; the returned function stops and hands the profile over. */
export async function startProfile(inspector: Inspector, intervalUs = 250): Promise<() => Promise<CpuProfile>> {
  await inspector.call("Profiler.enable");
  await inspector.call("Profiler.setSamplingInterval", { interval: intervalUs });
  await inspector.call("Profiler.start");
  return async () => (await inspector.call<{ profile: CpuProfile }>("Profiler.stop")).profile;
}

/** The module each line of the dev bundle belongs to (newest .wrangler/tmp/*\/index.js under `appDir`). */
export function bundleFiles(appDir: string): (line: number) => string | null {
  const tmp = join(appDir, ".wrangler", "tmp");
  const bundles = readdirSync(tmp)
    .map((d) => join(tmp, d, "index.js"))
    .filter((f) => {
      try {
        return statSync(f).isFile();
      } catch {
        return false;
      }
    })
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  if (!bundles[0]) throw new Error(`no wrangler dev bundle under ${tmp}`);
  const starts: { line: number; file: string }[] = [];
  readFileSync(bundles[0], "utf8").split("\n").forEach((text, line) => {
    const m = /^\/\/ ((?:worker|node_modules|test)\/\S+)$/.exec(text);
    if (m) starts.push({ line, file: m[1]! });
  });
  return (line) => {
    let lo = 0;
    let hi = starts.length - 1;
    let found: string | null = null;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (starts[mid]!.line <= line) {
        found = starts[mid]!.file;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  };
}

/** Charges each sample of `profile` to the link or the rest; `fills` divides the totals (ms per fill). */
export function linkShare(profile: CpuProfile, fileOf: (line: number) => string | null, fills: number): CpuShare {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const fileOfNode = (n: ProfileNode) => (n.callFrame.url && n.callFrame.lineNumber >= 0 ? fileOf(n.callFrame.lineNumber) : null);
  let link = 0;
  let rest = 0;
  let none = 0;
  const linkSelf = new Map<string, number>();
  profile.samples.forEach((id, i) => {
    const us = profile.timeDeltas[i] ?? 0;
    const leaf = byId.get(id);
    if (!leaf || leaf.callFrame.functionName === IDLE) return;
    let inLink = false;
    let bundled = false;
    /** The innermost frame of fillwire's own code: the function charged with this sample's self time. */
    let owner: string | null = null;
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const node = byId.get(at)!;
      const file = fileOfNode(node);
      if (!file) continue;
      bundled = true;
      if (LINK_FILES.has(file)) {
        inLink = true;
        owner ??= `${node.callFrame.functionName || "(anonymous)"} ${file.replace("worker/venue/alpaca/", "")}`;
      }
    }
    if (inLink) {
      link += us;
      linkSelf.set(owner!, (linkSelf.get(owner!) ?? 0) + us);
    } else if (bundled) rest += us;
    else none += us;
  });
  const perFill = (us: number) => round(us / 1000 / Math.max(1, fills));
  return {
    busyMsPerFill: perFill(link + rest + none),
    linkMsPerFill: perFill(link),
    restMsPerFill: perFill(rest),
    unattributedMsPerFill: perFill(none),
    linkTop: [...linkSelf].sort((a, b) => b[1] - a[1]).slice(0, 12).map(([fn, us]) => ({ fn, pct: round((us / Math.max(1, link)) * 100) })),
  };
}

/** A profiler of the Worker behind the inspector on `port`, whose dev bundle is under `appDir`. */
export async function linkProfiler(port: number, appDir: string): Promise<Profiler & { close(): void }> {
  const inspector = await inspect(port);
  const fileOf = bundleFiles(appDir);
  let stop: (() => Promise<CpuProfile>) | null = null;
  return {
    begin: async () => {
      stop = await startProfile(inspector);
    },
    end: async (fills) => {
      if (!stop) throw new Error("the profiler was not started");
      const profile = await stop();
      stop = null;
      return linkShare(profile, fileOf, fills);
    },
    close: () => inspector.close(),
  };
}
