// The daily archive: yesterday's audit rows to R2 as CSV plus a manifest (row count, the CSV's SHA-256,
// each trader's last chain position and hash), written once under a dated key and never overwritten.
// With an R2 bucket lock on the prefix in production, the objects cannot be deleted or replaced either.
import { createHash } from "node:crypto";
import { CSV_COLUMNS, CsvReader, csvHeader, csvLine } from "./csv";
import { reportPages } from "./report";
import { lastChainLink } from "../db/executions";

/** R2 multipart parts must all be the same size (at least 5 MiB) except the last. */
export const PART_BYTES = 5 * 1024 * 1024;

export interface ArchiveManifest {
  day: string;
  rows: number;
  bytes: number;
  csv_key: string;
  csv_sha256: string;
  traders: Record<string, { last_chain_seq: number; last_hash: string }>;
  created_at: string;
}

export const archiveKeys = (day: string) => {
  const base = `execution_logs/${day.slice(0, 4)}/${day.slice(5, 7)}/${day}`;
  return { csv: `${base}.csv`, manifest: `${base}.manifest.json` };
};

/** The UTC day before `at`, as YYYY-MM-DD. */
export const previousDay = (at: number) => new Date(at - 86_400_000).toISOString().slice(0, 10);

export async function archiveDay(db: D1Database, bucket: R2Bucket, day: string, now = Date.now()): Promise<{ manifest: ArchiveManifest; written: boolean }> {
  const keys = archiveKeys(day);
  const existing = await bucket.get(keys.manifest);
  if (existing) return { manifest: await existing.json<ArchiveManifest>(), written: false };
  const stored = await bucket.get(keys.csv);
  if (stored) {
    // A run stopped between the CSV and its manifest: describe the CSV that is stored (never rewrite it).
    const manifest = { ...(await describeCsv(stored.body)), day, csv_key: keys.csv, created_at: new Date(now).toISOString() };
    await bucket.put(keys.manifest, JSON.stringify(manifest, null, 2), { httpMetadata: { contentType: "application/json" } });
    return { manifest, written: true };
  }

  const filter = { from: `${day}T00:00:00.000Z`, to: `${day}T23:59:59.999Z` };
  const hash = createHash("sha256");
  const traders: ArchiveManifest["traders"] = {};
  let rows = 0;
  let bytes = 0;
  const encoder = new TextEncoder();
  const upload = await bucket.createMultipartUpload(keys.csv, { httpMetadata: { contentType: "text/csv; charset=utf-8" } });
  const parts: R2UploadedPart[] = [];
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;

  const emit = async (chunk: Uint8Array, final: boolean) => {
    hash.update(chunk);
    bytes += chunk.byteLength;
    pending.push(chunk);
    pendingBytes += chunk.byteLength;
    while (pendingBytes >= PART_BYTES || (final && pendingBytes > 0)) {
      const size = Math.min(PART_BYTES, pendingBytes);
      const part = concat(pending, size);
      pending = part.rest;
      pendingBytes -= size;
      parts.push(await upload.uploadPart(parts.length + 1, part.head));
    }
  };

  try {
    await emit(encoder.encode(csvHeader()), false);
    for await (const page of reportPages(db, filter)) {
      rows += page.length;
      for (const r of page) traders[r.trader_id] ??= { last_chain_seq: 0, last_hash: "" };
      await emit(encoder.encode(page.map(csvLine).join("")), false);
    }
    await emit(new Uint8Array(0), true);
    await upload.complete(parts);
  } catch (err) {
    await upload.abort();
    throw err;
  }

  for (const traderId of Object.keys(traders)) traders[traderId] = await lastChainLink(db, traderId, filter.from, filter.to);
  const manifest: ArchiveManifest = {
    day, rows, bytes, csv_key: keys.csv, csv_sha256: hash.digest("hex"), traders, created_at: new Date(now).toISOString(),
  };
  await bucket.put(keys.manifest, JSON.stringify(manifest, null, 2), { httpMetadata: { contentType: "application/json" } });
  return { manifest, written: true };
}

function concat(chunks: Uint8Array[], size: number): { head: Uint8Array; rest: Uint8Array[] } {
  const head = new Uint8Array(size);
  let offset = 0;
  const rest: Uint8Array[] = [];
  for (const chunk of chunks) {
    if (offset >= size) {
      rest.push(chunk);
      continue;
    }
    const take = Math.min(chunk.byteLength, size - offset);
    head.set(chunk.subarray(0, take), offset);
    offset += take;
    if (take < chunk.byteLength) rest.push(chunk.subarray(take));
  }
  return { head, rest };
}

/** Hash, size, row count and each trader's last chain link, read from a stored CSV (one pass, streamed). */
async function describeCsv(body: ReadableStream<Uint8Array>): Promise<Pick<ArchiveManifest, "rows" | "bytes" | "csv_sha256" | "traders">> {
  const hash = createHash("sha256");
  const decoder = new TextDecoder();
  const reader = new CsvReader();
  const at = (name: (typeof CSV_COLUMNS)[number]) => CSV_COLUMNS.indexOf(name);
  const traders: ArchiveManifest["traders"] = {};
  let bytes = 0;
  let records = 0;
  const take = (rows: string[][]) => {
    for (const r of rows) {
      if (records++ === 0) continue; // the header
      const trader = (r[at("trader_id")] ?? "").replace(/^'/, "");
      const seq = Number(r[at("chain_seq")]);
      if ((traders[trader]?.last_chain_seq ?? 0) < seq) traders[trader] = { last_chain_seq: seq, last_hash: r[at("hash")] ?? "" };
    }
  };
  for await (const chunk of body) {
    hash.update(chunk);
    bytes += chunk.byteLength;
    take(reader.push(decoder.decode(chunk, { stream: true })));
  }
  take(reader.push(decoder.decode()));
  return { rows: Math.max(0, records - 1), bytes, csv_sha256: hash.digest("hex"), traders };
}
