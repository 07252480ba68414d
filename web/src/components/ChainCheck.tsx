// "Verify audit chain": the server recomputes the SHA-256 chain of the filtered trader (or of every
// trader) over the whole history and says whether it holds, how many rows it checked and the first bad one.
import { useEffect, useState } from "react";
import type { VerifyResult } from "../../../worker/shared/compliance";
import type { Api } from "../api";
import { rowCount, traderCount, utcTimestamp } from "../compliance";

export type ChainCheckState =
  | { status: "idle" }
  | { status: "checking" }
  | { status: "done"; scope: string; result: VerifyResult; at: string }
  | { status: "error"; message: string };

export const chainScope = (traderId: string) => (traderId ? `${traderId}'s audit chain` : "every trader's audit chain");

/** The check for the filtered trader (or all); a result speaks for that trader only, so a new filter clears it. */
export function useChainCheck(api: Api, traderId: string) {
  const [check, setCheck] = useState<ChainCheckState>({ status: "idle" });
  useEffect(() => setCheck({ status: "idle" }), [api, traderId]);

  async function verify() {
    setCheck({ status: "checking" });
    try {
      const result = await api.verifyAudit(traderId || undefined);
      setCheck({ status: "done", scope: chainScope(traderId), result, at: new Date().toISOString() });
    } catch (err) {
      setCheck({ status: "error", message: err instanceof Error ? err.message : "Could not verify the audit chain" });
    }
  }
  return { check, verify };
}

export function ChainCheckResult({ check }: { check: ChainCheckState }) {
  if (check.status === "error") {
    return (
      <p className="banner banner-error" role="alert">
        Verify audit chain: {check.message}
      </p>
    );
  }
  return check.status === "done" ? <ChainVerdict scope={check.scope} result={check.result} at={check.at} /> : null;
}

function ChainVerdict({ scope, result, at }: { scope: string; result: VerifyResult; at: string }) {
  const bad = result.first_bad;
  return (
    <div className={`banner ${result.ok ? "banner-success" : "banner-error"} verdict`} data-testid="verify-result" data-ok={String(result.ok)} role={result.ok ? undefined : "alert"}>
      <p className="verdict-title">
        {result.ok ? "✓ Audit chain intact (ok)" : "✗ Audit chain broken (not ok)"}: {scope}, whole history
      </p>
      <dl className="verdict-facts">
        <div>
          <dt>ok</dt>
          <dd data-testid="verify-ok">{String(result.ok)}</dd>
        </div>
        <div>
          <dt>checked</dt>
          <dd data-testid="verify-checked">
            {rowCount(result.checked)} of {traderCount(result.traders)}
          </dd>
        </div>
        <div className="verdict-wide">
          <dt>first_bad</dt>
          <dd data-testid="verify-first-bad">
            {bad ? (
              <>
                trader <strong>{bad.trader_id}</strong>, row {bad.chain_seq}
                {bad.id ? (
                  <>
                    {" "}
                    (<code>{bad.id}</code>)
                  </>
                ) : null}
                : {bad.problem}
              </>
            ) : (
              "none"
            )}
          </dd>
        </div>
      </dl>
      <p className="verdict-at">Checked at {utcTimestamp(at).slice(0, 19)} UTC</p>
    </div>
  );
}
