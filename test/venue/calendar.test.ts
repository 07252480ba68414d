// The XNYS session calendar as plain functions of an instant: daylight saving, weekends, NYSE holidays and
// early closes, and when a DAY order accepted at a given moment expires.
import { describe, expect, it } from "vitest";
import { XNYS } from "../../worker/venue/calendar-xnys";
import { clockAt, dayOrderExpiry, isOpen, nextOpen, sessionOn } from "../../worker/venue/calendar";

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number) => new Date(ms).toISOString();
const hours = (ymd: string) => {
  const s = sessionOn(ymd);
  return s && { open: iso(s.open), close: iso(s.close) };
};

describe("regular hours follow New York daylight saving", () => {
  // 2026: DST from Sun Mar 8 to Sun Nov 1; 2027: from Sun Mar 14 to Sun Nov 7.
  it.each([
    ["2026-03-06", "14:30", "21:00"], // Friday before DST starts: EST
    ["2026-03-09", "13:30", "20:00"], // Monday after: EDT
    ["2026-10-30", "13:30", "20:00"], // Friday before DST ends
    ["2026-11-02", "14:30", "21:00"], // Monday after
    ["2027-03-12", "14:30", "21:00"],
    ["2027-03-15", "13:30", "20:00"],
    ["2027-11-05", "13:30", "20:00"],
    ["2027-11-08", "14:30", "21:00"],
  ])("%s opens at %sZ and closes at %sZ", (ymd, open, close) => {
    expect(hours(ymd)).toEqual({ open: `${ymd}T${open}:00.000Z`, close: `${ymd}T${close}:00.000Z` });
  });

  it("has no session on either weekend day, including the DST switch Sundays", () => {
    for (const ymd of ["2026-03-07", "2026-03-08", "2026-10-31", "2026-11-01", "2027-03-14", "2027-11-07"]) {
      expect(sessionOn(ymd), ymd).toBeNull();
    }
    expect(isOpen(at("2026-03-07T17:00:00Z"))).toBe(false); // Saturday noon in New York
  });

  it("opens at the open and is closed at the close", () => {
    expect(isOpen(at("2026-03-09T13:29:59.999Z"))).toBe(false);
    expect(isOpen(at("2026-03-09T13:30:00Z"))).toBe(true);
    expect(isOpen(at("2026-03-09T19:59:59.999Z"))).toBe(true);
    expect(isOpen(at("2026-03-09T20:00:00Z"))).toBe(false);
  });

  it("rejects a string that is not a calendar date", () => {
    for (const bad of ["2026-02-30", "2026-3-9", "20260309", ""]) expect(() => sessionOn(bad), bad).toThrow(RangeError);
  });
});

describe("NYSE holidays and early closes", () => {
  it.each([
    "2026-01-01", "2026-01-19", "2026-02-16", "2026-04-03", "2026-05-25",
    "2026-06-19", "2026-07-03", "2026-09-07", "2026-11-26", "2026-12-25",
  ])("2026 holiday %s has no session", (ymd) => {
    expect(sessionOn(ymd)).toBeNull();
  });

  it("lists only weekdays, each once, and never a day as both holiday and early close", () => {
    const all = [...XNYS.holidays, ...XNYS.earlyCloses];
    expect(new Set(all).size).toBe(all.length);
    for (const ymd of all) expect([0, 6], ymd).not.toContain(new Date(`${ymd}T12:00:00Z`).getUTCDay());
    for (const ymd of XNYS.holidays) expect(sessionOn(ymd), ymd).toBeNull();
  });

  it.each([
    ["2026-11-27", "2026-11-27T18:00:00.000Z"], // day after Thanksgiving, EST
    ["2026-12-24", "2026-12-24T18:00:00.000Z"],
    ["2027-11-26", "2027-11-26T18:00:00.000Z"],
    ["2028-07-03", "2028-07-03T17:00:00.000Z"], // 13:00 EDT
    ["2028-11-24", "2028-11-24T18:00:00.000Z"],
  ])("%s closes early at 13:00 New York (%s)", (ymd, close) => {
    expect(iso(sessionOn(ymd)!.close)).toBe(close);
    expect(isOpen(Date.parse(close) - 1)).toBe(true);
    expect(isOpen(Date.parse(close))).toBe(false);
  });

  it("keeps full days where the rule gives no early close", () => {
    expect(hours("2026-07-02")?.close).toBe("2026-07-02T20:00:00.000Z"); // Jul 3 is the observed holiday
    expect(hours("2027-12-23")?.close).toBe("2027-12-23T21:00:00.000Z"); // Dec 24 is the observed Christmas
    expect(hours("2027-12-31")?.close).toBe("2027-12-31T21:00:00.000Z"); // Sat 2028-01-01 is not observed
  });

  it("treats every weekday outside 2026-2028 as a regular session", () => {
    expect(hours("2025-12-25")).toEqual({ open: "2025-12-25T14:30:00.000Z", close: "2025-12-25T21:00:00.000Z" });
    expect(hours("2029-01-01")).toEqual({ open: "2029-01-01T14:30:00.000Z", close: "2029-01-01T21:00:00.000Z" });
    expect(sessionOn("2029-01-06")).toBeNull(); // a Saturday
  });
});

describe("a DAY order expires at the close of its session", () => {
  it.each([
    ["before the open, same day", "2026-03-10T12:00:00Z", "2026-03-10T20:00:00.000Z"],
    ["at the open", "2026-03-10T13:30:00Z", "2026-03-10T20:00:00.000Z"],
    ["during the session", "2026-03-10T16:00:00Z", "2026-03-10T20:00:00.000Z"],
    ["at the close: the next session's", "2026-03-10T20:00:00Z", "2026-03-11T20:00:00.000Z"],
    ["at 16:30 New York: the next session's, not 30 minutes later", "2026-03-10T20:30:00Z", "2026-03-11T20:00:00.000Z"],
    ["on Friday after the close: Monday's", "2026-03-13T21:00:00Z", "2026-03-16T20:00:00.000Z"],
    ["at 23:00 Friday New York (Saturday in UTC): Monday's", "2026-03-14T03:00:00Z", "2026-03-16T20:00:00.000Z"],
    ["on Saturday: Monday's", "2026-03-14T16:00:00Z", "2026-03-16T20:00:00.000Z"],
    ["on Saturday before MLK Day: Tuesday's", "2026-01-17T16:00:00Z", "2026-01-20T21:00:00.000Z"],
    ["on Thanksgiving Wednesday after the close: Friday's 13:00", "2026-11-25T22:00:00Z", "2026-11-27T18:00:00.000Z"],
    ["on 2026-12-31 after the close: 2027-01-04 (Jan 1 is a holiday)", "2026-12-31T22:00:00Z", "2027-01-04T21:00:00.000Z"],
    ["on the Sunday DST starts: Monday's EDT close", "2026-03-08T15:00:00Z", "2026-03-09T20:00:00.000Z"],
  ])("accepted %s", (_, accepted, expires) => {
    expect(iso(dayOrderExpiry(at(accepted)))).toBe(expires);
  });

  it("refuses an instant that is not a number", () => {
    expect(() => dayOrderExpiry(Number.NaN)).toThrow(RangeError);
  });
});

describe("the clock", () => {
  it("when open: today's close and the next session's open", () => {
    expect(clockAt(at("2026-03-10T15:00:00Z"))).toEqual({
      timestamp: "2026-03-10T15:00:00.000Z",
      is_open: true,
      next_open: "2026-03-11T13:30:00.000Z",
      next_close: "2026-03-10T20:00:00.000Z",
    });
  });

  it("when open on Thanksgiving Wednesday: the next open is Friday's", () => {
    expect(clockAt(at("2026-11-25T15:00:00Z"))).toMatchObject({ is_open: true, next_open: "2026-11-27T14:30:00.000Z" });
  });

  it("when closed: the next session's open and close", () => {
    expect(clockAt(at("2026-11-27T18:30:00Z"))).toEqual({
      timestamp: "2026-11-27T18:30:00.000Z",
      is_open: false,
      next_open: "2026-11-30T14:30:00.000Z",
      next_close: "2026-11-30T21:00:00.000Z",
    });
    expect(clockAt(at("2026-03-10T12:00:00Z"))).toMatchObject({ is_open: false, next_open: "2026-03-10T13:30:00.000Z" });
  });

  it("nextOpen is strictly after now", () => {
    expect(iso(nextOpen(at("2026-03-10T12:00:00Z")))).toBe("2026-03-10T13:30:00.000Z");
    expect(iso(nextOpen(at("2026-03-10T13:30:00Z")))).toBe("2026-03-11T13:30:00.000Z");
    expect(iso(nextOpen(at("2027-12-31T22:00:00Z")))).toBe("2028-01-03T14:30:00.000Z");
  });
});
