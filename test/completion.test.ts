/**
 * Shell completion and man pages, from the same command table as --help:
 * `kiln completion bash|zsh|fish` run in the real shells (bash through its
 * completion function, fish through `complete -C`, zsh through _kiln with
 * _describe and _arguments standing in for its completion system, which
 * needs a terminal), and every man page read by groff without a warning.
 */
import * as assert from 'node:assert/strict';
import { chmod, mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { COMMANDS } from '../src/cli/registry.js';
import { writeManPages } from '../src/cli/writeManPages.js';
import { ok, packAll, publish } from './helpers/client.js';
import { KILN_BIN, kiln, run, tempDir } from './helpers/kiln.js';

/** A directory with `kiln` on it, as an installed Kiln would be, for the scripts' package-name lookups. */
async function kilnOnPath(dir: string): Promise<string> {
  const bin = join(dir, 'bin');
  await mkdir(bin, { recursive: true });
  await writeFile(
    join(bin, 'kiln'),
    `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(KILN_BIN)} "$@"\n`,
  );
  await chmod(join(bin, 'kiln'), 0o755);
  return `${bin}:${process.env['PATH'] ?? '/usr/bin:/bin'}`;
}

/** A prefix synced to a repository offering nginx and zlib, with zlib installed. */
async function syncedPrefix(dir: string): Promise<string> {
  const packages = await packAll(dir, [
    { name: 'zlib', version: '1.3', tree: { 'lib/libz.txt': 'z\n' } },
    { name: 'nginx', version: '1.24', tree: { 'bin/nginx.txt': 'n\n' } },
  ]);
  await publish(dir, packages);
  const prefix = join(dir, 'prefix');
  await ok(['--prefix', prefix, 'init'], { cwd: dir });
  await ok(['--prefix', prefix, 'remote', 'add', 'main', join(dir, 'repo/public'), '--key', 'keys/kiln.pub'], {
    cwd: dir,
  });
  await ok(['--prefix', prefix, 'sync'], { cwd: dir });
  await ok(['--prefix', prefix, 'install', 'zlib', '-y'], { cwd: dir });
  return prefix;
}

test('kiln completion refuses an unknown shell and prints a script each shell accepts', async (t) => {
  const dir = await tempDir(t);
  const bad = await kiln(['completion', 'tcsh']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /no completion for shell "tcsh"\nhint: give one of bash, zsh, fish/);
  for (const [shell, check] of [
    ['bash', ['bash', '-n']],
    ['zsh', ['zsh', '-n']],
    ['fish', ['fish', '-n']],
  ] as const) {
    const script = await kiln(['completion', shell]);
    assert.equal(script.code, 0, script.stderr);
    await writeFile(join(dir, shell), script.stdout);
    const syntax = await run(check[0], [check[1], join(dir, shell)]);
    assert.equal(syntax.code, 0, `${shell}: ${syntax.stderr}`);
  }
});

test('bash completes commands, options, their values and package names', async (t) => {
  const dir = await tempDir(t);
  const prefix = await syncedPrefix(dir);
  await writeFile(join(dir, 'kiln.bash'), (await kiln(['completion', 'bash'])).stdout);
  const cases: [string[], string][] = [
    [['kiln', 'ins'], 'install inspect'],
    [['kiln', 'repo', 'c'], 'commit'],
    [['kiln', 'remote', ''], 'add list remove key'],
    [['kiln', 'remote', 'key', ''], 'add remove'],
    [['kiln', 'remote', 'key', 'add', '--'], '--json --prefix --no-wait --help --password-file'],
    [['kiln', 'install', '--dr'], '--dry-run'],
    [['kiln', 'install', '--build', 'm'], 'missing'],
    [['kiln', 'build', '--cpu', 'x86-64-v'], 'x86-64-v2 x86-64-v3 x86-64-v4'],
    [['kiln', 'completion', ''], 'bash zsh fish'],
    [['kiln', '--prefix', prefix, 'install', ''], 'nginx zlib'],
    [['kiln', '--prefix', prefix, 'install', 'ng'], 'nginx'],
    [['kiln', '--prefix', prefix, 'remove', ''], 'zlib'],
    [
      ['kiln', 'list', '--prefix', prefix, '-'],
      '--installed --available --upgradable --orphans --quiet -q --verbose -v --json --prefix --no-wait --help -h --password-file',
    ],
  ];
  const script = [`source ${JSON.stringify(join(dir, 'kiln.bash'))}`];
  for (const [words] of cases) {
    script.push(
      `COMP_WORDS=(${words.map((word) => `'${word}'`).join(' ')}); COMP_CWORD=${words.length - 1}; COMPREPLY=(); _kiln; echo "\${COMPREPLY[*]}"`,
    );
  }
  const result = await run('bash', ['-c', script.join('\n')], { cwd: dir, env: { PATH: await kilnOnPath(dir) } });
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(
    result.stdout.trimEnd().split('\n'),
    cases.map(([, expected]) => expected),
  );
});

test('fish completes commands, options, their values and package names', async (t) => {
  const dir = await tempDir(t);
  const prefix = await syncedPrefix(dir);
  await writeFile(join(dir, 'kiln.fish'), (await kiln(['completion', 'fish'])).stdout);
  const cases: [string, string[]][] = [
    ['kiln ins', ['inspect', 'install']],
    ['kiln repo c', ['commit']],
    ['kiln install --build ', ['always', 'missing', 'never']],
    ['kiln build --cpu x86-64-v', ['x86-64-v2', 'x86-64-v3', 'x86-64-v4']],
    ['kiln completion ', ['bash', 'fish', 'zsh']],
    [`kiln --prefix ${prefix} install `, ['nginx', 'zlib']],
    [`kiln --prefix ${prefix} remove `, ['zlib']],
    ['kiln remote add --pr', ['--prefix', '--priority']],
    ['kiln remote ', ['add', 'key', 'list', 'remove']],
    ['kiln remote key ', ['add', 'remove']],
  ];
  const script = [
    `source ${JSON.stringify(join(dir, 'kiln.fish'))}`,
    ...cases.map(
      ([line]) => `complete -C ${JSON.stringify(line)} | string replace -r '\\t.*' '' | sort | string join ' '`,
    ),
  ];
  const result = await run('fish', ['-c', script.join('\n')], { cwd: dir, env: { PATH: await kilnOnPath(dir) } });
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(
    result.stdout.trimEnd().split('\n'),
    cases.map(([, expected]) => expected.join(' ')),
  );
});

test('zsh hands each command its own options and values, and the command words to _describe', async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, '_kiln'), (await kiln(['completion', 'zsh'])).stdout);
  const harness = [
    '_describe() { local arr=$4; print -r -- "describe ${(j:|:)${(P)arr}}"; }',
    '_arguments() { print -r -- "arguments ${(j:|:)@}"; }',
    'compdef() { :; }',
    `source ${JSON.stringify(join(dir, '_kiln'))}`,
    'comp() { words=("$@"); CURRENT=${#words}; PREFIX=${words[-1]}; _kiln; }',
    'comp kiln ins',
    'comp kiln repo c',
    'comp kiln --prefix /x install --b',
    'comp kiln remote add n',
    'comp kiln completion ""',
    'comp kiln remote key ""',
    'comp kiln remote key add --',
  ];
  const result = await run('zsh', ['-f', '-c', harness.join('\n')], { cwd: dir });
  assert.equal(result.code, 0, result.stderr);
  const [top, repo, install, remoteAdd, completion, remoteKey, remoteKeyAdd] = result.stdout.trimEnd().split('\n') as [
    string,
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  assert.match(top, /^describe .*\|install:install packages/);
  assert.ok(!top.includes('commit:'), 'only first words at the top');
  assert.match(repo, /^describe init:.*\|commit:publish the staged changes/);
  assert.match(
    install,
    /^arguments -s\|--dry-run\[show the plan and change nothing\]\|.*--build=\[[^\]]*\]:WHEN:\(never missing always\)\|.*\*:package:_kiln_packages available$/,
  );
  assert.match(remoteAdd, /\*--key=\[[^\]]*\]:PUBKEY:_files\|/);
  assert.ok(!remoteAdd.includes('--dry-run'), 'remote add has no --dry-run');
  assert.match(completion, /1:argument:\(bash zsh fish\)$/);
  // A group inside a group: kiln remote key add|remove.
  assert.match(remoteKey, /^describe add:trust another key.*\|remove:stop trusting a key/);
  assert.match(remoteKeyAdd, /^arguments -s\|.*--json/);
});

test('man pages: kiln(1), one per command with every option, kiln.toml(5); groff reads each without a warning', async (t) => {
  const dir = await tempDir(t);
  const written = await writeManPages(dir);
  const pages = [...(await readdir(join(dir, 'man1'))), ...(await readdir(join(dir, 'man5')))].sort();
  assert.deepEqual(
    pages,
    ['kiln.1', 'kiln.toml.5', ...COMMANDS.map((entry) => `kiln-${entry.words.join('-')}.1`)].sort(),
  );
  for (const path of written) {
    const result = await run('groff', ['-ww', '-man', '-Tutf8', path]);
    assert.equal(result.stderr, '', path);
    assert.equal(result.code, 0, path);
    if (path.endsWith('kiln-install.1')) {
      const text = result.stdout.replace(/.\x08/g, '');
      for (const option of ['--dry-run', '--yes', '--build', '--reinstall', '--prefix', '--json', '--no-wait'])
        assert.ok(text.includes(option), option);
      assert.match(text, /EXAMPLES[\s\S]*kiln install nginx/);
    }
    if (path.endsWith('kiln.toml.5')) assert.match(result.stdout.replace(/.\x08/g, ''), /config\.toml/);
  }
});
