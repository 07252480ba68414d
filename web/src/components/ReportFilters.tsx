// The execution report's filter: a UTC date range (both days inclusive), a trader and an action.
import { useId, useState, type FormEvent } from "react";
import { AUDIT_ACTIONS, filterErrors, type FilterErrors, type ReportFilter } from "../compliance";

interface Props {
  draft: ReportFilter;
  /** The draft differs from the filter the table shows. */
  changed: boolean;
  onChange: (draft: ReportFilter) => void;
  onSearch: (filter: ReportFilter) => void;
  onReset: () => void;
}

export function ReportFilters({ draft, changed, onChange, onSearch, onReset }: Props) {
  const id = useId();
  const [errors, setErrors] = useState<FilterErrors>({});
  const set = <K extends keyof ReportFilter>(key: K, value: ReportFilter[K]) => {
    onChange({ ...draft, [key]: value });
    if (errors[key as keyof FilterErrors]) setErrors((e) => ({ ...e, [key]: undefined }));
  };

  function submit(event: FormEvent) {
    event.preventDefault();
    const found = filterErrors(draft);
    setErrors(found);
    if (Object.keys(found).length === 0) onSearch({ ...draft, traderId: draft.traderId.trim() });
  }

  const field = (key: keyof FilterErrors) => ({
    id: `${id}-${key}`,
    "aria-invalid": errors[key] ? true : undefined,
    "aria-describedby": errors[key] ? `${id}-${key}-error` : undefined,
  });
  const error = (key: keyof FilterErrors) =>
    errors[key] && (
      <p className="field-error" id={`${id}-${key}-error`}>
        {errors[key]}
      </p>
    );

  return (
    <form className="report-filters" onSubmit={submit} noValidate aria-label="Report filter">
      <div className="field">
        <label htmlFor={`${id}-from`}>From (UTC)</label>
        <input type="date" {...field("from")} value={draft.from} max={draft.to || undefined} onChange={(e) => set("from", e.target.value)} required />
        {error("from")}
      </div>
      <div className="field">
        <label htmlFor={`${id}-to`}>To (UTC)</label>
        <input type="date" {...field("to")} value={draft.to} min={draft.from || undefined} onChange={(e) => set("to", e.target.value)} required />
        {error("to")}
      </div>
      <div className="field">
        <label htmlFor={`${id}-traderId`}>Trader</label>
        <input
          type="text"
          {...field("traderId")}
          value={draft.traderId}
          onChange={(e) => set("traderId", e.target.value)}
          placeholder="All traders"
          autoComplete="off"
          spellCheck={false}
          maxLength={128}
        />
        {error("traderId")}
      </div>
      <div className="field">
        <label htmlFor={`${id}-action`}>Action</label>
        <select id={`${id}-action`} value={draft.action} onChange={(e) => set("action", e.target.value as ReportFilter["action"])}>
          <option value="">All actions</option>
          {AUDIT_ACTIONS.map((a) => (
            <option key={a} value={a}>
              {a}
            </option>
          ))}
        </select>
      </div>
      <div className="report-filter-buttons">
        <button type="submit" className="btn btn-primary">
          Search
        </button>
        <button
          type="button"
          className="btn btn-ghost"
          onClick={() => {
            setErrors({});
            onReset();
          }}
        >
          Last 7 days
        </button>
      </div>
      <p className="hint report-filter-hint" aria-live="polite">
        {changed ? "Press Search (or Enter) to apply the changed filter." : ""}
      </p>
    </form>
  );
}
