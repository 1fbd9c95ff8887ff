/** Small text helpers for human output (stdout for data, stderr for people). */

/** Left-aligned columns separated by two spaces; the last column is not padded. */
export function table(rows: readonly (readonly string[])[]): string {
  if (rows.length === 0) return '';
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ').trimEnd()).join('\n');
}

/** `1.5 KiB`, `12.0 MiB`. */
export function bytes(count: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = count;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${count} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** `ssl,-uwsgi` style option list: enabled plain, disabled with a minus. */
export function optionList(options: Readonly<Record<string, boolean>>): string {
  const names = Object.keys(options).sort();
  return names.length === 0 ? '-' : names.map((name) => (options[name] ? name : `-${name}`)).join(',');
}
