// Opaque list cursors: the position of the last order on the page.

export function encodeCursor(seq: number): string {
  return btoa(`o:${seq}`).replace(/=+$/, "");
}

/** The position, or null when the text is not a cursor this API made. */
export function decodeCursor(cursor: string): number | null {
  try {
    const match = /^o:(\d{1,15})$/.exec(atob(cursor));
    return match ? Number(match[1]) : null;
  } catch {
    return null;
  }
}
