// Compliance: the execution report (date range, trader and action, newest first, paged), its CSV
// export, the audit chain check, and one order's trail by id.
import { useId, useMemo, useState } from "react";
import { createApi } from "../api";
import { defaultFilter, describeFilter, rowCount, sameFilter, type ReportFilter } from "../compliance";
import { useExecutionReport } from "../report";
import type { Session } from "../session";
import { AuditLookup } from "./AuditLookup";
import { ChainCheckResult, chainScope, useChainCheck } from "./ChainCheck";
import { CsvDownloadResult, useCsvDownload } from "./CsvDownload";
import { ExecutionTable } from "./ExecutionTable";
import { ReportFilters } from "./ReportFilters";

export function CompliancePage({ session, onExpired }: { session: Session; onExpired: () => void }) {
  const id = useId();
  const api = useMemo(() => createApi(() => session.token, onExpired), [session.token, onExpired]);
  const [draft, setDraft] = useState<ReportFilter>(() => defaultFilter());
  // `run` re-asks for the same filter (Search again, Try again).
  const [shown, setShown] = useState(() => ({ filter: draft, run: 0 }));
  const { state: report, loadMore } = useExecutionReport(api, shown.filter, shown.run);
  const csv = useCsvDownload(api, shown.filter);
  const chain = useChainCheck(api, shown.filter.traderId);

  const search = (filter: ReportFilter) => setShown((s) => ({ filter, run: s.run + 1 }));
  const lastWeek = () => {
    const { from, to } = defaultFilter();
    const next = { ...draft, from, to };
    setDraft(next);
    search(next);
  };

  return (
    <div className="compliance">
      <section className="panel" aria-labelledby={`${id}-title`}>
        <h2 id={`${id}-title`}>Execution report</h2>
        <ReportFilters draft={draft} changed={!sameFilter(draft, shown.filter)} onChange={setDraft} onSearch={search} onReset={lastWeek} />

        <div className="report-bar">
          <p className="report-summary" aria-live="polite" data-testid="report-summary">
            {report.status === "ready" && (
              <>
                <strong>{rowCount(report.rows.length)}</strong>
                {report.nextCursor ? " shown, more older rows" : report.rows.length > 0 ? " (all)" : ""}
                <span className="muted"> · {describeFilter(shown.filter)}</span>
              </>
            )}
          </p>
          <div className="report-buttons">
            <button
              type="button"
              className="btn btn-primary"
              onClick={() => void csv.download()}
              disabled={csv.state.status === "downloading"}
              aria-busy={csv.state.status === "downloading"}
              title={`The whole range as CSV: ${describeFilter(shown.filter)}`}
            >
              {csv.state.status === "downloading" ? "Preparing CSV…" : "Download CSV"}
            </button>
            <button
              type="button"
              className="btn btn-ghost"
              onClick={() => void chain.verify()}
              disabled={chain.check.status === "checking"}
              aria-busy={chain.check.status === "checking"}
              title={`Recompute ${chainScope(shown.filter.traderId)}, whole history`}
            >
              {chain.check.status === "checking" ? "Verifying…" : "Verify audit chain"}
            </button>
          </div>
        </div>
        <div className="report-notes" aria-live="polite">
          <CsvDownloadResult state={csv.state} />
          <ChainCheckResult check={chain.check} />
        </div>

        {report.status === "loading" && (
          <p className="loading" data-testid="report-loading">
            Loading audit rows…
          </p>
        )}
        {report.status === "error" && (
          <div className="banner banner-error" role="alert" data-testid="report-error">
            {report.error}{" "}
            <button type="button" className="btn btn-link" onClick={() => search(shown.filter)}>
              Try again
            </button>
          </div>
        )}
        {report.status === "ready" && report.rows.length === 0 && (
          <p className="empty" data-testid="report-empty">
            No audit rows for {describeFilter(shown.filter)}.
          </p>
        )}
        {report.rows.length > 0 && <ExecutionTable rows={report.rows} />}
        {report.moreError && (
          <p className="banner banner-error" role="alert">
            {report.moreError}
          </p>
        )}
        {report.nextCursor && (
          <button type="button" className="btn btn-ghost more" onClick={() => void loadMore()} disabled={report.loadingMore} aria-busy={report.loadingMore}>
            {report.loadingMore ? "Loading…" : "Load more"}
          </button>
        )}
      </section>

      <AuditLookup session={session} onExpired={onExpired} />
    </div>
  );
}
