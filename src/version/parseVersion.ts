import { KilnError } from '../errors/index.js';
import { SUFFIX_TYPES, type SuffixType, type Version, type VersionSuffix } from './Version.js';

/** Shown under every version syntax error. */
export const VERSION_HINT =
  'a version is numbers separated by dots, then optionally one lower-case letter, ' +
  '_alpha/_beta/_pre/_rc/_p suffixes and a -rN revision, e.g. 1.2.3, 1.1.1w, 2.0_rc1, 5.4.1_p2-r1';

/**
 * Parses a version string, or returns why it is not one. The problem is a
 * clause that fits after `cannot parse version "…": `, so that `parseRange` can
 * embed it in its own message. Not part of the public surface.
 */
export function scanVersion(s: string): Version | { problem: string } {
  if (s === '') return { problem: 'it is empty' };
  if (/^\s|\s$/.test(s)) return { problem: 'it has leading or trailing whitespace' };

  const n = s.length;
  let i = 0;
  // Where the scanner stands, for messages: "at the start" or `after "1.0"`.
  const where = (at: number): string => (at === 0 ? 'at the start' : `after ${JSON.stringify(s.slice(0, at))}`);
  const found = (at: number): string => (at >= n ? 'but it ends there' : `not ${JSON.stringify(s[at])}`);

  const numbers: string[] = [];
  for (;;) {
    const start = i;
    while (i < n && isDigit(s.charCodeAt(i))) i++;
    if (i === start) return { problem: `expected a digit ${where(i)}, ${found(i)}` };
    numbers.push(s.slice(start, i));
    if (s[i] !== '.') break;
    i++;
  }

  let letter = '';
  const maybeLetter = s.charCodeAt(i);
  if (maybeLetter >= 0x61 && maybeLetter <= 0x7a) {
    letter = s.charAt(i);
    i++;
  }

  const suffixes: VersionSuffix[] = [];
  while (s[i] === '_') {
    const nameStart = i + 1;
    let j = nameStart;
    while (j < n && /[A-Za-z]/.test(s.charAt(j))) j++;
    const name = s.slice(nameStart, j);
    if (!isSuffixType(name)) {
      return {
        problem: `unknown suffix ${JSON.stringify(`_${name}`)} ${where(i)} (expected _alpha, _beta, _pre, _rc or _p)`,
      };
    }
    const digitsStart = j;
    while (j < n && isDigit(s.charCodeAt(j))) j++;
    suffixes.push({ type: name, number: j > digitsStart ? s.slice(digitsStart, j) : undefined });
    i = j;
  }

  let revision = '0';
  let hasRevision = false;
  if (s[i] === '-' && s[i + 1] === 'r') {
    const digitsStart = i + 2;
    let j = digitsStart;
    while (j < n && isDigit(s.charCodeAt(j))) j++;
    if (j === digitsStart)
      return { problem: `expected the revision number ${where(digitsStart)}, ${found(digitsStart)}` };
    // Kept as digits (leading zeros dropped), compared as unbounded integers.
    revision = s.slice(digitsStart, j).replace(/^0+(?=\d)/, '');
    hasRevision = true;
    i = j;
  }

  if (i < n) return { problem: describeLeftover(s, i, letter !== '', suffixes.length > 0, hasRevision) };
  return { raw: s, numbers, letter, suffixes, revision, hasRevision };
}

/**
 * Parses a PMS version such as `1.2.3`, `1.1.1w`, `2.0_rc1` or `5.4.1_p2-r1`.
 *
 * @throws KilnError `E_VERSION` naming the string and what is wrong with it.
 * @example
 * parseVersion('1.0_rc1-r2').suffixes; // [{ type: 'rc', number: '1' }]
 * parseVersion('1.0-x'); // throws: cannot parse version "1.0-x": unexpected "-x" after "1.0" (...)
 */
export function parseVersion(s: string): Version {
  const result = scanVersion(s);
  if ('problem' in result) {
    throw new KilnError('E_VERSION', `cannot parse version ${JSON.stringify(s)}: ${result.problem}`, {
      hint: VERSION_HINT,
    });
  }
  return result;
}

/**
 * Like `parseVersion`, but returns `undefined` instead of throwing.
 *
 * @example
 * tryParseVersion('2.4.52')?.numbers; // ['2', '4', '52']
 * tryParseVersion('v2.4'); // undefined
 */
export function tryParseVersion(s: string): Version | undefined {
  const result = scanVersion(s);
  return 'problem' in result ? undefined : result;
}

/** Explains the first character the grammar cannot place, with the likeliest intent. */
function describeLeftover(s: string, i: number, hasLetter: boolean, hasSuffix: boolean, hasRevision: boolean): string {
  const rest = s.length - i > 12 ? `${s.slice(i, i + 12)}…` : s.slice(i);
  const head = `unexpected ${JSON.stringify(rest)} after ${JSON.stringify(s.slice(0, i))}`;
  const c = s.charAt(i);
  if (hasRevision) return `${head} (the revision must come last)`;
  if (/[A-Z]/.test(c)) return `${head} (the letter must be lower case)`;
  if (/[a-z]/.test(c) && hasSuffix) return `${head} (the letter must come right after the numbers)`;
  if (/[a-z]/.test(c) && hasLetter) return `${head} (only one letter may follow the numbers)`;
  if (c === '-') return `${head} (a revision is written -r1)`;
  return head;
}

function isDigit(code: number): boolean {
  return code >= 0x30 && code <= 0x39;
}

function isSuffixType(name: string): name is SuffixType {
  return (SUFFIX_TYPES as readonly string[]).includes(name);
}
