/**
 * pkgsrc's `pkg-vulnerabilities` list, as OSV records. Each line is
 * `PATTERN TYPE URL`, the pattern a package name with version bounds
 * (`nginx<1.25.3`, `zlib>=1.2.0<1.2.13`, `expat<=2.5.0`) or every version
 * (`name-[0-9]*`); `#` begins a comment, and the PGP armour of the signed
 * file is skipped (the signature is pkgsrc's: check it with gpg before
 * importing). Lines naming the same advisory (a CVE id in the URL, else the
 * URL) become one record with several `affected` items.
 */
import { KilnError } from '../errors/index.js';
import { isoTime } from '../util/isoTime.js';
import { tryParseVersion } from '../version/index.js';
import type { Advisory, AffectedPackage, RangeEvent } from './advisory.js';
import { checkAdvisory } from './advisory.js';

const BOUND = /(<=|>=|<|>)([^<>=\s]+)/g;

function pattern(text: string, where: string): AffectedPackage {
  const fail = (problem: string): never => {
    throw new KilnError('E_ADVISORY_FORMAT', `cannot import ${where}: pattern "${text}" ${problem}`, {
      hint: 'pkgsrc patterns Kiln reads: NAME<V, NAME>=V<W, NAME<=V, NAME-V, NAME-[0-9]*',
    });
  };
  const every = /^([A-Za-z0-9][A-Za-z0-9._+-]*)-\[0-9\]\*$/.exec(text);
  if (every !== null)
    return { package: { name: every[1] as string }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }] }] };
  const first = text.search(/[<>]/);
  if (first < 0) {
    // NAME-VERSION: that version only (the name ends at the last '-' before a digit).
    const exact = /^([A-Za-z0-9][A-Za-z0-9._+-]*?)-(\d[^\s]*)$/.exec(text);
    if (exact === null || tryParseVersion(exact[2] as string) === undefined) return fail('is not one Kiln reads');
    return { package: { name: exact[1] as string }, versions: [exact[2] as string] };
  }
  const name = text.slice(0, first);
  if (!/^[A-Za-z0-9][A-Za-z0-9._+-]*$/.test(name)) fail('has no package name before its bounds');
  const bounds = [...text.slice(first).matchAll(BOUND)];
  if (bounds.map((match) => match[0]).join('') !== text.slice(first)) fail('has bounds Kiln cannot read');
  let introduced = '0';
  const events: RangeEvent[] = [];
  for (const [, operator, version] of bounds) {
    if (tryParseVersion(version as string) === undefined) fail(`has "${version}", which is not a Kiln version`);
    if (operator === '>=') introduced = version as string;
    else if (operator === '<') events.push({ fixed: version as string });
    else if (operator === '<=') events.push({ last_affected: version as string });
    else fail('uses ">", which an OSV range cannot say (use >=)');
  }
  return { package: { name }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced }, ...events] }] };
}

/** The advisories of a pkg-vulnerabilities text; `now` stamps `modified`. */
export function importPkgsrc(text: string, source: string, now: Date): Advisory[] {
  const byId = new Map<string, { types: Set<string>; url: string; affected: AffectedPackage[] }>();
  let inSignature = false;
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line.startsWith('-----BEGIN PGP SIGNATURE')) inSignature = true;
    if (inSignature || line === '' || line.startsWith('#') || line.startsWith('-----') || /^Hash:/.test(line)) {
      if (line.startsWith('-----END PGP SIGNATURE')) inSignature = false;
      return;
    }
    const fields = line.split(/\s+/);
    const where = `${source} line ${i + 1}`;
    if (fields.length !== 3)
      throw new KilnError(
        'E_ADVISORY_FORMAT',
        `cannot import ${where}: expected "PATTERN TYPE URL", got "${line.slice(0, 200)}"`,
        {
          hint: "the file is pkgsrc's pkg-vulnerabilities list",
        },
      );
    const [patternText, type, url] = fields as [string, string, string];
    const cve = /CVE-\d{4}-\d{4,}/.exec(url)?.[0];
    const id = cve ?? `PKGSRC-${Buffer.from(url).toString('base64url').slice(-24)}`;
    let entry = byId.get(id);
    if (entry === undefined) {
      entry = { types: new Set(), url, affected: [] };
      byId.set(id, entry);
    }
    entry.types.add(type);
    entry.affected.push(pattern(patternText, where));
  });
  const modified = isoTime(now);
  return [...byId].map(([id, entry]) =>
    checkAdvisory(
      {
        schema_version: '1.6.0',
        id,
        modified,
        summary: [...entry.types].join(', '),
        affected: entry.affected,
        references: [{ type: 'ADVISORY', url: entry.url }],
      },
      `${source} (${id})`,
    ),
  );
}
