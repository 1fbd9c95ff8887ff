/**
 * What a prefix operation reports while it works. The core emits events; the
 * CLI renders them (a progress bar on a terminal, nothing otherwise).
 */
import type { DownloadAllProgress } from '../remote/download.js';

export type PrefixEvent =
  | { kind: 'waiting'; holderPid: number | undefined; lockPath: string }
  | { kind: 'recovered'; id: string; outcome: 'rolled back' | 'completed' | 'discarded' }
  | ({ kind: 'download' } & DownloadAllProgress)
  | { kind: 'stage'; name: string; index: number; total: number }
  | { kind: 'commit'; operations: number }
  | { kind: 'note'; message: string };

export type Reporter = (event: PrefixEvent) => void;
