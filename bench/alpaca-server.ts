// fillwire on the fake Alpaca, for benches: the fake (test/fake-alpaca, its own `wrangler dev` on a free
// 127.0.0.1 port, from a copy of its sources with fresh local state) and fillwire with EXCHANGE=alpaca
// pointed at it (bench/server.ts's startServer, with the vars below). The same pair as
// `npm run dev:alpaca-fake`, on ports and state of its own. Also finds the fake's workerd processes in
// /proc, so its CPU can be told apart from fillwire's.
import { spawn } from "node:child_process";
import { cpSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { commOf, descendants, ENV, freePort, ROOT, startServer, stopGroup, type DeskServer } from "./server.ts";

export interface FakeAlpacaServer {
  url: string;
  /** The fake's workerd processes (wrangler dev's proxy and the Worker's). */
  workerdPids(): number[];
  /** The last lines its wrangler printed, for failure messages. */
  log(): string;
  stop(): Promise<void>;
}

/** The fake's keys (test/fake-alpaca/wrangler.toml): never real ones. */
const FAKE_KEYS = { ALPACA_KEY_ID: "fake-key-id", ALPACA_SECRET_KEY: "fake-secret-key" };

/**
 * The vars that point fillwire at the fake at `fakeUrl` (http://127.0.0.1:PORT): EXCHANGE=alpaca, the
 * Trading API, the stream and market data all at the fake, and the fake's keys.
 */
export function alpacaVars(fakeUrl: string): Record<string, string> {
  const host = fakeUrl.replace(/^http:\/\//, "").replace(/\/$/, "");
  return {
    EXCHANGE: "alpaca",
    ALPACA_API_URL: `http://${host}`,
    ALPACA_STREAM_URL: `ws://${host}/stream`,
    ALPACA_DATA_URL: `http://${host}`,
    ...FAKE_KEYS,
  };
}

/**
 * Starts the fake Alpaca under `wrangler dev` on a free 127.0.0.1 port. It serves a copy of
 * test/fake-alpaca (an edit there during a run must not restart it and drop the stream) with fresh state;
 * resolves once it answers (within 90 s).
 */
export async function startFakeAlpaca(): Promise<FakeAlpacaServer> {
  const temp = mkdtempSync(join(tmpdir(), "fillwire-fake-alpaca-"));
  const app = join(temp, "fake-alpaca");
  cpSync(join(ROOT, "test", "fake-alpaca"), app, { recursive: true });
  symlinkSync(join(ROOT, "node_modules"), join(temp, "node_modules"), "dir"); // hono, zod: resolved upwards
  const [port, inspectorPort] = [await freePort(), await freePort()];
  const child = spawn(
    "wrangler",
    [
      "dev", "-c", join(app, "wrangler.toml"), "--port", String(port), "--ip", "127.0.0.1", "--persist-to", join(temp, "state"),
      "--inspector-port", String(inspectorPort), "--show-interactive-dev-session=false", "--log-level", "warn",
    ],
    { cwd: temp, env: { ...ENV, X_LOCAL_OBSERVABILITY: "false" }, detached: true, stdio: ["ignore", "pipe", "pipe"] },
  );
  let output = "";
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-20_000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const exited = new Promise<void>((ok) => child.once("exit", () => ok()));
  const url = `http://127.0.0.1:${port}`;
  const fake: FakeAlpacaServer = {
    url,
    workerdPids: () => (child.pid === undefined ? [] : descendants(child.pid).filter((pid) => commOf(pid) === "workerd")),
    log: () => output,
    stop: async () => {
      stopGroup(child);
      await Promise.race([exited, new Promise((ok) => setTimeout(ok, 5_000))]);
      if (child.exitCode === null && child.signalCode === null) stopGroup(child, "SIGKILL");
      rmSync(temp, { recursive: true, force: true });
    },
  };
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (child.exitCode !== null) {
      await fake.stop();
      throw new Error(`the fake Alpaca's wrangler dev exited with code ${child.exitCode}\n${output}`);
    }
    try {
      // The fake's control API answers without keys; the stream and /v2 are behind them.
      const res = await fetch(`${url}/_fake/requests?since=${Number.MAX_SAFE_INTEGER}`, { signal: AbortSignal.timeout(2_000) });
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await fake.stop();
      throw new Error(`the fake Alpaca did not answer on ${url} within 90 s\n${output}`);
    }
    await new Promise((ok) => setTimeout(ok, 250));
  }
  return fake;
}

export interface AlpacaPair {
  fake: FakeAlpacaServer;
  desk: DeskServer;
  /** Every var fillwire was given (--var), keys included (the fake's own). */
  vars: Record<string, string>;
  stop(): Promise<void>;
}

/**
 * The fake, then fillwire with EXCHANGE=alpaca pointed at it (fresh migrated and seeded D1, `extraVars`
 * on top, wrangler's local trace collector off). Stops the fake again when fillwire does not start.
 */
export async function startAlpacaPair(extraVars: Record<string, string>): Promise<AlpacaPair> {
  const fake = await startFakeAlpaca();
  const vars = { ...alpacaVars(fake.url), ...extraVars };
  let desk: DeskServer;
  try {
    desk = await startServer(vars, false);
  } catch (err) {
    await fake.stop();
    throw err;
  }
  return { fake, desk, vars, stop: async () => void (await Promise.all([desk.stop(), fake.stop()])) };
}
