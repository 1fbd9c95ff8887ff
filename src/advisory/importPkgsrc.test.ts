import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { importPkgsrc } from './importPkgsrc.js';

const LIST = `-----BEGIN PGP SIGNED MESSAGE-----
Hash: SHA512

# $NetBSD: pkg-vulnerabilities,v 1.1 $
#
nginx<1.25.3	denial-of-service	https://nvd.nist.gov/vuln/detail/CVE-2023-44487
nghttp2<1.57.0	denial-of-service	https://nvd.nist.gov/vuln/detail/CVE-2023-44487
zlib>=1.2.2.1<1.2.12	memory-corruption	https://nvd.nist.gov/vuln/detail/CVE-2018-25032
expat<=2.5.0	denial-of-service	https://example.org/expat-advisory
oldtool-[0-9]*	unmaintained	https://example.org/oldtool
-----BEGIN PGP SIGNATURE-----

iQEzBAEBCgAdFiEE
-----END PGP SIGNATURE-----
`;

test('importPkgsrc: one record per advisory, bounds as OSV events, the PGP armour skipped', () => {
  const records = importPkgsrc(LIST, 'pkg-vulnerabilities', new Date('2026-12-04T10:00:00Z'));
  const byId = new Map(records.map((record) => [record.id, record]));
  assert.equal(records.length, 4);
  assert.deepEqual(
    byId.get('CVE-2023-44487')!.affected.map((item) => [item.package.name, item.ranges![0]!.events]),
    [
      ['nginx', [{ introduced: '0' }, { fixed: '1.25.3' }]],
      ['nghttp2', [{ introduced: '0' }, { fixed: '1.57.0' }]],
    ],
  );
  assert.deepEqual(byId.get('CVE-2018-25032')!.affected[0]!.ranges![0]!.events, [
    { introduced: '1.2.2.1' },
    { fixed: '1.2.12' },
  ]);
  const expat = records.find((record) => record.affected[0]!.package.name === 'expat')!;
  assert.deepEqual(expat.affected[0]!.ranges![0]!.events, [{ introduced: '0' }, { last_affected: '2.5.0' }]);
  assert.match(expat.id, /^PKGSRC-/);
  assert.equal(byId.get('CVE-2023-44487')!.modified, '2026-12-04T10:00:00Z');
});

test('importPkgsrc: a line it cannot read is an error naming the line', () => {
  assert.throws(
    () => importPkgsrc('nginx>1.0 dos https://x.org/CVE-2023-1\n', 'list', new Date()),
    /line 1: pattern "nginx>1.0"/,
  );
  assert.throws(() => importPkgsrc('just two\n', 'list', new Date()), /list line 1: expected "PATTERN TYPE URL"/);
});
