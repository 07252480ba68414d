// The compliance page's logic: the default range, the filter check, the query it sends, the CSV's
// file name from Content-Disposition and the UTC times of the report.
import { describe, expect, it } from "vitest";
import { defaultFilter, fileNameFrom, filterErrors, reportQuery, utcTimestamp } from "../../web/src/compliance";

describe("the execution report's filter", () => {
  it("defaults to the last seven UTC days, today included", () => {
    expect(defaultFilter(Date.parse("2026-11-26T23:30:00Z"))).toEqual({ from: "2026-11-20", to: "2026-11-26", traderId: "", action: "" });
    expect(defaultFilter(Date.parse("2026-03-02T00:00:00Z"))).toMatchObject({ from: "2026-02-24", to: "2026-03-02" });
  });

  it("refuses an end before the start and a missing date, naming the field", () => {
    expect(filterErrors({ from: "2026-11-20", to: "2026-11-01", traderId: "", action: "" })).toEqual({ to: "The end date must not be before the start date" });
    expect(filterErrors({ from: "", to: "2026-11-01", traderId: "", action: "" })).toEqual({ from: "Enter a start date" });
    expect(filterErrors({ from: "2026-11-01", to: "2026-11-01", traderId: "", action: "" })).toEqual({});
  });

  it("sends only the filters in use, the trader trimmed", () => {
    expect(reportQuery({ from: "2026-11-01", to: "2026-11-30", traderId: "  alice ", action: "" })).toEqual({ from: "2026-11-01", to: "2026-11-30", trader_id: "alice" });
    expect(reportQuery({ from: "2026-11-01", to: "2026-11-30", traderId: "", action: "FILLED" })).toEqual({ from: "2026-11-01", to: "2026-11-30", action: "FILLED" });
  });
});

describe("the downloaded file's name", () => {
  it("is the server's, from Content-Disposition (filename*= first), never a path", () => {
    expect(fileNameFrom('attachment; filename="execution_report_2026-11-20_2026-11-26.csv"')).toBe("execution_report_2026-11-20_2026-11-26.csv");
    expect(fileNameFrom("attachment; filename*=UTF-8''r%C3%A9port.csv; filename=\"report.csv\"")).toBe("réport.csv");
    expect(fileNameFrom("attachment; filename=plain.csv")).toBe("plain.csv");
    expect(fileNameFrom('attachment; filename="../../etc/passwd"')).toBe("passwd");
    expect(fileNameFrom("attachment")).toBeNull();
    expect(fileNameFrom(null)).toBeNull();
  });
});

it("reads audit times in UTC to the millisecond, as the CSV holds them", () => {
  expect(utcTimestamp("2026-11-26T18:17:56.237Z")).toBe("2026-11-26 18:17:56.237");
  expect(utcTimestamp("not a time")).toBe("not a time");
});
