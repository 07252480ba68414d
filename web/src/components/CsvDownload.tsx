// "Download CSV": the report's filter through format=csv. The API wants the Authorization header, so the
// file is fetched here and handed to the browser as a blob under the server's file name; no token ever
// goes into a URL (where logs, history and Referer would keep it).
import { useEffect, useState } from "react";
import type { Api } from "../api";
import { fallbackFileName, fileNameFrom, fileSize, reportQuery, type ReportFilter } from "../compliance";

export type DownloadState = { status: "idle" } | { status: "downloading" } | { status: "saved"; name: string; bytes: number } | { status: "error"; message: string };

/** Long enough for the browser to start reading the blob; revoking at once can cancel the save. */
const REVOKE_AFTER_MS = 60_000;

function save(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = name;
  link.hidden = true;
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), REVOKE_AFTER_MS);
}

export function useCsvDownload(api: Api, filter: ReportFilter) {
  const [state, setState] = useState<DownloadState>({ status: "idle" });
  useEffect(() => setState({ status: "idle" }), [api, filter]);

  async function download() {
    setState({ status: "downloading" });
    try {
      const { blob, contentDisposition } = await api.executionsCsv(reportQuery(filter));
      const name = fileNameFrom(contentDisposition) ?? fallbackFileName(filter);
      save(blob, name);
      setState({ status: "saved", name, bytes: blob.size });
    } catch (err) {
      setState({ status: "error", message: err instanceof Error ? err.message : "Could not download the CSV" });
    }
  }
  return { download, state };
}

export function CsvDownloadResult({ state }: { state: DownloadState }) {
  if (state.status === "error") {
    return (
      <p className="banner banner-error" role="alert">
        Download CSV: {state.message}
      </p>
    );
  }
  if (state.status !== "saved") return null;
  return (
    <p className="hint download-note" data-testid="download-note">
      Saved <strong>{state.name}</strong> ({fileSize(state.bytes)}).
    </p>
  );
}
