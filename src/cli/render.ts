/** Small text helpers for human output (stdout for data, stderr for people). */

/** Left-aligned columns separated by two spaces; the last column is not padded. */
export function table(rows: readonly (readonly string[])[]): string {
  if (rows.length === 0) return '';
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, cell.length);
    });
  }
  return rows
    .map((row) =>
      row
        .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/**
 * A recorded time (ISO 8601) as people read it: `2026-12-03 17:30:50`, in the
 * local time zone (TZ), to the second. JSON output keeps the ISO string.
 */
export function time(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${two(date.getMonth() + 1)}-${two(date.getDate())} ${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())}`;
}

/** `1 package`, `2 packages`: a count with its noun, singular for one. */
export function count(n: number, noun: string, plural = `${noun}s`): string {
  return `${n} ${n === 1 ? noun : plural}`;
}

/** `1.5 KiB`, `12.0 MiB`. */
export { formatBytes as bytes } from '../util/formatBytes.js';

/** `ssl,-uwsgi` style option list: enabled plain, disabled with a minus. */
export function optionList(options: Readonly<Record<string, boolean>>): string {
  const names = Object.keys(options).sort();
  return names.length === 0 ? '-' : names.map((name) => (options[name] ? name : `-${name}`)).join(',');
}
