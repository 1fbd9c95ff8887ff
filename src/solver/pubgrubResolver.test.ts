import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import type { InstalledPackage } from '../db/types.js';
import type { IndexEntry } from '../repo/indexFormat.js';
import type { Sha256 } from '../util/hash.js';
import { parseRequest } from './parseRequest.js';
import { pubgrubResolver } from './pubgrubResolver.js';
import type { Candidate, HostTarget, ResolveInput } from './types.js';

/** The value as JSON carries it: tables without a prototype (how Kiln keeps user-keyed tables) compare as plain objects. */
const plain = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

const host: HostTarget = { arch: 'x86_64', libc: 'glibc', libcVersion: '2.36', cpuLevels: ['x86-64', 'x86-64-v2'] };
const target = { arch: 'x86_64', cpu: 'x86-64', libc: 'glibc', libcVersion: '2.17' };

function candidate(
  spec: string,
  depends: string[] = [],
  remote = 'main',
  priority = 0,
  extra: Partial<IndexEntry> = {},
): Candidate {
  const [name, version] = spec.split('@') as [string, string];
  const entry: IndexEntry = {
    name,
    category: 'x',
    version,
    revision: 0,
    variant: '000000000000',
    options: {},
    target,
    summary: '',
    homepage: '',
    license: 'MIT',
    depends: depends.map((dep) => parseRequest(dep)),
    provides: { sonames: [] },
    needs: { sonames: [] },
    installedSize: 1,
    path: `packages/x/${name}/${name}-${version}.kpkg`,
    size: 1,
    sha256: '0'.repeat(64) as Sha256,
    ...extra,
  };
  return { remote, priority, entry, url: `file:///r/${entry.path}` };
}

function installed(spec: string, depends: string[] = []): InstalledPackage {
  const c = candidate(spec, depends);
  return {
    name: c.entry.name,
    category: 'x',
    version: c.entry.version,
    revision: 0,
    variant: c.entry.variant,
    remote: 'main',
    reason: 'requested',
    installedAt: '',
    installedSize: 1,
    metadata: { ...c.entry } as unknown as InstalledPackage['metadata'],
  };
}

function resolve(input: Partial<ResolveInput>): string[] {
  const plan = pubgrubResolver.resolve({
    installed: [],
    available: [],
    host,
    install: [],
    upgrade: [],
    remove: [],
    cascade: false,
    ...input,
  });
  return plan.actions.map(
    (a) => `${a.kind} ${a.name}${a.kind === 'remove' ? '' : `@${a.candidate.entry.version}(${a.candidate.remote})`}`,
  );
}

test('newest version satisfying every range, dependencies first', () => {
  const available = [
    candidate('app@1.0', ['lib>=1 <3']),
    candidate('lib@1.0'),
    candidate('lib@2.0'),
    candidate('lib@3.0'),
  ];
  assert.deepEqual(resolve({ available, install: [{ name: 'app', range: '' }] }), [
    'install lib@2.0(main)',
    'install app@1.0(main)',
  ]);
});

test('a higher-priority remote wins over a newer version elsewhere', () => {
  const available = [candidate('lib@2.0', [], 'other', 0), candidate('lib@1.0', [], 'pinned', 10)];
  assert.deepEqual(resolve({ available, install: [{ name: 'lib', range: '' }] }), ['install lib@1.0(pinned)']);
});

test('variants the host cannot run are skipped, and the reason is given when none is left', () => {
  const v3 = candidate('lib@2.0', [], 'main', 0, { target: { ...target, cpu: 'x86-64-v3' } });
  assert.deepEqual(resolve({ available: [v3, candidate('lib@1.0')], install: [{ name: 'lib', range: '' }] }), [
    'install lib@1.0(main)',
  ]);
  assert.throws(
    () => resolve({ available: [v3], install: [{ name: 'lib', range: '' }] }),
    /left out: lib 2\.0 \(x86-64-v3\) from main is built for x86-64-v3, and this host runs x86-64, x86-64-v2/,
  );
});

test('installed packages that satisfy a request are kept; installed ranges constrain upgrades', () => {
  const available = [candidate('lib@1.0'), candidate('lib@2.0'), candidate('app@1.0', ['lib<2'])];
  assert.deepEqual(
    resolve({ available, installed: [installed('lib@1.0')], install: [{ name: 'lib', range: '' }] }),
    [],
  );
  assert.deepEqual(
    resolve({ available, installed: [installed('lib@1.0'), installed('app@1.0', ['lib<2'])], upgrade: 'all' }),
    [],
  );
  assert.deepEqual(resolve({ available, installed: [installed('lib@1.0')], upgrade: 'all' }), [
    'upgrade lib@2.0(main)',
  ]);
});

test('an impossible range is explained with who asks for what', () => {
  const available = [candidate('app@1.0', ['lib>=2']), candidate('lib@1.0')];
  assert.throws(
    () => resolve({ available, install: [{ name: 'app', range: '' }] }),
    /app 1\.0 depends on lib >=2 \(no version of lib satisfies >=2; lib has 1\.0 from main/,
  );
});

test('removal is refused while needed, cascades on request, consumers first', () => {
  const pkgs = [installed('lib@1.0'), installed('mid@1.0', ['lib']), installed('top@1.0', ['mid'])];
  assert.throws(() => resolve({ installed: pkgs, remove: ['lib'] }), /cannot remove lib: mid needs it/);
  assert.deepEqual(resolve({ installed: pkgs, remove: ['lib'], cascade: true }), [
    'remove top',
    'remove mid',
    'remove lib',
  ]);
});

test('a named upgrade replaces the library its new version needs, library first', () => {
  const available = [
    candidate('lib@1.0'),
    candidate('lib@2.0'),
    candidate('app@1.0', ['lib<2']),
    candidate('app@2.0', ['lib>=2']),
  ];
  const pkgs = [installed('app@1.0', ['lib<2']), installed('lib@1.0')];
  assert.deepEqual(resolve({ available, installed: pkgs, upgrade: ['app'] }), [
    'upgrade lib@2.0(main)',
    'upgrade app@2.0(main)',
  ]);
  assert.deepEqual(resolve({ available, installed: pkgs.slice().reverse(), upgrade: ['app'] }), [
    'upgrade lib@2.0(main)',
    'upgrade app@2.0(main)',
  ]);
});

test('options: a request picks the variant that has them; the prefix settings deny binaries', () => {
  const plain = candidate('web@1.0', [], 'main', 0, { options: { uwsgi: false }, variant: 'aaaaaaaaaaaa' });
  const uwsgi = candidate('web@1.0', ['libuwsgi'], 'main', 0, { options: { uwsgi: true }, variant: 'bbbbbbbbbbbb' });
  const available = [plain, uwsgi, candidate('libuwsgi@1.0')];
  assert.deepEqual(resolve({ available, install: [parseRequest('web[+uwsgi]')] }), [
    'install libuwsgi@1.0(main)',
    'install web@1.0(main)',
  ]);
  assert.deepEqual(resolve({ available, install: [parseRequest('web[-uwsgi]')] }), ['install web@1.0(main)']);
  assert.throws(
    () => resolve({ available, install: [parseRequest('web[+uwsgi]')], settings: { binaryDeny: ['libu*'] } }),
    /binaries of libuwsgi are denied \(binary deny list: libu\*\)/,
  );
});

test('requests: NAME, NAME followed by a range, NAME[OPTIONS]', () => {
  assert.deepEqual(parseRequest('zlib'), { name: 'zlib', range: '' });
  assert.deepEqual(parseRequest('openssl>=3 <4'), { name: 'openssl', range: '>=3 <4' });
  assert.deepEqual(plain(parseRequest('nginx[+uwsgi,-ssl] >=1.22')), {
    name: 'nginx',
    range: '>=1.22',
    options: { uwsgi: true, ssl: false },
  });
  assert.throws(() => parseRequest('>=1'), /cannot read package request/);
  assert.throws(() => parseRequest('nginx[+Bad]'), /"\+Bad" is not an option setting/);
});

test('a binary an advisory affects is passed over for an older one, and the plan says why', () => {
  const affected = { ...candidate('web@2.0'), advisories: [{ id: 'CVE-2030-0001', fixed: '2.1' }] };
  const plan = pubgrubResolver.resolve({
    installed: [],
    available: [affected, candidate('web@1.9')],
    host,
    install: [{ name: 'web', range: '' }],
    upgrade: [],
    remove: [],
    cascade: false,
  });
  assert.deepEqual(
    plan.actions.map((action) => [action.name, action.kind === 'remove' ? '' : action.candidate.entry.version]),
    [['web', '1.9']],
  );
  assert.match(plan.actions[0]!.why ?? '', /web 2\.0 passed over: affected by CVE-2030-0001/);
});
