/**
 * The catalog's history: what each serial added, removed and replaced. Read
 * from the repository's commit log when the catalog serves a maintainer's
 * directory (it also has each commit's message), else from the signed
 * snapshots `indexes/N.json`, each checked with the repository's keys and
 * compared with the one before. Snapshots never change, so what was computed
 * for a serial is kept.
 */
import { entryKey } from '../../repo/indexFormat.js';
import { localFetcher, readIndexAtSerial } from '../../repo/readPublishedIndex.js';
import type { Catalog } from './loadCatalog.js';

export interface Replacement {
  name: string;
  /** `version variant` of the entries taken out and put in. */
  from: string[];
  to: string[];
}

export interface HistoryEntry {
  serial: number;
  time?: string;
  /** The commit's message (from the log). */
  message?: string;
  /** Entry keys, `name version variant`, of names that had no entry retired (added) or none added (removed). */
  added: string[];
  removed: string[];
  replaced: Replacement[];
  /** Packages in the index after the commit. */
  packages?: number;
  /** Its snapshot was pruned: nothing is known of it. */
  pruned?: true;
}

export interface HistoryPage {
  entries: HistoryEntry[];
  /** `before` for the next (older) page, when there is one. */
  older?: number;
}

export const HISTORY_PAGE = 20;

/** Serials below `before` (all up to the current serial when undefined), newest first. */
export async function catalogHistory(catalog: Catalog, before?: number, count = HISTORY_PAGE): Promise<HistoryPage> {
  const top = Math.min(before === undefined ? catalog.index.serial : before - 1, catalog.index.serial);
  const serials: number[] = [];
  for (let serial = top; serial >= 1 && serials.length < count; serial--) serials.push(serial);
  const log = catalog.log !== undefined && catalog.log.length > 0 ? catalog.log : undefined;
  const bySerial = new Map(log?.map((record) => [record.serial, record]));
  const entries: HistoryEntry[] = [];
  for (const serial of serials) {
    const record = bySerial.get(serial);
    if (record !== undefined)
      entries.push({
        serial,
        time: record.time,
        message: record.message,
        packages: record.packages,
        ...classify(record.added, record.retired),
      });
    else entries.push(await fromSnapshots(catalog, serial));
  }
  const last = serials[serials.length - 1];
  return { entries, ...(last !== undefined && last > 1 ? { older: last } : {}) };
}

/** Names both added and retired are replacements; the rest were added or removed. */
export function classify(
  added: readonly string[],
  retired: readonly string[],
): Pick<HistoryEntry, 'added' | 'removed' | 'replaced'> {
  const nameOf = (key: string) => key.slice(0, key.indexOf(' '));
  const rest = (key: string) => key.slice(key.indexOf(' ') + 1);
  const addedNames = new Set(added.map(nameOf));
  const retiredNames = new Set(retired.map(nameOf));
  const replaced = new Map<string, Replacement>();
  for (const key of retired) {
    const name = nameOf(key);
    if (!addedNames.has(name)) continue;
    let row = replaced.get(name);
    if (row === undefined) {
      row = { name, from: [], to: [] };
      replaced.set(name, row);
    }
    row.from.push(rest(key));
  }
  for (const key of added) replaced.get(nameOf(key))?.to.push(rest(key));
  return {
    added: added.filter((key) => !retiredNames.has(nameOf(key))),
    removed: retired.filter((key) => !addedNames.has(nameOf(key))),
    replaced: [...replaced.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
  };
}

const computed = new Map<string, HistoryEntry>();
const KEEP = 2048;

/** What one snapshot holds, as the history needs it; a page reads each snapshot once (serial N is N+1's "before"). */
interface SnapshotKeys {
  created: string;
  keys: Set<string>;
}

async function fromSnapshots(catalog: Catalog, serial: number): Promise<HistoryEntry> {
  const cacheKey = `${catalog.tree}\0${serial}`;
  const known = computed.get(cacheKey);
  if (known !== undefined) return known;
  const now = await snapshotKeys(catalog, serial);
  let entry: HistoryEntry;
  if (now === undefined) entry = { serial, added: [], removed: [], replaced: [], pruned: true };
  else {
    const before = serial > 1 ? await snapshotKeys(catalog, serial - 1) : undefined;
    const beforeKeys = before?.keys ?? new Set<string>();
    entry = {
      serial,
      time: now.created,
      packages: now.keys.size,
      ...classify(
        [...now.keys].filter((key) => !beforeKeys.has(key)),
        [...beforeKeys].filter((key) => !now.keys.has(key)),
      ),
    };
  }
  if (computed.size >= KEEP) computed.delete(computed.keys().next().value as string);
  computed.set(cacheKey, entry);
  return entry;
}

const snapshots = new Map<string, SnapshotKeys | undefined>();

async function snapshotKeys(catalog: Catalog, serial: number): Promise<SnapshotKeys | undefined> {
  const cacheKey = `${catalog.tree}\0${serial}`;
  if (snapshots.has(cacheKey)) return snapshots.get(cacheKey);
  const read = await readIndexAtSerial(
    localFetcher(catalog.tree),
    catalog.keys.map((key) => key.key),
    catalog.tree,
    serial,
  );
  const value =
    read === undefined ? undefined : { created: read.index.created, keys: new Set(read.index.packages.map(entryKey)) };
  // Two are enough for a page read newest first; a few more for pages read side by side.
  if (snapshots.size >= 4) snapshots.delete(snapshots.keys().next().value as string);
  snapshots.set(cacheKey, value);
  return value;
}
