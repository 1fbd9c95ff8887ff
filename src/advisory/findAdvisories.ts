/**
 * Which advisories affect one package file, exactly: its name, its full
 * version (revision included, so a fix backported in `-r1` counts) and its
 * variant's options, then the maintainer's triage.
 *
 * A version is affected by an OSV range when, walking the range's events in
 * version order, the last event at or below it is an `introduced` (or a
 * `last_affected` it does not pass); `introduced: "0"` is the start of time.
 * A variant condition (`ecosystem_specific.options`) holds when the variant
 * has every one of those options set that way; a variant without the option
 * does not have the flawed code it names. Withdrawn advisories affect nothing.
 */
import type { Version } from '../version/index.js';
import { compareVersions, parseVersion, satisfies } from '../version/index.js';
import type { AdvisoryDocument } from './advisoryDocument.js';
import type { AffectedPackage, Advisory, RangeEvent, TriageRecord } from './advisory.js';

/** What is known of a package file: the index entry's fields that matter. */
export interface AdvisoryTarget {
  name: string;
  version: string;
  revision: number;
  variant: string;
  options: Readonly<Record<string, boolean>>;
}

export interface Finding {
  advisory: Advisory;
  /** The lowest version that fixes it above this one, when the advisory says. */
  fixed?: string;
  /** The triage record that decided, when one did. */
  triage?: TriageRecord;
}

function eventVersion(event: RangeEvent): {
  kind: 'introduced' | 'fixed' | 'last_affected';
  version: Version | 'zero';
} {
  if ('introduced' in event)
    return { kind: 'introduced', version: event.introduced === '0' ? 'zero' : parseVersion(event.introduced) };
  if ('fixed' in event) return { kind: 'fixed', version: parseVersion(event.fixed) };
  return { kind: 'last_affected', version: parseVersion(event.last_affected) };
}

function compare(a: Version | 'zero', b: Version | 'zero'): number {
  if (a === 'zero') return b === 'zero' ? 0 : -1;
  if (b === 'zero') return 1;
  return compareVersions(a, b);
}

/** Whether `version` is in an OSV range, and the `fixed` above it. */
function inRange(events: readonly RangeEvent[], version: Version): { affected: boolean; fixed?: string } {
  const sorted = events
    .map((event) => ({ event, ...eventVersion(event) }))
    // At one version, `fixed` ends what `introduced` began: fixed sorts after introduced.
    .sort((a, b) => compare(a.version, b.version) || (a.kind === 'introduced' ? -1 : b.kind === 'introduced' ? 1 : 0));
  let affected = false;
  for (const item of sorted) {
    const order = compare(item.version, version);
    if (item.kind === 'introduced' && order <= 0) affected = true;
    else if (item.kind === 'fixed' && order <= 0) affected = false;
    else if (item.kind === 'last_affected' && order < 0) affected = false;
  }
  if (!affected) return { affected };
  const fixed = sorted.find((item) => item.kind === 'fixed' && compare(item.version, version) > 0);
  return fixed === undefined ? { affected } : { affected, fixed: (fixed.event as { fixed: string }).fixed };
}

function matchesAffected(
  item: AffectedPackage,
  target: AdvisoryTarget,
  version: Version,
): { affected: boolean; fixed?: string } {
  if (item.package.name !== target.name) return { affected: false };
  const condition = item.ecosystem_specific?.options ?? {};
  for (const [option, setting] of Object.entries(condition))
    if (target.options[option] !== setting) return { affected: false };
  if ((item.versions ?? []).some((listed) => compareVersions(parseVersion(listed), version) === 0))
    return { affected: true };
  for (const range of item.ranges ?? []) {
    const found = inRange(range.events, version);
    if (found.affected) return found;
  }
  return { affected: false };
}

/** The triage record for this advisory and package file: a variant's own first, then any variant's. */
function triageFor(
  triage: readonly TriageRecord[],
  id: string,
  target: AdvisoryTarget,
  full: string,
): TriageRecord | undefined {
  const matching = triage.filter(
    (record) =>
      record.advisory === id &&
      record.name === target.name &&
      (record.variant === '' || record.variant === target.variant) &&
      (record.versions === '' || satisfies(full, record.versions)),
  );
  return matching.find((record) => record.variant !== '') ?? matching[0];
}

/**
 * Every advisory of `document` that affects `target` (open ones only: triaged
 * `not-affected` or `fixed` are left out), with the version that fixes it.
 */
export function findAdvisories(document: AdvisoryDocument, target: AdvisoryTarget): Finding[] {
  const full = target.revision > 0 ? `${target.version}-r${target.revision}` : target.version;
  const version = parseVersion(full);
  const findings: Finding[] = [];
  for (const advisory of document.byName.get(target.name) ?? []) {
    if (advisory.withdrawn !== undefined) continue;
    let hit: { affected: boolean; fixed?: string } = { affected: false };
    for (const item of advisory.affected) {
      hit = matchesAffected(item, target, version);
      if (hit.affected) break;
    }
    const triage = triageFor(document.triage, advisory.id, target, full);
    if (triage?.status === 'not-affected' || triage?.status === 'fixed') continue;
    if (!hit.affected && triage?.status !== 'affected') continue;
    findings.push({
      advisory,
      ...(hit.fixed === undefined ? {} : { fixed: hit.fixed }),
      ...(triage === undefined ? {} : { triage }),
    });
  }
  return findings;
}

/** An advisory that affects a version whatever its variant, or only variants built with `when`. */
export interface AdvisoryRule {
  advisory: Advisory;
  fixed?: string;
  /** The variant condition: the flaw is only in builds with these option settings. */
  when?: Readonly<Record<string, boolean>>;
}

/**
 * The advisories that affect a version of `name` built from source, whose
 * options are chosen later: one rule per affected item, with its variant
 * condition. Triage for every variant applies; a variant's own cannot (a build
 * has no variant id yet).
 */
export function advisoryRules(
  document: AdvisoryDocument,
  target: Omit<AdvisoryTarget, 'variant' | 'options'>,
): AdvisoryRule[] {
  const full = target.revision > 0 ? `${target.version}-r${target.revision}` : target.version;
  const version = parseVersion(full);
  const rules: AdvisoryRule[] = [];
  for (const advisory of document.byName.get(target.name) ?? []) {
    if (advisory.withdrawn !== undefined) continue;
    const triage = triageFor(document.triage, advisory.id, { ...target, variant: '', options: {} }, full);
    if (triage?.status === 'not-affected' || triage?.status === 'fixed') continue;
    for (const item of advisory.affected) {
      // The version alone: the variant condition is kept as the rule's.
      const hit = matchesAffected(
        { ...item, ecosystem_specific: {} },
        { ...target, variant: '', options: {} },
        version,
      );
      if (!hit.affected && triage?.status !== 'affected') continue;
      const when = item.ecosystem_specific?.options;
      rules.push({
        advisory,
        ...(hit.fixed === undefined ? {} : { fixed: hit.fixed }),
        ...(when === undefined || Object.keys(when).length === 0 ? {} : { when }),
      });
    }
  }
  return rules;
}
