import { KilnError } from '../errors/index.js';
import { scanVersion } from './parseVersion.js';
import { withoutRevision } from './withoutRevision.js';
import type { RangeClause, RangeOperator, VersionRange } from './VersionRange.js';

/** Shown under every range syntax error. */
export const RANGE_HINT =
  'a range is space-separated clauses that must all hold, each an operator written right before a version: ' +
  '<1.0, <=1.0, =1.0, >=1.0, >1.0, !=1.0, ~1.0 (any revision of 1.0), =1.2* (1.2, 1.2.3, 1.2b, ...); ' +
  'an empty range or "*" allows any version';

// Longest first, so that `<=1.0` is not read as `<` followed by the version `=1.0`.
const OPERATOR_PATTERN = /^(<=|>=|!=|<|>|=|~)/;

/**
 * Parses a version range such as `>=1.2 <2`, `~1.0`, `=1.2*` or `*`.
 * Leading, trailing and repeated whitespace between clauses is allowed.
 *
 * @throws KilnError `E_RANGE` naming the range and its bad clause.
 * @example
 * parseRange('>=1.2 !=1.4').clauses.length; // 2
 * parseRange('*').clauses.length; // 0
 * parseRange('>= 1.2'); // throws: cannot parse range ">= 1.2": clause ">=" has no version (...)
 */
export function parseRange(s: string): VersionRange {
  const result = scanRange(s);
  if ('problem' in result) {
    throw new KilnError('E_RANGE', `cannot parse range ${JSON.stringify(s)}: ${result.problem}`, { hint: RANGE_HINT });
  }
  return result;
}

/**
 * Like `parseRange`, but returns `undefined` instead of throwing.
 *
 * @example
 * tryParseRange('>=1.0')?.clauses[0]?.operator; // '>='
 * tryParseRange('1.0'); // undefined (no operator)
 */
export function tryParseRange(s: string): VersionRange | undefined {
  const result = scanRange(s);
  return 'problem' in result ? undefined : result;
}

function scanRange(s: string): VersionRange | { problem: string } {
  const words = s.split(/\s+/).filter((w) => w !== '');
  if (words.length === 1 && words[0] === '*') return { raw: s, clauses: [] };
  const clauses: RangeClause[] = [];
  for (const word of words) {
    const clause = scanClause(word);
    if ('problem' in clause) return clause;
    clauses.push(clause);
  }
  return { raw: s, clauses };
}

function scanClause(word: string): RangeClause | { problem: string } {
  const quoted = JSON.stringify(word);
  if (word === '*') return { problem: 'clause "*" (any version) cannot be combined with other clauses' };
  const symbol = OPERATOR_PATTERN.exec(word)?.[1];
  if (symbol === undefined) {
    const suggestion = /^[0-9]/.test(word) ? ` (write =${word} for exactly this version)` : '';
    return { problem: `clause ${quoted} does not start with an operator${suggestion}` };
  }
  let text = word.slice(symbol.length);
  if (text === '') {
    return { problem: `clause ${quoted} has no version (write it right after the operator, as in ${symbol}1.0)` };
  }
  let operator = symbol as RangeOperator;
  if (text.endsWith('*')) {
    if (symbol !== '=') return { problem: `clause ${quoted} uses "*", which only goes with "=", as in =1.2*` };
    text = text.slice(0, -1);
    if (text === '')
      return { problem: `clause ${quoted} has no version before "*" (write =1.2* or, for any version, *)` };
    operator = '=*';
  }
  const version = scanVersion(text);
  if ('problem' in version) return { problem: `clause ${quoted} has an invalid version: ${version.problem}` };
  if (operator === '=*' && version.hasRevision) {
    return { problem: `clause ${quoted} puts "*" after a revision, which has no further components to match` };
  }
  if (operator === '~' && version.hasRevision) {
    const bare = withoutRevision(version).raw;
    return {
      problem: `clause ${quoted} gives a revision, but "~" matches every revision (write ~${bare} or =${version.raw})`,
    };
  }
  return { operator, version };
}
