// The desk under test: `wrangler dev` on a free 127.0.0.1 port with its own temporary local state
// (migrated and seeded first), or a server the caller already runs (--url). Also reads the workerd
// process(es) behind it from /proc: resident memory and CPU time.
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, join, relative, resolve } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);
export const ROOT = resolve(import.meta.dirname, "..");
const BIN = join(ROOT, "node_modules", ".bin");
/** The environment wrangler runs in: Node 22 and wrangler from node_modules first, no telemetry. */
export const ENV = { ...process.env, PATH: `${BIN}${delimiter}${process.env.PATH ?? ""}`, WRANGLER_SEND_METRICS: "false", NO_COLOR: "1" };
const CLOCK_TICKS_PER_S = 100; // getconf CLK_TCK on Linux

export interface DeskServer {
  url: string;
  /** True when this bench started it (and stops it). */
  owned: boolean;
  /** Vars given to `wrangler dev --var` (empty for --url). */
  vars: Record<string, string>;
  /** The local state directory (`--persist-to`) and the project copy it serves, while it runs; null for --url. */
  persistDir: string | null;
  appDir: string | null;
  /** wrangler's inspector port (Chrome DevTools Protocol) for the Worker, or null for --url. */
  inspectorPort: number | null;
  /** The workerd processes serving `url` (empty when they cannot be found, e.g. another machine). */
  workerdPids(): number[];
  log(): string;
  stop(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const server = createServer();
    server.unref();
    server.on("error", fail);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => ok(port));
    });
  });
}

/** Runs a wrangler command in `cwd` and returns what it printed on stdout. */
export async function wrangler(cwd: string, args: string[]): Promise<string> {
  try {
    return (await run("wrangler", args, { cwd, env: ENV, timeout: 120_000, maxBuffer: 512 * 1024 * 1024 })).stdout;
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`wrangler ${args.join(" ")} failed: ${e.message}\n${e.stdout ?? ""}\n${e.stderr ?? ""}`);
  }
}

/** Not copied into the snapshot: big, or written while the bench runs. */
const SKIP = new Set(["node_modules", ".git", ".wrangler", "bench/results", "dist/worker", "test/e2e/screenshots"]);

/**
 * A copy of the project as it is now, sharing node_modules. `wrangler dev` rebuilds and restarts workerd
 * whenever a watched source file changes, and the CLI has no switch to stop that: serving from a copy keeps
 * an edit made elsewhere during a run from resetting every Durable Object and dropping every socket.
 */
function snapshot(into: string): string {
  const app = join(into, "app");
  cpSync(ROOT, app, { recursive: true, filter: (src) => !SKIP.has(relative(ROOT, src)) });
  symlinkSync(join(ROOT, "node_modules"), join(app, "node_modules"), "dir");
  return app;
}

/**
 * Starts `wrangler dev` with a fresh migrated and seeded local D1; `vars` override wrangler.toml vars.
 * `observability: false` sets X_LOCAL_OBSERVABILITY=false: wrangler 4's local trace collector records
 * every invocation into a SQLite Durable Object inside the same workerd, a dev-only cost that production
 * does not pay and that roughly doubled workerd's CPU per order when measured.
 */
export async function startServer(vars: Record<string, string>, observability: boolean): Promise<DeskServer> {
  if (!existsSync(join(ROOT, "dist", "client", "index.html"))) await run("node", ["scripts/build-assets.mjs"], { cwd: ROOT, env: ENV, timeout: 300_000 });
  const temp = mkdtempSync(join(tmpdir(), "fillwire-bench-"));
  const app = snapshot(temp);
  const varArgs = Object.entries(vars).flatMap(([k, v]) => ["--var", `${k}:${v}`]);
  const dev = await runWranglerDev({
    cwd: app, persist: join(temp, "state"), removeAtStop: temp, args: ["--log-level", "warn", ...varArgs],
    env: { ...ENV, X_LOCAL_OBSERVABILITY: String(observability) },
  });
  return {
    url: dev.url,
    owned: true,
    vars,
    persistDir: dev.persist,
    appDir: app,
    inspectorPort: dev.inspectorPort,
    workerdPids: () => (dev.pid === undefined ? [] : descendants(dev.pid).filter((pid) => commOf(pid) === "workerd")),
    log: dev.log,
    stop: dev.stop,
  };
}

export interface WranglerDev {
  url: string;
  inspectorPort: number;
  /** The local D1's --persist-to directory. */
  persist: string;
  pid: number | undefined;
  /** The last lines wrangler printed, for failure messages. */
  log(): string;
  /** Stops wrangler and its workerd processes and removes `removeAtStop`. */
  stop(): Promise<void>;
}

/**
 * `wrangler dev` in `cwd` on a free 127.0.0.1 port, over a local D1 in `persist` that is migrated and
 * seeded first; resolves once /api/v1/health answers. The bench and the browser tests both start it here.
 */
export async function runWranglerDev(o: { cwd: string; persist: string; removeAtStop: string; args: string[]; env: NodeJS.ProcessEnv }): Promise<WranglerDev> {
  await wrangler(o.cwd, ["d1", "migrations", "apply", "fillwire", "--local", "--persist-to", o.persist]);
  await wrangler(o.cwd, ["d1", "execute", "fillwire", "--local", "--persist-to", o.persist, "--file", "scripts/seed.sql"]);
  const [port, inspectorPort] = [await freePort(), await freePort()];
  const child = spawn(
    "wrangler",
    [
      "dev", "--port", String(port), "--ip", "127.0.0.1", "--persist-to", o.persist, "--inspector-port", String(inspectorPort),
      "--show-interactive-dev-session=false", ...o.args,
    ],
    { cwd: o.cwd, env: o.env, detached: true, stdio: ["ignore", "pipe", "pipe"] },
  );
  let output = "";
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-20_000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const exited = new Promise<void>((ok) => child.once("exit", () => ok()));
  const dev: WranglerDev = {
    url: `http://127.0.0.1:${port}`,
    inspectorPort,
    persist: o.persist,
    pid: child.pid,
    log: () => output,
    stop: async () => {
      stopGroup(child);
      await Promise.race([exited, new Promise((ok) => setTimeout(ok, 5_000))]);
      if (child.exitCode === null && child.signalCode === null) stopGroup(child, "SIGKILL");
      rmSync(o.removeAtStop, { recursive: true, force: true });
    },
  };
  try {
    await waitForHealth(dev.url, child);
  } catch (err) {
    await dev.stop();
    throw new Error(`${(err as Error).message}\n--- wrangler dev said:\n${output}`);
  }
  return dev;
}

/** A server someone else runs; its workerd is found by the port it listens on (same machine only). */
export async function existingServer(url: string): Promise<DeskServer> {
  await waitForHealth(url, null, 10_000);
  const port = Number(new URL(url).port || 80);
  return {
    url: url.replace(/\/$/, ""),
    owned: false,
    vars: {},
    persistDir: null,
    appDir: null,
    inspectorPort: null,
    workerdPids: () => servingWorkerd(port),
    log: () => "",
    stop: async () => undefined,
  };
}

export function stopGroup(child: ChildProcess, signal: NodeJS.Signals = "SIGTERM"): void {
  if (child.pid === undefined || child.exitCode !== null) return;
  try {
    process.kill(-child.pid, signal); // wrangler and the workerd it started: the group this bench created
  } catch {
    // already gone
  }
}

export async function waitForHealth(url: string, child: ChildProcess | null, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child && child.exitCode !== null) throw new Error(`wrangler dev exited with code ${child.exitCode}`);
    try {
      const res = await fetch(`${url}/api/v1/health`, { signal: AbortSignal.timeout(2_000) });
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((ok) => setTimeout(ok, 250));
  }
  throw new Error(`no answer from ${url}/api/v1/health within ${timeoutMs / 1000} s`);
}

// ---------------------------------------------------------------- /proc

function readProc(path: string): string | null {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return null;
  }
}

const pids = () => readdirSync("/proc").filter((d) => /^\d+$/.test(d)).map(Number);

/** The command name of a process (/proc/<pid>/comm), or null when it is gone. */
export function commOf(pid: number): string | null {
  return readProc(`/proc/${pid}/comm`)?.trim() ?? null;
}

/** Fields of /proc/PID/stat after the command name (which may itself hold spaces and parentheses). */
function statFields(pid: number): string[] | null {
  const stat = readProc(`/proc/${pid}/stat`);
  if (!stat) return null;
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
}

/** Every process below `root` (children, grandchildren ...), from /proc. */
export function descendants(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const pid of pids()) {
    const ppid = Number(statFields(pid)?.[1] ?? -1);
    children.set(ppid, [...(children.get(ppid) ?? []), pid]);
  }
  const out: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    for (const child of children.get(queue.shift()!) ?? []) {
      out.push(child);
      queue.push(child);
    }
  }
  return out;
}

/**
 * The workerd behind `port`: `wrangler dev` runs the public port in one workerd (its proxy) and the Worker
 * with its Durable Objects in a sibling one, both children of the same wrangler process.
 */
function servingWorkerd(port: number): number[] {
  const front = listeners(port).filter((pid) => commOf(pid) === "workerd");
  const parents = new Set(front.map((pid) => Number(statFields(pid)?.[1] ?? -1)));
  const siblings = [...parents].flatMap((ppid) => (ppid > 1 ? descendants(ppid).filter((pid) => commOf(pid) === "workerd") : []));
  return [...new Set([...front, ...siblings])].sort((a, b) => a - b);
}

/** Processes holding a listening TCP socket on `port` (matched through /proc/net/tcp inodes). */
function listeners(port: number): number[] {
  const hex = port.toString(16).toUpperCase().padStart(4, "0");
  const inodes = new Set<string>();
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    for (const line of (readProc(table) ?? "").split("\n").slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols[1]?.endsWith(`:${hex}`) && cols[3] === "0A" && cols[9]) inodes.add(cols[9]);
    }
  }
  const found: number[] = [];
  for (const pid of pids()) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      let target = "";
      try {
        target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        continue;
      }
      const m = /^socket:\[(\d+)\]$/.exec(target);
      if (m && inodes.has(m[1]!)) {
        found.push(pid);
        break;
      }
    }
  }
  return found;
}

export interface ProcessMemory {
  pid: number;
  rssKb: number;
  /** Peak resident set since the process started. */
  hwmKb: number;
}

export function memoryOf(pid: number): ProcessMemory | null {
  const status = readProc(`/proc/${pid}/status`);
  if (!status) return null;
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, "m").exec(status)?.[1] ?? 0);
  return { pid, rssKb: kb("VmRSS"), hwmKb: kb("VmHWM") };
}

/** CPU seconds (user + system) a process has used so far; null once it is gone. */
export function cpuSecondsOf(pid: number): number | null {
  const f = statFields(pid);
  return f ? (Number(f[11]) + Number(f[12])) / CLOCK_TICKS_PER_S : null;
}
