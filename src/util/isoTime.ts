/** ISO 8601 UTC without milliseconds, as indexes, roots and advisories write times: `2026-12-04T10:17:29Z`. */
export function isoTime(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
