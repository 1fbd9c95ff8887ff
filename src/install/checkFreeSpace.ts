/**
 * The free-space check before a change, as pacman's CheckSpace: the packages'
 * installed size must fit on the prefix's file system and the downloads on the
 * cache's (both on one when they share it), or nothing is done at all.
 */
import { statSync, statfsSync } from 'node:fs';
import { KilnError } from '../errors/index.js';
import { formatBytes } from '../util/formatBytes.js';
import type { PlanAction } from '../solver/index.js';

/** Room kept beyond the sizes: directories, the journal, the database's growth, blocks part-filled by small files. */
export const SPACE_HEADROOM = 4 * 1024 * 1024;

export function checkFreeSpace(
  root: string,
  cache: string,
  placing: readonly Exclude<PlanAction, { kind: 'remove' }>[],
  downloadBytes: number,
): void {
  // Old versions are removed only after the new ones are in place: the new ones' whole size is needed.
  const installBytes = placing.reduce((sum, action) => sum + action.candidate.entry.installedSize, 0);
  const needs = new Map<number, { path: string; bytes: number; parts: string[] }>();
  const need = (path: string, bytes: number, part: string): void => {
    const device = statSync(path, { throwIfNoEntry: false })?.dev ?? -1;
    const entry = needs.get(device) ?? { path, bytes: SPACE_HEADROOM, parts: [] };
    entry.bytes += bytes;
    entry.parts.push(`${part} ${formatBytes(bytes)}`);
    needs.set(device, entry);
  };
  need(root, installBytes, 'installed');
  if (downloadBytes > 0) need(cache, downloadBytes, 'download');
  for (const { path, bytes, parts } of needs.values()) {
    const stat = statfsSync(path, { bigint: true });
    const free = Number(stat.bavail * stat.bsize);
    if (free >= bytes) continue;
    throw new KilnError(
      'E_NO_SPACE',
      `cannot change prefix ${root}: the file system of ${path} has ${formatBytes(free)} free and the change needs ${formatBytes(bytes)} (${parts.join(', ')}, headroom ${formatBytes(SPACE_HEADROOM)})`,
      {
        hint: 'free some space there (kiln cache clean frees downloaded packages), or set check-space = false in config.toml to try anyway; nothing was changed',
      },
    );
  }
}
