/**
 * A repository's advisories, on the maintainer's side: each advisory an OSV
 * record in `.kiln/advisories/ID.json`, the triage in `.kiln/triage.json`.
 * `kiln repo advisory add|import|triage|withdraw` change them under the
 * repository's lock; the next commit publishes them all as one document
 * pinned by the signed index (publishIndex.ts), so a change to advisories
 * alone is a commit of its own. `kiln repo audit` lists the published
 * packages they affect.
 */
import { mkdir, readFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Advisory, AdvisoryDocument, Finding, TriageRecord } from '../advisory/index.js';
import { advisoryDocument, checkAdvisory, checkTriage, encodeAdvisories, findAdvisories } from '../advisory/index.js';
import { KilnError, isErrno } from '../errors/index.js';
import { writeFileAtomic } from '../util/atomicWrite.js';
import { sha256 } from '../util/hash.js';
import { isoTime } from '../util/isoTime.js';
import type { IndexEntry } from './indexFormat.js';
import type { RepositoryPaths } from './layout.js';
import type { RepositoryOptions } from './openRepository.js';
import { openRepository, readCurrentIndex, withRepositoryLock } from './openRepository.js';

/** The maintainer's advisories and triage, as a document; undefined when there are none. */
export async function readMaintainerAdvisories(
  paths: Pick<RepositoryPaths, 'advisories' | 'triage'>,
): Promise<AdvisoryDocument | undefined> {
  let files: string[];
  try {
    files = (await readdir(paths.advisories)).filter((file) => file.endsWith('.json')).sort();
  } catch (error) {
    if (!isErrno(error, 'ENOENT')) throw error;
    files = [];
  }
  const advisories = await Promise.all(
    files.map(async (file) => {
      const path = join(paths.advisories, file);
      return checkAdvisory(parseJsonFile(await readFile(path, 'utf8'), path), path);
    }),
  );
  const triage = await readTriage(paths);
  if (advisories.length === 0 && triage.length === 0) return undefined;
  return advisoryDocument(advisories, triage);
}

function parseJsonFile(text: string, path: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new KilnError(
      'E_ADVISORY_FORMAT',
      `cannot read advisory ${path}: it is not valid JSON (${(error as Error).message})`,
      {
        hint: 'an advisory is an OSV record in JSON',
      },
    );
  }
}

async function readTriage(paths: Pick<RepositoryPaths, 'triage'>): Promise<TriageRecord[]> {
  let text: string;
  try {
    text = await readFile(paths.triage, 'utf8');
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return [];
    throw error;
  }
  const json = parseJsonFile(text, paths.triage);
  if (!Array.isArray(json))
    throw new KilnError('E_ADVISORY_FORMAT', `cannot read triage ${paths.triage}: it is not a list`, {
      hint: 'change it with "kiln repo advisory triage"',
    });
  return json.map((item, i) => checkTriage(item, `${paths.triage}[${i}]`));
}

/** The bytes a commit publishes, or undefined when the repository has no advisories. */
export async function advisoriesToPublish(
  paths: Pick<RepositoryPaths, 'advisories' | 'triage'>,
): Promise<Buffer | undefined> {
  const document = await readMaintainerAdvisories(paths);
  return document === undefined ? undefined : encodeAdvisories(document);
}

/** Whether the next commit would publish other advisories than the current index pins. */
export function advisoriesChanged(published: { advisories?: { sha256: string } }, next: Buffer | undefined): boolean {
  return (published.advisories?.sha256 ?? '') !== (next === undefined ? '' : sha256(next));
}

export interface AdvisoryChange {
  id: string;
  /** Whether an advisory of this id was there (and is replaced). */
  replaced: boolean;
}

/** Add (or replace, by id) advisories; they are published by the next commit. */
export async function addAdvisories(
  root: string,
  advisories: readonly Advisory[],
  options: RepositoryOptions = {},
): Promise<AdvisoryChange[]> {
  const repo = await openRepository(root);
  return withRepositoryLock(repo, options, async () => {
    const existing = await readMaintainerAdvisories(repo.paths);
    const known = new Set(existing?.advisories.map((advisory) => advisory.id));
    const changes: AdvisoryChange[] = [];
    await mkdir(repo.paths.advisories, { recursive: true });
    for (const advisory of advisories) {
      await writeFileAtomic(
        join(repo.paths.advisories, `${advisory.id}.json`),
        `${JSON.stringify(advisory, null, 2)}\n`,
      );
      changes.push({ id: advisory.id, replaced: known.has(advisory.id) });
    }
    return changes;
  });
}

/** Mark an advisory withdrawn (OSV's `withdrawn`): kept and published, it affects nothing. */
export async function withdrawAdvisory(
  root: string,
  id: string,
  now: Date,
  options: RepositoryOptions = {},
): Promise<Advisory> {
  const repo = await openRepository(root);
  return withRepositoryLock(repo, options, async () => {
    const advisory = await findMaintainerAdvisory(repo.paths, id, root);
    const time = isoTime(now);
    const withdrawn: Advisory = { ...advisory, withdrawn: time, modified: time };
    await writeFileAtomic(join(repo.paths.advisories, `${id}.json`), `${JSON.stringify(withdrawn, null, 2)}\n`);
    return withdrawn;
  });
}

async function findMaintainerAdvisory(paths: RepositoryPaths, id: string, root: string): Promise<Advisory> {
  const document = await readMaintainerAdvisories(paths);
  const advisory = document?.advisories.find((candidate) => candidate.id === id);
  if (advisory === undefined)
    throw new KilnError('E_USAGE', `cannot change advisory ${id} of repository ${root}: it has no such advisory`, {
      hint: `"kiln repo advisory list ${root}" lists them; add one with "kiln repo advisory add ${root} FILE"`,
    });
  return advisory;
}

/**
 * Record the maintainer's triage: one record per advisory, name, version range
 * and variant (a new one replaces the one with the same four).
 */
export async function triageAdvisory(
  root: string,
  record: TriageRecord,
  options: RepositoryOptions = {},
): Promise<{ replaced: boolean }> {
  const checked = checkTriage(record, 'the triage given');
  const repo = await openRepository(root);
  return withRepositoryLock(repo, options, async () => {
    await findMaintainerAdvisory(repo.paths, checked.advisory, root);
    const triage = await readTriage(repo.paths);
    const same = (other: TriageRecord) =>
      other.advisory === checked.advisory &&
      other.name === checked.name &&
      other.versions === checked.versions &&
      other.variant === checked.variant;
    const replaced = triage.some(same);
    const next = [...triage.filter((other) => !same(other)), checked];
    await writeFileAtomic(repo.paths.triage, `${JSON.stringify(next, null, 2)}\n`);
    return { replaced };
  });
}

/** Forget the triage records of an advisory for a name (all of them). */
export async function clearTriage(
  root: string,
  id: string,
  name: string,
  options: RepositoryOptions = {},
): Promise<number> {
  const repo = await openRepository(root);
  return withRepositoryLock(repo, options, async () => {
    const triage = await readTriage(repo.paths);
    const kept = triage.filter((record) => !(record.advisory === id && record.name === name));
    if (kept.length === 0) await rm(repo.paths.triage, { force: true });
    else await writeFileAtomic(repo.paths.triage, `${JSON.stringify(kept, null, 2)}\n`);
    return triage.length - kept.length;
  });
}

export interface AdvisoryListing {
  advisories: Advisory[];
  triage: TriageRecord[];
  /** Whether the current index publishes exactly these. */
  published: boolean;
}

export async function listAdvisories(root: string): Promise<AdvisoryListing> {
  const repo = await openRepository(root);
  const document = await readMaintainerAdvisories(repo.paths);
  const { index } = await readCurrentIndex(repo);
  return {
    advisories: document?.advisories ?? [],
    triage: document?.triage ?? [],
    published: !advisoriesChanged(index, document === undefined ? undefined : encodeAdvisories(document)),
  };
}

export interface RepositoryFinding {
  entry: IndexEntry;
  findings: Finding[];
}

/** The published packages the maintainer's advisories (as they stand, published or not) affect. */
export async function auditRepository(root: string): Promise<{ serial: number; affected: RepositoryFinding[] }> {
  const repo = await openRepository(root);
  const document = await readMaintainerAdvisories(repo.paths);
  const { index } = await readCurrentIndex(repo);
  const affected: RepositoryFinding[] = [];
  if (document !== undefined)
    for (const entry of index.packages) {
      const findings = findAdvisories(document, entry);
      if (findings.length > 0) affected.push({ entry, findings });
    }
  return { serial: index.serial, affected };
}
