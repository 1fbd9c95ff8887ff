import type { Version } from './Version.js';

/**
 * Spells a version from its components. For a parsed version this gives back
 * the string it was parsed from, except that a revision written with leading
 * zeros comes out without them (`1.0-r01` → `1.0-r1`; the two compare equal).
 *
 * @example
 * formatVersion(parseVersion('1.2.3b_p4-r2')); // '1.2.3b_p4-r2'
 * formatVersion({ ...parseVersion('1.0-r3'), revision: '0', hasRevision: false }); // '1.0'
 */
export function formatVersion(v: Version): string {
  let out = v.numbers.join('.') + v.letter;
  for (const suffix of v.suffixes) out += `_${suffix.type}${suffix.number ?? ''}`;
  if (v.hasRevision || v.revision !== '0') out += `-r${v.revision}`;
  return out;
}
