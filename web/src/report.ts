// The execution report on screen: the first page of a filter, then older pages through next_cursor.
// A newer filter wins: answers to a filter no longer shown are dropped, never mixed in.
import { useCallback, useEffect, useRef, useState } from "react";
import type { ExecutionRow } from "../../worker/shared/compliance";
import type { Api } from "./api";
import { reportQuery, type ReportFilter } from "./compliance";

export interface ReportState {
  status: "loading" | "ready" | "error";
  rows: ExecutionRow[];
  nextCursor: string | null;
  error: string | null;
  loadingMore: boolean;
  /** A failed "Load more" (the rows already shown stay). */
  moreError: string | null;
}

const initial: ReportState = { status: "loading", rows: [], nextCursor: null, error: null, loadingMore: false, moreError: null };
const message = (err: unknown, fallback: string) => (err instanceof Error && err.message ? err.message : fallback);

export function useExecutionReport(api: Api, filter: ReportFilter, run: number) {
  const [state, setState] = useState<ReportState>(initial);
  const current = useRef(0);

  useEffect(() => {
    const request = ++current.current;
    setState(initial);
    api.executions(reportQuery(filter)).then(
      (page) => request === current.current && setState({ ...initial, status: "ready", rows: page.data, nextCursor: page.next_cursor }),
      (err: unknown) => request === current.current && setState({ ...initial, status: "error", error: message(err, "Could not load the audit rows") }),
    );
  }, [api, filter, run]);

  const loadMore = useCallback(async () => {
    const cursor = state.nextCursor;
    if (!cursor || state.loadingMore) return;
    const request = current.current;
    setState((s) => ({ ...s, loadingMore: true, moreError: null }));
    try {
      const page = await api.executions(reportQuery(filter), cursor);
      if (request !== current.current) return;
      setState((s) => ({ ...s, rows: [...s.rows, ...page.data], nextCursor: page.next_cursor, loadingMore: false }));
    } catch (err) {
      if (request !== current.current) return;
      setState((s) => ({ ...s, loadingMore: false, moreError: message(err, "Could not load more rows") }));
    }
  }, [api, filter, state.nextCursor, state.loadingMore]);

  return { state, loadMore };
}
