import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import type { InstalledPackage } from '../db/index.js';
import type { Needs } from '../format/metadata.js';
import type { Candidate, PlanAction } from '../solver/types.js';
import type { PackageLinks } from './missingLibraries.js';
import { findMissingLibraries, missingLibrariesError } from './missingLibraries.js';

const target = { arch: 'x86_64', cpu: 'x86-64', libc: 'glibc', libcVersion: '2.17' };
const HOST = new Set(['libc.so.6', 'libssl.so.3']);

function links(name: string, version: string, provides: string[], needs: Needs): PackageLinks {
  return { name, version, revision: 0, target, provides: { sonames: provides }, needs };
}

/** A candidate whose index entry is `pkg` (the check reads only the fields of PackageLinks). */
function candidate(pkg: PackageLinks, remote = 'main'): Candidate {
  return { remote, priority: 0, url: `file:///repo/${pkg.name}.kpkg`, entry: pkg as unknown as Candidate['entry'] };
}

function installed(pkg: PackageLinks): InstalledPackage {
  return {
    name: pkg.name,
    category: 'app-misc',
    version: pkg.version,
    revision: 0,
    variant: 'v',
    remote: 'main',
    reason: 'requested',
    installedAt: '',
    installedSize: 0,
    metadata: pkg as unknown as InstalledPackage['metadata'],
  };
}

function install(pkg: PackageLinks): PlanAction {
  return { kind: 'install', name: pkg.name, candidate: candidate(pkg), reason: 'requested' };
}

function check(
  actions: PlanAction[],
  have: PackageLinks[] = [],
  host: ReadonlySet<string> = HOST,
): ReturnType<typeof findMissingLibraries> {
  const placed = new Map(
    actions.flatMap((action) =>
      action.kind === 'remove' ? [] : [[action.name, action.candidate.entry as unknown as PackageLinks] as const],
    ),
  );
  return findMissingLibraries({
    actions,
    installed: have.map(installed),
    linksOf: (action) => placed.get(action.name)!,
    hostHas: (soname) => host.has(soname),
  });
}

const libfoo = links('libfoo', '1.0', ['libfoo.so.1'], { sonames: ['libc.so.6'], system: ['libc.so.6'] });
const app = links('app', '1.0', [], {
  sonames: ['libc.so.6', 'libfoo.so.1'],
  system: ['libc.so.6'],
  files: { 'libc.so.6': ['bin/app'], 'libfoo.so.1': ['bin/app', 'bin/app2'] },
});

test('a library provided by a package of the plan or of the prefix is found; a system library from the host', () => {
  assert.deepEqual(check([install(libfoo), install(app)]), []);
  assert.deepEqual(check([install(app)], [libfoo]), []);
});

test('a library that nothing provides is missing, naming the files; a host library only when the package allows it', () => {
  assert.deepEqual(check([install(app)]), [
    {
      name: 'app',
      package: 'app-1.0',
      installed: false,
      soname: 'libfoo.so.1',
      files: ['bin/app', 'bin/app2'],
      host: false,
      takenAway: [],
    },
  ]);
  // The host has libssl.so.3, but this package does not say it may take it from there.
  const tls = links('tls', '2.0', [], { sonames: ['libssl.so.3'], system: [] });
  assert.deepEqual(
    check([install(tls)]).map((m) => [m.soname, m.host, m.files]),
    [['libssl.so.3', false, undefined]],
  );
  // Allowed from the host, but the host has none.
  const crypt = links('crypt', '1.0', [], { sonames: ['libcrypt.so.2'], system: ['libcrypt.so.2'] });
  assert.deepEqual(
    check([install(crypt)]).map((m) => [m.soname, m.host]),
    [['libcrypt.so.2', true]],
  );
});

test('a package of an older Kiln (no needs.system) may take any library from the host', () => {
  const old = links('old', '1.0', [], { sonames: ['libc.so.6', 'libssl.so.3', 'libgone.so.1'] });
  assert.deepEqual(
    check([install(old)]).map((m) => [m.soname, m.host]),
    [['libgone.so.1', true]],
  );
});

test('removing or replacing the only provider of a library a staying package needs is caught; other needs of staying packages are not checked again', () => {
  const removeFoo: PlanAction = { kind: 'remove', name: 'libfoo', installed: installed(libfoo) };
  assert.deepEqual(check([removeFoo], [libfoo, app]), [
    {
      name: 'app',
      package: 'app-1.0',
      installed: true,
      soname: 'libfoo.so.1',
      files: ['bin/app', 'bin/app2'],
      host: false,
      takenAway: ['libfoo-1.0'],
    },
  ]);
  // An upgrade that bumps the soname breaks app; one that keeps it does not.
  const foo2 = links('libfoo', '2.0', ['libfoo.so.2'], { sonames: [] });
  const upgrade = (to: PackageLinks): PlanAction => ({
    kind: 'upgrade',
    name: 'libfoo',
    candidate: candidate(to),
    installed: installed(libfoo),
    reason: 'requested',
  });
  assert.deepEqual(
    check([upgrade(foo2)], [libfoo, app]).map((m) => [m.package, m.takenAway]),
    [['app-1.0', ['libfoo-1.0']]],
  );
  assert.deepEqual(
    check([upgrade({ ...foo2, provides: { sonames: ['libfoo.so.1', 'libfoo.so.2'] } })], [libfoo, app]),
    [],
  );
  // Removing both, or another provider staying, is fine; a staying package's unrelated missing library is not this change's business.
  assert.deepEqual(check([removeFoo, { kind: 'remove', name: 'app', installed: installed(app) }], [libfoo, app]), []);
  assert.deepEqual(check([removeFoo], [libfoo, app, links('foo-compat', '1.0', ['libfoo.so.1'], { sonames: [] })]), []);
  assert.deepEqual(
    check([removeFoo], [libfoo, links('broken', '1.0', [], { sonames: ['libnothing.so.1'], system: [] })]),
    [],
  );
});

test('the error names the files, the library, what provides it, and what to do', () => {
  const missing = check([install(app), install(links('appbar', '1.0', [], { sonames: ['libbar.so.1'], system: [] }))]);
  const error = missingLibrariesError('/p', missing, [
    candidate(libfoo),
    candidate({ ...libfoo, version: '0.9' }),
    candidate(app),
  ]);
  assert.equal(error.code, 'E_MISSING_LIBRARY');
  assert.equal(
    error.message,
    [
      'cannot change prefix /p: 2 libraries that packages need would not be found, so programs would not start; nothing was written:',
      '  bin/app, bin/app2 of app-1.0 needs libfoo.so.1: no package of the prefix provides it; libfoo 1.0 (remote main) provides it',
      '  appbar-1.0 needs libbar.so.1: no package of the prefix provides it; no package of the synced remotes provides it',
    ].join('\n'),
  );
  assert.match(error.hint ?? '', /"kiln install app libfoo"/);
  assert.match(error.hint ?? '', /tell its packager/);
  assert.match(error.hint ?? '', /nothing was changed$/);
});
