// A private fillwire for the browser tests: `wrangler dev` on a free port with its own local D1
// (migrated and seeded in a temporary --persist-to directory), stopped and removed afterwards.
// Process plumbing is shared with the bench (bench/server.ts), which starts wrangler dev the same way.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ENV as env, freePort, ROOT, stopGroup, waitForHealth, wrangler as wranglerIn } from "../../bench/server.ts";

export interface DeskServer {
  url: string;
  /** The local D1's --persist-to directory, for `wrangler d1 execute --local --persist-to` against this desk. */
  persistTo: string;
  /** The last lines wrangler printed, for failure messages. */
  log(): string;
  stop(): Promise<void>;
}

/** Runs a wrangler command in the project; resolves with what it printed on stdout. */
export const wrangler = (args: string[]): Promise<string> => wranglerIn(ROOT, args);

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
