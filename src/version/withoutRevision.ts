import { formatVersion } from './formatVersion.js';
import type { Version } from './Version.js';

/**
 * The same version with its revision dropped (revision 0, not written).
 *
 * @example
 * withoutRevision(parseVersion('1.2_p1-r3')).raw; // '1.2_p1'
 */
export function withoutRevision(v: Version): Version {
  if (!v.hasRevision && v.revision === '0') return v;
  const stripped: Version = { ...v, revision: '0', hasRevision: false };
  return { ...stripped, raw: formatVersion(stripped) };
}
