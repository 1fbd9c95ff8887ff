/**
 * Installing through directory links, as on a merged-/usr system (bin ->
 * usr/bin, lib -> usr/lib, var/run -> ../run): packages land where the links
 * lead, are recorded under their own paths, conflict with what is already
 * there under the other name, verify clean, upgrade and remove without
 * touching the links or the directories they lead to, and a kill at any step
 * leaves the prefix before or after. A link that leads out of the prefix is
 * never followed. (test/real-root.test.ts does the same in a real Debian root.)
 */
import * as assert from 'node:assert/strict';
import { cp, lstat, mkdir, readFile, readlink, readdir, rm, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import { fails, ok, packAll, publish } from './helpers/client.js';
import type { PackageSpec } from './helpers/client.js';
import { kiln, tempDir, parseJson } from './helpers/kiln.js';

const LINKS: [string, string][] = [
  ['bin', 'usr/bin'],
  ['sbin', 'usr/sbin'],
  ['lib', 'usr/lib'],
  ['var/run', '../run'],
];

function tool(version: string): PackageSpec {
  return {
    name: 'tool',
    version,
    tree: {
      'bin/tool': { content: `#!/bin/sh\necho tool ${version}\n`, mode: 0o755 },
      'sbin/toold': { content: `#!/bin/sh\necho daemon ${version}\n`, mode: 0o755 },
      [`lib/libtool.so.${version[0]}`]: `library ${version}\n`,
      'lib/libtool.so': { symlink: `libtool.so.${version[0]}` },
      'etc/tool.conf': `conf ${version}\n`,
    },
    extra: { configFiles: ['etc/tool.conf'], directories: [{ path: 'var/run/tool', mode: '0755' }] },
  };
}

/** A prefix laid out like a merged-/usr root: the links, and the directories they lead to with a file of "the distribution" in each. */
async function mergedPrefix(t: TestContext): Promise<{ dir: string; prefix: string; env: Record<string, string> }> {
  const dir = await tempDir(t);
  await publish(
    dir,
    await packAll(dir, [
      tool('1.0'),
      tool('2.0'),
      { name: 'rival', version: '1.0', tree: { 'usr/bin/tool': 'not the same tool\n' } },
    ]),
  );
  const prefix = join(dir, 'root');
  const env = { KILN_PREFIX: prefix };
  await ok(['init'], { cwd: dir, env });
  for (const [link, target] of LINKS) {
    await mkdir(join(prefix, link.includes('/') ? 'run' : target), { recursive: true });
    await mkdir(join(prefix, link, '..'), { recursive: true });
    await symlink(target, join(prefix, link));
  }
  for (const distro of ['usr/bin/sh-of-the-distribution', 'usr/lib/libc-of-the-distribution.so.6'])
    await cp('/bin/true', join(prefix, distro));
  await ok(['remote', 'add', 'main', `file://${join(dir, 'repo', 'public')}`, '--key', 'keys/kiln.pub'], {
    cwd: dir,
    env,
  });
  await ok(['sync'], { cwd: dir, env });
  return { dir, prefix, env };
}

/** The links are links still, leading where they did, and the distribution's files are untouched. */
async function assertLayoutKept(prefix: string): Promise<void> {
  for (const [link, target] of LINKS)
    assert.equal(await readlink(join(prefix, link)), target, `${link} is still a link to ${target}`);
  assert.ok((await lstat(join(prefix, 'usr/bin/sh-of-the-distribution'))).isFile());
  assert.ok((await lstat(join(prefix, 'usr/lib/libc-of-the-distribution.so.6'))).isFile());
}

/** verify: nothing wrong with any package; what is unowned is only the layout itself. */
async function assertVerifies(dir: string, env: Record<string, string>): Promise<void> {
  const result = await kiln(['verify', '--json'], { cwd: dir, env });
  const report = parseJson(result.stdout) as { problems: { path: string; problem: string }[]; database: string[] };
  assert.deepEqual(
    report.problems.filter((p) => p.problem !== 'unowned'),
    [],
    result.stdout,
  );
  assert.deepEqual(report.database, []);
  for (const p of report.problems)
    assert.ok(
      ['bin', 'sbin', 'lib', 'usr', 'run', 'var/run'].includes(p.path),
      `only the layout is unowned: ${p.path}`,
    );
}

test('merged /usr: install through directory links, owns by either name, conflicts under the other name, upgrade, remove', async (t) => {
  const { dir, prefix, env } = await mergedPrefix(t);
  await ok(['install', 'tool=1.0', '-y'], { cwd: dir, env });
  assert.equal(
    await readFile(join(prefix, 'usr/bin/tool'), 'utf8'),
    '#!/bin/sh\necho tool 1.0\n',
    'bin/tool landed in usr/bin',
  );
  assert.equal(await readlink(join(prefix, 'usr/lib/libtool.so')), 'libtool.so.1');
  assert.ok((await lstat(join(prefix, 'run/tool'))).isDirectory(), 'var/run/tool was made where var/run leads');
  await assertLayoutKept(prefix);
  await assertVerifies(dir, env);
  const files = parseJson(await ok(['files', 'tool', '--json'], { cwd: dir, env })) as { path: string }[];
  assert.ok(
    files.some((file) => file.path === 'bin/tool'),
    "recorded under the package's own path",
  );
  for (const path of [
    'bin/tool',
    'usr/bin/tool',
    join(prefix, 'usr/bin/tool'),
    join(prefix, 'bin/tool'),
    'usr/sbin/toold',
  ]) {
    assert.match(await ok(['owns', path], { cwd: dir, env }), /owned by tool 1\.0/, `owns ${path}`);
  }
  // The same file under its other name is a conflict, naming both.
  await fails(
    ['install', 'rival', '-y'],
    'E_FILE_CONFLICT',
    /usr\/bin\/tool of rival-1\.0 is already owned by tool-1\.0 \(installed\) \(as bin\/tool\)/,
    { cwd: dir, env },
  );

  await ok(['upgrade', '-y'], { cwd: dir, env });
  assert.equal(await readFile(join(prefix, 'usr/bin/tool'), 'utf8'), '#!/bin/sh\necho tool 2.0\n');
  assert.deepEqual(
    (await readdir(join(prefix, 'usr/lib'))).sort(),
    ['libc-of-the-distribution.so.6', 'libtool.so', 'libtool.so.2'],
    'the old library went, through the link',
  );
  await assertLayoutKept(prefix);
  await assertVerifies(dir, env);

  await ok(['remove', 'tool', '-y'], { cwd: dir, env });
  await assertLayoutKept(prefix);
  assert.deepEqual((await readdir(join(prefix, 'usr/bin'))).sort(), ['sh-of-the-distribution']);
  assert.deepEqual(await readdir(join(prefix, 'run')), [], 'var/run/tool went; run, where the link leads, stays');
  await assertVerifies(dir, env);
});

test('merged /usr: a link that leads out of the prefix is never followed; nothing is written', async (t) => {
  const { dir, prefix, env } = await mergedPrefix(t);
  const outside = join(dir, 'outside');
  await mkdir(outside);
  await rm(join(prefix, 'sbin'));
  await symlink(outside, join(prefix, 'sbin'));
  await fails(
    ['install', 'tool=1.0', '-y'],
    'E_FILE_CONFLICT',
    /sbin exists on disk as a symbolic link that leads out of the prefix \(to .*outside\)/,
    { cwd: dir, env },
  );
  assert.deepEqual(await readdir(outside), [], 'nothing was written where the link leads');
  assert.equal(
    await lstat(join(prefix, 'usr/bin/tool')).catch(() => undefined),
    undefined,
    'nothing of the package was written',
  );
});

test('merged /usr: kill -9 at every step of an install and an upgrade through the links; the next command repairs or rolls back', async (t) => {
  const { dir, prefix: template } = await mergedPrefix(t);
  const old = join(dir, 'template-old');
  await cp(template, old, { recursive: true, verbatimSymlinks: true });
  await ok(['install', 'tool=1.0', '-y'], { cwd: dir, env: { KILN_PREFIX: old } });
  const scenarios = [
    { name: 'install', from: template, args: ['install', 'tool=1.0', '-y'], before: '', after: 'tool-1.0' },
    { name: 'upgrade', from: old, args: ['upgrade', '-y'], before: 'tool-1.0', after: 'tool-2.0' },
  ];
  let trials = 0;
  for (const scenario of scenarios) {
    for (let step = 1; ; step++) {
      assert.ok(step < 200, 'the scenario ends');
      const prefix = join(dir, `trial-${scenario.name}-${step}`);
      await cp(scenario.from, prefix, { recursive: true, verbatimSymlinks: true });
      const env = { KILN_PREFIX: prefix };
      const result = await kiln(scenario.args, { cwd: dir, env: { ...env, KILN_TEST_KILL_AT_STEP: String(step) } });
      const finished = result.code === 0;
      if (!finished)
        assert.equal(result.code, null, `${scenario.name} step ${step}: killed, or finished\n${result.stderr}`);
      await assertVerifies(dir, env);
      await assertLayoutKept(prefix);
      const list = (parseJson(await ok(['list', '--json'], { cwd: dir, env })) as { name: string; version: string }[])
        .map((p) => `${p.name}-${p.version}`)
        .join(' ');
      assert.ok(
        finished ? list === scenario.after : [scenario.before, scenario.after].includes(list),
        `${scenario.name} killed at step ${step}: ${list}`,
      );
      if (finished) break;
      trials++;
    }
  }
  assert.ok(trials >= 20, `kill trials: ${trials}`);
});
