import { compareIntegers, compareNumericComponent, compareParsed } from './compareVersions.js';
import { parseRange } from './parseRange.js';
import { parseVersion } from './parseVersion.js';
import type { Version } from './Version.js';
import type { RangeClause, VersionRange } from './VersionRange.js';

/**
 * Whether a version satisfies every clause of a range. Strings are parsed first.
 *
 * @throws KilnError `E_VERSION` or `E_RANGE` when a string does not parse.
 * @example
 * satisfies('1.2.3', '>=1.2 <2'); // true
 * satisfies('1.2-r3', '~1.2');    // true
 * satisfies('1.20', '=1.2*');     // false (components compare whole: 20 is not 2)
 */
export function satisfies(version: Version | string, range: VersionRange | string): boolean {
  const v = typeof version === 'string' ? parseVersion(version) : version;
  const r = typeof range === 'string' ? parseRange(range) : range;
  return r.clauses.every((clause) => clauseHolds(clause, v));
}

function clauseHolds(clause: RangeClause, v: Version): boolean {
  switch (clause.operator) {
    case '<':
      return compareParsed(v, clause.version, false) < 0;
    case '<=':
      return compareParsed(v, clause.version, false) <= 0;
    case '=':
      return compareParsed(v, clause.version, false) === 0;
    case '>=':
      return compareParsed(v, clause.version, false) >= 0;
    case '>':
      return compareParsed(v, clause.version, false) > 0;
    case '!=':
      return compareParsed(v, clause.version, false) !== 0;
    case '~':
      return compareParsed(v, clause.version, true) === 0;
    case '=*':
      return matchesPrefix(clause.version, v);
  }
}

/**
 * The `=V*` test. V's components are read as a sequence — numeric components,
 * letter, then each suffix's type and integer — and `v` matches when it starts
 * with the same sequence. Each component is compared with the same rule
 * `compareVersions` uses, so `=1.2*` takes 1.2.3 but not 1.20.
 *
 * A component V leaves out is unconstrained only at V's end: `=1.2_rc*`
 * matches 1.2_rc and 1.2_rc5, but once V writes something after a part, that
 * part is fixed (`=1.2_rc*` needs no letter and exactly two numbers, and in
 * `=1.0_alpha_p*` the absent `_alpha` integer means 0).
 */
function matchesPrefix(pattern: Version, v: Version): boolean {
  const count = pattern.numbers.length;
  if (v.numbers.length < count) return false;
  for (let i = 0; i < count; i++) {
    if (compareNumericComponent(i, pattern.numbers[i] ?? '', v.numbers[i] ?? '') !== 0) return false;
  }
  if (pattern.letter === '' && pattern.suffixes.length === 0) return true;

  if (v.numbers.length !== count || v.letter !== pattern.letter) return false;
  if (v.suffixes.length < pattern.suffixes.length) return false;
  const last = pattern.suffixes.length - 1;
  return pattern.suffixes.every((want, i) => {
    const have = v.suffixes[i];
    if (have === undefined || have.type !== want.type) return false;
    if (want.number === undefined && i === last) return true;
    return compareIntegers(want.number ?? '0', have.number ?? '0') === 0;
  });
}
