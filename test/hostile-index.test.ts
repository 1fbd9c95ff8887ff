/**
 * Hostile and broken repository indexes: each is refused by `kiln repo verify`
 * with an error naming the file and the reason. Indexes re-signed with the
 * repository's own key stand for a stolen key: the signature is valid, the
 * content is not.
 */
import * as assert from 'node:assert/strict';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import {
  ROOT_FILE,
  indexTrustedComment,
  openPinned,
  parseNameTable,
  parseRoot,
  pinned,
  pinnedPath,
  serializeRoot,
} from '../src/repo/index.js';
import { formatSignature, generateKeyPair, readSecretKeyFile, signData } from '../src/sign/index.js';
import type { SecretKey } from '../src/sign/index.js';
import { makeTree, writeMeta } from './helpers/fixtures.js';
import { kiln, tempDir, parseJson } from './helpers/kiln.js';

interface Published {
  dir: string;
  /** The published tree, DIR/public. */
  repo: string;
  serial: number;
  key: SecretKey;
}

/** A repository with two published packages (serial 2). */
async function publish(t: TestContext): Promise<Published> {
  const dir = await tempDir(t);
  const run = async (args: string[]): Promise<void> => {
    const result = await kiln(args, { cwd: dir });
    assert.equal(result.code, 0, result.stderr);
  };
  await run(['key', 'generate', '--out', 'keys']);
  await makeTree(join(dir, 'stage'), { 'bin/tool': { content: '#!/bin/sh\n', mode: 0o755 } });
  await writeMeta(join(dir, 'a.json'), { name: 'alpha' });
  await writeMeta(join(dir, 'b.json'), { name: 'beta' });
  await run(['pack', 'stage', '--meta', 'a.json', '--out', 'out', '--key', 'keys/kiln.key']);
  await run(['pack', 'stage', '--meta', 'b.json', '--out', 'out', '--key', 'keys/kiln.key']);
  await run(['repo', 'init', 'repo', '--key', 'keys/kiln.key', '--name', 'main']);
  const { readdir } = await import('node:fs/promises');
  await run(['repo', 'add', 'repo', ...(await readdir(join(dir, 'out'))).map((file) => `out/${file}`)]);
  await run(['repo', 'commit', 'repo']);
  return {
    dir,
    repo: join(dir, 'repo', 'public'),
    serial: 2,
    key: await readSecretKeyFile(join(dir, 'keys', 'kiln.key')),
  };
}

/** Replace the published index (snapshot, copy and signatures) with `bytes` signed by `key`. */
async function republish(
  p: Published,
  bytes: Buffer,
  key: SecretKey = p.key,
  comment = indexTrustedComment({ name: 'main', serial: p.serial }),
): Promise<void> {
  const signature = formatSignature(signData(bytes, key, { trustedComment: comment }));
  for (const path of [join(p.repo, 'indexes', `${p.serial}.json`), join(p.repo, 'index.json')]) {
    await writeFile(path, bytes);
    await writeFile(`${path}.minisig`, signature);
  }
}

async function editIndex(
  p: Published,
  edit: (index: { packages: Record<string, unknown>[] }) => void,
): Promise<Buffer> {
  const index = parseJson(await readFile(join(p.repo, 'index.json'), 'utf8')) as {
    packages: Record<string, unknown>[];
  };
  edit(index);
  return Buffer.from(JSON.stringify(index));
}

async function expectRefused(p: Published, code: string, names: string, reason: RegExp): Promise<void> {
  const result = await kiln(['repo', 'verify', 'repo'], { cwd: p.dir });
  assert.equal(result.code, 1, `exit code; ${result.stdout}${result.stderr}`);
  assert.ok(result.stderr.includes(`error[${code}]`), `code ${code} in: ${result.stderr}`);
  assert.ok(result.stderr.includes(names), `${names} named in: ${result.stderr}`);
  assert.match(result.stderr, reason);
  assert.match(result.stderr, /\nhint: /);
}

test('truncated index', async (t) => {
  const p = await publish(t);
  const bytes = await readFile(join(p.repo, 'indexes', '2.json'));
  await writeFile(join(p.repo, 'indexes', '2.json'), bytes.subarray(0, bytes.length - 100));
  await expectRefused(p, 'E_SIGNATURE_INVALID', 'indexes/2.json', /altered or truncated/);
});

test('badly signed index: a valid signature of other data', async (t) => {
  const p = await publish(t);
  const bytes = await readFile(join(p.repo, 'indexes', '2.json'));
  const signature = formatSignature(
    signData(Buffer.from('something else'), p.key, {
      trustedComment: indexTrustedComment({ name: 'main', serial: 2 }),
    }),
  );
  await writeFile(join(p.repo, 'index.json.minisig'), signature);
  await writeFile(join(p.repo, 'indexes', '2.json'), bytes);
  await expectRefused(p, 'E_SIGNATURE_INVALID', 'indexes/2.json', /altered or truncated/);
});

test('index signed by an untrusted key', async (t) => {
  const p = await publish(t);
  const stranger = generateKeyPair();
  await republish(p, await readFile(join(p.repo, 'index.json')), stranger);
  await expectRefused(
    p,
    'E_SIGNATURE_UNTRUSTED',
    'indexes/2.json',
    new RegExp(`made by key ${stranger.keyId}, which is not trusted`),
  );
});

test('index whose package hash is wrong', async (t) => {
  const p = await publish(t);
  await republish(p, await editIndex(p, (index) => (index.packages[0]!['sha256'] = '0'.repeat(64))));
  await expectRefused(p, 'E_REPO_VERIFY', 'packages/app-misc/alpha/', /sha256 differs from the one the index pins/);
});

test('index whose package size is wrong', async (t) => {
  const p = await publish(t);
  await republish(p, await editIndex(p, (index) => (index.packages[1]!['size'] = 12)));
  await expectRefused(p, 'E_REPO_VERIFY', 'packages/app-misc/beta/', /the index pins 12/);
});

test('index with duplicate entries', async (t) => {
  const p = await publish(t);
  await republish(p, await editIndex(p, (index) => index.packages.push({ ...index.packages[0]! })));
  await expectRefused(p, 'E_INDEX_DUPLICATE', 'indexes/2.json', /package alpha 1.0 [0-9a-f]{12} is listed twice/);
});

test('index with a ".." path', async (t) => {
  const p = await publish(t);
  await republish(p, await editIndex(p, (index) => (index.packages[0]!['path'] = 'packages/../../../etc/shadow')));
  await expectRefused(
    p,
    'E_INDEX_FORMAT',
    'indexes/2.json',
    /packages\[0\]\.path "packages\/\.\.\/\.\.\/\.\.\/etc\/shadow" has a "\.\." component/,
  );
});

test('index with an absolute path', async (t) => {
  const p = await publish(t);
  await republish(p, await editIndex(p, (index) => (index.packages[1]!['path'] = '/etc/shadow')));
  await expectRefused(p, 'E_INDEX_FORMAT', 'indexes/2.json', /packages\[1\]\.path "\/etc\/shadow" is absolute/);
});

test('index whose signature names another serial', async (t) => {
  const p = await publish(t);
  await republish(
    p,
    await readFile(join(p.repo, 'index.json')),
    p.key,
    indexTrustedComment({ name: 'main', serial: 7 }),
  );
  await expectRefused(
    p,
    'E_SIGNATURE_INVALID',
    'index.json',
    /made for "kiln index main serial 7", not for index main serial 2/,
  );
});

test('index that is not JSON at all, correctly signed', async (t) => {
  const p = await publish(t);
  await republish(p, Buffer.from('<html>502 Bad Gateway</html>'));
  await expectRefused(p, 'E_INDEX_FORMAT', 'indexes/2.json', /not valid JSON/);
});

test('index format v2: a shard, the name table or the root that is not what the signed index pins', async (t) => {
  const p = await publish(t);
  const root = parseRoot(await readFile(join(p.repo, ROOT_FILE)), ROOT_FILE);
  const tablePath = join(p.repo, pinnedPath('names', root.names));
  const table = parseNameTable(openPinned(await readFile(tablePath), root.names, tablePath).toString('utf8'), 't');
  const shard = pinnedPath('shards', table.get('alpha')!.shard);
  const original = await readFile(join(p.repo, shard));
  // A shard replaced by valid zstd of other bytes, then by a bomb: refused at its pin either way.
  await writeFile(join(p.repo, shard), pinned(Buffer.from('{"format":"kiln-shard"}')).compressed);
  await expectRefused(p, 'E_REPO_VERIFY', shard, /sha256|bytes/);
  await writeFile(join(p.repo, shard), pinned(Buffer.alloc(32 * 1024 * 1024)).compressed);
  await expectRefused(p, 'E_REPO_VERIFY', shard, /more than the \d+ bytes pinned/);
  await writeFile(join(p.repo, shard), original);
  await rm(tablePath);
  await expectRefused(p, 'E_REPO_VERIFY', pinnedPath('names', root.names), /missing/);
  await writeFile(tablePath, pinned(Buffer.from('x')).compressed);
  // The root of another serial in place of this one (its signature and snapshot kept apart).
  const bytes = await readFile(join(p.repo, 'indexes', '2.v2.json'));
  const other = { ...parseRoot(bytes, 'r'), serial: 7 };
  const text = serializeRoot(other);
  await writeFile(join(p.repo, 'indexes', '2.v2.json'), text);
  await writeFile(join(p.repo, ROOT_FILE), text);
  await expectRefused(p, 'E_REPO_VERIFY', 'indexes/2.v2.json', /altered or truncated|does not match/);
});
