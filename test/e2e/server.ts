// A private fillwire for the browser tests: `wrangler dev` on a free port with its own local D1
// (migrated and seeded in a temporary --persist-to directory), stopped and removed afterwards.
// Process plumbing is shared with the bench (bench/server.ts), which starts wrangler dev the same way.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ENV as env, ROOT, runWranglerDev, wrangler as wranglerIn } from "../../bench/server.ts";

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
  const dev = await runWranglerDev({ cwd: ROOT, persist, removeAtStop: persist, args: [], env });
  return { url: dev.url, persistTo: persist, log: dev.log, stop: dev.stop };
}
