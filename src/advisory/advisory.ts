/**
 * Security advisories as a repository publishes them: OSV records
 * (https://ossf.github.io/osv-schema/), of which Kiln reads the fields below
 * and keeps the rest as given, and the maintainer's triage of them. Versions
 * in `affected` are Kiln versions (`1.22.1`, `1.22.1-r1`); an `affected`
 * item's `ecosystem_specific.options` is a variant condition: the advisory
 * concerns only the variants built with those option settings
 * (`{"http2": true}`).
 *
 * Everything here is read from files a maintainer or an upstream feed wrote,
 * and later from a repository any client trusts only through its signature:
 * every field is checked and every list bounded.
 */
import { KilnError } from '../errors/index.js';
import type { Fail } from '../util/shape.js';
import { expectArray, expectObject, expectString, isRecord, join, optionalString } from '../util/shape.js';
import { tryParseRange, tryParseVersion } from '../version/index.js';

export const ADVISORY_ID_PATTERN = /^[A-Za-z][A-Za-z0-9]*-[A-Za-z0-9._:-]{1,100}$/;
const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$/;
const TIME_PATTERN = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;
const OPTION_PATTERN = /^[a-z0-9][a-z0-9_-]{0,63}$/;
/** Bounds on one record: far above any real advisory, far below what exhausts a client. */
const MAX_ITEMS = 1000;
const MAX_TEXT = 64 * 1024;

export type RangeEvent = { introduced: string } | { fixed: string } | { last_affected: string };

export interface AffectedPackage {
  package: { name: string; ecosystem?: string };
  ranges?: { type: 'ECOSYSTEM'; events: RangeEvent[] }[];
  /** Versions affected one by one. */
  versions?: string[];
  /** `options`: the variant condition. */
  ecosystem_specific?: { options?: Record<string, boolean> };
}

export interface Advisory {
  schema_version?: string;
  id: string;
  modified: string;
  published?: string;
  withdrawn?: string;
  aliases?: string[];
  summary?: string;
  details?: string;
  severity?: { type: string; score: string }[];
  affected: AffectedPackage[];
  references?: { type: string; url: string }[];
  /** What else the record holds (credits, database_specific, …), kept as given. */
  [field: string]: unknown;
}

export type TriageStatus = 'affected' | 'fixed' | 'not-affected';

/**
 * The maintainer's word on what an advisory means for this repository's
 * packages of one name: of the versions in `versions` (a Kiln range; '' for
 * every version) and, when given, of one variant.
 */
export interface TriageRecord {
  advisory: string;
  name: string;
  versions: string;
  /** A variant id; '' for every variant. */
  variant: string;
  status: TriageStatus;
  /** Why (required for not-affected: "the mp4 module is not built"). */
  justification: string;
}

export const TRIAGE_STATUSES: readonly TriageStatus[] = ['affected', 'fixed', 'not-affected'];

function failWith(source: string): Fail {
  return (where, problem) => {
    throw new KilnError('E_ADVISORY_FORMAT', `cannot read advisory ${source}: ${where} ${problem}`, {
      hint: 'an advisory is an OSV record (docs/security.md, "Advisories") with Kiln versions in "affected"',
    });
  };
}

function boundedList(value: unknown, where: string, fail: Fail): unknown[] {
  const list = expectArray(value, where, fail);
  if (list.length > MAX_ITEMS) fail(where, `has ${list.length} items, more than ${MAX_ITEMS}`);
  return list;
}

function text(value: unknown, where: string, fail: Fail): string | undefined {
  const result = optionalString(value, where, fail);
  if (result !== undefined && result.length > MAX_TEXT) fail(where, `is longer than ${MAX_TEXT} characters`);
  return result;
}

function version(value: unknown, where: string, fail: Fail, zeroAllowed: boolean): string {
  const given = expectString(value, where, fail);
  if (zeroAllowed && given === '0') return given;
  if (tryParseVersion(given) === undefined) fail(where, `${JSON.stringify(given)} is not a Kiln version`);
  return given;
}

/** Check one OSV record (parsed JSON); `source` names it in messages. */
export function checkAdvisory(json: unknown, source: string): Advisory {
  const fail = failWith(source);
  const record = expectObject(json, '(top level)', fail);
  const id = expectString(record['id'], 'id', fail, ADVISORY_ID_PATTERN, 'an advisory id (CVE-2023-44487, GHSA-…)');
  const modified = expectString(record['modified'], 'modified', fail, TIME_PATTERN, 'an RFC 3339 UTC time');
  for (const field of ['published', 'withdrawn'])
    optionalString(record[field], field, fail, TIME_PATTERN, 'an RFC 3339 UTC time');
  text(record['summary'], 'summary', fail);
  text(record['details'], 'details', fail);
  if (record['aliases'] !== undefined)
    boundedList(record['aliases'], 'aliases', fail).forEach((alias, i) => {
      expectString(alias, join('aliases', i), fail, ADVISORY_ID_PATTERN, 'an advisory id');
    });
  if (record['severity'] !== undefined)
    boundedList(record['severity'], 'severity', fail).forEach((item, i) => {
      const where = join('severity', i);
      const severity = expectObject(item, where, fail);
      expectString(severity['type'], join(where, 'type'), fail);
      text(severity['score'], join(where, 'score'), fail);
    });
  if (record['references'] !== undefined)
    boundedList(record['references'], 'references', fail).forEach((item, i) => {
      const where = join('references', i);
      const reference = expectObject(item, where, fail);
      expectString(reference['type'], join(where, 'type'), fail);
      expectString(reference['url'], join(where, 'url'), fail, /^https?:\/\/\S{1,2000}$/, 'an http(s) URL');
    });
  const affected = boundedList(record['affected'], 'affected', fail);
  if (affected.length === 0) fail('affected', 'is empty: an advisory names what it affects');
  affected.forEach((item, i) => {
    checkAffected(item, join('affected', i), fail);
  });
  return { ...record, id, modified, affected: affected as AffectedPackage[] };
}

function checkAffected(value: unknown, where: string, fail: Fail): void {
  const item = expectObject(value, where, fail);
  const pkg = expectObject(item['package'], join(where, 'package'), fail);
  expectString(pkg['name'], join(where, 'package.name'), fail, NAME_PATTERN, 'a package name');
  optionalString(pkg['ecosystem'], join(where, 'package.ecosystem'), fail);
  if (item['ranges'] === undefined && item['versions'] === undefined)
    fail(where, 'has neither ranges nor versions: it would affect nothing');
  if (item['ranges'] !== undefined)
    boundedList(item['ranges'], join(where, 'ranges'), fail).forEach((rangeItem, r) => {
      const at = join(join(where, 'ranges'), r);
      const range = expectObject(rangeItem, at, fail);
      if (range['type'] !== 'ECOSYSTEM')
        fail(join(at, 'type'), 'must be "ECOSYSTEM" (versions compared as Kiln compares them)');
      const events = boundedList(range['events'], join(at, 'events'), fail);
      if (!events.some((event) => isRecord(event) && 'introduced' in event))
        fail(join(at, 'events'), 'has no "introduced" event');
      events.forEach((eventItem, e) => {
        const eventAt = join(join(at, 'events'), e);
        const event = expectObject(eventItem, eventAt, fail, ['introduced', 'fixed', 'last_affected', 'limit']);
        const keys = Object.keys(event);
        if (keys.length !== 1) fail(eventAt, 'must have exactly one of introduced, fixed, last_affected');
        const key = keys[0] as string;
        if (key === 'limit') fail(eventAt, '"limit" is for git ranges, not versions');
        version(event[key], join(eventAt, key), fail, key === 'introduced');
      });
    });
  if (item['versions'] !== undefined)
    boundedList(item['versions'], join(where, 'versions'), fail).forEach((v, n) => {
      version(v, join(join(where, 'versions'), n), fail, false);
    });
  if (item['ecosystem_specific'] !== undefined) {
    const specific = expectObject(item['ecosystem_specific'], join(where, 'ecosystem_specific'), fail);
    if (specific['options'] !== undefined) {
      const options = expectObject(specific['options'], join(where, 'ecosystem_specific.options'), fail);
      for (const [option, setting] of Object.entries(options)) {
        if (!OPTION_PATTERN.test(option))
          fail(join(where, `ecosystem_specific.options.${option}`), 'is not an option name');
        if (typeof setting !== 'boolean')
          fail(join(where, `ecosystem_specific.options.${option}`), 'must be true or false');
      }
    }
  }
}

/** Check one triage record. */
export function checkTriage(json: unknown, source: string): TriageRecord {
  const fail = failWith(source);
  const record = expectObject(json, '(triage)', fail, [
    'advisory',
    'name',
    'versions',
    'variant',
    'status',
    'justification',
  ]);
  const advisory = expectString(record['advisory'], 'advisory', fail, ADVISORY_ID_PATTERN, 'an advisory id');
  const name = expectString(record['name'], 'name', fail, NAME_PATTERN, 'a package name');
  const versions = expectString(record['versions'] ?? '', 'versions', fail);
  if (tryParseRange(versions) === undefined)
    fail('versions', `${JSON.stringify(versions)} is not a Kiln version range`);
  const variant = expectString(record['variant'] ?? '', 'variant', fail, /^([0-9a-f]{12})?$/, 'a variant id');
  const status = expectString(record['status'], 'status', fail);
  if (!(TRIAGE_STATUSES as readonly string[]).includes(status))
    fail('status', `must be one of ${TRIAGE_STATUSES.join(', ')}`);
  const justification = text(record['justification'], 'justification', fail) ?? '';
  if (status === 'not-affected' && justification.trim() === '')
    fail('justification', 'is required for not-affected: say why the build does not have the flaw');
  return { advisory, name, versions, variant, status: status as TriageStatus, justification };
}
