import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkAdvisory } from './advisory.js';
import { advisoryDocument } from './advisoryDocument.js';
import type { AdvisoryTarget } from './findAdvisories.js';
import { findAdvisories } from './findAdvisories.js';

const rapidReset = checkAdvisory(
  {
    id: 'CVE-2023-44487',
    modified: '2023-10-10T00:00:00Z',
    summary: 'HTTP/2 rapid reset',
    affected: [
      {
        package: { name: 'nginx' },
        ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '1.9.5' }, { fixed: '1.25.3' }] }],
        ecosystem_specific: { options: { http2: true } },
      },
    ],
  },
  'test',
);
const minizip = checkAdvisory(
  {
    id: 'CVE-2023-45853',
    modified: '2023-10-14T00:00:00Z',
    affected: [
      {
        package: { name: 'zlib' },
        ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { last_affected: '1.3' }] }],
      },
    ],
  },
  'test',
);

function nginx(version: string, http2: boolean, revision = 0): AdvisoryTarget {
  return {
    name: 'nginx',
    version,
    revision,
    variant: http2 ? 'aaaaaaaaaaaa' : 'bbbbbbbbbbbb',
    options: { http2, ssl: true },
  };
}
const ids = (found: ReturnType<typeof findAdvisories>) =>
  found.map((finding) => `${finding.advisory.id} ${finding.fixed ?? '-'}`);

test('findAdvisories: version ranges (introduced, fixed, last_affected) and the variant condition', () => {
  const document = advisoryDocument([rapidReset, minizip], []);
  assert.deepEqual(ids(findAdvisories(document, nginx('1.22.1', true))), ['CVE-2023-44487 1.25.3']);
  assert.deepEqual(
    ids(findAdvisories(document, nginx('1.22.1', false))),
    [],
    'a variant without http2 is not affected',
  );
  assert.deepEqual(ids(findAdvisories(document, nginx('1.25.3', true))), [], 'the fixed version is not');
  assert.deepEqual(ids(findAdvisories(document, nginx('1.9.4', true))), [], 'before introduced is not');
  assert.deepEqual(ids(findAdvisories(document, nginx('1.9.5', true))), ['CVE-2023-44487 1.25.3'], 'introduced is');
  const zlib = (version: string): AdvisoryTarget => ({
    name: 'zlib',
    version,
    revision: 0,
    variant: 'cccccccccccc',
    options: {},
  });
  assert.deepEqual(ids(findAdvisories(document, zlib('1.3'))), ['CVE-2023-45853 -'], 'last_affected is affected');
  assert.deepEqual(ids(findAdvisories(document, zlib('1.3.1'))), []);
  assert.deepEqual(ids(findAdvisories(document, zlib('1.2.13'))), ['CVE-2023-45853 -']);
});

test('findAdvisories: triage — not-affected and fixed (a backport in a revision) close it; withdrawn affects nothing', () => {
  const document = advisoryDocument(
    [rapidReset, minizip],
    [
      {
        advisory: 'CVE-2023-45853',
        name: 'zlib',
        versions: '',
        variant: '',
        status: 'not-affected',
        justification: 'minizip is not built',
      },
      {
        advisory: 'CVE-2023-44487',
        name: 'nginx',
        versions: '>=1.22.1-r1 <1.23',
        variant: '',
        status: 'fixed',
        justification: 'patch backported',
      },
    ],
  );
  assert.deepEqual(
    ids(
      findAdvisories(document, { name: 'zlib', version: '1.2.13', revision: 0, variant: 'cccccccccccc', options: {} }),
    ),
    [],
  );
  assert.deepEqual(ids(findAdvisories(document, nginx('1.22.1', true, 1))), [], 'r1 has the backport');
  assert.deepEqual(ids(findAdvisories(document, nginx('1.22.1', true))), ['CVE-2023-44487 1.25.3'], 'r0 has not');
  const withdrawn = advisoryDocument([{ ...rapidReset, withdrawn: '2023-11-01T00:00:00Z' }], []);
  assert.deepEqual(ids(findAdvisories(withdrawn, nginx('1.22.1', true))), []);
});

test('checkAdvisory refuses what is not an OSV record Kiln reads, naming the field', () => {
  const base = {
    id: 'CVE-2023-1',
    modified: '2023-01-01T00:00:00Z',
    affected: [{ package: { name: 'x' }, versions: ['1.0'] }],
  };
  assert.doesNotThrow(() => checkAdvisory(base, 'ok'));
  for (const [change, message] of [
    [{ id: '../../etc' }, /id/],
    [{ modified: 'yesterday' }, /modified/],
    [{ affected: [] }, /affected is empty/],
    [{ affected: [{ package: { name: 'x' } }] }, /neither ranges nor versions/],
    [
      { affected: [{ package: { name: 'x' }, ranges: [{ type: 'SEMVER', events: [{ introduced: '0' }] }] }] },
      /ECOSYSTEM/,
    ],
    [
      { affected: [{ package: { name: 'x' }, ranges: [{ type: 'ECOSYSTEM', events: [{ fixed: '1.0' }] }] }] },
      /no "introduced"/,
    ],
    [{ affected: [{ package: { name: 'x' }, versions: ['not a version!'] }] }, /not a Kiln version/],
    [{ affected: Array.from({ length: 1001 }, () => ({ package: { name: 'x' }, versions: ['1'] })) }, /more than 1000/],
    [{ references: [{ type: 'WEB', url: 'javascript:alert(1)' }] }, /http\(s\) URL/],
  ] as const)
    assert.throws(
      () => checkAdvisory({ ...base, ...change }, 'bad'),
      (error: Error) => {
        assert.match(error.message, message);
        return (error as { code?: string }).code === 'E_ADVISORY_FORMAT';
      },
    );
});
