// XNYS (New York Stock Exchange) sessions as data: regular hours and the exchange's published holidays and
// early closes. Source: NYSE Group, "2026, 2027 and 2028 Holiday and Early Closings Calendar" (2025-12-23),
// https://www.nyse.com/markets/hours-calendars. The rules behind the dates (NYSE Rule 7.2):
// - A holiday on a Sunday is observed on the Monday after; on a Saturday, on the Friday before, except when
//   that Friday ends a monthly or yearly accounting period: Sat 2028-01-01 gives no New Year's holiday, so
//   Fri 2027-12-31 is a full session.
// - Early close (13:00 local) on the day after Thanksgiving, on July 3 and on December 24 when that day is
//   a weekday that is not itself a holiday. 2026 has no July early close (Jul 3 is the observed holiday;
//   Jul 2 is a full day), 2027 has neither (Jul 3 is a Saturday; Dec 24 is the observed Christmas), 2028
//   has no Christmas Eve one (a Sunday).

/** One exchange's calendar: local times are minutes after local midnight, dates are "YYYY-MM-DD". */
export interface ExchangeCalendar {
  timeZone: string;
  openMinute: number;
  closeMinute: number;
  earlyCloseMinute: number;
  /** Full-day closures; a year with none listed has a regular session every Monday-Friday. */
  holidays: readonly string[];
  earlyCloses: readonly string[];
}

export const XNYS: ExchangeCalendar = {
  timeZone: "America/New_York",
  openMinute: 9 * 60 + 30,
  closeMinute: 16 * 60,
  earlyCloseMinute: 13 * 60,
  holidays: [
    // 2026
    "2026-01-01", // New Year's Day
    "2026-01-19", // Martin Luther King, Jr. Day
    "2026-02-16", // Washington's Birthday
    "2026-04-03", // Good Friday
    "2026-05-25", // Memorial Day
    "2026-06-19", // Juneteenth
    "2026-07-03", // Independence Day observed (Jul 4 is a Saturday)
    "2026-09-07", // Labor Day
    "2026-11-26", // Thanksgiving Day
    "2026-12-25", // Christmas Day
    // 2027
    "2027-01-01", // New Year's Day
    "2027-01-18", // Martin Luther King, Jr. Day
    "2027-02-15", // Washington's Birthday
    "2027-03-26", // Good Friday
    "2027-05-31", // Memorial Day
    "2027-06-18", // Juneteenth observed (Jun 19 is a Saturday)
    "2027-07-05", // Independence Day observed (Jul 4 is a Sunday)
    "2027-09-06", // Labor Day
    "2027-11-25", // Thanksgiving Day
    "2027-12-24", // Christmas Day observed (Dec 25 is a Saturday)
    // 2028: no New Year's holiday (Sat Jan 1, see above)
    "2028-01-17", // Martin Luther King, Jr. Day
    "2028-02-21", // Washington's Birthday
    "2028-04-14", // Good Friday
    "2028-05-29", // Memorial Day
    "2028-06-19", // Juneteenth
    "2028-07-04", // Independence Day
    "2028-09-04", // Labor Day
    "2028-11-23", // Thanksgiving Day
    "2028-12-25", // Christmas Day
  ],
  earlyCloses: [
    "2026-11-27", // day after Thanksgiving
    "2026-12-24", // Christmas Eve
    "2027-11-26", // day after Thanksgiving
    "2028-07-03", // day before Independence Day
    "2028-11-24", // day after Thanksgiving
  ],
};
