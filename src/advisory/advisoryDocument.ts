/**
 * The advisories document a repository publishes: every advisory and the
 * triage, one JSON file pinned by sha256 in the signed index (the v1 index's
 * and the v2 root's `advisories`), so that it shares the index's serial,
 * expiry and signature. docs/security.md describes it.
 */
import { KilnError } from '../errors/index.js';
import type { Fail } from '../util/shape.js';
import { expectArray, expectObject } from '../util/shape.js';
import type { Advisory, TriageRecord } from './advisory.js';
import { checkAdvisory, checkTriage } from './advisory.js';

export const ADVISORIES_FORMAT = 'kiln-advisories';
export const ADVISORIES_FORMAT_VERSION = 1;
/** More than any repository's feed; a bound on what a client reads. */
export const MAX_ADVISORIES = 100_000;

export interface AdvisoryDocument {
  advisories: Advisory[];
  triage: TriageRecord[];
  /** Package name → the advisories that name it. */
  byName: Map<string, Advisory[]>;
}

export function advisoryDocument(advisories: readonly Advisory[], triage: readonly TriageRecord[]): AdvisoryDocument {
  const sorted = [...advisories].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const byName = new Map<string, Advisory[]>();
  for (const advisory of sorted)
    for (const name of new Set(advisory.affected.map((item) => item.package.name))) {
      const list = byName.get(name);
      if (list === undefined) byName.set(name, [advisory]);
      else list.push(advisory);
    }
  return { advisories: sorted, triage: [...triage], byName };
}

/** The document's bytes: the same advisories and triage always give the same bytes (and pin). */
export function encodeAdvisories(document: AdvisoryDocument): Buffer {
  const lines = document.advisories.map((advisory) => JSON.stringify(advisory));
  const triage = document.triage.map((record) => JSON.stringify(record));
  return Buffer.from(
    `{"format":"${ADVISORIES_FORMAT}","formatVersion":${ADVISORIES_FORMAT_VERSION},"advisories":[\n${lines.join(',\n')}\n],"triage":[\n${triage.join(',\n')}\n]}\n`,
    'utf8',
  );
}

export function parseAdvisories(bytes: Buffer, source: string): AdvisoryDocument {
  const fail: Fail = (where, problem) => {
    throw new KilnError('E_ADVISORY_FORMAT', `cannot read advisories ${source}: ${where} ${problem}`, {
      hint: 'the advisories were not written by a compatible Kiln',
    });
  };
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    fail('(file)', `is not valid JSON (${(error as Error).message})`);
  }
  const root = expectObject(json, '(top level)', fail, ['format', 'formatVersion', 'advisories', 'triage']);
  if (root['format'] !== ADVISORIES_FORMAT) fail('format', `must be "${ADVISORIES_FORMAT}"`);
  if (root['formatVersion'] !== ADVISORIES_FORMAT_VERSION)
    fail(
      'formatVersion',
      `${String(root['formatVersion'])} is not supported (this Kiln reads ${ADVISORIES_FORMAT_VERSION})`,
    );
  const items = expectArray(root['advisories'], 'advisories', fail);
  if (items.length > MAX_ADVISORIES) fail('advisories', `has more than ${MAX_ADVISORIES}`);
  const advisories = items.map((item, i) => checkAdvisory(item, `${source} advisories[${i}]`));
  const ids = new Set<string>();
  for (const advisory of advisories) {
    if (ids.has(advisory.id)) fail('advisories', `lists ${advisory.id} twice`);
    ids.add(advisory.id);
  }
  const triageItems = expectArray(root['triage'], 'triage', fail);
  if (triageItems.length > MAX_ADVISORIES) fail('triage', `has more than ${MAX_ADVISORIES}`);
  const triage = triageItems.map((item, i) => checkTriage(item, `${source} triage[${i}]`));
  return advisoryDocument(advisories, triage);
}
