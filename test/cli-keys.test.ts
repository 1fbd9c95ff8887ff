/** Key arguments: a missing file, or the wrong half of a key pair, is named as such wherever a key is given. */
import * as assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { kiln, tempDir } from './helpers/kiln.js';

async function keysAndPrefix(dir: string): Promise<{ prefix: string }> {
  assert.equal((await kiln(['key', 'generate', '--out', 'keys'], { cwd: dir })).code, 0);
  const prefix = join(dir, 'prefix');
  assert.equal((await kiln(['--prefix', prefix, 'init'], { cwd: dir })).code, 0);
  return { prefix };
}

test('remote add says a key file does not exist, or is a secret key, and adds nothing', async (t) => {
  const dir = await tempDir(t);
  const { prefix } = await keysAndPrefix(dir);
  const configBefore = await readFile(join(prefix, 'etc/kiln/config.toml'), 'utf8').catch(() => '');
  const cases: [string, string, RegExp][] = [
    ['/missing.pub', 'E_IO', /cannot read public key \/missing\.pub: no such file/],
    ['keys/missing.pub', 'E_IO', /cannot read public key keys\/missing\.pub: no such file/],
    ['keys/kiln.pub/x', 'E_IO', /no such file/],
    ['keys/kiln.key', 'E_KEY_FORMAT', /cannot read public key keys\/kiln\.key: it is a secret key, not a public key/],
    ['keys', 'E_IO', /cannot read public key keys: it is a directory/],
    ['RWQnotakey', 'E_IO', /no such file/],
  ];
  for (const [key, code, message] of cases) {
    const result = await kiln(['--prefix', prefix, 'remote', 'add', 'main', dir, '--key', key], { cwd: dir });
    assert.equal(result.code, 1, `${key}: ${result.stderr}`);
    assert.match(result.stderr, new RegExp(`error\\[${code}\\]`), key);
    assert.match(result.stderr, message, key);
    assert.doesNotMatch(result.stderr, /canonical base64|internal error/, key);
  }
  assert.equal(await readFile(join(prefix, 'etc/kiln/config.toml'), 'utf8').catch(() => ''), configBefore);
  // The key's bare base64 line is still a key, not a missing file.
  const line = (await readFile(join(dir, 'keys/kiln.pub'), 'utf8')).split('\n')[1]!;
  const added = await kiln(['--prefix', prefix, 'remote', 'add', 'main', dir, '--key', line], { cwd: dir });
  assert.equal(added.code, 0, added.stderr);
});

test('a public key where a secret key belongs is named as such, in every command that signs', async (t) => {
  const dir = await tempDir(t);
  await keysAndPrefix(dir);
  await mkdir(join(dir, 'files'));
  await writeFile(join(dir, 'files/data'), 'data\n');
  const commands: string[][] = [
    ['sign', '--key', 'keys/kiln.pub', 'files/data'],
    ['repo', 'init', 'repo', '--key', 'keys/kiln.pub'],
  ];
  for (const args of commands) {
    const result = await kiln(args, { cwd: dir });
    assert.equal(result.code, 1, `${args.join(' ')}: ${result.stderr}`);
    assert.match(
      result.stderr,
      /error\[E_KEY_FORMAT\]: cannot read secret key \S*kiln\.pub: it is a public key, not a secret key/,
      args.join(' '),
    );
    assert.match(result.stderr, /hint: signing needs the secret key file/, args.join(' '));
  }
  // And a secret key where a public key is trusted.
  const verify = await kiln(['verify', '--trust', 'keys/kiln.key', 'files/data'], { cwd: dir });
  assert.equal(verify.code, 1, verify.stderr);
  assert.match(
    verify.stderr,
    /error\[E_KEY_FORMAT\]: cannot read public key keys\/kiln\.key: it is a secret key, not a public key/,
  );
});
