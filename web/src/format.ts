// How numbers and times read on the desk: US dollars, grouped share counts, 24-hour local times.
const usd = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD" });
const usdPrice = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD", minimumFractionDigits: 2, maximumFractionDigits: 4 });
const shares = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });

/** $15,000.00 */
export const money = (dollars: number) => usd.format(dollars);
/** A price keeps up to four decimals, so an average of 150.025 is not rounded away: $150.025 */
export const price = (dollars: number | null | undefined) => (dollars === null || dollars === undefined ? "—" : usdPrice.format(dollars));
export const quantity = (n: number) => shares.format(n);

function pad(n: number, width = 2): string {
  return String(n).padStart(width, "0");
}

/** 12:00:05 (local time) */
export function clock(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** 12:00:05.123, for the audit trail where the order of steps matters. */
export function preciseClock(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${clock(iso)}.${pad(d.getMilliseconds(), 3)}`;
}

/** 2025-10-17 12:00:05 local, for tooltips. */
export function fullTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${clock(iso)}`;
}
