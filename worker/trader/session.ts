// DAY orders expire at the session close, a UTC wall-clock time from SESSION_CLOSE_UTC ("HH:MM").

export function nextSessionClose(nowMs: number, closeUtc: string): number {
  const [h, m] = closeUtc.split(":").map(Number);
  const close = new Date(nowMs);
  close.setUTCHours(h ?? 21, m ?? 0, 0, 0);
  if (close.getTime() <= nowMs) close.setUTCDate(close.getUTCDate() + 1);
  return close.getTime();
}
