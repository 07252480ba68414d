// A private fillwire for the browser tests: `wrangler dev` on a free port with its own local D1
// (migrated and seeded in a temporary --persist-to directory), stopped and removed afterwards.
import { spawn, execFile, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, join, resolve } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, "../..");
const BIN = join(ROOT, "node_modules", ".bin");
const env = { ...process.env, PATH: `${BIN}${delimiter}${process.env.PATH ?? ""}`, WRANGLER_SEND_METRICS: "false", NO_COLOR: "1" };

export interface DeskServer {
  url: string;
  /** The local D1's --persist-to directory, for `wrangler d1 execute --local --persist-to` against this desk. */
  persistTo: string;
  /** The last lines wrangler printed, for failure messages. */
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

/** Runs a wrangler command in the project; resolves with what it printed on stdout. */
export async function wrangler(args: string[]): Promise<string> {
  try {
    return (await run("wrangler", args, { cwd: ROOT, env, timeout: 120_000, maxBuffer: 64 * 1024 * 1024 })).stdout;
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`wrangler ${args.join(" ")} failed: ${e.message}\n${e.stdout ?? ""}\n${e.stderr ?? ""}`);
  }
}

export async function startDeskServer(): Promise<DeskServer> {
  const persist = mkdtempSync(join(tmpdir(), "fillwire-e2e-"));
  await wrangler(["d1", "migrations", "apply", "fillwire", "--local", "--persist-to", persist]);
  await wrangler(["d1", "execute", "fillwire", "--local", "--persist-to", persist, "--file", "scripts/seed.sql"]);
  const [port, inspector] = [await freePort(), await freePort()];
  const child = spawn(
    "wrangler",
    ["dev", "--port", String(port), "--ip", "127.0.0.1", "--persist-to", persist, "--inspector-port", String(inspector), "--show-interactive-dev-session=false"],
    { cwd: ROOT, env, detached: true, stdio: ["ignore", "pipe", "pipe"] },
  );
  let output = "";
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-20_000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const exited = new Promise<void>((ok) => child.once("exit", () => ok()));
  const url = `http://127.0.0.1:${port}`;
  const server: DeskServer = {
    url,
    persistTo: persist,
    log: () => output,
    stop: async () => {
      stopGroup(child);
      await Promise.race([exited, new Promise((ok) => setTimeout(ok, 5_000))]);
      if (child.exitCode === null) stopGroup(child, "SIGKILL");
      rmSync(persist, { recursive: true, force: true });
    },
  };
  try {
    await waitForHealth(url, child);
  } catch (err) {
    await server.stop();
    throw new Error(`${(err as Error).message}\n--- wrangler dev said:\n${output}`);
  }
  return server;
}

function stopGroup(child: ChildProcess, signal: NodeJS.Signals = "SIGTERM"): void {
  if (child.pid === undefined || child.exitCode !== null) return;
  try {
    process.kill(-child.pid, signal); // wrangler and the workerd it started
  } catch {
    // already gone
  }
}

async function waitForHealth(url: string, child: ChildProcess, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited with code ${child.exitCode}`);
    try {
      const res = await fetch(`${url}/api/v1/health`, { signal: AbortSignal.timeout(2_000) });
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((ok) => setTimeout(ok, 250));
  }
  throw new Error(`wrangler dev did not answer ${url}/api/v1/health within ${timeoutMs / 1000} s`);
}
