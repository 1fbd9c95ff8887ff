import { parseVersion } from './parseVersion.js';
import { SUFFIX_TYPES, type Version } from './Version.js';

/** The result of a three-way comparison: -1 (less), 0 (equal) or 1 (greater). */
export type Ordering = -1 | 0 | 1;

/**
 * Orders two versions by the PMS algorithm: numeric components, then the
 * letter, then the suffixes, then the revision. Strings are parsed first.
 *
 * Equal versions need not be spelled alike: `1.0.2`, `1.0.2-r0` and `1.000.2`
 * all compare equal.
 *
 * @throws KilnError `E_VERSION` when a string is not a version.
 * @example
 * compareVersions('2.10', '2.9'); // 1
 * compareVersions('1.0_rc1', '1.0'); // -1
 * compareVersions('1.01', '1.1'); // -1 (a leading zero makes the component compare as a decimal fraction)
 */
export function compareVersions(a: Version | string, b: Version | string): Ordering {
  return compareParsed(toVersion(a), toVersion(b), false);
}

/**
 * Whether two versions compare equal (`compareVersions(a, b) === 0`).
 *
 * @example
 * versionsEqual('1.0', '1.0-r0'); // true
 * versionsEqual('1.0', '1.0.0'); // false
 */
export function versionsEqual(a: Version | string, b: Version | string): boolean {
  return compareVersions(a, b) === 0;
}

/**
 * The PMS comparison on parsed versions; with `ignoreRevision` it stops before
 * the revision step, which is what the `~` range operator needs.
 */
export function compareParsed(a: Version, b: Version, ignoreRevision: boolean): Ordering {
  const shared = Math.min(a.numbers.length, b.numbers.length);
  for (let i = 0; i < shared; i++) {
    const order = compareNumericComponent(i, a.numbers[i] ?? '', b.numbers[i] ?? '');
    if (order !== 0) return order;
  }
  if (a.numbers.length !== b.numbers.length) return a.numbers.length > b.numbers.length ? 1 : -1;

  // No letter is '' and so sorts before every letter, as PMS's ASCII rule says.
  if (a.letter !== b.letter) return a.letter > b.letter ? 1 : -1;

  const sharedSuffixes = Math.min(a.suffixes.length, b.suffixes.length);
  for (let i = 0; i < sharedSuffixes; i++) {
    const sa = a.suffixes[i];
    const sb = b.suffixes[i];
    if (sa === undefined || sb === undefined) break;
    if (sa.type !== sb.type) return SUFFIX_TYPES.indexOf(sa.type) > SUFFIX_TYPES.indexOf(sb.type) ? 1 : -1;
    const order = compareIntegers(sa.number ?? '0', sb.number ?? '0');
    if (order !== 0) return order;
  }
  // The first suffix only one side has decides: `_p` (a patch) raises the version, any other suffix (a pre-release) lowers it.
  if (a.suffixes.length > b.suffixes.length) return a.suffixes[sharedSuffixes]?.type === 'p' ? 1 : -1;
  if (a.suffixes.length < b.suffixes.length) return b.suffixes[sharedSuffixes]?.type === 'p' ? -1 : 1;

  return ignoreRevision ? 0 : compareIntegers(a.revision, b.revision);
}

/**
 * Compares the numeric components at index `index` of two versions (PMS
 * algorithms 3.3 and 3.4). The first is an integer; a later one that starts
 * with `0` on either side is compared as a decimal fraction would be: trailing
 * zeros stripped, then as ASCII strings (so `01` < `1` and `010` == `01`).
 */
export function compareNumericComponent(index: number, a: string, b: string): Ordering {
  if (index > 0 && (a.startsWith('0') || b.startsWith('0'))) {
    const ta = a.replace(/0+$/, '');
    const tb = b.replace(/0+$/, '');
    return ta === tb ? 0 : ta > tb ? 1 : -1;
  }
  return compareIntegers(a, b);
}

/** Compares two non-empty digit strings as unbounded unsigned integers. */
export function compareIntegers(a: string, b: string): Ordering {
  const ta = a.replace(/^0+/, '');
  const tb = b.replace(/^0+/, '');
  if (ta.length !== tb.length) return ta.length > tb.length ? 1 : -1;
  return ta === tb ? 0 : ta > tb ? 1 : -1;
}

function toVersion(v: Version | string): Version {
  return typeof v === 'string' ? parseVersion(v) : v;
}
