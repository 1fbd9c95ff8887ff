import { compareParsed } from './compareVersions.js';
import { parseVersion } from './parseVersion.js';
import type { Version } from './Version.js';

/**
 * Returns the versions in ascending order, leaving the input untouched.
 * Versions that compare equal but are spelled differently (`1.0`, `1.0-r0`,
 * `1.00`) are ordered by their raw strings, so the output never depends on the
 * input order. Strings are parsed once up front.
 *
 * @throws KilnError `E_VERSION` when a string is not a version.
 * @example
 * sortVersions(['1.10', '1.9', '1.0-r0', '1.0']); // ['1.0', '1.0-r0', '1.9', '1.10']
 */
export function sortVersions<T extends Version | string>(versions: readonly T[]): T[] {
  const keyed = versions.map((item): { item: T; version: Version } => ({ item, version: toVersion(item) }));
  keyed.sort((x, y) => {
    const order = compareParsed(x.version, y.version, false);
    if (order !== 0) return order;
    // Code-unit order, not localeCompare: the result must not depend on the machine's locale.
    return x.version.raw === y.version.raw ? 0 : x.version.raw < y.version.raw ? -1 : 1;
  });
  return keyed.map((k) => k.item);
}

function toVersion(v: Version | string): Version {
  return typeof v === 'string' ? parseVersion(v) : v;
}
