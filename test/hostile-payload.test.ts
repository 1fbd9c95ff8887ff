/**
 * Payloads: a decompression bomb is refused before it costs memory, in
 * inspect, repo add and install; a payload whose zstd frame ends exactly on
 * the decoder's buffer boundary is Kiln's own valid package everywhere; a
 * signed package whose manifest's file hashes disagree with its payload is
 * refused at install, leaving the prefix as it was.
 */
import * as assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  formatPublicKey,
  formatSignature,
  generateKeyPair,
  publicKeyOf,
  readSecretKeyFile,
  signData,
} from '../src/sign/index.js';
import { indexTrustedComment, parseIndex } from '../src/repo/index.js';
import { publishIndexV2 } from '../src/repo/publishIndex.js';
import { craftPackage, dirEntry, fileEntry } from './helpers/craft.js';
import { makeTree, writeMeta } from './helpers/fixtures.js';
import { kiln, run, tempDir, parseJson } from './helpers/kiln.js';
import type { RunResult } from './helpers/kiln.js';
import { KILN_BIN } from './helpers/kiln.js';

/** Runs kiln under GNU time; returns its result and its peak resident set in KiB. */
async function kilnPeak(args: readonly string[], cwd: string): Promise<RunResult & { peakKiB: number }> {
  const report = join(cwd, `peak-${Date.now()}-${Math.random().toString(16).slice(2)}.txt`);
  const result = await run('/usr/bin/time', ['-f', '%M', '-o', report, process.execPath, KILN_BIN, ...args], { cwd });
  const peakKiB = Number((await readFile(report, 'utf8')).trim().split('\n').pop());
  assert.ok(Number.isFinite(peakKiB) && peakKiB > 0, `GNU time reported ${peakKiB}`);
  return { ...result, peakKiB };
}

const GiB = 1 << 30;
const LIMIT_KiB = 64 * 1024;

test('a 1 GiB decompression bomb is refused by inspect and repo add within 64 MiB of a normal run', async (t) => {
  const dir = await tempDir(t);
  const key = generateKeyPair();
  await writeFile(join(dir, 'trusted.pub'), formatPublicKey(publicKeyOf(key)));
  const entries = [dirEntry('bin'), fileEntry('bin/tool', '#!/bin/sh\necho tool\n', 0o755)];
  await writeFile(join(dir, 'good.kpkg'), craftPackage({ entries, key }));
  const bomb = craftPackage({ entries, key, trailingZeros: GiB });
  assert.ok(bomb.length < 200 * 1024, `the bomb is small: ${bomb.length} bytes`);
  await writeFile(join(dir, 'bomb.kpkg'), bomb);

  const baseline = await kilnPeak(['inspect', 'good.kpkg', '--trust', 'trusted.pub'], dir);
  assert.equal(baseline.code, 0, baseline.stderr);
  const refused = await kilnPeak(['inspect', 'bomb.kpkg', '--trust', 'trusted.pub'], dir);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /error\[E_PACKAGE_SIZE\]: .*bomb\.kpkg: the payload decompresses to more than/);
  assert.ok(
    refused.peakKiB - baseline.peakKiB <= LIMIT_KiB,
    `inspect: ${refused.peakKiB} KiB for the bomb, ${baseline.peakKiB} KiB for a normal package`,
  );

  await writeFile(join(dir, 'repo.key'), '');
  const keyDir = join(dir, 'keys');
  assert.equal((await kiln(['key', 'generate', '--out', keyDir], { cwd: dir })).code, 0);
  assert.equal((await kiln(['repo', 'init', 'repo', '--key', join(keyDir, 'kiln.key')], { cwd: dir })).code, 0);
  const added = await kilnPeak(['repo', 'add', 'repo', 'bomb.kpkg', '--sign'], dir);
  assert.equal(added.code, 1, added.stderr);
  assert.match(added.stderr, /error\[E_PACKAGE_SIZE\]/);
  assert.ok(
    added.peakKiB - baseline.peakKiB <= LIMIT_KiB,
    `repo add: ${added.peakKiB} KiB for the bomb, ${baseline.peakKiB} KiB for a normal package`,
  );
  assert.deepEqual(await readdir(join(dir, 'repo/.kiln/stage')).catch(() => []), [], 'nothing staged');
});

/** A published repository with one package, alpha, and a synced client prefix. */
async function repositoryWithClient(
  dir: string,
): Promise<{ prefix: string; entryPath: string; replace: (bytes: Buffer) => Promise<void> }> {
  const ok = async (args: string[]): Promise<string> => {
    const result = await kiln(args, { cwd: dir });
    assert.equal(result.code, 0, `${args.join(' ')}: ${result.stderr}`);
    return result.stdout;
  };
  await ok(['key', 'generate', '--out', 'keys']);
  await makeTree(join(dir, 'stage'), { 'bin/tool': { content: '#!/bin/sh\necho tool\n', mode: 0o755 } });
  await writeMeta(join(dir, 'alpha.json'), { name: 'alpha' });
  await ok(['pack', 'stage', '--meta', 'alpha.json', '--out', 'out', '--key', 'keys/kiln.key']);
  await ok(['repo', 'init', 'repo', '--key', 'keys/kiln.key', '--name', 'main']);
  await ok(['repo', 'add', 'repo', ...(await readdir(join(dir, 'out'))).map((file) => `out/${file}`)]);
  await ok(['repo', 'commit', 'repo']);
  const published = join(dir, 'repo/public');
  const index = parseJson(await readFile(join(published, 'index.json'), 'utf8')) as {
    serial: number;
    packages: { path: string; size: number; sha256: string }[];
  };
  const entryPath = index.packages[0]!.path;
  const key = await readSecretKeyFile(join(dir, 'keys/kiln.key'));
  /** Serve `bytes` as alpha's package, with an index (same serial) that pins them, signed by the repository's key. */
  const replace = async (bytes: Buffer): Promise<void> => {
    // A new serial each time: the client refuses the same serial with other content.
    index.serial++;
    await writeFile(join(published, entryPath), bytes);
    index.packages[0]!.size = bytes.length;
    index.packages[0]!.sha256 = createHash('sha256').update(bytes).digest('hex');
    const text = Buffer.from(JSON.stringify(index));
    const signature = formatSignature(
      signData(text, key, { trustedComment: indexTrustedComment({ name: 'main', serial: index.serial }) }),
    );
    for (const path of [join(published, 'indexes', `${index.serial}.json`), join(published, 'index.json')]) {
      await writeFile(path, text);
      await writeFile(`${path}.minisig`, signature);
    }
    // The same index in format v2, which clients read first.
    await publishIndexV2(published, parseIndex(text, 'the edited index'), key);
  };
  const prefix = join(dir, 'prefix');
  await ok(['--prefix', prefix, 'init']);
  await ok(['--prefix', prefix, 'remote', 'add', 'main', published, '--key', 'keys/kiln.pub']);
  return { prefix, entryPath, replace };
}

async function syncOk(prefix: string, dir: string): Promise<void> {
  const synced = await kiln(['--prefix', prefix, 'sync'], { cwd: dir });
  assert.equal(synced.code, 0, synced.stderr);
}

/** Metadata of the crafted package made to match alpha's index entry. */
function asAlpha(meta: { name: string; category: string; summary: string; homepage: string }): void {
  meta.name = 'alpha';
  meta.category = 'app-misc';
  meta.summary = 'The alpha test package';
  meta.homepage = 'https://example.org/hello';
}

test('install refuses a bomb a signed index pins, within 64 MiB of a normal install, and writes nothing', async (t) => {
  const dir = await tempDir(t);
  const { prefix, replace } = await repositoryWithClient(dir);
  const key = await readSecretKeyFile(join(dir, 'keys/kiln.key'));
  const entries = [dirEntry('bin'), fileEntry('bin/tool', '#!/bin/sh\necho tool\n', 0o755)];
  await replace(craftPackage({ entries, key, mutate: asAlpha }));
  await syncOk(prefix, dir);
  const baseline = await kilnPeak(['--prefix', prefix, 'install', 'alpha', '-y'], dir);
  assert.equal(baseline.code, 0, baseline.stderr);
  assert.equal((await kiln(['--prefix', prefix, 'remove', 'alpha', '-y'], { cwd: dir })).code, 0);

  await replace(craftPackage({ entries, key, mutate: asAlpha, trailingZeros: GiB }));
  await syncOk(prefix, dir);
  const refused = await kilnPeak(['--prefix', prefix, 'install', 'alpha', '-y'], dir);
  assert.equal(refused.code, 1, refused.stderr);
  assert.match(refused.stderr, /error\[E_PACKAGE_SIZE\]/);
  assert.ok(
    refused.peakKiB - baseline.peakKiB <= LIMIT_KiB,
    `install: ${refused.peakKiB} KiB for the bomb, ${baseline.peakKiB} KiB for a normal install`,
  );
  assert.deepEqual(await readdir(join(prefix, 'bin')).catch(() => []), [], 'nothing installed');
  assert.equal((await kiln(['--prefix', prefix, 'list', '-q'], { cwd: dir })).stdout, '');
});

test("a signed package whose manifest's file sha256 disagrees with its payload is refused at install, and the prefix keeps what it had", async (t) => {
  const dir = await tempDir(t);
  const { prefix, replace } = await repositoryWithClient(dir);
  const key = await readSecretKeyFile(join(dir, 'keys/kiln.key'));
  // The manifest pins one content; the payload carries another of the same size. The whole payload's sha256 matches the metadata.
  for (const [label, other] of [
    ['first file', 'bin/tool'],
    ['second file', 'bin/other'],
  ] as const) {
    const lie = fileEntry(other, '#!/bin/sh\necho tool\n', 0o755);
    Object.assign(lie.manifest!, { sha256: createHash('sha256').update('#!/bin/sh\necho evil\n').digest('hex') });
    const lying =
      other === 'bin/tool'
        ? [dirEntry('bin'), lie, fileEntry('bin/zkeep', 'kept\n')]
        : [dirEntry('bin'), fileEntry('bin/keep', 'kept\n'), lie];
    await replace(craftPackage({ entries: lying, key, mutate: asAlpha }));
    await syncOk(prefix, dir);
    const result = await kiln(['--prefix', prefix, 'install', 'alpha', '-y'], { cwd: dir });
    assert.equal(result.code, 1, `${label}: ${result.stderr}`);
    assert.match(
      result.stderr,
      new RegExp(`error\\[E_PACKAGE_HASH\\]: .*the content of ${other} does not match its sha256`),
      label,
    );
    assert.deepEqual(await readdir(join(prefix, 'bin')).catch(() => []), [], `${label}: nothing left in the prefix`);
    assert.equal((await kiln(['--prefix', prefix, 'list', '-q'], { cwd: dir })).stdout, '', label);
  }
  const verify = await kiln(['--prefix', prefix, 'verify'], { cwd: dir });
  assert.equal(verify.code, 0, verify.stdout + verify.stderr);
});

test("a payload that decompresses to exactly the decoder's buffer (and its multiples) packs, inspects, stages and installs", async (t) => {
  const dir = await tempDir(t);
  const ok = async (args: string[]): Promise<string> => {
    const result = await kiln(args, { cwd: dir });
    assert.equal(result.code, 0, `${args.join(' ')}: ${result.stderr}`);
    return result.stdout;
  };
  await ok(['key', 'generate', '--out', 'keys']);
  await ok(['repo', 'init', 'repo', '--key', 'keys/kiln.key', '--name', 'main']);
  const SLAB = 1 << 18;
  const packages: string[] = [];
  for (const [i, total] of [SLAB, 2 * SLAB, 4 * SLAB].entries()) {
    // One file: a 512-byte header, the content padded to 512, and the 1024-byte end marker.
    const size = total - 512 - 1024;
    const content = Buffer.concat([
      Buffer.from(createHash('sha512').update(String(i)).digest()),
      Buffer.alloc(size - 64, 'z'),
    ]);
    const stage = join(dir, `stage${i}`);
    await makeTree(stage, {});
    await writeFile(join(stage, `blob${i}`), content);
    await writeMeta(join(dir, `m${i}.json`), { name: `blob${i}` });
    const packed = parseJson(
      await ok(['pack', stage, '--meta', `m${i}.json`, '--out', 'out', '--key', 'keys/kiln.key', '--json']),
    ) as { path: string };
    const inspected = parseJson(await ok(['inspect', packed.path, '--trust', 'keys/kiln.pub', '--json'])) as {
      metadata?: { payload: { uncompressedSize: number } };
      payload?: { uncompressedSize: number };
    };
    assert.equal(inspected.metadata?.payload.uncompressedSize ?? inspected.payload?.uncompressedSize, total);
    packages.push(packed.path);
  }
  await ok(['repo', 'add', 'repo', ...packages]);
  await ok(['repo', 'commit', 'repo']);
  await ok(['repo', 'verify', 'repo']);
  const prefix = join(dir, 'prefix');
  await ok(['--prefix', prefix, 'init']);
  await ok(['--prefix', prefix, 'remote', 'add', 'main', join(dir, 'repo/public'), '--key', 'keys/kiln.pub']);
  await ok(['--prefix', prefix, 'sync']);
  await ok(['--prefix', prefix, 'install', 'blob0', 'blob1', 'blob2', '-y']);
  assert.equal((await ok(['--prefix', prefix, 'verify'])).trim().split('\n').pop()?.startsWith('ok:'), true);
});
