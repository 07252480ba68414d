// The venue's session calendar (XNYS): when the market is open and when a DAY order expires. Pure
// functions of an injected epoch-ms instant; daylight saving comes from Intl (the runtime's tz database),
// never from hand-written rules.
//
// Covered years (2026-2028) carry NYSE's published holidays and 13:00 early closes (calendar-xnys.ts).
// Outside them every Monday-Friday is a regular 09:30-16:00 New York session and there are no holidays.
import { XNYS } from "./calendar-xnys";

/** One trading session: `open` and `close` are epoch milliseconds (UTC instants). */
export interface Session {
  open: number;
  close: number;
}

/** The calendar as `GET /api/v1/clock` answers it; instants are ISO 8601 UTC strings. */
export interface Clock {
  timestamp: string;
  is_open: boolean;
  next_open: string;
  next_close: string;
}

const DAY_MS = 86_400_000;
const MINUTE_MS = 60_000;
// The longest run of days without a session is a weekend plus two holidays; a month means broken data.
const MAX_SEARCH_DAYS = 31;

const calendar = XNYS;

/** Days since 1970-01-01 of a civil date "YYYY-MM-DD"; throws RangeError when it is not a real date. */
function dayNumber(ymd: string): number {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(ymd);
  const ms = match ? Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])) : NaN;
  if (!match || new Date(ms).toISOString().slice(0, 10) !== ymd) {
    throw new RangeError(`Not a calendar date (YYYY-MM-DD): ${ymd}`);
  }
  return ms / DAY_MS;
}

const holidays = new Set(calendar.holidays.map(dayNumber));
const earlyCloses = new Set(calendar.earlyCloses.map(dayNumber));

const wallClock = new Intl.DateTimeFormat("en-US", {
  timeZone: calendar.timeZone,
  hourCycle: "h23",
  year: "numeric",
  month: "numeric",
  day: "numeric",
  hour: "numeric",
  minute: "numeric",
});

/** The exchange's UTC offset in ms at a whole-minute instant (New York: -4 h in summer, -5 h in winter). */
function utcOffsetMs(utcMs: number): number {
  const at: Record<string, number> = {};
  for (const part of wallClock.formatToParts(utcMs)) at[part.type] = Number(part.value);
  const wall = Date.UTC(at.year!, at.month! - 1, at.day!, at.hour!, at.minute!);
  return wall - utcMs;
}

// Session (or null) per civil day number. Intl is slow (~microseconds), so each day is worked out once;
// the map is cleared when it grows past a few years of days, which only a long-lived isolate reaches.
const sessions = new Map<number, Session | null>();
const MAX_CACHED_DAYS = 2048;

function sessionOfDay(day: number): Session | null {
  const cached = sessions.get(day);
  if (cached !== undefined) return cached;
  const session = computeSession(day);
  if (sessions.size >= MAX_CACHED_DAYS) sessions.clear();
  sessions.set(day, session);
  return session;
}

function computeSession(day: number): Session | null {
  const weekday = (((day + 4) % 7) + 7) % 7; // 1970-01-01 was a Thursday; 0 = Sunday
  if (weekday === 0 || weekday === 6 || holidays.has(day)) return null;
  // New York changes clocks at 02:00 local, before the open, so the offset at 12:00Z (07:00 or 08:00 in
  // New York the same date) holds for the whole session.
  const midnight = day * DAY_MS;
  const offset = utcOffsetMs(midnight + 12 * 60 * MINUTE_MS);
  const closeMinute = earlyCloses.has(day) ? calendar.earlyCloseMinute : calendar.closeMinute;
  return Object.freeze({
    open: midnight + calendar.openMinute * MINUTE_MS - offset,
    close: midnight + closeMinute * MINUTE_MS - offset,
  });
}

function requireInstant(ms: number): void {
  if (!Number.isFinite(ms)) throw new RangeError(`Not an epoch-ms instant: ${ms}`);
}

/**
 * The first session that has not yet closed at `nowMs` (ms): the one in progress, or the next one.
 * Every query below is this lookup, a few cached map reads.
 */
function sessionClosingAfter(nowMs: number): Session {
  requireInstant(nowMs);
  // Start a day before the UTC date: a New York date is never more than one day behind it.
  const first = Math.floor(nowMs / DAY_MS) - 1;
  for (let day = first; day < first + MAX_SEARCH_DAYS; day++) {
    const session = sessionOfDay(day);
    if (session && session.close > nowMs) return session;
  }
  throw new Error(`No session within ${MAX_SEARCH_DAYS} days of ${new Date(nowMs).toISOString()}`);
}

/**
 * The session on a New York calendar date "YYYY-MM-DD" ({ open, close } in epoch ms), or null on a
 * weekend or holiday. Throws RangeError when `ymd` is not a real date.
 */
export function sessionOn(ymd: string): Session | null {
  return sessionOfDay(dayNumber(ymd));
}

/** Whether the regular session is in progress at `nowMs` (epoch ms): open <= now < close. */
export function isOpen(nowMs: number): boolean {
  return sessionClosingAfter(nowMs).open <= nowMs;
}

/** The epoch ms of the first session open strictly after `nowMs` (the next session's when open now). */
export function nextOpen(nowMs: number): number {
  const session = sessionClosingAfter(nowMs);
  return session.open > nowMs ? session.open : sessionClosingAfter(session.close).open;
}

/**
 * When a DAY order accepted at `acceptedAtMs` (epoch ms) expires, in epoch ms: today's close when it was
 * accepted before or during today's session; the next session's close when accepted after the close or on a
 * day without a session (weekend, holiday).
 */
export function dayOrderExpiry(acceptedAtMs: number): number {
  return sessionClosingAfter(acceptedAtMs).close;
}

/**
 * The calendar at `nowMs` (epoch ms), as ISO strings. Open: `next_close` is today's close and `next_open`
 * the next session's open. Closed: `next_open` and `next_close` are those of the next session.
 */
export function clockAt(nowMs: number): Clock {
  const session = sessionClosingAfter(nowMs);
  const open = session.open <= nowMs;
  return {
    timestamp: new Date(nowMs).toISOString(),
    is_open: open,
    next_open: new Date(open ? sessionClosingAfter(session.close).open : session.open).toISOString(),
    next_close: new Date(session.close).toISOString(),
  };
}
