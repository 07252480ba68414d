// npm run chaos [-- --venue simulated|alpaca-fake] [--traders 50] [--orders 2000] [--seed 1] [--rate 10] [--outage 5]
//               [--url URL --persist-to DIR [--fake-url URL]]
// The chaos drill: orders of every type from many traders against `wrangler dev` on 127.0.0.1 while the
// venue times out and errors, D1 refuses writes for a few seconds, desks restart mid-retry and sockets
// drop; then it checks that nothing was lost or duplicated. With --venue alpaca-fake fillwire runs with
// EXCHANGE=alpaca against the fake Alpaca (test/fake-alpaca), started beside it. Prints the invariants,
// writes bench/results/chaos-<timestamp>.json, and exits 1 when any invariant fails.
import { parseArgs } from "node:util";
import { runChaos } from "./chaos/drill.ts";
import { renderReport, writeResult } from "./chaos/report.ts";
import { VENUE_NAMES, type VenueName } from "./chaos/venue.ts";

const { values } = parseArgs({
  options: {
    traders: { type: "string", default: "50" },
    orders: { type: "string", default: "2000" },
    seed: { type: "string", default: "1" },
    rate: { type: "string", default: "10" },
    outage: { type: "string", default: "5" },
    venue: { type: "string", default: "simulated" },
    url: { type: "string" },
    "fake-url": { type: "string" },
    "persist-to": { type: "string" },
    help: { type: "boolean", default: false },
  },
});

if (values.help) {
  console.log(`npm run chaos -- [--venue simulated] [--traders 50] [--orders 2000] [--seed 1] [--rate 10] [--outage 5]
                 [--url http://127.0.0.1:8787 --persist-to DIR [--fake-url http://127.0.0.1:8789]]
--venue       where fillwire executes: simulated (default: its own simulated venue, EXCHANGE=simulated) or
              alpaca-fake (EXCHANGE=alpaca against the fake Alpaca of test/fake-alpaca, started beside it on a
              free port with fresh state; prices and venue faults are the fake's, the venue ledger is its
              orders; the report says which drill faults have no equivalent there)
--rate        orders per second over all traders
--outage      seconds of the D1 outage
--url         drill a running server (it needs CHAOS_DRILLS=true; its own timings apply) instead of starting one
--persist-to  that server's --persist-to directory, so D1 can be read directly (else the D1 check fails)
--fake-url    with --url and --venue alpaca-fake: the fake Alpaca that server is pointed at (npm run dev:alpaca-fake)`);
  process.exit(0);
}

function whole(name: string, text: string, min: number): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min) {
    console.error(`--${name} must be a whole number >= ${min} (got ${text})`);
    process.exit(2);
  }
  return n;
}

if (values.url && !/^http:\/\/(127\.0\.0\.1|localhost)(:\d+)?\/?$/.test(values.url)) {
  console.error("--url must be a local server, http://127.0.0.1:PORT: the drill only loads this machine");
  process.exit(2);
}
if (!(VENUE_NAMES as readonly string[]).includes(values.venue)) {
  console.error(`--venue must be one of ${VENUE_NAMES.join(", ")} (got ${values.venue})`);
  process.exit(2);
}
const venue = values.venue as VenueName;
if (values["fake-url"] && !/^http:\/\/(127\.0\.0\.1|localhost)(:\d+)?\/?$/.test(values["fake-url"])) {
  console.error("--fake-url must be a local fake, http://127.0.0.1:PORT");
  process.exit(2);
}
if (values["fake-url"] && (venue !== "alpaca-fake" || !values.url)) {
  console.error("--fake-url goes with --venue alpaca-fake and --url (a drill that starts its own servers starts its own fake)");
  process.exit(2);
}
const rate = Number(values.rate);
if (!Number.isFinite(rate) || rate <= 0) {
  console.error(`--rate must be a positive number (got ${values.rate})`);
  process.exit(2);
}

const log = (line: string) => console.error(`[chaos ${new Date().toISOString().slice(11, 19)}] ${line}`);
let stopServer: (() => Promise<void>) | null = null;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    log(`${signal}: stopping`);
    void (stopServer?.() ?? Promise.resolve()).then(() => process.exit(130));
  });
}
try {
  const result = await runChaos({
    traders: whole("traders", values.traders, 1),
    orders: whole("orders", values.orders, 1),
    seed: whole("seed", values.seed, 0),
    rate,
    d1OutageS: whole("outage", values.outage, 1),
    venue,
    url: values.url,
    fakeUrl: values["fake-url"],
    persistTo: values["persist-to"],
    log,
    onServer: (stop) => {
      stopServer = stop;
    },
  });
  console.log(renderReport(result));
  console.log(`\nwrote ${writeResult(result)}`);
  process.exit(result.ok ? 0 : 1);
} catch (err) {
  console.error(`chaos drill failed to run: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exit(2);
}
