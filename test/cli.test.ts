/** The command line itself: help, version, usage errors, exit codes, --json. */
import * as assert from 'node:assert/strict';
import { mkdir, readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { COMMANDS } from '../src/cli/registry.js';
import { kiln, tempDir, parseJson } from './helpers/kiln.js';

test('kiln --version prints the package version', async () => {
  const manifest = parseJson(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  const result = await kiln(['--version']);
  assert.equal(result.code, 0);
  assert.equal(result.stdout, `kiln ${manifest.version}\n`);
});

test('kiln help lists every command', async () => {
  const help = await kiln(['help']);
  assert.equal(help.code, 0);
  for (const entry of COMMANDS) assert.ok(help.stdout.includes(`kiln ${entry.words.join(' ')}`), entry.words.join(' '));
});

test('every command has --help, listing each option it takes, the global ones, and an example; every group has help', async () => {
  for (const entry of COMMANDS) {
    const command = await entry.load();
    const help = await kiln([...entry.words, '--help']);
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, /Usage:\n {2}kiln /);
    for (const name of Object.keys({ ...command.options, prefix: 0, json: 0, 'no-wait': 0, help: 0 })) {
      assert.match(
        help.stdout,
        new RegExp(`^ {2}(-\\w, )?--${name}\\b.* {2}\\S`, 'm'),
        `kiln ${entry.words.join(' ')} --help lists --${name}`,
      );
    }
    assert.match(help.stdout, /Examples?: kiln /, `kiln ${entry.words.join(' ')} --help has an example`);
    assert.equal((await kiln(['help', ...entry.words])).stdout, help.stdout);
  }
  for (const group of ['remote', 'repo', 'key', 'debug']) {
    for (const args of [
      [group, '--help'],
      ['help', group],
      ['--help', group],
    ]) {
      const result = await kiln(args);
      assert.equal(result.code, 0, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stdout, new RegExp(`^Usage: kiln ${group} COMMAND`, 'm'));
      for (const entry of COMMANDS.filter((candidate) => candidate.words[0] === group))
        assert.ok(
          result.stdout.includes(`kiln ${entry.words.join(' ')}`),
          `${args.join(' ')}: ${entry.words.join(' ')}`,
        );
    }
  }
});

test('usage errors exit 2 and say what is wrong', async (t) => {
  const dir = await tempDir(t);
  const cases: [string[], RegExp][] = [
    [['frobnicate'], /cannot run "kiln frobnicate": no such command/],
    [['repo', 'frob'], /cannot run "kiln repo frob": no such command\nhint: "kiln repo --help" lists its commands/],
    [['repo', 'comit', 'repo'], /no such command\nhint: did you mean "kiln repo commit"\?/],
    [
      ['repo'],
      /cannot run "kiln repo": it needs a command \(init, add, remove, status, commit, verify, log, prune, revert, push, mirrors, advisory, audit, key\)/,
    ],
    [['instal', 'nginx'], /cannot run "kiln instal": no such command\nhint: did you mean "kiln install"\?/],
    [['uninstall', 'nginx'], /hint: did you mean "kiln remove"\?/],
    [['update'], /hint: did you mean "kiln sync" or "kiln upgrade"\?/],
    [['serach', 'x'], /hint: did you mean "kiln search"\?/],
    [
      ['install', '--dryrun', 'x'],
      /cannot run "kiln install": unknown option --dryrun\nhint: did you mean --dry-run\?/,
    ],
    [['install', '--prefix'], /cannot run "kiln install": --prefix needs a value \(DIR\)/],
    [['--prefix'], /cannot run kiln: --prefix needs a value \(DIR\)/],
    [['--prefix', '-v', 'list'], /--prefix needs a value/],
    [['list', '--json=yes'], /cannot run "kiln list": --json takes no value/],
    [['pack'], /missing STAGEDIR/],
    [['pack', 'stage'], /missing --meta/],
    [['repo', 'add', 'repo'], /missing PACKAGE/],
    [
      ['repo', 'commit', 'repo', '--bogus'],
      /cannot run "kiln repo commit": unknown option --bogus\nhint: "kiln repo commit --help" lists its options/,
    ],
    [['repo', 'prune', 'repo', '--keep', 'many'], /--keep must be a whole number/],
    [['key', 'generate', '--out', 'k', '--encrypt'], /--encrypt needs a password/],
  ];
  for (const [args, pattern] of cases) {
    const result = await kiln(args, { cwd: dir });
    assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
    assert.match(result.stderr, /^kiln: error\[E_USAGE\]/);
    assert.match(result.stderr, pattern);
  }
});

test('queries of a missing or uninitialised prefix say so, as every prefix command does', async (t) => {
  const dir = await tempDir(t);
  await mkdir(`${dir}/empty`);
  for (const args of [['list'], ['owns', 'bin/x'], ['search', 'x']]) {
    const missing = await kiln(args, { cwd: dir, env: { KILN_PREFIX: `${dir}/nowhere` } });
    assert.equal(missing.code, 1, `${args[0]}: ${missing.stderr}`);
    assert.match(missing.stderr, /error\[E_PREFIX_NOT_FOUND\]: cannot open prefix .*nowhere: no such directory/);
    const empty = await kiln(args, { cwd: dir, env: { KILN_PREFIX: `${dir}/empty` } });
    assert.equal(empty.code, 1, `${args[0]}: ${empty.stderr}`);
    assert.match(empty.stderr, /error\[E_PREFIX_NOT_FOUND\]: cannot open prefix .*empty: it has no .*config\.toml/);
  }
});

test('--json prints machine-readable data on stdout, people-facing notes on stderr', async (t) => {
  const dir = await tempDir(t);
  const result = await kiln(['key', 'generate', '--out', 'keys', '--json'], { cwd: dir });
  assert.equal(result.code, 0, result.stderr);
  const data = parseJson(result.stdout) as { keyId: string; publicKeyPath: string; secretKeyPath: string };
  assert.match(data.keyId, /^[0-9A-F]{16}$/);
  assert.match(result.stderr, /not encrypted/);
  const show = parseJson((await kiln(['key', 'show', 'keys/kiln.key', '--json'], { cwd: dir })).stdout) as {
    keyId: string;
    kind: string;
  };
  assert.deepEqual(show.keyId, data.keyId);
  assert.equal(show.kind, 'secret');
});

test('an encrypted key is used with the password from a file or KILN_KEY_PASSWORD, and refused without it', async (t) => {
  const dir = await tempDir(t);
  const { writeFile } = await import('node:fs/promises');
  await writeFile(`${dir}/pw`, 'correct horse\n');
  const made = await kiln(['key', 'generate', '--out', 'keys', '--encrypt', '--password-file', 'pw'], { cwd: dir });
  assert.equal(made.code, 0, made.stderr);
  await writeFile(`${dir}/data`, 'data');
  const withoutPassword = await kiln(['sign', 'data', '--key', 'keys/kiln.key'], { cwd: dir });
  assert.equal(withoutPassword.code, 1);
  assert.match(withoutPassword.stderr, /error\[E_KEY_PASSWORD\]/);
  const signed = await kiln(['sign', 'data', '--key', 'keys/kiln.key'], {
    cwd: dir,
    env: { KILN_KEY_PASSWORD: 'correct horse' },
  });
  assert.equal(signed.code, 0, signed.stderr);
  const verified = await kiln(['verify', 'data', '--trust', 'keys/kiln.pub'], { cwd: dir });
  assert.equal(verified.code, 0, verified.stderr);
  assert.match(verified.stdout, /signature valid: data signed by key/);
});

test('with --json, an error is one JSON object on stderr (code, message, hint), and the exit status is as without', async (t) => {
  const dir = await tempDir(t);
  const missing = await kiln(['--prefix', `${dir}/none`, 'list', '--json'], { cwd: dir });
  assert.equal(missing.code, 1);
  assert.equal(missing.stdout, '');
  const error = (parseJson(missing.stderr) as { error: { code: string; message: string; hint?: string } }).error;
  assert.equal(error.code, 'E_PREFIX_NOT_FOUND');
  assert.match(error.message, /cannot open prefix .*none/);
  assert.match(error.hint ?? '', /kiln --prefix .* init/);
  const usage = await kiln(['instal', '--json'], { cwd: dir });
  assert.equal(usage.code, 2);
  assert.deepEqual(parseJson(usage.stderr), {
    formatVersion: 1,
    error: {
      code: 'E_USAGE',
      message: 'cannot run "kiln instal": no such command',
      hint: 'did you mean "kiln install"?',
    },
  });
});
