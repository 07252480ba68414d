// Money crosses the wire as dollars rounded to cents and lives everywhere else as integer cents.

/** Dollars (as a JSON number) to integer cents; undefined when the amount is not a whole number of cents. */
export function toCents(dollars: number): number | undefined {
  const cents = Math.round(dollars * 100);
  return Math.abs(cents - dollars * 100) < 1e-6 && Number.isSafeInteger(cents) ? cents : undefined;
}

/** Integer cents to dollars for JSON (150.05). */
export function toDollars(cents: number): number {
  return Math.round(cents) / 100;
}

const usd = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD" });

/** "$15,000.00" — the seed's wording for amounts in messages. */
export function formatUsd(cents: number): string {
  return usd.format(cents / 100);
}

/** True when a dollar amount is a whole number of cents (at most two decimals). */
export function isWholeCents(dollars: number): boolean {
  return toCents(dollars) !== undefined;
}

/** A price or amount of at least one cent, in whole cents (1e-9 is not a price, though it is positive). */
export function isPositiveCents(dollars: number): boolean {
  const cents = toCents(dollars);
  return cents !== undefined && cents >= 1;
}
