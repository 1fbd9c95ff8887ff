/**
 * Names from users, packages and indexes that are hostile to the code that
 * keeps them: JavaScript's own property names as remote, package and option
 * names; empty prefixes and paths; remote names whose files would collide;
 * control characters in what Kiln prints.
 */
import * as assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { fails, ok, packAll, publish, stripIndexV2 } from './helpers/client.js';
import { kiln, tempDir, parseJson } from './helpers/kiln.js';

const SUSPECTS = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf'];

test("remotes named like JavaScript's own properties are added, kept, listed, synced and removed like any other", async (t) => {
  const dir = await tempDir(t);
  await packAll(dir, [{ name: 'hello', version: '1.0', tree: { 'share/hello.txt': 'hi\n' } }]).then((files) =>
    publish(dir, files),
  );
  const prefix = join(dir, 'prefix');
  await ok(['--prefix', prefix, 'init'], { cwd: dir });
  for (const name of SUSPECTS) {
    assert.match(
      await ok(['--prefix', prefix, 'remote', 'add', name, join(dir, 'repo/public'), '--key', 'keys/kiln.pub'], {
        cwd: dir,
      }),
      new RegExp(`added remote ${name}`),
    );
  }
  const listed = parseJson(await ok(['--prefix', prefix, 'remote', 'list', '--json'], { cwd: dir })) as {
    name: string;
  }[];
  assert.deepEqual(listed.map((remote) => remote.name).sort(), [...SUSPECTS].sort());
  const config = await readFile(join(prefix, 'etc/kiln/config.toml'), 'utf8');
  for (const name of SUSPECTS) assert.ok(config.includes(`[remotes.${name}]`), `${name} is in the file:\n${config}`);
  const synced = await ok(['--prefix', prefix, 'sync'], { cwd: dir });
  for (const name of SUSPECTS) assert.match(synced, new RegExp(`^${name}\\s+updated`, 'm'));
  await fails(
    ['--prefix', prefix, 'remote', 'add', '__proto__', join(dir, 'repo/public'), '--key', 'keys/kiln.pub'],
    'E_REMOTE_EXISTS',
    /already has it/,
    { cwd: dir },
  );
  await ok(['--prefix', prefix, 'remote', 'remove', '__proto__'], { cwd: dir });
  const after = parseJson(await ok(['--prefix', prefix, 'remote', 'list', '--json'], { cwd: dir })) as {
    name: string;
  }[];
  assert.deepEqual(after.map((remote) => remote.name).sort(), SUSPECTS.filter((name) => name !== '__proto__').sort());
});

test("packages and options named like JavaScript's own properties: a request for an option a package lacks is refused, not matched by a prototype method", async (t) => {
  const dir = await tempDir(t);
  const files = await packAll(dir, [
    { name: 'constructor', version: '1.0', tree: { 'share/c.txt': 'c\n' } },
    { name: '__proto__', version: '1.0', tree: { 'share/p.txt': 'p\n' } },
    { name: 'toString', version: '1.0', tree: { 'share/t.txt': 't\n' }, extra: { options: { constructor: true } } },
  ]);
  await publish(dir, files);
  const prefix = join(dir, 'prefix');
  await ok(['--prefix', prefix, 'init'], { cwd: dir });
  await ok(['--prefix', prefix, 'remote', 'add', 'main', join(dir, 'repo/public'), '--key', 'keys/kiln.pub'], {
    cwd: dir,
  });
  await ok(['--prefix', prefix, 'sync'], { cwd: dir });
  await ok(['--prefix', prefix, 'install', 'constructor', '__proto__', 'toString[+constructor]', '-y'], { cwd: dir });
  const installed = parseJson(await ok(['--prefix', prefix, 'list', '--json'], { cwd: dir })) as { name: string }[];
  assert.deepEqual(installed.map((pkg) => pkg.name).sort(), ['__proto__', 'constructor', 'toString']);
  assert.equal(await readFile(join(prefix, 'share/p.txt'), 'utf8'), 'p\n');
  // constructor is an option of toString only: Object.prototype's constructor does not make it one of the others.
  for (const name of ['constructor', '__proto__']) {
    await fails(
      ['--prefix', prefix, 'install', `${name}[+constructor]`, '--reinstall', '-y'],
      'E_NO_CANDIDATE',
      /no option constructor|built with no option constructor/,
      { cwd: dir },
    );
  }
  const listed = parseJson(await ok(['--prefix', prefix, 'list', '--json'], { cwd: dir })) as {
    name: string;
    variant: string;
  }[];
  assert.ok(listed.some((pkg) => pkg.name === 'toString'));
  await ok(['--prefix', prefix, 'remove', '__proto__', 'constructor', '-y'], { cwd: dir });
  assert.deepEqual((await ok(['--prefix', prefix, 'list', '-q'], { cwd: dir })).trim(), 'toString');
});

test('an empty prefix or path is refused, on the command line and as an option value; an empty KILN_PREFIX is ignored', async (t) => {
  const dir = await tempDir(t);
  const cases: [string[], RegExp][] = [
    [['--prefix', '', 'init'], /cannot run "kiln init": --prefix is empty/],
    [['--prefix=', 'init'], /--prefix is empty/],
    [['init', '--prefix', ''], /--prefix is empty/],
    [['list', '--prefix='], /--prefix is empty/],
    [['repo', 'init', '', '--key', 'k'], /cannot run "kiln repo init": DIR is empty/],
    [['repo', 'status', ''], /DIR is empty/],
    [['pack', 'stage', '--meta', '', '--out', 'o'], /--meta is empty/],
    [['pack', 'stage', '--meta', 'm.json', '--out', ''], /--out is empty/],
    [['key', 'generate', '--out', ''], /--out is empty/],
    [['owns', ''], /PATH is empty/],
    [['files', ''], /NAME is empty/],
    [['build', 'x/y', '--repo', ''], /--repo is empty/],
    [['verify', 'file', '--trust', ''], /--trust is empty/],
  ];
  for (const [args, pattern] of cases) {
    const result = await kiln(args, { cwd: dir });
    assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
    assert.match(result.stderr, /^kiln: error\[E_USAGE\]/);
    assert.match(result.stderr, pattern, args.join(' '));
  }
  assert.deepEqual(await readdir(dir), [], 'nothing was made in the current directory');
  const prefix = join(dir, 'p');
  await ok(['--prefix', prefix, 'init'], { cwd: dir });
  const ignored = await kiln(['list', '--prefix', prefix], { cwd: dir, env: { KILN_PREFIX: '' } });
  assert.equal(ignored.code, 0, ignored.stderr);
});

test('control characters: refused in package paths and link targets (C0, DEL, C1, bidirectional controls), and shown escaped wherever Kiln prints package data', async (t) => {
  const dir = await tempDir(t);
  const { craftPackage, dirEntry, fileEntry, linkEntry } = await import('./helpers/craft.js');
  const { generateKeyPair, formatPublicKey, publicKeyOf } = await import('../src/sign/index.js');
  const { writeFile } = await import('node:fs/promises');
  const key = generateKeyPair();
  await writeFile(join(dir, 'trusted.pub'), formatPublicKey(publicKeyOf(key)));
  const hostile: [string, Parameters<typeof craftPackage>[0]['entries']][] = [
    ['CSI', [dirEntry('bin'), fileEntry('bin/\u009b2Jx', 'x\n')]],
    ['NEL', [dirEntry('bin'), fileEntry('bin/a\u0085b', 'x\n')]],
    ['DEL', [dirEntry('bin'), fileEntry('bin/a\u007f', 'x\n')]],
    ['RLO', [dirEntry('bin'), fileEntry('bin/evil\u202egnp.exe', 'x\n')]],
    ['link target', [dirEntry('bin'), fileEntry('bin/real', 'x\n'), linkEntry('bin/link', 'real\u009b')]],
  ];
  for (const [label, entries] of hostile) {
    await writeFile(join(dir, 'hostile.kpkg'), craftPackage({ entries, key }));
    const result = await kiln(['inspect', 'hostile.kpkg', '--trust', 'trusted.pub'], { cwd: dir });
    assert.equal(result.code, 1, `${label}: ${result.stderr}`);
    assert.match(result.stderr, /error\[E_PACKAGE_(PATH|LINK)\]/, label);
    assert.doesNotMatch(result.stderr, /[\u007f-\u009f\u202e]/, `${label}: the message shows the name escaped`);
  }
  // A summary is free text: it is kept, and shown escaped.
  const files = await packAll(dir, [
    {
      name: 'shady',
      version: '1.0',
      tree: { 'share/s.txt': 's\n' },
      extra: { summary: 'looks \u009b31mred\u009b0m and \u001b]0;title\u0007 \u202etxt.exe' },
    },
  ]);
  await publish(dir, files);
  const prefix = join(dir, 'prefix');
  await ok(['--prefix', prefix, 'init'], { cwd: dir });
  await ok(['--prefix', prefix, 'remote', 'add', 'main', join(dir, 'repo/public'), '--key', 'keys/kiln.pub'], {
    cwd: dir,
  });
  await ok(['--prefix', prefix, 'sync'], { cwd: dir });
  for (const args of [
    ['search', 'shady'],
    ['info', 'shady'],
    ['list', '--available'],
    ['search', 'shady', '--json'],
  ]) {
    const out = await ok(['--prefix', prefix, ...args], { cwd: dir });
    assert.doesNotMatch(
      out,
      /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202e]/,
      `${args.join(' ')} prints no control character raw`,
    );
    if (args[0] !== 'info') assert.match(out, /looks \\(x9b|u009b)31mred/, args.join(' '));
  }
  const json = parseJson(await ok(['--prefix', prefix, 'search', 'shady', '--json'], { cwd: dir })) as {
    summary: string;
  }[];
  assert.equal(
    json[0]!.summary,
    'looks \u009b31mred\u009b0m and \u001b]0;title\u0007 \u202etxt.exe',
    'JSON carries the data unchanged',
  );
});

test('remotes whose names would have shared a file (main, main.names) keep their own indexes; a prefix of the flat layout is moved to a directory per remote', async (t) => {
  const dir = await tempDir(t);
  const { mkdir, rename, writeFile, readdir: list } = await import('node:fs/promises');
  // Two repositories, each with its own package.
  for (const [repo, name] of [
    ['one', 'alpha'],
    ['two', 'beta'],
  ] as const) {
    const sub = join(dir, repo);
    await mkdir(sub);
    await publish(sub, await packAll(sub, [{ name, version: '1.0', tree: { [`share/${name}.txt`]: `${name}\n` } }]));
    // The flat layout below is of a Kiln before index format v2: these repositories serve v1.
    await stripIndexV2(join(sub, 'repo/public'));
  }
  const prefix = join(dir, 'prefix');
  await ok(['--prefix', prefix, 'init'], { cwd: dir });
  await ok(
    ['--prefix', prefix, 'remote', 'add', 'main.names', join(dir, 'two/repo/public'), '--key', 'two/keys/kiln.pub'],
    { cwd: dir },
  );
  await ok(['--prefix', prefix, 'remote', 'add', 'main', join(dir, 'one/repo/public'), '--key', 'one/keys/kiln.pub'], {
    cwd: dir,
  });
  await fails(
    ['--prefix', prefix, 'remote', 'add', 'MAIN', join(dir, 'one/repo/public'), '--key', 'one/keys/kiln.pub'],
    'E_REMOTE_EXISTS',
    /already has it/,
    { cwd: dir },
  );
  await fails(
    ['--prefix', prefix, 'remote', 'add', 'x'.repeat(129), join(dir, 'one/repo/public'), '--key', 'one/keys/kiln.pub'],
    'E_USAGE',
    /not a valid name \(up to 128/,
    { cwd: dir },
  );
  await ok(['--prefix', prefix, 'sync', 'main.names'], { cwd: dir });
  await ok(['--prefix', prefix, 'sync', 'main'], { cwd: dir });
  const available = async (): Promise<string> =>
    (await ok(['--prefix', prefix, 'list', '--available', '-q'], { cwd: dir })).trim();
  assert.equal(await available(), 'alpha\nbeta');
  assert.match(await ok(['--prefix', prefix, 'search', 'beta'], { cwd: dir }), /^beta\s+1\.0\s+\(main\.names\)/m);
  await ok(['--prefix', prefix, 'install', 'alpha', 'beta', '-y'], { cwd: dir });
  const indexes = join(prefix, 'var/lib/kiln/indexes');
  assert.deepEqual((await list(indexes)).sort(), ['main', 'main.names']);

  // The flat layout of an earlier Kiln: NAME.json, NAME.json.minisig, NAME.names.json side by side.
  for (const remote of ['main', 'main.names']) {
    await rename(join(indexes, remote, 'index.json'), join(indexes, `${remote}.json`));
    await rename(join(indexes, remote, 'index.json.minisig'), join(indexes, `${remote}.json.minisig`));
    await rename(join(indexes, remote, 'index.names.json'), join(indexes, `${remote}.names.json`));
    await (await import('node:fs/promises')).rmdir(join(indexes, remote));
  }
  // Where the two collided, the search list of main overwrote the index of main.names.
  await writeFile(join(indexes, 'main.names.json'), await readFile(join(indexes, 'main.names.names.json')));
  await rename(join(indexes, 'main.names.names.json'), join(indexes, 'main.names.json.bak'));
  await rename(join(indexes, 'main.names.json.bak'), join(indexes, 'main.names.names.json'));
  await writeFile(join(indexes, 'main.names.json'), '{"format":"kiln-search-list","index":"0","text":""}\n');
  // Queries work at once; the first open moves the files, drops the clobbered one, and a sync fetches it again.
  assert.equal(await available(), 'alpha');
  assert.deepEqual((await list(indexes)).sort(), ['main']);
  assert.deepEqual((await list(join(indexes, 'main'))).sort(), ['index.json', 'index.json.minisig']);
  await ok(['--prefix', prefix, 'sync'], { cwd: dir });
  assert.equal(await available(), 'alpha\nbeta');
  assert.deepEqual((await list(indexes)).sort(), ['main', 'main.names']);
  assert.match(await ok(['--prefix', prefix, 'verify'], { cwd: dir }), /^ok:/m);
});
