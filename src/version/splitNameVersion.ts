import { tryParseVersion } from './parseVersion.js';
import type { Version } from './Version.js';

/**
 * Splits `name-version` at the first hyphen, counting from the left, after
 * which the rest is a valid version; package names may themselves contain
 * hyphens and digits. Returns `undefined` when there is no such hyphen with a
 * non-empty name before it. The name is not otherwise checked.
 *
 * @example
 * splitNameVersion('xz-utils-5.4.1'); // { name: 'xz-utils', version: <5.4.1> }
 * splitNameVersion('foo-1.0-r1');     // { name: 'foo', version: <1.0-r1> }
 * splitNameVersion('foo');            // undefined
 */
export function splitNameVersion(s: string): { name: string; version: Version } | undefined {
  for (let hyphen = s.indexOf('-', 1); hyphen !== -1; hyphen = s.indexOf('-', hyphen + 1)) {
    const version = tryParseVersion(s.slice(hyphen + 1));
    if (version !== undefined) return { name: s.slice(0, hyphen), version };
  }
  return undefined;
}
