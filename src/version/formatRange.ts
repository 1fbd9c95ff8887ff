import { formatVersion } from './formatVersion.js';
import type { RangeClause, VersionRange } from './VersionRange.js';

/**
 * Spells a range canonically: its clauses joined by single spaces. A range
 * with no clauses (any version) formats as `''`, which `parseRange` reads back.
 *
 * @example
 * formatRange(parseRange('  >=1.2   <2 ')); // '>=1.2 <2'
 * formatRange(parseRange('=1.2*'));        // '=1.2*'
 */
export function formatRange(range: VersionRange): string {
  return range.clauses.map(formatClause).join(' ');
}

function formatClause(clause: RangeClause): string {
  const version = formatVersion(clause.version);
  return clause.operator === '=*' ? `=${version}*` : `${clause.operator}${version}`;
}
