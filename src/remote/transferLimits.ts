/**
 * How long a transfer may take: besides the inactivity timer (no byte for
 * 30 s), a minimum rate averaged over a window (curl's --speed-limit and
 * --speed-time, pacman's low-speed limit) and an overall deadline. The
 * deadline of a package is derived from the size its index pins: the base
 * deadline plus the time the package takes at the minimum rate. The index and
 * its signature, whose size nobody pins, get the base deadline alone. A
 * server that drips one byte every two seconds is dropped at the first rate
 * window; one that keeps just above the rate is dropped at the deadline.
 */
import { KilnError } from '../errors/index.js';
import type { TransferAction } from './fetchErrors.js';
import { redactUrl } from './remoteUrl.js';

export interface TransferLimits {
  /** Bytes per second a transfer must average over each window; 0 turns the check off. */
  minRate: number;
  /** The window the rate is averaged over, in milliseconds. */
  rateWindowMs: number;
  /** The deadline of a transfer of unknown size (index, signature), and the base of a package's. */
  deadlineMs: number;
}

/** 1 KiB/s over 30 s, 5 minutes for the index and signature (plus the time at 1 KiB/s for a package). */
export const DEFAULT_TRANSFER_LIMITS: TransferLimits = { minRate: 1024, rateWindowMs: 30_000, deadlineMs: 300_000 };

/** Where the limits are set, for hints. */
export const LIMIT_KEYS = 'min-rate, min-rate-window and fetch-deadline in the prefix configuration (docs/config.md)';

/** The deadline of a transfer of `expectedBytes` (or of unknown size), in milliseconds from its start. */
export function deadlineFor(limits: TransferLimits, expectedBytes: number | undefined): number {
  if (expectedBytes === undefined || limits.minRate === 0) return limits.deadlineMs;
  return limits.deadlineMs + Math.ceil((expectedBytes / limits.minRate) * 1000);
}

function whose(remote: string | undefined): string {
  return remote === undefined ? '' : ` (remote ${remote})`;
}

/** The transfer ran past its deadline. */
export function deadlineError(
  action: TransferAction,
  url: URL,
  deadlineMs: number,
  remote: string | undefined,
): KilnError {
  return new KilnError(
    'E_FETCH_SLOW',
    `cannot ${action} ${redactUrl(url)}${whose(remote)}: it did not finish within its deadline of ${seconds(deadlineMs)}`,
    {
      hint: `the server or the network is too slow; the limits are ${LIMIT_KEYS}`,
    },
  );
}

/** The transfer averaged less than the minimum rate over a window. */
export function slowError(
  action: TransferAction,
  url: URL,
  received: number,
  limits: TransferLimits,
  remote: string | undefined,
): KilnError {
  return new KilnError(
    'E_FETCH_SLOW',
    `cannot ${action} ${redactUrl(url)}${whose(remote)}: ${received} bytes in ${seconds(limits.rateWindowMs)}, below the minimum of ${limits.minRate} bytes/s`,
    {
      hint: `the server or the network is too slow; the limits are ${LIMIT_KEYS}`,
    },
  );
}

function seconds(ms: number): string {
  const value = ms / 1000;
  return `${Number.isInteger(value) ? value : value.toFixed(1)} s`;
}
