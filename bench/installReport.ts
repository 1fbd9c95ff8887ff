/**
 * Summaries and tables of the install benchmark.
 */
import { MIB, median } from './measure.js';
import type { SyncCounts, Timing } from './measure.js';

export interface Spread {
  median: number;
  min: number;
  max: number;
  samples: number[];
}

export function spread(samples: number[]): Spread {
  return { median: median(samples), min: Math.min(...samples), max: Math.max(...samples), samples };
}

export const seconds = (value: number) => (Number.isFinite(value) ? `${value.toFixed(value < 1 ? 3 : 2)} s` : '-');
export const range = (s: Spread | undefined) =>
  s === undefined ? '-' : `${s.min.toFixed(s.min < 1 ? 3 : 2)}–${s.max.toFixed(s.max < 1 ? 3 : 2)} s`;
export const int = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '-');
export const mib = (bytes: number) => `${(bytes / MIB).toFixed(1)} MiB`;

/** Nonzero counts as `fsync 12 + syncfs 1`, or `none`. */
export function countsText(counts: SyncCounts): string {
  const parts = Object.entries(counts)
    .filter(([, n]) => n > 0)
    .map(([call, n]) => `${call} ${int(n)}`);
  return parts.length === 0 ? 'none' : parts.join(' + ');
}

export const countsTotal = (counts: SyncCounts) => Object.values(counts).reduce((a, b) => a + b, 0);

export function table(rows: string[][], leftColumns = 1): string {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length)));
  return rows
    .map((row) =>
      `  ${row.map((cell, column) => (column < leftColumns ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join('  ')}`.trimEnd(),
    )
    .join('\n');
}

/** Medians of every timing field. */
export function timingSummary(runs: Timing[]) {
  const of = (field: keyof Timing) => median(runs.map((timing) => timing[field]));
  return {
    medianToolSeconds: of('toolSeconds'),
    medianSyncSeconds: of('syncSeconds'),
    medianUserSeconds: of('userSeconds'),
    medianSystemSeconds: of('systemSeconds'),
    medianOtherCpuSeconds: of('otherCpuSeconds'),
    medianPeakRssMiB: of('peakRssBytes') / MIB,
  };
}
