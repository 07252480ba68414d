// Forms on the page (the ticket, the amend form): after a check fails, the first field in error takes the focus.

/** Focuses the first of `fields` (in the form's order) that has an error, by its input's name. */
export function focusFirstError(form: HTMLFormElement | null, fields: readonly string[], errors: Readonly<Partial<Record<string, string>>>): void {
  const first = fields.find((f) => errors[f]);
  if (first) form?.querySelector<HTMLElement>(`[name="${first}"]`)?.focus();
}
