// The daily Cron Trigger: the previous UTC day's audit rows go to R2 (AUDIT_ARCHIVE) as CSV plus a manifest
// that matches D1, written once and never overwritten; a day past 5 MiB of CSV goes up in multipart parts.
// The Worker module's own scheduled() is called (exports.default.scheduled fails with DataCloneError).
import { env } from "cloudflare:workers";
import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import worker from "../../worker/index";
import { insertChained, insertLogs, sequenced, uniqueTrader, type ChainHead, type LogRow } from "../helpers/d1";

interface Manifest {
  day: string;
  rows: number;
  bytes: number;
  csv_key: string;
  csv_sha256: string;
  traders: Record<string, { last_chain_seq: number; last_hash: string }>;
  created_at: string;
}

const MIB = 1024 * 1024;

/** Runs the cron as Cloudflare would at `scheduledTime`, and waits for its waitUntil work. */
async function runCron(scheduledTime: string): Promise<void> {
  const ctx = createExecutionContext();
  await worker.scheduled(createScheduledController({ scheduledTime: Date.parse(scheduledTime), cron: "15 0 * * *" }), env, ctx);
  await waitOnExecutionContext(ctx);
}

const keysOf = (day: string) => {
  const base = `execution_logs/${day.slice(0, 4)}/${day.slice(5, 7)}/${day}`;
  return { csv: `${base}.csv`, manifest: `${base}.manifest.json` };
};

async function listed(prefix: string): Promise<{ key: string; etag: string; size: number; uploaded: number }[]> {
  const list = await env.AUDIT_ARCHIVE.list({ prefix });
  return list.objects.map((o) => ({ key: o.key, etag: o.etag, size: o.size, uploaded: o.uploaded.getTime() }));
}

const hex = (buffer: ArrayBuffer) => [...new Uint8Array(buffer)].map((b) => b.toString(16).padStart(2, "0")).join("");

const dayRows = async (day: string) =>
  (
    await env.DB.prepare("SELECT * FROM execution_logs WHERE timestamp BETWEEN ? AND ? ORDER BY timestamp DESC, chain_seq DESC, id DESC")
      .bind(`${day}T00:00:00.000Z`, `${day}T23:59:59.999Z`)
      .all<LogRow>()
  ).results;

/** Each trader's last chain position and hash within the day, straight from D1. */
async function lastLinks(day: string): Promise<Manifest["traders"]> {
  // SQLite takes a bare column (hash) from the row that holds MAX(chain_seq) in each group.
  const { results } = await env.DB.prepare(
    "SELECT trader_id, MAX(chain_seq) AS chain_seq, hash FROM execution_logs WHERE timestamp BETWEEN ? AND ? GROUP BY trader_id",
  )
    .bind(`${day}T00:00:00.000Z`, `${day}T23:59:59.999Z`)
    .all<{ trader_id: string; chain_seq: number; hash: string }>();
  return Object.fromEntries(results.map((r) => [r.trader_id, { last_chain_seq: r.chain_seq, last_hash: r.hash }]));
}

describe("daily audit archive to R2", () => {
  it("archives exactly the previous UTC day as CSV plus a manifest that matches D1", async () => {
    const day = "2025-10-15";
    const [pat, quinn, rory] = [uniqueTrader("pat"), uniqueTrader("quinn"), uniqueTrader("rory")];
    // Chains run across midnight both ways, so the day's last link is not the chain's last.
    await insertChained(env.DB, [
      { trader_id: pat, timestamp: "2025-10-14T10:00:00.000Z" },
      { trader_id: pat, timestamp: "2025-10-14T23:59:59.999Z", action: "APPROVED" },
      { trader_id: rory, timestamp: "2025-10-14T12:00:00.000Z" },
      { trader_id: pat, timestamp: "2025-10-15T00:00:00.000Z", action: "EXECUTED" },
      { trader_id: quinn, timestamp: "2025-10-15T09:30:00.000Z", reason: 'venue said "slow down", retrying\r\nthen filled' },
      { trader_id: pat, timestamp: "2025-10-15T12:00:00.000Z", action: "PARTIAL", status: "PARTIAL" },
      { trader_id: quinn, timestamp: "2025-10-15T16:00:00.000Z", action: "CANCELLED", status: "CANCELLED", reason: "=cmd" },
      { trader_id: pat, timestamp: "2025-10-15T23:59:59.999Z", action: "FILLED", status: "FILLED" },
      { trader_id: pat, timestamp: "2025-10-16T00:00:00.000Z" },
      { trader_id: quinn, timestamp: "2025-10-16T08:00:00.000Z" },
    ]);
    const expected = await dayRows(day);
    expect(expected).toHaveLength(5);

    await runCron("2025-10-16T00:15:00.000Z");

    const keys = keysOf(day);
    expect((await listed(`execution_logs/2025/10/${day}`)).map((o) => o.key).sort()).toEqual([keys.csv, keys.manifest]);
    expect(await listed("execution_logs/2025/10/2025-10-14")).toEqual([]);
    expect(await listed("execution_logs/2025/10/2025-10-16")).toEqual([]);
    const csvObject = await env.AUDIT_ARCHIVE.get(keys.csv);
    const manifestObject = await env.AUDIT_ARCHIVE.get(keys.manifest);
    expect(csvObject).not.toBeNull();
    expect(manifestObject).not.toBeNull();
    const csvBytes = await csvObject!.arrayBuffer();
    const manifest = JSON.parse(await manifestObject!.text()) as Manifest;

    expect(manifest).toMatchObject({ day, rows: expected.length, bytes: csvBytes.byteLength, csv_key: keys.csv });
    expect(manifest.csv_sha256).toBe(hex(await crypto.subtle.digest("SHA-256", csvBytes)));
    expect(manifest.traders).toEqual(await lastLinks(day));
    expect(manifest.traders).toEqual({
      [pat]: { last_chain_seq: 5, last_hash: expected.find((r) => r.trader_id === pat && r.chain_seq === 5)?.hash },
      [quinn]: { last_chain_seq: 2, last_hash: expected.find((r) => r.trader_id === quinn && r.chain_seq === 2)?.hash },
    });
    expect(new Date(manifest.created_at).toISOString()).toBe(manifest.created_at);

    // The CSV holds that day's rows, newest first, and nothing from the days around it.
    const text = new TextDecoder().decode(csvBytes);
    expect(text.startsWith("trader_id,order_id,action,timestamp,reason")).toBe(true);
    const ids = expected.map((r) => r.id);
    for (const r of await env.DB.prepare("SELECT id FROM execution_logs WHERE timestamp NOT LIKE ?").bind(`${day}%`).all<{ id: string }>().then((x) => x.results)) {
      expect(text).not.toContain(r.id);
    }
    const positions = ids.map((id) => text.indexOf(id));
    expect(positions.every((p) => p > 0)).toBe(true);
    expect(positions).toEqual([...positions].sort((a, b) => a - b));
    expect(text).toContain('"venue said ""slow down"", retrying\r\nthen filled"');
    expect(text).toContain(",'=cmd,");
  });

  it("writes nothing new when it runs again for an archived day, even if a late row has since arrived", async () => {
    const day = "2025-10-17";
    const trader = uniqueTrader("sam");
    await insertChained(env.DB, [
      { trader_id: trader, timestamp: `${day}T10:00:00.000Z` },
      { trader_id: trader, timestamp: `${day}T11:00:00.000Z`, action: "FILLED", status: "FILLED" },
    ]);
    await runCron("2025-10-18T00:15:00.000Z");
    const prefix = `execution_logs/2025/10/${day}`;
    const first = await listed(prefix);
    expect(first).toHaveLength(2);
    const manifestText = await (await env.AUDIT_ARCHIVE.get(keysOf(day).manifest))!.text();
    const csvText = await (await env.AUDIT_ARCHIVE.get(keysOf(day).csv))!.text();

    await new Promise((r) => setTimeout(r, 5));
    await runCron("2025-10-18T00:15:00.000Z");
    expect(await listed(prefix)).toEqual(first);

    await insertChained(env.DB, [{ trader_id: uniqueTrader("late"), timestamp: `${day}T12:00:00.000Z` }]);
    await runCron("2025-10-18T03:00:00.000Z");
    expect(await listed(prefix)).toEqual(first);
    const again = await (await env.AUDIT_ARCHIVE.get(keysOf(day).manifest))!.text();
    expect(again).toBe(manifestText);
    expect((JSON.parse(again) as Manifest).created_at).toBe((JSON.parse(manifestText) as Manifest).created_at);
    expect(await (await env.AUDIT_ARCHIVE.get(keysOf(day).csv))!.text()).toBe(csvText);
  });

  it("after a run that stored the CSV but not its manifest, writes a manifest that describes the stored CSV", async () => {
    const day = "2025-10-22";
    const trader = uniqueTrader("ivy");
    const heads = new Map<string, ChainHead>();
    await insertChained(env.DB, [
      { trader_id: trader, timestamp: `${day}T09:00:00.000Z` },
      { trader_id: trader, timestamp: `${day}T10:00:00.000Z`, action: "FILLED", status: "FILLED" },
    ], heads);
    await runCron("2025-10-23T00:15:00.000Z");
    const keys = keysOf(day);
    const stored = await (await env.AUDIT_ARCHIVE.get(keys.csv))!.arrayBuffer();

    // The state a failure between the CSV upload and the manifest put leaves behind, and then a row of
    // that day that a desk's outbox delivered late (it retries while D1 is unavailable).
    await env.AUDIT_ARCHIVE.delete(keys.manifest);
    await insertChained(env.DB, [{ trader_id: trader, timestamp: `${day}T23:59:59.000Z` }], heads);
    await runCron("2025-10-23T06:00:00.000Z");

    const csvNow = await (await env.AUDIT_ARCHIVE.get(keys.csv))!.arrayBuffer();
    expect(hex(await crypto.subtle.digest("SHA-256", csvNow))).toBe(hex(await crypto.subtle.digest("SHA-256", stored)));
    const manifest = (await (await env.AUDIT_ARCHIVE.get(keys.manifest))!.json()) as Manifest;
    const storedLines = new TextDecoder().decode(csvNow).split("\r\n").length - 2;
    expect({ rows: manifest.rows, bytes: manifest.bytes, csv_sha256: manifest.csv_sha256 }).toEqual({
      rows: storedLines,
      bytes: csvNow.byteLength,
      csv_sha256: hex(await crypto.subtle.digest("SHA-256", csvNow)),
    });
  });

  it("uploads a day of more than 5 MiB of CSV in multipart parts, every row and byte accounted for", async () => {
    const day = "2025-10-20";
    const ROWS = 40_000;
    const traders = [uniqueTrader("mp"), uniqueTrader("mp"), uniqueTrader("mp")];
    const reason = "Venue acknowledged after a slow round trip; order routed to the primary book and logged for review ".repeat(2);
    const start = Date.parse(`${day}T00:00:00.000Z`);
    await insertLogs(
      env.DB,
      sequenced(
        (function* () {
          for (let n = 0; n < ROWS; n++) {
            yield { id: `mp-${String(n).padStart(5, "0")}`, order_id: `mp-order-${n >> 2}`, trader_id: traders[n % 3]!, timestamp: new Date(start + n * 2000).toISOString(), reason: `${n}: ${reason}` };
          }
        })(),
      ),
    );

    await runCron("2025-10-21T00:15:00.000Z");

    const keys = keysOf(day);
    const head = await env.AUDIT_ARCHIVE.head(keys.csv);
    const manifest = (await (await env.AUDIT_ARCHIVE.get(keys.manifest))!.json()) as Manifest;
    expect(head).not.toBeNull();
    expect(head!.size).toBeGreaterThan(5 * MIB);
    expect(head!.size).toBe(manifest.bytes);
    expect(manifest.rows).toBe(ROWS);
    // R2 gives a multipart object the ETag "<md5 of the parts' md5s>-<number of parts>".
    const parts = Number(/^[0-9a-f]{32}-(\d+)$/.exec(head!.etag)?.[1]);
    expect(parts).toBe(Math.ceil(head!.size / (5 * MIB)));
    expect(parts).toBeGreaterThanOrEqual(2);

    // Read the object back: every row a CRLF-terminated line, and the bytes the manifest's hash names.
    const bytes = new Uint8Array(await (await env.AUDIT_ARCHIVE.get(keys.csv))!.arrayBuffer());
    expect(bytes.byteLength).toBe(head!.size);
    let lines = 0;
    for (let i = 1; i < bytes.length; i++) if (bytes[i] === 0x0a && bytes[i - 1] === 0x0d) lines++;
    expect(lines).toBe(ROWS + 1);
    expect([bytes.at(-2), bytes.at(-1)]).toEqual([0x0d, 0x0a]);
    expect(hex(await crypto.subtle.digest("SHA-256", bytes))).toBe(manifest.csv_sha256);
    expect(manifest.traders).toEqual(await lastLinks(day));
  }, 120_000);
});
